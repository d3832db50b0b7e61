"""What a person would read on an HTML page, and where its links lead.

    extract_page(url, html) -> Page              title, description, headings, visible text
    same_site_links(page_url, html) -> list[str] absolute http(s) links to the same host
    read_html(url, html) -> (Page, links)        both from one parse

Any input is accepted (str or bytes, malformed, NUL bytes, deep nesting) and the work is bounded:
the markup is cut at MAX_PARSE_CHARS characters or MAX_PARSE_TAGS tags before parsing, because
BeautifulSoup builds a Python object per tag (about 10 µs each).
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning
from bs4.element import NavigableString, PageElement, PreformattedString

from pipeline.models import Page

MAX_CONTENT_CHARS = 20_000
MAX_TITLE_CHARS = 300
MAX_DESCRIPTION_CHARS = 1_000
MAX_HEADINGS = 30
MAX_HEADING_CHARS = 200
MAX_HEADINGS_READ = 4 * MAX_HEADINGS
MAX_LINKS = 300
MAX_PARSE_CHARS = 5_000_000
MAX_PARSE_TAGS = 60_000  # '<' characters: ten times a heavy real page
MAX_ANCHORS_READ = 3_000
MAX_HEADING_NODES = 500  # nodes walked for one heading's text

_INVISIBLE_TAGS = ("head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas")
_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.I)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these from hrefs

# A page that is really XML is still read as HTML, on purpose; the warning would be noise.
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)


def extract_page(url: str, html: str | bytes) -> Page:
    """The page's title, meta description, h1-h3 headings and visible text, each capped."""
    return _page(url, _parse(html))


def same_site_links(page_url: str, html: str | bytes) -> list[str]:
    """Absolute http(s) links on the page that stay on its host, without fragments, in page order."""
    return _links(page_url, _parse(html))


def read_html(url: str, html: str | bytes) -> tuple[Page, list[str]]:
    """`extract_page` and `same_site_links` from a single parse."""
    soup = _parse(html)
    return _page(url, soup), _links(url, soup)  # links in hidden menus count: they are still links


def _parse(html: str | bytes) -> BeautifulSoup:
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    html = html[:MAX_PARSE_CHARS]
    cut = _nth_index(html, "<", MAX_PARSE_TAGS)
    if cut is not None:
        html = html[:cut]
    # A file object skips BeautifulSoup's "this looks like a URL, not markup" check.
    return BeautifulSoup(io.StringIO(_CONTROL_CHARS.sub(" ", html)), "lxml")


def _nth_index(text: str, needle: str, n: int) -> int | None:
    """Index of the n-th occurrence of `needle`, or None when there are fewer."""
    if text.count(needle) < n:
        return None
    index = -1
    for _ in range(n):
        index = text.find(needle, index + 1)
    return index


def _page(url: str, soup: BeautifulSoup) -> Page:
    headings: list[str] = []
    headings_read = 0  # bounded too: nested or repeated headings each cost a walk of their subtree
    strings: list[str] = []
    size = 0
    for node in _visible_nodes(soup):
        if isinstance(node, Tag):  # only h1-h3 are yielded as tags
            headings_read += 1
            if len(headings) < MAX_HEADINGS and headings_read <= MAX_HEADINGS_READ:
                text = _collapse(" ".join(_visible_strings(node, budget=MAX_HEADING_NODES)))[:MAX_HEADING_CHARS]
                if text and text not in headings:
                    headings.append(text)
        elif size <= MAX_CONTENT_CHARS:
            strings.append(node)
            size += len(node)
    return Page(
        url=url,
        title=_title(soup),
        meta_description=_description(soup),
        headings=headings,
        content=_collapse(" ".join(strings))[:MAX_CONTENT_CHARS],
    )


def _visible_nodes(root: Tag, budget: int | None = None) -> Iterator[Tag | str]:
    """Visible text strings in document order, and the h1-h3 tags met on the way.

    An explicit stack, and no tree mutation: deep nesting costs neither recursion nor the
    per-element searches that BeautifulSoup's `decompose` and `decomposed` can trigger.
    `budget` caps the number of nodes visited.
    """
    stack: list[PageElement] = [root]
    while stack and budget != 0:
        node = stack.pop()
        if budget is not None:
            budget -= 1
        if isinstance(node, Tag):
            if node.name in _INVISIBLE_TAGS or _is_hidden(node):
                continue
            if node.name in ("h1", "h2", "h3"):
                yield node
            stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            yield str(node)  # comments, CDATA, doctypes and processing instructions are skipped


def _visible_strings(root: Tag, budget: int | None = None) -> Iterator[str]:
    return (node for node in _visible_nodes(root, budget) if isinstance(node, str))


def _title(soup: BeautifulSoup) -> str:
    for tag in soup.find_all("title", limit=5):
        if tag.find_parent("svg") is None:
            return _collapse(tag.get_text(" "))[:MAX_TITLE_CHARS]
    return ""


def _description(soup: BeautifulSoup) -> str:
    fallback = ""
    for meta in soup.find_all("meta"):
        key = str(meta.get("name") or meta.get("property") or "").strip().lower()
        content = _collapse(str(meta.get("content") or ""))[:MAX_DESCRIPTION_CHARS]
        if key == "description" and content:
            return content
        if key in ("og:description", "twitter:description") and not fallback:
            fallback = content
    return fallback


def _is_hidden(tag: Tag) -> bool:
    attrs = tag.attrs or {}
    return (
        "hidden" in attrs
        or str(attrs.get("aria-hidden", "")).strip().lower() == "true"
        or bool(_HIDDEN_STYLE.search(str(attrs.get("style", ""))))
    )


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _links(page_url: str, soup: BeautifulSoup) -> list[str]:
    try:
        page = urlsplit(page_url)
        base_tag = soup.find("base", href=True)
        base = urljoin(page_url, _URL_NOISE.sub("", str(base_tag["href"]))) if isinstance(base_tag, Tag) else page_url
        site = (page.hostname, _explicit_port(page))
    except ValueError:
        return []
    here = urlunsplit(page._replace(fragment=""))
    links: list[str] = []
    seen = {here}
    for anchor in soup.find_all("a", href=True, limit=MAX_ANCHORS_READ):
        href = _URL_NOISE.sub("", str(anchor["href"])).strip()
        try:
            parts = urlsplit(urljoin(base, href))
            same_site = (parts.hostname, _explicit_port(parts)) == site
        except ValueError:  # a malformed link (bad port, unbalanced IPv6 bracket)
            continue
        if parts.scheme not in ("http", "https") or not same_site or parts.username or parts.password:
            continue
        link = urlunsplit(parts._replace(fragment=""))
        if link not in seen:
            seen.add(link)
            links.append(link)
            if len(links) == MAX_LINKS:
                break
    return links


def _explicit_port(parts: SplitResult) -> int | None:
    """The port unless it is the scheme's default, so http://x/ and https://x/ are one site."""
    port = parts.port
    return None if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)) else port
