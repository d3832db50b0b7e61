"""Job boards through their public APIs: posting URLs, the three services' postings with their pay
ranges and requirements, the company's open roles, and whole jobs given a board posting URL."""

from __future__ import annotations

import pytest

from core.errors import NotFound, ServiceUnavailable
from db.engine import make_engine
from db.source_cache import DbCacheStore
from harness.fakes.job_boards import ASHBY_BOARD, ASHBY_ID, GREENHOUSE_JOB_ID, GREENHOUSE_TOKEN, LEVER_ID, LEVER_SITE
from harness.fakes.server import Reply
from pipeline.cache import SourceCache
from pipeline.job_boards import PostingRef, board_posting, board_tokens, find_open_roles, read_board_posting
from pipeline.posting import POSTING_UNREADABLE, requirements
from tests.helpers import source_reader
from tests.test_api import _body, _submit, _wait

DAY_S = 86400.0


@pytest.mark.parametrize(
    ("url", "ref"),
    [
        ("https://boards.greenhouse.io/acme/jobs/123", PostingRef("greenhouse", "acme", "123")),
        ("https://job-boards.greenhouse.io/acme/jobs/123?gh_src=x", PostingRef("greenhouse", "acme", "123")),
        ("jobs.lever.co/acme/5f7d-1c2e/apply", PostingRef("lever", "acme", "5f7d-1c2e")),
        ("https://jobs.ashbyhq.com/acme/0c8e-6b2a/application", PostingRef("ashby", "acme", "0c8e-6b2a")),
        ("https://boards.greenhouse.io/acme", None),
        ("https://boards.greenhouse.io/acme/jobs/not-a-number", None),
        ("https://jobs.lever.co/acme", None),
        ("https://acme.example/careers/123", None),
    ],
)
def test_posting_urls_of_the_three_boards_are_recognised(url, ref):
    assert board_posting(url) == ref


def test_a_greenhouse_posting_is_read_through_the_api_with_its_pay_range(fake_sources, site_client):
    ref = PostingRef("greenhouse", GREENHOUSE_TOKEN, str(GREENHOUSE_JOB_ID))

    page = read_board_posting(ref, source_reader(site_client), fake_sources.apis())

    assert page.url == f"https://boards.greenhouse.io/{GREENHOUSE_TOKEN}/jobs/{GREENHOUSE_JOB_ID}"
    assert page.title == "Senior Backend Engineer"
    assert "&lt;" not in page.content and "<li>" not in page.content  # the escaped HTML was read as HTML
    assert requirements(page.content) == [
        "5+ years of experience with Python in production",
        "Experience running services on Kubernetes",
        "Good knowledge of PostgreSQL and data modelling",
        "Familiarity with ROS or robot fleets",
    ]
    assert page.pay is not None and (page.pay.min, page.pay.max, page.pay.currency) == (95_000, 120_000, "EUR")
    assert page.pay.quote == "Pay range (Lyon): EUR 95,000 – 120,000"
    assert page.pay.quote in page.content
    request = fake_sources.greenhouse.requests[-1]
    assert request.query["pay_transparency"] == ["true"]


def test_a_lever_posting_keeps_its_lists_and_its_yearly_salary(fake_sources, site_client):
    page = read_board_posting(
        PostingRef("lever", LEVER_SITE, LEVER_ID), source_reader(site_client), fake_sources.apis()
    )

    assert page.url == f"https://jobs.lever.co/{LEVER_SITE}/{LEVER_ID}"
    assert requirements(page.content) == [
        "5+ years of experience with Python in production",
        "Experience running services on Kubernetes",
    ]
    assert "We offer a relocation package." in page.content
    assert (page.pay.min, page.pay.max, page.pay.currency, page.pay.period) == (90_000, 115_000, "EUR", "year")
    assert fake_sources.lever.requests[-1].query["mode"] == ["json"]


def test_a_lever_salary_by_the_week_stays_text_not_a_salary(fake_sources, site_client):
    fake_sources.lever.sites[LEVER_SITE][0]["salaryRange"]["interval"] = "per-week-salary"

    page = read_board_posting(
        PostingRef("lever", LEVER_SITE, LEVER_ID), source_reader(site_client), fake_sources.apis()
    )

    assert page.pay is None and "Pay range: EUR 90,000 – 115,000 per week salary" in page.content


def test_an_ashby_posting_is_found_on_its_board_with_compensation(fake_sources, site_client):
    page = read_board_posting(
        PostingRef("ashby", ASHBY_BOARD, ASHBY_ID), source_reader(site_client), fake_sources.apis()
    )

    assert page.url == f"https://jobs.ashbyhq.com/{ASHBY_BOARD}/{ASHBY_ID}"
    assert "Experience running services on Kubernetes" in requirements(page.content)
    assert (page.pay.min, page.pay.max, page.pay.period) == (90_000, 115_000, "year")
    assert fake_sources.ashby.requests[-1].query["includeCompensation"] == ["true"]


def test_a_missing_posting_or_an_outage_says_it_was_the_posting(fake_sources, site_client):
    apis = fake_sources.apis()
    with pytest.raises(NotFound, match=f"^{POSTING_UNREADABLE}"):
        read_board_posting(PostingRef("ashby", ASHBY_BOARD, "no-such-id"), source_reader(site_client), apis)
    fake_sources.lever.fail(f"/v0/postings/{LEVER_SITE}/{LEVER_ID}", Reply(503, b"", {"Retry-After": "7"}))
    with pytest.raises(ServiceUnavailable, match=f"^{POSTING_UNREADABLE}") as caught:
        read_board_posting(PostingRef("lever", LEVER_SITE, LEVER_ID), source_reader(site_client), apis)
    assert caught.value.retry_after == 7


def test_board_names_come_from_the_name_and_the_domain():
    assert board_tokens("Acme Robotics, Inc.", "www.acme-bots.com") == ["acmerobotics", "acme-robotics", "acme-bots"]
    assert board_tokens("Stripe", "stripe.com") == ["stripe"]
    assert board_tokens("Acme", "127.0.0.1") == ["acme"]


def test_open_roles_are_found_on_the_board_that_has_the_name(fake_sources, site_client):
    roles = find_open_roles("Acme Robotics", None, source_reader(site_client), fake_sources.apis())

    assert roles is not None and (roles.service, roles.token) == ("greenhouse", GREENHOUSE_TOKEN)
    assert [(r.title, r.team, r.location) for r in roles.roles] == [
        ("Senior Backend Engineer", "Engineering", "Lyon"),
        ("Robotics Engineer", "Engineering", "Lyon"),
        ("Site Operations Lead", "Operations", "Remote - Europe"),
    ]
    assert board_posting(roles.roles[0].posting_url) == PostingRef(
        "greenhouse", GREENHOUSE_TOKEN, str(GREENHOUSE_JOB_ID)
    )
    # Both names were asked of all three boards, once each; Greenhouse for its departments, no posting's content.
    asked = fake_sources.request_count()
    assert asked == 6
    assert fake_sources.greenhouse.hits(f"/v1/boards/{GREENHOUSE_TOKEN}/departments") == 1
    assert not any("content" in r.query for r in fake_sources.greenhouse.requests)


def test_a_greenhouse_role_in_two_departments_is_listed_once_with_both_teams(fake_sources, site_client):
    job = fake_sources.greenhouse.boards[GREENHOUSE_TOKEN][0]
    job["departments"].append({"id": 1300, "name": "Platform", "child_ids": [], "parent_id": 1011})

    roles = find_open_roles("Acme Robotics", None, source_reader(site_client), fake_sources.apis())

    assert [(r.title, r.team) for r in roles.roles] == [
        ("Senior Backend Engineer", "Engineering, Platform"),
        ("Robotics Engineer", "Engineering"),
        ("Site Operations Lead", "Operations"),
    ]


def test_no_board_is_an_answer_that_is_cached(fake_sources, site_client, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    cache = SourceCache(DbCacheStore(engine), ttl_s=DAY_S)
    apis = fake_sources.apis()

    assert find_open_roles("Initech", None, source_reader(site_client, cache), apis) is None
    asked = fake_sources.request_count()
    assert find_open_roles("Initech", None, source_reader(site_client, cache), apis) is None

    again = fake_sources.request_count()
    assert asked == 3 and again == asked  # "initech" on three boards, then nothing more
    engine.dispose()


def test_a_board_that_cannot_be_asked_is_not_taken_for_no_board(fake_sources, site_client):
    fake_sources.greenhouse.fail(f"/v1/boards/{GREENHOUSE_TOKEN}/departments", Reply(500, b"oops"))
    fake_sources.greenhouse.fail("/v1/boards/acme-robotics/departments", Reply(500, b"oops"))

    with pytest.raises(ServiceUnavailable):
        find_open_roles("Acme Robotics", None, source_reader(site_client), fake_sources.apis())


def test_a_lever_posting_url_gives_a_job_with_a_sourced_salary_and_role_fit(client, fake_site, fake_sources):
    url = f"https://jobs.lever.co/{LEVER_SITE}/{LEVER_ID}"
    submitted = _submit(client, _body(fake_site, jobDescriptionUrl=url))

    status = _wait(client, submitted["jobId"])

    assert status["status"] == "completed", status["message"]
    results = status["briefing"]
    posting = [s for s in results["sources"] if s["kind"] == "posting"]
    assert [(s["url"], s["title"]) for s in posting] == [(url, "Senior Backend Engineer")]
    salary = results["salary"]
    assert (salary["min"], salary["max"], salary["currency"], salary["period"], salary["basis"]) == (
        90_000,
        115_000,
        "EUR",
        "year",
        "source",
    )
    assert salary["citations"] == [{"source": posting[0]["id"], "quote": "Pay range: EUR 90,000 – 115,000 per year"}]
    assert "5+ years of experience with Python in production" in [fit["requirement"] for fit in results["roleFit"]]
    assert fake_sources.lever.hits(f"/v0/postings/{LEVER_SITE}/{LEVER_ID}") == 1
    # The posting's board is the one whose open roles are read.
    board = [s for s in results["sources"] if s["kind"] == "job-board"]
    assert [s["url"] for s in board] == [f"https://jobs.lever.co/{LEVER_SITE}"]
