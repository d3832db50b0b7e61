"""Sources per briefing, verified claims per briefing and time per job, before and after the
keyless sources (job boards, open roles, blog, Wikipedia, Hacker News), on the fake world.

Run: .venv/bin/python bench/sources.py [--before /work/main] [--jobs 3] [--latency 0.05]
                                        [--analyzer offline|claude|both]

Runs the same jobs twice, each time in a child process of its own: once on the checkout given as
`--before` (the code without the keyless sources), once on this one; with `both` (the default),
once with each analyzer. Four kinds of job, `--jobs` of each, one after another on a runner of
two threads, the source cache off (TTL 0, so every job reads its sources): Acme with its site;
with its site in deep mode; with its site and a Lever posting URL; by name alone. `offline`: the
offline analyzer (no Anthropic key), whose every claim is a quote from a source, so verified
claims follow the sources read. `claude`: the fake Claude of each checkout's own harness, whose
default draft quotes the sources of its prompt (harness/fakes/anthropic_api.py), checked by
each checkout's verifier. Every fake answers after `--latency` seconds (a service's usual
latency). The fakes run in a grandchild process (bench/fakes_process.py). Prints, per analyzer
and kind, the jobs completed, the mean sources, verified and not verified claims per briefing
and the mean job time, before and after, the time the keyless sources add per job, and for this
checkout the job's time over its critical path (the slowest of identify ∥ scrape ∥ GitHub ∥ sources, or for
a name alone identify then the slowest of the others, then analysis and store, from its attempt
rows).
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
LEVER_POSTING = "https://jobs.lever.co/acme-lever/5f7d1c2e-9a8b-4c3d-8e2f-1a2b3c4d5e6f"
KINDS = ("site", "deep", "posting", "name only")
ANALYZERS = ("offline", "claude")


def _child(project: Path, jobs: int, latency: float, analyzer: str) -> dict:
    """Run the jobs with the code of `project` (in this process) and `analyzer`; return the figures."""
    sys.path.insert(0, str(project))
    runs_jobs = "worker" if (project / "worker").is_dir() else "engine"  # its name before the rename
    try:
        from api.status_json import job_status
    except ImportError:  # a checkout from before the API built its own JSON (bb21d4b)
        job_status = importlib.import_module(f"{runs_jobs}.status").job_status
    Runner = importlib.import_module(f"{runs_jobs}.runner").Runner
    from bench.fakes_process import FakesProcess
    from core.request import ResearchRequest
    from db import attempts
    from db import jobs as job_rows
    from db.engine import make_engine
    from settings import Settings

    fakes = FakesProcess()
    names = ("site", "github", "llm", "sources") if (project / "pipeline" / "research_sources.py").exists() else ()
    fakes.set_latency({name: latency for name in names or ("site", "github", "llm")})
    # Without the Anthropic settings the offline analyzer writes the briefings.
    env = {k: v for k, v in fakes.env.items() if analyzer == "claude" or not k.startswith("ANTHROPIC")}
    figures: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="prep-bench-") as tmp:
            settings = Settings.from_mapping(
                {**env, "DATABASE_URL": f"sqlite:///{tmp}/prep.db", "PREP_ALLOW_PRIVATE_URLS": "1",
                 "PREP_WORKERS": "2", "PREP_CACHE_TTL_S": "0"}
            )  # fmt: skip
            runner = Runner(settings, engine=make_engine(settings.database_url), adopt_orphans=False)
            try:
                for kind in KINDS:
                    rows = []
                    for n in range(jobs):
                        fields = {"company_name": "Acme Robotics", "role": f"Bench {kind} {n}"}
                        if kind != "name only":
                            fields["company_url"] = fakes.site_url
                        if kind == "deep":
                            fields["deep_mode"] = True
                        if kind == "posting":
                            fields["job_description_url"] = LEVER_POSTING
                        job, _ = runner.submit(ResearchRequest(**fields))
                        runner.wait(job.id, timeout_s=120)
                        status = job_status(runner.engine, job.id)
                        row = job_rows.get_job(runner.engine, job.id)
                        spent: dict[str, float] = {}
                        for attempt in attempts.for_job(runner.engine, job.id):
                            spent[attempt.step] = spent.get(attempt.step, 0) + (attempt.duration_ms or 0)
                        side = ["scrape-website", "search-github", "read-sources"]
                        if kind == "name only":  # the name is identified first, then the rest in parallel
                            path = spent.get("identify-company", 0) + max(spent.get(step, 0) for step in side)
                        else:
                            path = max(spent.get(step, 0) for step in [*side, "identify-company"])
                        path += spent.get("analyze-with-claude", 0) + spent.get("store-research", 0)
                        results = status["briefing"] or {}  # the verified briefing (`results` is the seed)
                        checked = results.get("verification") or {}
                        rows.append(
                            {
                                "completed": status["status"] == "completed",
                                "sources": len(results.get("sources") or []),
                                "verified": checked.get("verified", 0),
                                "dropped": checked.get("dropped", 0),
                                "ms": (row.finished_at - row.started_at).total_seconds() * 1000,
                                "path_ms": path,
                            }
                        )
                    figures[kind] = rows
            finally:
                runner.shutdown()
    finally:
        fakes.stop()
    return figures


def _mean(rows: list[dict], key: str, completed_only: bool = True) -> float:
    values = [row[key] for row in rows if row["completed"] or not completed_only]
    return statistics.mean(values) if values else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, default=Path("/work/main"), help="the checkout without them")
    parser.add_argument("--jobs", type=int, default=3, help="jobs of each kind")
    parser.add_argument("--latency", type=float, default=0.05, help="every fake's latency per request, seconds")
    parser.add_argument("--analyzer", choices=[*ANALYZERS, "both"], default="both", help="who writes the briefings")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.jobs, args.latency, args.analyzer)))
        return 0
    for analyzer in ANALYZERS if args.analyzer == "both" else (args.analyzer,):
        runs = {}
        for label, project in (("before", args.before.resolve()), ("after", HERE)):
            command = [sys.executable, str(HERE / "bench" / "sources.py"), "--child", str(project),
                       "--jobs", str(args.jobs), "--latency", str(args.latency), "--analyzer", analyzer]  # fmt: skip
            done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=True)
            runs[label] = json.loads(done.stdout.strip().splitlines()[-1])
        writer = "the offline analyzer" if analyzer == "offline" else "the fake Claude"
        print(f"{args.jobs} jobs of each kind, every fake answering after {args.latency * 1000:g} ms, {writer}")
        _table(runs)
        print()
    return 0


def _table(runs: dict[str, dict]) -> None:
    """Per kind of job: before, after, and the time the keyless sources added."""
    print(
        f"{'kind':<10} {'':>6} {'completed':>9} {'sources':>8} {'verified':>9} {'not verif.':>10} {'job ms':>8} "
        f"{'job/critical path':>18}"
    )
    for kind in KINDS:
        for label in ("before", "after"):
            rows = runs[label][kind]
            done = sum(row["completed"] for row in rows)
            ratio = _mean(rows, "ms") / _mean(rows, "path_ms") if label == "after" and done else None
            print(
                f"{kind:<10} {label:>6} {done:>5}/{len(rows):<3} {_mean(rows, 'sources'):>8.1f} "
                f"{_mean(rows, 'verified'):>9.1f} {_mean(rows, 'dropped'):>10.1f} "
                f"{_mean(rows, 'ms', completed_only=False):>8.0f} {'' if ratio is None else f'{ratio:.3f}':>18}"
            )
        before, after = runs["before"][kind], runs["after"][kind]
        if all(r["completed"] for r in before + after):
            added = _mean(after, "ms") - _mean(before, "ms")
            print(f"{kind:<10} {'added':>6} {'':>9} {'':>8} {'':>9} {'':>10} {added:>+8.0f}")


if __name__ == "__main__":
    raise SystemExit(main())
