"""Step attempt rows: one per try at a step, with timings, error and checkpointed output."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from db.engine import reading, writing
from db.models import AttemptStatus, Job, JobStatus, StepAttempt, elapsed_ms, utcnow


class NotOwner(Exception):
    """This worker no longer runs the job: it was taken over, cancelled or released."""


def start(engine: Engine, job_id: str, step: str, owner: str) -> StepAttempt:
    """Record a new running attempt at `step`, numbered after any earlier ones.

    Raises NotOwner unless `owner` still runs the job: a worker that was taken for dead (and whose
    job another worker took over) stops at its next step instead of running it twice.
    """
    with writing(engine) as session:
        still_mine = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.owner == owner, Job.status == JobStatus.PROCESSING)
            .values(updated_at=utcnow())
        )
        if still_mine.rowcount != 1:
            raise NotOwner(job_id)
        last = session.exec(
            select(func.max(StepAttempt.attempt)).where(StepAttempt.job_id == job_id, StepAttempt.step == step)
        ).one()
        row = StepAttempt(job_id=job_id, step=step, attempt=(last or 0) + 1)
        session.add(row)
    return row


def finish(
    engine: Engine,
    row: StepAttempt,
    status: AttemptStatus,
    *,
    output: dict | None = None,
    meta: dict | None = None,
    error_kind: str | None = None,
    error_message: str | None = None,
) -> None:
    """Close a running attempt with its outcome."""
    finished = utcnow()
    with writing(engine) as session:
        session.execute(
            update(StepAttempt)
            .where(StepAttempt.id == row.id, StepAttempt.status == AttemptStatus.RUNNING)
            .values(
                status=status,
                finished_at=finished,
                duration_ms=elapsed_ms(row.started_at, finished),
                output=output,
                meta=meta,
                error_kind=error_kind,
                error_message=error_message,
            )
        )


def interrupt_running(engine: Engine, job_id: str) -> int:
    """Close attempts left running by a process that died; returns how many."""
    now = utcnow()
    with writing(engine) as session:
        rows = session.exec(
            select(StepAttempt).where(StepAttempt.job_id == job_id, StepAttempt.status == AttemptStatus.RUNNING)
        ).all()
        for row in rows:
            row.status = AttemptStatus.FAILED
            row.finished_at = now
            row.duration_ms = elapsed_ms(row.started_at, now)
            row.error_kind = "interrupted"
            row.error_message = "The worker running this step stopped; the step runs again."
        return len(rows)


def checkpoints(engine: Engine, job_id: str) -> dict[str, dict]:
    """The output of every step that already succeeded for this job, by step id."""
    with reading(engine) as session:
        rows = session.exec(
            select(StepAttempt)
            .where(StepAttempt.job_id == job_id)
            .where(col(StepAttempt.status).in_([AttemptStatus.SUCCEEDED, AttemptStatus.SKIPPED]))
        )
        return {row.step: row.output or {} for row in rows}


def for_job(engine: Engine, job_id: str) -> list[StepAttempt]:
    """Every attempt of the job, in the order they started."""
    with reading(engine) as session:
        return list(session.exec(select(StepAttempt).where(StepAttempt.job_id == job_id).order_by(col(StepAttempt.id))))
