"""SQLite writers of one process take turns on one lock and take SQLite's at BEGIN IMMEDIATE:
concurrent writers all land; another process's writer makes them wait in SQLite's busy handler,
and a lock held past the busy timeout is a blip, redone; PostgreSQL writers run side by side."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, update
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from core.request import ResearchRequest
from core.status import AttemptStatus
from db import attempts, jobs, workers
from db.engine import make_engine, reading, writing
from db.models import Job, StepAttempt
from db.transient import is_transient

THREADS = 16
JOBS_PER_THREAD = 15


def _one_job_life(engine, n: int, owner: str) -> None:
    """The writes of a job's whole life: create, claim, two attempts, complete."""
    jobs.create_job(engine, ResearchRequest(company_name=f"Co {n}"), owner=owner)
    # Threads share the owner, so this may claim another thread's job: each created one first.
    [fence] = jobs.lease_next(engine, owner, 1, reserved_only=True)
    for step in ("scrape-website", "search-github"):
        row = attempts.start(engine, fence, step)
        attempts.finish(engine, fence, row, AttemptStatus.SUCCEEDED, output={"n": n})
    with writing(engine) as session:
        session.execute(update(Job).where(Job.id == fence.job_id).values(company_id=None))


def test_concurrent_writers_of_one_process_all_land_without_a_locked_error(db_url, caplog):
    engine = make_engine(db_url)
    owner = workers.register(engine)
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.is_set():
            workers.heartbeat(engine, owner)

    beating = threading.Thread(target=heartbeat)
    beating.start()
    with caplog.at_level(logging.WARNING, logger="db.transient"), ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda n: _one_job_life(engine, n, owner), range(THREADS * JOBS_PER_THREAD)))
    stop.set()
    beating.join()

    with reading(engine) as session:
        assert session.exec(select(func.count()).select_from(Job)).one() == THREADS * JOBS_PER_THREAD
        assert session.exec(select(func.count()).select_from(StepAttempt)).one() == 2 * THREADS * JOBS_PER_THREAD
    assert [record.getMessage() for record in caplog.records] == []  # no blip was redone
    engine.dispose()


def test_a_writer_of_another_process_makes_a_write_wait_then_land(db_url):
    engine = make_engine(db_url)
    jobs.create_job(engine, ResearchRequest(company_name="Warm up"), owner=None)
    outsider = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")  # like another process holding the write lock
    done = threading.Event()

    def write() -> None:
        jobs.create_job(engine, ResearchRequest(company_name="Initech"), owner=None)
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)
    assert not done.is_set()  # it waits for the outsider
    outsider.execute("COMMIT")
    writer.join(timeout=10)

    assert done.is_set()
    outsider.close()
    engine.dispose()


def test_a_lock_held_past_the_busy_timeout_raises_sqlalchemys_operational_error(db_url):
    engine = make_engine(db_url)
    outsider = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    outsider.execute("BEGIN IMMEDIATE")
    with engine.connect() as conn:
        conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=50")  # ms; the engine's own is 30 s
        conn.execution_options(immediate=True)
        with pytest.raises(OperationalError, match="database is locked") as raised:
            conn.begin()
    assert is_transient(raised.value)  # what db.transient.redo_on_blip redoes
    outsider.close()
    engine.dispose()


def test_postgresql_writers_are_not_queued(postgres_url):
    engine = make_engine(postgres_url)
    first_open, second_done = threading.Event(), threading.Event()
    overlapped: list[bool] = []

    def long_writer() -> None:
        with writing(engine) as session:
            session.exec(select(func.count()).select_from(Job))
            first_open.set()
            # With a process-wide lock the second writer could not finish while this one is open.
            overlapped.append(second_done.wait(timeout=10))

    holder = threading.Thread(target=long_writer)
    holder.start()
    assert first_open.wait(timeout=10)
    jobs.create_job(engine, ResearchRequest(company_name="Initech"), owner=None)
    second_done.set()
    holder.join(timeout=10)

    assert overlapped == [True]
    engine.dispose()


def test_more_writers_than_pooled_connections_take_turns_without_a_blip(db_url, caplog):
    """A writer takes its turn before a pooled connection: were it to hold one while waiting,
    writers beyond the pool's size would starve the one whose turn it is until the pool's
    checkout timeout, and the write would fail and be redone as a blip."""
    engine = make_engine(db_url)
    owner = workers.register(engine)
    writers = 3 * (engine.pool.size() + 10)  # well past the pool: 5 connections plus 10 overflow
    for n in range(writers):
        jobs.create_job(engine, ResearchRequest(company_name=f"Co {n}"), owner=None)
    fences = jobs.lease_next(engine, owner, writers)
    together = threading.Barrier(writers)

    def steps(fence: jobs.Fence) -> None:
        together.wait()
        for step in ("scrape-website", "search-github", "analyze-with-claude"):
            row = attempts.start(engine, fence, step)  # Core writes
            workers.heartbeat(engine, owner)  # an ORM write
            attempts.finish(engine, fence, row, AttemptStatus.SUCCEEDED, output={"step": step})

    with caplog.at_level(logging.WARNING, logger="db.transient"), ThreadPoolExecutor(writers) as pool:
        list(pool.map(steps, fences))

    assert [record.getMessage() for record in caplog.records] == []
    with reading(engine) as session:
        assert session.exec(select(func.count()).select_from(StepAttempt)).one() == 3 * writers
    engine.dispose()
