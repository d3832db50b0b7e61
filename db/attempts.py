"""Step attempt rows: one per try at a step, with timings, error and checkpointed output.

Every write carries the worker's fence (db.jobs.Fence): a worker that lost the job (taken for
dead, its job taken over) changes nothing, and its late write is logged.
"""

from __future__ import annotations

import logging

from sqlalchemy import and_, bindparam, insert, null, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col, func, select

from core.status import DONE_ATTEMPTS, TERMINAL, AttemptStatus, JobStatus
from db.clock import db_now
from db.engine import core_writing, reading, writing
from db.jobs import Fence
from db.models import Job, StepAttempt, elapsed_ms, utcnow
from db.transient import redo_on_blip

log = logging.getLogger(__name__)


class NotOwner(Exception):
    """This worker no longer runs the job: it was taken over, cancelled or released."""


# The writes every step of every job makes, built once as Core statements: built per call through
# the ORM they cost 2.6–4 ms of CPU each (statement construction, cache keys, the unit of work), held
# the writer queue that long, and were most of a job's CPU (bench/job_timing.py at 64 workers).
_jobs = Job.__table__
_attempts = StepAttempt.__table__
_FENCE = and_(
    _jobs.c.id == bindparam("fence_job"),
    _jobs.c.owner == bindparam("fence_owner"),
    _jobs.c.leases == bindparam("fence_lease"),
)
_HOLDS = select(_jobs.c.id).where(_FENCE).with_for_update()
_HOLDS_PROCESSING = _HOLDS.where(_jobs.c.status == JobStatus.PROCESSING)
# The fence check of a new attempt, and the heartbeat of the job's row in one: on PostgreSQL the
# update locks the row until the transaction ends, as SELECT … FOR UPDATE would.
_TOUCH_IF_PROCESSING = update(_jobs).where(_FENCE, _jobs.c.status == JobStatus.PROCESSING).values(updated_at=db_now())
_INSERT_ATTEMPT = (
    insert(_attempts)
    .values(
        job_id=bindparam("fence_job"),
        step=bindparam("step"),
        attempt=select(func.coalesce(func.max(_attempts.c.attempt), 0) + 1)
        .where(_attempts.c.job_id == bindparam("fence_job"), _attempts.c.step == bindparam("step"))
        .scalar_subquery(),
        status=AttemptStatus.RUNNING,
        started_at=bindparam("started_at"),
    )
    .returning(_attempts.c.id, _attempts.c.attempt)
)
_CHECKPOINTS = select(_attempts.c.step, _attempts.c.output).where(
    _attempts.c.job_id == bindparam("job_id"), _attempts.c.status.in_(list(DONE_ATTEMPTS))
)
# Zero rows: the attempt is closed already (a retry after a commit whose answer was lost).
_NOTE = (
    update(_attempts)
    .where(_attempts.c.id == bindparam("attempt_id"), _attempts.c.status == AttemptStatus.RUNNING)
    .values(meta=bindparam("note_meta", type_=_attempts.c.meta.type))
)
_CLOSE = update(_attempts).where(_attempts.c.id == bindparam("attempt_id"), _attempts.c.status == AttemptStatus.RUNNING)


def _fence_params(fence: Fence) -> dict[str, str | int]:
    return {"fence_job": fence.job_id, "fence_owner": fence.owner, "fence_lease": fence.lease}


def holds(conn: Connection, fence: Fence, *, processing: bool = True) -> bool:
    """True while the fence is current; locks the job row (PostgreSQL) until the transaction ends,
    so a takeover cannot slip in between this check and the write that follows it."""
    return conn.execute(_HOLDS_PROCESSING if processing else _HOLDS, _fence_params(fence)).first() is not None


@redo_on_blip
def start(engine: Engine, fence: Fence, step: str) -> StepAttempt:
    """Record a new running attempt at `step`, numbered after any earlier ones.

    Raises NotOwner unless the fence is current and the job processing: a worker that was taken
    for dead (and whose job another worker took over) stops at its next step instead of running
    it twice.
    """
    started = utcnow()
    with core_writing(engine) as conn:
        if conn.execute(_TOUCH_IF_PROCESSING, _fence_params(fence)).rowcount != 1:
            raise NotOwner(fence.job_id)
        attempt_id, number = conn.execute(
            _INSERT_ATTEMPT, {**_fence_params(fence), "step": step, "started_at": started}
        ).one()
    return StepAttempt(id=attempt_id, job_id=fence.job_id, step=step, attempt=number, started_at=started)


@redo_on_blip
def finish(engine: Engine, fence: Fence, row: StepAttempt, status: AttemptStatus, **fields: dict | str | None) -> bool:
    """Close a running attempt with its outcome (close()'s keywords); False (and logged) when the
    fence is stale."""
    with core_writing(engine) as conn:
        return close(conn, fence, row, status, **fields)


def close(
    conn: Connection,
    fence: Fence,
    row: StepAttempt,
    status: AttemptStatus,
    *,
    output: dict | None = None,
    meta: dict | None = None,
    error_kind: str | None = None,
    error_message: str | None = None,
) -> bool:
    """finish() inside the caller's transaction (the store step completes its job in the same one);
    False when the fence is stale (logged) or the attempt was closed already."""
    finished = utcnow()
    if not holds(conn, fence, processing=False):
        log.warning(
            "late write to step %s of job %s by %s (lease %d) ignored", row.step, fence.job_id, fence.owner, fence.lease
        )
        return False
    values = {
        "attempt_id": row.id,
        "status": status,
        "finished_at": finished,
        "duration_ms": elapsed_ms(row.started_at, finished),
        # null(): SQL NULL; a plain None would be stored as the JSON text 'null'
        "output": null() if output is None else output,
        "meta": null() if meta is None else meta,
        "error_kind": error_kind,
        "error_message": error_message,
    }
    return conn.execute(_CLOSE, values).rowcount == 1


@redo_on_blip
def note(engine: Engine, fence: Fence, row: StepAttempt, meta: dict) -> bool:
    """Set a running attempt's meta (what it has done so far: a step's progress for the status);
    False when the fence is stale or the attempt was closed already."""
    with core_writing(engine) as conn:
        if not holds(conn, fence):
            return False
        return conn.execute(_NOTE, {"attempt_id": row.id, "note_meta": meta}).rowcount == 1


@redo_on_blip
def checkpoints(engine: Engine, job_id: str) -> dict[str, dict]:
    """The output of every step that already succeeded for this job, by step id."""
    with engine.connect() as conn:
        return {step: output or {} for step, output in conn.execute(_CHECKPOINTS, {"job_id": job_id})}


@redo_on_blip
def for_job(engine: Engine, job_id: str) -> list[StepAttempt]:
    """Every attempt of the job, in the order they started."""
    with reading(engine) as session:
        return list(session.exec(select(StepAttempt).where(StepAttempt.job_id == job_id).order_by(col(StepAttempt.id))))


@redo_on_blip
def prune_outputs(engine: Engine, keep_days: float) -> int:
    """Drop the checkpointed output of finished jobs' attempts older than `keep_days`; returns how
    many. Only a job that may resume needs its checkpoints; briefings and job rows stay."""
    finished_jobs = select(Job.id).where(col(Job.status).in_(list(TERMINAL)))
    with writing(engine) as session:
        return session.execute(
            update(StepAttempt)
            .where(col(StepAttempt.output).is_not(None), col(StepAttempt.job_id).in_(finished_jobs))
            .where(col(StepAttempt.finished_at) < db_now(keep_days * 86_400))
            .values(output=null())
        ).rowcount
