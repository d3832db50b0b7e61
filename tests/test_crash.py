"""Crash recovery: the served app is SIGKILLed during a slow step and started again.

The job must complete exactly once: one briefing, no finished step repeated, the interrupted
attempt recorded as such.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlmodel import func, select

from core.status import AttemptStatus
from db import attempts
from db.engine import make_engine, reading
from db.models import BriefingRecord
from harness.fakes.server import Reply
from harness.fakes.wiring import fake_services_env
from harness.live_app import app_environment, serve_app
from tests.waiting import until

WAIT_S = 60.0


def _running(engine, job_id: str, step: str) -> bool:
    return any(r.step == step and r.status == AttemptStatus.RUNNING for r in attempts.for_job(engine, job_id))


def _briefings(engine, job_id: str) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).where(BriefingRecord.job_id == job_id)).one()


@pytest.fixture
def crash_env(tmp_path, fake_site, fake_github, fake_anthropic) -> Callable[..., dict]:
    """The served app's environment on the fakes; a DATABASE_URL may replace the SQLite file."""
    wired = fake_services_env(fake_site, fake_github, fake_anthropic)

    def make(**extra: str) -> dict:
        return app_environment(tmp_path, {**wired, **extra})

    return make


def _crash_and_recover(
    env: dict,
    tmp_path,
    fake_site,
    step: str,
    hold: Callable[[], None] | None = None,
    release: Callable[[], None] | None = None,
    inside: Callable[[], object] | None = None,
) -> tuple:
    """Submit, kill the app while `step` runs (`hold` and `release` bracket a lock that keeps it
    there; `inside` says it got to the point to kill it at), start it again; the finished job's
    id, final status, attempt rows and engine."""
    engine = make_engine(env["DATABASE_URL"])
    first = serve_app(env, tmp_path, name="first")
    try:
        if hold:
            hold()
        submitted = httpx.post(
            f"{first.url}/api/research-direct",
            json={"companyName": "Acme Robotics", "companyUrl": fake_site.url, "role": "SRE"},
        )
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["jobId"]
        until(lambda: _running(engine, job_id, step), f"{step} to start", WAIT_S)
        if inside:
            until(inside, f"{step} to get there", WAIT_S)
    finally:
        first.kill()
        if release:
            release()

    second = serve_app(env, tmp_path, name="second")
    try:
        status_url = f"{second.url}/api/research-status/{job_id}"
        final = until(
            lambda: (s := httpx.get(status_url).json())["status"] in ("completed", "failed") and s,
            "the job to end after the restart",
            WAIT_S,
        )
    finally:
        second.stop()
    rows = attempts.for_job(engine, job_id)
    return job_id, final, rows, engine


def _attempts_of(rows, step: str) -> list[tuple[AttemptStatus, str | None]]:
    return [(r.status, r.error_kind) for r in rows if r.step == step]


def test_kill_during_scrape(crash_env, tmp_path, fake_site):
    fake_site.fail("/", Reply(200, b"<title>Acme</title>", {"Content-Type": "text/html"}, delay_s=30))

    # Killed once the slow home page is being read (robots.txt, the cache and the budget come first).
    job_id, final, rows, engine = _crash_and_recover(
        crash_env(), tmp_path, fake_site, "scrape-website", inside=lambda: fake_site.hits("/")
    )

    assert final["status"] == "completed", final["message"]
    assert _attempts_of(rows, "scrape-website") == [
        (AttemptStatus.FAILED, "interrupted"),
        (AttemptStatus.SUCCEEDED, None),
    ]
    assert _briefings(engine, job_id) == 1


def test_kill_during_analysis(crash_env, tmp_path, fake_site, fake_anthropic):
    fake_anthropic.enqueue(Reply(529, b"{}", {"Content-Type": "application/json"}, delay_s=30))

    # Killed once the slow reply is being awaited: the attempt row is written before the call goes
    # out, and a kill in between would leave the slow reply to the restarted app.
    job_id, final, rows, engine = _crash_and_recover(
        crash_env(), tmp_path, fake_site, "analyze-with-claude", inside=lambda: fake_anthropic.requests
    )

    assert final["status"] == "completed", final["message"]
    assert final["briefing"]["analysisMode"] == "claude"
    assert fake_site.hits("/") == 1  # the finished scrape was not fetched again
    assert _attempts_of(rows, "scrape-website") == [(AttemptStatus.SUCCEEDED, None)]
    assert _attempts_of(rows, "analyze-with-claude") == [
        (AttemptStatus.FAILED, "interrupted"),
        (AttemptStatus.SUCCEEDED, None),
    ]
    assert _briefings(engine, job_id) == 1


def test_kill_during_store(crash_env, tmp_path, fake_site, fake_anthropic, postgres_url):
    """On PostgreSQL a test transaction locks `briefings`, so store-research blocks inside its
    transaction; the app dies there, the lock goes, and the restarted app stores the briefing once."""
    locker = create_engine(postgres_url)
    conn = locker.connect()

    def hold() -> None:
        conn.begin()
        conn.execute(text("LOCK TABLE briefings IN ACCESS EXCLUSIVE MODE"))

    env = crash_env(DATABASE_URL=postgres_url)
    try:
        job_id, final, rows, engine = _crash_and_recover(
            env, tmp_path, fake_site, "store-research", hold=hold, release=conn.rollback
        )
    finally:
        conn.close()
        locker.dispose()
    assert final["status"] == "completed", final["message"]
    assert len(fake_anthropic.calls) == 2  # the finished analysis (its two parts) was not asked again
    assert fake_site.hits("/") == 1
    assert _attempts_of(rows, "store-research") == [
        (AttemptStatus.FAILED, "interrupted"),
        (AttemptStatus.SUCCEEDED, None),
    ]
    assert _briefings(engine, job_id) == 1
    engine.dispose()
