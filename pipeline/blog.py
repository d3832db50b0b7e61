"""The company's engineering blog: the feed its site announces, then the usual places; in deep
mode its newest posts are read as sources too.

    read_blog(site_url, feeds, deep=..., reader=...) -> Blog | None
    feed_links(page_url, html) -> list[str]      the feeds a page announces

The feed is the one the home page names with `<link rel="alternate">` of an RSS or Atom type (the
scrape finds them, so the home page is read once); failing that, the usual addresses
(FEED_PATHS) are asked in parallel and the first that parses, in that order, wins. feedparser
reads RSS 0.9x-2.0, RSS 1.0 and Atom. Feeds are read like an API; each post's page goes through
robots.txt and the same guarded fetcher and cache as the scrape.
"""

from __future__ import annotations

import calendar
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import feedparser
from bs4 import BeautifulSoup

from core.errors import FetchRefused, NotFound, PipelineError
from pipeline.fetch import FEED_TYPES
from pipeline.html import read_html
from pipeline.models import Blog, BlogPost
from pipeline.source_reader import Reader

MAX_POSTS = 3  # the newest posts a briefing lists; deep mode reads each one's page
MAX_SUMMARY_CHARS = 600
MAX_POST_CHARS = 6000
FEED_PATHS = ("/feed", "/rss.xml", "/feed.xml", "/atom.xml", "/blog/feed", "/blog/rss.xml")
_ALTERNATE_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")


def read_blog(site_url: str, feeds: list[str], *, deep: bool, reader: Reader) -> Blog | None:
    """The blog's newest posts from the first of `feeds` (those the home page at `site_url`
    announces) that parses, else from the usual places; None when there is no feed."""
    blog = _first_feed(feeds, reader) if feeds else None
    if blog is None:
        blog = _first_feed([urljoin(site_url, path) for path in FEED_PATHS], reader)
    if blog is None or not deep:
        return blog
    with ThreadPoolExecutor(max_workers=len(blog.posts) or 1, thread_name_prefix="blog-posts") as pool:
        texts = list(pool.map(lambda post: _post_text(post.url, reader), blog.posts))
    return blog.model_copy(
        update={"posts": [post.model_copy(update={"text": text}) for post, text in zip(blog.posts, texts, strict=True)]}
    )


def feed_links(page_url: str, html: str) -> list[str]:
    """The feeds a page announces with `<link rel="alternate" type="application/rss+xml" href=…>`."""
    soup = BeautifulSoup(html, "lxml")
    links = []
    for link in soup.find_all("link", href=True):
        rel = [r.lower() for r in (link.get("rel") or [])]
        if "alternate" in rel and str(link.get("type", "")).split(";")[0].strip().lower() in _ALTERNATE_TYPES:
            links.append(urljoin(page_url, str(link["href"]).strip()))
    return list(dict.fromkeys(links))


def parse_feed(feed_url: str, text: str) -> Blog | None:
    """The feed's title and newest MAX_POSTS posts, newest first; None when it is not a feed with posts."""
    parsed = feedparser.parse(text)
    posts = []
    for entry in parsed.entries:
        link = str(entry.get("link") or "").strip()
        title = " ".join(str(entry.get("title") or "").split())[:300]
        if not link.startswith(("http://", "https://")) or not title:
            continue
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        summary = BeautifulSoup(str(entry.get("summary") or ""), "lxml").get_text(" ")
        posts.append(
            (
                calendar.timegm(when) if when else 0,
                BlogPost(
                    title=title,
                    url=link,
                    published=f"{when.tm_year:04d}-{when.tm_mon:02d}-{when.tm_mday:02d}" if when else "",
                    summary=" ".join(summary.split())[:MAX_SUMMARY_CHARS],
                ),
            )
        )
    if not posts:
        return None
    posts.sort(key=lambda pair: pair[0], reverse=True)  # stable: undated posts keep the feed's order
    title = " ".join(str(parsed.feed.get("title") or "").split())[:300]
    return Blog(feed_url=feed_url, title=title, posts=[post for _, post in posts[:MAX_POSTS]])


def _first_feed(urls: list[str], reader: Reader) -> Blog | None:
    """The first of `urls`, in order, that is a feed with posts; all asked at once."""

    def read(url: str) -> Blog | None:
        try:
            fetched = reader.text(url, FEED_TYPES)
        except (NotFound, FetchRefused):  # not there, or not a feed
            return None
        return parse_feed(fetched.url, fetched.html)

    with ThreadPoolExecutor(max_workers=len(urls), thread_name_prefix="blog-feeds") as pool:
        found = list(pool.map(read, urls))
    return next((blog for blog in found if blog is not None), None)


def _post_text(url: str, reader: Reader) -> str:
    """The text of a post's page; empty when robots.txt forbids it or it cannot be read."""
    try:
        if not reader.allowed(url):
            return ""
        fetched = reader.html(url)
    except PipelineError:
        return ""
    page, _ = read_html(fetched.url, fetched.html)
    return page.content[:MAX_POST_CHARS]
