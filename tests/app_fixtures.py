"""Fixtures for the app as a whole: a clean environment, a fresh database, runners on the fakes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator

import pytest
from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

import settings as settings_module
from db.engine import make_engine, reading
from db.models import Job
from engine.runner import Runner, shutdown_runner
from settings import PROJECT_DIR, Settings
from tests.fakes.wiring import fake_services_env


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own keys or database."""
    for key in settings_module.KEYS:
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def db_url(tmp_path) -> str:
    """A fresh SQLite file for this test."""
    return f"sqlite:///{tmp_path / 'prep.db'}"


@pytest.fixture
def app_env(monkeypatch, db_url, fake_site, fake_github, fake_anthropic, fake_sources) -> dict[str, str]:
    """The environment of an app wired to the loopback fakes, with an API key; also set in os.environ."""
    env = {
        **fake_services_env(fake_site, fake_github, fake_anthropic, fake_sources),
        "DATABASE_URL": db_url,
        "PREP_ALLOW_PRIVATE_URLS": "1",
        "PREP_WORKERS": "2",
        # Tests count the requests each job makes; the cache's own tests turn it on (tests/test_cache_jobs.py).
        "PREP_CACHE_TTL_S": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield env
    shutdown_runner(reopen=True)  # pages and the API start the process-wide runner from this env


@pytest.fixture
def make_runner(app_env) -> Iterator[Callable[..., Runner]]:
    """Build runners from the app environment, with overrides; all shut down after the test."""
    made: list[Runner] = []

    def factory(**overrides: str) -> Runner:
        settings = Settings.from_mapping({**os.environ, **overrides})
        runner = Runner(settings, engine=make_engine(settings.database_url))
        made.append(runner)
        return runner

    yield factory
    for runner in made:
        runner.shutdown()
        runner.engine.dispose()


@pytest.fixture
def runner(make_runner) -> Runner:
    """A runner on the fakes with an Anthropic key."""
    return make_runner()


PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _postgres_ready() -> str | None:
    """None when PostgreSQL answers on 127.0.0.1:5432 (started here if needed), else why not."""
    import psycopg

    def answers() -> bool:
        try:
            psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3).close()
            return True
        except psycopg.OperationalError:
            return False

    if answers():
        return None
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        return "PostgreSQL is not installed (no /etc/postgresql) and none answers on 127.0.0.1:5432"
    started = subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if answers():
        return None
    return f"PostgreSQL did not start: {started.stderr.strip() or started.stdout.strip()}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin URL of a running PostgreSQL; the test fails, saying why, when there is none
    (scripts/test installs and starts it first)."""
    reason = _postgres_ready()
    if reason:
        pytest.fail(f"PostgreSQL is required: {reason}")
    return PG_ADMIN_URL


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"prep_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    from db.engine import dispose_all

    dispose_all()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request, tmp_path) -> str:
    """A fresh database on each engine: the embedded SQLite default, then a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'prep.db'}"
    return request.getfixturevalue("postgres_url")


def open_page(path: str, *, timeout_s: float = 30, **params: str) -> AppTest:
    """The app in AppTest, switched to the page at `path` with these query parameters, run once."""
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=timeout_s)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(path)
    return at.run()


def count_jobs(db_url: str) -> int:
    """How many job rows the database at `db_url` holds, read through an engine closed afterwards."""
    engine = make_engine(db_url)
    try:
        with reading(engine) as session:
            return session.exec(select(func.count()).select_from(Job)).one()
    finally:
        engine.dispose()
