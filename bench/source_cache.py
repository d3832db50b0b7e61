"""Sources: what a repeated research costs with the shared cache, against reading everything again.

Run: .venv/bin/python bench/source_cache.py [--companies 10] [--latency-ms 80]
Ten fake company sites, the fake GitHub and the keyless sources' fakes (job boards, Wikipedia,
Wikidata, Hacker News) on loopback, each reply held back `--latency-ms` to stand for a real
network, at the default per-host pacing; anonymous GitHub (no token); the offline analyzer writes the briefings,
so the model's latency is left out. Deep mode (home page, robots.txt and four linked pages).
Half the organisations are found by their name, half only through GitHub's search (their login
is not the name). Jobs run one at a time; a job's time is its row's finished_at - started_at.
"Jobs per hour" is GitHub's anonymous 60 core requests an hour over the core requests a job spent.

    before    refresh on every job: everything read again, as every job did before the cache
    first     the cache is empty (the first research of each company)
    second    the same companies again within PREP_CACHE_TTL_S
    expired   again after the TTL: every source revalidated (If-None-Match), 304s
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.request import ResearchRequest
from db.engine import make_engine
from harness.fakes.github_api import ACME_REPOS, FakeGitHub
from harness.fakes.server import Reply, Request
from harness.fakes.site import FakeSite
from harness.fakes.wiring import SourceFakes
from settings import Settings
from worker.runner import Runner

ANONYMOUS_CORE_LIMIT = 60  # GitHub's requests per hour without a token


class SlowSite(FakeSite):
    latency_s = 0.0

    def handle(self, request: Request) -> Reply:
        return replace(super().handle(request), delay_s=self.latency_s)


class SlowGitHub(FakeGitHub):
    latency_s = 0.0

    def handle(self, request: Request) -> Reply:
        return replace(super().handle(request), delay_s=self.latency_s)


@dataclass
class Phase:
    name: str
    site_requests: list[int]
    github_requests: list[int]  # every request to the API (the free /rate_limit left out)
    github_counted: list[int]  # those GitHub counts against the hourly (core) limit
    keyless_requests: list[int]  # to the job boards, Wikipedia, Wikidata and Hacker News
    job_ms: list[float]

    def row(self) -> str:
        mean = statistics.fmean
        per_hour = ANONYMOUS_CORE_LIMIT / mean(self.github_counted) if mean(self.github_counted) else float("inf")
        return (
            f"| {self.name} | {mean(self.site_requests):.1f} | {mean(self.github_requests):.1f} | "
            f"{mean(self.github_counted):.1f} | {mean(self.keyless_requests):.1f} | "
            f"{statistics.median(self.job_ms):.0f} ms | {per_hour:.0f} |"
        )


def run_phase(
    name: str, runner: Runner, sites: list[SlowSite], github: FakeGitHub, keyless: SourceFakes, **fields
) -> Phase:
    phase = Phase(name, [], [], [], [], [])
    for k, site in enumerate(sites):
        site_before, paths_before, keyless_before = len(site.requests), len(github.paths()), keyless.request_count()
        counted_before = github.counted - github.counted_search
        request = ResearchRequest(
            company_name=f"Company{k} Labs", company_url=site.url, role=f"{name} engineer", deep_mode=True, **fields
        )
        job, _ = runner.submit(request)
        done = runner.wait(job.id, timeout_s=120)
        assert done.status == "completed", done.error_message
        phase.site_requests.append(len(site.requests) - site_before)
        phase.github_requests.append(len(github.paths()) - paths_before)
        phase.github_counted.append(github.counted - github.counted_search - counted_before)
        phase.keyless_requests.append(keyless.request_count() - keyless_before)
        phase.job_ms.append((done.finished_at - done.started_at).total_seconds() * 1000)
    return phase


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    args = parser.parse_args()
    SlowSite.latency_s = SlowGitHub.latency_s = args.latency_ms / 1000
    sites = [SlowSite().start() for _ in range(args.companies)]
    github = SlowGitHub().start()
    keyless = SourceFakes().start()
    for server in keyless.servers.values():
        server.latency_s = args.latency_ms / 1000
    for k, site in enumerate(sites):
        login = f"company{k}-labs" if k % 2 == 0 else f"c{k}-hq"  # odd ones need the search
        github.add_org(login, f"Company{k} Labs", blog=site.url, repos=ACME_REPOS)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'prep.db'}",
            "GITHUB_API_URL": github.url,
            "PREP_ALLOW_PRIVATE_URLS": "1",
            "PREP_WORKERS": "2",
            **{key: value for key, value in keyless.env().items() if key != "PREP_SOURCE_HOST_INTERVAL_MS"},
        }

        def runner(ttl_s: str) -> Runner:
            settings = Settings.from_mapping({**env, "PREP_CACHE_TTL_S": ttl_s})
            return Runner(settings, engine=make_engine(settings.database_url), adopt_orphans=False)

        day = runner("86400")
        phases = [
            run_phase("before", day, sites, github, keyless, refresh=True),
        ]
        env["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'cached.db'}"  # an empty cache
        day.shutdown()
        day = runner("86400")
        phases.append(run_phase("first", day, sites, github, keyless))
        phases.append(run_phase("second", day, sites, github, keyless))
        day.shutdown()
        expired = runner("0")
        phases.append(run_phase("expired", expired, sites, github, keyless))
        expired.shutdown()
    for server in (*sites, github):
        server.stop()
    keyless.stop()

    print(
        f"sources: {args.companies} companies, deep mode, {args.latency_ms:g} ms per reply, anonymous GitHub, "
        "the keyless sources' fakes"
    )
    print("| research | site requests / job | GitHub requests / job | counted (core) / job |"
          " keyless requests / job | job time (median) | jobs per hour in 60 requests |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for phase in phases:
        print(phase.row())
    before, first, second = phases[0], phases[1], phases[2]
    ratio = statistics.median(second.job_ms) / statistics.median(before.job_ms)
    print(f"second research / before: job time {ratio:.2f}x")
    per_company = statistics.fmean(first.github_counted) + 2 * statistics.fmean(second.github_counted)
    before_per_job = statistics.fmean(before.github_counted)
    print(
        f"each company researched 3 times within the TTL: {3 * ANONYMOUS_CORE_LIMIT / per_company:.0f} jobs per hour"
        f" in one anonymous budget (before: {ANONYMOUS_CORE_LIMIT / before_per_job:.0f})"
    )


if __name__ == "__main__":
    main()
