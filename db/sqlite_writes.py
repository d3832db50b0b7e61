"""SQLite write transactions of one process take turns on one in-process lock.

SQLite lets one writer in at a time. Without this, writer threads that collide at BEGIN IMMEDIATE
wait in SQLite's busy handler, which sleeps and polls (1, 2, 5, 10 … 100 ms), so a submit that
lands while job threads write attempts and heartbeats pays those sleeps. Queued on a lock, the
next writer starts the moment the last one commits. PostgreSQL keeps concurrent writers.

A writer a request is waiting on (a submit, a cancel, a delete) is urgent: it goes ahead of the
job threads' queue of step, heartbeat and cache writes. Background writers queue among themselves
on a second lock; the one at the front lets the urgent writers already waiting go first, gives
the gate back once if more came while it waited for it, and then takes it whoever waits: a stream
of submits delays the job threads' writes but cannot stop them.

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
        self._lock = threading.Lock()
        self._background = threading.Lock()  # background writers' queue in front of _lock
        # Urgent writers that asked for _lock, and that got it (or gave up): a background writer
        # waits for those that asked before it, never for those that come after.
        self._urgent_asked = self._urgent_served = 0
        self._urgent_changed = threading.Condition()
        self._count_lock = threading.Lock()
        self.busy_waits = 0

    @contextmanager
    def turn(self, *, urgent: bool = False) -> Iterator[None]:
        """Hold the lock for one write transaction, from before BEGIN until after COMMIT/ROLLBACK;
        `urgent` (a request waits on it) goes ahead of every background writer."""
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
            self._lock.release()
            if not urgent:
                self._background.release()

    def _take_urgent(self, deadline: float) -> None:
        with self._urgent_changed:
            self._urgent_asked += 1
        try:
            taken = self._lock.acquire(timeout=_left(deadline))
        finally:
            with self._urgent_changed:
                self._urgent_served += 1
                self._urgent_changed.notify_all()
        if not taken:
            raise _locked()

    def _take_background(self, deadline: float) -> None:
        """The gate, after the urgent writers waiting now; if more came while this one waited for
        the gate, after those too, and then no more: a background writer gives way once."""
        for gave_way in (False, True):
            with self._urgent_changed:
                asked = self._urgent_asked
                if not self._urgent_changed.wait_for(lambda asked=asked: self._urgent_served >= asked, _left(deadline)):
                    raise _locked()
            if not self._lock.acquire(timeout=_left(deadline)):
                raise _locked()
            with self._urgent_changed:
                waiting = self._urgent_asked > self._urgent_served
            if gave_way or not waiting:
                return
            self._lock.release()

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
