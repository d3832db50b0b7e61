"""The worker end to end: real runner, real database, loopback fakes for the outside world."""

from __future__ import annotations

import gc
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import event

from api.status_json import job_status
from core.request import ResearchRequest
from core.status import AttemptStatus, JobStatus
from db import attempts, jobs, workers
from db.engine import make_engine, writing
from db.models import Job, StepAttempt, Worker, utcnow
from db.store import get_briefing, store_research
from harness.fakes.github_api import ACME_REPOS
from harness.fakes.server import Reply
from pipeline.models import Page, ScrapedSite
from tests.waiting import until

WAIT_S = 30


@pytest.fixture
def db_url(any_db_url) -> str:
    """Every engine test runs on the embedded SQLite default and on a real PostgreSQL."""
    return any_db_url


def _request(fake_site, **fields) -> ResearchRequest:
    return ResearchRequest(
        **{"company_name": "Acme Robotics", "company_url": fake_site.url, "role": "Backend Engineer", **fields}
    )


def _run(runner, request) -> dict:
    job, _ = runner.submit(request)
    runner.wait(job.id, timeout_s=WAIT_S)
    return job_status(runner.engine, job.id)


def _slow_page(delay_s: float) -> Reply:
    return Reply(200, b"<title>Acme</title><h1>Slow</h1>", {"Content-Type": "text/html"}, delay_s=delay_s)


def _step(status: dict, step_id: str) -> dict:
    return next(step for step in status["steps"] if step["id"] == step_id)


def test_happy_path_with_claude(runner, fake_site, fake_github, fake_anthropic):
    status = _run(runner, _request(fake_site))

    assert status["status"] == "completed", status["message"]
    assert status["progress"] == "6/6"
    results = status["briefing"]
    assert results["analysisMode"] == "claude"
    assert results["companyName"] == "Acme Robotics"
    assert len(results["interviewQuestions"]) >= 5
    urls = [source["url"] for source in results["sources"]]
    assert fake_site.url + "/" in urls or fake_site.url in urls
    assert any((url or "").startswith("https://github.com/acme-robotics/") for url in urls)
    assert results["grounded"] is True
    assert results["verification"]["verified"] >= 1 and results["techStack"][0]["citations"]
    assert [s["status"] for s in status["steps"]] == ["succeeded"] * 6
    assert all(s["attempts"] == 1 for s in status["steps"])
    assert len(fake_anthropic.calls) == 2  # the facts and the coaching, at once
    assert all("Backend Engineer" in call.user_text for call in fake_anthropic.calls)
    call = attempts.for_job(runner.engine, status["jobId"])
    analyze = next(row for row in call if row.step == "analyze-with-claude")
    assert analyze.meta["llmCall"]["inputTokens"] > 0 and analyze.meta["llmCall"]["model"]


def test_without_api_key_the_offline_analyzer_completes_the_job(make_runner, fake_site, fake_anthropic):
    runner = make_runner(ANTHROPIC_API_KEY="")
    status = _run(runner, _request(fake_site))

    assert status["status"] == "completed"
    assert status["briefing"]["analysisMode"] == "offline"
    assert status["briefing"]["salary"] is None and status["briefing"]["salarySource"] is None
    assert "offline" in status["message"]
    assert fake_anthropic.calls == []


def test_deep_mode_reads_linked_pages(runner, fake_site):
    status = _run(runner, _request(fake_site, deep_mode=True))

    assert status["status"] == "completed", status["message"]
    sources = [source["url"] or "" for source in status["briefing"]["sources"]]
    assert any(source.endswith("/about") for source in sources)
    assert any(source.endswith("/careers") for source in sources)
    assert fake_site.hits("/about") == 1


def test_a_step_that_succeeds_on_its_third_attempt(runner, fake_site):
    busy = Reply(503, b"busy", {"Retry-After": "0"})
    fake_site.fail("/", busy, busy)

    status = _run(runner, _request(fake_site))

    assert status["status"] == "completed", status["message"]
    scrape = _step(status, "scrape-website")
    assert scrape["attempts"] == 3 and scrape["status"] == "succeeded"
    rows = [r for r in attempts.for_job(runner.engine, status["jobId"]) if r.step == "scrape-website"]
    assert [r.status for r in rows] == [AttemptStatus.FAILED, AttemptStatus.FAILED, AttemptStatus.SUCCEEDED]
    assert [r.attempt for r in rows] == [1, 2, 3]
    assert rows[0].error_kind == "unavailable"


def test_site_down_for_every_attempt_fails_the_job_with_a_reason(runner, fake_site):
    busy = Reply(503, b"busy", {"Retry-After": "0"})
    fake_site.fail("/", busy, busy, busy)

    status = _run(runner, _request(fake_site))

    assert status["status"] == "failed" and status["isFailed"]
    assert fake_site.url in status["message"]
    assert _step(status, "scrape-website")["attempts"] == 3
    assert _step(status, "analyze-with-claude")["status"] == "pending"


def test_github_down_the_job_still_completes(runner, fake_site, fake_github):
    down = Reply(500, b"down", {"Retry-After": "0"})
    for path in ("/orgs/acme-robotics", "/orgs/acmerobotics", "/orgs/acme", "/search/users"):
        fake_github.fail(path, *[down] * 5)

    status = _run(runner, _request(fake_site))

    assert status["status"] == "completed", status["message"]
    assert _step(status, "search-github")["status"] == "failed"
    assert "GitHub could not be read" in status["message"]
    assert not any("github.com" in (source["url"] or "") for source in status["briefing"]["sources"])


def test_claude_down_gives_the_offline_briefing(runner, fake_site, fake_anthropic):
    fake_anthropic.enqueue(*[fake_anthropic.overloaded()] * 4)  # both parts, both attempts

    status = _run(runner, _request(fake_site))

    assert status["status"] == "completed"
    assert status["briefing"]["analysisMode"] == "offline"
    analyze = _step(status, "analyze-with-claude")
    assert analyze["attempts"] == 3  # two Claude attempts, then the offline analyzer
    assert "offline" in status["message"] and "Claude failed" in status["message"]


def test_step_timeout_fails_the_job_clearly(make_runner, fake_site):
    runner = make_runner(PREP_STEP_TIMEOUTS="scrape-website=1")
    fake_site.fail("/", _slow_page(3))

    status = _run(runner, _request(fake_site))

    assert status["status"] == "failed"
    assert status["message"].startswith("We could not read the company website") and fake_site.url in status["message"]
    assert _step(status, "scrape-website")["status"] == "failed"


def test_job_deadline_bounds_every_step(make_runner, fake_site, fake_anthropic):
    runner = make_runner(PREP_JOB_DEADLINE_S="5")
    slow = Reply(200, b"{}", {"Content-Type": "application/json"}, delay_s=6)
    fake_anthropic.enqueue(slow, slow)

    job, _ = runner.submit(_request(fake_site))
    runner.wait(job.id, timeout_s=WAIT_S)
    status = job_status(runner.engine, job.id)

    # Claude must be done 3 s before the deadline, so the offline analyzer and the store still fit.
    assert status["status"] == "completed" and status["briefing"]["analysisMode"] == "offline"
    finished = jobs.get_job(runner.engine, job.id)
    assert (finished.finished_at - finished.started_at).total_seconds() < 5
    analyze = [r for r in attempts.for_job(runner.engine, job.id) if r.step == "analyze-with-claude"]
    assert [r.error_kind for r in analyze] == ["timeout", None]  # the slow reply was abandoned at the deadline
    assert "time ran out" in analyze[0].error_message


def test_double_submit_returns_the_same_job(runner, fake_site):
    first, created_first = runner.submit(_request(fake_site))
    second, created_second = runner.submit(_request(fake_site))

    assert created_first and not created_second
    assert second.id == first.id
    third, created_third = runner.submit(_request(fake_site, role="Data Engineer"))
    assert created_third and third.id != first.id


def test_concurrent_double_submits_make_one_job(runner, fake_site):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: runner.submit(_request(fake_site)), range(8)))

    assert len({job.id for job, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    runner.wait(results[0][0].id, timeout_s=WAIT_S)


def test_no_deadlock_with_one_worker_and_twenty_jobs(make_runner, fake_site):
    runner = make_runner(PREP_WORKERS="1")
    submitted = [runner.submit(_request(fake_site, role=f"Engineer {n}"))[0] for n in range(20)]

    for job in submitted:
        runner.wait(job.id, timeout_s=WAIT_S)

    statuses = [jobs.get_job(runner.engine, job.id).status for job in submitted]
    assert statuses == [JobStatus.COMPLETED] * 20


def test_cancel_a_queued_job_never_starts_it(make_runner, fake_site):
    runner = make_runner(PREP_WORKERS="1")
    fake_site.fail("/", _slow_page(1))
    blocker, _ = runner.submit(_request(fake_site, role="First"))
    queued, _ = runner.submit(_request(fake_site, role="Second"))

    cancelled = runner.cancel(queued.id)
    runner.wait(blocker.id, timeout_s=WAIT_S)
    runner.wait(queued.id, timeout_s=WAIT_S)

    assert cancelled.status == JobStatus.CANCELLED
    assert jobs.get_job(runner.engine, queued.id).status == JobStatus.CANCELLED
    assert attempts.for_job(runner.engine, queued.id) == []


def test_cancel_a_running_job_stops_at_the_next_step(runner, fake_site, fake_anthropic):
    fake_site.fail("/", _slow_page(1.5))
    job, _ = runner.submit(_request(fake_site))
    until(lambda: _scrape_running(runner.engine, job.id), "the scrape to start", WAIT_S)

    runner.cancel(job.id)
    runner.wait(job.id, timeout_s=WAIT_S)

    status = job_status(runner.engine, job.id)
    assert status["status"] == "cancelled"
    assert _step(status, "analyze-with-claude")["status"] == "pending"
    assert fake_anthropic.calls == []


def test_retry_makes_a_new_job_with_the_same_inputs(runner, fake_site):
    busy = Reply(503, b"busy", {"Retry-After": "0"})
    fake_site.fail("/", busy, busy, busy)
    first = _run(runner, _request(fake_site))
    assert first["status"] == "failed"

    again = runner.retry(first["jobId"])
    assert runner.retry(first["jobId"]).id == again.id  # a double click on Retry makes one job
    runner.wait(again.id, timeout_s=WAIT_S)

    status = job_status(runner.engine, again.id)
    assert status["status"] == "completed"
    assert status["retryOf"] == first["jobId"]
    assert (status["companyName"], status["role"], status["companyUrl"]) == (
        first["companyName"],
        first["role"],
        first["companyUrl"],
    )


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _processing_job(fake_site, *, owner: str) -> Job:
    """A job row as a first lease leaves it: processing under `owner`, started now."""
    return Job(
        company_name="Acme Robotics",
        company_url=fake_site.url,
        role="Backend Engineer",
        status=JobStatus.PROCESSING,
        owner=owner,
        leases=1,
        dedupe_key=f"leased by {owner}",
        started_at=utcnow(),
    )


def test_restart_resumes_after_the_last_completed_step(make_runner, app_env, fake_site, fake_anthropic):
    """Rows left by a process that died mid-analysis: the next runner finishes without re-scraping."""
    engine = make_engine(app_env["DATABASE_URL"])
    dead = Worker(hostname=workers.host_identity(), pid=_dead_pid())
    site = ScrapedSite(
        url=fake_site.url,
        title="Acme Robotics",
        meta_description="Robots for warehouses",
        content="We build robots.",
        pages=[Page(url=fake_site.url, title="Acme Robotics", content="We build robots.")],
    )
    job = _processing_job(fake_site, owner=dead.id)
    with writing(engine) as session:
        session.add(dead)
        session.add(job)
        session.flush()
        session.add(
            StepAttempt(
                job_id=job.id,
                step="scrape-website",
                attempt=1,
                status=AttemptStatus.SUCCEEDED,
                finished_at=utcnow(),
                duration_ms=100,
                output=site.to_json_dict(),
            )
        )
        session.add(StepAttempt(job_id=job.id, step="analyze-with-claude", attempt=1, status=AttemptStatus.RUNNING))

    runner = make_runner()
    taken = runner.recover()
    runner.wait(job.id, timeout_s=WAIT_S)

    assert taken == [job.id]
    status = job_status(runner.engine, job.id)
    assert status["status"] == "completed", status["message"]
    assert fake_site.hits("/") == 0  # the finished scrape was not fetched again
    rows = [r for r in attempts.for_job(runner.engine, job.id) if r.step == "analyze-with-claude"]
    assert [r.status for r in rows] == [AttemptStatus.FAILED, AttemptStatus.SUCCEEDED]
    assert rows[0].error_kind == "interrupted"
    assert get_briefing(runner.engine, job.id)["sources"][0]["url"].startswith(fake_site.url)
    assert jobs.get_job(runner.engine, job.id).leases == 2


def test_a_job_this_worker_leased_but_never_ran_is_queued_again_by_its_heartbeat(make_runner, fake_site, caplog):
    """A lease whose answer was lost: the row is processing under a live worker and no thread runs it,
    so neither the pull (it takes queued jobs) nor a takeover (it takes dead workers' jobs) would."""
    runner = make_runner(PREP_WORKERS="1", PREP_LEASE_S="3")  # a heartbeat every second
    lost = _processing_job(fake_site, owner=runner.worker_id)
    with writing(runner.engine) as session:
        session.add(lost)

    runner.wait(lost.id, timeout_s=WAIT_S)

    job = jobs.get_job(runner.engine, lost.id)
    assert (job.status, job.leases) == (JobStatus.COMPLETED, 2)  # queued again, then leased and run
    assert "held but did not run" in caplog.text


def test_a_live_workers_jobs_are_not_taken_over(make_runner, fake_site):
    first = make_runner(PREP_WORKERS="1")
    fake_site.fail("/", _slow_page(1))
    job, _ = first.submit(_request(fake_site))
    until(lambda: _scrape_running(first.engine, job.id), "the scrape to start", WAIT_S)

    second = make_runner()
    assert second.recover() == []
    assert job.id not in [o.job_id for o in workers.orphaned_jobs(first.engine, lease_s=30, me=second.worker_id)]
    first.wait(job.id, timeout_s=WAIT_S)
    assert jobs.get_job(first.engine, job.id).owner == first.worker_id


def test_jobs_queued_without_an_owner_are_pulled(runner, fake_site):
    job, _ = jobs.create_job(runner.engine, _request(fake_site), owner=None)  # as the CLI queues them

    runner.wait(job.id, timeout_s=WAIT_S)
    assert jobs.get_job(runner.engine, job.id).status == JobStatus.COMPLETED


def test_concurrent_stores_of_one_new_company_all_succeed(db_url):
    """Two jobs finishing the same new company at once must both store (no unique-key failure)."""
    engine = make_engine(db_url)
    briefing = {"analysisMode": "offline", "model": None, "companyName": "Newco"}
    for n in range(12):
        jobs.create_job(engine, ResearchRequest(company_name="Newco", role=f"Role {n}"), owner=None)
    fences = jobs.lease_next(engine, "w1", 12)
    rows = [attempts.start(engine, fence, "store-research") for fence in fences]

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(
            pool.map(
                lambda pair: store_research(engine, pair[0], pair[1], "Newco", None, briefing),
                zip(fences, rows, strict=True),
            )
        )

    assert len({result.company_id for result in results}) == 1
    assert all(result.success for result in results)
    engine.dispose()


def _scrape_running(engine, job_id: str) -> bool:
    return any(
        r.step == "scrape-website" and r.status == AttemptStatus.RUNNING for r in attempts.for_job(engine, job_id)
    )


def test_a_worker_taken_for_dead_stops_at_its_next_step(make_runner, fake_site, fake_anthropic):
    """A late heartbeat lets a peer take the job over; the first worker must not run it twice."""
    first = make_runner()
    fake_site.fail("/", _slow_page(1.5))
    job, _ = first.submit(_request(fake_site))
    until(lambda: _scrape_running(first.engine, job.id), "the scrape to start", WAIT_S)
    with writing(first.engine) as session:
        session.get(Worker, first.worker_id).heartbeat_at = utcnow() - timedelta(hours=1)

    second = make_runner()
    assert second.recover() == [job.id]
    first.wait(job.id, timeout_s=WAIT_S)
    second.wait(job.id, timeout_s=WAIT_S)

    assert jobs.get_job(second.engine, job.id).status == JobStatus.COMPLETED
    assert len(fake_anthropic.calls) == 2  # only the new owner analysed (its two parts)
    analyses = [r for r in attempts.for_job(second.engine, job.id) if r.step == "analyze-with-claude"]
    assert len(analyses) == 1


def test_shutdown_hands_running_and_queued_jobs_to_the_next_worker(make_runner, fake_site):
    first = make_runner(PREP_WORKERS="1")
    fake_site.fail("/", _slow_page(1.0))
    running, _ = first.submit(_request(fake_site, role="Running"))
    waiting, _ = first.submit(_request(fake_site, role="Waiting"))
    until(lambda: _scrape_running(first.engine, running.id), "the scrape to start", WAIT_S)

    first.shutdown()

    for job in (running, waiting):
        row = jobs.get_job(first.engine, job.id)
        assert (row.status, row.owner) == (JobStatus.QUEUED, None)
    assert fake_site.hits("/") == 1
    second = make_runner()  # pulls both from the queue
    for job in (running, waiting):
        second.wait(job.id, timeout_s=WAIT_S)
        assert jobs.get_job(second.engine, job.id).status == JobStatus.COMPLETED
    assert fake_site.hits("/") == 2  # the running job resumed after its finished scrape; the other read once


def test_shutdown_while_claude_writes_queues_the_job_and_logs_no_crash(make_runner, fake_site, fake_anthropic, caplog):
    fake_anthropic.tokens_per_s = 40.0  # a real model's pace: the briefing takes tens of seconds to write
    first = make_runner(PREP_WORKERS="1")
    job, _ = first.submit(_request(fake_site))

    def writing() -> bool:
        return any(
            r.step == "analyze-with-claude" and r.status == AttemptStatus.RUNNING and r.meta
            for r in attempts.for_job(first.engine, job.id)
        )

    until(writing, "Claude's first progress note", WAIT_S)
    first.shutdown()

    row = jobs.get_job(first.engine, job.id)
    assert (row.status, row.owner) == (JobStatus.QUEUED, None)
    [analysis] = [r for r in attempts.for_job(first.engine, job.id) if r.step == "analyze-with-claude"]
    assert (analysis.status, analysis.error_kind) == (AttemptStatus.FAILED, "interrupted")
    assert "crashed" not in caplog.text


def test_while_claude_sends_nothing_the_progress_note_is_not_written_again(make_runner, fake_site, fake_anthropic):
    fake_anthropic.ttft_s = 3.0  # a model that takes seconds to its first token
    runner = make_runner(PREP_WORKERS="1")
    notes: list[float] = []

    @event.listens_for(runner.engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("UPDATE STEP_ATTEMPTS SET META"):
            notes.append(time.monotonic())

    job, _ = runner.submit(_request(fake_site))
    runner.wait(job.id, timeout_s=WAIT_S)

    assert jobs.get_job(runner.engine, job.id).status == JobStatus.COMPLETED
    # One note as the attempt starts, then only as the reply arrives: none in the silent seconds.
    silent = [t for t in notes if notes[0] < t < notes[0] + 2.5]
    assert notes and silent == []


def _live_futures() -> int:
    gc.collect()
    return sum(isinstance(thing, Future) for thing in gc.get_objects())


def test_queued_jobs_wait_in_the_database_not_in_memory(make_runner, fake_site):
    # What keeps the server's memory flat as jobs pile up: before the pull queue, every queued job
    # held a Future (with its lock and condition) in the pool's work queue until a thread ran it,
    # and a burst of 9 000 submits left ~36 MB of the heap behind (bench/memory_jobs.py).
    runner = make_runner(PREP_WORKERS="2")
    fake_site.fail("/", _slow_page(3.0), _slow_page(3.0))  # both threads stay busy meanwhile
    running = [runner.submit(_request(fake_site, role=f"Running {n}"))[0] for n in range(2)]
    until(
        lambda: (
            [jobs.get_job(runner.engine, j.id).status for j in running] == [JobStatus.PROCESSING] * 2
            and fake_site.hits("/") >= 1
        ),
        "both running jobs in their scrape (one shared read)",
        timeout_s=10,
    )
    before = _live_futures()  # what the two running jobs hold (their steps' own pools included)
    burst = [runner.submit(_request(fake_site, role=f"Burst {n}"))[0] for n in range(40)]

    held = _live_futures() - before

    assert jobs.get_job(runner.engine, burst[-1].id).status == JobStatus.QUEUED  # a backlog exists
    assert all(jobs.get_job(runner.engine, job.id).status == JobStatus.PROCESSING for job in running)
    assert held <= 2  # the 40 queued jobs hold nothing, however long the queue


def test_a_job_leased_here_that_the_pool_does_not_run_is_queued_again_and_runs(make_runner, fake_site):
    """A lease whose answer was lost: the row says processing under this live worker (so no peer
    takes it over), yet no thread of its pool runs it. The tick hands it back to the queue."""
    runner = make_runner(PREP_LEASE_S="0.9")  # a tick every 0.3 s
    request = _request(fake_site)
    lost = Job(
        company_name=request.company_name,
        company_url=request.company_url,
        status=JobStatus.PROCESSING,
        owner=runner.worker_id,
        leases=1,
        dedupe_key=jobs.dedupe_key(request),
        started_at=utcnow(),
    )
    with writing(runner.engine) as session:
        session.add(lost)

    until(lambda: jobs.get_job(runner.engine, lost.id).status == JobStatus.COMPLETED, "the job to complete", WAIT_S)
    assert jobs.get_job(runner.engine, lost.id).leases == 2  # queued again, then leased again


def test_an_unreadable_homepage_from_github_falls_back_and_skips(runner, fake_github, fake_sources):
    fake_sources.wikidata.websites.clear()  # Wikipedia knows no website: GitHub's homepage is the lead
    fake_github.add_org("acme-robotics", "Acme Robotics", blog="http://127.0.0.1:1/", repos=ACME_REPOS)

    status = _run(runner, ResearchRequest(company_name="Acme Robotics"))

    assert status["status"] == "completed", status["message"]
    scrape = next(r for r in attempts.for_job(runner.engine, status["jobId"]) if r.step == "scrape-website")
    assert scrape.status == AttemptStatus.SKIPPED
    assert "The site GitHub lists (http://127.0.0.1:1/) could not be read" in scrape.error_message
    assert _step(status, "search-github")["status"] == "succeeded"


def test_a_name_no_source_has_a_website_for_reads_no_site_and_asks_for_it(runner, fake_github, fake_sources):
    fake_sources.wikidata.websites.clear()  # neither Wikipedia nor GitHub knows a website
    fake_github.add_org("acme-robotics", "Acme Robotics", blog="", repos=ACME_REPOS)

    status = _run(runner, ResearchRequest(company_name="Acme Robotics"))

    assert status["status"] == "completed", status["message"]
    reason = (
        "No website was given and none was found for “Acme Robotics” on Wikipedia or GitHub; "
        "give the company's website to read its site."
    )
    scrape = next(r for r in attempts.for_job(runner.engine, status["jobId"]) if r.step == "scrape-website")
    assert (scrape.status, scrape.error_message) == (AttemptStatus.SKIPPED, reason)  # the job page's step note
    assert reason in status["briefing"]["unread"]  # the Sources section names it with what could not be read
    assert not any(s["kind"] == "page" for s in status["briefing"]["sources"])


def test_a_worker_in_another_pid_namespace_is_judged_by_its_heartbeat(runner):
    """Same host name, other PID namespace (a container): its pid means nothing here."""
    assert workers.host_identity() == f"{socket.gethostname()}/pidns:{os.stat('/proc/self/ns/pid').st_ino}"
    other = Worker(hostname=f"{socket.gethostname()}/pidns:1", pid=_dead_pid())
    job = Job(company_name="Elsewhere", status=JobStatus.PROCESSING, owner=other.id, dedupe_key="e", leases=1)
    with writing(runner.engine) as session:
        session.add(other)
        session.add(job)

    assert runner.recover() == []
    assert jobs.get_job(runner.engine, job.id).owner == other.id
