"""The cache of fetched sources as the pipeline sees it: stored replies, their freshness, and
fetches shared between jobs that need the same URL at the same moment.

    SourceCache(store, ttl_s, inflight).for_job(refresh) -> what one job reads through
    cache.lookup(key) -> (entry | None, fresh)     entry: a CachedResponse to serve or revalidate
    cache.store.save(key, entry)                   only replies the safe fetcher accepted

The store itself is injected (db/source_cache.py keeps it in the database, so every job and every
process shares it); step modules only see the `CacheStore` protocol.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from core.cache import CachedResponse
from core.errors import StepTimeout

T = TypeVar("T")


class CacheStore(Protocol):
    """Where entries live; keys are short strings such as `page https://acme.com/`."""

    def load(self, key: str) -> CachedResponse | None:
        """The entry under `key`, or None."""
        ...

    def save(self, key: str, entry: CachedResponse) -> None:
        """Insert or replace the entry under `key`."""
        ...


class InFlight:
    """Within one process, concurrent callers of `run` with the same key share one call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, _Call] = {}

    def run(self, key: str, fn: Callable[[], T], deadline: float) -> T:
        """`fn()`, or the result (or error) of the call already running under `key`.

        A follower waits at most until `deadline` (a `time.monotonic()` value); when the leader
        ran out of its own time, the follower tries again with its own.
        """
        with self._lock:
            call = self._calls.get(key)
            leader = call is None
            if leader:
                call = self._calls[key] = _Call()
        if leader:
            try:
                call.result = fn()
                return call.result
            except BaseException as error:
                call.error = error
                raise
            finally:
                with self._lock:
                    del self._calls[key]
                call.done.set()
        if not call.done.wait(timeout=max(0.0, deadline - time.monotonic())):
            raise StepTimeout(f"Waiting for another job's read of {key.partition(' ')[2]} ran out of time.")
        if isinstance(call.error, StepTimeout):  # the leader's own deadline, not this caller's
            return self.run(key, fn, deadline)
        if call.error is not None:
            raise call.error
        return call.result


@dataclass
class _Call:
    done: threading.Event = field(default_factory=threading.Event)
    result: object = None
    error: BaseException | None = None


@dataclass(frozen=True)
class SourceCache:
    """The shared store, its time to live, and whether this job bypasses it (refresh)."""

    store: CacheStore
    ttl_s: float  # seconds an entry is used without asking the server
    inflight: InFlight = field(default_factory=InFlight)
    refresh: bool = False  # read everything again, and store what was read

    def for_job(self, refresh: bool) -> SourceCache:
        """This cache as one job uses it."""
        return replace(self, refresh=refresh)

    def lookup(self, key: str) -> tuple[CachedResponse | None, bool]:
        """The stored entry and whether it is within the TTL; nothing when refreshing."""
        if self.refresh:
            return None, False
        entry = self.store.load(key)
        if entry is None:
            return None, False
        return entry, time.time() - entry.stored_at < self.ttl_s
