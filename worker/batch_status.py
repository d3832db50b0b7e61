"""A batch's report (read by the batch page, turned into JSON by the API) and the zip of its briefings."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from core.status import JobStatus
from core.steps import STEPS
from core.usage import Price, Usage
from db import jobs
from db.batches import finished_steps, summary
from db.models import Job
from db.store import get_briefing
from db.usage import usage_by_job, usage_total
from pipeline.markdown import markdown_filename
from worker.documents import markdown_document


@dataclass(frozen=True)
class BatchMember:
    """One job of a batch: its row and how many of its steps have finished."""

    job: Job
    finished_steps: int  # of len(STEPS)


@dataclass(frozen=True)
class BatchReport:
    """A batch's status, its counts by outcome, its jobs (in submission order) and its usage."""

    batch_id: str
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    members: tuple[BatchMember, ...]
    usage: Usage

    def count(self, status: JobStatus) -> int:
        """How many of its jobs are in `status`."""
        return sum(member.job.status == status for member in self.members)


def batch_report(engine: Engine, batch_id: str, prices: Mapping[str, Price]) -> BatchReport | None:
    """The batch's report, or None for an unknown batch."""
    found = summary(engine, batch_id)
    if found is None:
        return None
    done = finished_steps(engine, batch_id)
    return BatchReport(
        batch_id=batch_id,
        status=found.status,
        created_at=found.batch.created_at,
        updated_at=found.updated_at,
        members=tuple(
            BatchMember(job, len(STEPS) if job.status == JobStatus.COMPLETED else done.get(job.id, 0))
            for job in found.members
        ),
        usage=usage_total(engine, prices, batch_id=batch_id),
    )


def batch_zip(engine: Engine, batch_id: str, prices: Mapping[str, Price]) -> bytes:
    """A zip of every completed briefing of the batch as Markdown (one file per job)."""
    found = summary(engine, batch_id)
    completed = [job.id for job in found.members if job.status == JobStatus.COMPLETED] if found else []
    usage = usage_by_job(engine, completed, prices)  # one read for every job, not one per job
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for job_id in completed:
            job = jobs.get_job(engine, job_id)
            briefing = get_briefing(engine, job_id)
            if job is None or briefing is None:  # deleted since the summary was read
                continue
            document = markdown_document(job, briefing, usage[job_id])
            archive.writestr(markdown_filename(job.company_name, job.id), document)
    return buffer.getvalue()
