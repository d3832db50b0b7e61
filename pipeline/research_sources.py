"""read-sources: the keyless sources beside the site and GitHub, read in parallel, none critical.

    read_sources(company_name, website, deep=..., reader=..., apis=..., posting_url=..., identity=...) -> ExtraSources

The company's open roles (its Greenhouse, Lever or Ashby board), its blog feed (and in deep mode
its newest posts), its Wikipedia summary (when `identity` was not already resolved) and recent
Hacker News stories. Each reader runs on a small pool of this call's own; one that fails leaves its
reason in `unread` and the others stand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from pipeline.errors import PipelineError
from pipeline.job_boards import board_posting, find_open_roles
from pipeline.models import CompanyIdentity, ExtraSources
from pipeline.source_reader import Reader, SourceApis

logger = logging.getLogger(__name__)


def read_sources(
    company_name: str,
    website: str | None,
    *,
    deep: bool,
    reader: Reader,
    apis: SourceApis,
    posting_url: str | None = None,
    identity: CompanyIdentity | None = None,
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
    return ExtraSources(**found, identity=identity, unread=unread)
