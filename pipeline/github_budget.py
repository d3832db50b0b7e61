"""GitHub's rate limits as one budget for every job: windows read from GitHub's own headers, and
spent one request at a time before the request is sent.

    budget.take(resource) -> Verdict   GRANTED (one request reserved), DENIED, or UNKNOWN (no window yet)
    budget.give_back(resource)         a reserved request GitHub did not count (a 304)
    budget.observe(window)             what a reply's X-RateLimit-* headers (or /rate_limit) said
    budget.window(resource) -> Window | None

`MemoryBudget` keeps the windows for one caller; db/github_budget.py applies the same rules
(`take`, `merge` below) to a table, so every job of every process spends one budget.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from pipeline.errors import PermanentError

CORE, SEARCH = "core", "search"


class Verdict(StrEnum):
    """The answer to "may I send one more request?"."""

    GRANTED = "granted"
    DENIED = "denied"
    UNKNOWN = "unknown"  # no current window: ask GitHub's free /rate_limit first


@dataclass(frozen=True)
class Window:
    """One rate-limit window of one resource, as GitHub last reported it (less what we reserved since)."""

    resource: str
    limit: int
    remaining: int
    reset_at: int  # Unix time, seconds, GitHub's clock

    def expired(self, now: float) -> bool:
        """The window has reset: its count no longer says anything."""
        return now >= self.reset_at


class RateBudget(Protocol):
    """The shared budget a GitHub lookup spends."""

    def take(self, resource: str) -> Verdict:
        """Reserve one request of `resource` when the current window has one left."""
        ...

    def give_back(self, resource: str) -> None:
        """Return one reserved request of the current window."""
        ...

    def observe(self, window: Window) -> None:
        """Fold in what GitHub reported."""
        ...

    def window(self, resource: str) -> Window | None:
        """The current window of `resource`, None when unknown or expired."""
        ...


class BudgetExhausted(PermanentError):
    """GitHub's limit is used up; waiting for the reset would outlast the job."""

    kind = "rate_limited"


def take(current: Window | None, now: float) -> tuple[Verdict, Window | None]:
    """The verdict, and the window with one request reserved when granted."""
    if current is None or current.expired(now):
        return Verdict.UNKNOWN, current
    if current.remaining <= 0:
        return Verdict.DENIED, current
    return Verdict.GRANTED, replace(current, remaining=current.remaining - 1)


def give_back(current: Window | None, now: float) -> Window | None:
    """The window with one reserved request returned (never above its limit)."""
    if current is None or current.expired(now):
        return current
    return replace(current, remaining=min(current.limit, current.remaining + 1))


def merge(current: Window | None, seen: Window, now: float) -> Window:
    """A newer window replaces the old one; within one window the lower count wins, because our
    reservations run ahead of GitHub's count and other clients on the same IP behind it."""
    if current is None or current.expired(now) or seen.reset_at > current.reset_at:
        return seen
    if seen.reset_at < current.reset_at:  # a late reply from the previous window
        return current
    return replace(current, limit=seen.limit, remaining=min(current.remaining, seen.remaining))


def exhausted_reason(window: Window, authenticated: bool) -> str:
    """A sentence for the candidate: which limit, until when, and what raises it."""
    reset = datetime.fromtimestamp(window.reset_at, UTC)
    if window.resource == SEARCH:
        what, when = "search limit (per minute)", reset.strftime("%H:%M:%S UTC")
    else:
        what, when = "hourly limit", reset.strftime("%H:%M UTC")
    advice = "" if authenticated else "; set GITHUB_TOKEN to raise it"
    return f"GitHub's {what} is used up until {when}{advice}."


class MemoryBudget:
    """A budget held in memory: one caller's view when no shared budget is injected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, Window] = {}

    def take(self, resource: str) -> Verdict:
        with self._lock:
            verdict, window = take(self._windows.get(resource), time.time())
            if window is not None:
                self._windows[resource] = window
            return verdict

    def give_back(self, resource: str) -> None:
        with self._lock:
            window = give_back(self._windows.get(resource), time.time())
            if window is not None:
                self._windows[resource] = window

    def observe(self, window: Window) -> None:
        with self._lock:
            self._windows[window.resource] = merge(self._windows.get(window.resource), window, time.time())

    def window(self, resource: str) -> Window | None:
        with self._lock:
            window = self._windows.get(resource)
            return None if window is None or window.expired(time.time()) else window
