"""scrape-website: read the company's home page and, in deep mode, a few pages it links to.

    scrape_website(url, deep=..., client=..., policy=..., deadline=..., on_home=...) -> ScrapedSite
    no_website(company_name) -> ScrapedSite    the skipped scrape of a job without a website

Errors reading the home page propagate (the worker tries the transient ones again). A job with no
website (none given, none on Wikipedia or GitHub) reads no site: its scrape is skipped, asking the
candidate for the website, rather than guessing one from the name. Deep mode reads up to
MAX_DEEP_PAGES linked pages (about, careers, product, engineering, blog) in parallel on a small
pool of its own: the caller already runs in a pool, and sharing it could deadlock. A deep page
that fails is left out. Every page goes through robots.txt and the same fetch guard, within the
same deadline, and through the source cache when one is given.

A page that JavaScript builds (`Page.script_built`) and that embeds no data to read instead is
run in Chromium when the policy allows it (`pipeline.render`, every request through the same
guard); a home page that stays unreadable makes the step skipped, saying so in plain words, and
the briefing not grounded.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from urllib.parse import urlsplit

import httpx

from core.errors import FetchRefused, PipelineError
from pipeline.cache import SourceCache
from pipeline.fetch import FetchPolicy, RobotsRules, origin, robots_rules
from pipeline.models import Page, ScrapedSite
from pipeline.render import read_page, unreadable
from pipeline.urls import normalize_url

logger = logging.getLogger(__name__)

GIVE_WEBSITE = "give the company's website to read its site."

MAX_DEEP_PAGES = 4
DEEP_GRACE_S = 0.5  # how long past the deadline we wait for deep pages still finishing

# Kinds of page worth reading, in order of interest; each matches a whole path segment.
_DEEP_PAGE_KINDS = [
    ("about", re.compile(r"^(about|about-us|company|who-we-are|our-story)$")),
    ("careers", re.compile(r"^(careers?|jobs|join-us|work-with-us|hiring)$")),
    ("product", re.compile(r"^(products?|platform|solutions?)$")),
    ("engineering", re.compile(r"^(engineering|tech|technology|developers?)$")),
    ("blog", re.compile(r"^(blog|news|insights)$")),
]


def scrape_website(
    url: str,
    *,
    deep: bool,
    client: httpx.Client,
    policy: FetchPolicy,
    deadline: float,
    cache: SourceCache | None = None,
    on_home: Callable[[str, list[str]], None] | None = None,
) -> ScrapedSite:
    """Read the company's site; `deadline` is a `time.monotonic()` value for the whole step.

    `on_home(url, feeds)` is called once the home page is read (a readable one), before any deep
    page, so a reader of its feeds need not wait for the rest of the step."""
    home, links, rules, feeds = _read_home(normalize_url(url), client, policy, deadline, cache)
    if unreadable(home):
        return ScrapedSite(
            url=home.url, title=home.title, skipped_reason=_unreadable_reason(home, policy), script_built=True
        )
    if on_home is not None:
        on_home(home.url, feeds)
    pages = [home]
    if deep:
        pages += _read_deep_pages(home.url, links, rules, client, policy, deadline, cache)
    return ScrapedSite(
        url=home.url,
        title=home.title,
        meta_description=home.meta_description,
        headings=home.headings,
        content=home.content,
        pages=pages,
        feeds=feeds,
    )


def no_website(company_name: str) -> ScrapedSite:
    """The skipped scrape of a job whose website nobody named: the candidate is asked for it."""
    name = " ".join(company_name.split())
    return ScrapedSite(
        skipped_reason=(f"No website was given and none was found for “{name}” on Wikipedia or GitHub; {GIVE_WEBSITE}")
    )


def _read_home(
    url: str, client: httpx.Client, policy: FetchPolicy, deadline: float, cache: SourceCache | None
) -> tuple[Page, list[str], RobotsRules, list[str]]:
    """The home page, its links, its site's robots.txt and the feeds it announces."""
    rules = robots_rules(url, client, policy, deadline=deadline, cache=cache)
    if not rules.can_fetch(policy.user_agent, url):
        raise FetchRefused(f"The robots.txt of {url} asks bots like ours not to read it.")
    page, links, feeds = read_page(url, client, policy, deadline, cache)
    return page, links, rules, feeds


def _unreadable_reason(page: Page, policy: FetchPolicy) -> str:
    host = urlsplit(page.url).hostname or page.url
    if policy.render_js:
        return (
            f"{host} builds its pages with JavaScript, and running them in a browser gave no readable text; "
            "the briefing could not read it."
        )
    return f"{host} builds its pages with JavaScript, which this server cannot run; the briefing could not read it."


def _deep_links(home_url: str, links: list[str]) -> list[str]:
    """At most MAX_DEEP_PAGES links, one per kind of page, the most interesting kinds first."""
    chosen: dict[str, str] = {}
    for link in links:
        kind = _kind_of(link, home_url)
        if kind is not None and kind not in chosen:
            chosen[kind] = link
    ordered = [chosen[kind] for kind, _ in _DEEP_PAGE_KINDS if kind in chosen]
    return ordered[:MAX_DEEP_PAGES]


def _kind_of(link: str, home_url: str) -> str | None:
    """Which kind of interesting page `link` is, if any (not the home page, not buried deep)."""
    path = urlsplit(link).path.rstrip("/")
    segments = path.lower().split("/")
    if path == urlsplit(home_url).path.rstrip("/") or len(segments) > 3:
        return None
    for kind, pattern in _DEEP_PAGE_KINDS:
        if any(pattern.match(segment) for segment in segments):
            return kind
    return None


def _read_deep_pages(
    home_url: str,
    links: list[str],
    home_rules: RobotsRules,
    client: httpx.Client,
    policy: FetchPolicy,
    deadline: float,
    cache: SourceCache | None,
) -> list[Page]:
    """Picks the linked pages robots.txt allows, then reads them in parallel; failures are left out."""
    rules_by_origin: dict[tuple, RobotsRules | None] = {origin(home_rules.url): home_rules}
    candidates = [link for link in links if _kind_of(link, home_url) is not None]
    allowed = [link for link in candidates if _robots_allow(link, rules_by_origin, client, policy, deadline, cache)]
    chosen = _deep_links(home_url, allowed)
    if not chosen:
        return []
    pool = ThreadPoolExecutor(max_workers=len(chosen), thread_name_prefix="scrape-deep")
    try:
        futures = [pool.submit(_read_deep_page, link, client, policy, deadline, cache) for link in chosen]
        wait(futures, timeout=max(0.0, deadline - time.monotonic()) + DEEP_GRACE_S)
        pages: list[Page] = []
        for link, future in zip(chosen, futures, strict=True):
            if not future.done():
                logger.info("deep page %s skipped: still loading at the deadline", link)
            elif isinstance(error := future.exception(), PipelineError):
                logger.info("deep page %s skipped: %s", link, error)
            elif error is not None:
                logger.warning("deep page %s skipped after an unexpected error", link, exc_info=error)
            else:
                pages.append(future.result())
        return pages
    finally:
        # Not waiting: a thread stuck past the deadline (slow DNS has no timeout) finishes alone.
        pool.shutdown(wait=False, cancel_futures=True)


def _robots_allow(
    url: str,
    rules_by_origin: dict[tuple, RobotsRules | None],
    client: httpx.Client,
    policy: FetchPolicy,
    deadline: float,
    cache: SourceCache | None,
) -> bool:
    """Checks `url` against its origin's robots.txt, read once per origin (None: unreadable)."""
    key = origin(url)
    if key not in rules_by_origin:  # e.g. the home page redirected from acme.com to www.acme.com
        try:
            rules_by_origin[key] = robots_rules(url, client, policy, deadline=deadline, cache=cache)
        except PipelineError as e:
            logger.info("robots.txt for %s could not be read: %s", url, e)
            rules_by_origin[key] = None
    rules = rules_by_origin[key]
    if rules is None or not rules.can_fetch(policy.user_agent, url):
        logger.info("deep page %s skipped: robots.txt does not allow it or could not be read", url)
        return False
    return True


def _read_deep_page(
    url: str, client: httpx.Client, policy: FetchPolicy, deadline: float, cache: SourceCache | None
) -> Page:
    page, _, _ = read_page(url, client, policy, deadline, cache)
    if unreadable(page):
        raise FetchRefused(_unreadable_reason(page, policy))
    return page
