"""A page's main content as Markdown (headings, paragraphs, lists, tables), by trafilatura.

    main_markdown(html) -> str      "" when trafilatura finds no main content

trafilatura is the field's well-kept main-content extractor: it drops menus, footers, banners,
share bars and related-post cards by their structure and link density, which a tag list cannot.
The markup it is given is already bounded by `pipeline.html`.
"""

from __future__ import annotations

import logging
import re

import trafilatura
from lxml import etree

log = logging.getLogger(__name__)
# trafilatura logs an ERROR for every page it finds no tree or text in (a shell, a fragment):
# expected on the web, and `main_markdown` says so itself, at INFO.
logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

MAX_MAIN_CHARS = 20_000
_ESCAPED_BULLET = re.compile(r"^\\([-*+])(?=\s)", re.M)  # "\- item": a dash written as text, read as a bullet
_BLANK_LINES = re.compile(r"\n{3,}")


def main_markdown(html: str) -> str:
    """The main content of a page as Markdown, capped at MAX_MAIN_CHARS; "" when there is none."""
    try:
        text = trafilatura.extract(
            html,
            output_format="markdown",
            include_tables=True,
            include_comments=False,
            include_links=False,
            include_images=False,
            favor_recall=True,  # a company page's short cards are content, not noise
            deduplicate=False,
        )
    except (etree.LxmlError, ValueError, RecursionError) as error:  # markup lxml cannot build a tree of
        log.info("main content not extracted: %s", type(error).__name__)
        return ""
    if not text:
        return ""
    text = _ESCAPED_BULLET.sub(r"\1", text)
    return _BLANK_LINES.sub("\n\n", text).strip()[:MAX_MAIN_CHARS]
