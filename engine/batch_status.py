"""A batch's status as one JSON object: served by the API, printed by the CLI, shown by the batch page."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from datetime import datetime

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
    for result in found["results"]:
        steps = len(STEPS) if result["status"] == JobStatus.COMPLETED else done.get(result["jobId"], 0)
        members.append(
            {
                **result,
                "progress": f"{steps}/{len(STEPS)}",
                "statusUrl": JOB_STATUS_URL.format(result["jobId"]),
            }
        )
    return {
        "batchId": batch_id,
        "status": found["status"],
        "total": found["totalJobs"],
        "completed": found["completedJobs"],
        "failed": found["failedJobs"],
        "cancelled": sum(member["status"] == JobStatus.CANCELLED for member in members),
        "createdAt": iso(datetime.fromisoformat(found["createdAt"])),
        "updatedAt": iso(datetime.fromisoformat(found["updatedAt"])),
        "usage": usage_total(engine, prices, batch_id=batch_id).to_json_dict(),
        "jobs": members,
    }


def batch_zip(engine: Engine, batch_id: str, prices: Mapping[str, Price]) -> bytes:
    """A zip of every completed briefing of the batch as Markdown (one file per job)."""
    found = summary(engine, batch_id) or {"results": []}
    completed = [result["jobId"] for result in found["results"] if result["status"] == JobStatus.COMPLETED]
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
