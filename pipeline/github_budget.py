"""GitHub's rate limits as one budget for every job: windows read from GitHub's own headers, and
spent one request at a time before the request is sent.

    budget.take(resource) -> Verdict   GRANTED (one request reserved), DENIED, or UNKNOWN (no window yet)
    budget.give_back(resource)         a reserved request GitHub did not count (a 304)
    budget.observe(window)             what a reply's X-RateLimit-* headers (or /rate_limit) said
    budget.window(resource) -> Window | None

`MemoryBudget` keeps the windows for one caller; db/github_budget.py applies the same rules
(core/github_budget.py) to a table, so every job of every process spends one budget.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

from core.errors import PermanentError
from core.github_budget import SEARCH, Verdict, Window, give_back, merge, take


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
