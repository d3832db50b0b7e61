"""JavaScript-built sites: rendered in real Chromium with every request answered by our fetcher,
refused where the fetcher refuses (metadata addresses, redirects to them, huge bodies, pages that
never finish), and, where they cannot be rendered, said so: a warning, never a grounded briefing."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from api.status_json import job_status
from core.cache import CachedResponse
from core.request import ResearchRequest
from harness.fakes.server import FakeServer, Reply
from pipeline.cache import SourceCache
from pipeline.fetch import USER_AGENT, FetchPolicy, make_site_client
from pipeline.render import CHROMIUM, can_render, render_html
from pipeline.scrape import scrape_website
from tests.helpers import LOCAL_POLICY

CORPUS = Path(__file__).parent / "corpus" / "pages"
RENDERING = replace(LOCAL_POLICY, render_js=True, page_timeout_s=3.0)
WAIT_S = 60

SHELL = """<!doctype html><html><head><title>Brightloop</title></head><body>
<noscript>You need to enable JavaScript to run this app.</noscript><div id="root"></div>
<script src="/static/app.js"></script></body></html>"""
APP_JS = """
fetch("/api/home").then(r => r.json()).then(d => {
  document.getElementById("root").innerHTML = "<main><h1>" + d.title + "</h1><p>" + d.text + "</p></main>";
});
for (const url of %s) { fetch(url).then(r => r.text()).then(t => {
  const p = document.createElement("p"); p.textContent = "LEAKED " + t; document.body.appendChild(p);
}).catch(() => {}); }
"""
HOME = {
    "title": "Lighting for night shifts",
    "text": "Brightloop designs circadian lighting for hospitals and warehouses that work through the night, "
    "and has fitted 140 sites in Scandinavia since 2021. Its control software adjusts colour temperature "
    "every minute so that night staff stay alert without losing sleep after their shift.",
}


class ShellSite(FakeServer):
    """A site whose pages a script builds, and whose script asks for whatever `asks` lists."""

    def __init__(self, asks: list[str]) -> None:
        super().__init__()
        self.asks = asks

    def handle(self, request):
        if request.path == "/":
            return Reply.html(SHELL)
        if request.path == "/static/app.js":
            script = APP_JS % str(self.asks).replace("'", '"')
            return Reply(200, script.encode(), {"Content-Type": "application/javascript"})
        if request.path == "/api/home":
            return Reply.json(HOME)
        if request.path == "/to-metadata":
            return Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        if request.path == "/huge":
            return Reply(200, b"x" * (RENDERING.max_bytes + 1), {"Content-Type": "text/plain"})
        if request.path == "/never":
            return Reply(200, (b"y" for _ in range(10_000)), {"Content-Type": "text/plain"}, chunk_delay_s=0.5)
        return Reply(404, b"not found")


@pytest.fixture
def shell_site(request):
    site = ShellSite(getattr(request, "param", [])).start()
    yield site
    site.stop()


@pytest.fixture
def site_client():
    """The fetcher's client, with rendering on."""
    with make_site_client(RENDERING) as made:
        yield made


def test_this_server_can_render():
    assert can_render(), f"Playwright and {CHROMIUM} are installed for these tests"


def test_a_shell_is_rendered_and_read_through_our_fetcher_only(shell_site, site_client):
    site = scrape_website(shell_site.url, deep=False, client=site_client, policy=RENDERING,
                          deadline=time.monotonic() + 30)  # fmt: skip

    [home] = site.pages
    assert not site.script_built and site.skipped_reason is None
    assert "Brightloop designs circadian lighting for hospitals" in home.main
    assert home.headings == ["Lighting for night shifts"]
    paths = [r.path for r in shell_site.requests]
    assert {"/", "/static/app.js", "/api/home"} <= set(paths)
    # Every request the site saw came from our fetcher (its User-Agent), none from Chromium's own stack.
    assert {r.headers.get("user-agent") for r in shell_site.requests} == {USER_AGENT}


@pytest.mark.parametrize(
    "shell_site",
    [["http://169.254.169.254/latest/meta-data/", "/to-metadata", "/huge", "/never"]],
    indirect=True,
)
def test_what_the_fetcher_refuses_the_browser_never_gets(shell_site, site_client):
    rendered = render_html(shell_site.url + "/", site_client, RENDERING, deadline=time.monotonic() + 30)

    outcome = dict(rendered.requests)
    assert "cloud metadata address" in outcome["http://169.254.169.254/latest/meta-data/"]
    assert "redirected to http://169.254.169.254" in outcome[shell_site.url + "/to-metadata"]
    assert "larger than" in outcome[shell_site.url + "/huge"]
    assert "did not finish loading" in outcome[shell_site.url + "/never"]
    assert "LEAKED" not in rendered.html
    assert HOME["text"][:40] in rendered.html  # the page itself still rendered


class _Store:
    """An in-memory cache store: the public site's replies are stored, so no DNS is needed to serve them."""

    def __init__(self, entries: dict[str, CachedResponse]) -> None:
        self.entries = entries

    def load(self, key: str) -> CachedResponse | None:
        return self.entries.get(key)

    def save(self, key: str, entry: CachedResponse) -> None:
        self.entries[key] = entry


def test_a_public_shell_cannot_make_the_browser_reach_a_private_address():
    internal = ShellSite([]).start()  # an internal service on loopback, which the public page must not reach
    try:
        asks = [
            "http://10.0.0.5/admin",
            f"http://127.0.0.1:{internal.port}/secret",
            f"http://localhost:{internal.port}/",
        ]
        public = FetchPolicy(render_js=True, page_timeout_s=3.0)  # private addresses refused, as in production

        def stored(url: str, body: str, content_type: str, status: int = 200) -> CachedResponse:
            return CachedResponse(url, status, content_type, body.encode(), None, None, time.time())

        cache = SourceCache(
            _Store(
                {
                    "robots https://brightloop-lighting.com/robots.txt": stored(
                        "https://brightloop-lighting.com/robots.txt", "", "", 404
                    ),
                    "resource https://brightloop-lighting.com/": stored(
                        "https://brightloop-lighting.com/", SHELL, "text/html"
                    ),
                    "resource https://brightloop-lighting.com/static/app.js": stored(
                        "https://brightloop-lighting.com/static/app.js",
                        APP_JS % str(asks).replace("'", '"'),
                        "application/javascript",
                    ),
                    "resource https://brightloop-lighting.com/api/home": stored(
                        "https://brightloop-lighting.com/api/home", json.dumps(HOME), "application/json"
                    ),
                }
            ),
            ttl_s=3600,
        )
        with make_site_client(public) as client:
            rendered = render_html(
                "https://brightloop-lighting.com/", client, public, deadline=time.monotonic() + 30, cache=cache
            )
    finally:
        internal.stop()

    outcome = dict(rendered.requests)
    assert "10.0.0.5 is not a public internet address" in outcome["http://10.0.0.5/admin"]
    assert all(outcome[url] != "fetched" for url in asks)  # loopback: refused by its port or its name
    assert internal.requests == []  # nothing, neither our fetcher nor Chromium, reached the internal service
    assert HOME["text"][:40] in rendered.html and "LEAKED" not in rendered.html


def test_images_styles_and_posts_are_never_fetched(shell_site, site_client):
    shell_site.asks = []
    page = (
        '<html><body><div id="root"></div><img src="/pixel.png"><link rel="stylesheet" href="/site.css">'
        '<script>fetch("/api/track", {method: "POST", body: "x"}).catch(() => {});</script></body></html>'
    )
    shell_site.fail("/", Reply.html(page))
    rendered = render_html(shell_site.url + "/", site_client, RENDERING, deadline=time.monotonic() + 30)

    refused = {url: why for url, why in rendered.requests if why != "fetched"}
    assert set(refused) == {shell_site.url + p for p in ("/pixel.png", "/site.css", "/api/track")}
    assert not {"/pixel.png", "/site.css", "/api/track"} & {r.path for r in shell_site.requests}


def test_no_cookie_or_storage_outlives_a_page(shell_site, site_client):
    script = (
        "<html><body><div id='root'></div><script>const root = document.getElementById('root');"
        "root.textContent = 'before: cookie=' + document.cookie + ' storage=' + localStorage.getItem('seen');"
        "document.cookie = 'seen=1; path=/'; localStorage.setItem('seen', '1');"
        "root.textContent += ' after: cookie=' + document.cookie;</script></body></html>"
    )
    shell_site.fail("/", Reply.html(script), Reply.html(script))
    first = render_html(shell_site.url + "/", site_client, RENDERING, deadline=time.monotonic() + 30)
    second = render_html(shell_site.url + "/", site_client, RENDERING, deadline=time.monotonic() + 30)

    assert "before: cookie= storage=null after: cookie=seen=1" in first.html
    assert "before: cookie= storage=null after: cookie=seen=1" in second.html  # a fresh browser each page
    assert not any("cookie" in {k.lower() for k in r.headers} for r in shell_site.requests)


def test_a_shell_that_cannot_be_rendered_says_so(shell_site, site_client):
    site = scrape_website(shell_site.url, deep=False, client=site_client, policy=LOCAL_POLICY,
                          deadline=time.monotonic() + 10)  # fmt: skip

    assert site.pages == [] and site.script_built
    assert site.skipped_reason == (
        "127.0.0.1 builds its pages with JavaScript, which this server cannot run; the briefing could not read it."
    )
    assert [r.path for r in shell_site.requests] == ["/robots.txt", "/"]  # no script was fetched or run


def test_a_job_on_a_site_that_cannot_be_rendered_is_a_warning_not_a_ready_briefing(make_runner, fake_site):
    runner = make_runner(PREP_RENDER_JS="off", ANTHROPIC_API_KEY="")
    fake_site.fail("/", Reply.html((CORPUS / "shell-cra.html").read_text()))
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url))
    runner.wait(job.id, timeout_s=WAIT_S)
    status = job_status(runner.engine, job.id)

    assert status["status"] == "completed"
    assert status["briefing"]["grounded"] is False
    assert "builds its pages with JavaScript, which this server cannot run" in status["message"]
    assert "is ready" not in status["message"]
    scrape = next(step for step in status["steps"] if step["id"] == "scrape-website")
    assert scrape["status"] == "skipped"


def test_a_page_the_fetcher_refuses_gives_no_text_not_the_browsers_error_page(shell_site, site_client):
    shell_site.fail("/", Reply(302, headers={"Location": "http://169.254.169.254/"}))
    rendered = render_html(shell_site.url + "/", site_client, RENDERING, deadline=time.monotonic() + 30)

    assert rendered.html == ""
    assert "redirected to http://169.254.169.254" in dict(rendered.requests)[shell_site.url + "/"]
