"""Pytest plugin for the browser tests: the app served by `streamlit run`, and Chromium driving it.

`served_app` starts `streamlit run app.py` once per session as a real subprocess (its own process
group, killed at the end) on a free port, wired to the loopback fakes with an API key, and waits
until `/api/health` answers (see tests/live_app.py). `app_url` is that server's address for one
test, after registering the Acme organisation on the freshly reset fake GitHub. `browser` is
Debian's Chromium through Playwright; when it cannot be had the tests fail and say why.
Screenshots land in the git-ignored `test-artifacts/screenshots/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from settings import PROJECT_DIR
from tests.fakes.wiring import fake_services_env
from tests.live_app import ServedApp, app_environment, serve_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS_DIR = PROJECT_DIR / "test-artifacts" / "screenshots"
EXPECT_TIMEOUT_MS = 30_000  # Playwright's auto-waiting limit for one expectation, milliseconds
DESKTOP = {"width": 1280, "height": 900}


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


# Streamlit scrolls its main area, not the document, so a "full page" screenshot would stop at
# the viewport: the viewport is stretched to the content's height for the shot instead.
CONTENT_HEIGHT = """() => Math.max(
  document.scrollingElement.scrollHeight,
  ...[...document.querySelectorAll('[data-testid="stMain"], [data-testid="stAppViewContainer"]')]
    .map(element => element.scrollHeight))"""


def screenshot(page, name: str) -> Path:
    """Save a PNG of the whole of `page` as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS_DIR / f"{name}.png"
    viewport = page.viewport_size
    page.mouse.move(viewport["width"] - 2, viewport["height"] - 2)  # no hover effects in the picture
    height = page.evaluate(CONTENT_HEIGHT)
    if height > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": height})
    try:
        page.screenshot(path=str(path), full_page=True, animations="disabled")
    finally:
        page.set_viewport_size(viewport)
    return path
