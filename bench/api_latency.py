"""Latency of the JSON API as served by the real app: `python bench/api_latency.py`.

Starts `streamlit run app.py` on a loopback port, wired to loopback fakes (the Acme site, GitHub,
Anthropic) and a fresh SQLite file, then measures p50/p99 of submit and status at 1, 10 and 50
concurrent clients, with /api/health in the same run as the floor (a route that does two COUNT
queries and nothing else). Submitted jobs really run, on the fakes, so submit and status are
measured while workers write to the same database; the queue is drained between levels.

Everything stays on 127.0.0.1 and every level sends a bounded number of requests. The load
generator shares the machine (and, per level, one asyncio loop) with the server, so absolute
numbers include client overhead; the ratios to health are the figures to compare across runs.

`--tcp-nodelay` starts the app with a sitecustomize on PYTHONPATH that sets TCP_NODELAY on
Streamlit's listening socket (Linux copies it to accepted connections). Streamlit 1.67 creates
that socket with proto 0, so asyncio never sets TCP_NODELAY on its connections, and every
response on a keep-alive connection waits ~40 ms for the client's delayed ACK (headers and body
leave as two segments).
The flag measures what the app would do without that; it changes nothing in the app itself.
"""

from __future__ import annotations

import argparse
import asyncio
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

from tests.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic  # noqa: E402
from tests.fakes.github_api import FakeGitHub  # noqa: E402
from tests.fakes.site import FakeSite  # noqa: E402
from tests.fakes.wiring import fake_services_env  # noqa: E402
from tests.live_app import app_environment, serve_app  # noqa: E402

LEVELS = (1, 10, 50)  # concurrent clients
REQUESTS_PER_CLIENT = 20
MIN_REQUESTS = 100  # per endpoint and level
MAX_REQUESTS = 500
DRAIN_TIMEOUT_S = 180.0
REQUEST_TIMEOUT_S = 30.0

# Put on the server's PYTHONPATH by --tcp-nodelay: TCP_NODELAY on Streamlit's listening socket.
NODELAY_SITECUSTOMIZE = """
import socket
from streamlit.web.server.starlette import starlette_server as server
_bind = server._bind_socket
def _bind_nodelay(*args, **kwargs):
    sock = _bind(*args, **kwargs)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock
server._bind_socket = _bind_nodelay
"""


@dataclass(frozen=True)
class Result:
    """The latencies of one endpoint at one concurrency level."""

    endpoint: str
    clients: int
    latencies_ms: list[float]
    errors: int

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


@contextmanager
def running_app(env: dict[str, str], workdir: Path, *, tcp_nodelay: bool = False) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port (tests/live_app.py); its base URL."""
    if tcp_nodelay:
        patch_dir = workdir / "nodelay"
        patch_dir.mkdir()
        (patch_dir / "sitecustomize.py").write_text(NODELAY_SITECUSTOMIZE)
        env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(patch_dir), env.get("PYTHONPATH")]))}
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
) -> Result:
    """`total` calls spread over `clients` concurrent loops, each timed from send to full body."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=REQUEST_TIMEOUT_S) as client:

        async def one_client() -> None:
            nonlocal errors
            for n in counter:
                started = time.perf_counter()
                response = await call(client, n)
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not response.is_success

        await call(client, -1)  # warm a connection; not counted
        await asyncio.gather(*(one_client() for _ in range(clients)))
    return Result(endpoint, clients, latencies, errors)


def _drain(base: str) -> None:
    """Wait until no job is queued or processing, so each level starts from an idle server."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        health = httpx.get(f"{base}/api/health", timeout=REQUEST_TIMEOUT_S).json()
        if health["queued"] == 0 and health["processing"] == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"jobs still running after {DRAIN_TIMEOUT_S} s")


def run(site_url: str, base: str, levels: tuple[int, ...]) -> list[Result]:
    """Every endpoint at every level; status is polled on a completed job (the largest reply)."""
    body = {"companyName": "Acme Robotics", "companyUrl": site_url, "role": "Backend Engineer"}
    job_id = httpx.post(f"{base}/api/research-direct", json=body).json()["jobId"]
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while httpx.get(f"{base}/api/research-status/{job_id}").json()["status"] != "completed":
        if time.monotonic() > deadline:
            raise RuntimeError("the reference job did not complete")
        time.sleep(0.2)

    def health(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
        return client.get("/api/health")

    def status(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
        return client.get(f"/api/research-status/{job_id}")

    def submit(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
        role = f"Bench {clients} {n}"  # distinct inputs: every submit creates a job, none is a double
        return client.post("/api/research-direct", json={**body, "role": role})

    results = []
    for clients in levels:
        _drain(base)
        total = max(MIN_REQUESTS, min(MAX_REQUESTS, clients * REQUESTS_PER_CLIENT))
        for name, call in (("health", health), ("status", status), ("submit", submit)):
            results.append(asyncio.run(_measure(name, clients, total, call, base)))
    return results


def report(results: list[Result]) -> str:
    """A table of p50/p99 per endpoint and level, and each one's ratio to health at that level."""
    floor = {r.clients: r for r in results if r.endpoint == "health"}
    lines = [
        f"{'endpoint':<9}{'clients':>8}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'p50/health':>12}{'p99/health':>12}",
    ]
    for r in results:
        base = floor[r.clients]
        lines.append(
            f"{r.endpoint:<9}{r.clients:>8}{len(r.latencies_ms):>10}{r.errors:>8}{r.p50:>9.1f}{r.p99:>9.1f}"
            f"{r.p50 / base.p50:>12.2f}{r.p99 / base.p99:>12.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="concurrent clients, comma-separated")
    parser.add_argument("--workers", default="4", help="PREP_WORKERS of the app under test")
    parser.add_argument("--tcp-nodelay", action="store_true", help="set TCP_NODELAY on the server's socket")
    args = parser.parse_args(argv)
    levels = tuple(int(level) for level in args.levels.split(","))

    site, github, anthropic = FakeSite().start(), FakeGitHub().start(), FakeAnthropic(api_key=DEFAULT_KEY).start()
    wired = fake_services_env(site, github, anthropic)
    try:
        with tempfile.TemporaryDirectory(prefix="prep-bench-") as tmp:
            env = app_environment(Path(tmp), {**wired, "PREP_WORKERS": args.workers})
            with running_app(env, Path(tmp), tcp_nodelay=args.tcp_nodelay) as base:
                started = time.monotonic()
                results = run(site.url, base, levels)
                elapsed = time.monotonic() - started
    finally:
        for fake in (site, github, anthropic):
            fake.stop()
    print(
        f"API latency, streamlit run app.py on 127.0.0.1, SQLite, PREP_WORKERS={args.workers}, "
        f"TCP_NODELAY {'on' if args.tcp_nodelay else 'off (as shipped)'}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {elapsed:.0f} s"
    )
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
