"""The suite's fixtures: a clean environment and fresh databases (SQLite, PostgreSQL), runners on
the loopback fakes (harness/fakes/), clients pointed at them, and the browser tests' served app
and Chromium. Each fake is one per session, reset before every test that uses it.

`served_app` starts `streamlit run app.py` once per session as a real subprocess (its own process
group, killed at the end) on a free port, wired to the fakes with an API key, and waits until
`/api/health` answers (harness/live_app.py). `browser` is Debian's Chromium through Playwright;
when it cannot be had the tests fail and say why.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator

import anthropic
import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

import settings as settings_module
from api.routes import ROUTES
from db.engine import make_engine
from harness.chromium import CHROMIUM, CHROMIUM_ARGS
from harness.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic
from harness.fakes.github_api import FakeGitHub
from harness.fakes.server import FakeServer
from harness.fakes.site import FakeSite
from harness.fakes.wiring import PG_ADMIN_URL, SourceFakes, fake_services_env, shared_source_fakes
from harness.live_app import ServedApp, app_environment, serve_app
from pipeline.analyze import make_llm_client
from pipeline.fetch import make_site_client
from pipeline.github import make_github_client
from settings import Settings
from tests.api_contract import checked
from tests.helpers import DESKTOP, EXPECT_TIMEOUT_MS, LOCAL_POLICY, TEST_TOKEN
from worker.runner import Runner, shutdown_runner

LLM_TIMEOUT_S = 10.0
FAKES = ("fake_site", "fake_github", "fake_anthropic", "fake_sources")


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


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's Chromium, headless, through Playwright; without it the test fails, saying why."""
    reason = None
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            from playwright.sync_api import Error, expect, sync_playwright
        except ImportError as error:
            reason = f"Playwright is not installed: {error}"
    if reason:
        pytest.fail(f"browser tests cannot run: {reason}")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        except Error as error:
            pytest.fail(f"browser tests cannot run: Chromium did not start: {error.message.splitlines()[0]}")
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def served_app(browser, tmp_path_factory, fake_site, fake_github, fake_anthropic) -> Iterator[ServedApp]:
    """The app served by `streamlit run` for the whole session, on the fakes, with an API key."""
    workdir = tmp_path_factory.mktemp("served-app")
    env = app_environment(workdir, fake_services_env(fake_site, fake_github, fake_anthropic))
    app = serve_app(env, workdir)
    yield app
    app.stop()


@pytest.fixture
def app_url(served_app, fake_site, fake_github, fake_anthropic) -> str:
    """The served app's base URL; the fakes were reset for this test and Acme's blog is the fake site."""
    fake_services_env(fake_site, fake_github, fake_anthropic)  # the reset dropped Acme's homepage
    return served_app.url


@pytest.fixture
def context(browser) -> Iterator:
    """A fresh browser context (cookies, downloads) at a desktop size, closed after the test."""
    ctx = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    ctx.set_default_timeout(EXPECT_TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    """A tab in `context`."""
    return context.new_page()


def _serve(server: FakeServer) -> Iterator[FakeServer]:
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fake_site() -> Iterator[FakeSite]:
    """The Acme Robotics web site on a loopback port, shared by the session."""
    yield from _serve(FakeSite())


@pytest.fixture(scope="session")
def fake_github() -> Iterator[FakeGitHub]:
    """A fake GitHub REST API on a loopback port, shared by the session."""
    yield from _serve(FakeGitHub())


@pytest.fixture(scope="session")
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """A fake Anthropic Messages API on a loopback port, shared by the session."""
    yield from _serve(FakeAnthropic(api_key=DEFAULT_KEY))


@pytest.fixture(scope="session")
def fake_sources() -> Iterator[SourceFakes]:
    """The keyless sources' fakes (job boards, Wikipedia, Wikidata, Hacker News), shared by the session."""
    yield shared_source_fakes()


@pytest.fixture(autouse=True)
def _reset_fakes(request: pytest.FixtureRequest) -> None:
    """Each test starts with no scripted faults, no request history and the fakes' default data."""
    for name in FAKES:
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()


@pytest.fixture
def site_client() -> Iterator[httpx.Client]:
    """A pinned site client that may reach loopback fakes (LOCAL_POLICY)."""
    with make_site_client(LOCAL_POLICY) as client:
        yield client


@pytest.fixture
def github_client(fake_github: FakeGitHub) -> Iterator[httpx.Client]:
    """A GitHub client pointed at the fake, authenticated with `TEST_TOKEN`."""
    with make_github_client(fake_github.url, TEST_TOKEN) as client:
        yield client


@pytest.fixture
def llm(fake_anthropic: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    """An Anthropic client pointed at the fake, with the key it accepts."""
    client = make_llm_client(DEFAULT_KEY, fake_anthropic.url, LLM_TIMEOUT_S)
    yield client
    client.close()


@pytest.fixture
def client(app_env) -> Iterator[TestClient]:
    """The API's routes in a bare Starlette app on the fakes (the process runner starts on the first
    request); every response is checked against the OpenAPI document (tests/api_contract.py)."""
    with TestClient(Starlette(routes=ROUTES)) as test_client:
        test_client.event_hooks = {"request": [], "response": [checked]}
        yield test_client
