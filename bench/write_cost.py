"""CPU per call of the database writes every job makes: `python bench/write_cost.py [--jobs 300]`.

On a fresh SQLite file, in one thread (no contention): submits `--jobs` jobs, leases them, then
starts and finishes one attempt per job with a ~25 KB checkpoint, stores a briefing for each and
reads the cancel flag, and prints the CPU time (time.process_time) per call of each.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.request import ResearchRequest
from core.status import AttemptStatus
from db import attempts, jobs
from db.engine import make_engine
from db.store import store_research

CHECKPOINT = {"pages": [{"url": "https://acme.example/", "text": "word " * 5000}]}  # ~25 KB of JSON
BRIEFING = {"analysisMode": "offline", "model": None, "grounded": True, "summary": "Acme builds robots."}


def _cpu_ms(calls: list[Callable[[], object]]) -> tuple[float, list[object]]:
    """CPU milliseconds per call, and what the calls returned."""
    began = time.process_time()
    results = [call() for call in calls]
    return (time.process_time() - began) * 1000 / len(calls), results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="prep-bench-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/writes.db")
        figures = {}
        figures["submit (create_job)"], _ = _cpu_ms(
            [
                lambda n=n: jobs.create_job(engine, ResearchRequest(company_name="Acme", role=f"R{n}"), owner=None)
                for n in range(args.jobs)
            ]
        )
        figures["lease one job (lease_next)"], leased = _cpu_ms(
            [lambda: jobs.lease_next(engine, "bench", 1) for _ in range(args.jobs)]
        )
        fences = [fence for batch in leased for fence in batch]
        figures["start an attempt"], rows = _cpu_ms(
            [lambda f=f: attempts.start(engine, f, "scrape-website") for f in fences]
        )
        figures["finish it, 25 KB checkpoint"], _ = _cpu_ms(
            [
                lambda f=f, r=r: attempts.finish(engine, f, r, AttemptStatus.SUCCEEDED, output=CHECKPOINT)
                for f, r in zip(fences, rows, strict=True)
            ]
        )
        figures["cancel check (is_cancel_requested)"], _ = _cpu_ms(
            [lambda f=f: jobs.is_cancel_requested(engine, f.job_id) for f in fences]
        )
        store_rows = [attempts.start(engine, f, "store-research") for f in fences]
        figures["store the briefing and complete"], _ = _cpu_ms(
            [
                lambda f=f, r=r: store_research(engine, f, r, "Acme", "https://acme.example/", BRIEFING)
                for f, r in zip(fences, store_rows, strict=True)
            ]
        )
        engine.dispose()
    print(f"database writes, SQLite, one thread, {args.jobs} jobs, Python {platform.python_version()}")
    for name, ms in figures.items():
        print(f"{name:<38}{ms:>8.2f} ms CPU per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
