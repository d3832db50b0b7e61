"""The shared queue on both engines: fencing by lease number, cancel against takeover, worker rows
that vanish, the database's clock and retention."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.request import ResearchRequest
from core.status import AttemptStatus, JobStatus
from db import attempts, jobs, workers
from db.attempts import NotOwner
from db.clock import db_now
from db.engine import make_engine, reading, writing
from db.jobs import Fence
from db.models import BriefingRecord, Job, StepAttempt, Worker, utcnow
from db.store import get_briefing, store_research
from harness.fakes.server import Reply
from tests.waiting import until

WAIT_S = 30
BRIEFING = {"analysisMode": "offline", "model": None, "companyName": "Acme"}


@pytest.fixture
def db_url(any_db_url) -> str:
    """Each test runs on SQLite and on a real PostgreSQL."""
    return any_db_url


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _queue(engine, n: int = 1) -> list[str]:
    return [
        jobs.create_job(engine, ResearchRequest(company_name="Acme", role=f"Role {i}"), owner=None)[0].id
        for i in range(n)
    ]


def test_an_old_owners_late_writes_change_nothing(engine, caplog):
    [job_id] = _queue(engine)
    [old] = jobs.lease_next(engine, "old", 1)
    row = attempts.start(engine, old, "analyze-with-claude")
    assert jobs.take_over(engine, job_id, "old", old.lease)  # "old" was taken for dead
    [new] = jobs.lease_next(engine, "new", 1)
    assert (new.job_id, new.lease) == (job_id, old.lease + 1)

    assert not attempts.finish(engine, old, row, AttemptStatus.SUCCEEDED, output={"late": True})
    with pytest.raises(NotOwner):
        attempts.start(engine, old, "store-research")
    assert not jobs.fail(engine, old, "internal", "late")
    assert not jobs.release(engine, old)
    new_row = attempts.start(engine, new, "store-research")
    stale = Fence(job_id, "new", old.lease)  # the right owner with an old lease number is stale too
    with pytest.raises(NotOwner):
        store_research(engine, stale, new_row, "Acme", None, BRIEFING)

    [interrupted, _] = attempts.for_job(engine, job_id)
    assert (interrupted.status, interrupted.error_kind, interrupted.output) == (
        AttemptStatus.FAILED,
        "interrupted",
        None,
    )
    assert get_briefing(engine, job_id) is None
    job = jobs.get_job(engine, job_id)
    assert (job.status, job.owner) == (JobStatus.PROCESSING, "new")
    assert "late write" in caplog.text

    store_research(engine, new, new_row, "Acme", None, BRIEFING)
    assert jobs.get_job(engine, job_id).status == JobStatus.COMPLETED
    assert [r.status for r in attempts.for_job(engine, job_id)][-1] == AttemptStatus.SUCCEEDED


def test_pulling_workers_never_lease_the_same_job(engine):
    ids = _queue(engine, 30)
    leased: list[Fence] = []
    barrier = threading.Barrier(6)

    def pull(worker: str) -> None:
        barrier.wait()
        while batch := jobs.lease_next(engine, worker, 2):
            leased.extend(batch)

    threads = [threading.Thread(target=pull, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(f.job_id for f in leased) == sorted(ids)
    assert {f.lease for f in leased} == {1}


def test_a_cancel_racing_a_takeover_is_never_lost(engine):
    ids = _queue(engine, 12)
    fences = jobs.lease_next(engine, "dead", 12)
    barrier = threading.Barrier(2)

    def race(fence: Fence, cancel_first: bool) -> None:
        def cancel() -> None:
            barrier.wait()
            jobs.request_cancel(engine, fence.job_id)

        def take_over() -> None:
            barrier.wait()
            jobs.take_over(engine, fence.job_id, "dead", fence.lease)

        first, second = (cancel, take_over) if cancel_first else (take_over, cancel)
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        barrier.reset()

    for n, fence in enumerate(fences):
        race(fence, cancel_first=n % 2 == 0)
    jobs.lease_next(engine, "new", 12)  # nothing left to run: every job was cancelled

    for job_id in ids:
        job = jobs.get_job(engine, job_id)
        assert (job.status, job.cancel_requested) == (JobStatus.CANCELLED, True), job_id


def test_a_job_taken_over_after_a_cancel_is_cancelled_not_run(engine):
    [job_id] = _queue(engine)
    [fence] = jobs.lease_next(engine, "dead", 1)

    assert jobs.request_cancel(engine, job_id).status == JobStatus.PROCESSING  # flagged: stops at its next step
    assert jobs.take_over(engine, job_id, "dead", fence.lease)

    assert jobs.get_job(engine, job_id).status == JobStatus.CANCELLED
    assert jobs.lease_next(engine, "new", 1) == []


def test_heartbeats_and_leases_use_the_databases_clock(engine):
    with reading(engine) as session:
        before = session.execute(select(db_now())).scalar_one()
    worker_id = workers.register(engine)
    [job_id] = _queue(engine)
    jobs.lease_next(engine, worker_id, 1)
    workers.heartbeat(engine, worker_id)
    with reading(engine) as session:
        after = session.execute(select(db_now())).scalar_one()
        worker = session.get(Worker, worker_id)
        job = session.get(Job, job_id)

    assert before <= worker.started_at <= worker.heartbeat_at <= after
    assert before <= job.created_at <= job.started_at <= after


def test_a_worker_whose_row_was_deleted_registers_again_and_keeps_its_jobs(make_runner, db_url, fake_site):
    a = make_runner(DATABASE_URL=db_url, PREP_LEASE_S="0.9")  # a heartbeat every 0.3 s
    fake_site.fail("/", Reply(200, b"<title>Acme</title>", {"Content-Type": "text/html"}, delay_s=2))
    job, _ = a.submit(ResearchRequest(company_name="Acme", company_url=fake_site.url))
    until(lambda: jobs.get_job(a.engine, job.id).status == JobStatus.PROCESSING, "the job to start", WAIT_S)
    with writing(a.engine) as session:
        session.delete(session.get(Worker, a.worker_id))
    b = make_runner(DATABASE_URL=db_url, PREP_LEASE_S="0.9")

    assert b.recover() == []  # the job moved moments ago: not an orphan
    until(lambda: _worker(a.engine, a.worker_id), "the worker to register again", WAIT_S)
    a.wait(job.id, timeout_s=WAIT_S)

    done = jobs.get_job(a.engine, job.id)
    assert (done.status, done.owner, done.leases) == (JobStatus.COMPLETED, a.worker_id, 1)


def test_a_worker_never_takes_over_its_own_jobs(make_runner, db_url, fake_site):
    """The pruned-worker churn: a worker whose row is gone must not requeue the jobs it runs."""
    a = make_runner(DATABASE_URL=db_url)
    fake_site.fail("/", Reply(200, b"<title>Acme</title>", {"Content-Type": "text/html"}, delay_s=1))
    job, _ = a.submit(ResearchRequest(company_name="Acme", company_url=fake_site.url))
    until(lambda: jobs.get_job(a.engine, job.id).status == JobStatus.PROCESSING, "the job to start", WAIT_S)
    with writing(a.engine) as session:
        session.delete(session.get(Worker, a.worker_id))
        session.execute(update(Job).where(Job.id == job.id).values(updated_at=utcnow() - timedelta(hours=1)))

    assert a.recover() == []
    a.wait(job.id, timeout_s=WAIT_S)
    assert jobs.get_job(a.engine, job.id).leases == 1


def _worker(engine, worker_id: str) -> Worker | None:
    with reading(engine) as session:
        return session.get(Worker, worker_id)


def test_old_checkpoints_are_pruned_and_the_home_page_is_kept_once(make_runner, db_url, fake_site):
    runner = make_runner(DATABASE_URL=db_url)
    job, _ = runner.submit(ResearchRequest(company_name="Acme", company_url=fake_site.url))
    runner.wait(job.id, timeout_s=WAIT_S)
    [scrape] = [r for r in attempts.for_job(runner.engine, job.id) if r.step == "scrape-website"]
    home = scrape.output["pages"][0]["content"]
    assert home and scrape.output["content"] == ""  # the home page's text, once
    # Stopped, so that its pull cannot start the job queued next, nor its tick prune first.
    runner.shutdown()
    [running] = _queue(runner.engine)  # a job still running keeps its checkpoints, however old
    old = utcnow() - timedelta(days=31)
    with writing(runner.engine) as session:
        session.execute(
            update(Job).where(Job.id == running).values(status=JobStatus.PROCESSING, owner="elsewhere", leases=1)
        )
        session.add(StepAttempt(job_id=running, step="scrape-website", attempt=1, output={"keep": 1}, finished_at=old))
        session.execute(update(StepAttempt).where(StepAttempt.job_id == job.id).values(finished_at=old))

    assert attempts.prune_outputs(runner.engine, keep_days=30) == 6
    assert attempts.prune_outputs(runner.engine, keep_days=30) == 0

    assert [r.output for r in attempts.for_job(runner.engine, job.id)] == [None] * 6
    assert [r.output for r in attempts.for_job(runner.engine, running)] == [{"keep": 1}]
    with reading(runner.engine) as session:
        assert session.exec(select(BriefingRecord.job_id)).all() == [(job.id,)]
    assert jobs.get_job(runner.engine, job.id).status == JobStatus.COMPLETED


def test_a_runner_prunes_old_checkpoints_at_its_first_tick(make_runner, db_url, fake_site):
    first = make_runner(DATABASE_URL=db_url)
    job, _ = first.submit(ResearchRequest(company_name="Acme", company_url=fake_site.url))
    first.wait(job.id, timeout_s=WAIT_S)
    first.shutdown()
    with writing(first.engine) as session:
        session.execute(
            update(StepAttempt).where(StepAttempt.job_id == job.id).values(finished_at=utcnow() - timedelta(days=31))
        )

    later = make_runner(DATABASE_URL=db_url, PREP_LEASE_S="0.9")  # a tick every 0.3 s

    until(
        lambda: all(r.output is None for r in attempts.for_job(later.engine, job.id)),
        "the first tick to prune the old checkpoints",
        WAIT_S,
    )
