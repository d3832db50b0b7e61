"""The rules of GitHub's rate-limit budget, applied alike to a budget in memory
(pipeline/github_budget.py) and to the shared table (db/github_budget.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

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
