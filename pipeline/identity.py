"""identify-company: which company a name means, through Wikipedia and Wikidata.

    identify_company(name, domain, reader=..., apis=...) -> CompanyIdentity | None

Wikipedia's search (`/w/api.php?action=query&list=search`) gives the articles the name could
mean; the first MAX_CANDIDATES are read through the summary API (`/api/rest_v1/page/summary/…`)
and Wikidata's claims (`/w/api.php?action=wbgetclaims&property=P856`, the official website).
With a domain (the candidate gave the site), the article whose official website is on that domain
is the company. Without one, the first article, in search order, that is not a disambiguation
page, has an official website, and whose title is the name (legal form and a bracketed
qualifier aside: "Stripe, Inc.", "Clerk (company)"). Nothing that fits is an answer too: None.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode, urlsplit

from core.errors import FetchRefused, NotFound
from pipeline.models import CompanyIdentity
from pipeline.source_reader import Reader, SourceApis

MAX_CANDIDATES = 3
MAX_SUMMARY_CHARS = 3000
_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")
_LEGAL_FORM = re.compile(
    r"[,\s]+(inc|incorporated|llc|ltd|limited|corp|corporation|co|company|gmbh|ag|sa|sas|plc|bv|nv|ab)\.?$", re.I
)


def identify_company(name: str, domain: str | None, *, reader: Reader, apis: SourceApis) -> CompanyIdentity | None:
    """The company `name` (on `domain`, when given) is, with its Wikipedia summary; None when no article fits."""
    query = urlencode(
        {"action": "query", "list": "search", "srsearch": name, "srlimit": MAX_CANDIDATES, "format": "json"}
    )
    found = _dict(reader.json(f"{apis.wikipedia}/w/api.php?{query}"))
    titles = [str(hit.get("title")) for hit in (_dict(found.get("query")).get("search") or []) if hit.get("title")]
    titles = titles[:MAX_CANDIDATES]
    if not titles:
        return None
    with ThreadPoolExecutor(max_workers=len(titles), thread_name_prefix="identify") as pool:
        candidates = list(pool.map(lambda title: _candidate(title, reader, apis), titles))
    for candidate in candidates:
        if candidate is None or not candidate.website:
            continue
        if domain is not None:
            if _on_domain(candidate.website, domain):
                return candidate
        elif same_name(candidate.title, name):
            return candidate
    return None


def same_name(title: str, name: str) -> bool:
    """Whether an article's title is the company's name, its legal form and a bracketed qualifier aside."""
    return _core(title) == _core(name) != ""


def _core(text: str) -> str:
    text = _LEGAL_FORM.sub("", _QUALIFIER.sub("", text.strip()))
    return " ".join(re.sub(r"[^\w\s&+-]", " ", text.casefold()).split())


def _candidate(title: str, reader: Reader, apis: SourceApis) -> CompanyIdentity | None:
    """The article's summary and official website; None for a disambiguation page or a missing article."""
    try:
        summary = _dict(
            reader.json(f"{apis.wikipedia}/api/rest_v1/page/summary/{quote(title.replace(' ', '_'), safe='')}")
        )
    except NotFound:
        return None
    if summary.get("type") == "disambiguation":
        return None
    item = str(summary.get("wikibase_item") or "") or None
    page = _dict(_dict(summary.get("content_urls")).get("desktop")).get("page")
    return CompanyIdentity(
        title=" ".join(str(summary.get("title") or title).split())[:200],
        description=" ".join(str(summary.get("description") or "").split())[:300],
        summary=" ".join(str(summary.get("extract") or "").split())[:MAX_SUMMARY_CHARS],
        wikipedia_url=str(page or f"{apis.wikipedia}/wiki/{quote(title.replace(' ', '_'))}"),
        wikidata_id=item,
        website=_official_website(item, reader, apis) if item else None,
    )


def _official_website(item: str, reader: Reader, apis: SourceApis) -> str | None:
    """Wikidata's official website (P856) of `item`: a preferred statement first, never a deprecated one."""
    query = urlencode({"action": "wbgetclaims", "entity": item, "property": "P856", "format": "json"})
    claims = _dict(_dict(reader.json(f"{apis.wikidata}/w/api.php?{query}")).get("claims")).get("P856") or []
    ranked = sorted(
        (c for c in claims if isinstance(c, dict) and c.get("rank") != "deprecated"),
        key=lambda c: c.get("rank") != "preferred",
    )
    for claim in ranked:
        value = _dict(_dict(claim.get("mainsnak")).get("datavalue")).get("value")
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return value
    return None


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
