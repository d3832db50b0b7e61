"""Writes that arrive together share one transaction (db/group_commit.py); on SQLite, submits do,
and they go ahead of the background writers queued for the database."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, func
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from db import jobs
from db.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine, reading
from db.group_commit import GroupCommit
from db.models import Job
from db.sqlite_writes import gate
from pipeline.models import ResearchRequest
from tests.waiting import blocked_in, until

WAIT_S = 10.0  # how long a test waits for its threads to reach their locks, seconds


def _call(target: Callable, results: dict, key: object) -> threading.Thread:
    """A started thread that stores target()'s return value, or what it raised, under `key`."""

    def run() -> None:
        try:
            results[key] = target()
        except Exception as error:
            results[key] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _grouped(commit: GroupCommit, write_group: Callable, items: Sequence) -> dict:
    """commit.write each item from its own thread while the writer is busy with a first group
    (item 0), so that every item waits for the next group; what each caller got."""
    results: dict = {}
    holding, release = threading.Event(), threading.Event()

    def first_group_waits(group: Sequence) -> list:
        if 0 in group:
            holding.set()
            release.wait(WAIT_S)
        return write_group(group)

    first = _call(lambda: commit.write(0, first_group_waits), results, 0)
    assert holding.wait(WAIT_S)
    callers = [_call(lambda item=item: commit.write(item, first_group_waits), results, item) for item in items]
    until(lambda: all(blocked_in(caller, "write") for caller in callers), "the callers to queue", WAIT_S)
    release.set()
    for thread in (first, *callers):
        thread.join(WAIT_S)
    return results


def test_items_that_arrive_while_a_group_is_written_form_the_next_group():
    groups: list[list] = []

    def write_group(items: Sequence[int]) -> list[int]:
        groups.append(sorted(items))
        return [10 * item for item in items]

    results = _grouped(GroupCommit("test-writer"), write_group, [1, 2, 3])

    assert groups == [[0], [1, 2, 3]]
    assert results == {0: 0, 1: 10, 2: 20, 3: 30}


def test_a_real_error_fails_only_the_item_at_fault():
    groups: list[list] = []

    def write_group(items: Sequence[int]) -> list[int]:
        groups.append(sorted(items))
        if 2 in items:
            raise ValueError("item 2 breaks a constraint")
        return [10 * item for item in items]

    results = _grouped(GroupCommit("test-writer"), write_group, [1, 2, 3])

    assert results[1] == 10 and results[3] == 30
    assert isinstance(results[2], ValueError)
    assert groups[:2] == [[0], [1, 2, 3]] and sorted(groups[2:]) == [[1], [2], [3]]  # then one by one


def test_a_blip_fails_every_member_and_each_retries_on_its_own():
    groups: list[list] = []

    def write_group(items: Sequence[int]) -> list[int]:
        groups.append(sorted(items))
        if len(items) > 1:
            raise OperationalError("COMMIT", None, Exception("database is locked"))
        return [10 * item for item in items]

    results = _grouped(GroupCommit("test-writer"), write_group, [1, 2, 3])

    assert all(isinstance(results[item], OperationalError) for item in (1, 2, 3))
    assert groups == [[0], [1, 2, 3]]  # not written one by one: a blip would meet each of them again


def test_a_broken_write_fails_its_whole_group_and_the_writer_goes_on(caplog):
    def write_group(items: Sequence[int]) -> list[int]:
        return [10 * item for item in items][:1]  # too few results

    commit = GroupCommit("test-writer")
    results = _grouped(commit, write_group, [1, 2])

    assert results[0] == 0
    assert all(isinstance(results[item], ValueError) for item in (1, 2))
    assert "a group of 2 writes failed" in caplog.text
    assert commit.write(7, write_group) == 70


def test_an_async_caller_waits_without_a_thread_and_a_cancelled_one_is_still_written():
    written: list[int] = []
    holding, release = threading.Event(), threading.Event()

    def write_group(items: Sequence[int]) -> list[int]:
        if 0 in items:
            holding.set()
            release.wait(WAIT_S)
        written.extend(items)
        return [10 * item for item in items]

    commit = GroupCommit("test-writer")

    async def callers() -> list[int]:
        first = asyncio.create_task(commit.write_async(0, write_group))
        await asyncio.to_thread(holding.wait, WAIT_S)
        threads = threading.active_count()
        waiting = [asyncio.create_task(commit.write_async(item, write_group)) for item in (1, 2, 3)]
        await asyncio.sleep(0)  # each task runs up to its wait: all three are queued
        waiting[1].cancel()
        assert threading.active_count() == threads  # no thread waits for them
        release.set()
        return await asyncio.gather(first, waiting[0], waiting[2])

    # In a thread of its own: this one may already run an event loop (Playwright's does).
    with ThreadPoolExecutor(max_workers=1) as thread:
        assert thread.submit(asyncio.run, callers()).result() == [0, 10, 30]
    assert sorted(written) == [0, 1, 2, 3]  # the cancelled caller's item too


def test_the_writer_thread_ends_when_idle_and_a_new_item_starts_another():
    commit = GroupCommit("test-idle-writer", idle_s=0.05)

    def write_group(items: Sequence[int]) -> list[int]:
        return list(items)

    def writers() -> int:
        return sum(thread.name == "test-idle-writer" for thread in threading.enumerate())

    assert commit.write(1, write_group) == 1
    until(lambda: writers() == 0, "the idle writer to end", WAIT_S)
    assert commit.write(2, write_group) == 2


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _submit_while_the_gate_is_held(engine, requests: list[ResearchRequest]) -> tuple[dict, int]:
    """Submit each request from its own thread while this test holds the write gate, so that the
    submit writer waits at the gate with the first group and the rest queue behind it; what each
    submit got, and how many transactions were committed."""
    commits = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    results: dict = {}
    with gate(engine, SQLITE_BUSY_TIMEOUT_MS / 1000).turn(urgent=True):
        callers = [
            _call(lambda r=request: jobs.create_job(engine, r, owner=None), results, n)
            for n, request in enumerate(requests)
        ]
        until(
            lambda: (
                all(blocked_in(caller, "write") for caller in callers)
                and any(blocked_in(thread, "turn") for thread in threading.enumerate() if thread.name == "prep-submits")
            ),
            "the submit writer at the gate and every submit queued",
            WAIT_S,
        )
    for caller in callers:
        caller.join(WAIT_S)
    return results, len(commits)


def test_submits_that_arrive_together_share_one_transaction(engine):
    requests = [ResearchRequest(company_name="Initech", role=f"Role {n}") for n in range(8)]

    results, commits = _submit_while_the_gate_is_held(engine, requests)

    assert commits in (1, 2)  # the group the writer took to the gate, then those that queued meanwhile
    assert all(created for _, created in results.values())
    assert sorted(job.role for job, _ in results.values()) == sorted(request.role for request in requests)
    with reading(engine) as session:
        assert session.exec(select(func.count()).select_from(Job)).one() == 8


def test_the_same_inputs_twice_in_one_group_make_one_job(engine):
    requests = [ResearchRequest(company_name="Initech", role="Warm up")] + [
        ResearchRequest(company_name="Initech", role="Backend")
    ] * 2

    results, _ = _submit_while_the_gate_is_held(engine, requests)

    (first, first_created), (second, second_created) = results[1], results[2]
    assert first.id == second.id
    assert sorted([first_created, second_created]) == [False, True]


def test_an_urgent_writer_goes_ahead_of_queued_background_writers(engine):
    gated = gate(engine, SQLITE_BUSY_TIMEOUT_MS / 1000)
    order: list[str] = []

    def writer(name: str, urgent: bool) -> None:
        with gated.turn(urgent=urgent):
            order.append(name)

    with gated.turn(urgent=True):  # the transaction in progress
        background = []
        for n in range(5):  # queued one after another, as job threads' writes are
            background.append(threading.Thread(target=writer, args=(f"job {n}", False)))
            background[-1].start()
            until(lambda: blocked_in(background[-1], "turn"), f"background writer {n} to queue", WAIT_S)
        submit = threading.Thread(target=writer, args=("submit", True))
        submit.start()
        until(lambda: blocked_in(submit, "turn"), "the submit to queue", WAIT_S)
    for thread in (*background, submit):
        thread.join(WAIT_S)

    # Even the background writer already waiting at the gate gives way.
    assert order[0] == "submit", order


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
