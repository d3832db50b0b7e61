"""Drives the served app with many concurrent clients: submit, then poll every job to its end.

Shared by tests/test_load.py (a small run) and bench/load.py (500 jobs from 50 clients).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

TERMINAL = {"completed", "failed", "cancelled"}
POLL_S = 0.25


@dataclass
class LoadResult:
    """What a load run saw, client side."""

    submitted: int = 0
    job_ids: list[str] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)  # HTTP status → count, for submits not answered 202
    final: Counter = field(default_factory=Counter)  # final job status → count
    submit_ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    unfinished: list[str] = field(default_factory=list)
    resent: int = 0  # requests sent again after the server closed a kept-alive connection under them

    def percentile(self, p: float) -> float:
        """The p-th percentile of submit latency, milliseconds."""
        ordered = sorted(self.submit_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0

    def summary(self) -> str:
        """A few lines for a person."""
        return "\n".join(
            [
                f"submitted {self.submitted}, accepted {len(self.job_ids)} ({len(set(self.job_ids))} distinct ids), "
                f"rejected {dict(self.rejected) or 0}",
                f"final states {dict(self.final)}, unfinished {len(self.unfinished)}, "
                f"requests resent after a dropped keep-alive connection {self.resent}",
                f"submit latency p50 {statistics.median(self.submit_ms or [0]):.1f} ms, "
                f"p99 {self.percentile(99):.1f} ms",
                f"all {len(self.job_ids)} jobs terminal after {self.wall_s:.1f} s "
                f"({len(self.job_ids) / self.wall_s if self.wall_s else 0:.1f} jobs/s)",
            ]
        )


async def _send(client: httpx.AsyncClient, result: LoadResult, method: str, url: str, **kwargs) -> httpx.Response:
    """One request, sent once more if the server closed the kept-alive connection under it.

    Safe for the submit too: the same inputs within seconds return the same job (double-submit).
    """
    try:
        return await client.request(method, url, **kwargs)
    except (httpx.ReadError, httpx.RemoteProtocolError):
        result.resent += 1
        return await client.request(method, url, **kwargs)


async def _submit_all(client: httpx.AsyncClient, site_url: str, total: int, clients: int, result: LoadResult) -> None:
    numbers = iter(range(total))

    async def one_client() -> None:
        for n in numbers:
            began = time.perf_counter()
            body = {"companyName": f"Load Co {n}", "companyUrl": site_url, "role": "SRE"}
            response = await _send(client, result, "POST", "/api/research-direct", json=body)
            result.submit_ms.append((time.perf_counter() - began) * 1000)
            result.submitted += 1
            if response.status_code == 202:
                result.job_ids.append(response.json()["jobId"])
            else:
                result.rejected[response.status_code] += 1

    await asyncio.gather(*(one_client() for _ in range(clients)))


async def _await_all(client: httpx.AsyncClient, result: LoadResult, timeout_s: float, clients: int) -> None:
    pending = set(result.job_ids)
    give_up = time.monotonic() + timeout_s
    gate = asyncio.Semaphore(clients)

    async def status(job_id: str) -> str:
        async with gate:
            return (await _send(client, result, "GET", f"/api/research-status/{job_id}")).json()["status"]

    while pending and time.monotonic() < give_up:
        ids = list(pending)
        for job_id, state in zip(ids, await asyncio.gather(*(status(i) for i in ids)), strict=True):
            if state in TERMINAL:
                result.final[state] += 1
                pending.discard(job_id)
        if pending:
            await asyncio.sleep(POLL_S)
    result.unfinished = sorted(pending)


def drive(base_url: str, site_url: str, *, total: int, clients: int, timeout_s: float = 600.0) -> LoadResult:
    """Submit `total` distinct jobs from `clients` concurrent clients and wait for all of them."""
    result = LoadResult()

    async def main() -> None:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=base_url, timeout=60.0, limits=limits) as client:
            began = time.perf_counter()
            await _submit_all(client, site_url, total, clients, result)
            await _await_all(client, result, timeout_s, clients)
            result.wall_s = time.perf_counter() - began

    # In a thread of its own: the caller's thread may already run an event loop (Playwright's does).
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, main()).result()
    return result
