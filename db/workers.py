"""Worker rows: each job-running process registers, heartbeats, and finds the jobs of dead ones."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from db.engine import reading, writing
from db.models import ACTIVE, Job, Worker, utcnow


def host_identity() -> str:
    """This host as far as process ids go: the host name plus the PID namespace, so containers
    that share a host name but not their process ids never judge each other's workers."""
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()}/pidns:{namespace}"


def register(engine: Engine) -> Worker:
    """Record this process as a live worker."""
    worker = Worker(hostname=host_identity(), pid=os.getpid())
    with writing(engine) as session:
        session.add(worker)
    return worker


def heartbeat(engine: Engine, worker_id: str) -> None:
    """Tell other processes this worker is alive."""
    with writing(engine) as session:
        session.execute(update(Worker).where(Worker.id == worker_id).values(heartbeat_at=utcnow()))


def unregister(engine: Engine, worker_id: str) -> None:
    """Remove this worker's row at a clean shutdown."""
    with writing(engine) as session:
        session.execute(delete(Worker).where(Worker.id == worker_id))


def live_worker_ids(engine: Engine, lease_s: float) -> set[str]:
    """Workers that heartbeat within the lease and, when on this host, whose process still exists."""
    cutoff = utcnow() - timedelta(seconds=lease_s)
    host = host_identity()
    with reading(engine) as session:
        workers = session.exec(select(Worker).where(col(Worker.heartbeat_at) >= cutoff)).all()
    return {w.id for w in workers if w.hostname != host or _process_exists(w.pid)}


def orphaned_jobs(engine: Engine, lease_s: float) -> list[Job]:
    """Queued or processing jobs whose owner is not a live worker, oldest first."""
    live = live_worker_ids(engine, lease_s)
    with reading(engine) as session:
        jobs = session.exec(select(Job).where(col(Job.status).in_(list(ACTIVE))).order_by(col(Job.created_at))).all()
    return [job for job in jobs if job.owner not in live]


def prune(engine: Engine, lease_s: float) -> None:
    """Forget workers silent for ten leases (their jobs were taken over long ago)."""
    cutoff = utcnow() - timedelta(seconds=10 * lease_s)
    with writing(engine) as session:
        session.execute(delete(Worker).where(col(Worker.heartbeat_at) < cutoff))


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
