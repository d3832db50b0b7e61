"""Three served replicas on one PostgreSQL: a shared queue, exactly-once runs, crashes and pauses."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter

import pytest
from sqlmodel import col, func, select

from core.status import AttemptStatus, JobStatus
from db.engine import make_engine, reading
from db.models import BriefingRecord, Job, StepAttempt, Worker
from harness.fakes.wiring import fake_services_env
from harness.replicas import owners_by_app, start_replicas, submit, wait_all_terminal

LEASE_S = 3.0  # short, so takeovers happen within the test; heartbeats every second
# With no takeover wanted, a lease that a heartbeat delayed on a loaded 2-core machine cannot miss:
# a live replica taken for dead would rightly run its job's current step again.
QUIET_LEASE_S = 20.0
WAIT_S = 240.0


@pytest.fixture
def cluster(tmp_path, postgres_url, fake_site, fake_github, fake_anthropic):
    """Start replicas on one fresh database; all are stopped after the test."""
    env = {
        **fake_services_env(fake_site, fake_github, fake_anthropic),
        "DATABASE_URL": postgres_url,
        "PREP_WORKERS": "2",
    }
    started = []

    def start(count: int, lease_s: float = LEASE_S):
        apps = start_replicas(count, tmp_path, {**env, "PREP_LEASE_S": str(lease_s)}, first=len(started))
        started.extend(apps)
        return apps

    engine = make_engine(postgres_url)
    yield start, engine
    for app in started:
        app.stop()
    engine.dispose()


def _succeeded_per_step(engine, job_ids) -> Counter:
    with reading(engine) as session:
        rows = session.exec(
            select(StepAttempt.job_id, StepAttempt.step)
            .where(col(StepAttempt.job_id).in_(job_ids))
            .where(col(StepAttempt.status).in_([AttemptStatus.SUCCEEDED, AttemptStatus.SKIPPED]))
        ).all()
    return Counter(rows)


def _statuses(engine, job_ids) -> Counter:
    with reading(engine) as session:
        return Counter(session.exec(select(Job.status).where(col(Job.id).in_(job_ids))).all())


def _briefings(engine, job_ids) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).where(col(BriefingRecord.job_id).in_(job_ids))).one()


def _analyses_per_role(fake_anthropic) -> Counter:
    """Attempts at the analysis Claude saw, per role: each asks for the facts part once."""
    return Counter(
        call.user_text.split("Replica ", 1)[1].split()[0]
        for call in fake_anthropic.calls
        if "overview" in (call.schema_keys or ())
    )


def _analysis_attempts_per_role(engine, job_ids) -> Counter:
    with reading(engine) as session:
        roles = session.exec(
            select(Job.role)
            .join(StepAttempt, StepAttempt.job_id == Job.id)
            .where(col(Job.id).in_(job_ids), StepAttempt.step == "analyze-with-claude")
        ).all()
    return Counter(role.split()[1] for role in roles)


def test_300_jobs_submitted_to_one_replica_run_once_each_across_all_three(cluster, fake_site, fake_anthropic):
    start, engine = cluster
    apps = start(3, lease_s=QUIET_LEASE_S)
    fake_anthropic.latency_s = 0.05  # a model that takes a moment, so every replica gets work

    job_ids = submit(apps[0], fake_site.url, [f"Replica {n} engineer" for n in range(300)])
    wait_all_terminal(engine, job_ids, WAIT_S)

    assert len(set(job_ids)) == 300
    assert _statuses(engine, job_ids) == {JobStatus.COMPLETED: 300}
    shares = owners_by_app(engine, apps, job_ids)
    assert set(shares) == {0, 1, 2} and min(shares.values()) >= 15, shares  # each replica ran a share
    with reading(engine) as session:
        leases = Counter(session.exec(select(Job.leases).where(col(Job.id).in_(job_ids))).all())
    assert leases == {1: 300}  # each job was leased once: no job was taken over or handed back
    # Every call the fake model received is an analysis attempt its job recorded (a transient error
    # may legitimately cost an attempt more), and each step succeeded once.
    assert _analyses_per_role(fake_anthropic) == _analysis_attempts_per_role(engine, job_ids)
    assert sum(_analyses_per_role(fake_anthropic).values()) >= 300
    assert set(_succeeded_per_step(engine, job_ids).values()) == {1}
    assert _briefings(engine, job_ids) == 300
    for app in apps:
        assert "Traceback" not in app.log(), app.log()


def test_a_killed_replicas_jobs_finish_on_the_others_without_repeating_a_finished_step(
    cluster, fake_site, fake_anthropic
):
    start, engine = cluster
    apps = start(3)
    fake_anthropic.latency_s = 0.5  # jobs spend a while in the analysis: the kill lands mid-run

    job_ids = submit(apps[0], fake_site.url, [f"Replica {n} engineer" for n in range(30)])
    give_up = time.monotonic() + WAIT_S
    while owners_by_app(engine, apps, job_ids)[2] == 0 or _statuses(engine, job_ids)[JobStatus.PROCESSING] < 3:
        assert time.monotonic() < give_up, "replica 2 never got a job"
        time.sleep(0.05)
    apps[2].kill()
    wait_all_terminal(engine, job_ids, WAIT_S)

    assert _statuses(engine, job_ids) == {JobStatus.COMPLETED: 30}
    assert set(_succeeded_per_step(engine, job_ids).values()) == {1}  # no finished step ran twice
    assert _briefings(engine, job_ids) == 30
    with reading(engine) as session:
        taken_over = session.exec(select(func.count()).where(col(Job.id).in_(job_ids), Job.leases > 1)).one()
    assert taken_over >= 1  # the killed replica really held jobs


def test_a_paused_replica_cannot_overwrite_its_successor_and_keeps_working(cluster, fake_site, fake_anthropic):
    start, engine = cluster
    apps = start(2)
    fake_anthropic.latency_s = 2 * LEASE_S  # the analysis outlasts the lease
    [job_id] = submit(apps[0], fake_site.url, ["Replica 0 engineer"])
    give_up = time.monotonic() + WAIT_S
    while not _analysis_running(engine, job_id):
        assert time.monotonic() < give_up
        time.sleep(0.05)
    paused = owners_by_app(engine, apps, [job_id]).most_common(1)[0][0]
    other = 1 - paused
    os.killpg(apps[paused].process.pid, signal.SIGSTOP)
    try:
        wait_all_terminal(engine, [job_id], WAIT_S)  # the other replica takes it over and finishes it
        time.sleep(LEASE_S)  # the paused one's slow answer arrives meanwhile
    finally:
        os.killpg(apps[paused].process.pid, signal.SIGCONT)

    give_up = time.monotonic() + WAIT_S
    while "late write" not in apps[paused].log():
        assert time.monotonic() < give_up, apps[paused].log()
        time.sleep(0.1)
    assert owners_by_app(engine, apps, [job_id]) == {other: 1}
    assert set(_succeeded_per_step(engine, [job_id]).values()) == {1}
    assert _briefings(engine, [job_id]) == 1
    fake_anthropic.latency_s = 0.0
    # The paused replica keeps running new jobs: submit to it until it has run some.
    more = submit(apps[paused], fake_site.url, [f"Replica {n} engineer" for n in range(1, 21)])
    wait_all_terminal(engine, more, WAIT_S)
    assert _statuses(engine, more) == {JobStatus.COMPLETED: 20}
    assert owners_by_app(engine, apps, more)[paused] >= 1


def _analysis_running(engine, job_id: str) -> bool:
    with reading(engine) as session:
        return (
            session.exec(
                select(func.count()).where(
                    StepAttempt.job_id == job_id,
                    StepAttempt.step == "analyze-with-claude",
                    StepAttempt.status == AttemptStatus.RUNNING,
                )
            ).one()
            > 0
        )


def test_sigterm_hands_a_replicas_running_jobs_to_the_others(cluster, fake_site, fake_anthropic):
    start, engine = cluster
    apps = start(2, lease_s=QUIET_LEASE_S)  # no takeover by lease within this test
    fake_anthropic.latency_s = 0.5

    job_ids = submit(apps[0], fake_site.url, [f"Replica {n} engineer" for n in range(20)])
    give_up = time.monotonic() + WAIT_S
    while not _processing_under(engine, apps[1], job_ids):
        assert time.monotonic() < give_up, "replica 1 never got a job"
        time.sleep(0.05)
    apps[1].stop()  # SIGTERM: a rolling restart
    wait_all_terminal(engine, job_ids, WAIT_S)

    assert apps[1].process.returncode is not None
    assert _statuses(engine, job_ids) == {JobStatus.COMPLETED: 20}
    assert set(_succeeded_per_step(engine, job_ids).values()) == {1}
    with reading(engine) as session:
        handed_over = session.exec(select(func.count()).where(col(Job.id).in_(job_ids), Job.leases > 1)).one()
        interrupted = session.exec(
            select(func.count()).where(col(StepAttempt.job_id).in_(job_ids), StepAttempt.error_kind == "interrupted")
        ).one()
        leftover_workers = session.exec(select(func.count()).where(Worker.pid == apps[1].process.pid)).one()
    assert handed_over >= 1  # replica 1 was running jobs when it stopped
    assert interrupted == 0  # each stopped at a step boundary: released, not taken over from a corpse
    assert leftover_workers == 0  # it unregistered on its way out


def _processing_under(engine, app, job_ids) -> bool:
    with reading(engine) as session:
        return (
            session.exec(
                select(func.count())
                .select_from(Job)
                .join(Worker, Worker.id == Job.owner)
                .where(col(Job.id).in_(job_ids), Job.status == JobStatus.PROCESSING, Worker.pid == app.process.pid)
            ).one()
            > 0
        )
