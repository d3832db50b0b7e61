"""Alembic migrations: from empty and from the schema create_all made, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from core.status import JobStatus
from db.engine import make_engine
from db.migrate import BASELINE, MIGRATIONS_DIR
from settings import PROJECT_DIR

HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()  # the newest revision


@pytest.fixture
def any_url(any_db_url) -> str:
    """An empty database on each engine."""
    return any_db_url


def _plain(url: str):
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _version(url: str) -> list[str]:
    engine = _plain(url)
    with engine.connect() as connection:
        versions = [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]
    engine.dispose()
    return versions


def _drift(url: str) -> list:
    """What autogenerate would still change: nothing, when the migrations equal the models."""
    engine = _plain(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    return diff


def test_an_empty_database_is_migrated_to_the_models(any_url):
    make_engine(any_url).dispose()

    assert _version(any_url) == [HEAD]
    assert _drift(any_url) == []
    make_engine(any_url).dispose()  # a second start is a no-op
    assert _version(any_url) == [HEAD]


def test_a_database_made_by_create_all_is_upgraded_and_keeps_its_jobs(any_url):
    """The baseline revision is the schema create_all made before migrations (the drift test
    above holds it to db/models.py at that point); such a database has no alembic_version."""
    legacy = make_engine(any_url, upgrade=False)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with legacy.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, BASELINE)
        connection.execute(text("DROP TABLE alembic_version"))
        # The baseline's own columns, written as SQL: the models have moved on since.
        connection.execute(
            text(
                "INSERT INTO jobs (id, company_name, dedupe_key, status, deep_mode, claims, cancel_requested,"
                " created_at, updated_at) VALUES (:id, 'Acme', 'k', :status, :no, 1, :no,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"id": "a" * 32, "status": JobStatus.COMPLETED.name, "no": False},
        )
    assert not inspect(legacy).has_table("alembic_version")
    legacy.dispose()

    make_engine(any_url).dispose()

    assert _version(any_url) == [HEAD]
    assert _drift(any_url) == []
    engine = _plain(any_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT company_name, leases FROM jobs")).all() == [("Acme", 1)]
    engine.dispose()


def test_alembic_upgrade_head_by_hand_reads_database_url(any_url):
    env = {**os.environ, "DATABASE_URL": any_url}
    done = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"], cwd=PROJECT_DIR, env=env, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    assert _version(any_url) == [HEAD]
    assert _drift(any_url) == []


def test_five_processes_starting_at_once_on_an_empty_postgresql(postgres_url):
    code = "import sys; from db.engine import make_engine; make_engine(sys.argv[1]).dispose()"
    starts = [
        subprocess.Popen([sys.executable, "-c", code, postgres_url], cwd=PROJECT_DIR, stderr=subprocess.PIPE, text=True)
        for _ in range(5)
    ]

    errors = [(process.wait(timeout=120), process.stderr.read()) for process in starts]

    assert [code for code, _ in errors] == [0] * 5, errors
    assert _version(postgres_url) == [HEAD]
    assert _drift(postgres_url) == []
