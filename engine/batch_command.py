"""`python -m pipeline batch FILE.csv [--deep] [--wait]`: queue a batch from a CSV file or list.

Exit status: 0 when the batch was queued (or, with --wait, every job completed), 1 when a job
did not complete, 2 on bad input (every bad line on stderr, and nothing queued).
"""

from __future__ import annotations

import json
import sys

from db.batches import create_batch
from db.engine import get_engine
from engine.batch_status import batch_status
from engine.runner import Runner
from pipeline.batch_input import BadBatch, parse_lines, read_file
from settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def run_batch(
    path: str,
    *,
    deep: bool,
    wait: bool,
    settings: Settings,
    job_description: str | None = None,
    job_description_url: str | None = None,
) -> int:
    """Queue the file's companies as one batch (sharing the job posting, when given); with `wait`,
    run it here and print the outcome."""
    try:
        requests = parse_lines(
            read_file(path),
            deep_mode=deep,
            allow_private=settings.allow_private_urls,
            job_description=job_description,
            job_description_url=job_description_url,
        )
    except BadBatch as bad:
        print("error: nothing was queued.", file=sys.stderr)
        for error in bad.errors:
            print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    engine = get_engine(settings.database_url)
    if not wait:
        # No owner: any running worker claims the jobs at its next pull (woken by NOTIFY on PostgreSQL).
        batch, _ = create_batch(engine, requests, owner=None)
        print(json.dumps(batch_status(engine, batch.id, settings.prices), indent=2))
        return EXIT_OK
    runner = Runner(settings, engine=engine, adopt_orphans=False)
    try:
        batch, members = runner.submit_batch(requests)
        for job in members:
            runner.wait(job.id)
    finally:
        runner.shutdown()
    status = batch_status(engine, batch.id, settings.prices)
    print(json.dumps(status, indent=2))
    return EXIT_OK if status["completed"] == status["total"] else EXIT_FAILED
