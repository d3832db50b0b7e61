"""Data a page embeds for machines: schema.org JSON-LD and microdata, and Next.js's `__NEXT_DATA__`.

    structured_items(soup) -> list[dict]     JSON-LD objects and microdata items, types lower-cased
    next_data_strings(soup) -> list[str]     the prose strings of a Next.js page's state
    pay_range(posting) -> PayRange | None    a JobPosting's `baseSalary`, its currency and unit as given

Microdata is read here by hand: the one library that reads both formats (extruct) brings an RDF
stack (rdflib, pyrdfa3, mf2py) for what is, for us, one type of item. Everything is bounded:
MAX_JSON_CHARS a script block, MAX_ITEMS items, MAX_NODES nodes walked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from bs4 import BeautifulSoup, Tag

from pipeline.models import PayRange

MAX_JSON_CHARS = 500_000  # one script block; a Next.js state above this is not prose worth reading
MAX_ITEMS = 50
MAX_NODES = 20_000  # JSON values or microdata elements walked, per page
MAX_STRINGS = 400
MIN_PROSE_WORDS = 5  # a state string shorter than this is a label, an id or a class name
MAX_PAY = 10_000_000  # a yearly figure beyond this is a unit mistake, not a salary

_PERIODS = {"YEAR": "year", "ANNUAL": "year", "MONTH": "month", "WEEK": "week", "DAY": "day", "HOUR": "hour"}
_NOT_PROSE = re.compile(r"^(?:https?:|/|#|\{|\[)|[<>{}]|\.(?:js|css|png|jpe?g|svg|webp)\b", re.I)


def structured_items(soup: BeautifulSoup) -> list[dict]:
    """schema.org items of the page, JSON-LD first, each a dict with a lower-case `@type`."""
    items: list[dict] = []
    budget = [MAX_NODES]
    for script in soup.find_all("script", type=re.compile(r"^\s*application/ld\+json", re.I), limit=MAX_ITEMS):
        data = _json(script)
        if data is not None:
            items += [item for item in _objects(data, budget) if item.get("@type")]
    for scope in soup.find_all(itemscope=True, itemtype=True, limit=MAX_ITEMS):
        if scope.find_parent(attrs={"itemscope": True}) is None:  # nested items are read with their parent
            items.append(_microdata(scope, budget))
    return items[:MAX_ITEMS]


def next_data_strings(soup: BeautifulSoup) -> list[str]:
    """The strings of `__NEXT_DATA__` that read as prose, in their order, without duplicates."""
    script = soup.find("script", id="__NEXT_DATA__")
    data = _json(script) if isinstance(script, Tag) else None
    if data is None:
        return []
    found: dict[str, None] = {}
    for text in _strings(data.get("props", data) if isinstance(data, dict) else data, [MAX_NODES]):
        text = " ".join(text.split())
        if len(text.split()) >= MIN_PROSE_WORDS and not _NOT_PROSE.search(text):
            found[text] = None
            if len(found) == MAX_STRINGS:
                break
    return list(found)


def pay_range(posting: dict) -> PayRange | None:
    """The posting's `baseSalary` as a range (a single figure is a range of one), or None."""
    given = posting.get("basesalary")
    if isinstance(given, list):
        given = given[0] if given else None
    if not isinstance(given, dict):
        return None
    salary = _lower(given)
    value = salary.get("value")
    value = value[0] if isinstance(value, list) and value else value
    spec = _lower(value) if isinstance(value, dict) else {"value": value}
    low = _number(spec.get("minvalue", spec.get("value")))
    high = _number(spec.get("maxvalue", spec.get("value")))
    if low is None or high is None or not 0 < low <= high <= MAX_PAY:
        return None
    currency = salary.get("currency") or spec.get("currency")
    unit = str(spec.get("unittext") or salary.get("unittext") or "").strip().upper()
    return PayRange(
        min=low,
        max=high,
        currency=str(currency).strip()[:12] or None if currency else None,
        period=_PERIODS.get(unit),
        quote=json.dumps(_original(given), ensure_ascii=False, separators=(", ", ": ")),
    )


def _lower(data: dict) -> dict:
    return {str(k).lower(): v for k, v in data.items()}


def _json(script: Tag) -> object | None:
    text = script.string or ""
    if len(text) > MAX_JSON_CHARS:
        return None
    try:
        return json.loads(text.strip().removeprefix("<!--").removesuffix("-->"))
    except (ValueError, RecursionError):  # a nest deeper than the JSON parser's recursion limit
        return None


def _objects(data: object, budget: list[int]) -> Iterator[dict]:
    """Every JSON object in `data` (through @graph and lists), keys and @type lower-cased."""
    stack = [data]
    while stack and budget[0] > 0:
        budget[0] -= 1
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            item = _lower(node)
            kind = item.get("@type")
            if isinstance(kind, list):
                kind = next((k for k in kind if isinstance(k, str)), "")
            if isinstance(kind, str) and kind:
                item["@type"] = kind.lower().rsplit("/", 1)[-1]
                item["@original"] = node
                yield item
            stack.extend(reversed([v for k, v in item.items() if k in ("@graph", "mainentity", "itemlistelement")]))


def _microdata(scope: Tag, budget: list[int]) -> dict:
    """One microdata item as a dict like a JSON-LD object: itemprop names lower-cased, nested items nested."""
    item: dict = {"@type": str(scope.get("itemtype", "")).strip().lower().rsplit("/", 1)[-1]}
    original: dict = {"@type": str(scope.get("itemtype", "")).strip().rsplit("/", 1)[-1]}
    stack = list(reversed(scope.find_all(True, recursive=False)))
    while stack and budget[0] > 0:
        budget[0] -= 1
        node = stack.pop()
        prop = node.get("itemprop")
        if prop:
            if node.has_attr("itemscope"):
                value = _microdata(node, budget)
                plain = value["@original"]
            else:
                value = plain = _property_value(node)
            for name in str(prop).split():
                item.setdefault(name.lower(), value)
                original.setdefault(name, plain)
            if node.has_attr("itemscope"):
                continue  # its properties belong to the nested item
        stack.extend(reversed(node.find_all(True, recursive=False)))
    item["@original"] = original
    return item


def _property_value(node: Tag) -> str:
    """A microdata property's value: its content, address or datetime attribute, else its inner HTML."""
    for attr in ("content", "href", "src", "datetime", "value"):
        if node.has_attr(attr) and node.name in ("meta", "a", "link", "img", "time", "data", "meter", "source"):
            return str(node[attr])
    return node.decode_contents()


def _strings(data: object, budget: list[int]) -> Iterator[str]:
    stack = [data]
    while stack and budget[0] > 0:
        budget[0] -= 1
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def _number(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return round(value)
    if isinstance(value, str):
        try:
            return round(float(value.replace(",", "").strip()))
        except ValueError:
            return None
    return None


def _original(value: object) -> object:
    """A structured value as the page wrote it (JSON-LD's own keys, microdata's property names)."""
    if isinstance(value, dict):
        return value.get("@original", value)
    return value
