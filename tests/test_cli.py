"""`python -m cli research …` as a real subprocess on the app's database and the fakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from core.status import JobStatus
from db import jobs
from harness.fakes.server import Reply
from settings import PROJECT_DIR
from tests.helpers import count_jobs


def _cli(*args: str, command: str = "research", stdin: str | None = None) -> subprocess.CompletedProcess:
    """`python -m cli COMMAND ARGS…` as a real subprocess with this test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "cli", command, *args],
        cwd=PROJECT_DIR,
        env=dict(os.environ),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_wait_prints_the_final_status_as_json(app_env, fake_site):
    done = _cli("Acme Robotics", "--url", fake_site.url, "--role", "Backend Engineer", "--wait")

    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)
    assert status["status"] == "completed" and status["isComplete"] is True
    assert [step["id"] for step in status["steps"]] == [
        "identify-company",
        "scrape-website",
        "search-github",
        "read-sources",
        "analyze-with-claude",
        "store-research",
    ]
    assert set(status["steps"][0]) == {"id", "status", "attempts", "durationMs", "error"}
    results = status["briefing"]
    assert results["analysisMode"] == "claude"
    for key in ("companyName", "overview", "techStack", "interviewQuestions", "prepChecklist", "sources"):
        assert key in results


def test_wait_with_markdown_format(app_env, fake_site):
    done = _cli("Acme Robotics", "--url", fake_site.url, "--wait", "--format", "markdown")

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# Interview briefing: Acme Robotics\n")
    assert "## Interview questions" in done.stdout and "## Sources" in done.stdout


def test_url_without_scheme_gets_https(app_env):
    done = _cli("Acme", "--url", "acme.example")

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["companyUrl"] == "https://acme.example/"


def test_failed_job_exits_1(app_env, fake_site):
    busy = Reply(503, b"busy", {"Retry-After": "0"})
    fake_site.fail("/", busy, busy, busy)

    done = _cli("Acme Robotics", "--url", fake_site.url, "--wait")

    assert done.returncode == 1
    status = json.loads(done.stdout)
    assert status["status"] == "failed" and status["isFailed"] is True
    assert fake_site.url in status["message"]


def test_bad_input_exits_2_and_queues_nothing(app_env):
    for args in (["   "], ["x" * 101], ["Acme", "--url", "ftp://acme.example"], ["Acme", "--role", "r" * 121]):
        done = _cli(*args)
        assert done.returncode == 2, args
        assert done.stderr.startswith("error: ") and done.stdout == ""
    assert count_jobs(app_env["DATABASE_URL"]) == 0


def test_without_wait_the_job_is_queued_for_the_app(app_env, runner, fake_site):
    done = _cli("Acme Robotics", "--url", fake_site.url)

    assert done.returncode == 0, done.stderr
    job_id = json.loads(done.stdout)["jobId"]
    assert json.loads(done.stdout)["status"] == "queued"
    runner.wait(job_id, timeout_s=30)  # the running app pulls it from the queue
    assert jobs.get_job(runner.engine, job_id).status == JobStatus.COMPLETED
