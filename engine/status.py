"""A job's status as one JSON object: served by the API, printed by the CLI, read by the pages."""

from __future__ import annotations

import statistics
from datetime import datetime

from sqlalchemy.engine import Engine

from db import attempts, jobs
from db.history import recent_durations_s
from db.models import AttemptStatus, Job, JobStatus, StepAttempt, elapsed_ms, utcnow
from db.store import get_briefing
from engine.steps import STEPS
from pipeline.markdown import current_form

DEFAULT_DURATION_S = 45.0  # the original design promised 30–60 s
FINISHED = {AttemptStatus.SUCCEEDED.value, AttemptStatus.SKIPPED.value}


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, or None."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


def step_states(rows: list[StepAttempt]) -> list[dict]:
    """Each of the four steps: its latest state, attempts, time spent and last error."""
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


def estimate_remaining_s(engine: Engine, job: Job, workers: int) -> float | None:
    """Seconds until the job should be done, from recent run times; None once it is terminal."""
    if job.status.is_terminal:
        return None
    durations = recent_durations_s(engine)
    typical = statistics.median(durations) if durations else DEFAULT_DURATION_S
    if job.status == JobStatus.PROCESSING and job.started_at:
        return max(3.0, typical - (utcnow() - job.started_at).total_seconds())
    ahead = jobs.queue_position(engine, job)
    return typical * (ahead // max(1, workers) + 1)


def _message(job: Job, steps: list[dict], briefing: dict | None, remaining: float | None) -> str:
    if job.status == JobStatus.QUEUED:
        return f"Waiting for a free worker; about {round(remaining or DEFAULT_DURATION_S)} s to go."
    if job.status == JobStatus.PROCESSING:
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
        analyze = next(s for s in steps if s["id"] == "analyze-with-claude")
        if briefing and briefing.get("analysisMode") == "offline":
            reason = (analyze.get("meta") or {}).get("reason", "")
            parts.append(f"It was written by the offline analyzer, without Claude. {reason}".strip())
        github = next(s for s in steps if s["id"] == "search-github")
        if github["status"] == "failed":
            parts.append("GitHub could not be read, so the tech stack comes from the website alone.")
        return " ".join(parts)
    if job.status == JobStatus.CANCELLED:
        return job.error_message or "The research was cancelled."
    return job.error_message or "The research failed."


def job_status(engine: Engine, job_id: str, *, workers: int = 1) -> dict | None:
    """The status object of the original API (camelCase), or None for an unknown job."""
    report = job_report(engine, job_id, workers=workers)
    return report[0] if report else None


def job_report(engine: Engine, job_id: str, *, workers: int = 1) -> tuple[dict, list[dict], Job] | None:
    """The status object, the full step states (labels, notes, metadata) and the job row, from one
    read of each table; None for an unknown job. The job page shows all three."""
    job = jobs.get_job(engine, job_id)
    if job is None:
        return None
    steps = step_states(attempts.for_job(engine, job_id))
    stored = get_briefing(engine, job_id) if job.status == JobStatus.COMPLETED else None
    briefing = current_form(stored) if stored else None
    remaining = estimate_remaining_s(engine, job, workers)
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
        "results": briefing,
        "message": _message(job, steps, briefing, remaining),
        "steps": [{k: s[k] for k in ("id", "status", "attempts", "durationMs", "error")} for s in steps],
    }
    return status, steps, job
