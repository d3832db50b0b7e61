"""The reads behind a status poll: the job row with its place in the queue, and its attempts
without their checkpointed output (the scraped pages, up to ~120 KB of JSON a status never shows).

Two indexed reads in one transaction: the job by primary key (the queue count walks
ix_jobs_status_created, and only for a queued job), the attempts by ix_step_attempts_job_id.
Both are Core reads on a plain connection, no ORM Session or objects: a poll runs them many times a
second (every open job page every 1.5 s), and the ORM's session and object loading cost more than
the reads themselves. The job comes back as a Row of its columns, read by attribute like a Job.
"""

from __future__ import annotations

from sqlalchemy import bindparam, case, func
from sqlalchemy.engine import Engine, Row
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from core.status import JobStatus
from db.models import Job, StepAttempt

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
JOB_AND_AHEAD = select(*Job.__table__.columns, _ahead_in_queue().label("ahead")).where(Job.id == bindparam("job_id"))
ATTEMPTS = select(*ATTEMPT_COLUMNS).where(StepAttempt.job_id == bindparam("job_id")).order_by(col(StepAttempt.id))


def poll_rows(engine: Engine, job_id: str) -> tuple[Row, int, list[Row]] | None:
    """The job's row (every column of jobs), the jobs queued ahead of it and its attempts (oldest
    first); None if unknown."""
    with engine.connect() as connection:  # the first read begins the transaction; closing ends it
        job = connection.execute(JOB_AND_AHEAD, {"job_id": job_id}).first()
        if job is None:
            return None
        rows = connection.execute(ATTEMPTS, {"job_id": job_id}).all()
    return job, job.ahead, rows
