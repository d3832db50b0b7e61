"""Pytest plugin: one fake company site for the whole session, reset before each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pipeline.fetch import FetchPolicy, make_site_client
from tests.fakes.site import FakeSite

# The fakes listen on 127.0.0.1 with a random port, so tests lift the address and port checks.
LOCAL_POLICY = FetchPolicy(allow_private=True)


@pytest.fixture(scope="session")
def fake_site() -> Iterator[FakeSite]:
    """The Acme Robotics site on a loopback port, shared by the session."""
    server = FakeSite().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_fake_site(request: pytest.FixtureRequest) -> None:
    """Each test that uses `fake_site` starts with no scripted faults and no request history."""
    if "fake_site" in request.fixturenames:
        request.getfixturevalue("fake_site").reset()


@pytest.fixture
def site_client() -> Iterator[httpx.Client]:
    """A pinned site client that may reach loopback fakes (LOCAL_POLICY)."""
    with make_site_client(LOCAL_POLICY) as client:
        yield client
