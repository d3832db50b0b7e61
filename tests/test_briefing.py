"""build_briefing: numbered sources, link filtering, HTML, whitespace, caps, offline salary."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.briefing import MAX_ITEM_CHARS, build_briefing
from pipeline.models import (
    Advice,
    BriefingDraft,
    Claim,
    Evidence,
    GitHubData,
    Page,
    Repository,
    SalaryEstimate,
    ScrapedSite,
)

SITE = ScrapedSite(
    url="https://www.acme-rockets.com/",
    pages=[
        Page(url="https://www.acme-rockets.com/", content="Acme Rockets builds reusable rockets. Late offers."),
        Page(url="https://partner-cdn.example/acme/launch"),  # fetched, though on another host
        Page(url="https://www.acme-rockets.com/"),
    ],
)
GITHUB = GitHubData(
    organization="acme-rockets",
    repositories=[
        Repository(name="launchpad", url="https://github.com/acme-rockets/launchpad"),
        Repository(name="telemetry", url="https://github.com/acme-rockets/telemetry"),
        Repository(name="launchpad", url="https://github.com/acme-rockets/launchpad"),
    ],
)


def advice(*texts: str) -> list[Advice]:
    return [Advice(text=text) for text in texts]


def claims(*texts: str, quote: str = "Acme Rockets builds reusable rockets.") -> list[Claim]:
    """Claims quoting the home page (S1) truthfully."""
    return [Claim(text=text, evidence=[Evidence(source="S1", quote=quote)]) for text in texts]


def draft(**changes: object) -> BriefingDraft:
    """A valid draft, with some fields replaced."""
    fields: dict[str, object] = {
        "overview": claims("Acme Rockets builds reusable rockets."),
        "products": claims("Reusable rockets"),
        "tech_stack": [],
        "interview_questions": advice(*(f"Question {n}?" for n in range(1, 6))),
        "preparation_tips": advice("Tip one.", "Tip two.", "Tip three."),
        "key_talking_points": [],
        "top_challenges": [],
        "culture_insights": [],
        "smart_questions": [],
        "red_flags": [],
        "prep_checklist": [],
    }
    return BriefingDraft(**{**fields, **changes})


def build(d: BriefingDraft, mode: str = "claude", model: str | None = "claude-test"):
    """build_briefing with the test site and GitHub data."""
    return build_briefing(d, company_name="  Acme   Rockets ", site=SITE, github=GITHUB, mode=mode, model=model)


def cleaned(text: str) -> str:
    """One talking point after build_briefing."""
    return build(draft(key_talking_points=advice(text))).key_talking_points[0].text


# -- sources and identity --------------------------------------------------------------------


def test_sources_are_numbered_pages_then_the_organisation_then_repositories():
    briefing = build(draft())

    assert [(s.id, s.kind, s.url) for s in briefing.sources] == [
        ("S1", "page", "https://www.acme-rockets.com/"),
        ("S2", "page", "https://partner-cdn.example/acme/launch"),
        ("S3", "page", "https://www.acme-rockets.com/"),
        ("S4", "organisation", "https://github.com/acme-rockets"),
        ("S5", "repository", "https://github.com/acme-rockets/launchpad"),
        ("S6", "repository", "https://github.com/acme-rockets/telemetry"),
        ("S7", "repository", "https://github.com/acme-rockets/launchpad"),
    ]
    assert briefing.grounded is True


def test_nothing_read_is_not_grounded():
    briefing = build_briefing(
        draft(),
        company_name="Acme",
        site=ScrapedSite(skipped_reason="no site"),
        github=GitHubData(),
        mode="claude",
        model="m",
    )

    assert briefing.grounded is False and briefing.sources == []
    assert briefing.overview == [] and briefing.verification.dropped == 2


def test_company_mode_and_model_are_recorded():
    claude = build(draft())
    offline = build(draft(), mode="offline", model="claude-test")

    assert claude.company_name == "Acme Rockets"
    assert (claude.analysis_mode, claude.model) == ("claude", "claude-test")
    assert (offline.analysis_mode, offline.model) == ("offline", None)


# -- links -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Read [the blog](http://evil.example/post) today.", "Read the blog today."),
        ("Apply at [jobs](https://jobs.acme-rockets.com/x).", "Apply at [jobs](https://jobs.acme-rockets.com/x)."),
        (
            "Code: [repo](https://github.com/acme-rockets/launchpad)",
            "Code: [repo](https://github.com/acme-rockets/launchpad)",
        ),
        ("Other org: [repo](https://github.com/someone-else/x)", "Other org: repo"),
        ("Bare https://github.com/ end", "Bare end"),
        (
            "Seen at [launch](https://partner-cdn.example/acme/launch/)",
            "Seen at [launch](https://partner-cdn.example/acme/launch/)",
        ),
        ("Other page [x](https://partner-cdn.example/other)", "Other page x"),
        ("Visit http://evil.example/poem now", "Visit now"),
        ("Visit www.evil.example, please", "Visit, please"),
        ("Visit <https://evil.example/auto> now", "Visit now"),
        ("Home: https://acme-rockets.com/about.", "Home: https://acme-rockets.com/about."),
        ("Tricky https://github.com@evil.example/x end", "Tricky end"),
        ("Tricky https://evil.example\\@github.com end", "Tricky end"),
        ("Lookalike https://acme-rockets.com.evil.example/ end", "Lookalike end"),
        ("Lookalike https://notacme-rockets.com/ end", "Lookalike end"),
        ("Redirect https://acme-rockets.com/go?to=https://evil.example end", "Redirect end"),
        ("Redirect https://acme-rockets.com/go?to=https%3A%2F%2Fevil.example end", "Redirect end"),
        ("[click](javascript:alert(1)) here", "click here"),
        ("glued www.[t](http://evil.example/a) end", "glued end"),
        ("[http://evil.example](http://evil.example) gone", "gone"),
        ("![logo](http://evil.example/p.png) pic", "logo pic"),
        ("ftp://evil.example/file stays out", "stays out"),
    ],
)
def test_links_survive_only_to_fetched_pages_the_company_or_github(text, expected):
    assert cleaned(text) == expected


def test_links_are_filtered_in_every_field_and_in_not_verified():
    evil = "see [x](http://evil.example) http://evil.example/a"
    d = draft(
        overview=claims(evil),
        products=claims(evil),
        tech_stack=claims(evil),
        interview_questions=advice(*(f"{evil} {n}" for n in range(5))),
        preparation_tips=advice(evil + " 1", evil + " 2", evil + " 3"),
        key_talking_points=advice(evil),
        top_challenges=claims(evil),
        culture_insights=claims(evil),
        smart_questions=advice(evil),
        red_flags=claims(evil, quote="no such quote " + evil),
        prep_checklist=advice(evil),
    )

    assert "evil.example" not in build(d).model_dump_json()


# -- HTML, whitespace, caps ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>alert('x')</script>Safe text", "Safe text"),
        ("<b>Bold</b> and <i>italic</i>", "Bold and italic"),
        ('<img src=x onerror="alert(1)">Picture', "Picture"),
        ('<a href="http://evil.example">click</a> me', "click me"),
        ('<x-widget onclick="steal()">custom</x-widget>', "custom"),
        ("<!-- hidden --> visible", "visible"),
        ("Use List<String> when a < b", "Use List<String> when a < b"),
        ("Trailing <img src=x onerror=alert(1)", "Trailing ‹img src=x onerror=alert(1)"),
    ],
)
def test_html_is_stripped_or_neutralised(text, expected):
    assert cleaned(text) == expected


def test_whitespace_is_normalised():
    briefing = build(draft(products=claims("  Reusable \n rockets  ")))

    assert [p.text for p in briefing.products] == ["Reusable rockets"]


def test_long_items_are_capped_at_a_word_boundary():
    item = "word " * 400

    capped = cleaned(item)

    assert len(capped) <= MAX_ITEM_CHARS
    assert capped.endswith("word…")


def test_items_emptied_by_cleaning_and_duplicates_are_dropped():
    flags = claims("<b></b>", "http://evil.example", "Late offers.", "late offers.")
    briefing = build(draft(red_flags=flags))

    assert [flag.text for flag in briefing.red_flags] == ["Late offers."]


def test_questions_emptied_by_cleaning_are_dropped():
    questions = advice("http://evil.example/1", "http://evil.example/2", "Real one?", "Real two?", "Real three?")

    assert [q.text for q in build(draft(interview_questions=questions)).interview_questions] == [
        "Real one?",
        "Real two?",
        "Real three?",
    ]


# -- salary ----------------------------------------------------------------------------------

ESTIMATE = SalaryEstimate(min=90_000, max=140_000, currency="USD", role="SRE", seniority="mid", location="Berlin")


def test_an_estimate_is_labelled_with_its_assumptions():
    briefing = build(draft(salary_estimate=ESTIMATE))

    assert briefing.salary_source == "estimate" and briefing.salary.basis == "estimate"
    assert briefing.salary.citations == []
    assert "seniority: mid" in briefing.salary.assumptions and "Berlin" in briefing.salary.assumptions


@pytest.mark.parametrize(("low", "high"), [(140_000, 90_000), (5_000, 90_000), (90_000, 3_000_000)])
def test_an_implausible_estimate_is_dropped(low, high):
    estimate = ESTIMATE.model_copy(update={"min": low, "max": high})

    briefing = build(draft(salary_estimate=estimate))

    assert briefing.salary is None and briefing.salary_source is None


def test_offline_briefings_never_carry_an_estimate():
    briefing = build(draft(salary_estimate=ESTIMATE), mode="offline", model=None)

    assert briefing.salary is None and briefing.salary_source is None


# -- property: nothing unsafe gets through ---------------------------------------------------

ALLOWED_LINK_HOSTS = {"github.com", "acme-rockets.com", "www.acme-rockets.com", "partner-cdn.example"}


def link_host(url: str) -> str | None:
    """The host a browser would open for a URL found in the text."""
    host = urlsplit(url if "://" in url else "https://" + url).hostname
    return host.rstrip(".") if host else None


FRAGMENTS = [
    "plain words",
    "  ",
    "\n\n",
    ".",
    "[t](http://evil.example/a)",
    "http://evil.example",
    "www.evil.example",
    "<https://evil.example>",
    "[ok](https://github.com/acme-rockets)",
    "https://acme-rockets.com/x",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='http://evil.example'>",
    "</a>",
    "<",
    ">",
    "(",
    ")",
    "[",
    "]",
    "!",
    "javascript:alert(1)",
    "https://github.com@evil.example",
    "@",
    "\\",
    "%",
    "?to=",
    "/",
    "evil.example",
    "www.",
    "https://",
    "](",
    "acme-rockets.com",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_no_foreign_link_or_tag_survives_any_mix(parts):
    text = "".join(parts)

    out = cleaned(text + " keep") if text.strip() else "keep"

    for url in re.findall(r"(?:https?://|www\.)[^\s()\[\]<>]+", out):
        host = link_host(url.rstrip(".,;:!?*_~"))  # trailing punctuation is not part of a link
        if host and "." in host:  # "www.." is no link
            assert host in ALLOWED_LINK_HOSTS or host.endswith(".acme-rockets.com"), url
    assert "<script" not in out.lower() and "<img" not in out.lower() and "<a " not in out.lower()
    assert out.endswith("keep")
