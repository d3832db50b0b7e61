"""Replicas on one PostgreSQL: the makespan of N jobs on 1, 2 and 3 `streamlit run` processes, and
the time from a submit to the job starting on another process.

Run: .venv/bin/python bench/replicas.py [--jobs 300] [--workers 2] [--latency 0.2] [--probes 20]
Needs PostgreSQL on 127.0.0.1:5432 (trust auth); each run gets its own database, dropped after.
The fakes of harness/fakes stand in for the outside services; `--latency` is how long the fake
model takes to answer, seconds (real jobs wait on the network for most of their time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlmodel import col, func, select

from db.engine import make_engine, reading
from db.models import Job, Worker
from harness.fakes.anthropic_api import FakeAnthropic
from harness.fakes.github_api import FakeGitHub
from harness.fakes.site import FakeSite
from harness.fakes.wiring import PG_ADMIN_URL, fake_services_env
from harness.replicas import owners_by_app, start_replicas, submit, wait_all_terminal

TIMEOUT_S = 900.0


@contextmanager
def fresh_database():
    """A new PostgreSQL database's URL, dropped afterwards."""
    name = f"bench_replicas_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def makespan(processes: int, jobs: int, env: dict, site_url: str) -> tuple[float, dict]:
    """Seconds from the first submit to the last job's end (database clock), and jobs per process."""
    with fresh_database() as url, tempfile.TemporaryDirectory() as tmp:
        apps = start_replicas(processes, Path(tmp), {**env, "DATABASE_URL": url})
        engine = make_engine(url)
        try:
            ids = submit(apps[0], site_url, [f"Bench {n} engineer" for n in range(jobs)])
            wait_all_terminal(engine, ids, TIMEOUT_S)
            with reading(engine) as session:
                first, last = session.exec(
                    select(func.min(Job.created_at), func.max(Job.finished_at)).where(col(Job.id).in_(ids))
                ).one()
            shares = dict(sorted(owners_by_app(engine, apps, ids).items()))
        finally:
            for app in apps:
                app.stop()
            engine.dispose()
    return (last - first).total_seconds(), shares


def handoff(probes: int, env: dict, site_url: str, llm: FakeAnthropic) -> tuple[list[float], list[float]]:
    """Submit to replica 0 (one thread) while it is busy: ms from submit to start, for the jobs
    that replica 1 started and for those replica 0 started itself (database clock)."""
    elsewhere, here = [], []
    with fresh_database() as url, tempfile.TemporaryDirectory() as tmp:
        apps = start_replicas(2, Path(tmp), {**env, "DATABASE_URL": url, "PREP_WORKERS": "1"})
        engine = make_engine(url)
        try:
            llm.latency_s = 1.0  # each job holds its thread about a second
            ids = []
            for n in range(probes):
                ids += submit(apps[0], site_url, [f"Probe {n} engineer"])
                time.sleep(0.6)
            wait_all_terminal(engine, ids, TIMEOUT_S)
            with reading(engine) as session:
                rows = session.exec(select(Job).where(col(Job.id).in_(ids))).all()
                pids = {w.id: w.pid for w in session.exec(select(Worker))}
        finally:
            for app in apps:
                app.stop()
            engine.dispose()
    for job in rows:
        delay_ms = (job.started_at - job.created_at).total_seconds() * 1000
        (elsewhere if pids.get(job.owner) == apps[1].process.pid else here).append(delay_ms)
    return elsewhere, here


def _summary(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return f"{len(values)} jobs, median {statistics.median(values):.0f} ms, p90 {p90:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="PREP_WORKERS of each process")
    parser.add_argument("--latency", type=float, default=0.2, help="the fake model's answer time, seconds")
    parser.add_argument("--probes", type=int, default=20)
    args = parser.parse_args()
    site, github, llm = FakeSite().start(), FakeGitHub().start(), FakeAnthropic().start()
    env = {**fake_services_env(site, github, llm), "PREP_WORKERS": str(args.workers)}
    print(f"replicas: {args.jobs} jobs submitted to one process, PREP_WORKERS={args.workers} each, "
          f"model latency {args.latency} s, PostgreSQL")  # fmt: skip
    spans = {}
    for processes in (1, 2, 3):
        llm.latency_s = args.latency
        spans[processes], shares = makespan(processes, args.jobs, env, site.url)
        ratio = spans[1] / spans[processes]
        print(
            f"{processes} process(es): makespan {spans[processes]:.1f} s ({ratio:.2f}x faster than one), "
            f"jobs per process {shares}"
        )
    elsewhere, here = handoff(args.probes, env, site.url, llm)
    print(f"submit → start on the other process: {_summary(elsewhere)}")
    print(f"submit → start on the process submitted to: {_summary(here)}")
    for server in (site, github, llm):
        server.stop()


if __name__ == "__main__":
    main()
