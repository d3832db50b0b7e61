"""Delete, cancel and retry of one job sent at the same instant, through the API, on both databases:
no 500, a cancel of a job deleted meanwhile is a 404, and a retry and a delete never both succeed."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import update
from sqlmodel import select

from core.request import ResearchRequest
from db import jobs, workers
from db.engine import reading, writing
from db.models import Job
from worker.runner import get_runner

RUNS = 25  # the races were lost in 12 to 15 runs of 25 before the fix


@pytest.fixture
def db_url(any_db_url) -> str:
    """Who wins is a matter of each database's locks, so both run it."""
    return any_db_url


def _queued_job(engine, fake_site, run: int) -> str:
    """A queued job no live worker will run, created long ago (past the double-submit window,
    so a retry is a new job that names it rather than its twin)."""
    owner = workers.register(engine)
    request = ResearchRequest(company_name=f"Acme {run}", company_url=fake_site.url)
    job, _ = jobs.create_job(engine, request, owner=owner)
    with writing(engine) as session:
        session.execute(update(Job).where(Job.id == job.id).values(created_at=job.created_at.replace(year=2000)))
    return job.id


def _send(client, barrier: threading.Barrier, method: str, path: str) -> int:
    barrier.wait()  # the three requests leave together
    return client.request(method, path).status_code


def test_delete_cancel_and_retry_racing_each_other(client, fake_site):
    client.get("/api/health")  # the runner starts before the race
    engine = get_runner().engine
    outcomes: list[dict[str, int]] = []
    for run in range(RUNS):
        job_id = _queued_job(engine, fake_site, run)
        barrier = threading.Barrier(3)
        with ThreadPoolExecutor(3) as pool:
            cancel = pool.submit(_send, client, barrier, "POST", f"/api/research/{job_id}/cancel")
            delete = pool.submit(_send, client, barrier, "DELETE", f"/api/jobs/{job_id}")
            retry = pool.submit(_send, client, barrier, "POST", f"/api/research/{job_id}/retry")
        codes = {"cancel": cancel.result(), "delete": delete.result(), "retry": retry.result()}
        outcomes.append(codes)
        with reading(engine) as session:
            still_there = session.get(Job, job_id) is not None
            retries = session.exec(select(Job.id).where(Job.retry_of == job_id)).all()

        assert codes["cancel"] in (202, 404, 409), codes
        assert codes["delete"] in (200, 409), codes
        assert codes["retry"] in (202, 404), codes
        assert not (codes["delete"] == 200 and codes["retry"] == 202), codes
        assert still_there == (codes["delete"] == 409), codes
        assert len(retries) == (codes["retry"] == 202), codes  # no retry names a deleted job
    # Both orders of the retry and the delete happened, or the race was not run.
    assert {o["delete"] for o in outcomes} == {200, 409}, outcomes
