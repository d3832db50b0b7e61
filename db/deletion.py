"""Deleting a job: its row, its attempts and its briefing, in one transaction, or nothing.

The job's row is locked first (by flagging it cancelled), so a worker still running one of its
steps cannot slip a write in between: every write a worker makes is either guarded by the job's
row (starting an attempt, changing the status: they find no row and stop) or points at it with a
foreign key (the briefing: refused), and closing an attempt that is gone changes nothing. So a
running job is cancelled by its deletion, and nothing it writes afterwards outlives it.

A job is not deleted while another job depends on it: while a retry of it still names it
(`retry_of`), or while it belongs to a batch that is still running (the batch's progress and its
zip are made of its jobs). The company row stays: other briefings may share it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.status import ACTIVE
from db.clock import db_now
from db.engine import writing
from db.models import BriefingRecord, Job, StepAttempt


class DeleteRefused(Exception):
    """Another job depends on this one, so it stays; the message says which and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Deleted:
    """What a deletion removed."""

    job_id: str
    was_running: bool  # it was queued or processing, so deleting it cancelled it
    attempts: int


def delete_job(engine: Engine, job_id: str) -> Deleted | None:
    """Delete the job, its attempts and its briefing; None when there is no such job.

    Raises DeleteRefused, changing nothing, while another job depends on it.
    """
    with writing(engine) as session:
        locked = session.execute(update(Job).where(Job.id == job_id).values(cancel_requested=True, updated_at=db_now()))
        if locked.rowcount != 1:
            return None
        job = session.get(Job, job_id)
        retry = session.exec(select(Job).where(Job.retry_of == job_id).limit(1)).first()
        if retry is not None:
            raise DeleteRefused(
                f"This job can't be deleted: job {retry.id[:8]} ({retry.company_name}) is a retry of it."
                " Delete that retry first."
            )
        if job.batch_id is not None:
            running = session.exec(
                select(Job.id).where(Job.batch_id == job.batch_id, col(Job.status).in_(list(ACTIVE))).limit(1)
            ).first()
            if running is not None:
                raise DeleteRefused(
                    "This job belongs to a batch that is still running; delete it once the batch has finished."
                )
        removed = session.execute(delete(StepAttempt).where(StepAttempt.job_id == job_id)).rowcount
        session.execute(delete(BriefingRecord).where(BriefingRecord.job_id == job_id))
        session.execute(delete(Job).where(Job.id == job_id))
        return Deleted(job_id, job.status in ACTIVE, removed)
