"""Pointing the app at the loopback fakes: one place for every test, fixture and benchmark."""

from __future__ import annotations

import threading
from dataclasses import replace

from harness.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic
from harness.fakes.github_api import ACME_REPOS, FakeGitHub
from harness.fakes.hacker_news import FakeHackerNews
from harness.fakes.job_boards import FakeAshby, FakeGreenhouse, FakeLever
from harness.fakes.server import FakeServer
from harness.fakes.site import FakeSite
from harness.fakes.wikipedia import ACME_ITEM, FakeWikidata, FakeWikipedia
from pipeline.source_reader import SourceApis

GITHUB_TOKEN = "test-token"
# The fakes are one loopback host each: a short interval keeps the politeness on without slowing the suite, ms.
FAKE_HOST_INTERVAL_MS = 5
PG_ADMIN_URL = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"  # the loopback PostgreSQL tests create databases on
)


class SourceFakes:
    """The keyless sources' fakes, started together: the three job boards, Wikipedia, Wikidata, Hacker News."""

    def __init__(self) -> None:
        self.greenhouse = FakeGreenhouse()
        self.lever = FakeLever()
        self.ashby = FakeAshby()
        self.wikipedia = FakeWikipedia()
        self.wikidata = FakeWikidata()
        self.hn = FakeHackerNews()

    @property
    def servers(self) -> dict[str, FakeServer]:
        """Each fake by the name its setting uses."""
        return {
            "GREENHOUSE": self.greenhouse,
            "LEVER": self.lever,
            "ASHBY": self.ashby,
            "WIKIPEDIA": self.wikipedia,
            "WIKIDATA": self.wikidata,
            "HN": self.hn,
        }

    def start(self) -> SourceFakes:
        """Start every fake."""
        for server in self.servers.values():
            server.start()
        return self

    def stop(self) -> None:
        """Stop every fake."""
        for server in self.servers.values():
            server.stop()

    def reset(self) -> None:
        """Every fake back to its default data, with no faults or request history."""
        for server in self.servers.values():
            server.reset()

    def know_nothing(self) -> None:
        """No board, article or story about anyone (until the next reset)."""
        self.greenhouse.boards.clear()
        self.lever.sites.clear()
        self.ashby.boards.clear()
        self.wikipedia.articles.clear()
        self.hn.stories.clear()

    def apis(self) -> SourceApis:
        """The API base URLs of these fakes, as a step is given them."""
        return replace(SourceApis(), **{name.lower(): server.url for name, server in self.servers.items()})

    def request_count(self) -> int:
        """How many API requests all of them have received: robots.txt aside, which a process reads
        once an hour per origin (pipeline/source_reader.py), whichever test happens to be first."""
        return sum(1 for server in self.servers.values() for r in server.requests if r.path != "/robots.txt")

    def env(self) -> dict[str, str]:
        """The settings that send the app's keyless sources to these fakes."""
        return {
            **{f"PREP_{name}_API_URL": server.url for name, server in self.servers.items()},
            "PREP_SOURCE_HOST_INTERVAL_MS": str(FAKE_HOST_INTERVAL_MS),
        }


_shared: SourceFakes | None = None
_shared_lock = threading.Lock()


def shared_source_fakes() -> SourceFakes:
    """This process's source fakes, started on first use (tests, fixtures and benchmarks share them)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SourceFakes().start()
        return _shared


def fake_services_env(
    site: FakeSite, github: FakeGitHub, llm: FakeAnthropic | None, sources: SourceFakes | None = None
) -> dict[str, str]:
    """Make Acme's GitHub homepage and Wikidata website the fake site, and return the settings that send the app to the
    fakes (with no Anthropic key when `llm` is None, so the offline analyzer writes briefings)."""
    github.add_org("acme-robotics", "Acme Robotics", blog=site.url, repos=ACME_REPOS)
    sources = sources or shared_source_fakes()
    sources.wikidata.set_website(ACME_ITEM, site.url + "/")
    env = {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": GITHUB_TOKEN, **sources.env()}
    if llm is not None:
        env.update(ANTHROPIC_API_KEY=DEFAULT_KEY, ANTHROPIC_BASE_URL=llm.url)
    return env
