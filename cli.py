"""Command line, the layer above every other: `python -m cli research "Acme" --url … --role …
[--deep] [--refresh] [--job-description PATH|-] [--job-url URL] [--wait] [--format …]`, and
`python -m cli batch FILE.csv [--deep] [--job-description PATH|-] [--job-url URL] [--wait]`, and
`python -m cli roles "Acme" [--url …]`: the company's open roles, each with the postingUrl that
`--job-url` takes.

Exit status: 0 when the job completed (or was queued; with `batch --wait`, when every job
completed; with `roles`, when a board was found), 1 when a job did not complete (or no board has
the name, or none could be asked), 2 on bad input (for a batch, every bad line on stderr,
and nothing queued).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cli", description="Research a company for an interview.")
    commands = parser.add_subparsers(dest="command", required=True)
    research = commands.add_parser("research", help="queue a research job (and with --wait, run it here)")
    research.add_argument("company", help="the company's name")
    research.add_argument("--url", help="the company's website (https:// is added when missing)")
    research.add_argument("--role", help="the role you are interviewing for")
    research.add_argument("--deep", action="store_true", help="also read about/careers/engineering/blog pages")
    research.add_argument("--refresh", action="store_true", help="read the sources again instead of from the cache")
    _posting_arguments(research)
    research.add_argument("--wait", action="store_true", help="run the job in this process and print the result")
    research.add_argument("--format", choices=("json", "markdown"), default="json", help="output with --wait")
    batch = commands.add_parser("batch", help="queue research on every company of a CSV file (at most 50)")
    batch.add_argument("file", help="one company per line: Name, https://site, Role (or a CSV with a header)")
    batch.add_argument("--deep", action="store_true", help="deep mode for every company")
    _posting_arguments(batch)
    batch.add_argument("--wait", action="store_true", help="run the batch in this process and print the result")
    roles = commands.add_parser("roles", help="list the company's open roles on its Greenhouse, Lever or Ashby board")
    roles.add_argument("company", help="the company's name")
    roles.add_argument("--url", help="the company's website: its domain's name is tried as a board too")
    return parser


def _posting_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--job-description", metavar="PATH", help="the job posting as a text file ('-': stdin)")
    parser.add_argument("--job-url", help="the job posting's web page")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Imported in two stages so `--help` and bad input answer before the heavy imports.
    from core.errors import InvalidInput
    from pipeline.posting import read_posting_file
    from pipeline.request import parse_request
    from settings import Settings

    settings = Settings.load()
    if args.command == "roles":
        return _list_roles(args.company, args.url, settings)
    try:
        posting = read_posting_file(args.job_description, sys.stdin.buffer) if args.job_description else None
        if args.command == "batch":
            return _run_batch(
                args.file,
                deep=args.deep,
                wait=args.wait,
                settings=settings,
                job_description=posting,
                job_description_url=args.job_url,
            )
        request = parse_request(
            args.company,
            args.url,
            args.role,
            args.deep,
            args.refresh,
            allow_private=settings.allow_private_urls,
            job_description=posting,
            job_description_url=args.job_url,
        )
    except InvalidInput as error:
        print(f"error: {error.field or 'input'}: {error.message}", file=sys.stderr)
        return EXIT_BAD_INPUT

    from api.status_json import status_document
    from core.status import JobStatus
    from db import jobs
    from db.engine import get_engine
    from worker.documents import markdown_document
    from worker.runner import Runner
    from worker.status import report

    engine = get_engine(settings.database_url)
    if not args.wait:
        # No owner: the running app (or any worker) adopts the job at its next tick.
        job, _ = jobs.create_job(engine, request, owner=None)
        queued = report(engine, job.id, workers=settings.workers, prices=settings.prices)
        print(json.dumps(status_document(queued), indent=2))
        return EXIT_OK

    runner = Runner(settings, engine=engine, adopt_orphans=False)
    # SIGTERM ends the run like Ctrl+C: the job stops at its next step and goes back to the queue.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        job, _ = runner.submit(request)
        job = runner.wait(job.id)
    finally:
        runner.shutdown()
    found = report(engine, job.id, workers=settings.workers, prices=settings.prices)
    if args.format == "markdown" and found.briefing:
        print(markdown_document(job, found.briefing, found.usage), end="")
    else:
        print(json.dumps(status_document(found), indent=2))
    return EXIT_OK if found.status == JobStatus.COMPLETED else EXIT_FAILED


def _list_roles(company: str, url: str | None, settings: Settings) -> int:
    """Print the company's open roles as JSON; EXIT_FAILED when no board has its name or none answered."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from core.errors import InvalidInput, PipelineError
    from db.engine import get_engine
    from pipeline.request import parse_request
    from worker.open_roles import open_roles
    from worker.services import Services

    try:
        request = parse_request(company, url, allow_private=settings.allow_private_urls)
    except InvalidInput as error:
        print(f"error: {error.field or 'input'}: {error.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with ThreadPoolExecutor(1) as side_pool:
        services = Services.build(settings, get_engine(settings.database_url), side_pool, threading.Event())
        try:
            board = open_roles(services, request.company_name, request.company_url)
        except PipelineError as error:
            print(f"error: the job boards could not be asked: {error.message}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            services.close()
    if board is None:
        print("No Greenhouse, Lever or Ashby board has this company's name.", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(board.to_json_dict(), indent=2))
    return EXIT_OK


def _run_batch(
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
    from api.status_json import batch_status
    from db.batches import create_batch
    from db.engine import get_engine
    from pipeline.batch_input import BadBatch, parse_lines, read_file
    from worker.runner import Runner

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
        # No owner: any running worker leases the jobs at its next pull (woken by NOTIFY on PostgreSQL).
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


if __name__ == "__main__":
    sys.exit(main())
