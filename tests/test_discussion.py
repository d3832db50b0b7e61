"""What people say: recent Hacker News stories, only those that name the company, labelled as
third-party discussion wherever they appear."""

from __future__ import annotations

import time

from db.engine import make_engine
from db.source_cache import DbCacheStore
from pipeline.cache import SourceCache
from pipeline.discussion import recent_stories
from pipeline.sources import DISCUSSION_LABEL
from tests.helpers import source_reader
from tests.test_api import _body, _submit, _wait


def test_recent_stories_that_name_the_company(fake_sources, site_client):
    reader = source_reader(site_client)

    stories = recent_stories("Acme Robotics", reader=reader, apis=fake_sources.apis())

    # The three-year-old story is outside the last twelve months.
    assert [(s.url, s.points, s.comments) for s in stories] == [
        ("https://news.ycombinator.com/item?id=41000001", 312, 148),
        ("https://news.ycombinator.com/item?id=41000002", 95, 37),
    ]
    request = fake_sources.hn.requests[-1]
    assert request.query["tags"] == ["story"] and request.query["query"] == ["Acme Robotics"]
    since = int(request.query["numericFilters"][0].removeprefix("created_at_i>"))
    assert since % 86400 == 0 and 0 <= time.time() - 365 * 86400 - since < 86400  # from the start of today


def test_a_second_search_the_same_day_is_answered_by_the_source_cache(fake_sources, site_client, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    cache = SourceCache(DbCacheStore(engine), ttl_s=86400.0)
    morning, evening = 1_780_000_000.0, 1_780_000_000.0 + 3600  # an hour apart, the same UTC day

    first = recent_stories(
        "Acme Robotics", reader=source_reader(site_client, cache), apis=fake_sources.apis(), now=morning
    )
    asked = len(fake_sources.hn.requests)
    again = recent_stories(
        "Acme Robotics", reader=source_reader(site_client, cache), apis=fake_sources.apis(), now=evening
    )

    assert again == first and len(fake_sources.hn.requests) == asked
    engine.dispose()


def test_a_word_in_a_url_is_not_the_company(fake_sources, site_client):
    reader = source_reader(site_client)

    titles = [s.title for s in recent_stories("Acme", reader=reader, apis=fake_sources.apis())]

    assert len(titles) == 2 and "Road runner physics explained" not in titles  # only its URL says "acme"


def test_stories_are_sources_labelled_as_third_party_discussion(client, fake_site, fake_anthropic):
    status = _wait(client, _submit(client, _body(fake_site))["jobId"])

    assert status["status"] == "completed", status["message"]
    discussion = [s for s in status["briefing"]["sources"] if s["kind"] == "discussion"]
    assert [s["url"] for s in discussion] == [
        "https://news.ycombinator.com/item?id=41000001",
        "https://news.ycombinator.com/item?id=41000002",
    ]
    markdown = client.get(f"/api/research/{status['jobId']}/markdown").text
    assert "**Discussion (third-party)**" in markdown
    assert "third-party discussion, not company fact" in markdown
    assert DISCUSSION_LABEL in fake_anthropic.calls[-1].user_text  # the model reads the label with the story
