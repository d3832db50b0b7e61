"""Verification in code: whole jobs where the fake Claude makes claims of every kind, and the
matching rules (normalisation, aliases, salary figures) on their own."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from api.status_json import job_status
from core.request import ResearchRequest
from harness.fakes.anthropic_api import FakeAnthropic
from harness.fakes.job_boards import GREENHOUSE_JOB_ID, GREENHOUSE_TOKEN
from harness.fakes.server import Reply
from pipeline.markdown import THIRD_PARTY_LABEL, render_markdown
from pipeline.models import Briefing, BriefingDraft, Evidence, GitHubData, SalaryClaim, Source
from pipeline.sources import SourceText
from pipeline.verify import (
    MAX_OMISSION_CHARS,
    MIN_QUOTE_CHARS,
    THIRD_PARTY,
    Verified,
    Verifier,
    amounts,
    canonical,
    names,
    normalise,
    quote_occurs,
    source_id,
)

WAIT_S = 30.0
HOME_SENTENCE = "Acme Robotics makes fleets of small sorting robots for e-commerce warehouses."
STACK_SENTENCE = "Our fleet software is written in Python, runs on Kubernetes and keeps its state in PostgreSQL."
NIGHT_SENTENCE = "Forty warehouses in Europe sort parcels with Acme robots every night."


def claim(text: str, source: str | None = None, quote: str | None = None) -> dict:
    return {"text": text, "evidence": [{"source": source, "quote": quote}] if source else []}


def draft(**fields: object) -> dict:
    return {**FakeAnthropic.draft("Acme Robotics"), **fields}


def run_status(runner, fake_site, **request: object) -> dict:
    """The whole status document of a completed job."""
    job, _ = runner.submit(
        ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url, role="Backend Engineer", **request)
    )
    runner.wait(job.id, timeout_s=WAIT_S)
    status = job_status(runner.engine, job.id)
    assert status["status"] == "completed", status["message"]
    assert status["briefing"]["analysisMode"] == "claude"
    return status


def run(runner, fake_site, **request: object) -> dict:
    """The verified briefing of a completed job."""
    return run_status(runner, fake_site, **request)["briefing"]


def texts(items: list[dict]) -> list[str]:
    return [item["text"] for item in items]


def dropped(results: dict) -> dict[str, str]:
    return {entry["text"]: entry["reason"] for entry in results["notVerified"]}


def test_every_kind_of_claim_is_checked_in_a_whole_job(runner, fake_site, fake_anthropic):
    fake_anthropic.enqueue(
        draft(
            overview=[
                claim("Acme makes sorting robots.", "S1", HOME_SENTENCE),  # correct
                claim("The fleet runs Kubernetes.", "S1", "our FLEET   software is written in python,\nruns on"),
            ],
            products=[
                claim("Acme Sorter", "S1", "The Acme Sorter moves 2,000 parcels an hour"),  # not on the home page
            ],
            techStack=[
                claim("Python", "S1", STACK_SENTENCE),
                claim("Postgres", "S1", STACK_SENTENCE),  # an alias of the quoted PostgreSQL
                claim("Rust", "S1", STACK_SENTENCE),  # absent from its quote, and from the repositories
                claim("Go"),  # no quote, but a language of the organisation's repositories
            ],
            cultureInsights=[claim("Night shifts.", "S2", NIGHT_SENTENCE)],  # a real quote, wrong source
            salary={
                "min": 120000,
                "max": 160000,
                "currency": "$",
                "evidence": [{"source": "S1", "quote": NIGHT_SENTENCE}],
            },
            salaryEstimate={
                "min": 60000,
                "max": 80000,
                "currency": "EUR",
                "role": "Backend Engineer",
                "seniority": "mid-level",
                "location": "Lyon, France",
            },
        )
    )

    status = run_status(runner, fake_site)
    results, seed = status["briefing"], status["results"]

    assert texts(results["overview"]) == ["Acme makes sorting robots.", "The fleet runs Kubernetes."]
    assert results["overview"][0]["citations"] == [{"source": "S1", "quote": HOME_SENTENCE}]
    assert results["products"] == []
    assert texts(results["techStack"]) == ["Python", "PostgreSQL", "Go"]
    go = results["techStack"][2]["citations"][0]
    go_repo = next(s for s in results["sources"] if s["id"] == go["source"])
    assert go_repo["kind"] == "repository" and go_repo["url"].endswith("/acme-cli") and go["quote"] == "Language: Go"
    assert results["cultureInsights"] == []
    reasons = dropped(results)
    assert reasons["Acme Sorter"] == "The quote is not in S1."
    assert reasons["Rust"] == "The technology is not named in its quote."
    assert reasons["Night shifts."] == "The quote is not in S2 (it is in S1)."
    assert reasons["$ 120,000 – 160,000 a year"] == "The quote does not state these figures as pay."
    assert results["salarySource"] == "estimate"
    salary = results["salary"]
    assert (salary["basis"], salary["min"], salary["currency"], salary["citations"]) == ("estimate", 60000, "EUR", [])
    assert "seniority: mid-level" in salary["assumptions"] and "Lyon" in salary["assumptions"]
    assert results["verification"] == {"claims": 9, "verified": 5, "dropped": 4}
    assert results["grounded"] is True
    # The seed's fields carry what was verified, as plain strings; an estimate is no salaryRange.
    assert seed["overview"] == "Acme makes sorting robots. The fleet runs Kubernetes."
    assert (seed["products"], seed["techStack"], seed["cultureInsights"]) == ([], ["Python", "PostgreSQL", "Go"], "")
    assert (seed["salaryRange"], seed["averageSalary"]) == (None, None)


POSTING_URL = f"https://boards.greenhouse.io/{GREENHOUSE_TOKEN}/jobs/{GREENHOUSE_JOB_ID}"
EVERY_KIND = {"page", "posting", "job-board", "blog", "repository", "wikipedia", "discussion"}


def cited_kinds(results: dict, sections: tuple[str, ...] | None = None) -> dict[str, set[str]]:
    """The kinds of source each section's verified items cite (quotes or, for advice, source ids)."""
    kind = {source["id"]: source["kind"] for source in results["sources"]}
    found: dict[str, set[str]] = {}
    for key, value in results.items():
        items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
        for item in items:
            if not isinstance(item, dict) or key in ("sources", "notVerified"):
                continue
            ids = [c["source"] for c in item.get("citations") or []] + list(item.get("sources") or [])
            if item.get("requirementCitation"):
                ids.append(item["requirementCitation"]["source"])
            found.setdefault(key, set()).update(kind[sid] for sid in ids)
    return {key: kinds for key, kinds in found.items() if kinds}


def test_the_fake_model_cites_every_kind_of_source_and_discussion_only_as_third_party(
    runner, fake_site, fake_anthropic
):
    results = run(runner, fake_site, job_description_url=POSTING_URL)

    cited = cited_kinds(results)
    assert set().union(*cited.values()) >= EVERY_KIND, cited
    assert [key for key, kinds in cited.items() if "discussion" in kinds] == ["keyTalkingPoints", "redFlags"]
    assert results["verification"]["dropped"] == 0  # the fake copies every quote from its source
    markdown = render_markdown(Briefing.model_validate(results))
    red_flag = next(line for line in markdown.splitlines() if "third-party discussion on Hacker News" in line)
    assert red_flag.endswith(THIRD_PARTY_LABEL)


def test_a_company_fact_backed_only_by_discussion_is_not_verified(runner, fake_site, fake_anthropic):
    run(runner, fake_site, job_description_url=POSTING_URL)  # the prompt every kind of source is in
    prompt = fake_anthropic.calls[-1].user_text
    honest = FakeAnthropic.draft("Acme Robotics", prompt)
    [flag] = honest["redFlags"]
    story = flag["evidence"]  # a true quote of a Hacker News story's title
    raised = "Acme Robotics raised a Series B to put its robots in 100 warehouses."
    lying = {
        **honest,
        "overview": [*honest["overview"], {"text": raised, "evidence": story}],
        "products": [{"text": "Series B", "evidence": story}],
        "salary": {"min": 100, "max": 100, "currency": "$", "evidence": story},
    }
    fake_anthropic.enqueue(lying, lying)  # the facts part and the coaching part

    results = run(runner, fake_site, job_description_url=POSTING_URL, refresh=True)  # not the same request

    reasons = dropped(results)
    assert reasons[raised] == reasons["Series B"] == reasons["$ 100 – 100 a year"] == THIRD_PARTY
    assert raised not in texts(results["overview"])
    assert texts(results["redFlags"]) == [flag["text"]]  # a thing to look into may cite what others say
    assert cited_kinds(results)["overview"] == {"page", "wikipedia"}
    assert results["salary"]["basis"] == "source"  # the posting's own pay range, not the story


def test_a_statement_needs_more_than_a_word_found_on_any_page(runner, fake_site, fake_anthropic):
    fake_anthropic.enqueue(
        draft(
            overview=[
                claim("Acme was fined by the regulator.", "S1", "robots"),  # a real word, proves nothing
                claim("Acme hides its losses.", "S1", "the ... and ... with"),  # stopwords spliced
                claim("Acme sorts parcels at night.", "S1", "sort parcels with Acme robots"),  # short but real
            ],
            redFlags=[claim("Acme is being sued.", "S1", "Acme Robotics")],
            techStack=[claim("Rust", "S1", "sort ... at")],  # a part around "..." that proves nothing
        )
    )

    results = run(runner, fake_site)

    assert texts(results["overview"]) == ["Acme sorts parcels at night."]
    assert results["redFlags"] == []
    reasons = dropped(results)
    assert "too short to support a statement" in reasons["Acme was fined by the regulator."]
    assert "too short to support a statement" in reasons["Acme hides its losses."]
    assert "too short to support a statement" in reasons["Acme is being sued."]
    assert reasons["Rust"] == "The quote (or a part of it around '...') is too short to check."


CP1252_HOME = """<html><head><meta charset="windows-1252"><title>Acme Robotik GmbH</title></head><body>
<h1>Über uns</h1>
<p>Wir bauen Sortierroboter für Lagerhäuser in München.</p>
<p>Backend-Entwickler verdienen 85.000 € bis 110.000 € im Jahr.</p>
<p>„Wir sind ein kleines Team“, sagt die Gründerin. We’re hiring – now.</p>
</body></html>"""
SHIFT_JIS_HOME = """<html><head><meta charset="shift_jis"><title>アクメ</title></head><body>
<p>アクメは倉庫向けの仕分けロボットを作っています。</p></body></html>"""


def test_a_stated_salary_in_another_language_and_encoding_is_sourced(runner, fake_site, fake_anthropic):
    fake_site.fail("/", Reply(200, CP1252_HOME.encode("cp1252"), {"Content-Type": "text/html"}))
    fake_anthropic.enqueue(
        draft(
            overview=[claim("Acme builds sorting robots in Munich.", "S1", "Wir bauen Sortierroboter für Lagerhäuser")],
            cultureInsights=[
                claim("A small team.", "S1", '"Wir sind ein kleines Team", sagt die Gründerin.'),  # straight quotes
                claim("They are hiring.", "S1", "We're hiring - now"),  # straight apostrophe and hyphen
            ],
            salary={
                "min": 85000,
                "max": 110000,
                "currency": "EUR",
                "evidence": [{"source": "S1", "quote": "Backend-Entwickler verdienen 85.000 € bis 110.000 € im Jahr"}],
            },
            salaryEstimate={"min": 1, "max": 2, "currency": "$", "role": "x", "seniority": "x", "location": "x"},
        )
    )

    status = run_status(runner, fake_site)
    results, seed = status["briefing"], status["results"]

    assert texts(results["overview"]) == ["Acme builds sorting robots in Munich."]
    assert texts(results["cultureInsights"]) == ["A small team.", "They are hiring."]
    salary = results["salary"]
    assert results["salarySource"] == "source" and salary["basis"] == "source"
    assert (salary["min"], salary["max"], salary["currency"]) == (85000, 110000, "€")  # as the source writes it
    assert salary["citations"][0]["source"] == "S1" and salary["assumptions"] is None
    assert salary["period"] == "year"  # "im Jahr"
    assert results["notVerified"] == []
    assert seed["cultureInsights"] == "A small team. They are hiring."
    assert (seed["salaryRange"], seed["averageSalary"]) == ({"min": 85000, "max": 110000}, 97500.0)


def _salary_verdict(quote: str, period: str) -> Verified:
    page = SourceText(Source(id="S1", kind="page", url="https://acme.example/"), f"Jobs at Acme. {quote}")
    salary = SalaryClaim(min=5000, max=6000, currency="€", period=period, evidence=[Evidence(source="S1", quote=quote)])
    return Verifier([page], GitHubData()).run(BriefingDraft.model_validate(draft(salary=salary.to_json_dict())))


def test_a_salary_period_is_the_one_its_quote_states():
    monthly = _salary_verdict("Engineers earn €5,000 to €6,000 per month.", "year")
    unstated = _salary_verdict("Engineers earn €5,000 to €6,000.", "year")

    assert monthly.salary is None
    assert monthly.not_verified[-1].reason == "The quote states the figures for another period (month)."
    assert _salary_verdict("Engineers earn €5,000 to €6,000 per month.", "month").salary.period == "month"
    assert unstated.salary.period is None and unstated.salary.basis == "source"
    assert _salary_verdict("The Sorter moves 5,000 to 6,000 parcels a year.", "year").salary is None  # not pay
    assert _salary_verdict("Gehalt: 5.000 bis 6.000 im Monat", "month").salary.currency is None  # pay, no currency
    assert "(the source states no period)" in render_markdown(
        Briefing(company_name="Acme", salary=unstated.salary, salary_source="source", analysis_mode="claude")
    )


def test_a_page_in_shift_jis_is_quoted_in_japanese(runner, fake_site, fake_anthropic):
    fake_site.fail("/", Reply(200, SHIFT_JIS_HOME.encode("shift_jis"), {"Content-Type": "text/html"}))
    fake_anthropic.enqueue(
        draft(overview=[claim("Acme makes warehouse robots.", "S1", "倉庫向けの仕分けロボット")], salary=None)
    )

    results = run(runner, fake_site)

    assert results["overview"][0]["citations"] == [{"source": "S1", "quote": "倉庫向けの仕分けロボット"}]


def test_a_salary_without_any_quote_is_not_shown(runner, fake_site, fake_anthropic):
    fake_anthropic.enqueue(draft(salary={"min": 90000, "max": 120000, "currency": "$", "evidence": []}))

    results = run(runner, fake_site)

    assert results["salary"] is None and results["salarySource"] is None
    assert dropped(results)["$ 90,000 – 120,000 a year"] == "No source or quote was given."


# -- the matching rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quote", "text", "found"),
    [
        ("hello world", "Hello   World!", True),
        ("“smart” quotes — and dashes", '"smart" quotes - and dashes', True),
        ("don't", "don’t", True),
        ("ﬁne print", "fine print", True),  # NFKC folds the ligature
        ("first ... last", "first, middle, last", True),
        ("last ... first", "first, middle, last", False),
        ("abc", "abc", False),  # too short to prove anything
        ("the ... and", "the cat and the dog", False),  # so is each part around an omission
        ("first ... last", "first, " + "filler " * MAX_OMISSION_CHARS + "last", False),  # no splicing afar
        ("", "anything at all", False),
        ("not here at all", "something else", False),
    ],
)
def test_quotes_match_after_normalising(quote, text, found):
    assert quote_occurs(quote, normalise(text)) is found


@pytest.mark.parametrize(
    ("term", "text", "named"),
    [
        ("Postgres", "we use PostgreSQL 16", True),
        ("k8s", "deployed on Kubernetes", True),
        ("JS", "modern JavaScript", True),
        ("Golang", "services in Go", True),
        ("Go", "we go further", False),  # an ordinary word counts only capitalised
        ("Java", "JavaScript only", False),
        ("C++", "a C++ planner", True),
        ("Python 3.12", "written in python", True),
        ("Kafka (events)", "events flow through Kafka", True),
    ],
)
def test_technologies_are_named_with_their_aliases(term, text, named):
    assert names(term, text) is named


def test_aliases_have_one_shown_name():
    assert canonical("postgres") == "PostgreSQL" and canonical("golang") == "Go" and canonical("Zig") == "Zig"


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("€85,000 – €110,000", {85000, 110000}),
        ("85k-110k EUR", {85000, 110000}),
        ("CHF 120 000 bis 140.000", {120000, 140000}),
        ("£45.5k", {45500}),
    ],
)
def test_salary_figures_are_read_as_written(text, figures):
    assert amounts(text) == figures


def test_a_salary_keeps_the_currency_its_quote_writes():
    norwegian = _salary_verdict("Lønn: 5 000–6 000 kr i måneden, betalt månedlig", "month").salary
    assert (norwegian.currency, norwegian.period) == ("kr", "month")
    assert _salary_verdict("Our krone-free team earns 5,000 to 6,000 monthly", "month").salary.currency is None


def test_source_ids_are_read_as_a_model_writes_them():
    assert [source_id(raw) for raw in ("S2", "s3", " Source S10 ", "[S4]", "page")] == ["S2", "S3", "S10", "S4", "page"]


TYPED = st.text(alphabet=st.sampled_from(list("abcXYZ 019.,'\"-’“”–—\n\t")), min_size=8, max_size=200)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(text=TYPED, data=st.data(), retyped=st.booleans())
def test_any_piece_of_the_text_verifies_however_it_is_typed(text, data, retyped):
    start = data.draw(st.integers(0, len(text) - 4))
    quote = text[start : start + data.draw(st.integers(4, 80))]
    parts = normalise(quote).split("...")  # an omission mark; the alphabet has no brackets
    assume(all(len(part.strip(" \"'")) >= MIN_QUOTE_CHARS for part in parts))
    if retyped:  # as a model might copy it: other case, plain quotes and dashes, other spacing
        quote = " ".join(quote.upper().replace("’", "'").replace("“", '"').replace("–", "-").split())

    assert quote_occurs(quote, normalise(text))


@settings(max_examples=300, deadline=None)
@given(text=TYPED, quote=st.text(alphabet="qwjk", min_size=4, max_size=20))
def test_a_quote_with_words_the_text_lacks_never_verifies(text, quote):
    assert not quote_occurs(quote, normalise(text))


def test_a_tech_item_is_shown_only_as_far_as_its_quote_names_it():
    text = "Events flow through Kafka. Our fleet is written in Python. Jobs run Python 3.12 nightly."
    page = SourceText(Source(id="S1", kind="page", url="https://acme.example/"), text)
    stack = [
        {"text": "Kafka (and Spark)", "evidence": [{"source": "S1", "quote": "Events flow through Kafka"}]},
        {"text": "Python 3.13", "evidence": [{"source": "S1", "quote": "Our fleet is written in Python"}]},
        {"text": "Python 3.12", "evidence": [{"source": "S1", "quote": "Jobs run Python 3.12 nightly"}]},
    ]

    verified = Verifier([page], GitHubData()).run(BriefingDraft.model_validate(draft(techStack=stack)))

    assert [item.text for item in verified.facts["tech_stack"]] == ["Kafka", "Python", "Python 3.12"]


def test_a_role_fit_finding_needs_a_sentence_or_a_github_line_on_its_requirement():
    sources = [
        SourceText(Source(id="S1", kind="page", url="https://acme.example/"), "We are remote friendly sometimes."),
        SourceText(Source(id="S2", kind="posting"), "- Remote work experience\n- Go services in production"),
        SourceText(Source(id="S3", kind="repository", url="https://github.com/acme/cli"), "Language: Go"),
    ]
    fits = [
        {"requirement": "Remote work experience", "finding": "Acme forbids remote work.", "practiceQuestion": "Q?",
         "evidence": [{"source": "S1", "quote": "remote"}]},  # a word of the requirement, on a page
        {"requirement": "Go services in production", "finding": "Its CLI is written in Go.", "practiceQuestion": "Q?",
         "evidence": [{"source": "S3", "quote": "Language: Go"}]},
    ]  # fmt: skip

    verified = Verifier(sources, GitHubData()).run(BriefingDraft.model_validate(draft(roleFit=fits)))

    assert [fit.finding for fit in verified.role_fit] == ["", "Its CLI is written in Go."]
    dropped_fit = next(entry for entry in verified.not_verified if entry.section == "Role fit")
    assert dropped_fit.text == "Acme forbids remote work." and "too short to support a statement" in dropped_fit.reason
