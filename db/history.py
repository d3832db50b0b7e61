"""The history of jobs, newest first, paged in SQL with a keyset cursor (fast at any depth)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, tuple_
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.status import JobStatus
from db.engine import reading
from db.models import Job

MAX_PAGE = 100


@dataclass(frozen=True)
class HistoryPage:
    """One page of jobs and the cursor of the next, if any."""

    jobs: list[Job]
    next_cursor: str | None


def encode_cursor(job: Job) -> str:
    """An opaque cursor pointing just past `job`."""
    return base64.urlsafe_b64encode(f"{job.created_at.isoformat()}|{job.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a cursor points past; ValueError when it is not one of ours."""
    try:
        created, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), job_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("cursor is not valid") from exc


def filters(status: JobStatus | None, q: str | None, batch_id: str | None = None) -> list:
    """The WHERE clauses of a history filter: status, company text, batch."""
    clauses = []
    if batch_id is not None:
        clauses.append(Job.batch_id == batch_id)
    if status is not None:
        clauses.append(Job.status == status)
    if q and q.strip():
        pattern = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(func.lower(Job.company_name).like(f"%{pattern}%", escape="\\"))
    return clauses


def list_jobs(
    engine: Engine,
    *,
    status: JobStatus | None = None,
    q: str | None = None,
    limit: int = 25,
    cursor: str | None = None,
    batch_id: str | None = None,
) -> HistoryPage:
    """Jobs newest first, filtered by status, company text and batch, `limit` at a time after `cursor`."""
    limit = max(1, min(limit, MAX_PAGE))
    statement = select(Job).where(*filters(status, q, batch_id))
    if cursor:
        created, job_id = decode_cursor(cursor)
        # A row-value comparison: both SQLite and PostgreSQL walk the (created_at, id) index with it.
        statement = statement.where(tuple_(col(Job.created_at), col(Job.id)) < tuple_(created, job_id))
    statement = statement.order_by(col(Job.created_at).desc(), col(Job.id).desc()).limit(limit + 1)
    with reading(engine) as session:
        rows = list(session.exec(statement))
    more = len(rows) > limit
    jobs = rows[:limit]
    return HistoryPage(jobs, encode_cursor(jobs[-1]) if more else None)


def count_jobs(
    engine: Engine, *, status: JobStatus | None = None, q: str | None = None, batch_id: str | None = None
) -> int:
    """How many jobs match the filters."""
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(Job).where(*filters(status, q, batch_id))).one()


def recent_durations_s(engine: Engine, limit: int = 50) -> list[float]:
    """Run times (seconds) of the most recently completed jobs, for wait estimates."""
    with reading(engine) as session:
        rows = session.exec(
            select(Job.started_at, Job.finished_at)
            .where(Job.status == JobStatus.COMPLETED, col(Job.started_at).is_not(None))
            .order_by(col(Job.created_at).desc())
            .limit(limit)
        ).all()
    return [(finished - started).total_seconds() for started, finished in rows if finished and started]
