"""Pytest plugin: the loopback fakes, one of each for the whole session, each reset before
every test that uses it, and clients pointed at them."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import httpx
import pytest

from pipeline.analyze import make_llm_client
from pipeline.fetch import FetchPolicy, make_site_client
from pipeline.github import make_github_client
from tests.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic
from tests.fakes.github_api import FakeGitHub
from tests.fakes.server import FakeServer
from tests.fakes.site import FakeSite
from tests.fakes.wiring import SourceFakes, shared_source_fakes

LLM_TIMEOUT_S = 10.0
TEST_TOKEN = "test-token"
# The fakes listen on 127.0.0.1 with a random port, so tests lift the address and port checks.
LOCAL_POLICY = FetchPolicy(allow_private=True)
FAKES = ("fake_site", "fake_github", "fake_anthropic", "fake_sources")


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
