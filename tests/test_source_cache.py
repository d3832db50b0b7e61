"""The source cache under the fetcher, and the shared GitHub budget, on real databases and the fake site."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pytest

from core.errors import FetchRefused, StepTimeout, UnsafeUrl
from core.github_budget import Verdict, Window
from db.engine import make_engine
from db.github_budget import DbBudget
from db.source_cache import DbCacheStore
from harness.fakes.server import Reply
from harness.fakes.site import FakeSite
from pipeline.cache import SourceCache
from pipeline.fetch import FetchPolicy, fetch_html
from tests.helpers import LOCAL_POLICY

DAY_S = 86400.0


@pytest.fixture
def engine(any_db_url):
    """A fresh database with the tables, on SQLite and on PostgreSQL."""
    engine = make_engine(any_db_url)
    yield engine
    engine.dispose()


def _soon() -> float:
    return time.monotonic() + 5


def test_a_page_over_the_cap_or_of_the_wrong_type_is_never_cached(engine, fake_site: FakeSite, site_client):
    cache = SourceCache(DbCacheStore(engine), ttl_s=DAY_S)
    small = replace(LOCAL_POLICY, max_bytes=1000, max_decompressed_bytes=1000)
    fake_site.fail("/about", Reply.html("<p>" + "x" * 5000 + "</p>"))
    fake_site.fail("/careers", Reply(200, b"%PDF-1.7", {"Content-Type": "application/pdf"}))

    with pytest.raises(FetchRefused, match="larger than"):
        fetch_html(fake_site.url + "/about", site_client, small, deadline=_soon(), cache=cache)
    with pytest.raises(FetchRefused, match="not a web page"):
        fetch_html(fake_site.url + "/careers", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache)

    assert cache.store.load(f"page-private {fake_site.url}/about") is None
    assert cache.store.load(f"page-private {fake_site.url}/careers") is None
    page = fetch_html(fake_site.url + "/about", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache)
    assert "Founded in 2015" in page.html  # read again, since nothing was kept
    assert fake_site.hits("/about") == 2
    assert cache.store.load(f"page-private {fake_site.url}/about") is not None  # and this one was kept


def test_an_error_page_is_never_cached(engine, fake_site: FakeSite, site_client):
    cache = SourceCache(DbCacheStore(engine), ttl_s=DAY_S)
    fake_site.fail("/", Reply.html("<h1>busy</h1>", status=503))
    with pytest.raises(Exception, match="503"):
        fetch_html(fake_site.url + "/", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache)
    assert cache.store.load(f"page-private {fake_site.url}/") is None
    fetch_html(fake_site.url + "/", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache)
    assert cache.store.load(f"page-private {fake_site.url}/").status == 200


def test_what_a_private_policy_stored_is_never_served_to_a_public_one(engine, fake_site: FakeSite, site_client):
    cache = SourceCache(DbCacheStore(engine), ttl_s=DAY_S)
    fetch_html(fake_site.url + "/", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache)

    with pytest.raises(UnsafeUrl):
        fetch_html(fake_site.url + "/", site_client, FetchPolicy(), deadline=_soon(), cache=cache)
    assert fake_site.hits("/") == 1


def test_a_cached_page_is_served_without_a_request_and_refresh_reads_it_again(engine, fake_site, site_client):
    cache = SourceCache(DbCacheStore(engine), ttl_s=DAY_S)
    first = fetch_html(fake_site.url + "/", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache)
    again = fetch_html(fake_site.url + "/", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache)
    assert again == first and fake_site.hits("/") == 1

    fetch_html(fake_site.url + "/", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache.for_job(refresh=True))
    assert fake_site.hits("/") == 2 and fake_site.conditional_hits() == 0


def test_a_stale_redirected_page_is_revalidated_at_the_url_that_answered(engine, fake_site, site_client):
    cache = SourceCache(DbCacheStore(engine), ttl_s=0)
    fake_site.fail("/home", Reply(301, headers={"Location": "/"}), Reply(301, headers={"Location": "/"}))
    fetch_html(fake_site.url + "/home", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache)

    page = fetch_html(fake_site.url + "/home", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache)

    assert page.url == fake_site.url + "/" and "Robots that sort" in page.html
    asked = [(r.path, "if-none-match" in r.headers) for r in fake_site.requests]
    assert asked == [("/home", False), ("/", False), ("/home", False), ("/", True)]


def test_concurrent_reads_of_one_url_share_one_fetch(engine, fake_site: FakeSite, site_client):
    cache = SourceCache(DbCacheStore(engine), ttl_s=DAY_S)
    fake_site.fail("/about", replace(fake_site.page("/about"), delay_s=0.5))

    def read(_: int):
        return fetch_html(fake_site.url + "/about", site_client, LOCAL_POLICY, deadline=_soon(), cache=cache)

    with ThreadPoolExecutor(max_workers=6) as pool:
        pages = list(pool.map(read, range(6)))

    assert fake_site.hits("/about") == 1
    assert len({page.html for page in pages}) == 1


def test_without_a_cache_nothing_is_shared(fake_site: FakeSite, site_client: httpx.Client):
    fetch_html(fake_site.url + "/", site_client, LOCAL_POLICY, deadline=_soon())
    fetch_html(fake_site.url + "/", site_client, LOCAL_POLICY, deadline=_soon())
    assert fake_site.hits("/") == 2


def test_two_budgets_on_one_database_never_spend_the_same_request(engine):
    # Two DbBudget objects stand for two processes: they share nothing but the table.
    processes = [DbBudget(engine, authenticated=False), DbBudget(engine, authenticated=False)]
    processes[0].observe(Window("core", 60, 7, int(time.time()) + 3600))

    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(lambda i: processes[i % 2].take("core"), range(20)))

    assert verdicts.count(Verdict.GRANTED) == 7
    assert verdicts.count(Verdict.DENIED) == 13
    assert processes[1].window("core").remaining == 0


def test_budget_windows_merge_by_reset_time(engine):
    budget = DbBudget(engine, authenticated=True)
    now = int(time.time())
    assert budget.take("core") is Verdict.UNKNOWN  # nothing known yet: read /rate_limit first
    budget.observe(Window("core", 5000, 4000, now + 600))
    budget.observe(Window("core", 5000, 4100, now + 600))  # a late reply: the lower count stands
    assert budget.window("core").remaining == 4000
    budget.observe(Window("core", 5000, 4990, now + 4200))  # a new window replaces the old one
    assert budget.window("core").remaining == 4990
    budget.observe(Window("core", 5000, 1, now + 600))  # a reply from the old window is ignored
    assert budget.window("core").remaining == 4990
    assert budget.take("core") is Verdict.GRANTED and budget.window("core").remaining == 4989
    budget.give_back("core")
    assert budget.window("core").remaining == 4990
    assert DbBudget(engine, authenticated=False).window("core") is None  # another account, another budget
    budget.observe(Window("search", 30, 30, now - 1))  # already reset: it says nothing
    assert budget.window("search") is None and budget.take("search") is Verdict.UNKNOWN


def test_a_follower_does_not_inherit_the_leaders_timeout(engine, fake_site: FakeSite, site_client):
    cache = SourceCache(DbCacheStore(engine), ttl_s=DAY_S)
    fake_site.fail("/about", replace(fake_site.page("/about"), delay_s=0.6))

    def read(deadline_s: float):
        deadline = time.monotonic() + deadline_s
        return fetch_html(fake_site.url + "/about", site_client, LOCAL_POLICY, deadline=deadline, cache=cache)

    with ThreadPoolExecutor(max_workers=2) as pool:
        short = pool.submit(read, 0.3)  # leads, and runs out of its own time
        time.sleep(0.1)
        patient = pool.submit(read, 5.0)  # follows, then reads for itself
        with pytest.raises(StepTimeout):
            short.result()
        assert "Founded in 2015" in patient.result().html
