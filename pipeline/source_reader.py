"""How the keyless sources (job boards, the blog, Wikipedia, Hacker News) are read: through the
same guarded fetcher and source cache as the company's pages, politely and within a budget.

    SourceApis(...)                                      where each public API lives (tests point them at fakes)
    Reader(client, policy, cache, deadline, interval_s)  one job's reads: .json(url), .text(url, accept),
                                                         .html(url), .allowed(url)

Politeness, shared by every job of the process (a job board or Wikipedia serves many jobs at
once): at most MAX_PER_HOST requests to one origin at a time, and the starts of two requests to
one origin at least the reader's interval apart (PREP_SOURCE_HOST_INTERVAL_MS), or what the
origin's robots.txt asks (Crawl-delay, Request-rate) when that is longer, up to MAX_SPACING_S.
Only requests that leave count: a reply the source cache serves waits for nothing. An origin's
robots.txt is read (through the source cache, outside the turns) by the first request about to
leave for it, and again after ROBOTS_RECHECK_S; every job of the process shares that copy, for
the spacing and for `allowed()`. A wait that would pass the job's deadline raises StepTimeout.
And a job sends at most MAX_REQUESTS_PER_JOB of these requests (robots.txt aside) in all, so a
name that matches nothing cannot turn into a crawl.
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
from pipeline.fetch import (
    FetchedPage,
    FetchPolicy,
    RobotsRules,
    fetch_html,
    fetch_json,
    fetch_text,
    origin,
    robots_rules,
)

MAX_PER_HOST = 4  # concurrent requests to one origin from this process
# Board probes (9), roles, posting, feeds (6), posts (3), Wikipedia and Wikidata (2), HN (1), with room.
MAX_REQUESTS_PER_JOB = 40
MAX_SPACING_S = 2.0  # the longest a robots.txt may space our requests, seconds: a hostile one cannot stall a job
ROBOTS_RECHECK_S = 3600.0  # this process reads an origin's robots.txt again after this long, seconds


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
    """One origin's politeness, shared by every job of the process: its gate, its last start, its robots.txt."""

    def __init__(self) -> None:
        self.gate = threading.BoundedSemaphore(MAX_PER_HOST)
        self._lock = threading.Lock()
        self._last_start = -math.inf  # time.monotonic() of the latest request's (planned) start
        self._robots: Future[RobotsRules] | None = None
        self._robots_at = 0.0  # time.monotonic() when it was read

    def robots(self, read: Callable[[], RobotsRules], deadline: float) -> RobotsRules:
        """The origin's robots.txt: `read()` by the first caller since ROBOTS_RECHECK_S; the others wait for it."""
        with self._lock:
            leader = self._robots is None or time.monotonic() - self._robots_at > ROBOTS_RECHECK_S
            if leader:
                self._robots, self._robots_at = Future(), time.monotonic()
            robots = self._robots
        if leader:
            try:
                robots.set_result(read())
            except BaseException as error:  # not kept: the next caller reads it again
                with self._lock:
                    if self._robots is robots:
                        self._robots = None
                robots.set_exception(error)
        try:
            return robots.result(timeout=max(0.0, deadline - time.monotonic()))
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
        """Whether the site's robots.txt lets the tool read `url` (the process's copy, at most ROBOTS_RECHECK_S old)."""
        return self._robots(url).can_fetch(self.policy.user_agent, url)

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
        try:
            spacing = min(MAX_SPACING_S, self._robots(url).spacing_s(self.policy.user_agent))
        except PipelineError:  # robots.txt cannot be read now: the interval alone
            spacing = 0.0
        ORIGINS.of(url).wait_turn(max(self.interval_s, spacing), self.deadline, url)

    def _robots(self, url: str) -> RobotsRules:
        """The robots.txt of `url`'s origin, read through the source cache when this process has no recent copy."""
        return ORIGINS.of(url).robots(
            lambda: robots_rules(url, self.client, self.policy, deadline=self.deadline, cache=self.cache), self.deadline
        )
