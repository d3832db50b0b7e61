"""Batches: several jobs submitted together; counts and status are derived from the jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from core.request import ResearchRequest
from core.status import ACTIVE, DONE_ATTEMPTS, JobStatus
from db import jobs
from db.clock import db_now
from db.engine import reading, writing
from db.models import Batch, Job, StepAttempt


def create_batch(
    engine: Engine, requests: list[ResearchRequest], *, owner: str | None = None
) -> tuple[Batch, list[Job]]:
    """Queue one job per request under a new batch, all in one transaction: the batch is queued
    whole or not at all (with no owner, any worker adopts its jobs)."""
    batch = Batch()
    with writing(engine) as session:
        session.add(batch)
        session.flush()  # the batch row exists before its jobs point at it
        members = [jobs.new_job(request, owner=owner, batch_id=batch.id) for request in requests]
        for n, job in enumerate(members):
            # 1 ms apart on the database's clock (SQLite keeps milliseconds), so the jobs keep the
            # input's order wherever they are listed by created_at.
            job.created_at = db_now((len(members) - n) / 1000)
        session.add_all(members)  # a batch may hold the same company twice on purpose: no dedupe
        session.flush()
        for job in members:
            session.refresh(job)
        jobs.notify_queued(session.connection())
    return batch, members


def finished_steps(engine: Engine, batch_id: str) -> dict[str, int]:
    """For each job of the batch, how many steps already succeeded or were skipped."""
    with reading(engine) as session:
        rows = session.exec(
            select(StepAttempt.job_id, func.count(func.distinct(StepAttempt.step)))
            .join(Job, Job.id == StepAttempt.job_id)
            .where(Job.batch_id == batch_id)
            .where(col(StepAttempt.status).in_(list(DONE_ATTEMPTS)))
            .group_by(StepAttempt.job_id)
        ).all()
    return dict(rows)


@dataclass(frozen=True)
class BatchSummary:
    """A batch, its jobs in submission order, and the status derived from theirs."""

    batch: Batch
    members: list[Job]
    status: JobStatus  # queued, processing (some ran or run) or completed (none is active)

    @property
    def updated_at(self) -> datetime:
        """When the batch or any of its jobs last changed."""
        return max((job.updated_at for job in self.members), default=self.batch.created_at)


def summary(engine: Engine, batch_id: str) -> BatchSummary | None:
    """The batch and its jobs, or None for an unknown batch."""
    with reading(engine) as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            return None
        members = list(session.exec(select(Job).where(Job.batch_id == batch_id).order_by(col(Job.created_at))))
    statuses = [job.status for job in members]
    if any(status in ACTIVE for status in statuses):
        active = JobStatus.PROCESSING in statuses or any(status.is_terminal for status in statuses)
        status = JobStatus.PROCESSING if active else JobStatus.QUEUED
    else:
        status = JobStatus.COMPLETED
    return BatchSummary(batch, members, status)
