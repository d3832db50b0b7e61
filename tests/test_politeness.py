"""Politeness to the keyless sources' hosts, shared by every job of the process: request starts to
one origin at least the interval apart, or what its robots.txt asks (capped), within the deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
from protego import Protego

from core.errors import StepTimeout
from db.engine import make_engine
from db.source_cache import DbCacheStore
from harness.fakes.server import FakeServer, Reply, Request
from pipeline.cache import SourceCache
from pipeline.fetch import USER_AGENT, RobotsRules
from pipeline.source_reader import MAX_SPACING_S, Reader
from tests.helpers import LOCAL_POLICY

# A request's start is paced; its arrival at the server comes a little later, by an amount that a
# busy machine can stretch for one request and not the next (seconds): the slack of the lower bound.
ARRIVAL_JITTER_S = 0.05


class ClockedApi(FakeServer):
    """A JSON API that notes when each request arrives, with the robots.txt it is given."""

    def __init__(self, robots: str = "") -> None:
        super().__init__()
        self.robots = robots
        self.arrivals: list[float] = []  # time.monotonic() of each request but robots.txt

    def handle(self, request: Request) -> Reply:
        if request.path == "/robots.txt":
            return Reply(200, self.robots.encode(), {"Content-Type": "text/plain"})
        with self._lock:
            self.arrivals.append(time.monotonic())
        return Reply.json({"path": request.path})

    def gaps(self) -> list[float]:
        """The time between each arrival and the next, seconds."""
        return [later - earlier for earlier, later in pairwise(sorted(self.arrivals))]


@pytest.fixture
def clocked() -> Iterator[type[ClockedApi]]:
    """Start fresh `ClockedApi`s (a new origin each, as the pacing remembers origins for the process)."""
    started: list[ClockedApi] = []

    def start(robots: str = "") -> ClockedApi:
        started.append(ClockedApi(robots).start())
        return started[-1]

    yield start
    for server in started:
        server.stop()


def _reader(client, interval_s: float, seconds: float = 10) -> Reader:
    return Reader(client, LOCAL_POLICY, None, time.monotonic() + seconds, interval_s)


def test_two_jobs_reading_one_host_at_once_leave_the_interval_between_starts(clocked, site_client):
    api = clocked()
    interval_s = 0.2
    jobs = [_reader(site_client, interval_s), _reader(site_client, interval_s)]
    urls = [(job, f"{api.url}/v1/{n}") for job in jobs for n in range(4)]

    with ThreadPoolExecutor(max_workers=len(urls)) as pool:
        answers = list(pool.map(lambda pair: pair[0].json(pair[1]), urls))

    assert [a["path"] for a in answers] == [f"/v1/{n}" for _ in jobs for n in range(4)]
    assert len(api.gaps()) == 7
    assert min(api.gaps()) >= interval_s - ARRIVAL_JITTER_S, api.gaps()


def test_a_crawl_delay_longer_than_the_interval_is_honoured_up_to_the_cap(clocked, site_client):
    api = clocked("User-agent: *\nCrawl-delay: 3600\n")  # an hour: capped, or the second read would time out

    for job in (_reader(site_client, 0.005, seconds=MAX_SPACING_S + 5), _reader(site_client, 0.005)):
        job.json(f"{api.url}/v1/roles")

    assert api.gaps() and api.gaps()[0] >= MAX_SPACING_S - ARRIVAL_JITTER_S
    assert api.hits("/robots.txt") == 1  # the second job used what the first one read


def test_every_job_shares_the_process_copy_of_an_origins_robots_txt(clocked, site_client):
    api = clocked("User-agent: *\nDisallow: /private\n")
    first, second = _reader(site_client, 0.005), _reader(site_client, 0.005)

    first.json(f"{api.url}/v1/roles")

    assert not second.allowed(f"{api.url}/private/plans") and second.allowed(f"{api.url}/blog/post")
    assert api.hits("/robots.txt") == 1


def test_a_turn_that_would_pass_the_deadline_is_a_step_timeout(clocked, site_client):
    api = clocked("User-agent: *\nCrawl-delay: 30\n")
    job = _reader(site_client, 0.005, seconds=MAX_SPACING_S / 2)
    job.json(f"{api.url}/v1/first")

    with pytest.raises(StepTimeout, match="Waiting for a turn"):
        job.json(f"{api.url}/v1/second")
    assert len(api.arrivals) == 1


def test_the_spacing_robots_txt_asks_is_its_crawl_delay_or_request_rate_whichever_is_longer():
    def spacing(text: str) -> float:
        return RobotsRules("https://acme.example/robots.txt", Protego.parse(text)).spacing_s(USER_AGENT)

    assert spacing("") == 0.0
    assert spacing("User-agent: *\nCrawl-delay: 1.5\n") == 1.5
    assert spacing("User-agent: *\nRequest-rate: 10/1m\n") == 6.0
    assert spacing("User-agent: *\nCrawl-delay: 1\nRequest-rate: 1/3s\n") == 3.0
    assert spacing("User-agent: OtherBot\nCrawl-delay: 9\n") == 0.0


def test_a_reply_the_cache_serves_waits_for_no_turn(clocked, site_client, tmp_path):
    api = clocked("User-agent: *\nCrawl-delay: 30\n")
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    cache = SourceCache(DbCacheStore(engine), ttl_s=86400.0)
    job = Reader(site_client, LOCAL_POLICY, cache, time.monotonic() + MAX_SPACING_S / 2, 0.005)

    # The second read sends nothing, so it waits for no turn (a turn would pass the deadline).
    assert job.json(f"{api.url}/v1/roles") == job.json(f"{api.url}/v1/roles") == {"path": "/v1/roles"}
    assert len(api.arrivals) == 1
    engine.dispose()
