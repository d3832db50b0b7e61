"""The status read: no checkpoint blobs, two small reads, a terminal cache that is never stale,
and ETag/304 on the API."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from httpx import Response
from sqlalchemy import event
from starlette.applications import Starlette
from starlette.testclient import TestClient

from api.routes import ROUTES
from api.status_json import job_status
from core.request import ResearchRequest
from core.status import AttemptStatus
from db import attempts, jobs, workers
from db.engine import make_engine
from tests.waiting import until
from worker import status as statuses

WAIT_S = 30.0  # bound on any wait for a job, seconds
ORDER = {"queued": 0, "processing": 1, "completed": 2, "failed": 2, "cancelled": 2}


@pytest.fixture
def client(app_env) -> Iterator[TestClient]:
    """The API's routes in a bare Starlette app, on the fakes, unchecked: a 304 has no body for the
    contract to check."""
    with TestClient(Starlette(routes=ROUTES)) as test_client:
        yield test_client


def _selects(engine) -> list[str]:
    """A live list of the SELECT statements `engine` runs from now on in this thread (the job
    threads write and read the same database meanwhile)."""
    seen: list[str] = []
    me = threading.get_ident()

    @event.listens_for(engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if threading.get_ident() == me and statement.lstrip().upper().startswith("SELECT"):
            seen.append(" ".join(statement.split()))

    return seen


def _completed(client: TestClient, job_id: str) -> Response | None:
    """The status response once the job has completed, else None."""
    response = client.get(f"/api/research-status/{job_id}")
    return response if response.json()["status"] == "completed" else None


def _request(fake_site) -> ResearchRequest:
    return ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url, role="SRE")


def test_a_status_read_selects_no_checkpoint_and_makes_two_reads_while_running(runner, fake_site):
    fake_site.fail("/", replace(fake_site.page("/"), delay_s=1.5))
    job, _ = runner.submit(_request(fake_site))
    until(lambda: job_status(runner.engine, job.id)["status"] == "processing", "the job to start", WAIT_S)
    job_status(runner.engine, job.id)  # the running median is read once, then kept
    selects = _selects(runner.engine)

    running = job_status(runner.engine, job.id)

    assert running["status"] == "processing"
    assert len(selects) == 2, selects
    assert any("FROM step_attempts" in sql for sql in selects)
    assert not any("step_attempts.output" in sql for sql in selects), selects


def test_a_completed_status_reads_the_briefing_but_no_checkpoint_then_comes_from_memory(runner, fake_site):
    job, _ = runner.submit(_request(fake_site))
    runner.wait(job.id, timeout_s=WAIT_S)
    assert attempts.checkpoints(runner.engine, job.id)  # the blobs exist in the database
    statuses.forget(job.id)
    selects = _selects(runner.engine)

    first = job_status(runner.engine, job.id)
    reads = len(selects)
    again = job_status(runner.engine, job.id)

    assert first["status"] == "completed" and first["results"]
    assert reads == 3, selects  # the job, its attempts, its briefing
    assert not any("step_attempts.output" in sql for sql in selects), selects
    assert again == first and len(selects) == reads  # served from memory


def test_the_terminal_cache_never_serves_a_stale_non_terminal_status(runner, fake_site):
    fake_site.fail("/", replace(fake_site.page("/"), delay_s=0.5))
    job, _ = runner.submit(_request(fake_site))
    seen: list[str] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            seen.append(job_status(runner.engine, job.id)["status"])

    pollers = [threading.Thread(target=poll) for _ in range(3)]
    for thread in pollers:
        thread.start()
    runner.wait(job.id, timeout_s=WAIT_S)
    time.sleep(0.2)
    done.set()
    for thread in pollers:
        thread.join()
    cached = job_status(runner.engine, job.id)
    statuses.forget(job.id)
    fresh = job_status(runner.engine, job.id)

    assert "processing" in seen and seen[-1] == "completed"
    last_running = max(i for i, status in enumerate(seen) if status != "completed")
    assert set(seen[last_running + 1 :]) == {"completed"}
    assert cached == fresh


def test_a_status_read_while_queued_is_never_kept_after_the_job_ends(db_url):
    engine = make_engine(db_url)
    job, _ = jobs.create_job(engine, ResearchRequest(company_name="Initech"), owner="w1")
    assert job_status(engine, job.id)["status"] == "queued"

    jobs.request_cancel(engine, job.id)

    assert job_status(engine, job.id)["status"] == "cancelled"
    engine.dispose()


def test_a_terminal_job_with_a_step_still_running_is_not_cached_until_the_step_ends(db_url):
    engine = make_engine(db_url)
    owner = workers.register(engine)
    job, _ = jobs.create_job(engine, ResearchRequest(company_name="Initech"), owner=owner)
    [fence] = jobs.lease_next(engine, owner, 1, reserved_only=True)
    row = attempts.start(engine, fence, "search-github")
    jobs.fail(engine, fence, "timeout", "Too slow.")  # the reaper, while the step still runs

    failed = job_status(engine, job.id)
    assert failed["status"] == "failed" and statuses.cached_report(engine, job.id) is None
    attempts.finish(engine, fence, row, AttemptStatus.FAILED, error_kind="timeout", error_message="Late.")
    final = job_status(engine, job.id)

    assert statuses.cached_report(engine, job.id) is not None
    github = next(step for step in final["steps"] if step["id"] == "search-github")
    assert github["status"] == "failed" and github["error"] == "Late."
    engine.dispose()


def test_the_status_carries_an_etag_and_answers_304_when_it_is_sent_back(client, fake_site):
    body = {"companyName": "Acme Robotics", "companyUrl": fake_site.url}
    job_id = client.post("/api/research-direct", json=body).json()["jobId"]
    first = until(lambda: _completed(client, job_id), "the job to complete", WAIT_S)
    etag = first.headers["etag"]

    unchanged = client.get(f"/api/research-status/{job_id}", headers={"If-None-Match": etag})
    weak = client.get(f"/api/research-status/{job_id}", headers={"If-None-Match": f'"other", W/{etag}'})
    other = client.get(f"/api/research-status/{job_id}", headers={"If-None-Match": '"not-it"'})

    assert etag.startswith('"') and etag.endswith('"')
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == etag
    assert weak.status_code == 304
    assert other.status_code == 200 and other.json() == first.json() and other.headers["etag"] == etag


def test_a_running_job_gets_a_new_etag_when_its_status_changes(client, fake_site):
    fake_site.fail("/", replace(fake_site.page("/"), delay_s=1.0))
    job_id = client.post("/api/research-direct", json={"companyName": "Acme", "companyUrl": fake_site.url}).json()[
        "jobId"
    ]
    early = client.get(f"/api/research-status/{job_id}")
    late = until(lambda: _completed(client, job_id), "the job to complete", WAIT_S)

    stale = client.get(f"/api/research-status/{job_id}", headers={"If-None-Match": early.headers["etag"]})

    assert early.json()["status"] in {"queued", "processing"}
    assert stale.status_code == 200 and stale.json() == late.json()


def test_a_cached_status_lives_a_bounded_time_and_the_cache_a_bounded_size(runner, fake_site):
    """So a job deleted through another process stops answering from this one's memory."""
    first, _ = runner.submit(_request(fake_site))
    second, _ = runner.submit(ResearchRequest(company_name="Globex", company_url=fake_site.url))
    for job in (first, second):
        runner.wait(job.id, timeout_s=WAIT_S)
    reports = [statuses.report(runner.engine, job.id) for job in (first, second)]
    cache = statuses._TerminalCache(1, ttl_s=0.2)

    cache.put(runner.engine, reports[0])
    assert cache.get(runner.engine, first.id) is reports[0]
    time.sleep(0.3)
    assert cache.get(runner.engine, first.id) is None  # too old: read again
    cache.put(runner.engine, reports[0])
    cache.put(runner.engine, reports[1])
    assert cache.get(runner.engine, first.id) is None and cache.get(runner.engine, second.id) is reports[1]
