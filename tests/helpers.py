"""What tests share besides fixtures: pages in AppTest, a job count, screenshots, the fakes' policy."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, reading
from db.models import Job
from harness.fakes.wiring import FAKE_HOST_INTERVAL_MS
from pipeline.cache import SourceCache
from pipeline.fetch import FetchPolicy
from pipeline.source_reader import Reader
from settings import PROJECT_DIR

TEST_TOKEN = "test-token"
# The fakes listen on 127.0.0.1 with a random port, so tests lift the address and port checks.
LOCAL_POLICY = FetchPolicy(allow_private=True)
SCREENSHOTS_DIR = PROJECT_DIR / "test-artifacts" / "screenshots"  # git-ignored
EXPECT_TIMEOUT_MS = 30_000  # Playwright's auto-waiting limit for one expectation, milliseconds
DESKTOP = {"width": 1280, "height": 900}


def source_reader(client: httpx.Client, cache: SourceCache | None = None, *, seconds: float = 10) -> Reader:
    """A job's reader of the keyless sources on the fakes: `seconds` to its deadline, the fakes' host interval."""
    return Reader(client, LOCAL_POLICY, cache, time.monotonic() + seconds, FAKE_HOST_INTERVAL_MS / 1000)


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
