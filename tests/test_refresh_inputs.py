"""Refresh sources from each door (form, API, CLI), and the GitHub budget on /api/health."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core.request import ResearchRequest
from db import jobs
from db.engine import get_engine
from settings import PROJECT_DIR
from tests.test_cli import _cli
from worker.runner import get_runner

TIMEOUT_S = 30


def _job(app_env, job_id: str):
    return jobs.get_job(get_engine(app_env["DATABASE_URL"]), job_id)


@pytest.mark.parametrize("checked", [True, False])
def test_the_form_checkbox_sets_refresh_on_the_job(app_env, fake_site, checked):
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S).run()
    assert at.checkbox(key="refresh").label == "Refresh sources"
    at.text_input(key="company_name").input("Acme Robotics")
    at.text_input(key="company_url").input(fake_site.url)
    if checked:
        at.checkbox(key="refresh").check()
    at = at.form_submit_button[0].click().run()

    assert not at.exception
    job_id = at.query_params["job"]
    assert _job(app_env, job_id).refresh is checked
    get_runner().wait(job_id, timeout_s=TIMEOUT_S)


def test_the_api_takes_refresh_and_retry_keeps_it(client, app_env, fake_site):
    body = {"companyName": "Acme Robotics", "companyUrl": fake_site.url, "refresh": True}
    response = client.post("/api/research-direct", json=body)
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]
    assert _job(app_env, job_id).refresh is True

    retried = client.post(f"/api/research/{job_id}/retry")
    assert retried.status_code == 202
    assert _job(app_env, retried.json()["jobId"]).refresh is True
    for jid in (job_id, retried.json()["jobId"]):
        get_runner().wait(jid, timeout_s=TIMEOUT_S)


@pytest.mark.parametrize("value", ["true", 1, None])
def test_the_api_refuses_a_refresh_that_is_not_a_boolean(client, fake_site, value):
    response = client.post("/api/research-direct", json={"companyName": "Acme", "refresh": value})
    assert response.status_code == 422
    assert response.json()["field"] == "refresh"


def test_the_api_leaves_refresh_off_by_default(client, app_env, fake_site):
    response = client.post("/api/research-direct", json={"companyName": "Acme Robotics", "companyUrl": fake_site.url})
    job_id = response.json()["jobId"]
    assert _job(app_env, job_id).refresh is False
    get_runner().wait(job_id, timeout_s=TIMEOUT_S)


def test_the_cli_refresh_flag(app_env, fake_site):
    done = _cli("Acme Robotics", "--url", fake_site.url, "--refresh")
    assert done.returncode == 0, done.stderr
    assert _job(app_env, json.loads(done.stdout)["jobId"]).refresh is True


def test_health_shows_the_remaining_github_budget(client, app_env, fake_site, fake_github):
    assert client.get("/api/health").json()["github"] == {}  # nothing known before GitHub was asked
    response = client.post("/api/research-direct", json={"companyName": "Acme Robotics", "companyUrl": fake_site.url})
    get_runner().wait(response.json()["jobId"], timeout_s=TIMEOUT_S)

    github = client.get("/api/health").json()["github"]

    core = fake_github.buckets["core"]
    assert github["core"]["limit"] == core.limit
    assert github["core"]["remaining"] == core.remaining
    assert github["core"]["resetAt"].endswith("Z")
    assert set(github) == {"core", "search"}  # /rate_limit reported both


def test_the_job_page_says_why_github_was_skipped(app_env, fake_site, fake_github):
    fake_github.set_remaining(0)
    job, _ = get_runner().submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url))
    get_runner().wait(job.id, timeout_s=TIMEOUT_S)

    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.query_params["job"] = job.id
    at.switch_page("pages/job.py")
    at = at.run()

    assert not at.exception
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert "GitHub's hourly limit is used up until" in shown
