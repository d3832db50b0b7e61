"""Run a page that JavaScript builds in Chromium, every request of the browser answered by our fetcher.

    read_page(url, client, policy, deadline, cache) -> (Page, links, feeds)   fetched, read, rendered if it must be
    unreadable(page) -> bool                                     scripts build it and it embeds no data
    can_render() -> bool                                         Playwright and /usr/bin/chromium present
    render_html(url, client, policy, deadline=..., cache=...) -> Rendered   the DOM after its scripts ran

No request of the browser reaches the network by itself: `page.route("**/*")` hands each one to
`fetch_resource` (address rules, robots.txt, size and time limits, the source cache), which
answers it or refuses it; only GETs of documents, scripts and data are fetched, everything else
(images, fonts, styles, media, POSTs) is refused, web sockets are closed and service workers
blocked. Behind that, Chromium is pointed at a proxy that does not exist (loopback included in
what it proxies) and at a resolver that resolves nothing, so a request that slipped past routing
could go nowhere. Each page gets a fresh browser and context, so no cookie or storage outlives
it, and a hard time budget (RENDER_BUDGET_S, and never past the caller's deadline); at most
MAX_BROWSERS run at once, a page waiting for one within its budget.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from core.errors import PipelineError
from pipeline.blog import feed_links
from pipeline.cache import SourceCache
from pipeline.fetch import FetchPolicy, RobotsRules, fetch_html, fetch_resource, robots_rules
from pipeline.html import read_html
from pipeline.models import Page

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
RENDER_BUDGET_S = 10.0  # the most one page may take in the browser, launch and every request included
SETTLE_S = 1.5  # after the load event, how long scripts may still fetch their data
MAX_REQUESTS = 60  # requests one page may make; a script looping over fetches is cut off
MAX_BROWSERS = 2  # Chromiums running at once in this process: a browser is a tree of processes, on 2 cores
_BROWSER_SLOTS = threading.BoundedSemaphore(MAX_BROWSERS)
FETCHED_TYPES = frozenset({"document", "script", "xhr", "fetch"})
CHROMIUM_ARGS = (
    "--no-sandbox",  # the server runs it as a service user without user namespaces
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-features=NetworkPrediction,PreloadMediaEngagementData",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing resolves: an unrouted request goes nowhere
    "--proxy-server=http://127.0.0.1:9",  # the discard port: nothing listens
    "--proxy-bypass-list=<-loopback>",  # and loopback goes through that proxy too
)


@dataclass
class Rendered:
    """The page's DOM after its scripts ran, and what the browser asked for."""

    url: str
    html: str
    requests: list[tuple[str, str]] = field(default_factory=list)  # (url, "fetched" or why it was refused)


def read_page(
    url: str, client: httpx.Client, policy: FetchPolicy, deadline: float, cache: SourceCache | None = None
) -> tuple[Page, list[str], list[str]]:
    """One page, its links and the RSS or Atom feeds it announces; run in the browser when scripts
    build it and the policy allows it."""
    fetched = fetch_html(url, client, policy, deadline=deadline, cache=cache)
    page, links = read_html(fetched.url, fetched.html)
    feeds = feed_links(fetched.url, fetched.html)
    if unreadable(page) and policy.render_js:
        rendered = render_html(fetched.url, client, policy, deadline=deadline, cache=cache)
        if rendered.html:
            page, links = read_html(rendered.url, rendered.html, rendered=True)
            feeds = feed_links(rendered.url, rendered.html)
    return page, links, feeds


def unreadable(page: Page) -> bool:
    """A page that scripts build, with nothing to read: no main content and no embedded data."""
    return page.script_built and not page.main and not page.data


def can_render() -> bool:
    """Whether this server can run JavaScript: Playwright installed and Debian's Chromium present."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return os.access(CHROMIUM, os.X_OK)


def render_html(
    url: str,
    client: httpx.Client,
    policy: FetchPolicy,
    *,
    deadline: float,
    cache: SourceCache | None = None,
    budget_s: float = RENDER_BUDGET_S,
) -> Rendered:
    """The page at `url` after its scripts ran, within the budget; `html` is empty when it could not be rendered."""
    # Playwright's sync API refuses a thread whose asyncio loop is running (a caller's own browser
    # session, an async server): the browser runs in a thread of its own, which has none.
    done: list[Rendered] = []
    thread = threading.Thread(
        target=lambda: done.append(_render(url, client, policy, deadline=deadline, cache=cache, budget_s=budget_s)),
        name="render",
        daemon=True,
    )
    thread.start()
    thread.join()
    return done[0] if done else Rendered(url=url, html="")


def _render(
    url: str, client: httpx.Client, policy: FetchPolicy, *, deadline: float, cache: SourceCache | None, budget_s: float
) -> Rendered:
    """render_html in the calling thread."""
    from playwright.sync_api import Error, sync_playwright

    stop = min(deadline, time.monotonic() + budget_s)
    rendered = Rendered(url=url, html="")
    rules: dict[tuple[str, str], RobotsRules] = {}

    refused_page: list[str] = []  # the page itself was refused: Chromium shows its own error page

    def answer(route) -> None:
        request = route.request
        page_itself = request.resource_type == "document" and request.frame.parent_frame is None

        def refuse(why: str) -> None:
            if page_itself:
                refused_page.append(why)
            _refuse(route, rendered, request.url, why)

        if len(rendered.requests) >= MAX_REQUESTS:
            return refuse("too many requests")
        if request.method != "GET" or request.resource_type not in FETCHED_TYPES:
            return refuse(f"not fetched ({request.method} {request.resource_type})")
        try:
            if not _allowed(request.url, rules, client, policy, stop, cache):
                return refuse("robots.txt does not allow it")
            resource = fetch_resource(request.url, client, policy, deadline=stop, cache=cache)
        except PipelineError as error:
            return refuse(error.message)
        rendered.requests.append((request.url, "fetched"))
        route.fulfill(status=resource.status, headers={"content-type": resource.content_type}, body=resource.body)

    if not _BROWSER_SLOTS.acquire(timeout=max(0.0, stop - time.monotonic())):
        log.info("rendering %s skipped: no browser free within its budget", url)
        return rendered
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS), timeout=_ms_left(stop)
            )
            try:
                context = browser.new_context(service_workers="block", accept_downloads=False)
                context.route_web_socket("**/*", lambda socket: socket.close())
                context.route("**/*", answer)
                page = context.new_page()
                try:
                    page.goto(url, wait_until="load", timeout=_ms_left(stop))
                    page.wait_for_load_state("networkidle", timeout=min(_ms_left(stop), SETTLE_S * 1000))
                except Error as error:  # the budget ran out: what the scripts built so far is kept
                    log.info("rendering %s stopped: %s", url, error.message.splitlines()[0])
                rendered.url = page.url if page.url.startswith("http") else url
                rendered.html = "" if refused_page else page.content()
                context.close()
            finally:
                browser.close()
    except Error as error:
        log.warning("rendering %s failed: %s", url, error.message.splitlines()[0])
    finally:
        _BROWSER_SLOTS.release()
    return rendered


def _allowed(
    url: str,
    rules: dict[tuple[str, str], RobotsRules],
    client: httpx.Client,
    policy: FetchPolicy,
    deadline: float,
    cache: SourceCache | None,
) -> bool:
    """Whether the origin's robots.txt (read once per page and origin) lets us fetch `url`; an
    address the fetcher refuses raises here already, with the fetcher's reason."""
    parts = urlsplit(url)
    origin = (parts.scheme, parts.netloc)
    if origin not in rules:
        rules[origin] = robots_rules(url, client, policy, deadline=deadline, cache=cache)
    return rules[origin].can_fetch(policy.user_agent, url)


def _refuse(route, rendered: Rendered, url: str, why: str) -> None:
    rendered.requests.append((url, why))
    route.abort("blockedbyclient")


def _ms_left(stop: float) -> float:
    return max(1.0, (stop - time.monotonic()) * 1000)
