"""The fault matrix: each outside failure, scripted on the loopback fakes, through a whole job.

Every job must end in a terminal state within its deadline with a clear recorded reason, the
runner must keep working, and a briefing stored earlier must be untouched.
"""

from __future__ import annotations

import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from api.status_json import job_status
from core.request import ResearchRequest
from core.status import JobStatus
from db import attempts, jobs
from db.store import get_briefing
from harness.fakes.anthropic_api import FakeAnthropic
from harness.fakes.server import Reply

WAIT_S = 60
HTML = {"Content-Type": "text/html"}


def _busy(status: int) -> Reply:
    return Reply(status, b"unavailable", {"Retry-After": "0"})


def _gzip_bomb(inflated: int = 50_000_000) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * 1_000_000
    return b"".join([packer.compress(block) for _ in range(inflated // len(block))] + [packer.flush()])


def _huge_body(total: int = 100_000_000, chunk: int = 64 * 1024):
    for _ in range(total // chunk):
        yield b"a" * chunk


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Case:
    """One fault: how to script it, and what the job must end as."""

    script: Callable  # (fake_site, fake_github, fake_anthropic) -> None
    status: JobStatus
    reason: str = ""  # text the job's message or a step's error must hold (case-insensitive)
    mode: str | None = None  # the briefing's analysisMode when it completes
    url: Callable | None = None  # (fake_site) -> the URL to research; default: the fake site
    env: dict = field(default_factory=dict)


def _site(path: str, *replies: Reply):
    return lambda site, github, llm: site.fail(path, *replies)


def _llm(*replies):
    return lambda site, github, llm: llm.enqueue(*replies)


def _github_rate_limit(kind: str):
    def script(site, github, llm):
        for path in ("/orgs/acme-robotics", "/orgs/acmerobotics"):
            if kind == "primary":
                github.primary_rate_limit(path, reset_in_s=3600)
            else:
                github.secondary_rate_limit(path, retry_after_s=1)

    return script


CASES = {
    "429 with Retry-After, honoured": Case(
        _site("/", Reply(429, b"slow down", {"Retry-After": "1"})), JobStatus.COMPLETED, mode="claude"
    ),
    "429 with a Retry-After past the budget fails fast": Case(
        _site("/", Reply(429, b"slow down", {"Retry-After": "3600"})), JobStatus.FAILED, reason="429"
    ),
    **{
        f"{code} on every attempt": Case(_site("/", *[_busy(code)] * 3), JobStatus.FAILED, reason=str(code))
        for code in (500, 502, 503, 504)
    },
    "503 twice, then the page": Case(_site("/", _busy(503), _busy(503)), JobStatus.COMPLETED, mode="claude"),
    "connection refused": Case(
        lambda *fakes: None,
        JobStatus.FAILED,
        reason="could not be reached",
        url=lambda site: f"http://127.0.0.1:{_closed_port()}/",
    ),
    "connection reset mid-body": Case(
        _site("/", *[Reply(200, b"<p>" + b"a" * 5000, HTML, reset_after_bytes=100)] * 3),
        JobStatus.FAILED,
        reason="could not be reached",
    ),
    "read timeout": Case(
        _site("/", Reply(200, b"<p>late</p>", HTML, delay_s=4)),
        JobStatus.FAILED,
        reason="time",
        env={"PREP_STEP_TIMEOUTS": "scrape-website=1.5"},
    ),
    "trickling server": Case(
        _site("/", Reply(200, [b"<p>"] + [b"a"] * 100, HTML, chunk_delay_s=0.2)),
        JobStatus.FAILED,
        reason="time",
        env={"PREP_STEP_TIMEOUTS": "scrape-website=1.5"},
    ),
    "100 MB page": Case(
        _site("/", Reply(200, _huge_body(), {**HTML, "Content-Length": "100000000"})),
        JobStatus.FAILED,
        reason="larger than",
    ),
    "gzip bomb": Case(
        _site("/", Reply(200, _gzip_bomb(), {**HTML, "Content-Encoding": "gzip"})),
        JobStatus.FAILED,
        reason="unpacks to more than",
    ),
    "non-HTML content": Case(
        _site("/", Reply(200, b"%PDF-1.7", {"Content-Type": "application/pdf"})),
        JobStatus.FAILED,
        reason="not a web page",
    ),
    "redirect loop": Case(
        lambda site, *_: site.fail("/", *[Reply(302, b"", {"Location": "/"})] * 10),
        JobStatus.FAILED,
        reason="redirect",
    ),
    "redirect to a private address": Case(
        _site("/", Reply(302, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})),
        JobStatus.FAILED,
        reason="169.254.169.254",
    ),
    "malformed HTML": Case(
        _site("/", Reply(200, b"<html><title>Acme<body><h1>Robots<p><div><<<>>>&&&<td>sorting</b></i>", HTML)),
        JobStatus.COMPLETED,
        mode="claude",
    ),
    "non-UTF-8 page": Case(
        _site(
            "/",
            Reply(
                200,
                "<title>Acme Robótica</title><p>Café señor</p>".encode("cp1252"),
                {"Content-Type": "text/html; charset=windows-1252"},
            ),
        ),
        JobStatus.COMPLETED,
        mode="claude",
    ),
    "Anthropic 529 overloaded": Case(
        _llm(*[FakeAnthropic.overloaded()] * 4),  # both parts of the briefing, both attempts
        JobStatus.COMPLETED,
        mode="offline",
        reason="Claude failed",
    ),
    "LLM replies are not JSON": Case(
        _llm("Sure! Here is your briefing.", "Sure!"), JobStatus.COMPLETED, mode="offline"
    ),
    # Read item by item: what is missing stays missing, the rest of Claude's briefing is kept.
    "LLM reply misses fields": Case(
        _llm(FakeAnthropic.draft_missing_fields("Acme Robotics")), JobStatus.COMPLETED, mode="claude"
    ),
    "LLM reply stops at max_tokens": Case(
        _llm(FakeAnthropic.cut_off("Acme Robotics")), JobStatus.COMPLETED, mode="claude", reason="cut off"
    ),
    "LLM refuses": Case(_llm(FakeAnthropic.refusal(), FakeAnthropic.refusal()), JobStatus.COMPLETED, mode="offline"),
    "GitHub primary rate limit": Case(
        _github_rate_limit("primary"), JobStatus.COMPLETED, mode="claude", reason="rate limit"
    ),
    "GitHub secondary rate limit": Case(_github_rate_limit("secondary"), JobStatus.COMPLETED, mode="claude"),
}


def _reasons(runner, job_id: str, status: dict) -> str:
    errors = [row.error_message or "" for row in attempts.for_job(runner.engine, job_id)]
    return " ".join([status["message"], *errors]).lower()


@pytest.mark.parametrize("name", list(CASES))
def test_fault(name, make_runner, fake_site, fake_github, fake_anthropic):
    case = CASES[name]
    runner = make_runner(**case.env)
    earlier, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url, role="Earlier"))
    runner.wait(earlier.id, timeout_s=WAIT_S)
    stored_before = get_briefing(runner.engine, earlier.id)
    assert stored_before is not None

    case.script(fake_site, fake_github, fake_anthropic)
    url = case.url(fake_site) if case.url else fake_site.url
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=url, role="Under test"))
    runner.wait(job.id, timeout_s=WAIT_S)

    status = job_status(runner.engine, job.id)
    row = jobs.get_job(runner.engine, job.id)
    assert status["status"] == case.status.value, status["message"]
    assert (row.finished_at - row.started_at).total_seconds() <= runner.settings.job_deadline_s
    assert status["message"]
    if case.reason:
        assert case.reason.lower() in _reasons(runner, job.id, status)
    if case.mode:
        assert status["briefing"]["analysisMode"] == case.mode
    assert get_briefing(runner.engine, earlier.id) == stored_before
    assert not [s for s in status["steps"] if s["status"] == "running"]
