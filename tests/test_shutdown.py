"""Shutdown on every path: the interpreter's exit, SIGTERM on the CLI, and a runner that stays shut."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.status import AttemptStatus, JobStatus
from db import attempts
from db.engine import make_engine, reading
from db.models import Job
from settings import PROJECT_DIR
from worker.runner import get_runner, shutdown_runner

WAIT_S = 60

EXITING_SCRIPT = """
import sys, time
from db import attempts
from worker.runner import get_runner
from core.request import ResearchRequest

runner = get_runner()
first = runner.submit(ResearchRequest(company_name="Acme", company_url=sys.argv[1], role="First"))[0]
for n in range(2):
    runner.submit(ResearchRequest(company_name="Acme", company_url=sys.argv[1], role=f"Queued {n}"))
while not any(row.step == "scrape-website" for row in attempts.for_job(runner.engine, first.id)):
    time.sleep(0.05)
# The main thread ends here with a job running and two queued: the interpreter exits.
"""


def _jobs(engine: Engine) -> list[Job]:
    with reading(engine) as session:
        return list(session.exec(select(Job).order_by(col(Job.created_at))))


def test_a_shut_down_runner_stays_shut(app_env):
    first = get_runner()
    shutdown_runner()

    with pytest.raises(RuntimeError, match="shut down"):
        get_runner()
    shutdown_runner(reopen=True)
    assert get_runner() is not first


def test_interpreter_exit_stops_the_running_job_at_its_next_step_and_runs_no_queued_job(
    app_env, fake_site, fake_anthropic
):
    fake_site.latency_s = 1.0  # the scrape is under way when the main thread ends
    env = {**os.environ, "PREP_WORKERS": "1"}

    done = subprocess.run(
        [sys.executable, "-c", EXITING_SCRIPT, fake_site.url],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=WAIT_S,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    engine = make_engine(app_env["DATABASE_URL"])
    rows = _jobs(engine)
    assert [(job.role, job.status, job.owner) for job in rows] == [
        ("First", JobStatus.QUEUED, None),
        ("Queued 0", JobStatus.QUEUED, None),
        ("Queued 1", JobStatus.QUEUED, None),
    ]
    assert fake_anthropic.calls == []  # the running job stopped after its scrape, before the analysis
    steps = {(r.step, r.status) for r in attempts.for_job(engine, rows[0].id)}
    assert ("scrape-website", AttemptStatus.SUCCEEDED) in steps
    assert not any(attempts.for_job(engine, job.id) for job in rows[1:])


def test_sigterm_on_the_cli_hands_its_job_back_to_the_queue(app_env, fake_site, fake_anthropic):
    fake_site.latency_s = 1.0
    cli = subprocess.Popen(
        [sys.executable, "-m", "cli", "research", "Acme", "--url", fake_site.url, "--wait"],
        cwd=PROJECT_DIR, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    engine = make_engine(app_env["DATABASE_URL"])
    give_up = time.monotonic() + WAIT_S
    while not (rows := _jobs(engine)) or not attempts.for_job(engine, rows[0].id):
        assert time.monotonic() < give_up and cli.poll() is None, cli.stderr.read() if cli.poll() else "timeout"
        time.sleep(0.05)

    cli.send_signal(signal.SIGTERM)

    assert cli.wait(timeout=WAIT_S) == 128 + signal.SIGTERM, cli.stderr.read()
    [job] = _jobs(engine)
    assert (job.status, job.owner) == (JobStatus.QUEUED, None)
    assert fake_anthropic.calls == []
    steps = {(r.step, r.status) for r in attempts.for_job(engine, job.id)}
    before_analysis = ("identify-company", "scrape-website", "search-github", "read-sources")
    assert steps == {(step, AttemptStatus.SUCCEEDED) for step in before_analysis}
