"""Batches: the original batch_jobs meaning, with counts derived from the jobs themselves."""

from __future__ import annotations

from core.request import ResearchRequest
from core.status import JobStatus
from db import attempts, jobs
from db.batches import create_batch, summary
from db.engine import make_engine
from db.store import store_research


def test_batch_counts_and_status_follow_its_jobs(db_url):
    engine = make_engine(db_url)
    requests = [ResearchRequest(company_name=name) for name in ("Alpha", "Beta", "Alpha")]
    batch, members = create_batch(engine, requests, owner="w1")

    assert len({job.id for job in members}) == 3  # the same company twice in a batch is two jobs
    start = summary(engine, batch.id)
    assert ([job.id for job in start.members], start.status) == ([job.id for job in members], JobStatus.QUEUED)

    [first] = jobs.lease_next(engine, "w1", 1)
    assert first.job_id == members[0].id
    row = attempts.start(engine, first, "store-research")
    store_research(engine, first, row, "Alpha", None, {"analysisMode": "offline", "model": None})
    assert summary(engine, batch.id).status == JobStatus.PROCESSING

    [second] = jobs.lease_next(engine, "w1", 1)
    assert jobs.fail(engine, second, "test", "It failed.")
    jobs.request_cancel(engine, members[2].id)
    done = summary(engine, batch.id)
    assert done.status == JobStatus.COMPLETED
    assert [job.status for job in done.members] == [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED]
    assert done.updated_at >= done.batch.created_at


def test_unknown_batch(db_url):
    assert summary(make_engine(db_url), "nope") is None
