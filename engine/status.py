"""A job's status as one JSON object: served by the API, printed by the CLI, read by the pages.

A poll costs two small indexed reads (db/status_reads.py), never the checkpoint blobs; a completed
job's briefing is a third read, made only when its status is not in memory. The wait
estimate comes from a running median refreshed at most every ESTIMATE_REFRESH_S, not a query per
poll. A terminal job never changes, so its status is kept in memory by job id, with its JSON body
and an ETag, and served without touching the database.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from cachetools import TTLCache, cached
from sqlalchemy.engine import URL, Engine, Row

from core.status import DONE_ATTEMPTS, AttemptStatus, JobStatus
from core.steps import ANALYZE, STEPS
from core.usage import DEFAULT_PRICES, Price, usage_of
from db.history import recent_durations_s
from db.models import elapsed_ms, utcnow
from db.status_reads import poll_rows
from db.store import get_briefing
from engine.live_view import writing_line
from pipeline.markdown import current_form
from pipeline.results import seed_results

DEFAULT_DURATION_S = 45.0  # the original design promised 30–60 s
ESTIMATE_REFRESH_S = 10.0  # how old the median of recent run times may get, seconds
TERMINAL_CACHE_SIZE = 512  # terminal statuses kept in memory (each tens of KB with its briefing)
TERMINAL_CACHE_TTL_S = 30.0  # how long one is served from memory before it is read again, seconds
FINISHED = {status.value for status in DONE_ATTEMPTS}  # plain strings: step states hold .value


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


def step_states(rows: list) -> list[dict]:
    """Each of the four steps: its latest state, attempts, time spent and last error.

    `rows` are attempts oldest first, StepAttempt rows or rows of db.status_reads.ATTEMPT_COLUMNS.
    """
    states = []
    for spec in STEPS:
        mine = [row for row in rows if row.step == spec.id]
        latest = mine[-1] if mine else None
        spent_ms = sum(row.duration_ms if row.duration_ms is not None else elapsed_ms(row.started_at) for row in mine)
        errors = [row.error_message for row in mine if row.error_message and row.status != AttemptStatus.SKIPPED]
        states.append(
            {
                "id": spec.id,
                "label": spec.label,
                "status": latest.status.value if latest else "pending",
                "attempts": len(mine),
                "durationMs": spent_ms if mine else None,
                "error": errors[-1] if errors else None,
                "note": latest.error_message if latest and latest.status == AttemptStatus.SKIPPED else None,
                "meta": latest.meta if latest else None,
            }
        )
    return states


@cached(TTLCache(maxsize=8, ttl=ESTIMATE_REFRESH_S), key=lambda engine: engine.url, condition=threading.Condition())
def typical_duration_s(engine: Engine) -> float:
    """The median run time of recent completed jobs in this database (jobs finished by other
    processes count too), re-read at most every ESTIMATE_REFRESH_S; concurrent polls wait for one read."""
    durations = recent_durations_s(engine)
    return statistics.median(durations) if durations else DEFAULT_DURATION_S


def estimate_remaining_s(engine: Engine, job: Row, ahead: int, workers: int) -> float | None:
    """Seconds until the job should be done, from recent run times; None once it is terminal.

    `ahead` is how many queued jobs were created before this one.
    """
    if job.status.is_terminal:
        return None
    typical = typical_duration_s(engine)
    if job.status == JobStatus.PROCESSING and job.started_at:
        return max(3.0, typical - (utcnow() - job.started_at).total_seconds())
    return typical * (ahead // max(1, workers) + 1)


def _writing(steps: list[dict]) -> dict | None:
    """The running analysis attempt's meta while Claude writes (`partial`, `writing`), else None."""
    analyze = next(s for s in steps if s["id"] == ANALYZE.id)
    meta = analyze.get("meta") or {}
    return meta if analyze["status"] == AttemptStatus.RUNNING.value and "partial" in meta else None


def _message(job: Row, steps: list[dict], briefing: dict | None, remaining: float | None) -> str:
    if job.status == JobStatus.QUEUED:
        return f"Waiting for a free worker; about {round(remaining or DEFAULT_DURATION_S)} s to go."
    if job.status == JobStatus.PROCESSING:
        writing = _writing(steps)
        if writing is not None:
            return f"Researching {job.company_name}: {writing_line(writing['writing'])}…"
        running = next((s for s in steps if s["status"] == "running"), None)
        doing = running["label"] if running else "Working"
        return f"Researching {job.company_name}: {doing.lower()}…"
    if job.status == JobStatus.COMPLETED:
        parts = [f"The briefing for {job.company_name} is ready."]
        if briefing and briefing.get("grounded") is False:
            scrape = next(s for s in steps if s["id"] == "scrape-website")
            why = scrape.get("note") or scrape.get("error") or "the website could not be read"
            parts = [
                f"The briefing for {job.company_name} is generic: no page or repository could be read "
                f"({why.rstrip('.')}; GitHub gave no repositories), so it states no facts about the company."
            ]
            if any(source.get("kind") == "repository" for source in briefing.get("sources") or []):
                parts = [  # a site built by JavaScript that could not be run: only GitHub was read
                    f"The briefing for {job.company_name} could not read the company's website: {why.rstrip('.')}. "
                    "Its facts come from GitHub alone."
                ]
        analyze = next(s for s in steps if s["id"] == "analyze-with-claude")
        if briefing and briefing.get("analysisMode") == "offline":
            reason = (analyze.get("meta") or {}).get("reason", "")
            parts.append(f"It was written by the offline analyzer, without Claude. {reason}".strip())
        github = next(s for s in steps if s["id"] == "search-github")
        if github["status"] == "failed":
            parts.append("GitHub could not be read, so the tech stack comes from the website alone.")
        if briefing and briefing.get("incomplete"):
            parts.append(f"It is incomplete: {briefing['incomplete']}")
        return " ".join(parts)
    if job.status == JobStatus.CANCELLED:
        return job.error_message or "The research was cancelled."
    return job.error_message or "The research failed."


@dataclass(frozen=True)
class Report:
    """A job's status object, its full step states (labels, notes, metadata), its row (a Core Row of
    every column, read like a Job), and the status as the API sends it: JSON bytes and their ETag,
    made on first use (the job page never uses them)."""

    status: dict
    steps: list[dict]
    job: Row

    @cached_property
    def body(self) -> bytes:
        """The status as JSON, encoded as Starlette's JSONResponse does."""
        return json.dumps(self.status, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()

    @cached_property
    def etag(self) -> str:
        """A strong ETag of `body`."""
        return f'"{hashlib.blake2b(self.body, digest_size=16).hexdigest()}"'


class _TerminalCache:
    """Reports of terminal jobs by (database, job id) in a cachetools TTLCache: least recently used
    dropped first, each kept at most `ttl_s` seconds (a job deleted through another process stops
    answering then). TTLCache is not thread-safe, so every access holds a lock."""

    def __init__(self, size: int, ttl_s: float) -> None:
        self._lock = threading.Lock()
        self._reports: TTLCache[tuple[URL, str], Report] = TTLCache(maxsize=size, ttl=ttl_s)

    def get(self, engine: Engine, job_id: str) -> Report | None:
        with self._lock:
            return self._reports.get((engine.url, job_id))

    def put(self, engine: Engine, report: Report) -> None:
        with self._lock:
            self._reports[(engine.url, report.job.id)] = report

    def forget(self, job_id: str) -> None:
        with self._lock:
            for key in [key for key in self._reports if key[1] == job_id]:
                self._reports.pop(key, None)


terminal_cache = _TerminalCache(TERMINAL_CACHE_SIZE, TERMINAL_CACHE_TTL_S)


def forget(job_id: str) -> None:
    """Drop a job's cached status (call it when a job is deleted)."""
    terminal_cache.forget(job_id)


def cached_report(engine: Engine, job_id: str) -> Report | None:
    """The report of a terminal job already in memory, without touching the database; else None."""
    return terminal_cache.get(engine, job_id)


def report(
    engine: Engine, job_id: str, *, workers: int = 1, prices: Mapping[str, Price] = DEFAULT_PRICES
) -> Report | None:
    """The job's report, from memory when it is terminal and known, else from two small reads."""
    cached = terminal_cache.get(engine, job_id)
    if cached is not None:
        return cached
    found = poll_rows(engine, job_id)
    if found is None:
        return None
    job, ahead, rows = found
    steps = step_states(rows)
    stored = get_briefing(engine, job_id) if job.status == JobStatus.COMPLETED else None
    briefing = current_form(stored) if stored else None
    remaining = estimate_remaining_s(engine, job, ahead, workers)
    finished = len(STEPS) if job.status == JobStatus.COMPLETED else sum(s["status"] in FINISHED for s in steps)
    status = {
        "jobId": job.id,
        "status": job.status.value,
        "progress": f"{finished}/{len(STEPS)}",
        "companyName": job.company_name,
        "companyUrl": job.company_url,
        "role": job.role,
        "deepMode": job.deep_mode,
        "createdAt": iso(job.created_at),
        "updatedAt": iso(job.updated_at),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
        "isComplete": job.status == JobStatus.COMPLETED,
        "isFailed": job.status == JobStatus.FAILED,
        "estimatedSecondsRemaining": None if remaining is None else round(remaining),
        "retryOf": job.retry_of,
        "results": seed_results(briefing) if briefing else None,
        "briefing": briefing,
        # While Claude writes: the verified sections so far, shaped like `briefing` (None otherwise).
        "partial": (_writing(steps) or {}).get("partial") if job.status == JobStatus.PROCESSING else None,
        "message": _message(job, steps, briefing, remaining),
        "steps": [{k: s[k] for k in ("id", "status", "attempts", "durationMs", "error")} for s in steps],
        "usage": usage_of((row.meta for row in rows), prices).to_json_dict(),
    }
    made = Report(status, steps, job)
    # A job failed by the reaper may still have a step running; it is cached once that step ends.
    if job.status.is_terminal and all(row.status != AttemptStatus.RUNNING for row in rows):
        made.etag  # noqa: B018 - encoded here, off the event loop where the API answers cached reports
        terminal_cache.put(engine, made)
    return made


def job_status(
    engine: Engine, job_id: str, *, workers: int = 1, prices: Mapping[str, Price] = DEFAULT_PRICES
) -> dict | None:
    """The status object of the original API (camelCase), or None for an unknown job."""
    found = report(engine, job_id, workers=workers, prices=prices)
    return found.status if found else None


def job_report(
    engine: Engine, job_id: str, *, workers: int = 1, prices: Mapping[str, Price] = DEFAULT_PRICES
) -> tuple[dict, list[dict], Row] | None:
    """The status object, the full step states and the job row; None for an unknown job. The job
    page shows all three."""
    found = report(engine, job_id, workers=workers, prices=prices)
    return (found.status, found.steps, found.job) if found else None
