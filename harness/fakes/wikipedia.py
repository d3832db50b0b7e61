"""Fake Wikipedia and Wikidata APIs in the shapes the real ones answer.

Wikipedia: `GET /w/api.php?action=query&format=json&formatversion=2&generator=search&gsrsearch=…`
(articles whose title or lead contains every word of the query, ranked in the dataset's order,
`gsrlimit` of them) with the properties `prop` asks for: `extracts` (the lead, as HTML unless
`explaintext`), `pageprops` (those `ppprop` names: `wikibase_item`, `disambiguation`), `info`
with `inprop=url` (`fullurl`), `description`. As in formatversion 2, `query.pages` is a list in
page-id order, each page's search rank in `index`; no hit answers without `query`.
Wikidata: `GET /w/api.php?action=wbgetentities&ids=Q…|Q…&props=claims&format=json` (the
official website, P856; an item it does not know is `missing`, as Wikidata answers).
The dataset: "Acme Robotics" (Q4242, whose website `set_website` points at the fake site), the
occupation "Clerk" (no website) ahead of "Clerk (company)" in search, and a disambiguation page.
"""

from __future__ import annotations

import html
import json
from urllib.parse import quote

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
            "disambiguation": True,
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
    """Wikipedia's action API over `articles`: a search that describes the pages it finds."""

    def __init__(self) -> None:
        super().__init__()
        self.articles = articles()

    def reset(self) -> None:
        super().reset()
        self.articles = articles()

    def handle(self, request: Request) -> Reply:
        query = {key: values[0] for key, values in request.query.items()}
        if request.path != "/w/api.php" or query.get("action") != "query" or query.get("generator") != "search":
            return Reply.json({"error": {"code": "badvalue", "info": "Unrecognized request."}}, 400)
        words = query.get("gsrsearch", "").casefold().split()
        hits = [
            (n, title, article)
            for n, (title, article) in enumerate(self.articles.items())
            if words and all(w in f"{title} {article['extract']}".casefold() for w in words)
        ][: int(query.get("gsrlimit", "10"))]
        if not hits:
            return _json({"batchcomplete": True})
        props = query.get("prop", "").split("|")
        pages = [self._page(n, rank, title, article, query, props) for rank, (n, title, article) in enumerate(hits, 1)]
        return _json({"batchcomplete": True, "query": {"pages": sorted(pages, key=lambda page: page["pageid"])}})

    @staticmethod
    def _page(n: int, rank: int, title: str, article: dict, query: dict[str, str], props: list[str]) -> dict:
        page: dict = {"pageid": 1000 + n, "ns": 0, "title": title, "index": rank}
        if "extracts" in props:
            text = article["extract"]
            page["extract"] = text if "explaintext" in query else f"<p>{html.escape(text)}</p>"
        if "pageprops" in props:
            known = {
                "wikibase_item": article["item"],
                **({"disambiguation": ""} if article.get("disambiguation") else {}),
            }
            wanted = query.get("ppprop", "").split("|") if "ppprop" in query else list(known)
            if chosen := {name: value for name, value in known.items() if name in wanted}:
                page["pageprops"] = chosen
        if "info" in props:
            page.update(contentmodel="wikitext", pagelanguage="en", touched="2026-11-02T09:14:00Z", length=4242)
            if "url" in query.get("inprop", "").split("|"):
                slug = quote(title.replace(" ", "_"), safe="()")
                page.update(
                    fullurl=f"https://en.wikipedia.org/wiki/{slug}",
                    editurl=f"https://en.wikipedia.org/w/index.php?title={slug}&action=edit",
                    canonicalurl=f"https://en.wikipedia.org/wiki/{slug}",
                )
        if "description" in props:
            page.update(description=article["description"], descriptionsource="local")
        return page


class FakeWikidata(FakeServer):
    """Wikidata's `wbgetentities` for the official website (P856) over `websites`."""

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
        if request.path != "/w/api.php" or request.query.get("action") != ["wbgetentities"]:
            return Reply.json({"error": {"code": "badvalue", "info": "Unrecognized request."}}, 400)
        ids = (request.query.get("ids") or [""])[0].split("|")
        wanted = (request.query.get("props") or ["info|sitelinks|aliases|labels|descriptions|claims|datatype"])[0]
        known = articles_items(self)
        entities = {}
        for item in ids:
            if item not in known:
                entities[item] = {"id": item, "missing": ""}
                continue
            entity: dict = {"type": "item", "id": item}
            if "claims" in wanted.split("|"):
                entity["claims"] = {"P856": self._claims(item)} if item in self.websites else {}
            entities[item] = entity
        return _json({"entities": entities, "success": 1})

    def _claims(self, item: str) -> list[dict]:
        return [
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
        ]


def articles_items(wikidata: FakeWikidata) -> set[str]:
    """The items Wikidata knows: every default article's, and any given a website."""
    return {article["item"] for article in articles().values()} | set(wikidata.websites)


def _json(data: object) -> Reply:
    return Reply(200, json.dumps(data).encode(), {"Content-Type": "application/json; charset=utf-8"})
