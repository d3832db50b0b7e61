"""Schema migrations (Alembic, db/migrations/) run at start under a lock, so replicas never race.

PostgreSQL: a transaction-scoped advisory lock. SQLite: the migration's transaction begins with
BEGIN IMMEDIATE, which holds the database's write lock until it commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_baseline"  # the schema create_all made before migrations existed
MIGRATION_LOCK_KEY = 7_291_004  # any constant shared by every process of this app


def database_url() -> str:
    """The app's database, read as the app reads it (what `alembic` by hand upgrades)."""
    from settings import Settings

    return Settings.load().database_url


@contextmanager
def locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the migration lock until it commits."""
    with engine.execution_options(immediate=True).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        yield connection


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision (a no-op when it is there already)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with locked(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
