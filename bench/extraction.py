"""Extraction: how much of each corpus page's main content reaches the model, and how much boilerplate.

Run: .venv/bin/python bench/extraction.py [--before REV] [--rounds 3]

The corpus (tests/corpus/, see its README) is served on 127.0.0.1 as company sites and postings.
For each page, the text the model is shown is the page's block in the prompt `build_prompt`
writes (company pages: `scrape_website`; postings: `read_posting`). Printed per reader: main
reached (share of the annotated main-content snippets found in that text), boilerplate reached
(share of the annotated boilerplate snippets found), ms a page (fetch from 127.0.0.1 and
extraction), and offline junk (calls to action, navigation, thanks, annotated boilerplate or
statements cut mid-sentence among the offline analyzer's products and overview statements, per
company briefing); then, for the project readers, the seconds `extract_page` takes on bad input
(deep nesting, binary, 5 MB of text, 60 000 paragraphs). Times are medians of --rounds, the
readers' rounds interleaved. Readers, measured in this one run:
  before      the project at --before (default: the commit before this reading path), from `git archive`
  after       the project in this working tree
  trafilatura trafilatura.extract(html) alone (Markdown, tables), under the same page budget
Snippets match after `pipeline.verify.normalise` (case, whitespace, typographic quotes).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
DEFAULT_BEFORE = "e8c2831"
# What the offline analyzer must never offer as a product or an overview statement.
JUNK = (
    r"^(?:read more|learn more|mehr erfahren|sign up|get started|start free|contact|book a demo|see |view |watch |"
    r"join |subscribe|thank|apply|jetzt )|\bread more\b|\blearn more\b"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git revision measured as 'before'")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reader", help=argparse.SUPPRESS)  # internal: measure one reader in this process
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        print(json.dumps(_measure(args.reader, Path(args.root), args.rounds)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before], capture_output=True, check=True)
        tarfile.open(fileobj=BytesIO(archive.stdout)).extractall(tmp, filter="data")
        readers = [
            ("before", "project", Path(tmp), args.before),
            ("after", "project", ROOT, "this tree"),
            ("trafilatura", "trafilatura", ROOT, "trafilatura.extract alone"),
        ]
        # Rounds interleave the readers, so that a busy moment of the machine weighs on all of them.
        runs: dict[str, list[dict]] = {name: [] for name, *_ in readers}
        for _ in range(args.rounds):
            for name, reader, root, _what in readers:
                runs[name].append(_run(reader, root, 1))
        rows = [(name, _median_run(runs[name]), what) for name, _, _, what in readers]
    pages = len(json.loads((CORPUS / "annotations.json").read_text()))
    print(f"{pages} corpus pages; snippets: main content and boilerplate as annotated")
    print(f"{'reader':<12} {'main reached':>13} {'boilerplate':>12} {'ms/page':>8} {'junk/briefing':>14}  what")
    for name, r, what in rows:
        junk = f"{r['junk']:.2f}" if r["junk"] is not None else "-"
        print(
            f"{name:<12} {r['main']:>12.1%} {r['boilerplate']:>12.1%} {r['ms']:>8.1f} {junk:>14}  {what}"
            f"  ({r['main_found']}/{r['main_total']} main, {r['boiler_found']}/{r['boiler_total']} boilerplate)"
        )
    print("\nbad input, seconds per page (median of --rounds):")
    print(f"{'input':<16} " + " ".join(f"{name:>8}" for name, r, _ in rows if r["hostile"]))
    for case in rows[0][1]["hostile"]:
        print(f"{case:<16} " + " ".join(f"{r['hostile'][case]:>8.2f}" for _, r, _ in rows if r["hostile"]))
    for name, r, _ in rows:
        if r["missed"]:
            print(f"\n{name}: main snippets not reached:")
            for file, snippet in r["missed"]:
                print(f"  {file}: {snippet}")


def _median_run(runs: list[dict]) -> dict:
    """One reader's figures over its runs: the same counts each run, medians of the times."""
    merged = dict(runs[0])
    merged["ms"] = statistics.median(r["ms"] for r in runs)
    merged["hostile"] = {case: statistics.median(r["hostile"][case] for r in runs) for case in runs[0]["hostile"]}
    return merged


def _run(reader: str, root: Path, rounds: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--reader", reader, "--root", str(root), "--rounds", str(rounds)],
        capture_output=True,
        text=True,
        cwd=root,
    )
    if out.returncode:
        raise SystemExit(f"{reader} at {root} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure(reader: str, root: Path, rounds: int) -> dict:
    """One reader's figures over the corpus, with `pipeline` imported from `root`."""
    sys.path.insert(0, str(root))
    from harness.fakes.server import FakeServer, Reply
    from pipeline.analyze import MAX_PAGE_CHARS, build_prompt
    from pipeline.fetch import FetchPolicy, fetch_html, make_site_client
    from pipeline.models import GitHubData, Page, ScrapedSite
    from pipeline.offline import analyze_offline
    from pipeline.posting import read_posting
    from pipeline.scrape import scrape_website
    from pipeline.sources import collect_sources
    from pipeline.verify import normalise

    entries = json.loads((CORPUS / "annotations.json").read_text())
    files = {e["file"]: (CORPUS / "pages" / e["file"]).read_bytes() for e in entries}

    class Corpus(FakeServer):
        def handle(self, request):
            body = files.get(request.path.lstrip("/"))
            if body is None:
                return Reply(404, b"not found")
            return Reply(200, body, {"Content-Type": "text/html; charset=utf-8"})

    server = Corpus().start()
    policy = FetchPolicy(allow_private=True)
    client = make_site_client(policy)

    def model_text(entry: dict) -> tuple[str, Page | None, ScrapedSite | None]:
        url = f"{server.url}/{entry['file']}"
        deadline = time.monotonic() + 30
        if reader == "trafilatura":
            import trafilatura

            html = fetch_html(url, client, policy, deadline=deadline).html
            text = trafilatura.extract(html, url=url, output_format="markdown", include_tables=True) or ""
            return text[:MAX_PAGE_CHARS], None, None
        if entry["kind"] == "posting":
            try:
                posting = read_posting(url, client, policy, deadline=deadline)
            except Exception:  # the old reader fails on postings it cannot read: nothing reaches the model
                return "", None, None
            site, github = ScrapedSite(), GitHubData()
            prompt = build_prompt("Corpus", collect_sources(site, github, posting), github, None)
            return prompt.split("(posting):", 1)[1], posting, None
        site = scrape_website(url, deep=False, client=client, policy=policy, deadline=deadline)
        prompt = build_prompt("Corpus", collect_sources(site, GitHubData()), GitHubData(), None)
        block = prompt.split("(page):", 1)[1].split("</untrusted_website_content>")[0] if "(page):" in prompt else ""
        return block, None, site

    main = boiler = main_total = boiler_total = 0
    missed: list[tuple[str, str]] = []
    timings: list[float] = []
    sites: dict[str, tuple[list[Page], set[str]]] = {}
    try:
        for entry in entries:
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                text, _posting, site = model_text(entry)
                times.append(time.perf_counter() - started)
            timings.append(statistics.median(times))
            seen = normalise(text)
            for snippet in entry["main"]:
                main_total += 1
                if normalise(snippet) in seen:
                    main += 1
                else:
                    missed.append((entry["file"], snippet))
            for snippet in entry["boilerplate"]:
                boiler_total += 1
                boiler += normalise(snippet) in seen
            if site is not None and entry["kind"] != "shell":
                pages, boilerplate = sites.setdefault(entry["file"].split("-")[0], ([], set()))
                pages.extend(site.pages)
                boilerplate.update(normalise(snippet) for snippet in entry["boilerplate"])
    finally:
        server.stop()
    junk, hostile = None, {}
    if reader == "project":
        from pipeline.html import MAX_PARSE_TAGS, extract_page

        for case, html in _bad_input(MAX_PARSE_TAGS).items():
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                extract_page("https://bad.example/", html)
                times.append(time.perf_counter() - started)
            hostile[case] = statistics.median(times)
        counts = [
            _junk(analyze_offline(company, ScrapedSite(url=pages[0].url, pages=pages), GitHubData(), None), boiler)
            for company, (pages, boiler) in sites.items()
        ]
        junk = statistics.mean(counts)
    return {
        "main": main / main_total,
        "boilerplate": boiler / boiler_total,
        "main_found": main,
        "main_total": main_total,
        "boiler_found": boiler,
        "boiler_total": boiler_total,
        "ms": 1000 * statistics.mean(timings),
        "junk": junk,
        "hostile": hostile,
        "missed": missed,
    }


def _bad_input(max_tags: int) -> dict[str, str | bytes]:
    """Inputs that stress a reader: the cases of tests/test_html.py and tests/test_hostile_input.py, at full size."""
    deep = 5 * max_tags
    return {
        "deep nest": "<title>Deep</title><h1>top</h1>" + "<div>" * deep + "bottom" + "</div>" * deep,
        "nest under cap": "<div>" * (max_tags // 2 - 1) + "bottom" + "</div>" * (max_tags // 2 - 1),
        "binary 5 MB": bytes(range(256)) * 19_531,
        "text 5 MB": "<p>" + "word " * 1_000_000 + "</p>",
        "60 000 <p>": "<p>filler text</p>" * 60_000,
        "nested tables": "<table><tr><td>" * 10_000 + "x" + "</td></tr></table>" * 10_000,
    }


def _junk(draft, boilerplate: set[str]) -> int:
    """Products and overview statements that are calls to action, navigation, thanks, annotated
    boilerplate, or statements cut mid-sentence."""
    from pipeline.verify import normalise

    pattern = re.compile(JUNK, re.IGNORECASE)
    count = 0
    for claim in [*draft.products, *draft.overview]:
        text = claim.text.strip()
        cut = claim in draft.overview and not text.endswith((".", "!", "?", ")"))
        count += bool(pattern.search(text) or cut or any(b in normalise(text) for b in boilerplate))
    return count


if __name__ == "__main__":
    main()
