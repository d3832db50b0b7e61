"""The API's status documents: a job's and a batch's reports as the camelCase JSON the API serves
and the CLI prints (api.schemas describes them).

A terminal job's report is kept in memory by worker.status; its encoded body and ETag are kept
beside it here, weakly, so a cached status is encoded once and goes when its report goes.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from api.results import seed_results
from core.status import JobStatus
from core.steps import STEPS
from core.usage import DEFAULT_PRICES, Price
from db.models import iso
from worker.batch_status import BatchReport, batch_report
from worker.status import JobReport, report

STATUS_URL = "/api/research-status/{}"
BATCH_URL = "/api/batches/{}"


def status_document(found: JobReport) -> dict:
    """The job's status object under the original API's names (camelCase)."""
    job, briefing = found.job, found.briefing
    return {
        "jobId": job.id,
        "status": job.status.value,
        "progress": f"{found.finished_steps}/{len(STEPS)}",
        "companyName": job.company_name,
        "companyUrl": job.company_url,
        "role": job.role,
        "deepMode": job.deep_mode,
        "createdAt": iso(job.created_at),
        "updatedAt": iso(job.updated_at),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
        "isComplete": job.status == JobStatus.COMPLETED,
        "isFailed": job.status == JobStatus.FAILED,
        "estimatedSecondsRemaining": None if found.remaining_s is None else round(found.remaining_s),
        "retryOf": job.retry_of,
        "results": seed_results(briefing) if briefing else None,
        "briefing": briefing,
        "partial": found.partial,
        "message": found.message,
        "steps": [
            {"id": s.id, "status": s.status, "attempts": s.attempts, "durationMs": s.duration_ms, "error": s.error}
            for s in found.steps
        ],
        "usage": found.usage.to_json_dict(),
    }


@dataclass(frozen=True)
class Encoded:
    """A status document as the API sends it: JSON bytes (as Starlette's JSONResponse encodes) and
    a strong ETag of them."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, document: dict) -> Encoded:
        """`document` encoded."""
        body = json.dumps(document, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()
        return cls(body, f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"')


_lock = threading.Lock()
_encoded: weakref.WeakKeyDictionary[JobReport, Encoded] = weakref.WeakKeyDictionary()


def encoded(found: JobReport) -> Encoded:
    """The report's status document encoded, once per report (a cached terminal report is reused)."""
    known = known_encoding(found)
    if known is None:
        known = Encoded.of(status_document(found))
        with _lock:
            _encoded[found] = known
    return known


def known_encoding(found: JobReport) -> Encoded | None:
    """The report's encoding when it has been made already, else None (made then off the event loop)."""
    with _lock:
        return _encoded.get(found)


def job_status(
    engine: Engine, job_id: str, *, workers: int = 1, prices: Mapping[str, Price] = DEFAULT_PRICES
) -> dict | None:
    """The job's status object, or None for an unknown job."""
    found = report(engine, job_id, workers=workers, prices=prices)
    return status_document(found) if found else None


def batch_document(found: BatchReport) -> dict:
    """`{batchId, status, total, completed, failed, cancelled, createdAt, updatedAt, usage, jobs: […]}`."""
    return {
        "batchId": found.batch_id,
        "status": found.status.value,
        "total": len(found.members),
        "completed": found.count(JobStatus.COMPLETED),
        "failed": found.count(JobStatus.FAILED),
        "cancelled": found.count(JobStatus.CANCELLED),
        "createdAt": iso(found.created_at),
        "updatedAt": iso(found.updated_at),
        "usage": found.usage.to_json_dict(),
        "jobs": [
            {
                "jobId": member.job.id,
                "companyName": member.job.company_name,
                "role": member.job.role,
                "status": member.job.status.value,
                "progress": f"{member.finished_steps}/{len(STEPS)}",
                "statusUrl": STATUS_URL.format(member.job.id),
            }
            for member in found.members
        ],
    }


def batch_status(engine: Engine, batch_id: str, prices: Mapping[str, Price]) -> dict | None:
    """The batch's status object, or None for an unknown batch."""
    found = batch_report(engine, batch_id, prices)
    return batch_document(found) if found else None
