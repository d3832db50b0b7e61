"""Job rows: creation, the queue, and every change of a job's status, each a guarded update.

A transition is an `UPDATE … WHERE id = :id AND status IN (:expected)`, and a worker's writes also
carry its fence: `AND owner = :me AND leases = :n`. Zero rows updated means another worker, a
takeover or a cancel got there first; the caller backs off, and late writes are logged.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import bindparam, case, cast, insert, literal, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col, select

from core.request import ResearchRequest
from core.status import ACTIVE, AttemptStatus, JobStatus
from db.clock import db_now
from db.engine import core_writing, writing
from db.models import Job, StepAttempt, elapsed_ms, utcnow
from db.transient import redo_on_blip

log = logging.getLogger(__name__)

DEDUPE_WINDOW_S = 5.0  # the same inputs submitted again within this many seconds reuse the job
QUEUE_CHANNEL = "prep_jobs"  # PostgreSQL NOTIFY channel: a job was queued


def _status_case(condition, then: JobStatus, otherwise):
    """CASE WHEN condition THEN then ELSE otherwise END, cast to the status column's type
    (PostgreSQL will not store a CASE of text in its enum column)."""
    status_type = Job.__table__.c.status.type
    return cast(case((condition, literal(then, status_type)), else_=otherwise), status_type)


_jobs = Job.__table__
_attempts = StepAttempt.__table__
# Built once: read at every step boundary of every job, where building it per call cost more than the read.
_CANCEL_REQUESTED = select(_jobs.c.cancel_requested).where(_jobs.c.id == bindparam("job_id"))
# Built once: read when every job starts, and by every wait() poll.
_JOB = select(_jobs).where(_jobs.c.id == bindparam("job_id"))


def _next_queued(reserved_only: bool):
    mine = _jobs.c.owner == bindparam("owner")
    return (
        select(_jobs.c.id)
        .where(_jobs.c.status == JobStatus.QUEUED, mine if reserved_only else (_jobs.c.owner.is_(None) | mine))
        .order_by(_jobs.c.created_at, _jobs.c.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
    )


# The lease, built once as Core: the pull loop runs it whenever a job ends.
_NEXT_QUEUED, _NEXT_QUEUED_RESERVED = _next_queued(False), _next_queued(True)
_CLAIM = (
    update(_jobs)
    .where(_jobs.c.id.in_(bindparam("ids", expanding=True)), _jobs.c.status == JobStatus.QUEUED)
    .values(
        status=JobStatus.PROCESSING,
        owner=bindparam("new_owner"),
        leases=_jobs.c.leases + 1,
        started_at=db_now(),
        updated_at=db_now(),
    )
    .returning(_jobs.c.id, _jobs.c.leases)
)
# The submit, built once as Core: one read of the twin and one INSERT.
_RECENT_TWIN = (
    select(_jobs)
    .where(_jobs.c.dedupe_key == bindparam("key"))
    .where(_jobs.c.created_at >= db_now(bindparam("window")), _jobs.c.batch_id.is_(None))
    .where(_jobs.c.status.not_in([JobStatus.FAILED, JobStatus.CANCELLED]))
    .order_by(_jobs.c.created_at, _jobs.c.id)
    .limit(1)
)
_INSERT_JOB = insert(_jobs).values(created_at=db_now(), updated_at=db_now()).returning(*_jobs.columns)
# The row's columns but its timestamps, which _INSERT_JOB takes from the database's clock.
_INSERTED = [name for name in _jobs.columns.keys() if name not in ("created_at", "updated_at")]
_LEFT_RUNNING = select(_attempts.c.id, _attempts.c.started_at).where(
    _attempts.c.job_id.in_(bindparam("ids", expanding=True)), _attempts.c.status == AttemptStatus.RUNNING
)
_INTERRUPT = (
    update(_attempts)
    .where(_attempts.c.id == bindparam("attempt_id"), _attempts.c.status == AttemptStatus.RUNNING)
    .values(
        status=AttemptStatus.FAILED,
        finished_at=bindparam("now"),
        duration_ms=bindparam("duration"),
        error_kind="interrupted",
        error_message="The worker running this step stopped; the step runs again.",
    )
)


@dataclass(frozen=True)
class Fence:
    """A worker's lease on a job: its writes land only while it holds this lease."""

    job_id: str
    owner: str
    lease: int  # jobs.leases when this worker leased it


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


@redo_on_blip
def create_job(
    engine: Engine,
    request: ResearchRequest,
    *,
    owner: str | None,
) -> tuple[Job, bool]:
    """Insert a queued job, or return the twin submitted moments ago; the flag says which.

    `owner` reserves the job for one worker (the CLI's `--wait`); None queues it for any worker.
    One write transaction: a read of the twins under a lock, then the INSERT.
    """
    with core_writing(engine) as conn:
        return _insert(conn, request, owner=owner)


@redo_on_blip
def create_retry(engine: Engine, job_id: str, *, owner: str | None) -> Job | None:
    """A new queued job with the inputs of `job_id` (or the twin of those inputs submitted moments
    ago); None when that job does not exist.

    The original's row is locked (FOR UPDATE on PostgreSQL, the write lock on SQLite) in the
    transaction that inserts the retry, as a deletion locks it first: either the deletion sees the
    retry and is refused, or the retry finds no job; never both a deleted job and a retry of it.
    """
    with core_writing(engine) as conn:
        row = conn.execute(_JOB.with_for_update(), {"job_id": job_id}).first()
        if row is None:
            return None
        original = Job(**row._mapping)
        request = ResearchRequest(
            company_name=original.company_name,
            company_url=original.company_url,
            role=original.role,
            deep_mode=original.deep_mode,
            job_description=original.job_description,
            job_description_url=original.job_description_url,
            refresh=original.refresh,
        )
        return _insert(conn, request, owner=owner, retry_of=original.id)[0]


def _insert(
    conn: Connection, request: ResearchRequest, *, owner: str | None, retry_of: str | None = None
) -> tuple[Job, bool]:
    """create_job() inside the caller's write transaction."""
    key = dedupe_key(request)
    twin = _recent_twin(conn, key, DEDUPE_WINDOW_S)
    if twin is not None:
        return twin, False
    job = new_job(request, owner=owner, key=key, retry_of=retry_of)
    row = conn.execute(_INSERT_JOB, {name: getattr(job, name) for name in _INSERTED}).one()
    notify_queued(conn)
    return Job(**row._mapping), True


def new_job(
    request: ResearchRequest,
    *,
    owner: str | None,
    key: str | None = None,
    retry_of: str | None = None,
    batch_id: str | None = None,
) -> Job:
    """The queued row of `request`, stamped with the database's clock (refresh it after a flush)."""
    return Job(
        company_name=request.company_name,
        company_url=request.company_url,
        role=request.role,
        deep_mode=request.deep_mode,
        job_description=request.job_description,
        job_description_url=request.job_description_url,
        refresh=request.refresh,
        owner=owner,
        dedupe_key=key or dedupe_key(request),
        retry_of=retry_of,
        batch_id=batch_id,
        created_at=db_now(),
        updated_at=db_now(),
    )


def notify_queued(conn: Connection) -> None:
    """Wake the workers listening on PostgreSQL when this transaction commits (no-op on SQLite)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": QUEUE_CHANNEL})


def _recent_twin(conn: Connection, key: str, window_s: float) -> Job | None:
    """The live job of these inputs created within the window, looked for under a lock: on
    SQLite the write transaction already holds the database's write lock; on PostgreSQL a
    transaction-scoped advisory lock on the key serialises submitters of the same inputs."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    row = conn.execute(_RECENT_TWIN, {"key": key, "window": window_s}).first()
    return None if row is None else Job(**row._mapping)


@redo_on_blip
def get_job(engine: Engine, job_id: str) -> Job | None:
    """The job with this id, or None."""
    with engine.connect() as conn:
        row = conn.execute(_JOB, {"job_id": job_id}).first()
    return None if row is None else Job(**row._mapping)


@redo_on_blip
def lease_next(engine: Engine, owner: str, limit: int, *, reserved_only: bool = False) -> list[Fence]:
    """Take up to `limit` queued jobs, oldest first, and mark them processing for `owner`.

    PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED`, so workers pulling at once take different
    jobs without waiting on each other; SQLite: the write lock taken at BEGIN serialises them.
    The update is guarded either way. Attempts a dead owner left running are closed in the same
    transaction. `reserved_only` takes only jobs reserved for `owner` (the CLI's private runner).
    """
    with core_writing(engine) as conn:
        params = {"owner": owner, "limit": limit}
        ids = conn.execute(_NEXT_QUEUED_RESERVED if reserved_only else _NEXT_QUEUED, params).scalars().all()
        if not ids:
            return []
        leased = conn.execute(_CLAIM, {"ids": ids, "new_owner": owner}).all()
        _interrupt_running(conn, [job_id for job_id, _ in leased])
    return [Fence(job_id, owner, leases) for job_id, leases in leased]


def _interrupt_running(conn: Connection, job_ids: list[str]) -> None:
    """Close the attempts a previous owner left running: it stopped, so the step runs again."""
    now = utcnow()
    for attempt_id, started_at in conn.execute(_LEFT_RUNNING, {"ids": job_ids}).all():
        conn.execute(_INTERRUPT, {"attempt_id": attempt_id, "now": now, "duration": elapsed_ms(started_at, now)})


def complete(conn: Connection, fence: Fence, company_id: int) -> bool:
    """processing → completed, inside the store step's transaction (db.store), which wrote the
    briefing this points at; False when the fence is stale."""
    values = {"status": JobStatus.COMPLETED, "company_id": company_id, "finished_at": db_now(), "updated_at": db_now()}
    return conn.execute(_fenced_update(fence).values(**values)).rowcount == 1


def fail(engine: Engine, fence: Fence, kind: str, message: str) -> bool:
    """processing → failed, with the reason a candidate reads."""
    values = {"status": JobStatus.FAILED, "finished_at": db_now(), "error_kind": kind, "error_message": message}
    return _fenced(engine, fence, values)


def mark_cancelled(engine: Engine, fence: Fence) -> bool:
    """processing → cancelled, at a step boundary after a cancel was requested."""
    values = {
        "status": JobStatus.CANCELLED,
        "finished_at": db_now(),
        "error_kind": "cancelled",
        "error_message": "Cancelled by request.",
    }
    return _fenced(engine, fence, values)


def release(engine: Engine, fence: Fence) -> bool:
    """processing → queued with no owner: a stopping worker hands the job to whoever pulls it."""
    return _fenced(engine, fence, {"status": JobStatus.QUEUED, "owner": None}, notify=True)


def _fenced_update(fence: Fence):
    """UPDATE jobs … WHERE the job is processing under this lease."""
    return (
        update(_jobs)
        .where(_jobs.c.id == fence.job_id, _jobs.c.status == JobStatus.PROCESSING)
        .where(_jobs.c.owner == fence.owner, _jobs.c.leases == fence.lease)
    )


@redo_on_blip
def _fenced(engine: Engine, fence: Fence, values: dict, *, notify: bool = False) -> bool:
    with core_writing(engine) as conn:
        result = conn.execute(_fenced_update(fence).values(**values, updated_at=db_now()))
        if notify and result.rowcount == 1:
            notify_queued(conn)
    if result.rowcount != 1:
        log.warning("late write to job %s by %s (lease %d) ignored", fence.job_id, fence.owner, fence.lease)
    return result.rowcount == 1


@redo_on_blip
def request_cancel(engine: Engine, job_id: str) -> Job | None:
    """Cancel a queued job at once, or flag a running one to stop at its next step; None if unknown.

    One atomic update: whatever a takeover or a worker does at the same moment, the flag (or
    the cancelled status) is written, and a job taken over later is cancelled, not run.
    """
    queued = Job.status == JobStatus.QUEUED
    with writing(engine) as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, col(Job.status).in_(list(ACTIVE)))
            .values(
                cancel_requested=True,
                status=_status_case(queued, JobStatus.CANCELLED, Job.status),
                finished_at=case((queued, db_now()), else_=Job.finished_at),
                error_kind=case((queued, "cancelled"), else_=Job.error_kind),
                error_message=case((queued, "Cancelled before it started."), else_=Job.error_message),
                updated_at=db_now(),
            )
        )
        return session.get(Job, job_id)


@redo_on_blip
def is_cancel_requested(engine: Engine, job_id: str) -> bool:
    """True once somebody asked this job to stop (read at every step boundary of every job)."""
    with engine.connect() as conn:
        return bool(conn.execute(_CANCEL_REQUESTED, {"job_id": job_id}).scalar())


@redo_on_blip
def take_over(engine: Engine, job_id: str, old_owner: str, leases: int) -> bool:
    """Hand a dead worker's job back to the queue (or cancel it, when a cancel was asked)."""
    stop = Job.cancel_requested.is_(True)
    with writing(engine) as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, col(Job.status).in_(list(ACTIVE)))
            .where(Job.owner == old_owner, Job.leases == leases)
            .values(
                status=_status_case(stop, JobStatus.CANCELLED, literal(JobStatus.QUEUED, Job.__table__.c.status.type)),
                owner=None,
                finished_at=case((stop, db_now()), else_=None),
                error_kind=case((stop, "cancelled"), else_=None),
                error_message=case((stop, "Cancelled by request."), else_=None),
                updated_at=db_now(),
            )
        )
        if result.rowcount == 1:
            notify_queued(session.connection())
        return result.rowcount == 1


@redo_on_blip
def fail_overdue(engine: Engine, owner: str, seconds: float) -> list[str]:
    """Fail this worker's jobs processing for more than `seconds` (a step hung past its own limit)."""
    message = "The research did not finish within its time limit and was stopped. Retry it."
    with writing(engine) as session:
        return list(
            session.execute(
                update(Job)
                .where(Job.owner == owner, Job.status == JobStatus.PROCESSING, col(Job.started_at) < db_now(seconds))
                .values(
                    status=JobStatus.FAILED,
                    finished_at=db_now(),
                    error_kind="timeout",
                    error_message=message,
                    updated_at=db_now(),
                )
                .returning(Job.id)
            ).scalars()
        )


@redo_on_blip
def release_all(
    engine: Engine, owner: str, *, processing_only: bool = False, keep: frozenset[str] = frozenset()
) -> list[str]:
    """Queue again, with no owner, this worker's active jobs but those in `keep` (the ones its
    pool really runs): all of them when it stops; with `processing_only`, the ones a lost
    database answer left processing here while nothing runs them."""
    statuses = [JobStatus.PROCESSING] if processing_only else list(ACTIVE)
    with writing(engine) as session:
        released = list(
            session.execute(
                update(Job)
                .where(Job.owner == owner, col(Job.status).in_(statuses), col(Job.id).not_in(keep))
                .values(status=JobStatus.QUEUED, owner=None, updated_at=db_now())
                .returning(Job.id)
            ).scalars()
        )
        if released:
            notify_queued(session.connection())
    return released
