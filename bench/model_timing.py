"""Time to Claude's briefing as a real model writes it: first verified section and whole briefing.

Run: .venv/bin/python bench/model_timing.py [--rates 25,50,80] [--ttft 1.5]

One deep-mode job with a pasted job posting per writing rate, one after another, on a runner of
one worker (SQLite, in this process). The fakes run in a child process (bench/fakes_process.py);
the fake model streams a briefing the size of a real one (FakeAnthropic's `full_drafts`, about
2 300 output tokens for this job) at `rate` tokens per second after `--ttft` seconds. The site
answers each request after 0.15 s, GitHub after 0.1 s.

Columns, from polling the job's status every 0.1 s: the first time `partial` (or `results`)
holds a section; the time the job ended and which analyzer wrote the briefing; requests sent to
the model; input (uncached), cache-read/cache-write and output tokens and the cost from the
`usage` the status reports (the prices of
settings.DEFAULT_MODEL). The jobs run in order in one fake process, so later rows can read the
prompt cache the first row wrote.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.status_json import job_status
from bench.fakes_process import FakesProcess
from core.request import ResearchRequest
from db.engine import make_engine
from settings import Settings
from worker.runner import Runner

POLL_S = 0.1  # how often the status is read, seconds
POSTING = """Backend Engineer, Acme Robotics (Lyon)
- 4+ years of backend development in Python
- Experience running services on Kubernetes
- Solid knowledge of PostgreSQL
- Care for tests and code review
- Good written English"""
# Fact and advice sections of the status JSON: any of them non-empty counts as a shown section.
SECTIONS = (
    "overview", "products", "techStack", "topChallenges", "cultureInsights", "redFlags", "roleFit",
    "interviewQuestions", "preparationTips", "keyTalkingPoints", "smartQuestions", "prepChecklist",
)  # fmt: skip


def shows_a_section(briefing: dict | None) -> bool:
    """Whether a briefing (or partial one) in the status JSON holds any section with an item."""
    return bool(briefing) and any(briefing.get(name) for name in SECTIONS)


def run_one(fakes: FakesProcess, workdir: Path, rate: float, ttft_s: float) -> dict:
    """One job at `rate` tokens/s: its timings, analyzer, requests, tokens and cost."""
    fakes.set_model(ttft_s=ttft_s, tokens_per_s=rate, full_drafts=True)
    settings = Settings.from_mapping(
        {
            **fakes.env,
            "PREP_ALLOW_PRIVATE_URLS": "1",
            "PREP_CACHE_TTL_S": "0",
            "DATABASE_URL": f"sqlite:///{workdir / f'rate-{rate:g}.db'}",
            "PREP_WORKERS": "1",
        }
    )
    runner = Runner(settings, engine=make_engine(settings.database_url), adopt_orphans=False)
    before = fakes.request_counts()["llm"]
    request = ResearchRequest(
        company_name="Acme Robotics",
        company_url=fakes.site_url,
        role="Backend Engineer",
        deep_mode=True,
        job_description=POSTING,
    )
    began = time.monotonic()
    job, _ = runner.submit(request)
    first = None
    while True:
        status = job_status(runner.engine, job.id, prices=settings.prices)
        elapsed = time.monotonic() - began
        if first is None and (shows_a_section(status.get("partial")) or shows_a_section(status["briefing"])):
            first = elapsed
        if status["status"] not in ("queued", "processing"):
            break
        time.sleep(POLL_S)
    runner.shutdown()
    results = status["briefing"] or {}
    return {
        "rate": rate,
        "first": first,
        "done": elapsed,
        "status": status["status"],
        "analyzer": results.get("analysisMode", "-"),
        "requests": fakes.request_counts()["llm"] - before,
        "input": status["usage"]["inputTokens"],
        "cache_read": status["usage"]["cacheReadTokens"],
        "cache_write": status["usage"]["cacheWriteTokens"],
        "output": status["usage"]["outputTokens"],
        "cost": status["usage"]["costUsd"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="25,50,80", help="tokens per second, comma-separated")
    parser.add_argument("--ttft", type=float, default=1.5, help="seconds to the first token")
    args = parser.parse_args(argv)
    fakes = FakesProcess()
    rows = []
    try:
        fakes.set_latency({"site": 0.15, "github": 0.1})
        with tempfile.TemporaryDirectory(prefix="prep-model-bench-") as tmp:
            for rate in (float(r) for r in args.rates.split(",")):
                rows.append(run_one(fakes, Path(tmp), rate, args.ttft))
    finally:
        fakes.stop()
    print(f"model timing: deep job with a posting, TTFT {args.ttft:g} s, site 0.15 s and GitHub 0.1 s per request")
    print(
        f"{'tok/s':>6}{'first section s':>17}{'job s':>8}  {'status':<10}{'analyzer':<9}"
        f"{'requests':>9}{'input tok':>10}{'cache r/w tok':>15}{'output tok':>11}{'cost $':>9}"
    )
    for row in rows:
        first = f"{row['first']:.1f}" if row["first"] is not None else "-"
        cost = f"{row['cost']:.4f}" if row["cost"] is not None else "?"
        print(
            f"{row['rate']:>6g}{first:>17}{row['done']:>8.1f}  {row['status']:<10}{row['analyzer']:<9}"
            f"{row['requests']:>9}{row['input']:>10}{row['cache_read']:>8}/{row['cache_write']:<6}{row['output']:>11}{cost:>9}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
