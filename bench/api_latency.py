"""Latency of the JSON API as served by the real app: `python bench/api_latency.py`.

Starts `streamlit run app.py` on a loopback port, wired to loopback fakes (the Acme site, GitHub,
Anthropic) and a fresh SQLite file, then measures p50/p99 and throughput of status and submit at
1 and 50 concurrent clients, with Streamlit's own `/_stcore/health` (a route that does nothing)
in the same run as the floor, and `/api/health` (two COUNT queries) beside it. Submitted jobs
really run, on the fakes, so submit and status are measured while workers write to the same
database; the queue is drained between levels. Status is read on a completed job (the largest
reply) without `If-None-Match`, as a client that keeps no ETag would.

By default every request opens a fresh TCP connection (no keep-alive), so the figures do not
depend on TCP_NODELAY. A last line measures one keep-alive client (httpx, one connection) polling
status, the case TCP_NODELAY decides: without it each response waits ~40 ms for the client's
delayed ACK (headers and body leave as two segments).

Everything stays on 127.0.0.1 and every level sends a bounded number of requests. The load
generator shares the machine (and, per level, one asyncio loop) with the server, so absolute
numbers include client overhead; the ratios to the floor are the figures to compare across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from harness.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic  # noqa: E402
from harness.fakes.github_api import FakeGitHub  # noqa: E402
from harness.fakes.site import FakeSite  # noqa: E402
from harness.fakes.wiring import fake_services_env  # noqa: E402
from harness.live_app import app_environment, serve_app  # noqa: E402

LEVELS = (1, 50)  # concurrent clients
REQUESTS_PER_CLIENT = 20
MIN_REQUESTS = 100  # per endpoint and level
MAX_REQUESTS = 500
DRAIN_TIMEOUT_S = 180.0
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Result:
    """The latencies of one endpoint at one concurrency level."""

    endpoint: str
    clients: int
    latencies_ms: list[float]
    errors: int
    wall_s: float

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    @property
    def per_s(self) -> float:
        return len(self.latencies_ms) / self.wall_s


@contextmanager
def running_app(env: dict[str, str], workdir: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port (harness/live_app.py); its base URL."""
    served = serve_app(env, workdir)
    try:
        yield served.url
    finally:
        served.stop()


async def _measure(
    endpoint: str,
    clients: int,
    total: int,
    call: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    base: str,
    *,
    keep_alive: bool = False,
    paired: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]] | None = None,
) -> tuple[Result, Result | None]:
    """`total` calls spread over `clients` concurrent loops, each timed from send to full body;
    without `keep_alive` every call opens (and closes) its own TCP connection. With `paired`,
    each loop sends that request (the floor) after each call, so both see the same server load."""
    latencies: list[float] = []
    floor_latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients if keep_alive else 0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=REQUEST_TIMEOUT_S) as client:

        async def timed(request: Callable, n: int, into: list[float]) -> None:
            nonlocal errors
            started = time.perf_counter()
            response = await request(client, n)
            into.append((time.perf_counter() - started) * 1000)
            errors += not response.is_success

        async def one_client() -> None:
            for n in counter:
                await timed(call, n, latencies)
                if paired is not None:
                    await timed(paired, n, floor_latencies)

        await call(client, -1)  # warm the route (and a kept-alive connection); not counted
        began = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        wall_s = time.perf_counter() - began
    floor = Result("floor", clients, floor_latencies, 0, wall_s) if paired is not None else None
    return Result(endpoint, clients, latencies, errors, wall_s), floor


def _drain(base: str) -> None:
    """Wait until no job is queued or processing, so each level starts from an idle server."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        health = httpx.get(f"{base}/api/health", timeout=REQUEST_TIMEOUT_S).json()
        if health["queued"] == 0 and health["processing"] == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"jobs still running after {DRAIN_TIMEOUT_S} s")


def run(site_url: str, base: str, levels: tuple[int, ...]) -> tuple[list[tuple[Result, Result]], Result, Result]:
    """Every endpoint at every level, alone (throughput) then interleaved with the floor (latency
    against the floor under the same load), then one keep-alive client on the floor and status."""
    body = {"companyName": "Acme Robotics", "companyUrl": site_url, "role": "Backend Engineer"}
    job_id = httpx.post(f"{base}/api/research-direct", json=body).json()["jobId"]
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while httpx.get(f"{base}/api/research-status/{job_id}").json()["status"] != "completed":
        if time.monotonic() > deadline:
            raise RuntimeError("the reference job did not complete")
        time.sleep(0.2)

    def floor(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
        return client.get("/_stcore/health")

    def api_health(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
        return client.get("/api/health")

    def status(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
        return client.get(f"/api/research-status/{job_id}")

    roles = itertools.count()

    def submit(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
        # Distinct inputs across every phase: each submit creates a job, none is found as the
        # double of one sent within the dedupe window (a phase often starts within 5 s of the last).
        return client.post("/api/research-direct", json={**body, "role": f"Bench {next(roles)}"})

    results = []
    for clients in levels:
        _drain(base)
        total = max(MIN_REQUESTS, min(MAX_REQUESTS, clients * REQUESTS_PER_CLIENT))
        alone_floor = asyncio.run(_measure("floor", clients, total, floor, base))[0]
        for name, call in (("api-health", api_health), ("status", status), ("submit", submit)):
            _drain(base)
            alone = asyncio.run(_measure(name, clients, total, call, base))[0]
            _drain(base)
            mixed, paired_floor = asyncio.run(_measure(name, clients, total, call, base, paired=floor))
            results.append((alone, alone_floor, mixed, paired_floor))
    _drain(base)
    kept_floor = asyncio.run(_measure("floor", 1, MIN_REQUESTS, floor, base, keep_alive=True))[0]
    kept_status = asyncio.run(_measure("status", 1, MIN_REQUESTS, status, base, keep_alive=True))[0]
    return results, kept_floor, kept_status


def report(results: list[tuple[Result, ...]], kept_floor: Result, kept_status: Result) -> str:
    """Per endpoint and level: p50/p99 and the floor's, measured interleaved (same load), with
    the ratios; then throughput alone against the floor's alone."""
    lines = [
        f"{'endpoint':<11}{'clients':>8}{'requests':>9}{'errors':>7}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'floor p50':>10}{'floor p99':>10}{'p50/floor':>10}{'p99/floor':>10}{'req/s':>7}{'floor req/s':>12}"
        f"{'req/s/floor':>12}{'alone p50/p99 ms':>18}",
    ]
    for alone, alone_floor, mixed, floor in results:
        lines.append(
            f"{mixed.endpoint:<11}{mixed.clients:>8}{len(mixed.latencies_ms):>9}{mixed.errors + alone.errors:>7}"
            f"{mixed.p50:>8.1f}{mixed.p99:>8.1f}{floor.p50:>10.1f}{floor.p99:>10.1f}"
            f"{mixed.p50 / floor.p50:>10.2f}{mixed.p99 / floor.p99:>10.2f}"
            f"{alone.per_s:>7.0f}{alone_floor.per_s:>12.0f}{alone.per_s / alone_floor.per_s:>12.2f}"
            f"{f'{alone.p50:.1f} / {alone.p99:.1f}':>18}"
        )
    lines.append(
        f"keep-alive, 1 client, one connection: floor p50 {kept_floor.p50:.2f} ms, "
        f"status p50 {kept_status.p50:.2f} ms (p99 {kept_status.p99:.2f} ms, {kept_status.errors} errors)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrent clients, comma-separated")
    parser.add_argument("--workers", default="4", help="PREP_WORKERS of the app under test")
    args = parser.parse_args(argv)
    levels = tuple(int(level) for level in args.levels.split(","))

    site, github, anthropic = FakeSite().start(), FakeGitHub().start(), FakeAnthropic(api_key=DEFAULT_KEY).start()
    wired = fake_services_env(site, github, anthropic)
    try:
        with tempfile.TemporaryDirectory(prefix="prep-bench-") as tmp:
            env = app_environment(Path(tmp), {**wired, "PREP_WORKERS": args.workers})
            with running_app(env, Path(tmp)) as base:
                started = time.monotonic()
                results, kept_floor, kept_status = run(site.url, base, levels)
                elapsed = time.monotonic() - started
    finally:
        for fake in (site, github, anthropic):
            fake.stop()
    print(
        f"API latency, streamlit run app.py on 127.0.0.1, SQLite, PREP_WORKERS={args.workers}, "
        f"a fresh connection per request, floor = /_stcore/health, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {elapsed:.0f} s"
    )
    print(report(results, kept_floor, kept_status))
    return 0


if __name__ == "__main__":
    sys.exit(main())
