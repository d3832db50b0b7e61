"""A job that could read nothing is not "ready": the page warns, History marks it, the JSON says so."""

from __future__ import annotations

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from api.status_json import job_status
from core.request import ResearchRequest
from db.engine import writing
from db.models import BriefingRecord
from harness.fakes.server import Reply
from tests.helpers import open_page
from worker.runner import get_runner

TIMEOUT_S = 30


def _page(path: str, **params: str) -> AppTest:
    return open_page(path, timeout_s=TIMEOUT_S, **params)


def test_a_job_that_read_nothing_says_its_briefing_is_generic(app_env, fake_site, fake_github, fake_sources):
    fake_sources.know_nothing()
    fake_github.add_org("acme-robotics", "Acme Robotics", blog=fake_site.url, repos=[])  # no repositories
    fake_site.fail("/", *[Reply(404, b"gone", {"Content-Type": "text/html"})] * 3)  # GitHub's homepage is gone
    runner = get_runner()
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics"))
    runner.wait(job.id, timeout_s=TIMEOUT_S)

    status = job_status(runner.engine, job.id)

    assert status["status"] == "completed", status["message"]
    assert status["briefing"]["grounded"] is False and status["briefing"]["sources"] == []
    assert "is generic: no page or repository could be read" in status["message"]
    assert "ready" not in status["message"]

    page = _page("pages/job.py", job=job.id)
    assert not page.exception and not page.success
    assert "generic" in page.warning[0].value
    assert page.text_input(key="corrected_url").label == "The company's website"  # asked for, as the reason says
    history = _page("pages/history.py")
    assert any("generic: no source could be read" in caption.value for caption in history.caption)


def test_a_grounded_job_is_shown_as_ready(app_env, fake_site):
    runner = get_runner()
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url))
    runner.wait(job.id, timeout_s=TIMEOUT_S)

    page = _page("pages/job.py", job=job.id)

    assert "is ready" in page.success[0].value and not page.warning
    assert any(e.label.startswith("Quotes") for e in page.expander)
    history = _page("pages/history.py")
    assert not any("generic" in caption.value for caption in history.caption)


def test_a_briefing_stored_before_verification_is_served_with_no_fact(app_env, fake_site):
    runner = get_runner()
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url))
    runner.wait(job.id, timeout_s=TIMEOUT_S)
    old = {  # the stored form before verification existed: facts as bare strings, a salary range
        "companyName": "Acme Robotics",
        "overview": "Acme builds rockets.",
        "techStack": ["Go"],
        "salaryRange": {"min": 100000, "max": 140000},
        "interviewQuestions": ["Why Acme?"],
        "sources": [fake_site.url],
        "analysisMode": "claude",
    }
    with writing(runner.engine) as session:
        record = session.exec(select(BriefingRecord).where(BriefingRecord.job_id == job.id)).one()
        record.data = old
        session.add(record)

    results = job_status(runner.engine, job.id)["briefing"]

    assert results["overview"] == [] and results["techStack"] == [] and results["salary"] is None
    assert "salaryRange" not in results
    assert [entry["text"] for entry in results["notVerified"]] == ["Acme builds rockets.", "Go"]
    assert results["interviewQuestions"][0]["text"] == "Why Acme?"
