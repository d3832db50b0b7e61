"""Pytest plugin: one fake GitHub API for the whole session, reset before each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pipeline.github import make_github_client
from tests.fakes.github_api import FakeGitHub

TEST_TOKEN = "test-token"


@pytest.fixture(scope="session")
def fake_github() -> Iterator[FakeGitHub]:
    """A fake GitHub REST API on a loopback port, shared by the session."""
    server = FakeGitHub().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_fake_github(request: pytest.FixtureRequest) -> None:
    """Each test that uses `fake_github` starts from the default dataset, no faults, full limits."""
    if "fake_github" in request.fixturenames:
        request.getfixturevalue("fake_github").reset()


@pytest.fixture
def github_client(fake_github: FakeGitHub) -> Iterator[httpx.Client]:
    """A GitHub client pointed at the fake, authenticated with `TEST_TOKEN`."""
    with make_github_client(fake_github.url, TEST_TOKEN) as client:
        yield client
