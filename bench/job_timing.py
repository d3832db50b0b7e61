"""Job wall time against its critical path, and makespan against the ideal at several pool sizes.

Run: .venv/bin/python bench/job_timing.py [--jobs 200] [--workers 1,4,16,64] [--scale 1.0]

The loopback fakes answer with latency so that each step takes about 1.0 s (the website),
0.6 s (GitHub) and 1.5 s (Claude), times `--scale`: a calibration job counts the requests each
step sends, and the per-request latency is the step's budget divided by that count. The keyless
sources' fakes (job boards, Wikipedia, Wikidata, Hacker News) answer each request in 150 ms,
times `--scale`, about what those public APIs take. The fakes
run in a child process (bench/fakes_process.py), as the real services run on other machines:
in this process their Python would hold the interpreter lock the runner's threads need.

1. Critical path: five jobs one after another; each job's run time (started → finished, from its
   row) against its critical path, max(identify, scrape, GitHub, read-sources) + analysis + store,
   from the step durations its attempts recorded (the four start together; read-sources includes
   its wait for the home page, whose feed it reads). Also printed: how much later that is than
   max(scrape, GitHub), the path without the keyless sources.
2. Makespan: `--jobs` jobs submitted at once (one batch) to a runner of each pool size (SQLite, in this
   process), timed until the last one is terminal; the ideal is ceil(jobs / workers) × the
   median critical path of part 1. Every job must finish (no deadlock) within a bound. The CPU
   columns are the CPU time of this process's threads but the main one (which submits and then
   polls each job's row every 0.1 s) over the run: the runner's.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fakes_process import FakesProcess
from core.request import ResearchRequest
from core.status import JobStatus
from db import attempts, jobs
from db.engine import make_engine
from settings import Settings
from worker.runner import Runner

STEP_LATENCY_S = {"site": 1.0, "github": 0.6, "llm": 1.5}  # per step, before --scale
SOURCE_REQUEST_S = 0.15  # per request to a keyless source's fake, before --scale
SEQUENTIAL_JOBS = 5
GIVE_UP_S = 1800.0  # a run that has not finished by then is reported as stuck, seconds


def runner_env(fakes: FakesProcess) -> dict[str, str]:
    """Settings that send every job to the fakes, each reading them itself.

    With the source cache on, all but the first job of a runner would take the site and GitHub
    from the cache and the critical path would be Claude's."""
    return {**fakes.env, "PREP_ALLOW_PRIVATE_URLS": "1", "PREP_JOB_DEADLINE_S": "600", "PREP_CACHE_TTL_S": "0"}


def bench_runner(env: dict[str, str], workdir: Path, workers: int, tag: str) -> Runner:
    """A runner of `workers` threads in this process, on its own SQLite file in `workdir`."""
    settings = Settings.from_mapping(
        {**env, "DATABASE_URL": f"sqlite:///{workdir / f'{tag}.db'}", "PREP_WORKERS": str(workers)}
    )
    return Runner(settings, engine=make_engine(settings.database_url), adopt_orphans=False)


def _worker_cpu_s() -> float:
    """CPU seconds of every thread of this process but the calling one."""
    return time.process_time() - time.thread_time()


def bench_request(site_url: str, n: int) -> ResearchRequest:
    """The n-th job's request: Acme on the fake site, a distinct role so no two are deduplicated."""
    return ResearchRequest(company_name="Acme Robotics", company_url=site_url, role=f"Bench {n}")


def _critical_path_ms(runner: Runner, job_id: str) -> tuple[float, float, float]:
    """The job's run time, its critical path, and how much of that the keyless sources add, ms."""
    job = jobs.get_job(runner.engine, job_id)
    spent: dict[str, float] = {}
    for row in attempts.for_job(runner.engine, job_id):
        spent[row.step] = spent.get(row.step, 0) + (row.duration_ms or 0)
    site_and_github = max(spent["scrape-website"], spent["search-github"])
    reading = max(site_and_github, spent["identify-company"], spent["read-sources"])
    path = reading + spent["analyze-with-claude"] + spent["store-research"]
    return (job.finished_at - job.started_at).total_seconds() * 1000, path, reading - site_and_github


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", default="1,4,16,64")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the step latencies")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.workers.split(",")]

    fakes = FakesProcess()
    site = fakes.site_url
    env = runner_env(fakes)
    lines = []
    try:
        with tempfile.TemporaryDirectory(prefix="prep-bench-") as tmp:
            workdir = Path(tmp)
            calibration = bench_runner(env, workdir, 1, "calibration")
            job, _ = calibration.submit(bench_request(site, -1))
            calibration.wait(job.id)
            calibration.shutdown()
            counts = fakes.request_counts()
            latency = {name: STEP_LATENCY_S[name] * args.scale / max(1, counts[name]) for name in counts}
            latency["sources"] = SOURCE_REQUEST_S * args.scale
            fakes.set_latency(latency)
            per_request = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in latency.items())

            sequential = bench_runner(env, workdir, 1, "sequential")
            runs, paths, added = [], [], []
            for n in range(SEQUENTIAL_JOBS):
                job, _ = sequential.submit(bench_request(site, n))
                sequential.wait(job.id)
                run_ms, path_ms, added_ms = _critical_path_ms(sequential, job.id)
                runs.append(run_ms)
                paths.append(path_ms)
                added.append(added_ms)
            sequential.shutdown()
            ratios = [run / path for run, path in zip(runs, paths, strict=True)]
            critical_s = statistics.median(paths) / 1000
            lines.append(
                f"critical path: {SEQUENTIAL_JOBS} jobs, run time {statistics.median(runs):.0f} ms (median) against "
                f"its critical path {statistics.median(paths):.0f} ms: "
                f"{statistics.median(ratios):.3f}x (worst {max(ratios):.3f}x); the keyless sources end "
                f"{statistics.median(added):.0f} ms (median) after the later of the scrape and GitHub"
            )

            lines.append(
                f"{'workers':>8}{'jobs':>6}{'completed':>11}{'makespan s':>12}{'ideal s':>9}{'ideal/actual':>14}"
                f"{'CPU s':>8}{'CPU/job ms':>12}"
            )
            for workers in sizes:
                runner = bench_runner(env, workdir, workers, f"pool-{workers}")
                began, cpu_began = time.monotonic(), _worker_cpu_s()
                # All at once: one batch, queued in one transaction, so no job waits on the submitter.
                _, members = runner.submit_batch([bench_request(site, 1000 * workers + n) for n in range(args.jobs)])
                ids = [job.id for job in members]
                for job_id in ids:
                    runner.wait(job_id, timeout_s=max(1.0, GIVE_UP_S - (time.monotonic() - began)))
                makespan, cpu = time.monotonic() - began, _worker_cpu_s() - cpu_began
                done = sum(jobs.get_job(runner.engine, i).status == JobStatus.COMPLETED for i in ids)
                runner.shutdown()
                ideal = math.ceil(args.jobs / workers) * critical_s
                lines.append(
                    f"{workers:>8}{args.jobs:>6}{done:>11}{makespan:>12.1f}{ideal:>9.1f}{ideal / makespan:>14.2f}"
                    f"{cpu:>8.1f}{cpu / args.jobs * 1000:>12.1f}"
                )
    finally:
        fakes.stop()
    print(
        f"job timing, SQLite, fakes' step latencies x{args.scale} ({per_request} per request), "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
