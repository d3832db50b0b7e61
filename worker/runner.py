"""The process-wide runner: a pool of job threads that pulls work from the shared job table.

Submitting only inserts the queued row and wakes the pools: this process's at once, every other
process's through PostgreSQL LISTEN/NOTIFY (polling is the fallback). Whenever a thread is free,
the dispatcher leases the oldest queued jobs, so a job submitted to one process may run on any.
A background tick keeps this worker's heartbeat fresh (in database time), takes over jobs of dead
workers, re-queues jobs a lost database answer left here, fails jobs stuck past their deadline
and prunes old checkpoints. Shutting down (SIGTERM through Streamlit, the end of the CLI, or the
interpreter's exit) stops running jobs at their next step and queues them again with no owner.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from core.request import ResearchRequest
from db import attempts, jobs, workers
from db.batches import create_batch
from db.deletion import Deleted, delete_job
from db.engine import get_engine
from db.models import Batch, Job
from settings import Settings
from worker.orchestrator import run_job
from worker.services import Services
from worker.status import forget
from worker.wakeups import listen_for_jobs

log = logging.getLogger(__name__)

OVERDUE_GRACE_S = 30.0  # beyond the job deadline before the reaper fails a job, seconds
POLL_S = 1.0  # the dispatcher looks at the queue at least this often, seconds
PRUNE_EVERY_S = 3600.0  # how often old checkpoints are pruned, seconds
WAIT_POLL_S = 0.1  # how often wait() reads a job another process runs, seconds


class Runner:
    """Runs research jobs in this process and keeps the database's view of them honest.

    `adopt_orphans=False` makes a private runner (the CLI's `--wait`): it runs only the jobs it
    submits, and never takes over other workers' jobs.
    """

    def __init__(self, settings: Settings, *, engine: Engine | None = None, adopt_orphans: bool = True) -> None:
        self.settings = settings
        self.engine = engine or get_engine(settings.database_url)
        self.worker_id = workers.register(self.engine)
        self._pool = ThreadPoolExecutor(settings.workers, thread_name_prefix="prep-job")
        # Each running job has at most three leaf tasks here at once (its Wikipedia lookup, GitHub and
        # the keyless sources; later the two parts of its briefing), so three times `workers` suffice.
        self._side_pool = ThreadPoolExecutor(3 * settings.workers, thread_name_prefix="prep-side")
        self._stopping = threading.Event()  # set by shutdown(): jobs stop at their next step
        self.services = Services.build(settings, self.engine, self._side_pool, self._stopping)
        self._running: dict[Future, str] = {}  # this pool's jobs: future → job id
        self._lock = threading.Lock()  # guards _running; held only for a dict update
        # Held from a lease until its jobs are in _running, so the heartbeat's sweep of lost jobs
        # never sees them in between. A separate lock: a job that ends must not wait for a lease,
        # which queues for the database, before its thread can take the next job.
        self._leasing = threading.Lock()
        self._finished = threading.Condition()  # notified whenever one of this pool's jobs ends
        self._wake = threading.Event()  # set when a job may be waiting: pull now
        self._adopt = adopt_orphans
        self._stop = threading.Event()  # set once the pools are idle: background threads end
        self._shut = False
        self._last_prune: float | None = None  # time.monotonic() of the last prune; None: prune at the first tick
        self._threads = [
            threading.Thread(target=self._pull_forever, name="prep-pull", daemon=True),
            threading.Thread(target=self._tick_forever, name="prep-tick", daemon=True),
        ]
        if adopt_orphans and self.engine.dialect.name == "postgresql":
            listener = threading.Thread(
                target=listen_for_jobs, args=(settings.database_url, self._wake, self._stop), daemon=True
            )
            self._threads.append(listener)
        for thread in self._threads:
            thread.start()
        self._wake.set()

    @property
    def _owner(self) -> str | None:
        """Who a submitted job is reserved for: nobody (any worker), or this private runner."""
        return None if self._adopt else self.worker_id

    def submit(self, request: ResearchRequest) -> tuple[Job, bool]:
        """Queue a job (or find its double-click twin); whichever process has a free thread runs it."""
        job, created = jobs.create_job(self.engine, request, owner=self._owner)
        self._wake.set()
        return job, created

    def submit_batch(self, requests: list[ResearchRequest]) -> tuple[Batch, list[Job]]:
        """Queue a batch (all its jobs in one transaction); whichever processes have free threads run them."""
        batch, members = create_batch(self.engine, requests, owner=self._owner)
        self._wake.set()
        return batch, members

    def retry(self, job_id: str) -> Job | None:
        """A new job with the inputs of `job_id`; None when that job does not exist (or was
        deleted meanwhile: the two cannot both succeed, see jobs.create_retry)."""
        job = jobs.create_retry(self.engine, job_id, owner=self._owner)
        self._wake.set()
        return job

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
        """Block until the job is finished, wherever it runs (for the CLI and tests); the final row.

        Raises TimeoutError when `timeout_s` passes first."""
        give_up = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            job = jobs.get_job(self.engine, job_id)
            if job is None or job.status.is_terminal:
                return job
            if give_up is not None and time.monotonic() >= give_up:
                raise TimeoutError(f"job {job_id} is still {job.status.value}")
            with self._finished:
                self._finished.wait(WAIT_POLL_S)

    def recover(self) -> list[str]:
        """Queue again the jobs of dead workers (or cancel them, if asked); returns their ids."""
        taken = []
        for orphan in workers.orphaned_jobs(self.engine, self.settings.lease_s, me=self.worker_id):
            if jobs.take_over(self.engine, orphan.job_id, orphan.owner, orphan.leases):
                log.info("took over job %s from worker %s", orphan.job_id, orphan.owner)
                taken.append(orphan.job_id)
        if taken:
            self._wake.set()
        return taken

    def shutdown(self) -> None:
        """Stop taking work, let running jobs reach their next step and release them, then leave.

        Released and queued jobs return to the queue with no owner, so a live peer (or the next
        worker to start) runs them, resuming each from its last finished step.
        """
        if self._shut:
            return
        self._shut = True
        self._stopping.set()
        self._wake.set()
        self._threads[0].join()  # no lease after this point
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._side_pool.shutdown(wait=True, cancel_futures=True)
        # The heartbeat runs until the pools are idle, so no peer takes a job over mid-step.
        self._stop.set()
        for thread in self._threads[1:]:
            thread.join()
        self.services.close()
        try:
            released = jobs.release_all(self.engine, self.worker_id)
            workers.unregister(self.engine, self.worker_id)
        except SQLAlchemyError:  # the database is gone: our jobs are taken over once our lease ends
            log.exception("could not release this worker's jobs at shutdown")
        else:
            if released:
                log.info("released %d jobs for other workers", len(released))

    def stop_at_next_step(self) -> None:
        """Running jobs stop at their next step and nothing more is leased (the interpreter exits)."""
        self._stopping.set()
        self._wake.set()

    def _pull(self) -> None:
        """Lease as many queued jobs as there are free threads and start them."""
        with self._leasing:
            free = self.settings.workers - len(self._running)
            if free <= 0 or self._stopping.is_set():
                return
            leased = jobs.lease_next(self.engine, self.worker_id, free, reserved_only=not self._adopt)
            futures = [self._pool.submit(run_job, self.services, fence) for fence in leased]
            with self._lock:
                self._running.update(zip(futures, (fence.job_id for fence in leased), strict=True))
        # Outside the lock: a job already done runs its callback right here, and it takes the lock.
        for future in futures:
            future.add_done_callback(self._job_done)
        if len(leased) == free:
            self._wake.set()  # there may be more where these came from

    def _job_done(self, future: Future) -> None:
        with self._lock:
            self._running.pop(future, None)
        if not future.cancelled() and future.exception() is not None:
            log.error("a job crashed outside its own error handling", exc_info=future.exception())
        with self._finished:
            self._finished.notify_all()
        self._wake.set()

    def _pull_forever(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(POLL_S)
            self._wake.clear()
            try:
                self._pull()
            except Exception:  # the database is away longer than a blip is redone; the next pull tries again
                log.exception("pulling queued jobs failed")
                self._stopping.wait(POLL_S)

    def _requeue_lost(self) -> None:
        """Queue again jobs processing under this worker that its pool does not run (a lease whose
        answer was lost, or a job whose run ended while the database was away)."""
        with self._leasing:
            with self._lock:
                mine = frozenset(self._running.values())
            lost = jobs.release_all(self.engine, self.worker_id, processing_only=True, keep=mine)
        if lost:
            log.warning("queued again %d jobs this worker held but did not run: %s", len(lost), lost)
            self._wake.set()

    def _tick(self) -> None:
        workers.heartbeat(self.engine, self.worker_id)
        if self._stopping.is_set():
            return
        for job_id in jobs.fail_overdue(self.engine, self.worker_id, self.settings.job_deadline_s + OVERDUE_GRACE_S):
            log.warning("job %s passed its deadline and was failed", job_id)
        self._requeue_lost()
        if not self._adopt:
            return
        self.recover()
        workers.prune(self.engine, self.settings.lease_s)
        if self._last_prune is None or time.monotonic() - self._last_prune >= PRUNE_EVERY_S:
            pruned = attempts.prune_outputs(self.engine, self.settings.keep_step_output_days)
            self._last_prune = time.monotonic()
            if pruned:
                log.info("pruned the checkpointed output of %d old step attempts", pruned)

    def _tick_forever(self) -> None:
        interval_s = max(0.2, self.settings.lease_s / 3)  # three heartbeats per lease
        # Ticks start every interval, however long the last one took, so a slow tick (a loaded
        # host, a busy database) does not push the next heartbeat towards the lease.
        next_tick = time.monotonic() + interval_s
        while not self._stop.wait(max(0.0, next_tick - time.monotonic())):
            next_tick = time.monotonic() + interval_s
            try:
                self._tick()
            except Exception:  # the database may be unreachable for a while; the next tick tries again
                log.exception("runner tick failed")


_runner: Runner | None = None
_closed = False  # set by shutdown_runner(): this process takes no more jobs
_runner_lock = threading.Lock()


def get_runner() -> Runner:
    """The process-wide runner, started (and dead workers' jobs taken over) on first use.

    Raises RuntimeError once shutdown_runner() ran: a shut-down process is not silently revived.
    """
    global _runner
    with _runner_lock:
        if _closed:
            raise RuntimeError("The job runner of this process was shut down.")
        if _runner is None:
            _runner = Runner(Settings.load())
            _runner.recover()
        return _runner


def started_runner() -> Runner | None:
    """The process-wide runner if it has started, else None; never blocks (the event loop calls it)."""
    return _runner


@atexit.register
def shutdown_runner(*, reopen: bool = False) -> None:
    """Stop the process-wide runner, if one started; it stays shut unless `reopen` (tests)."""
    global _runner, _closed
    with _runner_lock:
        if _runner is not None:
            _runner.shutdown()
            _runner = None
        _closed = not reopen


def _stop_jobs_at_exit() -> None:
    runner = _runner
    if runner is not None:
        runner.stop_at_next_step()


# concurrent.futures joins its pools' threads from a threading exit hook, which runs *before*
# atexit handlers: without this, every job the pool holds would run to its end before
# shutdown_runner() could stop it. Threading's exit hooks run last-registered first, and this
# module imported concurrent.futures above, so this one runs before the pools are joined.
threading._register_atexit(_stop_jobs_at_exit)
