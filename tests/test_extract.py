"""One reading path over the real-world-shaped corpus (tests/corpus): main content reaches the
model and boilerplate does not, quotes still count from anywhere on the page, postings in every
shape are read (their structured pay range becomes a sourced salary), JavaScript shells are told
apart from pages."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from api.status_json import job_status
from core.errors import FetchRefused
from core.request import ResearchRequest
from harness.fakes.server import Reply
from pipeline.briefing import build_briefing
from pipeline.html import extract_page, read_html
from pipeline.models import BriefingDraft, GitHubData, Page, ScrapedSite
from pipeline.offline import analyze_offline
from pipeline.posting import POSTING_UNREADABLE, read_posting, requirements
from pipeline.sources import collect_sources, model_text, page_text
from pipeline.verify import normalise, quote_occurs
from tests.helpers import LOCAL_POLICY

CORPUS = Path(__file__).parent / "corpus"
ENTRIES = json.loads((CORPUS / "annotations.json").read_text())
BY_FILE = {entry["file"]: entry for entry in ENTRIES}


def _page(entry: dict) -> Page:
    return read_html(entry["url"], (CORPUS / "pages" / entry["file"]).read_bytes())[0]


def _share(snippets: list[tuple[str, str]]) -> float:
    return sum(normalise(snippet) in normalise(text) for snippet, text in snippets) / len(snippets)


def test_main_content_reaches_the_model_and_boilerplate_does_not():
    main, boilerplate = [], []
    for entry in ENTRIES:
        shown = model_text(_page(entry))
        main += [(snippet, shown) for snippet in entry["main"]]
        boilerplate += [(snippet, shown) for snippet in entry["boilerplate"]]
    assert _share(main) >= 0.95
    assert _share(boilerplate) <= 0.08


def test_the_model_sees_main_content_first_with_its_structure():
    shown = model_text(_page(BY_FILE["northwind-about.html"]))
    assert shown.startswith("About us | Northwind Freight\nThe story and the team behind Northwind Freight.")
    assert "\n## Our values\n" in shown and "\n- Ship small changes every day" in shown  # Markdown kept
    assert "| Marit de Vries | Chief Executive Officer |" in shown  # a table stays a table
    assert "Accept all cookies" not in shown and "Privacy policy" not in shown


def test_a_true_quote_from_a_menu_still_counts():
    page = _page(BY_FILE["northwind-home.html"])
    assert "Terms of service" not in model_text(page)
    assert quote_occurs("Get product news and event invitations once a month", normalise(page_text(page)))


@pytest.mark.parametrize("name", [e["file"] for e in ENTRIES if e["kind"] == "posting"])
def test_every_posting_shape_is_read_over_http(name, fake_site, site_client):
    entry = BY_FILE[name]
    fake_site.fail("/jobs/opening", Reply.html((CORPUS / "pages" / name).read_text()))
    posting = read_posting(fake_site.url + "/jobs/opening", site_client, LOCAL_POLICY, deadline=time.monotonic() + 5)
    [source] = [s for s in collect_sources(ScrapedSite(), GitHubData(), posting) if s.source.kind == "posting"]
    for snippet in entry["main"]:
        assert normalise(snippet) in normalise(source.shown), snippet
    found = requirements(source.text)
    for requirement in entry.get("requirements", []):
        assert requirement in found


def test_a_posting_page_with_no_readable_text_fails_clearly(fake_site, site_client):
    fake_site.fail("/jobs/empty", Reply.html("<html><head><title></title></head><body> </body></html>"))
    with pytest.raises(FetchRefused, match="has no readable text") as caught:
        read_posting(fake_site.url + "/jobs/empty", site_client, LOCAL_POLICY, deadline=time.monotonic() + 5)
    assert caught.value.message.startswith(POSTING_UNREADABLE)


def test_a_posting_built_by_javascript_without_data_fails_clearly(fake_site, site_client):
    shell = (CORPUS / "pages" / "shell-cra.html").read_text()
    fake_site.fail("/jobs/app", Reply.html(shell))
    with pytest.raises(FetchRefused, match="builds its text with JavaScript") as caught:
        read_posting(fake_site.url + "/jobs/app", site_client, LOCAL_POLICY, deadline=time.monotonic() + 5)
    assert caught.value.message.startswith(POSTING_UNREADABLE)


@pytest.mark.parametrize("name", [e["file"] for e in ENTRIES if e.get("salary")])
def test_a_structured_pay_range_is_a_sourced_salary_cited_to_the_posting(name):
    entry = BY_FILE[name]
    posting = _page(entry)
    assert posting.pay is not None
    assert (posting.pay.min, posting.pay.max, posting.pay.currency, posting.pay.period) == tuple(
        entry["salary"][k] for k in ("min", "max", "currency", "period")
    )
    site = ScrapedSite(url="https://corpus.example/", pages=[Page(url="https://corpus.example/", content="Hi.")])
    draft = analyze_offline("Corpus", site, GitHubData(), None, posting)
    briefing = build_briefing(
        draft, company_name="Corpus", site=site, github=GitHubData(), mode="offline", model=None, posting=posting
    )
    salary = briefing.salary
    assert salary is not None and salary.basis == "source" and briefing.salary_source == "source"
    assert (salary.min, salary.max, salary.currency, salary.period) == (
        posting.pay.min,
        posting.pay.max,
        posting.pay.currency,
        posting.pay.period,
    )
    [citation] = salary.citations
    [source] = [s for s in collect_sources(site, GitHubData(), posting) if s.id == citation.source]
    assert source.source.kind == "posting"
    assert quote_occurs(citation.quote, normalise(source.text))  # the structured data, as read, is the quote
    assert str(posting.pay.min) in citation.quote and "currency" in citation.quote


def test_a_posting_without_structured_pay_has_no_salary_from_the_offline_analyzer():
    posting = _page(BY_FILE["posting-list.html"])
    site = ScrapedSite(url="https://corpus.example/", pages=[Page(url="https://corpus.example/", content="Hi.")])
    draft = analyze_offline("Corpus", site, GitHubData(), None, posting)
    briefing = build_briefing(
        draft, company_name="Corpus", site=site, github=GitHubData(), mode="offline", model=None, posting=posting
    )
    assert posting.pay is None and briefing.salary is None


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["file"])
def test_javascript_shells_are_told_apart_from_pages(entry):
    assert _page(entry).script_built == (entry["kind"] == "shell" or entry["file"] == "posting-jsonld.html")


def test_a_shell_is_read_from_the_data_it_embeds():
    nextjs = _page(BY_FILE["shell-next.html"])
    assert nextjs.main == "" and "Orbitpay runs payroll, tips and rotas" in model_text(nextjs)
    jsonld = _page(BY_FILE["shell-vue-jsonld.html"])
    assert "Kelpworks farms seaweed" in model_text(jsonld)
    assert "enable JavaScript" not in model_text(_page(BY_FILE["shell-cra.html"])).replace("enable it", "")


@pytest.mark.parametrize(
    "html",
    [
        '<script type="application/ld+json">{"@type": "JobPosting", "baseSalary": "lots"}</script><p>x</p>',
        '<script type="application/ld+json">{"@type": "JobPosting", "baseSalary": {"value": -5}}</script>',
        '<script type="application/ld+json">{not json</script>',
        '<script type="application/ld+json">' + "[" * 5000 + "]" * 5000 + "</script>",
        '<script id="__NEXT_DATA__" type="application/json">' + '{"a":' * 3000 + "1" + "}" * 3000 + "</script>",
        '<div itemscope itemtype="https://schema.org/JobPosting">' + "<div>" * 3000 + "</div>" * 3000 + "</div>",
    ],
)
def test_broken_or_hostile_structured_data_gives_a_page_without_pay(html):
    page = extract_page("https://acme.example.com/", html)
    assert page.pay is None


def _company_briefings() -> dict[str, BriefingDraft]:
    by_company: dict[str, list[Page]] = {}
    for entry in ENTRIES:
        if entry["kind"] not in ("posting", "shell"):
            by_company.setdefault(entry["file"].split("-")[0], []).append(_page(entry))
    return {
        company: analyze_offline(company.title(), ScrapedSite(url=pages[0].url, pages=pages), GitHubData(), None)
        for company, pages in by_company.items()
    }


def test_the_offline_analyzer_shows_no_calls_to_action_banners_or_thanks():
    junk = re.compile(r"read more|learn more|sign up|thank|cookie|contact us|book a demo|get started", re.I)
    briefings = _company_briefings()
    assert sum(bool(draft.overview) for draft in briefings.values()) >= len(briefings) - 1  # none on mozilla.org
    for company, draft in briefings.items():
        for claim in [*draft.products, *draft.overview, *draft.culture_insights]:
            assert not junk.search(claim.text), (company, claim.text)


def test_offline_overview_statements_are_whole_sentences_about_the_company():
    for company, draft in _company_briefings().items():
        for claim in draft.overview:
            assert claim.text.endswith((".", "!")), claim.text
            assert company in claim.text.casefold() or re.search(r"\b(?:we|our|unser\w*)\b", claim.text, re.I)
        for claim in draft.products:  # a name is never cut inside a word
            [evidence] = claim.evidence
            end = evidence.quote.find(claim.text) + len(claim.text)
            assert end == len(evidence.quote) or not evidence.quote[end].isalnum(), claim.text


def test_a_job_whose_posting_states_pay_as_data_shows_it_as_a_sourced_salary(make_runner, fake_site):
    runner = make_runner(ANTHROPIC_API_KEY="")  # the offline analyzer: no model writes the figure
    fake_site.fail("/jobs/data-scientist", Reply.html((CORPUS / "pages" / "posting-jsonld.html").read_text()))
    request = ResearchRequest(
        company_name="Acme Robotics",
        company_url=fake_site.url,
        job_description_url=fake_site.url + "/jobs/data-scientist",
    )
    job, _ = runner.submit(request)
    runner.wait(job.id, timeout_s=60)
    status = job_status(runner.engine, job.id)

    assert status["status"] == "completed", status["message"]
    results = status["briefing"]
    salary = results["salary"]
    assert (salary["min"], salary["max"], salary["currency"], salary["period"]) == (130000, 160000, "USD", "year")
    assert results["salarySource"] == "source"
    [posting] = [s for s in results["sources"] if s["kind"] == "posting"]
    assert [c["source"] for c in salary["citations"]] == [posting["id"]]
