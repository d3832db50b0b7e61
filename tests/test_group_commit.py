"""Writes that arrive together share one transaction (db/group_commit.py); on SQLite, the API's
submits do, and urgent writes go ahead of the background writers queued for the database."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

from db import jobs
from db.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine, reading
from db.group_commit import GroupCommit
from db.models import Job
from db.sqlite_writes import gate
from pipeline.models import ResearchRequest
from tests.waiting import blocked_in, until

WAIT_S = 10.0  # how long a test waits for its threads to reach their locks, seconds


def _run(main: Callable[[], Awaitable]) -> object:
    """asyncio.run(main()) in a thread of its own: this one may already run an event loop
    (Playwright's does)."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, main()).result()


def _grouped(commit: GroupCommit, write_group: Callable, items: Sequence) -> dict:
    """commit.write each item while the writer is busy with a first group (item 0), so that every
    item waits for the next group; what each caller got (its result or what it raised)."""
    holding, release = threading.Event(), threading.Event()

    def first_group_waits(group: Sequence) -> list:
        if 0 in group:
            holding.set()
            release.wait(WAIT_S)
        return write_group(group)

    async def outcome(item: object) -> object:
        try:
            return await commit.write(item, first_group_waits)
        except Exception as error:
            return error

    async def main() -> list:
        first = asyncio.create_task(outcome(0))
        await asyncio.to_thread(holding.wait, WAIT_S)
        others = [asyncio.create_task(outcome(item)) for item in items]
        await asyncio.sleep(0)  # each task runs up to its wait: every item is queued
        release.set()
        return await asyncio.gather(first, *others)

    return dict(zip([0, *items], _run(main), strict=True))


def test_items_that_arrive_while_a_group_is_written_form_the_next_group():
    groups: list[list] = []

    def write_group(items: Sequence[int]) -> list[int]:
        groups.append(list(items))
        return [10 * item for item in items]

    results = _grouped(GroupCommit("test-writer"), write_group, [1, 2, 3])

    assert groups == [[0], [1, 2, 3]]
    assert results == {0: 0, 1: 10, 2: 20, 3: 30}


def test_a_real_error_fails_only_the_item_at_fault():
    groups: list[list] = []

    def write_group(items: Sequence[int]) -> list[int]:
        groups.append(list(items))
        if 2 in items:
            raise ValueError("item 2 breaks a constraint")
        return [10 * item for item in items]

    results = _grouped(GroupCommit("test-writer"), write_group, [1, 2, 3])

    assert results[1] == 10 and results[3] == 30
    assert isinstance(results[2], ValueError)
    assert groups == [[0], [1, 2, 3], [1], [2], [3]]  # then one by one


def test_a_blip_fails_every_member_and_each_retries_on_its_own():
    groups: list[list] = []
    blip = OperationalError("COMMIT", None, Exception("database is locked"))

    def write_group(items: Sequence[int]) -> list[int]:
        groups.append(list(items))
        if len(items) > 1:
            raise blip
        return [10 * item for item in items]

    results = _grouped(GroupCommit("test-writer"), write_group, [1, 2, 3])

    assert groups == [[0], [1, 2, 3]]  # not written one by one: a blip would meet each of them again
    errors = [results[item] for item in (1, 2, 3)]
    assert all(isinstance(error, OperationalError) and error.__cause__ is blip for error in errors)
    assert len({id(error) for error in errors}) == 3  # each caller raises its own copy


def test_a_broken_write_fails_its_whole_group_and_the_writer_goes_on(caplog):
    def write_group(items: Sequence[int]) -> list[int]:
        return [10 * item for item in items][:1]  # too few results

    commit = GroupCommit("test-writer")
    results = _grouped(commit, write_group, [1, 2])

    assert results[0] == 0
    assert all(isinstance(results[item], ValueError) for item in (1, 2))
    assert "a group of 2 writes failed" in caplog.text

    async def one_more() -> int:
        return await commit.write(7, write_group)

    assert _run(one_more) == 70


def test_waiting_callers_hold_no_thread_and_a_cancelled_one_is_still_written():
    written: list[int] = []
    holding, release = threading.Event(), threading.Event()

    def write_group(items: Sequence[int]) -> list[int]:
        if 0 in items:
            holding.set()
            release.wait(WAIT_S)
        written.extend(items)
        return [10 * item for item in items]

    commit = GroupCommit("test-writer")

    async def main() -> tuple[list[int], set[threading.Thread]]:
        first = asyncio.create_task(commit.write(0, write_group))
        await asyncio.to_thread(holding.wait, WAIT_S)
        before = set(threading.enumerate())
        waiting = [asyncio.create_task(commit.write(item, write_group)) for item in (1, 2, 3)]
        await asyncio.sleep(0)  # each task runs up to its wait: all three are queued
        waiting[1].cancel()
        started = set(threading.enumerate()) - before
        release.set()
        return await asyncio.gather(first, waiting[0], waiting[2]), started

    results, started = _run(main)

    assert results == [0, 10, 30]
    assert started == set()  # no thread was started for the three waiting callers
    assert sorted(written) == [0, 1, 2, 3]  # the cancelled caller's item too


def test_the_writer_thread_ends_when_idle_and_a_new_item_starts_another():
    commit = GroupCommit("test-idle-writer", idle_s=0.05)

    def write_group(items: Sequence[int]) -> list[int]:
        return list(items)

    def writers() -> int:
        return sum(thread.name == "test-idle-writer" for thread in threading.enumerate())

    async def write(item: int) -> int:
        return await commit.write(item, write_group)

    assert _run(lambda: write(1)) == 1
    until(lambda: writers() == 0, "the idle writer to end", WAIT_S)
    assert _run(lambda: write(2)) == 2


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_submits_that_arrive_together_share_one_transaction_in_their_order(engine):
    """The first submit's group waits at the gate this test holds; the rest arrive meanwhile and
    are written together: two transactions for seven submits, a double among them found as its
    twin inside the group, and the queue's order is the order they were submitted in."""
    commits = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    roles = ["Warm up", "Backend", "Frontend", "Backend", "Data", "SRE", "Mobile"]
    queued = threading.Event()

    async def submit_all() -> list[tuple[Job, bool]]:
        def submit(role: str) -> asyncio.Task:
            request = ResearchRequest(company_name="Initech", role=role)
            return asyncio.create_task(jobs.create_job_async(engine, request, owner=None))

        def writer_at_the_gate() -> bool:
            return any(blocked_in(t, "turn") for t in threading.enumerate() if t.name == "prep-submits")

        first = submit(roles[0])
        await asyncio.to_thread(until, writer_at_the_gate, "the submit writer at the gate", WAIT_S)
        rest = [submit(role) for role in roles[1:]]
        await asyncio.sleep(0)  # each task runs up to its wait: every submit is queued
        queued.set()
        return await asyncio.gather(first, *rest)

    with ThreadPoolExecutor(max_workers=1) as thread:
        with gate(engine, SQLITE_BUSY_TIMEOUT_MS / 1000).turn(urgent=True):
            submitted = thread.submit(asyncio.run, submit_all())
            assert queued.wait(WAIT_S)
        results = submitted.result(WAIT_S)

    assert len(commits) == 2
    (backend, backend_created), (double, double_created) = results[1], results[3]
    assert backend.id == double.id and (backend_created, double_created) == (True, False)
    assert [created for _, created in results] == [True, True, True, False, True, True, True]
    with reading(engine) as session:
        queue = session.exec(select(Job.role).order_by(col(Job.created_at), col(Job.id))).all()
    assert queue == ["Warm up", "Backend", "Frontend", "Data", "SRE", "Mobile"]


def _order_of_turns(engine, writers: list[tuple[str, bool]]) -> list[str]:
    """Start each (name, urgent) writer in turn while this test holds the gate, each once the one
    before waits; then let go. The order in which they had the gate."""
    gated = gate(engine, SQLITE_BUSY_TIMEOUT_MS / 1000)
    order: list[str] = []

    def write(name: str, urgent: bool) -> None:
        with gated.turn(urgent=urgent):
            order.append(name)

    threads = []
    with gated.turn(urgent=True):  # the transaction in progress
        for name, urgent in writers:
            threads.append(threading.Thread(target=write, args=(name, urgent)))
            threads[-1].start()
            until(lambda: blocked_in(threads[-1], "turn"), f"{name} to queue", WAIT_S)
    for thread in threads:
        thread.join(WAIT_S)
    return order


def test_an_urgent_writer_goes_ahead_of_queued_background_writers(engine):
    order = _order_of_turns(engine, [(f"job {n}", False) for n in range(5)] + [("submit", True)])

    assert order[0] == "submit", order  # even the background writer already at the front gives way


def test_once_an_urgent_writer_went_first_the_next_urgent_one_waits_for_the_background_writer(engine):
    order = _order_of_turns(engine, [("job", False), ("submit 1", True), ("submit 2", True)])

    assert order[1] == "job", order


def test_a_stream_of_urgent_writers_delays_a_background_writer_but_cannot_stop_it(engine):
    gated = gate(engine, SQLITE_BUSY_TIMEOUT_MS / 1000)
    written = threading.Event()

    def urgent_stream() -> None:
        while not written.is_set():
            with gated.turn(urgent=True):
                time.sleep(0.001)  # a short transaction; the other streams queue meanwhile

    def background_write() -> None:
        with gated.turn():
            written.set()

    streams = [threading.Thread(target=urgent_stream) for _ in range(3)]
    for stream in streams:
        stream.start()
    background = threading.Thread(target=background_write)
    background.start()
    background.join(WAIT_S)
    finished = written.is_set()
    written.set()  # stops the streams whatever happened
    for stream in streams:
        stream.join(WAIT_S)

    assert finished
