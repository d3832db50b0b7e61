"""Load: 500 submissions from 50 concurrent clients against `streamlit run app.py` on SQLite.

Run: .venv/bin/python bench/load.py [--total 500] [--clients 50] [--workers 8]
Prints submit latency, throughput, the final state of every job, and what the database holds.
Everything runs on loopback against the fakes of harness/fakes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import func, select

from db.engine import make_engine, reading
from db.models import BriefingRecord, Job
from harness.fakes.anthropic_api import FakeAnthropic
from harness.fakes.github_api import FakeGitHub
from harness.fakes.site import FakeSite
from harness.fakes.wiring import fake_services_env
from harness.live_app import app_environment, serve_app
from harness.load_driver import drive


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--total", type=int, default=500)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    site, github, llm = FakeSite().start(), FakeGitHub().start(), FakeAnthropic().start()
    wired = fake_services_env(site, github, llm)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        env = app_environment(workdir, {**wired, "PREP_WORKERS": str(args.workers)})
        app = serve_app(env, workdir)
        try:
            result = drive(app.url, site.url, total=args.total, clients=args.clients)
        finally:
            app.stop()
        engine = make_engine(env["DATABASE_URL"])
        with reading(engine) as session:
            jobs = session.exec(select(func.count()).select_from(Job)).one()
            briefings = session.exec(select(func.count()).select_from(BriefingRecord)).one()
            distinct = session.exec(select(func.count(func.distinct(BriefingRecord.job_id)))).one()
        log = app.log()
    for server in (site, github, llm):
        server.stop()
    print(f"load: {args.total} submissions, {args.clients} clients, PREP_WORKERS={args.workers}, SQLite")
    print(result.summary())
    print(f"database: {jobs} jobs, {briefings} briefings ({distinct} distinct jobs)")
    print(f"'database is locked' in the server log: {log.count('database is locked')} times")


if __name__ == "__main__":
    main()
