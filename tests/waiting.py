"""`until`: poll a condition until it holds, for tests that wait on another thread or process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_S = 0.05  # pause between two looks at the condition, seconds


def until(condition: Callable[[], T], what: str, timeout_s: float) -> T:
    """The condition's first truthy value; AssertionError naming `what` after `timeout_s` seconds."""
    give_up = time.monotonic() + timeout_s
    while time.monotonic() < give_up:
        if value := condition():
            return value
        time.sleep(POLL_S)
    raise AssertionError(f"timed out waiting for {what}")
