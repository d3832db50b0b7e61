"""retry_after_s: the one Retry-After reader (seconds, milliseconds, HTTP dates, junk), uncapped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from pipeline.retry_after import retry_after_s
from worker.step_backoff import RETRY_AFTER_CAP_S


def http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_from_now), usegmt=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7.0), ("0", 0.0), (" 12 ", 12.0), ("1.5", 1.5), ("3600", 3600.0)],
)
def test_delay_seconds(value: str, expected: float) -> None:
    assert retry_after_s({"retry-after": value}) == expected


def test_nothing_is_capped_here() -> None:
    assert retry_after_s({"retry-after": "3600"}) > RETRY_AFTER_CAP_S  # the worker caps, not the parser


def test_milliseconds_win_over_seconds() -> None:
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_s({"retry-after-ms": "1500"}) == 1.5


def test_unreadable_milliseconds_fall_back_to_retry_after() -> None:
    assert retry_after_s({"retry-after-ms": "soon", "retry-after": "9"}) == 9.0


def test_an_http_date_in_the_future_is_the_seconds_until_it() -> None:
    # The date has one-second resolution and a little time passes while parsing: allow 2 s.
    assert 118 <= retry_after_s({"retry-after": http_date(120)}) <= 120


def test_an_http_date_in_the_past_means_now() -> None:
    assert retry_after_s({"retry-after": http_date(-120)}) == 0.0
    assert retry_after_s({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0


@pytest.mark.parametrize(
    "value",
    ["", "   ", "soon", "-5", "-0.5", "+5", "1e3", "nan", "inf", "5s", "5, 7", "１２", "Wed, 99 Oct 2015 07:28:00 GMT"],
)
def test_garbage_and_negative_values_are_ignored(value: str) -> None:
    assert retry_after_s({"retry-after": value}) is None
    assert retry_after_s({"retry-after-ms": value}) is None


def test_missing_headers_mean_no_advice() -> None:
    assert retry_after_s({}) is None
    assert retry_after_s({"content-type": "text/html"}) is None


def test_header_names_are_case_blind() -> None:
    assert retry_after_s({"Retry-After": "4"}) == 4.0
    assert retry_after_s({"Retry-After-Ms": "40"}) == 0.04
    assert retry_after_s(httpx.Headers({"RETRY-AFTER": "4"})) == 4.0
