"""The reads behind a status poll: the job row with its place in the queue, and its attempts
without their checkpointed output (the scraped pages, up to ~120 KB of JSON a status never shows).

Two indexed reads in one transaction: the job by primary key (the queue count walks
ix_jobs_status_created, and only for a queued job), the attempts by ix_step_attempts_job_id.
"""

from __future__ import annotations

from sqlalchemy import bindparam, case, func
from sqlalchemy.engine import Engine, Row
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from db.engine import reading
from db.models import Job, JobStatus, StepAttempt

# Every column of step_attempts a status shows; `output` (the checkpoint) is left out on purpose.
ATTEMPT_COLUMNS = (
    StepAttempt.step,
    StepAttempt.status,
    StepAttempt.started_at,
    StepAttempt.duration_ms,
    StepAttempt.error_message,
    StepAttempt.meta,
)


def _ahead_in_queue():
    """How many queued jobs were created before the selected one; 0 unless it is queued."""
    other = aliased(Job)
    count = (
        select(func.count())
        .select_from(other)
        .where(other.status == JobStatus.QUEUED, col(other.created_at) < Job.created_at)
        .scalar_subquery()
    )
    return case((Job.status == JobStatus.QUEUED, count), else_=0)


# Built once: a poll runs them many times a second, and building one costs more than running it.
JOB_AND_AHEAD = select(Job, _ahead_in_queue()).where(Job.id == bindparam("job_id"))
ATTEMPTS = select(*ATTEMPT_COLUMNS).where(StepAttempt.job_id == bindparam("job_id")).order_by(col(StepAttempt.id))


def poll_rows(engine: Engine, job_id: str) -> tuple[Job, int, list[Row]] | None:
    """The job, the jobs queued ahead of it and its attempts (oldest first); None if unknown."""
    with reading(engine) as session:
        found = session.exec(JOB_AND_AHEAD, params={"job_id": job_id}).first()
        if found is None:
            return None
        rows = session.exec(ATTEMPTS, params={"job_id": job_id}).all()
    job, ahead = found
    return job, ahead, list(rows)
