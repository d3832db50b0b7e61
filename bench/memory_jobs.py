"""Server memory as jobs finish: `python bench/memory_jobs.py [--checkpoints 100,1000,10000]`.

Starts `streamlit run app.py` on the loopback fakes (SQLite), submits jobs through the API from
`--clients` concurrent clients, waits until each checkpoint's number of jobs has finished, and
prints the server's RSS (VmRSS from /proc/<pid>/status) there. The first checkpoint is the
baseline (imports done, pools and caches warm); later ones are compared with it.
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

from bench.page_poll import rss_mb
from tests.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic
from tests.fakes.github_api import FakeGitHub
from tests.fakes.site import FakeSite
from tests.fakes.wiring import fake_services_env
from tests.live_app import app_environment, serve_app

SETTLE_TIMEOUT_S = 1800.0  # bound on the wait for a checkpoint's jobs to finish, seconds


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
                    rows.append((target, rss_mb(app.process.pid), time.monotonic() - began))
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
    base = rows[0][1]
    print(f"{'finished jobs':>14}{'RSS MB':>9}{'vs first':>10}{'elapsed s':>11}")
    for finished, rss, elapsed in rows:
        print(f"{finished:>14}{rss:>9.1f}{(rss - base) / base:>+10.1%}{elapsed:>11.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
