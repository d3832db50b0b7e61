"""Database engines: SQLite (WAL, busy timeout) by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from db import migrate

SQLITE_BUSY_TIMEOUT_MS = 30_000  # writers wait this long for the lock instead of failing

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def make_engine(url: str, *, upgrade: bool = True) -> Engine:
    """A new engine for `url`, its schema migrated to the newest revision unless `upgrade` is
    False; SQLite gets WAL and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    if upgrade:
        migrate.upgrade(engine)
    return engine


def get_engine(url: str) -> Engine:
    """The process-wide engine for `url` (one pool per database)."""
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def upsert_insert(engine: Engine):
    """The dialect's INSERT construct for `engine`, which has ON CONFLICT (SQLite or PostgreSQL)."""
    return postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # Autocommit at the driver level: SQLAlchemy's "begin" event above opens transactions.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; fsyncs at checkpoints
    cursor.close()


def dispose_all() -> None:
    """Close every cached engine's connections (tests, and clean shutdowns)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


_write_locks: dict[str, threading.Lock] = {}  # one per SQLite database of this process, by URL


@contextmanager
def _writer_turn(engine: Engine) -> Iterator[None]:
    """SQLite: this process's writers of one database take turns on one lock, so the next starts
    the moment the last commits instead of napping in SQLite's busy handler (1 … 100 ms a nap),
    which leaves the lock idle under contention (the load figures in docs/performance.md). Taken
    before a pooled connection, so a waiting writer holds none. Another process's writer still
    meets the busy handler."""
    if engine.dialect.name != "sqlite":
        yield
        return
    key = str(engine.url)
    with _lock:
        if key not in _write_locks:
            _write_locks[key] = threading.Lock()
        lock = _write_locks[key]
    if not lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))
    try:
        yield
    finally:
        lock.release()


@contextmanager
def writing(engine: Engine) -> Iterator[Session]:
    """A short write transaction; on SQLite it takes the write lock at BEGIN (no upgrade race)."""
    with _writer_turn(engine), Session(engine.execution_options(immediate=True), expire_on_commit=False) as session:
        with session.begin():
            yield session


@contextmanager
def core_writing(engine: Engine) -> Iterator[Connection]:
    """writing() without the ORM, for the writes every job step makes: prebuilt Core statements
    skip the Session's unit of work (statement building, cache keys, flush), most of a job's
    database CPU (bench/write_cost.py)."""
    with _writer_turn(engine), engine.connect() as conn:
        conn.execution_options(immediate=True)
        with conn.begin():
            yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A read-only transaction; in WAL mode readers never wait for writers."""
    with Session(engine, expire_on_commit=False) as session:
        with session.begin():
            yield session


def _sqlite_begin(conn) -> None:
    # pysqlite's own BEGIN is deferred, so a transaction that reads and then writes can fail at
    # once with "database is locked" when it upgrades; writers ask for the lock up front.
    # Another writer holding the lock makes BEGIN IMMEDIATE wait in SQLite's busy handler, up
    # to SQLITE_BUSY_TIMEOUT_MS; one still busy then raises "database is locked", redone as a blip.
    immediate = conn.get_execution_options().get("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
