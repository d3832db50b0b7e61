"""Pointing the app at the three loopback fakes: one place for every test, fixture and benchmark."""

from __future__ import annotations

from harness.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic
from harness.fakes.github_api import ACME_REPOS, FakeGitHub
from harness.fakes.site import FakeSite

GITHUB_TOKEN = "test-token"
PG_ADMIN_URL = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"  # the loopback PostgreSQL tests create databases on
)


def fake_services_env(site: FakeSite, github: FakeGitHub, llm: FakeAnthropic | None) -> dict[str, str]:
    """Make Acme's GitHub homepage the fake site, and return the settings that send the app to the
    fakes (with no Anthropic key when `llm` is None, so the offline analyzer writes briefings)."""
    github.add_org("acme-robotics", "Acme Robotics", blog=site.url, repos=ACME_REPOS)
    env = {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": GITHUB_TOKEN}
    if llm is not None:
        env.update(ANTHROPIC_API_KEY=DEFAULT_KEY, ANTHROPIC_BASE_URL=llm.url)
    return env
