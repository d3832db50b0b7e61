"""Pytest plugin: one fake Anthropic API for the whole session, reset before each test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest

from pipeline.analyze import make_llm_client
from tests.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic

LLM_TIMEOUT_S = 10.0


@pytest.fixture(scope="session")
def fake_anthropic() -> Iterator[FakeAnthropic]:
    """A fake Anthropic Messages API on a loopback port, shared by the session."""
    server = FakeAnthropic(api_key=DEFAULT_KEY).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_fake_anthropic(request: pytest.FixtureRequest) -> None:
    """Each test that uses `fake_anthropic` starts with no calls, no queued replies, no faults."""
    if "fake_anthropic" in request.fixturenames:
        request.getfixturevalue("fake_anthropic").reset()


@pytest.fixture
def llm(fake_anthropic: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    """An Anthropic client pointed at the fake, with the key it accepts."""
    client = make_llm_client(DEFAULT_KEY, fake_anthropic.url, LLM_TIMEOUT_S)
    yield client
    client.close()
