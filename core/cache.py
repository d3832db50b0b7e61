"""One stored reply of a source: what the fetchers serve and revalidate, what the stores keep."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import httpx


@dataclass(frozen=True)
class CachedResponse:
    """One stored reply: where it ended up, what it said, and how to revalidate it."""

    url: str  # the URL that answered, after redirects
    status: int
    content_type: str
    body: bytes
    etag: str | None
    last_modified: str | None
    stored_at: float  # Unix time, seconds: when it was fetched or last revalidated

    @classmethod
    def of(cls, url: str, status: int, headers: httpx.Headers, body: bytes) -> CachedResponse:
        """The entry for a reply just read."""
        return cls(
            url=url,
            status=status,
            content_type=headers.get("content-type", ""),
            body=body,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            stored_at=time.time(),
        )

    def validators(self) -> dict[str, str]:
        """The conditional headers that ask the server whether this entry is still current."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def revalidated(self) -> CachedResponse:
        """The same entry, fresh again (the server answered 304 Not Modified)."""
        return replace(self, stored_at=time.time())
