"""scrape_website against the fake Acme Robotics site."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import httpx
import pytest

from core.errors import FetchRefused, NetworkError, ServiceUnavailable
from harness.fakes.server import Reply, Request
from harness.fakes.site import DESCRIPTION, EXTERNAL_LINK, TITLE, FakeSite
from pipeline.fetch import FetchPolicy
from pipeline.scrape import scrape_website
from tests.helpers import LOCAL_POLICY


def scrape(
    site: FakeSite,
    client: httpx.Client,
    *,
    deep: bool,
    path: str = "/",
    seconds: float = 5.0,
    policy: FetchPolicy = LOCAL_POLICY,
):
    return scrape_website(
        site.url + path,
        deep=deep,
        client=client,
        policy=policy,
        deadline=time.monotonic() + seconds,
    )


HANG_GUARD_S = 30.0  # longest a held answer waits: keeps a broken scraper from hanging the run


class Held:
    """Makes the site hold back its answers to `paths` until `release()`, counting the requests it is
    holding at once (`peak`); with `until_in_flight=n` it lets them all go as soon as n are held."""

    def __init__(self, site: FakeSite, paths: tuple[str, ...], until_in_flight: int | None = None) -> None:
        self.site, self.paths, self.until_in_flight = site, paths, until_in_flight
        self.in_flight = self.peak = self.answered = 0
        self._lock = threading.Lock()
        self._released = threading.Event()

    def handle(self, request: Request) -> Reply:
        if request.path in self.paths:
            with self._lock:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
                if self.in_flight == self.until_in_flight:
                    self._released.set()
            self._released.wait(HANG_GUARD_S)
            with self._lock:
                self.in_flight -= 1
                self.answered += 1
        return self.site.page(request.path)

    def release(self) -> None:
        self._released.set()


@pytest.fixture
def hold(fake_site: FakeSite, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Held]]:
    """`hold(*paths, until_in_flight=None) -> Held`, installed on the fake site; released at teardown."""
    made: list[Held] = []

    def make(*paths: str, until_in_flight: int | None = None) -> Held:
        held = Held(fake_site, paths, until_in_flight)
        monkeypatch.setattr(fake_site, "handle", held.handle)
        made.append(held)
        return held

    yield make
    for held in made:
        held.release()


def test_reads_the_home_page(fake_site: FakeSite, site_client: httpx.Client) -> None:
    site = scrape(fake_site, site_client, deep=False)
    assert site.skipped_reason is None
    assert site.url == fake_site.url + "/"
    assert site.title == TITLE
    assert site.meta_description == DESCRIPTION
    assert site.headings == ["Robots that sort your warehouse", "Our stack", "Customers"]
    assert all(word in site.content for word in ("Python", "Kubernetes", "PostgreSQL"))
    assert site.fetched_urls == [fake_site.url + "/"]
    assert [r.path for r in fake_site.requests] == ["/robots.txt", "/"]


def test_top_level_fields_come_from_the_page_after_redirects(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/start", Reply(301, headers={"Location": "/"}))
    site = scrape(fake_site, site_client, deep=False, path="/start")
    assert site.url == fake_site.url + "/"
    assert site.fetched_urls == [fake_site.url + "/"]


def test_deep_mode_reads_four_linked_pages_in_parallel(
    fake_site: FakeSite, site_client: httpx.Client, hold: Callable[..., Held]
) -> None:
    # The site answers no deep page until four are waiting at once: only parallel fetches get all four.
    held = hold("/about", "/careers", "/engineering", "/blog", "/product", until_in_flight=4)
    site = scrape(fake_site, site_client, deep=True)
    assert held.peak == 4
    expected = ["/", "/about", "/careers", "/product", "/engineering"]  # most useful kinds first, at most 4
    assert site.fetched_urls == [fake_site.url + path for path in expected]
    assert fake_site.text_of("/about") in site.pages[1].content
    assert site.pages[2].title == "Careers at Acme"
    assert site.title == TITLE  # top-level fields are the home page's
    assert fake_site.hits("/blog") == 0
    assert fake_site.hits("/robots.txt") == 1  # one robots.txt for the whole site
    assert not any(EXTERNAL_LINK in url for url in site.fetched_urls)


def test_a_failing_deep_page_is_skipped(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/careers", Reply(500, b"boom"))
    fake_site.fail("/about", Reply(200, b"%PDF-1.4", {"Content-Type": "application/pdf"}))
    site = scrape(fake_site, site_client, deep=True)
    assert site.fetched_urls == [fake_site.url + path for path in ("/", "/product", "/engineering")]
    assert fake_site.hits("/careers") == 1 and fake_site.hits("/about") == 1


def test_deep_pages_disallowed_by_robots_are_not_requested(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /careers\n", {"Content-Type": "text/plain"}))
    site = scrape(fake_site, site_client, deep=True)
    assert fake_site.url + "/careers" not in site.fetched_urls
    assert fake_site.hits("/careers") == 0
    assert len(site.pages) == 5  # blog takes the free place


def test_a_slow_deep_page_does_not_hold_the_step_past_its_deadline(
    fake_site: FakeSite, site_client: httpx.Client, hold: Callable[..., Held]
) -> None:
    held = hold("/about")  # answered only at teardown, or after HANG_GUARD_S
    patient = replace(LOCAL_POLICY, page_timeout_s=2 * HANG_GUARD_S)  # only the step deadline can cut it short
    site = scrape(fake_site, site_client, deep=True, seconds=0.8, policy=patient)
    # The step came back while the site was still sitting on /about: it did not wait for the answer.
    assert fake_site.hits("/about") == 1 and held.answered == 0
    assert fake_site.url + "/about" not in site.fetched_urls
    assert len(site.pages) == 4


def test_home_page_errors_propagate_when_a_url_was_given(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/", Reply(503, b"busy", {"Retry-After": "4"}))
    with pytest.raises(ServiceUnavailable) as caught:
        scrape(fake_site, site_client, deep=True)
    assert caught.value.retry_after == 4.0


def test_home_page_disallowed_by_robots_is_refused(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /\n", {"Content-Type": "text/plain"}))
    with pytest.raises(FetchRefused, match="robots.txt"):
        scrape(fake_site, site_client, deep=False)
    assert fake_site.hits("/") == 0


def test_an_unreachable_site_given_by_url_is_a_network_error(site_client: httpx.Client) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NetworkError):
        scrape_website(
            f"http://127.0.0.1:{port}/", deep=False, client=site_client, policy=LOCAL_POLICY,
            deadline=time.monotonic() + 5,
        )  # fmt: skip
