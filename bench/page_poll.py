"""CPU of the job page's live poll: `python bench/page_poll.py [--tabs 10] [--seconds 30]`.

Serves, from the project directory (so with the same .streamlit/config.toml and the same
Streamlit), two processes in one run: `streamlit run app.py` with one running job per tab, and
`streamlit run bench/minimal_poll_page.py`, a fragment with the same elements (progress bar,
Markdown list, button) polling at the same interval, as is and with the heap frozen once after
start like app.py does (gc.freeze()). Debian's Chromium (Playwright, never
`playwright install`) opens `--tabs` tabs on each in turn; once every tab shows its live view,
the server's CPU time (utime + stime of the whole process, from /proc/<pid>/stat) is read over
`--seconds`. Before the tabs open, the same is read over a window with none: what the server
spends without being watched (for the job page, its running jobs' own threads: heartbeats,
cancel checks). A poll's cost is the difference over the polls the tabs made. The figure is the
ratio of the two servers' poll costs, so the shared machine's noise mostly cancels.

The jobs stay in "processing" because the fake Anthropic answers only after `--seconds` plus a
margin. RSS (VmRSS from /proc/<pid>/status) is printed at the start and end of each window;
`--seconds 600` is the ten-minute memory check.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from playwright.sync_api import sync_playwright  # noqa: E402

from harness.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from harness.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic  # noqa: E402
from harness.fakes.github_api import FakeGitHub  # noqa: E402
from harness.fakes.server import Reply  # noqa: E402
from harness.fakes.site import FakeSite  # noqa: E402
from harness.fakes.wiring import fake_services_env  # noqa: E402
from harness.live_app import ServedApp, app_environment, serve_app  # noqa: E402
from pipeline.analyze import PARTS  # noqa: E402

POLL_INTERVAL_S = 1.5  # pages/job.py and bench/minimal_poll_page.py
SETTLE_S = 3.0  # after the last tab shows its live view, before the window opens, seconds
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
LIVE_TEXT = re.compile("Researching Acme Robotics")


@dataclass(frozen=True)
class Window:
    """What one server did while the tabs watched it."""

    name: str
    cpu_s: float
    idle_cpu_s: float | None  # the same length of time with no tab open; None when not measured
    wall_s: float
    rss_start_mb: float
    rss_end_mb: float
    polls: int  # expected fragment reruns: tabs × wall / interval

    @property
    def cpu_ms_per_poll(self) -> float:
        """CPU a poll costs the server: what it spent watched, less what it spends unwatched."""
        return (self.cpu_s - (self.idle_cpu_s or 0.0)) * 1000 / self.polls


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system, all threads) the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime, stime: fields 14 and 15


def rss_mb(pid: int) -> float:
    """Resident set size of the process, MB."""
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@contextmanager
def minimal_page(env: dict[str, str], workdir: Path, *, freeze: bool) -> Iterator[ServedApp]:
    """`streamlit run bench/minimal_poll_page.py` from the project directory, like the app."""
    env = {**env, "MINIMAL_FREEZE": "1" if freeze else "0"}
    served = serve_app(
        env, workdir, name=f"minimal-{freeze}", script="bench/minimal_poll_page.py", health_path="/_stcore/health"
    )
    try:
        yield served
    finally:
        served.stop()


def watch(browser, name: str, pid: int, urls: list[str], seconds: float, *, baseline: bool = True) -> Window:
    """Measure the server with no tab open (with `baseline`), then open one tab per URL, wait until
    each shows its live view, and measure it again."""
    idle = None
    if baseline:
        time.sleep(SETTLE_S)
        idle_start = cpu_s(pid)
        time.sleep(seconds)
        idle = cpu_s(pid) - idle_start
    context = browser.new_context()
    try:
        pages = []
        for url in urls:
            page = context.new_page()
            page.goto(url)
            pages.append(page)
        for page in pages:
            page.get_by_test_id("stProgress").filter(has_text=LIVE_TEXT).wait_for(timeout=60_000)
        time.sleep(SETTLE_S)
        rss_start, cpu_start, began = rss_mb(pid), cpu_s(pid), time.monotonic()
        time.sleep(seconds)
        cpu, wall = cpu_s(pid) - cpu_start, time.monotonic() - began
        live = sum(page.get_by_test_id("stProgress").filter(has_text=LIVE_TEXT).count() for page in pages)
        if live != len(pages):
            raise RuntimeError(f"{name}: only {live} of {len(pages)} tabs were still live at the end")
        return Window(name, cpu, idle, wall, rss_start, rss_mb(pid), round(len(urls) * wall / POLL_INTERVAL_S))
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each measured window")
    parser.add_argument("--app-only", action="store_true", help="skip the minimal fragments (the memory check)")
    args = parser.parse_args(argv)
    hold_s = 2 * args.seconds + 120  # the fake model answers after this: the jobs run through both windows

    site, github, llm = FakeSite().start(), FakeGitHub().start(), FakeAnthropic(api_key=DEFAULT_KEY).start()
    # Every job streams its briefing in len(PARTS) calls; each call is held, so no job finishes early.
    llm.enqueue(*[Reply(529, delay_s=hold_s) for _ in range(args.tabs * len(PARTS))])
    wired = fake_services_env(site, github, llm)
    overrides = {
        "PREP_WORKERS": str(args.tabs),
        "PREP_JOB_DEADLINE_S": str(hold_s + 60),
        "PREP_STEP_TIMEOUTS": f"analyze-with-claude={hold_s + 30}",
        # The held reply sends nothing until it answers; the stall guard must outwait it, in seconds.
        "PREP_MODEL_IDLE_S": str(hold_s + 30),
    }
    try:
        with tempfile.TemporaryDirectory(prefix="prep-bench-") as tmp, sync_playwright() as playwright:
            workdir = Path(tmp)
            env = app_environment(workdir, {**wired, **overrides})
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            app = serve_app(env, workdir)
            try:
                body = {"companyName": "Acme Robotics", "companyUrl": site.url}
                ids = [
                    httpx.post(f"{app.url}/api/research-direct", json={**body, "role": f"Tab {n}"}).json()["jobId"]
                    for n in range(args.tabs)
                ]
                urls = [f"{app.url}/job?job={i}" for i in ids]
                job_page = watch(browser, "job page", app.process.pid, urls, args.seconds, baseline=not args.app_only)
            finally:
                app.stop()
            yardsticks = []
            for name, freeze in () if args.app_only else (("minimal fragment", False), ("minimal, frozen", True)):
                with minimal_page(env, workdir, freeze=freeze) as minimal:
                    urls = [minimal.url] * args.tabs
                    yardsticks.append(watch(browser, name, minimal.process.pid, urls, args.seconds))
            browser.close()
    finally:
        for fake in (site, github, llm):
            fake.stop()

    print(
        f"page poll CPU, {args.tabs} Chromium tabs, {args.seconds:.0f} s windows, poll every {POLL_INTERVAL_S} s, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    )
    print(
        f"{'server':<18}{'CPU s':>8}{'no tab s':>9}{'wall s':>8}{'CPU %':>7}{'ms/poll':>9}"
        f"{'RSS start MB':>14}{'RSS end MB':>12}"
    )
    for w in (job_page, *yardsticks):
        idle = "—" if w.idle_cpu_s is None else f"{w.idle_cpu_s:.2f}"
        print(
            f"{w.name:<18}{w.cpu_s:>8.2f}{idle:>9}{w.wall_s:>8.1f}{100 * w.cpu_s / w.wall_s:>7.1f}"
            f"{w.cpu_ms_per_poll:>9.1f}{w.rss_start_mb:>14.1f}{w.rss_end_mb:>12.1f}"
        )
    for yardstick in yardsticks:
        print(
            f"job page / {yardstick.name}: CPU per poll {job_page.cpu_ms_per_poll / yardstick.cpu_ms_per_poll:.2f}x "
            f"(all the server's CPU while watched: {job_page.cpu_s / yardstick.cpu_s:.2f}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
