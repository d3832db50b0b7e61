"""SQLite write transactions of one process take turns on one in-process lock.

SQLite lets one writer in at a time. Without this, writer threads that collide at BEGIN IMMEDIATE
wait in SQLite's busy handler, which sleeps and polls (1, 2, 5, 10 … 100 ms), so a submit that
lands while job threads write attempts and heartbeats pays those sleeps. Queued on a lock, the
next writer starts the moment the last one commits. PostgreSQL keeps concurrent writers.

A writer a request is waiting on (a submit, a batch, a cancel, a delete) is urgent: it goes
ahead of the job threads' step, heartbeat and cache writes. Background writers queue among
themselves on a second lock; the one at the front waits while urgent writers wait, but only until
one of them has had the gate: then the urgent writers wait for it. So an urgent writer waits for
the transaction in progress, urgent writers ahead of it and at most one background transaction,
and a stream of submits delays the job threads' writes but cannot stop them.

The lock only orders this process's writers; another process (a CLI run, a second app) can still
hold SQLite's write lock. Then the busy handler waits as before, and the wait is counted and
logged, so "no busy waits" is something a benchmark can check.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)


class WriteGate:
    """The lock of one SQLite database in this process, and how often SQLite made a writer wait."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._background = threading.Lock()  # background writers' queue: one of them at the front
        # The gate itself, decided under one Condition so that the order is ours, not the OS's.
        self._changed = threading.Condition()
        self._held = False
        self._urgent_waiting = 0
        self._front_waiting = False  # the background writer at the front waits for the gate
        self._front_first = False  # an urgent writer had the gate while it waited: it goes next
        self._count_lock = threading.Lock()
        self.busy_waits = 0

    @contextmanager
    def turn(self, *, urgent: bool = False) -> Iterator[None]:
        """Hold the lock for one write transaction, from before BEGIN until after COMMIT/ROLLBACK;
        `urgent` (a request waits on it) goes ahead of background writers."""
        # As long as SQLite's own busy timeout, queue and gate together: a writer that never
        # finishes fails like SQLite would.
        deadline = time.monotonic() + self.timeout_s
        if urgent:
            self._take_urgent(deadline)
        elif self._background.acquire(timeout=self.timeout_s):
            try:
                self._take_background(deadline)
            except BaseException:
                self._background.release()
                raise
        else:
            raise _locked()
        try:
            yield
        finally:
            with self._changed:
                self._held = False
                self._changed.notify_all()
            if not urgent:
                self._background.release()

    def _take_urgent(self, deadline: float) -> None:
        with self._changed:
            self._urgent_waiting += 1
            try:
                free = self._changed.wait_for(lambda: not self._held and not self._front_first, _left(deadline))
            finally:
                self._urgent_waiting -= 1
            if not free:
                self._changed.notify_all()  # the front writer may have waited for this one
                raise _locked()
            self._held = True
            self._front_first = self._front_waiting

    def _take_background(self, deadline: float) -> None:
        with self._changed:
            self._front_waiting = True
            try:
                free = self._changed.wait_for(
                    lambda: not self._held and (self._front_first or not self._urgent_waiting), _left(deadline)
                )
            finally:
                self._front_waiting = self._front_first = False
            if not free:
                self._changed.notify_all()  # urgent writers may have waited for this one
                raise _locked()
            self._held = True

    def counted_wait(self) -> None:
        with self._count_lock:
            self.busy_waits += 1


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _locked() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))


_gates: dict[URL, WriteGate] = {}
_gates_lock = threading.Lock()


def gate(engine: Engine, timeout_s: float) -> WriteGate:
    """The write gate of `engine`'s database (one per database file in this process)."""
    key = engine.url
    with _gates_lock:
        if key not in _gates:
            _gates[key] = WriteGate(timeout_s)
        return _gates[key]


def write_turn(engine: Engine, timeout_s: float, *, urgent: bool = False) -> AbstractContextManager[None]:
    """Wait for this process's turn to write `engine`'s database (ahead of background writers
    when `urgent`); a no-op off SQLite."""
    if engine.dialect.name != "sqlite":
        return nullcontext()
    return gate(engine, timeout_s).turn(urgent=urgent)


def busy_waits(engine: Engine) -> int:
    """How many write transactions on `engine`'s database found SQLite's lock taken and waited."""
    found = _gates.get(engine.url)
    return found.busy_waits if found else 0


def begin_immediate(conn: Connection, busy_timeout_ms: int) -> None:
    """BEGIN IMMEDIATE, first without waiting: if the lock is taken (by another process), count
    and log the wait, then wait in SQLite's busy handler as usual.

    This runs in SQLAlchemy's "begin" event, where a driver error is not wrapped: one that is
    still busy when the timeout ends is raised as SQLAlchemy's OperationalError, so it is
    retried as a blip and handled like every other database error."""
    dbapi = conn.connection.dbapi_connection
    dbapi.execute("PRAGMA busy_timeout=0")
    try:
        _begin_immediate(dbapi)
        return
    except OperationalError as error:
        if "locked" not in str(error.orig) and "busy" not in str(error.orig):
            raise
    finally:
        dbapi.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    gate(conn.engine, busy_timeout_ms / 1000).counted_wait()
    log.warning("the SQLite write lock is held outside this process's writer queue; waiting for it")
    _begin_immediate(dbapi)


def _begin_immediate(dbapi: sqlite3.Connection) -> None:
    try:
        dbapi.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        raise OperationalError("BEGIN IMMEDIATE", None, error) from error
