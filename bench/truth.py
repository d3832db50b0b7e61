"""Truth: whole jobs over 12 company sites of our own making, with a fake Claude that lies in a
known share of its claims. Counts what verification lets through and what it wrongly drops.

Run: .venv/bin/python bench/truth.py [--lie-share 0.3] [--rounds 3] [--seed 7]
Prints claims made, invented claims shown as fact (target 0), true claims dropped (target <= 5 %),
and the time verification takes per job next to the job's whole run time, measured in this run.

The fake Claude knows each site's true facts (sentences, technologies, salary) and, per claim,
tells the truth (quoting it verbatim or with changed case, spacing, curly quotes or dashes) or
lies in one of five ways: a quote found nowhere, a real quote filed under the other page's id,
a technology its quote does not name, a salary its quote does not state, a product its quote
does not name. Lies that are true statements with a real but irrelevant quote are beyond what
quote checking can catch and are not generated; docs/verification.md says so.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.status_json import job_status
from core.request import ResearchRequest
from db import attempts
from db.engine import make_engine
from harness.fakes.anthropic_api import FakeAnthropic
from harness.fakes.github_api import FakeGitHub
from harness.fakes.server import FakeServer, Reply, Request
from pipeline.models import BriefingDraft, GitHubData, ScrapedSite
from pipeline.sources import collect_sources
from pipeline.verify import canonical, verify_draft
from settings import Settings
from worker.runner import Runner

TIMING_REPEATS = 20


@dataclass
class Company:
    """A site of our own making and its true facts."""

    slug: str
    name: str
    charset: str
    home: list[str]
    about: list[str]
    tech: list[str]  # technologies its sentences say it uses (as a candidate would name them)
    products: list[str]  # offerings named in its sentences
    salary: tuple[int, int, str] | None = None  # (min, max, the sentence stating it)


COMPANIES = [
    Company("acme", "Acme Robotics", "utf-8",
            ["Acme Robotics makes sorting robots for warehouses.",
             "Our fleet software is written in Python and runs on Kubernetes.",
             "The Acme Sorter moves 2,000 parcels an hour."],
            ["We're a team of 120 people in Lyon.", "Backend engineers earn $120,000 to $150,000 a year."],
            ["Python", "Kubernetes"], ["Acme Sorter"],
            (120_000, 150_000, "Backend engineers earn $120,000 to $150,000 a year.")),
    Company("brot", "Brotwerk", "windows-1252",
            ["Brotwerk liefert Backwaren an Cafés in München.",
             "Unsere Bestellplattform läuft auf PostgreSQL und wird in Go geschrieben.",
             "Die Brotwerk App zeigt jede Lieferung live."],
            ["„Wir backen ehrlich“, sagt die Gründerin.", "Entwickler verdienen 70.000 € bis 85.000 € im Jahr."],
            ["Postgres", "Golang"], ["Brotwerk App"],
            (70_000, 85_000, "Entwickler verdienen 70.000 € bis 85.000 € im Jahr.")),
    Company("sakura", "Sakura Logistics", "shift_jis",
            ["サクラ物流は倉庫の自動化を行っています。", "Our routing service is built with Rust and uses Redis."],
            ["私たちは東京にあるチームです。"], ["Rust", "Redis"], []),
    Company("lumen", "Lumen Health", "utf-8",
            ["Lumen Health builds patient scheduling for clinics.",
             "The Lumen Scheduler books appointments in seconds.",
             "Our stack: TypeScript on the front end, Node.js services, and MongoDB."],
            ["Trusted by Swift Clinics, React Labs and Snowflake Partners.", "We work remote-first across Europe."],
            ["TypeScript", "Node.js", "MongoDB"], ["Lumen Scheduler"]),
    Company("fjord", "Fjord Energy", "utf-8",
            ["Fjord Energy balances wind farms against the grid.",
             "Forecasts run on k8s clusters and are written in Scala."],
            ["Engineers earn NOK 750 000 to 900 000 a year.", "We value ownership and honest feedback."],
            ["k8s", "Scala"], [], (750_000, 900_000, "Engineers earn NOK 750 000 to 900 000 a year.")),
    Company("pampa", "Pampa Pay", "utf-8",
            ["Pampa Pay procesa pagos para comercios en Argentina.",
             "Nuestro backend usa Java y Kafka para cada transacción.",
             "La app Pampa Wallet guarda tus tarjetas."],
            ["Somos un equipo diverso e inclusivo."], ["Java", "Kafka"], ["Pampa Wallet"]),
    Company("verre", "Verre Studio", "iso-8859-1",
            ["Verre Studio conçoit des applications pour les musées.",
             "Nos applications iOS sont écrites en Swift."],
            ["L'équipe compte douze personnes à Lyon.", "Les développeurs gagnent 45k à 55k EUR par an."],
            ["Swift"], [], (45_000, 55_000, "Les développeurs gagnent 45k à 55k EUR par an.")),
    Company("orbit", "Orbit Analytics", "utf-8",
            ["Orbit Analytics turns satellite images into crop forecasts.",
             "Our models are trained with PyTorch and served with FastAPI.",
             "Orbit Insights gives farmers a weekly report."],
            ["We hire people who like learning in public."], ["PyTorch", "FastAPI"], ["Orbit Insights"]),
    Company("tide", "Tide Games", "utf-8",
            ["Tide Games makes mobile puzzle games.", "The engine is written in C++ and the tools in C#."],
            ["Artists and engineers sit together.", "Salaries for engineers range from £60,000 to £75,000."],
            ["C++", "C#"], [], (60_000, 75_000, "Salaries for engineers range from £60,000 to £75,000.")),
    Company("quill", "Quill Docs", "utf-8",
            ["Quill Docs is a collaborative editor for lawyers.",
             "The editor runs on React in the browser and Elixir on the server.",
             "Quill Review lets two firms redline one contract."],
            ["Our culture is calm and written-first."], ["React", "Elixir"], ["Quill Review"]),
    Company("nimbus", "Nimbus Cloud", "utf-8",
            ["Nimbus Cloud hosts databases for small shops.",
             "Everything is deployed with Terraform on AWS.",
             "Nimbus Backup keeps thirty days of snapshots."],
            ["We publish our salaries: engineers earn CHF 110,000–130,000."],
            ["Terraform", "AWS"], ["Nimbus Backup"],
            (110_000, 130_000, "We publish our salaries: engineers earn CHF 110,000–130,000.")),
    Company("kiln", "Kiln Ceramics", "utf-8",
            ["Kiln Ceramics sells handmade tableware online.", "Our shop is built on Django and uses Redis for carts."],
            ["Every potter owns their collection."], ["Django", "Redis"], []),
]  # fmt: skip

FAKE_QUOTES = ["Our platform is trusted by every bank in the world.", "We process a billion events a second."]
FAKE_TECH = ["Haskell", "Cobol", "Erlang", "Fortran"]


def page_html(company: Company, title: str, sentences: list[str], link_about: bool) -> bytes:
    link = f'<a href="/{company.slug}/about">About</a>' if link_about else ""
    body = "".join(f"<p>{s}</p>" for s in sentences)
    html = (
        f'<html><head><meta charset="{company.charset}"><title>{title}</title></head>'
        f"<body><nav>{link}</nav><h1>{title}</h1>{body}</body></html>"
    )
    return html.encode(company.charset)


class Sites(FakeServer):
    """Every company's home page at /<slug>/ and its about page at /<slug>/about."""

    def handle(self, request: Request) -> Reply:
        if request.path == "/robots.txt":
            return Reply(200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})
        for company in COMPANIES:
            if request.path == f"/{company.slug}/":
                return Reply(200, page_html(company, company.name, company.home, True), {"Content-Type": "text/html"})
            if request.path == f"/{company.slug}/about":
                html = page_html(company, f"About {company.name}", company.about, False)
                return Reply(200, html, {"Content-Type": "text/html"})
        return Reply(404, b"no", {"Content-Type": "text/html"})


@dataclass
class Ledger:
    """What the fake Claude claimed, and which claims were lies."""

    truth: dict[tuple[str, str], bool] = field(default_factory=dict)  # (company, claim key) -> is a lie
    drafts: dict[str, dict] = field(default_factory=dict)


def _key(section: str, text: str) -> str:
    return f"{section}:{canonical(text).casefold() if section == 'techStack' else text}"


def variant(quote: str, rng: random.Random) -> str:
    """The quote as a model might copy it: exact, or with changed case, spacing, quotes or dashes."""
    return rng.choice(
        [
            lambda q: q,
            lambda q: q.upper(),
            lambda q: q.replace(" ", "  "),
            lambda q: q.replace("'", "’").replace('"', "“"),
            lambda q: q.replace("–", "-").replace("„", '"').replace("“", '"'),
        ]
    )(quote)


class LyingClaude(FakeAnthropic):
    """A fake Claude that knows the truth about every company and lies in a known share of claims."""

    def __init__(self, ledger: Ledger, lie_share: float, seed: int) -> None:
        super().__init__()
        self.ledger, self.lie_share, self.rng = ledger, lie_share, random.Random(seed)

    def handle(self, request: Request) -> Reply:
        body = request.json()
        prompt = "\n".join(
            b.get("text", "") if isinstance(b, dict) else str(b)
            for m in body.get("messages", [])
            for b in (m["content"] if isinstance(m["content"], list) else [{"text": m["content"]}])
        )
        company = next(c for c in COMPANIES if f"Company: {c.name}\n" in prompt)
        ids = {m.group(2): m.group(1) for m in re.finditer(r"^--- Source (S\d+) \(page\): (\S+)$", prompt, re.M)}
        home = next(sid for url, sid in ids.items() if url.endswith(f"/{company.slug}/"))
        about = next(sid for url, sid in ids.items() if url.endswith("/about"))
        draft = self.draft_for(company, home, about)
        self.ledger.drafts[company.name] = draft
        self.enqueue(draft)
        return super().handle(request)

    def draft_for(self, company: Company, home: str, about: str) -> dict:
        rng = self.rng
        draft = FakeAnthropic.draft(company.name)
        draft.update(overview=[], products=[], techStack=[], cultureInsights=[], salary=None, salaryEstimate=None)

        def record(section: str, text: str, lie: bool) -> None:
            self.ledger.truth[(company.name, _key(section, text))] = lie

        def add(section: str, text: str, source: str, quote: str, lie: bool) -> None:
            draft[section].append({"text": text, "evidence": [{"source": source, "quote": quote}]})
            record(section, text, lie)

        for n, sentence in enumerate(company.home[:2]):
            if rng.random() < self.lie_share:
                kind = rng.choice(["invented", "wrong-source"])
                if kind == "invented":
                    add("overview", f"{FAKE_QUOTES[n % 2]} ({company.slug})", home, FAKE_QUOTES[n % 2], True)
                else:
                    add("overview", f"Stated on the about page: {sentence}", about, sentence, True)
            else:
                add("overview", sentence, home, variant(sentence, rng), False)
        for sentence in company.about:
            if company.salary and sentence == company.salary[2]:
                continue
            if rng.random() < self.lie_share:
                add("cultureInsights", f"On the home page: {sentence}", home, sentence, True)
            else:
                add("cultureInsights", sentence, about, variant(sentence, rng), False)
        for tech in company.tech:
            sentence = next(s for s in company.home + company.about if tech in s or canonical(tech) in s)
            source = home if sentence in company.home else about
            if rng.random() < self.lie_share:
                add("techStack", rng.choice(FAKE_TECH), source, sentence, True)
            else:
                add("techStack", tech, source, variant(sentence, rng), False)
        for product in company.products:
            sentence = next(s for s in company.home if product in s)
            if rng.random() < self.lie_share:
                add("products", f"{company.name.split()[0]} Hyperdrive", home, company.home[0], True)
            else:
                add("products", product, home, variant(sentence, rng), False)
        if company.salary:
            low, high, sentence = company.salary
            lie = rng.random() < self.lie_share
            figures = (low * 2, high * 2) if lie else (low, high)
            draft["salary"] = {
                "min": figures[0],
                "max": figures[1],
                "currency": "?",
                "evidence": [{"source": about, "quote": sentence}],
            }
            record("salary", "salary", lie)
        return draft


def classify(company: str, results: dict, ledger: Ledger) -> tuple[int, int, int, int]:
    """(claims, lies, lies shown as fact, true claims dropped) for one job."""
    claims = {key: lie for (name, key), lie in ledger.truth.items() if name == company}
    shown = {
        _key(section, item["text"])
        for section in ("overview", "products", "techStack", "cultureInsights")
        for item in results[section]
    }
    if results["salarySource"] == "source":
        shown.add(_key("salary", "salary"))
    lies_through = sum(1 for key, lie in claims.items() if lie and key in shown)
    for key, lie in claims.items():
        if lie and key in shown:
            print(f"  through ({company}): {key}")
    truths_dropped = sum(1 for key, lie in claims.items() if not lie and key not in shown)
    return len(claims), sum(claims.values()), lies_through, truths_dropped


def verification_ms(engine, job_id: str, draft: dict) -> float:
    """Median time to verify this job's draft against its sources, in milliseconds."""
    checkpoints = attempts.checkpoints(engine, job_id)
    site = ScrapedSite.model_validate(checkpoints["scrape-website"])
    github = GitHubData.model_validate(checkpoints.get("search-github") or {})
    model = BriefingDraft.model_validate(draft)
    timings = []
    for _ in range(TIMING_REPEATS):
        clock = time.perf_counter()
        verify_draft(model, collect_sources(site, github), github)
        timings.append((time.perf_counter() - clock) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lie-share", type=float, default=0.3)
    parser.add_argument("--rounds", type=int, default=3, help="jobs per company")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    ledger = Ledger()
    sites, github = Sites().start(), FakeGitHub().start()
    llm = LyingClaude(ledger, args.lie_share, args.seed).start()
    totals = [0, 0, 0, 0]
    verify_ms, job_ms = [], []
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp}/truth.db",
            "GITHUB_API_URL": github.url,
            "GITHUB_TOKEN": "test-token",
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": llm.url,
            "PREP_ALLOW_PRIVATE_URLS": "1",
            "PREP_WORKERS": "2",
        }
        settings = Settings.from_mapping(env)
        engine = make_engine(settings.database_url)
        runner = Runner(settings, engine=engine)
        try:
            for round_ in range(args.rounds):
                for company in COMPANIES:
                    request = ResearchRequest(
                        company_name=company.name,
                        company_url=f"{sites.url}/{company.slug}/",
                        role=f"Engineer {round_}",  # a new job each round, not the twin of the last one
                        deep_mode=True,
                    )
                    job, _ = runner.submit(request)
                    runner.wait(job.id, timeout_s=60)
                    status = job_status(engine, job.id)
                    if status["status"] != "completed" or status["briefing"]["analysisMode"] != "claude":
                        raise SystemExit(f"{company.name}: {status['status']}: {status['message']}")
                    counts = classify(company.name, status["briefing"], ledger)
                    totals = [a + b for a, b in zip(totals, counts, strict=True)]
                    verify_ms.append(verification_ms(engine, job.id, ledger.drafts[company.name]))
                    steps = {s["id"]: s["durationMs"] for s in status["steps"]}
                    job_ms.append(sum(steps.values()))
                    ledger.truth = {k: v for k, v in ledger.truth.items() if k[0] != company.name}
        finally:
            runner.shutdown()
    for server in (sites, github, llm):
        server.stop()
    claims, lies, through, dropped = totals
    truths = claims - lies
    jobs = len(job_ms)
    print(f"truth: {jobs} jobs over {len(COMPANIES)} sites, fake Claude lying in {args.lie_share:.0%} of claims")
    print(f"claims made: {claims} ({lies} lies, {truths} true)")
    print(f"invented claims shown as fact: {through} of {lies}")
    print(f"true claims wrongly dropped: {dropped} of {truths} ({dropped / max(truths, 1):.1%})")
    median_verify, median_job = statistics.median(verify_ms), statistics.median(job_ms)
    print(
        f"verification per job: median {median_verify:.2f} ms; the job's steps took median {median_job:.0f} ms "
        f"({median_verify / max(median_job, 1e-9):.2%} of it)"
    )
    print(json.dumps({"claims": claims, "lies": lies, "liesThrough": through, "truthsDropped": dropped}))


if __name__ == "__main__":
    main()
