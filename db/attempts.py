"""Step attempt rows: one per try at a step, with timings, error and checkpointed output.

Every write carries the worker's fence (db.jobs.Fence): a worker that lost the job (taken for
dead, its job taken over) changes nothing, and its late write is logged.
"""

from __future__ import annotations

import logging

from sqlalchemy import null, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from db.clock import db_now
from db.engine import reading, writing
from db.jobs import Fence
from db.models import DONE_ATTEMPTS, TERMINAL, AttemptStatus, Job, JobStatus, StepAttempt, elapsed_ms, utcnow
from db.transient import retry_blips

log = logging.getLogger(__name__)


class NotOwner(Exception):
    """This worker no longer runs the job: it was taken over, cancelled or released."""


def holds(session: Session, fence: Fence, *, processing: bool = True) -> bool:
    """True while the fence is current; locks the job row (PostgreSQL) until the transaction ends,
    so a takeover cannot slip in between this check and the write that follows it."""
    query = select(Job.id).where(Job.id == fence.job_id, Job.owner == fence.owner, Job.claims == fence.claim)
    if processing:
        query = query.where(Job.status == JobStatus.PROCESSING)
    return session.exec(query.with_for_update()).first() is not None


@retry_blips
def start(engine: Engine, fence: Fence, step: str) -> StepAttempt:
    """Record a new running attempt at `step`, numbered after any earlier ones.

    Raises NotOwner unless the fence is current: a worker that was taken for dead (and whose job
    another worker took over) stops at its next step instead of running it twice.
    """
    with writing(engine) as session:
        if not holds(session, fence):
            raise NotOwner(fence.job_id)
        session.execute(update(Job).where(Job.id == fence.job_id).values(updated_at=db_now()))
        last = session.exec(
            select(func.max(StepAttempt.attempt)).where(StepAttempt.job_id == fence.job_id, StepAttempt.step == step)
        ).one()
        row = StepAttempt(job_id=fence.job_id, step=step, attempt=(last or 0) + 1)
        session.add(row)
    return row


@retry_blips
def finish(engine: Engine, fence: Fence, row: StepAttempt, status: AttemptStatus, **fields: dict | str | None) -> bool:
    """Close a running attempt with its outcome (close()'s keywords); False (and logged) when the
    fence is stale."""
    with writing(engine) as session:
        return close(session, fence, row, status, **fields)


def close(
    session: Session,
    fence: Fence,
    row: StepAttempt,
    status: AttemptStatus,
    *,
    output: dict | None = None,
    meta: dict | None = None,
    error_kind: str | None = None,
    error_message: str | None = None,
) -> bool:
    """finish() inside the caller's transaction (the store step completes its job in the same one);
    False when the fence is stale (logged) or the attempt was closed already."""
    finished = utcnow()
    if not holds(session, fence, processing=False):
        log.warning(
            "late write to step %s of job %s by %s (claim %d) ignored", row.step, fence.job_id, fence.owner, fence.claim
        )
        return False
    # Zero rows here: the attempt is closed already (a retry after a commit whose answer was lost).
    return (
        session.execute(
            update(StepAttempt)
            .where(StepAttempt.id == row.id, StepAttempt.status == AttemptStatus.RUNNING)
            .values(
                status=status,
                finished_at=finished,
                duration_ms=elapsed_ms(row.started_at, finished),
                output=null() if output is None else output,
                meta=null() if meta is None else meta,
                error_kind=error_kind,
                error_message=error_message,
            )
        ).rowcount
        == 1
    )


@retry_blips
def checkpoints(engine: Engine, job_id: str) -> dict[str, dict]:
    """The output of every step that already succeeded for this job, by step id."""
    with reading(engine) as session:
        rows = session.exec(
            select(StepAttempt)
            .where(StepAttempt.job_id == job_id)
            .where(col(StepAttempt.status).in_(list(DONE_ATTEMPTS)))
        )
        return {row.step: row.output or {} for row in rows}


@retry_blips
def for_job(engine: Engine, job_id: str) -> list[StepAttempt]:
    """Every attempt of the job, in the order they started."""
    with reading(engine) as session:
        return list(session.exec(select(StepAttempt).where(StepAttempt.job_id == job_id).order_by(col(StepAttempt.id))))


@retry_blips
def prune_outputs(engine: Engine, keep_days: float) -> int:
    """Drop the checkpointed output of finished jobs' attempts older than `keep_days`; returns how
    many. Only a job that may resume needs its checkpoints; briefings and job rows stay."""
    finished_jobs = select(Job.id).where(col(Job.status).in_(list(TERMINAL)))
    with writing(engine) as session:
        return session.execute(
            update(StepAttempt)
            .where(col(StepAttempt.output).is_not(None), col(StepAttempt.job_id).in_(finished_jobs))
            .where(col(StepAttempt.finished_at) < db_now(keep_days * 86_400))
            .values(output=null())
        ).rowcount
