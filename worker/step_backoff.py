"""A step's attempts, spaced by `backoff`: a transient error is tried again, within the step's budget."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Generator
from typing import TypeVar

import backoff

from core.errors import TransientError

BACKOFF_FIRST_S = 1.0  # the first wait between attempts, seconds
BACKOFF_MAX_S = 10.0  # the longest exponential wait, seconds
RETRY_AFTER_CAP_S = 30.0  # a server's Retry-After is honoured up to this many seconds

T = TypeVar("T")


def waits(deadline: float, clock: Callable[[], float] = time.monotonic) -> Generator[float | None, BaseException, None]:
    """Waits between attempts: Retry-After when the error carries one, else exponential 1–10 s with
    jitter; stops (so backoff gives up) when the next wait would run past `deadline`."""
    error = yield None
    n = 0
    while True:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            delay = min(max(float(retry_after), 0.0), RETRY_AFTER_CAP_S)
        else:
            ceiling = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2**n)
            delay = random.uniform(BACKOFF_FIRST_S, ceiling)
        if clock() + delay >= deadline:
            return
        error = yield delay
        n += 1


def run_attempts(attempt: Callable[[], T], *, tries: int, deadline: float) -> T:
    """Call `attempt` until it succeeds, again after each TransientError, up to `tries` times in all."""
    spaced = backoff.on_exception(waits, TransientError, max_tries=tries, jitter=None, deadline=deadline, logger=None)(
        attempt
    )
    return spaced()
