"""How long a server asked us to wait: the one reader of Retry-After for every step.

    retry_after_s(headers) -> float | None

Understands `retry-after-ms` (milliseconds, sent by Anthropic's API) and `Retry-After` as
delay-seconds or an HTTP-date (RFC 9110, 10.2.3). Values that are not one of those, or are
negative, are ignored. Nothing is capped here: how long a wait is honoured is the worker's
decision (`worker.step_backoff.RETRY_AFTER_CAP_S`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# delay-seconds is 1*DIGIT; a fraction is tolerated since some APIs send one. ASCII digits only.
_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from retry-after-ms or else Retry-After (0 for a date already past); None if unusable."""
    millis = _seconds(_header(headers, "retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = _header(headers, "retry-after")
    if value is None:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    return _seconds_until(value)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """The header's value, whatever the case of its name; None when missing or blank."""
    value = headers.get(name)
    if value is None:  # a plain dict keyed "Retry-After"; httpx.Headers is already case-blind
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _seconds(value: str | None) -> float | None:
    return float(value) if value is not None and _SECONDS.fullmatch(value) else None


def _seconds_until(value: str) -> float | None:
    """Seconds from now until the HTTP-date `value` (0 if it has passed), or None if it is not a date."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" (no zone information) is read as UTC
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)
