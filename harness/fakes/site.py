"""A fake company web site, "Acme Robotics", served on 127.0.0.1.

Pages: `/` (title, meta description, headings, text naming Python, Kubernetes and PostgreSQL,
links to the five pages below and one external link), `/about`, `/careers`, `/engineering`,
`/blog`, `/product`, and `/robots.txt`, which disallows `/private` for every bot. The home page
announces an RSS feed, `/blog/feed.xml`, of four posts (`POSTS`, newest first after sorting: the
feed lists them out of order), each a page under `/blog/`. Anything else is a 404. Every 200
carries an ETag, and a request whose If-None-Match matches it gets 304
(`conditional_hits` counts those that asked). Faults are scripted with `fail(path, *replies)` as
on any FakeServer; `page(path)` is the normal reply for a path, handy for a slowed-down copy:
`site.fail("/about", replace(site.page("/about"), delay_s=0.5))`.
"""

from __future__ import annotations

import hashlib

from harness.fakes.server import FakeServer, Reply, Request

TITLE = "Acme Robotics | Robots that sort your warehouse"
DESCRIPTION = "Acme Robotics builds autonomous sorting robots for warehouses."
EXTERNAL_LINK = "https://github.com/acme-robotics"
DEEP_PATHS = ("/about", "/careers", "/engineering", "/blog", "/product")

ROBOTS_TXT = """User-agent: *
Disallow: /private
"""

HOME = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{TITLE}</title>
  <meta name="description" content="{DESCRIPTION}">
  <script>var tracking = "do not read me";</script>
  <style>body {{ font-family: sans-serif; }}</style>
  <link rel="alternate" type="application/rss+xml" title="The Acme engineering blog" href="/blog/feed.xml">
</head>
<body>
  <nav>
    <a href="/">Home</a>
    <a href="/about">About us</a>
    <a href="/careers">Careers</a>
    <a href="/engineering">Engineering</a>
    <a href="/blog">Blog</a>
    <a href="/product#features">Product</a>
    <a href="{EXTERNAL_LINK}">GitHub</a>
  </nav>
  <h1>Robots that sort your warehouse</h1>
  <p>Acme Robotics makes fleets of small sorting robots for e-commerce warehouses.</p>
  <h2>Our stack</h2>
  <p>Our fleet software is written in Python, runs on Kubernetes and keeps its state in PostgreSQL.</p>
  <h2>Customers</h2>
  <p>Forty warehouses in Europe sort parcels with Acme robots every night.</p>
</body>
</html>
"""

_PAGES = {
    "/about": ("About Acme Robotics", "Founded in 2015 in Lyon by two roboticists, Acme Robotics has 120 employees."),
    "/careers": ("Careers at Acme", "We are hiring backend engineers who know Python and Kubernetes."),
    "/engineering": ("Engineering at Acme", "Our engineers run 300 robots per site with a Rust motion planner."),
    "/blog": ("The Acme blog", "How we moved our fleet telemetry to PostgreSQL partitions."),
    "/product": ("The Acme Sorter", "The Acme Sorter moves 2,000 parcels an hour on a single charge."),
}


FEED_PATH = "/blog/feed.xml"
# path, title, RFC 822 date, the post's own text; the feed lists them in this (unsorted) order
POSTS = [
    ("/blog/postgresql-partitions", "How we partitioned fleet telemetry in PostgreSQL", "Tue, 03 Jun 2025 08:00:00 GMT",
     "We split the telemetry table into daily partitions and cut query times for the fleet dashboard."),
    ("/blog/event-sourced-payouts", "Moving robot billing to event sourcing", "Mon, 06 Oct 2025 08:00:00 GMT",
     "Every robot movement is now an event, and invoices are rebuilt from the event log."),
    ("/blog/rust-motion-planner", "Rewriting the motion planner in Rust", "Fri, 15 Aug 2025 08:00:00 GMT",
     "The new motion planner is written in Rust and plans a route for 300 robots in 40 ms."),
    ("/blog/hello-world", "Hello, world", "Wed, 01 Jan 2020 08:00:00 GMT", "Our first post."),
]  # fmt: skip


def _feed(base_url: str) -> str:
    items = "".join(
        f"<item><title>{title}</title><link>{base_url}{path}</link><pubDate>{date}</pubDate>"
        f"<description>{text}</description><guid>{base_url}{path}</guid></item>"
        for path, title, date, text in POSTS
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>The Acme engineering blog</title><link>{base_url}/blog</link>"
        f"<description>How we build Acme's robots.</description>{items}</channel></rss>"
    )


def _page_html(heading: str, text: str) -> str:
    return (
        f"<!doctype html><html><head><title>{heading}</title></head>"
        f'<body><a href="/">Home</a><h1>{heading}</h1><p>{text}</p></body></html>'
    )


class FakeSite(FakeServer):
    """The Acme Robotics web site."""

    def handle(self, request: Request) -> Reply:
        reply = self.page(request.path)
        if reply.status != 200:
            return reply
        etag = f'"{hashlib.sha256(reply.body).hexdigest()[:16]}"'
        if request.headers.get("if-none-match") == etag:
            return Reply(304, b"", {"ETag": etag})
        reply.headers["ETag"] = etag
        return reply

    def conditional_hits(self) -> int:
        """How many requests carried If-None-Match (revalidations)."""
        return sum(1 for r in self.requests if "if-none-match" in r.headers)

    def page(self, path: str) -> Reply:
        """The site's normal reply for `path`."""
        if path == "/":
            return Reply.html(HOME)
        if path == "/robots.txt":
            return Reply(200, ROBOTS_TXT.encode(), {"Content-Type": "text/plain"})
        if path in _PAGES:
            return Reply.html(_page_html(*_PAGES[path]))
        if path == FEED_PATH:
            return Reply(200, _feed(self.url).encode(), {"Content-Type": "application/rss+xml; charset=utf-8"})
        for post_path, title, _, text in POSTS:
            if path == post_path:
                return Reply.html(_page_html(title, text))
        return Reply.html("<html><body><h1>Not found</h1></body></html>", status=404)

    def text_of(self, path: str) -> str:
        """The sentence that only the page at `path` contains."""
        return _PAGES[path][1]
