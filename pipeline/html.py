"""What a person would read on an HTML page, and where its links lead: the one reading path of
the company's pages, the job posting and the offline analyzer.

    extract_page(url, html) -> Page              title, description, headings, main content,
                                                 visible text, structured data, shell or not
    same_site_links(page_url, html) -> list[str] absolute http(s) links to the same host
    read_html(url, html) -> (Page, links)        both from one parse

The main content is trafilatura's Markdown (`pipeline.maintext`); the visible text, one block
element a line, is what quotes are also checked against, so a true quote from a menu counts. A
page whose markup is a JavaScript shell (an empty root container, a noscript asking for
JavaScript, or scripts and little text) is marked `script_built`; what it embeds as data
(JSON-LD, microdata, `__NEXT_DATA__`) is read as its `data`.

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

from pipeline.embedded import next_data_strings, pay_range, structured_items
from pipeline.maintext import main_markdown
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
MAX_MAIN_TAGS = 15_000  # '<' characters given to trafilatura: twice a heavy real page, its cost grows faster
MAX_DATA_CHARS = 20_000
MAX_FRAGMENT_CHARS = 100_000  # an HTML description inside structured data
MAX_SHELL_TEXT_CHARS = 400  # visible text of a page that a script builds: a title, a noscript, a footer line
SHELL_ROOTS = ("root", "app", "__next", "__nuxt", "___gatsby", "svelte", "main-app")
MAX_SCRIPTED_TEXT_CHARS = 100  # without a root container or noscript, scripts and this little text
_ENABLE_JS = re.compile(
    r"\b(?:enable|activate|turn on|allow)\b.{0,40}\bjavascript\b|\bjavascript\b.{0,40}\b(?:enabled|required)\b",
    re.I | re.S,
)
# Elements that start a line of their own in the visible text.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body br dd details dialog div dl dt fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table td th tr ul".split()
)
_BREAK = object()  # end of a block element in the walk
_HAS_ITEMS = re.compile(r"ld\+json|itemscope", re.I)
# Schema.org types whose text describes the company or the posting, and the properties read.
_DATA_FIELDS = {
    "jobposting": ("title", "hiringorganization", "joblocation", "employmenttype", "description"),
    "organization": ("name", "slogan", "description"),
    "corporation": ("name", "slogan", "description"),
    "localbusiness": ("name", "slogan", "description"),
    "product": ("name", "description"),
    "softwareapplication": ("name", "description"),
}

_INVISIBLE_TAGS = ("head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas")
_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.I)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these from hrefs

# A page that is really XML is still read as HTML, on purpose; the warning would be noise.
warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)


def extract_page(url: str, html: str | bytes) -> Page:
    """The page as read: title, description, h1-h3 headings, main content, visible text, data; each capped."""
    return _page(url, *_parse(html))


def same_site_links(page_url: str, html: str | bytes) -> list[str]:
    """Absolute http(s) links on the page that stay on its host, without fragments, in page order."""
    return _links(page_url, _parse(html)[0])


def read_html(url: str, html: str | bytes, *, rendered: bool = False) -> tuple[Page, list[str]]:
    """`extract_page` and `same_site_links` from a single parse; `rendered`: the DOM after its scripts
    ran, a shell only if they built no text (its noscript and root containers are still there)."""
    soup, markup = _parse(html)
    return _page(url, soup, markup, rendered), _links(url, soup)  # links in hidden menus count: still links


def visible_lines(html: str) -> str:
    """The visible text of an HTML fragment, one block element a line (a description in structured data)."""
    return _lines(_visible_nodes(_parse(html[:MAX_FRAGMENT_CHARS])[0]), MAX_CONTENT_CHARS)


def _parse(html: str | bytes) -> tuple[BeautifulSoup, str]:
    """The parsed page and the bounded markup it was parsed from."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    html = _CONTROL_CHARS.sub(" ", _cut_tags(html[:MAX_PARSE_CHARS], MAX_PARSE_TAGS))
    # A file object skips BeautifulSoup's "this looks like a URL, not markup" check.
    return BeautifulSoup(io.StringIO(html), "lxml"), html


def _cut_tags(html: str, tags: int) -> str:
    """The markup before its `tags`-th '<'."""
    cut = _nth_index(html, "<", tags)
    return html if cut is None else html[:cut]


def _nth_index(text: str, needle: str, n: int) -> int | None:
    """Index of the n-th occurrence of `needle`, or None when there are fewer."""
    if text.count(needle) < n:
        return None
    index = -1
    for _ in range(n):
        index = text.find(needle, index + 1)
    return index


def _page(url: str, soup: BeautifulSoup, markup: str, rendered: bool = False) -> Page:
    headings: list[str] = []
    headings_read = 0  # bounded too: nested or repeated headings each cost a walk of their subtree

    def text_nodes() -> Iterator[str | object]:
        nonlocal headings_read
        for node in _visible_nodes(soup):
            if isinstance(node, Tag):  # only h1-h3 are yielded as tags
                headings_read += 1
                if len(headings) < MAX_HEADINGS and headings_read <= MAX_HEADINGS_READ:
                    text = _collapse(" ".join(_visible_strings(node, budget=MAX_HEADING_NODES)))[:MAX_HEADING_CHARS]
                    if text and text not in headings:
                        headings.append(text)
            else:
                yield node

    content = _lines(text_nodes(), MAX_CONTENT_CHARS)
    script_built = not content if rendered else _is_shell(soup, content)
    # A scan of the markup first: bs4's tree searches cost a walk of every tag, which most pages need not pay.
    items = structured_items(soup) if _HAS_ITEMS.search(markup) else []
    next_strings = next_data_strings(soup) if "__NEXT_DATA__" in markup else []
    pay = next((p for item in items if item["@type"] == "jobposting" and (p := pay_range(item))), None)
    return Page(
        url=url,
        title=_title(soup),
        meta_description=_description(soup),
        headings=headings,
        content=content,
        main="" if script_built else main_markdown(_cut_tags(markup, MAX_MAIN_TAGS)),  # a shell's is its noscript
        data=_data_text(items, next_strings),
        pay=pay,
        script_built=script_built,
    )


def _lines(nodes: Iterator[Tag | str | object], limit: int) -> str:
    """Text strings joined, a new line at each block's edge, whitespace collapsed, empty lines dropped."""
    lines: list[str] = []
    current: list[str] = []
    size = 0
    for node in nodes:
        if node is _BREAK:
            line = _collapse(" ".join(current))
            current = []
            if line and line != "-":  # an empty list item
                lines.append(line)
                size += len(line) + 1
                if size > limit:
                    break
        elif isinstance(node, str):  # a heading's tag is not text: its strings follow it
            current.append(node)
    if current:
        lines.append(_collapse(" ".join(current)))
    return "\n".join(line for line in lines if line)[:limit]


def _visible_nodes(root: Tag, budget: int | None = None) -> Iterator[Tag | str | object]:
    """Visible text strings in document order, the h1-h3 tags met on the way, and `_BREAK` at
    the edges of block elements.

    An explicit stack, and no tree mutation: deep nesting costs neither recursion nor the
    per-element searches that BeautifulSoup's `decompose` and `decomposed` can trigger.
    `budget` caps the number of nodes visited.
    """
    stack: list[PageElement | object] = [root]
    while stack and budget != 0:
        node = stack.pop()
        if node is _BREAK:
            yield node
            continue
        if budget is not None:
            budget -= 1
        if isinstance(node, Tag):
            if node.name in _INVISIBLE_TAGS or _is_hidden(node):
                continue
            if node.name in ("h1", "h2", "h3"):
                yield node
            if node.name == "pre":  # its line breaks are the text's own: a posting written as plain text
                for line in node.get_text()[:MAX_CONTENT_CHARS].split("\n"):
                    yield _BREAK
                    yield line
                yield _BREAK
                continue
            if node.name in _BLOCK_TAGS:
                yield _BREAK
                stack.append(_BREAK)
                if node.name == "li":
                    yield "-"  # a list item stays one, so a posting's requirements can be found
            stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            yield str(node)  # comments, CDATA, doctypes and processing instructions are skipped


def _visible_strings(root: Tag, budget: int | None = None) -> Iterator[str]:
    return (node for node in _visible_nodes(root, budget) if isinstance(node, str))


def _data_text(items: list[dict], next_strings: list[str]) -> str:
    """The readable text of the page's structured data: what describes the company or the posting."""
    pay = [p.quote for item in items if item["@type"] == "jobposting" and (p := pay_range(item))]
    lines: list[str] = pay[:1]  # first, so that no cap cuts the quote a salary cites
    for item in items:
        for field in _DATA_FIELDS.get(item["@type"], ()):
            lines += _field_lines(item.get(field), html=field == "description")
    lines += next_strings
    return "\n".join(dict.fromkeys(line for line in lines if line))[:MAX_DATA_CHARS]


def _field_lines(value: object, *, html: bool) -> list[str]:
    """A structured property as lines: text (HTML read as visible text), an item's name or address."""
    if isinstance(value, list):
        return [line for v in value[:MAX_HEADINGS] for line in _field_lines(v, html=html)]
    if isinstance(value, dict):
        value = {str(k).lower(): v for k, v in value.items()}
        address = value.get("address")
        if isinstance(address, dict):
            address = {str(k).lower(): v for k, v in address.items()}
            parts = [address.get(k) for k in ("addresslocality", "addressregion", "addresscountry")]
            return [", ".join(str(p) for p in parts if isinstance(p, str) and p)]
        return _field_lines(value.get("name") or address, html=False)
    if not isinstance(value, str):
        return []
    return visible_lines(value).split("\n") if html and "<" in value else [_collapse(value)]


def _is_shell(soup: BeautifulSoup, content: str) -> bool:
    """Whether a script builds the page: little visible text, and an empty root container, a
    noscript asking for JavaScript, or scripts and next to no text."""
    if len(content) > MAX_SHELL_TEXT_CHARS:
        return False
    empty_root = any(
        isinstance(tag, Tag) and not _collapse(tag.get_text(" "))
        for tag in soup.find_all(id=lambda value: value in SHELL_ROOTS, limit=10)
    )
    asks_for_js = any(_ENABLE_JS.search(tag.get_text(" ")) for tag in soup.find_all("noscript", limit=10))
    scripts = soup.find("script", src=True) is not None or soup.find("script", type="module") is not None
    return empty_root or asks_for_js or (scripts and len(content) <= MAX_SCRIPTED_TEXT_CHARS)


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
