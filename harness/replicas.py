"""Several `streamlit run app.py` replicas on one PostgreSQL database, and what they did.

Shared by tests/test_replicas.py and bench/replicas.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from core.status import TERMINAL
from db.engine import reading
from db.models import Job, Worker
from harness.live_app import ServedApp, app_environment, serve_app

SUBMIT_CLIENTS = 8  # concurrent submitters


def start_replicas(count: int, workdir: Path, env: Mapping[str, str], *, first: int = 0) -> list[ServedApp]:
    """`count` served apps with the same environment, started in parallel."""
    full = app_environment(workdir, env)
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda n: serve_app(full, workdir, name=f"replica-{first + n}"), range(count)))


def submit(app: ServedApp, site_url: str, roles: list[str]) -> list[str]:
    """Submit one job per role to `app` through its API; the job ids, in order."""

    def one(client: httpx.Client, role: str) -> str:
        body = {"companyName": "Acme Robotics", "companyUrl": site_url, "role": role}
        answer = client.post(f"{app.url}/api/research-direct", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()["jobId"]

    with httpx.Client() as client, ThreadPoolExecutor(SUBMIT_CLIENTS) as pool:
        return list(pool.map(lambda role: one(client, role), roles))


def wait_all_terminal(engine: Engine, job_ids: list[str], timeout_s: float) -> None:
    """Block until every job is terminal; AssertionError naming the stragglers on timeout."""
    give_up = time.monotonic() + timeout_s
    while True:
        with reading(engine) as session:
            done = session.exec(
                select(func.count()).where(col(Job.id).in_(job_ids), col(Job.status).in_(list(TERMINAL)))
            ).one()
        if done == len(job_ids):
            return
        if time.monotonic() > give_up:
            raise AssertionError(f"{len(job_ids) - done} of {len(job_ids)} jobs unfinished after {timeout_s} s")
        time.sleep(0.2)


def owners_by_app(engine: Engine, apps: list[ServedApp], job_ids: list[str]) -> Counter:
    """How many of the jobs each app's worker ran to the end, by the app's index."""
    with reading(engine) as session:
        index = {
            w.id: n for w in session.exec(select(Worker)) for n, app in enumerate(apps) if w.pid == app.process.pid
        }
        owners = session.exec(select(Job.owner).where(col(Job.id).in_(job_ids))).all()
    return Counter(index.get(owner, "unknown") for owner in owners)
