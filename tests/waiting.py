"""`until`: poll a condition until it holds, for tests that wait on another thread or process;
`blocked_in`: whether a thread has reached a lock it waits on."""

from __future__ import annotations

import linecache
import sys
import threading
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


def blocked_in(thread: threading.Thread, function: str) -> bool:
    """True when `thread` waits on a lock (or an Event, a Condition) somewhere inside `function`:
    twice, POLL_S apart, its innermost frame is the same one, at a line that acquires, with a
    frame of `function` on its stack (once alone could catch it on its way to the lock). A
    thread inside Thread.start(), waiting for the thread it starts, counts as blocked too."""
    first = _waiting_frame(thread, function)
    time.sleep(POLL_S)
    return first is not None and first == _waiting_frame(thread, function)


def _waiting_frame(thread: threading.Thread, function: str) -> tuple[int, int] | None:
    frame = sys._current_frames().get(thread.ident)
    if frame is None or ".acquire(" not in linecache.getline(frame.f_code.co_filename, frame.f_lineno):
        return None
    innermost = (id(frame), frame.f_lineno)
    while frame is not None:
        if frame.f_code.co_name == function:
            return innermost
        frame = frame.f_back
    return None
