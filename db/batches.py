"""Batches: several jobs submitted together; counts and status are derived from the jobs."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from db import jobs
from db.engine import reading, writing
from db.models import ACTIVE, Batch, Job, JobStatus
from pipeline.models import ResearchRequest


def create_batch(
    engine: Engine, requests: list[ResearchRequest], *, owner: str | None = None
) -> tuple[Batch, list[Job]]:
    """Queue one job per request under a new batch (with no owner, any worker adopts them)."""
    batch = Batch()
    with writing(engine) as session:
        session.add(batch)
    created = [jobs.create_job(engine, request, owner=owner, batch_id=batch.id)[0] for request in requests]
    return batch, created


def summary(engine: Engine, batch_id: str) -> dict | None:
    """The batch as the original `batch_jobs` row read: counts, status and per-job results."""
    with reading(engine) as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            return None
        members = list(session.exec(select(Job).where(Job.batch_id == batch_id).order_by(col(Job.created_at))))
    statuses = [job.status for job in members]
    if any(status in ACTIVE for status in statuses):
        status = "processing" if JobStatus.PROCESSING in statuses or any(s.is_terminal for s in statuses) else "queued"
    else:
        status = "completed"
    return {
        "id": batch.id,
        "totalJobs": len(members),
        "completedJobs": statuses.count(JobStatus.COMPLETED),
        "failedJobs": statuses.count(JobStatus.FAILED),
        "status": status,
        "results": [{"jobId": job.id, "companyName": job.company_name, "status": job.status.value} for job in members],
        "createdAt": batch.created_at.isoformat(),
        "updatedAt": max((job.updated_at for job in members), default=batch.created_at).isoformat(),
    }
