"""Fake Wikipedia and Wikidata APIs in the shapes the real ones answer.

Wikipedia: `GET /w/api.php?action=query&list=search&srsearch=…&format=json` (articles whose title
or lead contains every word of the query, in the dataset's order) and
`GET /api/rest_v1/page/summary/{title}` (404 in the REST API's error shape for a missing article).
Wikidata: `GET /w/api.php?action=wbgetclaims&entity=Q…&property=P856&format=json` (the official
website; an unknown entity answers 200 with an `error` object, as Wikidata does).
The dataset: "Acme Robotics" (Q4242, whose website `set_website` points at the fake site), the
occupation "Clerk" (no website) ahead of "Clerk (company)" in search, and a disambiguation page.
"""

from __future__ import annotations

import copy
import json
from urllib.parse import unquote

from harness.fakes.server import FakeServer, Reply, Request

ACME_ITEM = "Q4242"
ACME_SUMMARY = (
    "Acme Robotics is a French robotics company founded in 2015 in Lyon. It makes autonomous sorting robots "
    "for e-commerce warehouses and has about 120 employees."
)


def articles() -> dict[str, dict]:
    """The default articles by title."""
    return {
        "Acme Robotics": {"description": "French robotics company", "extract": ACME_SUMMARY, "item": ACME_ITEM},
        "Acme (disambiguation)": {
            "description": "Topics referred to by the same term",
            "extract": "Acme may refer to: Acme Robotics, a robotics company; Acme, a town.",
            "item": "Q100",
            "type": "disambiguation",
        },
        "Clerk": {
            "description": "Office worker",
            "extract": "A clerk is a white-collar worker who conducts general office tasks.",
            "item": "Q200",
        },
        "Clerk (company)": {
            "description": "American software company",
            "extract": "Clerk is an American software company that sells user authentication for web applications.",
            "item": "Q300",
        },
    }


def websites() -> dict[str, str]:
    """The default official websites (P856) by Wikidata item."""
    return {"Q300": "https://clerk.example/"}


class FakeWikipedia(FakeServer):
    """Wikipedia's search and page-summary APIs over `articles`."""

    def __init__(self) -> None:
        super().__init__()
        self.articles = articles()

    def reset(self) -> None:
        super().reset()
        self.articles = articles()

    def handle(self, request: Request) -> Reply:
        if request.path == "/w/api.php" and request.query.get("list") == ["search"]:
            words = (request.query.get("srsearch") or [""])[0].casefold().split()
            limit = int((request.query.get("srlimit") or ["10"])[0])
            hits = [
                {"ns": 0, "title": title, "pageid": 1000 + n, "snippet": article["extract"][:80]}
                for n, (title, article) in enumerate(self.articles.items())
                if words and all(w in f"{title} {article['extract']}".casefold() for w in words)
            ]
            return _json(
                {"batchcomplete": "", "query": {"searchinfo": {"totalhits": len(hits)}, "search": hits[:limit]}}
            )
        prefix = "/api/rest_v1/page/summary/"
        if request.path.startswith(prefix):
            title = unquote(request.path[len(prefix) :]).replace("_", " ")
            article = self.articles.get(title)
            if article is None:
                return Reply.json(
                    {"type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found", "title": "Not found.",
                     "method": "get", "detail": "Page or revision not found.", "uri": request.path},
                    404,
                )  # fmt: skip
            slug = title.replace(" ", "_")
            return _json(
                {
                    "type": article.get("type", "standard"),
                    "title": title,
                    "displaytitle": title,
                    "wikibase_item": article["item"],
                    "description": article["description"],
                    "extract": article["extract"],
                    "content_urls": {"desktop": {"page": f"https://en.wikipedia.org/wiki/{slug}"}},
                    "lang": "en",
                }
            )
        return Reply.json({"error": {"code": "badvalue", "info": "Unrecognized request."}}, 400)


class FakeWikidata(FakeServer):
    """Wikidata's `wbgetclaims` for the official website (P856) over `websites`."""

    def __init__(self) -> None:
        super().__init__()
        self.websites = websites()

    def reset(self) -> None:
        super().reset()
        self.websites = websites()

    def set_website(self, item: str, url: str) -> None:
        """Make `url` the official website of `item`."""
        self.websites[item] = url

    def handle(self, request: Request) -> Reply:
        if request.path != "/w/api.php" or request.query.get("action") != ["wbgetclaims"]:
            return Reply.json({"error": {"code": "badvalue", "info": "Unrecognized request."}}, 400)
        item = (request.query.get("entity") or [""])[0]
        if item not in articles_items(self):
            return _json({"error": {"code": "no-such-entity", "info": f"Could not find an entity with the ID {item}."}})
        claims = []
        if item in self.websites:
            claims.append(
                {
                    "mainsnak": {
                        "snaktype": "value",
                        "property": "P856",
                        "datavalue": {"value": self.websites[item], "type": "string"},
                        "datatype": "url",
                    },
                    "type": "statement",
                    "id": f"{item}$0000",
                    "rank": "normal",
                }
            )
        return _json({"claims": {"P856": copy.deepcopy(claims)} if claims else {}})


def articles_items(wikidata: FakeWikidata) -> set[str]:
    """The items Wikidata knows: every default article's, and any given a website."""
    return {article["item"] for article in articles().values()} | set(wikidata.websites)


def _json(data: object) -> Reply:
    return Reply(200, json.dumps(data).encode(), {"Content-Type": "application/json; charset=utf-8"})
