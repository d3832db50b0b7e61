"""Job rows: creation, lookup, and every change of a job's status, each a guarded update.

A transition is an `UPDATE … WHERE id = :id AND status = :expected [AND owner = :me]`; zero rows
updated means another worker (or a cancel) got there first, and the caller backs off.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.engine import reading, writing
from db.models import ACTIVE, Job, JobStatus, utcnow
from pipeline.models import ResearchRequest

DEDUPE_WINDOW_S = 5.0  # the same inputs submitted again within this many seconds reuse the job


def dedupe_key(request: ResearchRequest) -> str:
    """A digest of the inputs that make two submissions the same request."""
    parts = [
        " ".join(request.company_name.lower().split()),
        (request.company_url or "").lower().rstrip("/"),
        " ".join((request.role or "").lower().split()),
        "deep" if request.deep_mode else "",
        hashlib.sha256((request.job_description or "").encode()).hexdigest(),
        request.job_description_url or "",
        *(["refresh"] if request.refresh else []),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def create_job(
    engine: Engine,
    request: ResearchRequest,
    *,
    owner: str | None,
    retry_of: str | None = None,
    batch_id: str | None = None,
    dedupe_window_s: float = DEDUPE_WINDOW_S,
) -> tuple[Job, bool]:
    """Insert a queued job, or return the twin submitted moments ago; the flag says which.

    `owner` is the worker that will run it; None leaves it to whichever worker adopts it first.
    """
    key = dedupe_key(request)
    with writing(engine) as session:
        if batch_id is None:  # a batch may hold the same company twice on purpose
            twin = _recent_twin(session, key, dedupe_window_s)
            if twin is not None:
                return twin, False
        job = Job(
            company_name=request.company_name,
            company_url=request.company_url,
            role=request.role,
            deep_mode=request.deep_mode,
            job_description=request.job_description,
            job_description_url=request.job_description_url,
            refresh=request.refresh,
            owner=owner,
            dedupe_key=key,
            retry_of=retry_of,
            batch_id=batch_id,
        )
        session.add(job)
    return job, True


def _recent_twin(session: Session, key: str, window_s: float) -> Job | None:
    """A live job with the same inputs created within the window, looked for under a lock.

    On SQLite the write transaction already holds the database's write lock; on PostgreSQL a
    transaction-scoped advisory lock on the key serialises submitters of the same inputs.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    since = utcnow() - timedelta(seconds=window_s)
    return session.exec(
        select(Job)
        .where(Job.dedupe_key == key, col(Job.created_at) >= since, col(Job.batch_id).is_(None))
        .where(col(Job.status).not_in([JobStatus.FAILED, JobStatus.CANCELLED]))
        .order_by(col(Job.created_at), col(Job.id))
        .limit(1)
    ).first()


def get_job(engine: Engine, job_id: str) -> Job | None:
    """The job with this id, or None."""
    with reading(engine) as session:
        return session.get(Job, job_id)


def claim(engine: Engine, job_id: str, owner: str) -> bool:
    """queued → processing, for the worker that owns the job; False if it is not ours to run."""
    now = utcnow()
    return _guarded(
        engine,
        job_id,
        [JobStatus.QUEUED],
        owner=owner,
        values={"status": JobStatus.PROCESSING, "started_at": now, "claims": Job.claims + 1},
    )


def complete(engine: Engine, job_id: str, owner: str, company_id: int) -> bool:
    """processing → completed."""
    return _guarded(
        engine,
        job_id,
        [JobStatus.PROCESSING],
        owner=owner,
        values={"status": JobStatus.COMPLETED, "finished_at": utcnow(), "company_id": company_id},
    )


def fail(engine: Engine, job_id: str, owner: str | None, kind: str, message: str) -> bool:
    """queued | processing → failed, with the reason a candidate reads."""
    return _guarded(
        engine,
        job_id,
        list(ACTIVE),
        owner=owner,
        values={"status": JobStatus.FAILED, "finished_at": utcnow(), "error_kind": kind, "error_message": message},
    )


def mark_cancelled(engine: Engine, job_id: str, owner: str) -> bool:
    """processing → cancelled, at a step boundary after a cancel was requested."""
    return _guarded(
        engine,
        job_id,
        [JobStatus.PROCESSING],
        owner=owner,
        values={
            "status": JobStatus.CANCELLED,
            "finished_at": utcnow(),
            "error_kind": "cancelled",
            "error_message": "Cancelled by request.",
        },
    )


def request_cancel(engine: Engine, job_id: str) -> Job | None:
    """Cancel a queued job at once, or flag a running one to stop at its next step; None if unknown."""
    now = utcnow()
    cancelled_now = _guarded(
        engine,
        job_id,
        [JobStatus.QUEUED],
        values={
            "status": JobStatus.CANCELLED,
            "finished_at": now,
            "cancel_requested": True,
            "error_kind": "cancelled",
            "error_message": "Cancelled before it started.",
        },
    )
    if not cancelled_now:
        _guarded(engine, job_id, [JobStatus.PROCESSING], values={"cancel_requested": True})
    return get_job(engine, job_id)


def is_cancel_requested(engine: Engine, job_id: str) -> bool:
    """True once somebody asked this job to stop."""
    with reading(engine) as session:
        return bool(session.exec(select(Job.cancel_requested).where(Job.id == job_id)).first())


def requeue(engine: Engine, job_id: str, old_owner: str | None, new_owner: str) -> bool:
    """Take over an orphaned job (queued or processing under a dead owner) and queue it again."""
    with writing(engine) as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, col(Job.status).in_(list(ACTIVE)))
            .where(col(Job.owner).is_(None) if old_owner is None else Job.owner == old_owner)
            .values(status=JobStatus.QUEUED, owner=new_owner, updated_at=utcnow())
        )
        return result.rowcount == 1


def queue_position(engine: Engine, job: Job) -> int:
    """How many queued jobs were created before this one."""
    with reading(engine) as session:
        return session.exec(
            select(func.count()).where(Job.status == JobStatus.QUEUED, col(Job.created_at) < job.created_at)
        ).one()


def _guarded(engine: Engine, job_id: str, expected: list[JobStatus], *, values: dict, owner: str | None = None) -> bool:
    statement = update(Job).where(Job.id == job_id, col(Job.status).in_(expected))
    if owner is not None:
        statement = statement.where(Job.owner == owner)
    with writing(engine) as session:
        result = session.execute(statement.values(**values, updated_at=utcnow()))
        return result.rowcount == 1


def fail_overdue(engine: Engine, owner: str, started_before) -> list[str]:
    """Fail this worker's jobs still processing after their deadline (a step hung past its own)."""
    with reading(engine) as session:
        ids = session.exec(
            select(Job.id).where(
                Job.owner == owner, Job.status == JobStatus.PROCESSING, col(Job.started_at) < started_before
            )
        ).all()
    message = "The research did not finish within its time limit and was stopped. Retry it."
    return [job_id for job_id in ids if fail(engine, job_id, owner, "timeout", message)]


def release(engine: Engine, job_id: str, owner: str) -> bool:
    """processing → queued with no owner: a stopping worker hands the job to whoever adopts it."""
    return _guarded(
        engine, job_id, [JobStatus.PROCESSING], owner=owner, values={"status": JobStatus.QUEUED, "owner": None}
    )


def release_queued(engine: Engine, owner: str) -> int:
    """Give up this worker's queued jobs (it is stopping); any worker adopts them."""
    with writing(engine) as session:
        result = session.execute(
            update(Job)
            .where(Job.owner == owner, Job.status == JobStatus.QUEUED)
            .values(owner=None, updated_at=utcnow())
        )
        return result.rowcount


def queued_ids(engine: Engine, owner: str) -> list[str]:
    """Ids of the jobs queued for this worker, oldest first."""
    with reading(engine) as session:
        return list(
            session.exec(
                select(Job.id).where(Job.owner == owner, Job.status == JobStatus.QUEUED).order_by(col(Job.created_at))
            )
        )
