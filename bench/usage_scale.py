"""History's usage total at scale: the SQL sum over every job's Claude calls, beside the count.

Run: .venv/bin/python bench/usage_scale.py [--rows 100000] [--database-url URL]
Seeds `rows` jobs (four attempts each, one of them a Claude call) and prints the median of
repeated calls in milliseconds, with the ratio of each usage total to the count of the same filter.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from core.status import AttemptStatus, JobStatus
from core.steps import STEPS
from core.usage import DEFAULT_PRICES
from db.engine import make_engine, writing
from db.history import count_jobs
from db.models import Job, StepAttempt, new_id, utcnow
from db.usage import usage_by_job, usage_total

REPEATS = 7
WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Cyberdyne", "Soylent"]


def seed(engine, rows: int) -> list[str]:
    """Insert `rows` completed jobs with their four attempts; returns the first 20 ids."""
    rng = random.Random(7)
    now = utcnow()
    ids = []
    jobs, attempts = [], []
    for n in range(rows):
        job_id = new_id()
        ids.append(job_id)
        jobs.append(
            {"id": job_id, "company_name": f"{rng.choice(WORDS)} {n}", "status": JobStatus.COMPLETED,
             "dedupe_key": str(n), "leases": 1, "deep_mode": False, "cancel_requested": False,
             "created_at": now, "updated_at": now}
        )  # fmt: skip
        for step in STEPS:
            call = {"model": "claude-sonnet-5-5", "inputTokens": rng.randint(500, 5000), "outputTokens": 900}
            meta = {"analyzer": "claude", "llmCall": call} if step.id == "analyze-with-claude" else None
            attempts.append(
                {"job_id": job_id, "step": step.id, "attempt": 1, "status": AttemptStatus.SUCCEEDED,
                 "started_at": now, "meta": meta}
            )  # fmt: skip
        if len(jobs) == 5000:
            with writing(engine) as session:
                session.execute(insert(Job), jobs)
                session.execute(insert(StepAttempt), attempts)
            jobs, attempts = [], []
    if jobs:
        with writing(engine) as session:
            session.execute(insert(Job), jobs)
            session.execute(insert(StepAttempt), attempts)
    return ids[:20]


def median_ms(call) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    engine = make_engine(url)
    page = seed(engine, args.rows)
    prices = DEFAULT_PRICES
    print(f"{args.rows} jobs on {engine.dialect.name}; median of {REPEATS} calls, ms")
    for label, filters in [("every job", {}), ("company contains 'wonka'", {"q": "wonka"})]:
        total = median_ms(lambda f=filters: usage_total(engine, prices, **f))
        count = median_ms(lambda f=filters: count_jobs(engine, **f))
        print(f"usage total, {label}: {total:.1f} (count of the same jobs: {count:.1f}; {total / count:.1f}x)")
    print(f"usage of one History page (20 jobs): {median_ms(lambda: usage_by_job(engine, page, prices)):.2f}")


if __name__ == "__main__":
    main()
