"""How the keyless sources (job boards, the blog, Wikipedia, Hacker News) are read: through the
same guarded fetcher and source cache as the company's pages, politely and within a budget.

    SourceApis(...)                          where each public API lives (tests point them at fakes)
    Reader(client, policy, cache, deadline)  one job's reads: .json(url), .text(url, accept), .html(url)

Politeness: at most MAX_PER_HOST requests to one host at a time from this process (a job board
or Wikipedia serves many jobs at once), and a job sends at most MAX_REQUESTS_PER_JOB of these
requests in all, so a name that matches nothing cannot turn into a crawl.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from core.errors import FetchRefused, StepTimeout
from pipeline.cache import SourceCache
from pipeline.fetch import FetchedPage, FetchPolicy, fetch_html, fetch_json, fetch_text, robots_rules

MAX_PER_HOST = 4  # concurrent requests to one host from this process
MAX_REQUESTS_PER_JOB = 40  # board probes (9), roles, posting, feed, posts, Wikipedia (3), HN (1), with room


@dataclass(frozen=True)
class SourceApis:
    """The base URLs of the public APIs, without a trailing slash."""

    greenhouse: str = "https://boards-api.greenhouse.io"
    lever: str = "https://api.lever.co"
    ashby: str = "https://api.ashbyhq.com"
    wikipedia: str = "https://en.wikipedia.org"
    wikidata: str = "https://www.wikidata.org"
    hn: str = "https://hn.algolia.com"


class _HostGate:
    """Per-host semaphores shared by every job of the process."""

    def __init__(self, per_host: int) -> None:
        self._lock = threading.Lock()
        self._gates: dict[str, threading.BoundedSemaphore] = defaultdict(lambda: threading.BoundedSemaphore(per_host))

    def gate(self, url: str) -> threading.BoundedSemaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            return self._gates[host]


HOSTS = _HostGate(MAX_PER_HOST)


@dataclass
class Reader:
    """One job's reads of outside sources: guarded, cached, polite, counted."""

    client: httpx.Client
    policy: FetchPolicy
    cache: SourceCache | None
    deadline: float  # time.monotonic() by which every read must end
    max_requests: int = MAX_REQUESTS_PER_JOB
    _sent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def json(self, url: str) -> object:
        """The JSON at `url`; a 404 is cached like an answer ("no such board" stays known)."""
        return self._polite(
            url, lambda: fetch_json(url, self.client, self.policy, deadline=self.deadline, cache=self.cache)
        )

    def text(self, url: str, accept: tuple[str, ...]) -> FetchedPage:
        """A document of one of the `accept` types (a feed)."""
        return self._polite(
            url,
            lambda: fetch_text(url, self.client, self.policy, accept=accept, deadline=self.deadline, cache=self.cache),
        )

    def html(self, url: str) -> FetchedPage:
        """An HTML page."""
        return self._polite(
            url, lambda: fetch_html(url, self.client, self.policy, deadline=self.deadline, cache=self.cache)
        )

    def allowed(self, url: str) -> bool:
        """Whether the site's robots.txt lets the tool read `url` (read through the cache, like a page)."""
        rules = self._polite(
            url, lambda: robots_rules(url, self.client, self.policy, deadline=self.deadline, cache=self.cache)
        )
        return rules.can_fetch(self.policy.user_agent, url)

    def _polite(self, url, read):
        with self._lock:
            if self._sent >= self.max_requests:
                raise FetchRefused(f"{url} was not read: this job's {self.max_requests} outside requests are used up.")
            self._sent += 1
        gate = HOSTS.gate(url)
        if not gate.acquire(timeout=max(0.0, self.deadline - time.monotonic())):
            raise StepTimeout(f"Waiting for a turn to read {url} ran out of time.")
        try:
            return read()
        finally:
            gate.release()
