"""The source cache and the GitHub budget seen from whole jobs: real runners, real databases, the fakes."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime

from api.status_json import job_status
from core.github_budget import Window
from core.request import ResearchRequest
from core.status import AttemptStatus
from db import attempts, jobs
from db.github_budget import DbBudget
from harness.fakes.server import Reply
from harness.fakes.site import FEED_PATH
from pipeline.blog import FEED_PATHS
from settings import Settings
from tests.test_cli import _cli

WAIT_S = 60
TTL_DAY = "86400"
NEW_TITLE = "Acme Robotics | New and improved"


def _request(fake_site, role: str, **fields) -> ResearchRequest:
    # A different role each time: the same inputs within seconds would return the same job.
    return ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url, role=role, **fields)


def _run(runner, request) -> dict:
    job, _ = runner.submit(request)
    runner.wait(job.id, timeout_s=WAIT_S)
    status = job_status(runner.engine, job.id)
    assert status["status"] == "completed", status["message"]
    return status


def _output(runner, status: dict, step: str) -> dict:
    return attempts.checkpoints(runner.engine, status["jobId"])[step]


def test_a_second_job_within_the_ttl_makes_no_requests(make_runner, fake_site, fake_github):
    runner = make_runner(PREP_CACHE_TTL_S=TTL_DAY)
    first = _run(runner, _request(fake_site, "Backend Engineer", deep_mode=True))
    site_requests, github_requests = len(fake_site.requests), len(fake_github.paths())
    assert site_requests >= 6 and fake_github.counted == github_requests == 2  # home, robots, 4 deep; org, repos

    second = _run(runner, _request(fake_site, "Data Engineer", deep_mode=True))

    assert len(fake_site.requests) == site_requests  # not one request to the site
    assert len(fake_github.paths()) == github_requests  # nor to GitHub, counted or not
    assert fake_github.hits("/rate_limit") == 1  # the budget's window was read once, then kept
    assert second["briefing"]["sources"] == first["briefing"]["sources"]
    assert _output(runner, second, "search-github")["organization"] == "acme-robotics"


def test_after_the_ttl_every_source_is_revalidated_and_304s_cost_nothing(make_runner, fake_site, fake_github):
    runner = make_runner(PREP_CACHE_TTL_S="0")  # whatever is stored is already stale
    _run(runner, _request(fake_site, "Backend Engineer"))
    site_before, github_before = len(fake_site.requests), len(fake_github.paths())
    counted, not_modified = fake_github.counted, fake_github.not_modified

    second = _run(runner, _request(fake_site, "Data Engineer"))

    revalidations = fake_site.requests[site_before:]
    assert sorted(r.path for r in revalidations) == sorted(["/robots.txt", "/", FEED_PATH])  # the blog's feed too
    assert all("if-none-match" in r.headers for r in revalidations)
    assert len(fake_github.paths()) - github_before == 2
    assert fake_github.not_modified - not_modified == 2  # both answered 304 ...
    assert fake_github.counted == counted  # ... which GitHub does not count
    assert _output(runner, second, "search-github")["organization"] == "acme-robotics"


def test_refresh_reads_everything_again_and_updates_the_cache(make_runner, fake_site, fake_github):
    runner = make_runner(PREP_CACHE_TTL_S=TTL_DAY)
    _run(runner, _request(fake_site, "Backend Engineer"))
    site_before, counted = len(fake_site.requests), fake_github.counted
    fake_site.fail("/", Reply.html(f"<title>{NEW_TITLE}</title><h1>New</h1>"))

    refreshed = _run(runner, _request(fake_site, "Data Engineer", refresh=True))

    fresh_reads = fake_site.requests[site_before:]
    # The new home page announces no feed, so the blog is looked for at the usual places.
    assert sorted(r.path for r in fresh_reads) == sorted(["/robots.txt", "/", *FEED_PATHS])
    assert not any("if-none-match" in r.headers for r in fresh_reads)  # no validators: a plain read
    assert fake_github.counted == counted + 2
    assert _output(runner, refreshed, "scrape-website")["title"] == NEW_TITLE
    assert jobs.get_job(runner.engine, refreshed["jobId"]).refresh is True  # a resumed job keeps it

    site_before = len(fake_site.requests)
    later = _run(runner, _request(fake_site, "Product Manager"))
    assert len(fake_site.requests) == site_before
    assert _output(runner, later, "scrape-website")["title"] == NEW_TITLE  # what the refresh stored


def test_ten_concurrent_jobs_on_an_anonymous_budget_never_get_a_403(make_runner, fake_site, fake_github):
    fake_github.set_limits(core=60, search=10)  # GitHub's limits without a token
    for i in range(10):  # each job's org search finds five look-alikes to check: ~9 core requests a job
        for k in range(5):
            fake_github.add_org(f"quartz{i}-lumen-{k}", f"Quartz{i} Lumen {k}", blog="https://elsewhere.example")
    runner = make_runner(PREP_CACHE_TTL_S=TTL_DAY, PREP_WORKERS="10", GITHUB_TOKEN="")

    submitted = [runner.submit(ResearchRequest(company_name=f"Quartz{i} Lumen", company_url=fake_site.url))[0]
                 for i in range(10)]  # fmt: skip
    statuses = [job_status(runner.engine, runner.wait(job.id, timeout_s=WAIT_S).id) for job in submitted]

    assert [s["status"] for s in statuses] == ["completed"] * 10
    assert fake_github.over_limit == 0  # not one request met a used-up limit
    assert fake_github.buckets["core"].remaining <= 2  # and the budget really was spent to its reserve
    warnings = [_output(runner, s, "search-github")["warning"] or "" for s in statuses]
    assert any("rate limit" in w or "hourly limit is used up" in w for w in warnings), warnings
    left = runner.services.github_budget.report()["core"]["remaining"]
    assert left == fake_github.buckets["core"].remaining  # the shared count matches GitHub's


def test_a_used_up_budget_skips_github_and_says_until_when(make_runner, fake_site, fake_github):
    fake_github.set_limits(core=60)
    fake_github.set_remaining(0)
    runner = make_runner(PREP_CACHE_TTL_S=TTL_DAY, GITHUB_TOKEN="")

    status = _run(runner, _request(fake_site, "Backend Engineer"))

    reset = datetime.fromtimestamp(fake_github.buckets["core"].reset_at, UTC).strftime("%H:%M UTC")
    reason = f"GitHub's hourly limit is used up until {reset}; set GITHUB_TOKEN to raise it."
    github = [a for a in attempts.for_job(runner.engine, status["jobId"]) if a.step == "search-github"]
    assert [(a.status, a.error_message) for a in github] == [(AttemptStatus.SKIPPED, reason)]
    assert fake_github.paths() == []  # nothing spent on requests that could only fail
    # the job went on without GitHub
    assert [s["url"] for s in status["briefing"]["sources"] if s["kind"] == "page"] == [fake_site.url + "/"]
    assert runner.services.github_budget.report()["core"]["remaining"] == 0


def test_a_used_up_budget_serves_what_the_cache_holds(make_runner, fake_site, fake_github):
    runner = make_runner(PREP_CACHE_TTL_S="0", GITHUB_TOKEN="")  # stored replies are stale at once
    _run(runner, _request(fake_site, "Backend Engineer"))
    github_before = len(fake_github.paths())
    # Another process spent the rest of the hour: the shared budget says so.
    DbBudget(runner.engine, authenticated=False).observe(Window("core", 60, 0, int(time.time()) + 3600))

    second = _run(runner, _request(fake_site, "Data Engineer"))

    refreshed = _run(runner, _request(fake_site, "Product Manager", refresh=True))  # a refresh too

    assert len(fake_github.paths()) == github_before
    for status in (second, refreshed):
        data = _output(runner, status, "search-github")
        assert data["organization"] == "acme-robotics" and data["repositories"]


def test_two_processes_on_postgresql_share_the_cache_and_the_budget(
    app_env, postgres_url, monkeypatch, fake_site, fake_github
):
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.setenv("PREP_CACHE_TTL_S", TTL_DAY)
    first = _cli("Acme Robotics", "--url", fake_site.url, "--role", "Backend Engineer", "--wait")
    assert first.returncode == 0, first.stderr
    site_requests, github_requests = len(fake_site.requests), len(fake_github.paths())

    second = _cli("Acme Robotics", "--url", fake_site.url, "--role", "Data Engineer", "--wait")

    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["status"] == "completed"
    assert len(fake_site.requests) == site_requests
    assert len(fake_github.paths()) == github_requests
    assert fake_github.hits("/rate_limit") == 1  # the second process found the window in the database


def test_two_jobs_at_the_same_moment_read_each_source_once(make_runner, fake_site, fake_github):
    runner = make_runner(PREP_CACHE_TTL_S=TTL_DAY)
    fake_site.fail("/", replace(fake_site.page("/"), delay_s=0.5))  # both jobs need it while it loads

    submitted = [runner.submit(_request(fake_site, role))[0] for role in ("Backend Engineer", "Data Engineer")]
    for job in submitted:
        assert runner.wait(job.id, timeout_s=WAIT_S).status == "completed"

    assert fake_site.hits("/") == 1
    assert fake_site.hits("/robots.txt") == 1
    assert fake_github.counted == 2  # the organisation and its repositories, once


def test_the_ttl_is_read_from_the_environment():
    assert Settings.from_mapping({}).cache_ttl_s == 86400
    assert Settings.from_mapping({"PREP_CACHE_TTL_S": "600"}).cache_ttl_s == 600
