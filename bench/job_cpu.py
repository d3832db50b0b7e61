"""CPU a research job costs this process: `python bench/job_cpu.py [--jobs 150] [--workers 4] [--runs 3]`.

The loopback fakes answer at once from a child process (bench/fakes_process.py), so the job
threads never wait on a service and the figure is the Python (and SQLite) a job runs: the
process's CPU time over the run divided by the jobs, its main thread's waiting included. Every
job reads the fakes itself (`PREP_CACHE_TTL_S=0`); runner and requests are bench/job_timing.py's.
The share of a job that holds the GIL is what bounds `PREP_WORKERS=64` in bench/job_timing.py.
Prints each run and the median.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fakes_process import FakesProcess
from bench.job_timing import bench_request, bench_runner, runner_env


def cpu_ms_per_job(env: dict[str, str], workdir: Path, jobs: int, workers: int, site_url: str) -> float:
    """Run `jobs` jobs on a fresh runner and database; the process's CPU per job, ms."""
    runner = bench_runner(env, workdir, workers, "cpu")
    try:
        began = time.process_time()
        _, members = runner.submit_batch([bench_request(site_url, n) for n in range(jobs)])
        for job in members:
            runner.wait(job.id)
        return (time.process_time() - began) * 1000 / jobs
    finally:
        runner.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=150)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    fakes = FakesProcess()
    env = runner_env(fakes)
    try:
        figures = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="prep-bench-") as tmp:
                figures.append(cpu_ms_per_job(env, Path(tmp), args.jobs, args.workers, fakes.site_url))
    finally:
        fakes.stop()
    print(
        f"job CPU, {args.jobs} jobs on {args.workers} workers, SQLite, fakes answering at once from a child "
        f"process, Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print("runs, ms CPU per job: " + ", ".join(f"{figure:.1f}" for figure in figures))
    print(f"median: {statistics.median(figures):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
