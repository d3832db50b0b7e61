"""A batch's status as one JSON object: served by the API, printed by the CLI, shown by the batch page."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping

from sqlalchemy.engine import Engine

from core.status import JobStatus
from core.steps import STEPS
from core.usage import Price
from db import jobs
from db.batches import finished_steps, summary
from db.store import get_briefing
from db.usage import usage_by_job, usage_total
from engine.documents import markdown_document
from engine.status import iso
from pipeline.markdown import markdown_filename

BATCH_URL = "/api/batches/{}"
JOB_STATUS_URL = "/api/research-status/{}"


def batch_status(engine: Engine, batch_id: str, prices: Mapping[str, Price]) -> dict | None:
    """`{batchId, status, total, completed, failed, cancelled, jobs: […]}`, or None for an unknown batch."""
    found = summary(engine, batch_id)
    if found is None:
        return None
    done = finished_steps(engine, batch_id)
    members = []
    for job in found.members:
        steps = len(STEPS) if job.status == JobStatus.COMPLETED else done.get(job.id, 0)
        members.append(
            {
                "jobId": job.id,
                "companyName": job.company_name,
                "role": job.role,
                "status": job.status.value,
                "progress": f"{steps}/{len(STEPS)}",
                "statusUrl": JOB_STATUS_URL.format(job.id),
            }
        )
    statuses = [job.status for job in found.members]
    return {
        "batchId": batch_id,
        "status": found.status.value,
        "total": len(statuses),
        "completed": statuses.count(JobStatus.COMPLETED),
        "failed": statuses.count(JobStatus.FAILED),
        "cancelled": statuses.count(JobStatus.CANCELLED),
        "createdAt": iso(found.batch.created_at),
        "updatedAt": iso(found.updated_at),
        "usage": usage_total(engine, prices, batch_id=batch_id).to_json_dict(),
        "jobs": members,
    }


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
            document = markdown_document(job, briefing, usage[job_id].to_json_dict())
            archive.writestr(markdown_filename(job.company_name, job.id), document)
    return buffer.getvalue()
