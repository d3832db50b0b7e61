"""How the keyless sources (job boards, the blog, Wikipedia, Hacker News) are read: through the
same guarded fetcher and source cache as the company's pages, politely and within a budget.

    SourceApis(...)                          where each public API lives (tests point them at fakes)
    Reader(client, policy, cache, deadline, interval_s)  one job's reads: .json(url), .text(url, accept), .html(url)

Politeness, shared by every job of the process (a job board or Wikipedia serves many jobs at
once): at most MAX_PER_HOST requests to one origin at a time, and the starts of two requests to
one origin at least the reader's interval apart (PREP_SOURCE_HOST_INTERVAL_MS), or what the
origin's robots.txt asks (Crawl-delay, Request-rate) when that is longer, up to MAX_SPACING_S.
Only requests that leave count: a reply the source cache serves waits for nothing. The robots.txt
itself is read (through the cache) when a request is about to leave and the origin's spacing is
not known or older than ROBOTS_RECHECK_S; a wait that would pass the job's deadline raises
StepTimeout. And a job sends at most MAX_REQUESTS_PER_JOB of these requests in all, so a name
that matches nothing cannot turn into a crawl.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import httpx

from core.errors import FetchRefused, PipelineError, StepTimeout
from pipeline.cache import SourceCache
from pipeline.fetch import FetchedPage, FetchPolicy, fetch_html, fetch_json, fetch_text, origin, robots_rules

MAX_PER_HOST = 4  # concurrent requests to one origin from this process
MAX_REQUESTS_PER_JOB = (
    40  # board probes (9), roles, posting, feed, posts, Wikipedia and Wikidata (2), HN (1), with room
)
MAX_SPACING_S = 2.0  # the longest a robots.txt may space our requests, seconds: a hostile one cannot stall a job
ROBOTS_RECHECK_S = 3600.0  # an origin's robots.txt spacing is read again after this long, seconds


@dataclass(frozen=True)
class SourceApis:
    """The base URLs of the public APIs, without a trailing slash."""

    greenhouse: str = "https://boards-api.greenhouse.io"
    lever: str = "https://api.lever.co"
    ashby: str = "https://api.ashbyhq.com"
    wikipedia: str = "https://en.wikipedia.org"
    wikidata: str = "https://www.wikidata.org"
    hn: str = "https://hn.algolia.com"


class _Origin:
    """One origin's politeness, shared by every job of the process: its gate, its last start, its robots.txt spacing."""

    def __init__(self) -> None:
        self.gate = threading.BoundedSemaphore(MAX_PER_HOST)
        self._lock = threading.Lock()
        self._last_start = -math.inf  # time.monotonic() of the latest request's (planned) start
        self._spacing: Future[float] | None = None
        self._spacing_at = 0.0

    def spacing_s(self, read: Callable[[], float], deadline: float) -> float:
        """The robots.txt spacing, seconds: `read()` by the first caller since ROBOTS_RECHECK_S; the others wait."""
        with self._lock:
            leader = self._spacing is None or time.monotonic() - self._spacing_at > ROBOTS_RECHECK_S
            if leader:
                self._spacing, self._spacing_at = Future(), time.monotonic()
            spacing = self._spacing
        if leader:
            value = 0.0
            try:
                value = min(MAX_SPACING_S, max(0.0, read()))
            except PipelineError:  # robots.txt unreadable now: the interval alone, and the next request asks again
                with self._lock:
                    self._spacing = None
            finally:
                spacing.set_result(value)
        try:
            return spacing.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            raise StepTimeout("Waiting for another job's read of a robots.txt ran out of time.") from None

    def wait_turn(self, interval_s: float, deadline: float, url: str) -> None:
        """Sleep until `interval_s` after the latest start planned here; StepTimeout if that passes `deadline`."""
        with self._lock:
            start = max(time.monotonic(), self._last_start + interval_s)
            if start > deadline:
                raise StepTimeout(f"Waiting for a turn to read {url} ran out of time.")
            self._last_start = start
        time.sleep(max(0.0, start - time.monotonic()))


class _Origins:
    """Every origin's `_Origin`, made on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._origins: dict[tuple, _Origin] = defaultdict(_Origin)

    def of(self, url: str) -> _Origin:
        with self._lock:
            return self._origins[origin(url)]


ORIGINS = _Origins()


@dataclass
class Reader:
    """One job's reads of outside sources: guarded, cached, polite, counted."""

    client: httpx.Client
    policy: FetchPolicy
    cache: SourceCache | None
    deadline: float  # time.monotonic() by which every read must end
    interval_s: float  # the least time between two request starts to one origin, seconds (PREP_SOURCE_HOST_INTERVAL_MS)
    max_requests: int = MAX_REQUESTS_PER_JOB
    _sent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def json(self, url: str) -> object:
        """The JSON at `url`; a 404 is cached like an answer ("no such board" stays known)."""
        return self._polite(
            url,
            lambda: fetch_json(
                url, self.client, self.policy, deadline=self.deadline, cache=self.cache, before_send=self._turn
            ),
        )

    def text(self, url: str, accept: tuple[str, ...]) -> FetchedPage:
        """A document of one of the `accept` types (a feed)."""
        return self._polite(
            url,
            lambda: fetch_text(
                url,
                self.client,
                self.policy,
                accept=accept,
                deadline=self.deadline,
                cache=self.cache,
                before_send=self._turn,
            ),
        )

    def html(self, url: str) -> FetchedPage:
        """An HTML page."""
        return self._polite(
            url,
            lambda: fetch_html(
                url, self.client, self.policy, deadline=self.deadline, cache=self.cache, before_send=self._turn
            ),
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
        gate = ORIGINS.of(url).gate
        if not gate.acquire(timeout=max(0.0, self.deadline - time.monotonic())):
            raise StepTimeout(f"Waiting for a turn to read {url} ran out of time.")
        try:
            return read()
        finally:
            gate.release()

    def _turn(self, url: str) -> None:
        """Just before a request to `url` leaves: wait for the origin's turn (a redirect's target has its own)."""
        place = ORIGINS.of(url)
        spacing = place.spacing_s(
            lambda: robots_rules(url, self.client, self.policy, deadline=self.deadline, cache=self.cache).spacing_s(
                self.policy.user_agent
            ),
            self.deadline,
        )
        place.wait_turn(max(self.interval_s, spacing), self.deadline, url)
