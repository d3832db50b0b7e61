"""The engineering blog: the feed the home page announces (else the usual places), its newest
posts newest first, their pages read in deep mode, and a whole job that cites them."""

from __future__ import annotations

from dataclasses import replace

from harness.fakes.site import FEED_PATH, HOME, POSTS
from pipeline.blog import feed_links, parse_feed, read_blog
from tests.helpers import source_reader
from tests.test_api import _body, _submit, _wait
from tests.test_worker import _step


def test_the_feed_a_page_announces_is_found():
    html = HOME + '<link rel="alternate" type="application/atom+xml" href="https://blog.acme.example/atom">'
    assert feed_links("https://acme.example/", html) == [
        "https://acme.example/blog/feed.xml",
        "https://blog.acme.example/atom",
    ]
    assert feed_links("https://acme.example/", '<link rel="stylesheet" type="text/css" href="/x.css">') == []


def test_the_newest_posts_come_first_from_rss_and_atom():
    atom = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
    <title>Eng</title>
    <entry><title>Old</title><link href="https://acme.example/old"/><updated>2024-01-01T00:00:00Z</updated></entry>
    <entry><title>New</title><link href="https://acme.example/new"/><updated>2025-05-01T00:00:00Z</updated>
    <summary>&lt;p&gt;What changed&lt;/p&gt;</summary></entry></feed>"""

    blog = parse_feed("https://acme.example/atom", atom)

    assert blog.title == "Eng"
    assert [(p.title, p.published, p.summary) for p in blog.posts] == [
        ("New", "2025-05-01", "What changed"),
        ("Old", "2024-01-01", ""),
    ]
    assert parse_feed("https://acme.example/x", "<html><body>not a feed</body></html>") is None


def test_deep_mode_reads_the_three_newest_posts(fake_site, site_client):
    blog = read_blog(fake_site.url + "/", [fake_site.url + FEED_PATH], deep=True, reader=source_reader(site_client))

    assert blog.feed_url == fake_site.url + FEED_PATH
    assert [post.title for post in blog.posts] == [
        "Moving robot billing to event sourcing",
        "Rewriting the motion planner in Rust",
        "How we partitioned fleet telemetry in PostgreSQL",
    ]
    assert blog.posts[0].text.endswith("invoices are rebuilt from the event log.")
    assert fake_site.hits("/blog/hello-world") == 0  # the oldest post is not read


def test_without_deep_mode_only_the_feed_is_read(fake_site, site_client):
    blog = read_blog(fake_site.url + "/", [fake_site.url + FEED_PATH], deep=False, reader=source_reader(site_client))

    assert len(blog.posts) == 3 and all(post.text == "" for post in blog.posts)
    assert all(fake_site.hits(path) == 0 for path, *_ in POSTS)


def test_without_an_announced_feed_the_usual_places_are_tried(fake_site, site_client):
    fake_site.fail("/feed.xml", fake_site.page(FEED_PATH))

    blog = read_blog(fake_site.url + "/", [], deep=False, reader=source_reader(site_client))

    assert blog.feed_url == fake_site.url + "/feed.xml" and len(blog.posts) == 3
    assert fake_site.hits("/feed") == 1 and fake_site.hits("/rss.xml") == 1  # asked, answered 404


def test_a_deep_job_cites_its_blog_posts(client, fake_site):
    submitted = _submit(client, _body(fake_site, deepMode=True))

    status = _wait(client, submitted["jobId"])

    assert status["status"] == "completed", status["message"]
    blog = [s for s in status["briefing"]["sources"] if s["kind"] == "blog"]
    assert [s["url"] for s in blog] == [fake_site.url + FEED_PATH] + [
        fake_site.url + path
        for path in ("/blog/event-sourced-payouts", "/blog/rust-motion-planner", "/blog/postgresql-partitions")
    ]


def test_the_feed_is_read_once_the_home_page_is_not_after_the_deep_pages(client, fake_site):
    fake_site.fail("/about", replace(fake_site.page("/about"), delay_s=5.0))  # a slow deep page
    job_id = _submit(client, _body(fake_site, deepMode=True))["jobId"]

    # The blog's feed and posts are read while the scrape still waits for the slow page: before,
    # read-sources could only end after the whole scrape step.
    sources_done = _wait(client, job_id, until=lambda s: _step(s, "read-sources")["status"] == "succeeded")
    assert _step(sources_done, "scrape-website")["status"] == "running"

    status = _wait(client, job_id)
    assert status["status"] == "completed", status["message"]
    assert any(s["kind"] == "blog" for s in status["briefing"]["sources"])
