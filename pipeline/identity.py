"""identify-company: which company a name means, through Wikipedia and Wikidata.

    identify_company(name, domain, reader=..., apis=...) -> CompanyIdentity | None

Two requests, one after the other. Wikipedia's action API searches and describes the first
MAX_CANDIDATES articles at once (`generator=search` with `prop=extracts|pageprops|info|description`:
each article's search rank, plain-text lead, Wikidata item, short description, URL, and whether it
is a disambiguation page); then one Wikidata `wbgetentities` reads the official website (P856) of
every article that could be the company. With a domain (the candidate gave the site), the article
whose official website is on that domain is the company. Without one, the first article, in search
order, that is not a disambiguation page, has an official website, and whose title is the name
(legal form and a bracketed qualifier aside: "Stripe, Inc.", "Clerk (company)"). Nothing that fits
is an answer too: None.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from core.errors import FetchRefused
from pipeline.models import CompanyIdentity
from pipeline.source_reader import Reader, SourceApis

MAX_CANDIDATES = 5  # search hits described; TextExtracts gives at most 20 intro extracts a request
MAX_SUMMARY_CHARS = 3000
_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")
_LEGAL_FORM = re.compile(
    r"[,\s]+(inc|incorporated|llc|ltd|limited|corp|corporation|co|company|gmbh|ag|sa|sas|plc|bv|nv|ab)\.?$", re.I
)


def identify_company(name: str, domain: str | None, *, reader: Reader, apis: SourceApis) -> CompanyIdentity | None:
    """The company `name` (on `domain`, when given) is, with its Wikipedia summary; None when no article fits."""
    candidates = [
        article
        for article in _articles(name, reader, apis)
        if article.wikidata_id and (domain is not None or same_name(article.title, name))
    ]
    websites = _official_websites([a.wikidata_id for a in candidates if a.wikidata_id], reader, apis)
    for article in candidates:
        website = websites.get(article.wikidata_id or "")
        if website and (domain is None or _on_domain(website, domain)):
            return article.model_copy(update={"website": website})
    return None


def same_name(title: str, name: str) -> bool:
    """Whether an article's title is the company's name, its legal form and a bracketed qualifier aside."""
    return _core(title) == _core(name) != ""


def _core(text: str) -> str:
    text = _LEGAL_FORM.sub("", _QUALIFIER.sub("", text.strip()))
    return " ".join(re.sub(r"[^\w\s&+-]", " ", text.casefold()).split())


def _articles(name: str, reader: Reader, apis: SourceApis) -> list[CompanyIdentity]:
    """The articles the search finds for `name`, in its order, without disambiguation pages (no website yet)."""
    query = urlencode(
        {
            "action": "query",
            "format": "json",
            "formatversion": 2,
            "generator": "search",
            "gsrsearch": name,
            "gsrlimit": MAX_CANDIDATES,
            "prop": "extracts|pageprops|info|description",
            "exintro": 1,
            "explaintext": 1,
            "exlimit": MAX_CANDIDATES,
            "ppprop": "wikibase_item|disambiguation",
            "inprop": "url",
            "redirects": 1,
        }
    )
    pages = _dict(_dict(reader.json(f"{apis.wikipedia}/w/api.php?{query}")).get("query")).get("pages") or []
    if not isinstance(pages, list):
        raise FetchRefused("Wikipedia answered a search without its list of pages.")
    found = []
    for page in sorted((p for p in pages if isinstance(p, dict)), key=lambda p: p.get("index") or 0):
        props = _dict(page.get("pageprops"))
        title = " ".join(str(page.get("title") or "").split())[:200]
        if "disambiguation" in props or page.get("missing") or not title or not page.get("fullurl"):
            continue
        found.append(
            CompanyIdentity(
                title=title,
                description=" ".join(str(page.get("description") or "").split())[:300],
                summary=" ".join(str(page.get("extract") or "").split())[:MAX_SUMMARY_CHARS],
                wikipedia_url=str(page["fullurl"]),
                wikidata_id=str(props.get("wikibase_item") or "") or None,
            )
        )
    return found


def _official_websites(items: list[str], reader: Reader, apis: SourceApis) -> dict[str, str]:
    """Wikidata's official website (P856) of each of `items`: a preferred statement first, never a deprecated one."""
    if not items:
        return {}
    query = urlencode(
        {"action": "wbgetentities", "ids": "|".join(dict.fromkeys(items)), "props": "claims", "format": "json"}
    )
    entities = _dict(_dict(reader.json(f"{apis.wikidata}/w/api.php?{query}")).get("entities"))
    websites = {}
    for item, entity in entities.items():
        claims = _dict(_dict(entity).get("claims")).get("P856") or []
        ranked = sorted(
            (c for c in claims if isinstance(c, dict) and c.get("rank") != "deprecated"),
            key=lambda c: c.get("rank") != "preferred",
        )
        for claim in ranked:
            value = _dict(_dict(claim.get("mainsnak")).get("datavalue")).get("value")
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                websites[item] = value
                break
    return websites


def _on_domain(url: str, domain: str) -> bool:
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    domain = domain.lower().removeprefix("www.")
    return bool(host) and (host == domain or host.endswith("." + domain) or domain.endswith("." + host))


def _dict(value: object) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FetchRefused("Wikipedia or Wikidata answered something other than a JSON object.")
    return value
