"""Worker rows: each job-running process registers, heartbeats, and finds the jobs of dead ones.

Every time here is the database's (db.clock.db_now), so clock skew between hosts never makes a
live worker look dead.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.status import ACTIVE
from db.clock import db_now
from db.engine import reading, writing
from db.models import Job, Worker, new_id
from db.transient import redo_on_blip

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Orphan:
    """An active job whose owner is gone, as it was seen (a takeover is guarded by both)."""

    job_id: str
    owner: str
    leases: int


def host_identity() -> str:
    """This host as far as process ids go: the host name plus the PID namespace, so containers
    that share a host name but not their process ids never judge each other's workers."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/pidns:{namespace}"


def register(engine: Engine, worker_id: str | None = None) -> str:
    """Record this process as a live worker (again, under the same id, when its row was lost)."""
    worker_id = worker_id or new_id()
    _insert(engine, worker_id)
    return worker_id


@redo_on_blip
def _insert(engine: Engine, worker_id: str) -> None:
    with writing(engine) as session:
        session.add(
            Worker(id=worker_id, hostname=host_identity(), pid=os.getpid(), started_at=db_now(), heartbeat_at=db_now())
        )


@redo_on_blip
def heartbeat(engine: Engine, worker_id: str) -> None:
    """Tell other processes this worker is alive; a worker whose row was deleted (pruned while it
    was paused, say) registers again under the same id and so keeps its jobs."""
    with writing(engine) as session:
        found = session.execute(update(Worker).where(Worker.id == worker_id).values(heartbeat_at=db_now())).rowcount
    if not found:
        log.warning("worker %s had no row (pruned or deleted); registering it again", worker_id)
        register(engine, worker_id)


@redo_on_blip
def unregister(engine: Engine, worker_id: str) -> None:
    """Remove this worker's row at a clean shutdown."""
    with writing(engine) as session:
        session.execute(delete(Worker).where(Worker.id == worker_id))


@redo_on_blip
def orphaned_jobs(engine: Engine, lease_s: float, *, me: str) -> list[Orphan]:
    """Active jobs owned by a dead worker, oldest first.

    Dead: its heartbeat is older than the lease; or its row is gone and the job has not moved
    for a lease (a live worker whose row was deleted registers again within a third of one);
    or it ran on this host and its process is gone.
    """
    expired = Worker.heartbeat_at < db_now(lease_s)
    gone = and_(col(Worker.id).is_(None), Job.updated_at < db_now(lease_s))
    with reading(engine) as session:
        rows = session.exec(
            select(Job.id, Job.owner, Job.leases, Worker.hostname, Worker.pid, or_(expired, gone))
            .outerjoin(Worker, Worker.id == Job.owner)
            .where(col(Job.status).in_(list(ACTIVE)), col(Job.owner).is_not(None), Job.owner != me)
            .order_by(col(Job.created_at))
        ).all()
    host = host_identity()
    return [
        Orphan(job_id, owner, leases)
        for job_id, owner, leases, hostname, pid, dead in rows
        if dead or (hostname == host and not _process_exists(pid))
    ]


@redo_on_blip
def prune(engine: Engine, lease_s: float) -> None:
    """Forget workers silent for ten leases (their jobs were taken over long ago)."""
    with writing(engine) as session:
        session.execute(delete(Worker).where(col(Worker.heartbeat_at) < db_now(10 * lease_s)))


def _process_exists(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    return True
