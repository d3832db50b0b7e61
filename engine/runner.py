"""The process-wide runner: a bounded pool of job threads, a side pool, a heartbeat and a reaper.

Submitting writes the queued row first, then hands the id to the pool. A background tick keeps
this worker's heartbeat fresh, takes over jobs whose worker died, re-queues its own jobs that
lost their place in the pool, and fails jobs stuck past their deadline, so no job stays queued
or processing forever. Shutting down stops running jobs at their next step and hands them, and
the queued ones, to whichever worker adopts them next; they resume from their checkpoints.
"""

from __future__ import annotations

import atexit
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from db import jobs, workers
from db.batches import create_batch
from db.deletion import Deleted, delete_job
from db.engine import get_engine
from db.models import Batch, Job, utcnow
from engine.orchestrator import run_job
from engine.services import Services
from engine.status import forget
from pipeline.models import ResearchRequest
from settings import Settings

log = logging.getLogger(__name__)

OVERDUE_GRACE_S = 30.0  # beyond the job deadline before the reaper fails a job, seconds


class Runner:
    """Runs research jobs in this process and keeps the database's view of them honest."""

    def __init__(self, settings: Settings, *, engine: Engine | None = None, adopt_orphans: bool = True) -> None:
        self.settings = settings
        self.engine = engine or get_engine(settings.database_url)
        self.worker_id = workers.register(self.engine).id
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="prep-job")
        # Each running job puts at most one leaf task here, so `workers` threads always suffice.
        self._side_pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="prep-side")
        self._stopping = threading.Event()  # set by shutdown(): jobs stop at their next step
        self.services = Services.build(settings, self.engine, self._side_pool, self._stopping)
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()
        self._adopt = adopt_orphans
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_forever, name="prep-tick", daemon=True)
        self._ticker.start()

    def submit(self, request: ResearchRequest, *, retry_of: str | None = None) -> tuple[Job, bool]:
        """Queue a job (or find its double-click twin) and start it when a worker is free."""
        job, created = jobs.create_job(self.engine, request, owner=self.worker_id, retry_of=retry_of)
        if created:
            self._enqueue(job.id)
        return job, created

    def submit_batch(self, requests: list[ResearchRequest]) -> tuple[Batch, list[Job]]:
        """Queue a batch (all its jobs in one transaction) and start its jobs as workers free up."""
        batch, members = create_batch(self.engine, requests, owner=self.worker_id)
        for job in members:
            self._enqueue(job.id)
        return batch, members

    def retry(self, job_id: str) -> Job | None:
        """A new job with the inputs of `job_id`; None when that job does not exist."""
        original = jobs.get_job(self.engine, job_id)
        if original is None:
            return None
        request = ResearchRequest(
            company_name=original.company_name,
            company_url=original.company_url,
            role=original.role,
            deep_mode=original.deep_mode,
            job_description=original.job_description,
            job_description_url=original.job_description_url,
            refresh=original.refresh,
        )
        return self.submit(request, retry_of=original.id)[0]

    def cancel(self, job_id: str) -> Job | None:
        """Stop a queued job from starting, or a running one at its next step boundary."""
        return jobs.request_cancel(self.engine, job_id)

    def delete(self, job_id: str) -> Deleted | None:
        """Remove a job with its attempts and briefing, cancelling it if it runs; None when unknown.
        DeleteRefused while another job depends on it."""
        deleted = delete_job(self.engine, job_id)
        forget(job_id)  # this process may hold its terminal status in memory
        return deleted

    def wait(self, job_id: str, timeout_s: float | None = None) -> Job | None:
        """Block until this process has run the job (for the CLI and tests); the final row."""
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout_s)
        return jobs.get_job(self.engine, job_id)

    def recover(self) -> list[str]:
        """Take over jobs left queued or processing by dead workers and run them here."""
        taken = []
        for job in workers.orphaned_jobs(self.engine, self.settings.lease_s):
            if jobs.requeue(self.engine, job.id, job.owner, self.worker_id):
                log.info("taking over job %s from worker %s", job.id, job.owner)
                self._enqueue(job.id)
                taken.append(job.id)
        return taken

    def shutdown(self) -> None:
        """Stop taking work, let running jobs reach their next step and release them, then leave.

        Released and queued jobs return to the queue with no owner, so the next worker to start
        (or a live peer) adopts them and resumes each from its last finished step.
        """
        self._stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._side_pool.shutdown(wait=True, cancel_futures=True)
        # The heartbeat runs until the pools are idle, so no peer takes a job over mid-step.
        self._stop.set()
        self._ticker.join()
        self.services.close()
        try:
            released = jobs.release_queued(self.engine, self.worker_id)
            workers.unregister(self.engine, self.worker_id)
        except SQLAlchemyError:  # the database is gone: our jobs are adopted once our lease ends
            log.exception("could not release this worker's jobs at shutdown")
        else:
            if released:
                log.info("released %d queued jobs for other workers", released)

    def _enqueue(self, job_id: str) -> None:
        if self._stopping.is_set():
            return  # shutdown() releases the job to other workers
        with self._lock:
            self._futures = {k: f for k, f in self._futures.items() if not f.done()}
            if job_id in self._futures:
                return
            future = self._pool.submit(run_job, self.services, job_id, self.worker_id)
            self._futures[job_id] = future
        future.add_done_callback(_log_failure)

    def _requeue_lost(self) -> None:
        """Hand the pool again any job queued for this worker that the pool does not hold.

        A submit whose hand-off failed (the database was busy just then) would otherwise wait
        under a live owner that nobody takes over.
        """
        for job_id in jobs.queued_ids(self.engine, self.worker_id):
            self._enqueue(job_id)

    def _tick(self) -> None:
        workers.heartbeat(self.engine, self.worker_id)
        if self._stopping.is_set():
            return
        overdue = utcnow() - timedelta(seconds=self.settings.job_deadline_s + OVERDUE_GRACE_S)
        for job_id in jobs.fail_overdue(self.engine, self.worker_id, overdue):
            log.warning("job %s passed its deadline and was failed", job_id)
        self._requeue_lost()
        if self._adopt:
            self.recover()
            workers.prune(self.engine, self.settings.lease_s)

    def _tick_forever(self) -> None:
        interval_s = max(0.2, self.settings.lease_s / 3)  # three heartbeats per lease
        while not self._stop.wait(interval_s):
            try:
                self._tick()
            except Exception:  # the database may be briefly unreachable; the next tick tries again
                log.exception("runner tick failed")


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("a job crashed outside its own error handling", exc_info=future.exception())


_runner: Runner | None = None
_runner_lock = threading.Lock()


def get_runner() -> Runner:
    """The process-wide runner, started (and orphaned jobs recovered) on first use."""
    global _runner
    with _runner_lock:
        if _runner is None:
            _runner = Runner(Settings.load())
            _runner.recover()
        return _runner


def started_runner() -> Runner | None:
    """The process-wide runner if it has started, else None; never blocks (the event loop calls it)."""
    return _runner


@atexit.register
def shutdown_runner() -> None:
    """Stop the process-wide runner, if one started; the next get_runner() starts afresh."""
    global _runner
    with _runner_lock:
        if _runner is not None:
            _runner.shutdown()
            _runner = None
