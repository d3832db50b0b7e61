"""What people say: recent Hacker News stories about the company, through the Algolia search API.

    recent_stories(name, reader=..., apis=..., now=...) -> list[Story]

`GET {hn}/api/v1/search?query=<name>&tags=story&numericFilters=created_at_i>…` over the last
RECENT_DAYS days (from the start of today, UTC), ranked by Algolia's relevance; a story counts
only when its title names the company (a search for "Acme" also matches "Acme-like" words in URLs and text). These are
third-party discussion: sources for talking points and things to look into, never company fact.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

from core.errors import FetchRefused
from pipeline.models import Story
from pipeline.source_reader import Reader, SourceApis

RECENT_DAYS = 365  # "the last 12 months"
MAX_STORIES = 5
HN_ITEM_URL = "https://news.ycombinator.com/item?id="


def recent_stories(name: str, *, reader: Reader, apis: SourceApis, now: float | None = None) -> list[Story]:
    """Up to MAX_STORIES stories of the last year whose title names the company, most relevant first."""
    # From the start of a UTC day: a bound that moved every second would make every search a new
    # URL, which the source cache could never answer.
    today = int(time.time() if now is None else now) // 86400 * 86400
    since = today - RECENT_DAYS * 86400
    query = urlencode({"query": name, "tags": "story", "numericFilters": f"created_at_i>{since}", "hitsPerPage": 20})
    data = reader.json(f"{apis.hn}/api/v1/search?{query}")
    if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
        raise FetchRefused("Hacker News search answered something other than a list of hits.")
    named = re.compile(rf"(?<!\w){re.escape(' '.join(name.split()))}(?!\w)", re.IGNORECASE)
    stories = []
    for hit in data["hits"]:
        title = " ".join(str(hit.get("title") or "").split())[:300]
        item = str(hit.get("objectID") or "")
        if not title or not item.isdigit() or not named.search(title):
            continue
        link = hit.get("url")
        stories.append(
            Story(
                title=title,
                url=HN_ITEM_URL + item,
                link=link if isinstance(link, str) and link.startswith(("http://", "https://")) else None,
                points=_count(hit.get("points")),
                comments=_count(hit.get("num_comments")),
                created_at=str(hit.get("created_at") or "")[:30],
            )
        )
    return stories[:MAX_STORIES]


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
