"""Server memory as jobs finish: `python bench/memory_jobs.py [--checkpoints 100,1000,10000]`.

Starts `streamlit run app.py` on the loopback fakes (SQLite), submits jobs through the API from
`--clients` concurrent clients, waits until each checkpoint's number of jobs has finished, and
prints the server's RSS there (VmRSS from /proc/<pid>/status, with its anonymous / file-backed /
shared split) and the size of the SQLite file and its WAL. The first checkpoint is the baseline
(imports done, pools and caches warm); later ones are compared with it and with the second (the
issue's target compares 1 000 and 10 000 finished jobs). Where the memory goes (glibc's heap,
Python's arenas, SQLite, live objects): run it with bench/memory_hook/ on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic
from harness.fakes.github_api import FakeGitHub
from harness.fakes.site import FakeSite
from harness.fakes.wiring import fake_services_env
from harness.live_app import app_environment, serve_app

SETTLE_TIMEOUT_S = 1800.0  # bound on the wait for a checkpoint's jobs to finish, seconds
MEMORY_FIELDS = ("VmRSS", "RssAnon", "RssFile", "RssShmem")  # from /proc/<pid>/status, kB


def memory_mb(pid: int) -> dict[str, float]:
    """The process's resident memory and its split, MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return {name: int(fields[name].split()[0]) / 1024 for name in MEMORY_FIELDS}


def files_mb(database: Path) -> float:
    """The SQLite file and its WAL, MB."""
    return (
        sum(path.stat().st_size for path in (database, database.with_name(database.name + "-wal")) if path.exists())
        / 2**20
    )


async def _submit(base: str, site_url: str, numbers: range, clients: int) -> None:
    """Submit one job per number, `clients` at a time; every one must be accepted."""
    pending = iter(numbers)
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:

        async def one_client() -> None:
            for n in pending:
                body = {"companyName": "Acme Robotics", "companyUrl": site_url, "role": f"Memory {n}"}
                response = await client.post("/api/research-direct", json=body)
                if response.status_code != 202:
                    raise RuntimeError(f"submit {n}: {response.status_code} {response.text}")

        await asyncio.gather(*(one_client() for _ in range(clients)))


def _settle(base: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while True:
        health = httpx.get(f"{base}/api/health", timeout=30.0).json()
        if health["queued"] == 0 and health["processing"] == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"jobs still running after {SETTLE_TIMEOUT_S} s: {health}")
        time.sleep(1.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", default="100,1000,10000", help="finished jobs at which RSS is read")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", default="8")
    args = parser.parse_args(argv)
    checkpoints = [int(n) for n in args.checkpoints.split(",")]

    site, github, llm = FakeSite().start(), FakeGitHub().start(), FakeAnthropic(api_key=DEFAULT_KEY).start()
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="prep-bench-") as tmp:
            env = app_environment(Path(tmp), {**fake_services_env(site, github, llm), "PREP_WORKERS": args.workers})
            app = serve_app(env, Path(tmp))
            try:
                done, began = 0, time.monotonic()
                for target in checkpoints:
                    asyncio.run(_submit(app.url, site.url, range(done, target), args.clients))
                    _settle(app.url)
                    done = target
                    rows.append(
                        (target, memory_mb(app.process.pid), files_mb(Path(tmp) / "prep.db"), time.monotonic() - began)
                    )
                    site.reset()  # the fakes keep every request; memory of the bench, not the app
                    github.reset()
                    llm.reset()
                    fake_services_env(site, github, llm)
            finally:
                app.stop()
    finally:
        for fake in (site, github, llm):
            fake.stop()
    print(
        f"server RSS as jobs finish, streamlit run app.py, SQLite, PREP_WORKERS={args.workers}, "
        f"{args.clients} clients, Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    first, second = rows[0][1]["VmRSS"], rows[min(1, len(rows) - 1)][1]["VmRSS"]
    print(
        f"{'finished jobs':>14}{'RSS MB':>9}{'vs first':>10}{'vs second':>11}"
        f"{'anon MB':>9}{'file MB':>9}{'shmem MB':>10}{'db+wal MB':>11}{'elapsed s':>11}"
    )
    for finished, memory, database, elapsed in rows:
        rss = memory["VmRSS"]
        print(
            f"{finished:>14}{rss:>9.1f}{(rss - first) / first:>+10.1%}{(rss - second) / second:>+11.1%}"
            f"{memory['RssAnon']:>9.1f}{memory['RssFile']:>9.1f}{memory['RssShmem']:>10.1f}{database:>11.1f}{elapsed:>11.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
