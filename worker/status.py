"""A job's report: what its status shows, read by the pages and turned into JSON by the API.

A poll costs two small indexed reads (db/status_reads.py), never the checkpoint blobs; a completed
job's briefing is a third read, made only when its status is not in memory. The wait
estimate comes from a running median refreshed at most every ESTIMATE_REFRESH_S, not a query per
poll. A terminal job never changes, so its report is kept in memory by job id and served
without touching the database.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from cachetools import TTLCache, cached
from sqlalchemy.engine import URL, Engine, Row

from core.status import DONE_ATTEMPTS, AttemptStatus, JobStatus
from core.steps import ANALYZE, GITHUB, SCRAPE, STEPS
from core.usage import DEFAULT_PRICES, Price, Usage, usage_of
from db.history import recent_durations_s
from db.models import elapsed_ms, utcnow
from db.status_reads import poll_rows
from db.store import get_briefing
from pipeline.markdown import current_form
from worker.live_view import writing_line

DEFAULT_DURATION_S = 45.0  # the original design promised 30–60 s
ESTIMATE_REFRESH_S = 10.0  # how old the median of recent run times may get, seconds
TERMINAL_CACHE_SIZE = 512  # terminal statuses kept in memory (each tens of KB with its briefing)
TERMINAL_CACHE_TTL_S = 30.0  # how long one is served from memory before it is read again, seconds
FINISHED = {status.value for status in DONE_ATTEMPTS}  # plain strings: step states hold .value


@dataclass(frozen=True)
class StepState:
    """One step of a job as its attempts leave it: latest state, attempts, time spent, last error."""

    id: str
    label: str
    status: str  # an AttemptStatus value, or "pending" before its first attempt
    attempts: int
    duration_ms: int | None  # time spent over every attempt; None before the first
    error: str | None  # the last error of an attempt that was not skipped
    note: str | None  # why the latest attempt was skipped
    meta: dict | None  # the latest attempt's metadata


def step_states(rows: list) -> tuple[StepState, ...]:
    """The state of each of the job's steps; `rows` are attempts oldest first, StepAttempt rows or rows of
    db.status_reads.ATTEMPT_COLUMNS."""
    states = []
    for spec in STEPS:
        mine = [row for row in rows if row.step == spec.id]
        latest = mine[-1] if mine else None
        spent_ms = sum(row.duration_ms if row.duration_ms is not None else elapsed_ms(row.started_at) for row in mine)
        errors = [row.error_message for row in mine if row.error_message and row.status != AttemptStatus.SKIPPED]
        states.append(
            StepState(
                id=spec.id,
                label=spec.label,
                status=latest.status.value if latest else "pending",
                attempts=len(mine),
                duration_ms=spent_ms if mine else None,
                error=errors[-1] if errors else None,
                note=latest.error_message if latest and latest.status == AttemptStatus.SKIPPED else None,
                meta=latest.meta if latest else None,
            )
        )
    return tuple(states)


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


def _step(steps: tuple[StepState, ...], step_id: str) -> StepState:
    return next(step for step in steps if step.id == step_id)


def _writing(steps: tuple[StepState, ...]) -> dict | None:
    """The running analysis attempt's meta while Claude writes (`partial`, `writing`), else None."""
    analyze = _step(steps, ANALYZE.id)
    meta = analyze.meta or {}
    return meta if analyze.status == AttemptStatus.RUNNING.value and "partial" in meta else None


def _message(job: Row, steps: tuple[StepState, ...], briefing: dict | None, remaining: float | None) -> str:
    if job.status == JobStatus.QUEUED:
        return f"Waiting for a free worker; about {round(remaining or DEFAULT_DURATION_S)} s to go."
    if job.status == JobStatus.PROCESSING:
        writing = _writing(steps)
        if writing is not None:
            return f"Researching {job.company_name}: {writing_line(writing['writing'])}…"
        running = next((step for step in steps if step.status == "running"), None)
        doing = running.label if running else "Working"
        return f"Researching {job.company_name}: {doing.lower()}…"
    if job.status == JobStatus.COMPLETED:
        parts = [f"The briefing for {job.company_name} is ready."]
        if briefing and briefing.get("grounded") is False:
            scrape = _step(steps, SCRAPE.id)
            why = scrape.note or scrape.error or "the website could not be read"
            parts = [
                f"The briefing for {job.company_name} is generic: no page or repository could be read "
                f"({why.rstrip('.')}; GitHub gave no repositories), so it states no facts about the company."
            ]
            if any(source.get("kind") == "repository" for source in briefing.get("sources") or []):
                parts = [  # a site built by JavaScript that could not be run: only GitHub was read
                    f"The briefing for {job.company_name} could not read the company's website: {why.rstrip('.')}. "
                    "Its facts come from GitHub alone."
                ]
        if briefing and briefing.get("analysisMode") == "offline":
            reason = (_step(steps, ANALYZE.id).meta or {}).get("reason", "")
            parts.append(f"It was written by the offline analyzer, without Claude. {reason}".strip())
        if _step(steps, GITHUB.id).status == "failed":
            parts.append("GitHub could not be read, so the tech stack comes from the website alone.")
        if briefing and briefing.get("incomplete"):
            parts.append(f"It is incomplete: {briefing['incomplete']}")
        return " ".join(parts)
    if job.status == JobStatus.CANCELLED:
        return job.error_message or "The research was cancelled."
    return job.error_message or "The research failed."


# eq=False: a report is hashed by identity, so the API can keep its encoding beside it (weakly).
@dataclass(frozen=True, eq=False)
class JobReport:
    """What a job's status shows: its row (a Core Row of every column, read like a Job), its steps,
    the verified briefing once completed, the sections verified so far while Claude writes, a
    sentence for the candidate, the wait estimate and the usage of its calls to Claude."""

    job: Row
    steps: tuple[StepState, ...]
    finished_steps: int  # of len(STEPS)
    remaining_s: float | None  # None once the job is terminal
    briefing: dict | None  # the stored briefing in its current form (pipeline.markdown.current_form)
    partial: dict | None  # while Claude writes: the verified sections so far, shaped like `briefing`
    message: str
    usage: Usage

    @property
    def status(self) -> JobStatus:
        """The job's status."""
        return self.job.status


class _TerminalCache:
    """Reports of terminal jobs by (database, job id) in a cachetools TTLCache: least recently used
    dropped first, each kept at most `ttl_s` seconds (a job deleted through another process stops
    answering then). TTLCache is not thread-safe, so every access holds a lock."""

    def __init__(self, size: int, ttl_s: float) -> None:
        self._lock = threading.Lock()
        self._reports: TTLCache[tuple[URL, str], JobReport] = TTLCache(maxsize=size, ttl=ttl_s)

    def get(self, engine: Engine, job_id: str) -> JobReport | None:
        with self._lock:
            return self._reports.get((engine.url, job_id))

    def put(self, engine: Engine, report: JobReport) -> None:
        with self._lock:
            self._reports[(engine.url, report.job.id)] = report

    def forget(self, job_id: str) -> None:
        with self._lock:
            for key in [key for key in self._reports if key[1] == job_id]:
                self._reports.pop(key, None)


terminal_cache = _TerminalCache(TERMINAL_CACHE_SIZE, TERMINAL_CACHE_TTL_S)


def forget(job_id: str) -> None:
    """Drop a job's cached report (call it when a job is deleted)."""
    terminal_cache.forget(job_id)


def cached_report(engine: Engine, job_id: str) -> JobReport | None:
    """The report of a terminal job already in memory, without touching the database; else None."""
    return terminal_cache.get(engine, job_id)


def report(
    engine: Engine, job_id: str, *, workers: int = 1, prices: Mapping[str, Price] = DEFAULT_PRICES
) -> JobReport | None:
    """The job's report, from memory when it is terminal and known, else from two small reads;
    None for an unknown job."""
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
    made = JobReport(
        job=job,
        steps=steps,
        finished_steps=len(STEPS) if job.status == JobStatus.COMPLETED else sum(s.status in FINISHED for s in steps),
        remaining_s=remaining,
        briefing=briefing,
        partial=(_writing(steps) or {}).get("partial") if job.status == JobStatus.PROCESSING else None,
        message=_message(job, steps, briefing, remaining),
        usage=usage_of((row.meta for row in rows), prices),
    )
    # A job failed by the reaper may still have a step running; it is cached once that step ends.
    if job.status.is_terminal and all(row.status != AttemptStatus.RUNNING for row in rows):
        terminal_cache.put(engine, made)
    return made
