"""History at 100 000 jobs: how long a page takes, first and deep, filtered and not.

Run: .venv/bin/python bench/history_scale.py [--rows 100000] [--database-url URL]
Prints the median of repeated calls per query, in milliseconds, and the ratio of the deepest
page to the first (keyset paging should keep it near 1).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from core.status import JobStatus
from db.engine import make_engine, writing
from db.history import count_jobs, list_jobs
from db.models import Job, new_id, utcnow

REPEATS = 15
WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Wonka", "Cyberdyne", "Soylent"]


def seed(engine, rows: int) -> None:
    """Insert `rows` jobs spread over a year, in batches."""
    rng = random.Random(7)
    start = utcnow() - timedelta(days=365)
    statuses = [JobStatus.COMPLETED] * 8 + [JobStatus.FAILED, JobStatus.CANCELLED]
    batch = []
    for n in range(rows):
        created = start + timedelta(seconds=n * 365 * 86400 / rows)
        batch.append(
            {
                "id": new_id(),
                "company_name": f"{rng.choice(WORDS)} {rng.choice(WORDS)} {n}",
                "status": rng.choice(statuses),
                "dedupe_key": str(n),
                "leases": 1,
                "deep_mode": False,
                "cancel_requested": False,
                "created_at": created,
                "updated_at": created,
                "started_at": created,
                "finished_at": created + timedelta(seconds=40),
            }
        )
        if len(batch) == 5000:
            with writing(engine) as session:
                session.execute(insert(Job), batch)
            batch = []
    if batch:
        with writing(engine) as session:
            session.execute(insert(Job), batch)


def median_ms(fn) -> float:
    """The median wall time of REPEATS calls, in milliseconds."""
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        fn()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def deep_cursor(engine, pages: int, **filters) -> str:
    """The cursor of page `pages`, reached by walking the pages."""
    cursor = None
    for _ in range(pages):
        cursor = list_jobs(engine, limit=100, cursor=cursor, **filters).next_cursor
    return cursor


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    began = time.perf_counter()
    seed(engine, args.rows)
    print(f"seeded {args.rows} jobs in {time.perf_counter() - began:.1f} s ({engine.url.get_backend_name()})")

    deep = deep_cursor(engine, 500)
    deep_failed = deep_cursor(engine, 50, status=JobStatus.FAILED)
    rows = [
        ("first page (20)", lambda: list_jobs(engine, limit=20)),
        ("page 500 deep (cursor)", lambda: list_jobs(engine, limit=20, cursor=deep)),
        ("status=failed, first", lambda: list_jobs(engine, status=JobStatus.FAILED, limit=20)),
        (
            "status=failed, 50 pages deep",
            lambda: list_jobs(engine, status=JobStatus.FAILED, limit=20, cursor=deep_failed),
        ),
        ("company contains 'wonka'", lambda: list_jobs(engine, q="wonka", limit=20)),
        ("company matches nothing", lambda: list_jobs(engine, q="no such company", limit=20)),
        ("count all", lambda: count_jobs(engine)),
        ("count company 'wonka'", lambda: count_jobs(engine, q="wonka")),
    ]
    results = {name: median_ms(fn) for name, fn in rows}
    width = max(len(name) for name in results)
    for name, ms in results.items():
        print(f"{name:<{width}}  {ms:8.2f} ms")
    ratio = results["page 500 deep (cursor)"] / results["first page (20)"]
    print(f"deep page / first page: {ratio:.2f}x")


if __name__ == "__main__":
    main()
