"""Pytest plugin for the browser tests: the app served by `streamlit run`, and Chromium driving it.

`served_app` starts `streamlit run app.py` once per session as a real subprocess (its own process
group, killed at the end) on a free port, wired to the loopback fakes with an API key, and waits
until `/api/health` answers. `app_url` is that server's address for one test, after registering
the Acme organisation on the freshly reset fake GitHub. `serve_app()` starts another one, e.g.
without an API key. `browser` is Debian's Chromium through Playwright; when it cannot be had the
tests skip and say why. Screenshots land in the git-ignored `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from settings import KEYS, PROJECT_DIR
from tests.fakes.github_api import ACME_REPOS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS_DIR = PROJECT_DIR / "test-artifacts" / "screenshots"
STARTUP_TIMEOUT_S = 60.0  # how long `streamlit run` may take to answer /api/health, seconds
STOP_TIMEOUT_S = 10.0  # how long it may take to exit after SIGTERM before SIGKILL, seconds
EXPECT_TIMEOUT_MS = 30_000  # Playwright's auto-waiting limit for one expectation, milliseconds
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class ServedApp:
    """A `streamlit run app.py` subprocess and where it listens."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """End the server's whole process group: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(workdir: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: ours minus every app setting, a private HOME (so no secrets file
    of the developer is read) and a fresh SQLite file, then `extra`."""
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in KEYS}
    env.update(
        HOME=str(home),
        DATABASE_URL=f"sqlite:///{workdir / 'prep.db'}",
        PREP_ALLOW_PRIVATE_URLS="1",
        PREP_WORKERS="2",
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    env.update(extra)
    return env


def serve_app(env: Mapping[str, str], workdir: Path) -> ServedApp:
    """Start `streamlit run app.py` in its own process group; returns once /api/health answers."""
    port = free_port()
    log_path = workdir / "streamlit.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=PROJECT_DIR, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    app = ServedApp(f"http://127.0.0.1:{port}", process, log_path)
    give_up = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{app.log()}")
        try:
            if httpx.get(f"{app.url}/api/health", timeout=2.0).status_code == 200:
                return app
        except httpx.TransportError:
            pass
        if time.monotonic() > give_up:
            app.stop()
            raise RuntimeError(f"streamlit did not answer within {STARTUP_TIMEOUT_S} s:\n{app.log()}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Debian's Chromium, headless, through Playwright; the test skips, saying why, without it."""
    reason = None
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    else:
        try:
            from playwright.sync_api import Error, expect, sync_playwright
        except ImportError as error:
            reason = f"Playwright is not installed: {error}"
    if reason:
        print(f"\nbrowser tests skipped: {reason}", file=sys.stderr)
        pytest.skip(reason)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        except Error as error:
            reason = f"Chromium did not start: {error.message.splitlines()[0]}"
            print(f"\nbrowser tests skipped: {reason}", file=sys.stderr)
            pytest.skip(reason)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def served_app(browser, tmp_path_factory, fake_site, fake_github, fake_anthropic) -> Iterator[ServedApp]:
    """The app served by `streamlit run` for the whole session, on the fakes, with an API key."""
    workdir = tmp_path_factory.mktemp("served-app")
    env = app_environment(workdir, {
        "ANTHROPIC_API_KEY": "test-key",
        "ANTHROPIC_BASE_URL": fake_anthropic.url,
        "GITHUB_API_URL": fake_github.url,
        "GITHUB_TOKEN": "test-token",
    })  # fmt: skip
    app = serve_app(env, workdir)
    yield app
    app.stop()


@pytest.fixture
def app_url(served_app, fake_site, fake_github, fake_anthropic) -> str:
    """The served app's base URL; the fakes were reset for this test and Acme's blog is the fake site."""
    fake_github.add_org("acme-robotics", "Acme Robotics", blog=fake_site.url, repos=ACME_REPOS)
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


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG of `page` as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path
