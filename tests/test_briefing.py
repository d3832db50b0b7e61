"""build_briefing: sources, link filtering, HTML, whitespace, caps, salary sanity."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.briefing import MAX_ITEM_CHARS, build_briefing
from pipeline.errors import BadModelOutput
from pipeline.models import BriefingDraft, GitHubData, Page, Repository, SalaryRange, ScrapedSite

SITE = ScrapedSite(
    url="https://www.acme-rockets.com/",
    pages=[
        Page(url="https://www.acme-rockets.com/"),
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


def draft(**changes: object) -> BriefingDraft:
    """A valid draft, with some fields replaced."""
    fields: dict[str, object] = {
        "overview": "Acme Rockets builds reusable rockets.",
        "products": ["Rocket Cloud"],
        "tech_stack": ["Go"],
        "interview_questions": [f"Question {n}?" for n in range(1, 6)],
        "preparation_tips": ["Tip one.", "Tip two.", "Tip three."],
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
    return build(draft(key_talking_points=[text])).key_talking_points[0]


# -- sources and identity --------------------------------------------------------------------


def test_sources_are_fetched_pages_then_repositories_deduplicated_in_order():
    briefing = build(draft(overview="See https://github.com/someone/else and https://www.acme-rockets.com/jobs."))

    assert briefing.sources == [
        "https://www.acme-rockets.com/",
        "https://partner-cdn.example/acme/launch",
        "https://github.com/acme-rockets/launchpad",
        "https://github.com/acme-rockets/telemetry",
    ]


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


def test_links_are_filtered_in_every_field():
    evil = "see [x](http://evil.example) http://evil.example/a"
    d = draft(
        overview=evil,
        products=[evil],
        tech_stack=[evil],
        interview_questions=[f"{evil} {n}" for n in range(5)],
        preparation_tips=[evil + " 1", evil + " 2", evil + " 3"],
        key_talking_points=[evil],
        top_challenges=[evil],
        culture_insights=[evil],
        smart_questions=[evil],
        red_flags=[evil],
        prep_checklist=[evil],
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


def test_whitespace_is_normalised_and_overview_keeps_paragraphs():
    briefing = build(
        draft(overview="First   line\n of one.\n\n\n Second\tparagraph. ", products=["  Rocket \n Cloud  "])
    )

    assert briefing.overview == "First line of one.\n\nSecond paragraph."
    assert briefing.products == ["Rocket Cloud"]


def test_long_items_are_capped_at_a_word_boundary():
    item = "word " * 400

    capped = cleaned(item)

    assert len(capped) <= MAX_ITEM_CHARS
    assert capped.endswith("word…")


def test_items_emptied_by_cleaning_and_duplicates_are_dropped():
    briefing = build(draft(red_flags=["<b></b>", "http://evil.example", "Late offers.", "late offers."]))

    assert briefing.red_flags == ["Late offers."]


def test_too_few_questions_left_after_cleaning_is_bad_model_output():
    questions = ["http://evil.example/1", "http://evil.example/2", "Real one?", "Real two?", "Real three?"]

    with pytest.raises(BadModelOutput, match="interview_questions"):
        build(draft(interview_questions=questions))


# -- salary ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("salary_range", "average", "expected_range", "expected_average"),
    [
        ((90_000, 140_000), 115_000, (90_000, 140_000), 115_000),
        ((90_000, 140_000), None, (90_000, 140_000), None),
        ((10_000, 2_000_000), 10_000, (10_000, 2_000_000), 10_000),  # the bounds themselves are fine
        ((140_000, 90_000), 115_000, None, None),  # min > max
        ((5_000, 90_000), 50_000, None, None),  # min too low
        ((90_000, 3_000_000), 100_000, None, None),  # max too high
        ((90_000, 140_000), 200_000, (90_000, 140_000), None),  # average outside the range
        ((90_000, 140_000), 80_000, (90_000, 140_000), None),
        (None, 100_000, None, None),  # an average without a range
        (None, None, None, None),
    ],
)
def test_salary_sanity(salary_range, average, expected_range, expected_average):
    rng = SalaryRange(min=salary_range[0], max=salary_range[1]) if salary_range else None

    briefing = build(draft(salary_range=rng, average_salary=average))

    got = (briefing.salary_range.min, briefing.salary_range.max) if briefing.salary_range else None
    assert got == expected_range
    assert briefing.average_salary == expected_average


def test_offline_briefings_never_carry_a_salary():
    d = draft(salary_range=SalaryRange(min=90_000, max=140_000), average_salary=115_000)

    briefing = build(d, mode="offline", model=None)

    assert briefing.salary_range is None and briefing.average_salary is None


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
