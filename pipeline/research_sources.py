"""read-sources: the keyless sources beside the site and GitHub, read in parallel, none critical.

    read_sources(company_name, website, home, deep=..., reader=..., apis=..., posting_url=...) -> ExtraSources

The company's open roles (its Greenhouse, Lever or Ashby board; the posting's board when the
candidate linked one), its blog feed (and in deep mode its newest posts) and recent Hacker News
stories. The blog waits for `home()`, the home page as the scrape read it (its address after
redirects and the feeds it announces), so the home page is read once, and the feed is read as soon
as it is, beside the scrape's deep pages. Each reader
runs on a small pool of this call's own; one that fails leaves its reason in `unread` and the
others stand. (The Wikipedia summary is identify-company's: pipeline/identity.py.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import NamedTuple
from urllib.parse import urlsplit

from core.errors import PipelineError
from pipeline.blog import read_blog
from pipeline.discussion import recent_stories
from pipeline.job_boards import board_posting, find_open_roles
from pipeline.models import Blog, ExtraSources
from pipeline.source_reader import Reader, SourceApis

logger = logging.getLogger(__name__)


class Home(NamedTuple):
    """The home page as the scrape read it: its address after redirects, the feeds it announces."""

    url: str
    feeds: list[str]


def read_sources(
    company_name: str,
    website: str | None,
    home: Callable[[], Home | None],
    *,
    deep: bool,
    reader: Reader,
    apis: SourceApis,
    posting_url: str | None = None,
) -> ExtraSources:
    """Every keyless source that answers; what could not be read is named in `unread`."""
    domain = urlsplit(website).hostname if website else None
    known = board_posting(posting_url) if posting_url else None
    readers: dict[str, tuple[str, Callable[[], object]]] = {
        "open_roles": (
            "the company's job board",
            lambda: find_open_roles(company_name, domain, reader, apis, known=known),
        ),
    }
    readers["stories"] = ("Hacker News", partial(recent_stories, company_name, reader=reader, apis=apis))
    if website:
        readers["blog"] = ("the company's blog feed", partial(_blog, home, deep=deep, reader=reader))
    found: dict[str, object] = {}
    unread: list[str] = []
    with ThreadPoolExecutor(max_workers=len(readers), thread_name_prefix="read-sources") as pool:
        futures = {name: pool.submit(fn) for name, (_, fn) in readers.items()}
    for name, future in futures.items():
        error = future.exception()
        if error is None:
            found[name] = future.result()
        elif isinstance(error, PipelineError):
            logger.info("%s not read: %s", readers[name][0], error)
            unread.append(f"{readers[name][0][0].upper()}{readers[name][0][1:]} could not be read: {error.message}")
        else:
            raise error
    return ExtraSources(**found, unread=unread)


def _blog(home: Callable[[], Home | None], *, deep: bool, reader: Reader) -> Blog | None:
    read = home()
    if read is None:
        return None  # the site was not read: nowhere to look for its feed
    return read_blog(read.url, read.feeds, deep=deep, reader=reader)
