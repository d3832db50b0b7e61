"""A fake Hacker News search API (Algolia) in the shape the real one answers.

`GET /api/v1/search?query=…&tags=story&numericFilters=created_at_i>N`: the stories whose title,
URL or text contains every word of the query, created after N, in the dataset's (relevance)
order, with Algolia's envelope (`hits`, `nbHits`, `page`, `hitsPerPage`, …). `stories` starts
with two recent stories about Acme Robotics, one from three years ago, and one that only
mentions "acme" in its URL.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime

from harness.fakes.server import FakeServer, Reply, Request

DAY_S = 86400


def _story(object_id: int, title: str, url: str | None, days_ago: float, points: int, comments: int) -> dict:
    created = int(time.time() - days_ago * DAY_S)
    return {
        "objectID": str(object_id),
        "title": title,
        "url": url,
        "author": f"user{object_id % 97}",
        "points": points,
        "num_comments": comments,
        "story_text": None,
        "created_at": datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "created_at_i": created,
        "_tags": ["story", f"author_user{object_id % 97}", f"story_{object_id}"],
    }


def stories() -> list[dict]:
    """The default stories, most relevant first."""
    return [
        _story(41000001, "Acme Robotics raises Series B to put sorting robots in 100 warehouses",
               "https://techcrunch.example/acme-series-b", 40, 312, 148),
        _story(41000002, "Show HN: Acme Robotics open-sources its motion planner", "https://github.com/acme-robotics/motion-planner",
               120, 95, 37),
        _story(31000003, "Acme Robotics is hiring in Lyon", None, 3 * 365, 12, 4),
        _story(41000004, "Road runner physics explained", "https://acme.example.org/physics", 10, 40, 9),
    ]  # fmt: skip


class FakeHackerNews(FakeServer):
    """Algolia's Hacker News search over `stories`."""

    def __init__(self) -> None:
        super().__init__()
        self.stories = stories()

    def reset(self) -> None:
        super().reset()
        self.stories = stories()

    def handle(self, request: Request) -> Reply:
        if request.path != "/api/v1/search":
            return Reply.json({"message": "Not Found", "status": 404}, 404)
        words = (request.query.get("query") or [""])[0].casefold().split()
        since = 0
        for numeric in request.query.get("numericFilters") or []:
            found = re.fullmatch(r"created_at_i>(\d+)", numeric)
            since = int(found.group(1)) if found else since
        tags = request.query.get("tags") or []
        hits = [
            story
            for story in self.stories
            if all(w in f"{story['title']} {story['url'] or ''}".casefold() for w in words)
            and story["created_at_i"] > since
            and (not tags or tags[0] in story["_tags"])
        ]
        per_page = int((request.query.get("hitsPerPage") or ["20"])[0])
        body = {
            "hits": hits[:per_page],
            "nbHits": len(hits),
            "page": 0,
            "nbPages": 1,
            "hitsPerPage": per_page,
            "exhaustiveNbHits": True,
            "query": " ".join(words),
            "params": request.query,
            "processingTimeMS": 1,
        }
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json; charset=utf-8"})
