"""Deleting a job in every state: its row, attempts and briefing go; nothing a running step writes
afterwards survives; refused while another job depends on it; through the API and the job page."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from core.request import ResearchRequest
from core.status import JobStatus
from db import jobs, workers
from db.batches import create_batch
from db.deletion import DeleteRefused, delete_job
from db.engine import reading
from db.models import BriefingRecord, Job, StepAttempt
from harness.fakes.anthropic_api import FakeAnthropic, MessageReply
from harness.fakes.server import Reply
from tests.helpers import open_page
from tests.waiting import until
from ui.format import escape_markdown
from worker.runner import get_runner

WAIT_S = 30
TOKEN = "delete-token"


@pytest.fixture
def db_url(any_db_url) -> str:
    """The race with a running worker is a matter of locks, so both databases run it."""
    return any_db_url


def _rows(engine, job_id: str) -> tuple[int, int, int]:
    """(jobs, attempts, briefings) rows that still name this job."""
    with reading(engine) as session:
        return (
            session.exec(select(func.count()).select_from(Job).where(Job.id == job_id)).one(),
            session.exec(select(func.count()).select_from(StepAttempt).where(StepAttempt.job_id == job_id)).one(),
            session.exec(select(func.count()).select_from(BriefingRecord).where(BriefingRecord.job_id == job_id)).one(),
        )


def _request(fake_site, name: str = "Acme Robotics") -> ResearchRequest:
    return ResearchRequest(company_name=name, company_url=fake_site.url)


def _finished(runner, fake_site, name: str = "Acme Robotics") -> Job:
    job, _ = runner.submit(_request(fake_site, name))
    return runner.wait(job.id, timeout_s=WAIT_S)


@pytest.mark.parametrize("final", ["completed", "failed", "cancelled"])
def test_a_finished_job_goes_with_its_attempts_and_briefing(runner, fake_site, final):
    if final == "cancelled":
        job, _ = jobs.create_job(runner.engine, _request(fake_site), owner=workers.register(runner.engine))
        jobs.request_cancel(runner.engine, job.id)
    else:
        if final == "failed":
            fake_site.fail("/", Reply(404, b"gone", {"Content-Type": "text/html"}))
        job = _finished(runner, fake_site)
    assert jobs.get_job(runner.engine, job.id).status == JobStatus(final)
    assert _rows(runner.engine, job.id)[0] == 1

    deleted = delete_job(runner.engine, job.id)

    assert deleted is not None and not deleted.was_running
    assert _rows(runner.engine, job.id) == (0, 0, 0)
    assert delete_job(runner.engine, job.id) is None  # a second delete finds nothing


def test_a_queued_job_is_deleted_and_never_runs(runner, fake_site):
    owner = workers.register(runner.engine)  # a live worker that never runs it
    job, _ = jobs.create_job(runner.engine, _request(fake_site), owner=owner)

    assert delete_job(runner.engine, job.id).was_running
    assert _rows(runner.engine, job.id) == (0, 0, 0)
    assert jobs.lease_next(runner.engine, owner, 1) == []  # a worker that pulls later finds nothing


def test_a_running_job_is_cancelled_and_nothing_its_step_writes_later_survives(runner, fake_site, fake_anthropic):
    # Claude answers after 1.5 s: the job is deleted while its analyze step waits for the reply.
    late = MessageReply(json.dumps(FakeAnthropic.draft()), delay_s=1.5)
    fake_anthropic.enqueue(late, late)  # both parts of the briefing
    job, _ = runner.submit(_request(fake_site))
    until(lambda: len(fake_anthropic.calls) == 2, "the calls to Claude", WAIT_S)

    deleted = delete_job(runner.engine, job.id)
    runner.wait(job.id, timeout_s=WAIT_S)  # the worker finishes its step, then finds the job gone

    assert deleted.was_running
    assert _rows(runner.engine, job.id) == (0, 0, 0)


def _fail_next_scrape(fake_site) -> None:
    fake_site.fail("/", Reply(404, b"gone", {"Content-Type": "text/html"}))


def test_refused_while_a_retry_names_it_then_allowed(runner, fake_site):
    _fail_next_scrape(fake_site)  # a failed job is what gets retried
    original = _finished(runner, fake_site)
    retry = runner.retry(original.id)
    assert retry.retry_of == original.id
    runner.wait(retry.id, timeout_s=WAIT_S)

    with pytest.raises(DeleteRefused, match="is a retry of it"):
        delete_job(runner.engine, original.id)
    assert _rows(runner.engine, original.id)[0] == 1  # nothing changed

    delete_job(runner.engine, retry.id)
    assert delete_job(runner.engine, original.id) is not None


def test_refused_while_its_batch_is_still_running(runner, fake_site):
    owner = workers.register(runner.engine)  # holds the batch's jobs queued
    _, members = create_batch(runner.engine, [_request(fake_site, "One"), _request(fake_site, "Two")], owner=owner)

    with pytest.raises(DeleteRefused, match="batch that is still running"):
        delete_job(runner.engine, members[0].id)

    jobs.request_cancel(runner.engine, members[1].id)
    jobs.request_cancel(runner.engine, members[0].id)
    assert delete_job(runner.engine, members[0].id) is not None


# -- the API -------------------------------------------------------------------------------------


def test_delete_through_the_api_with_and_without_the_token(client, fake_site, monkeypatch):
    monkeypatch.setenv("PREP_API_TOKEN", TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    job_id = client.post(
        "/api/research-direct", json={"companyName": "Acme", "companyUrl": fake_site.url}, headers=auth
    ).json()["jobId"]
    get_runner().wait(job_id, timeout_s=WAIT_S)
    assert client.get(f"/api/research-status/{job_id}", headers=auth).status_code == 200  # now cached in memory

    refused = client.delete(f"/api/jobs/{job_id}")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert client.delete(f"/api/jobs/{job_id}", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert _rows(get_runner().engine, job_id)[0] == 1

    deleted = client.delete(f"/api/jobs/{job_id}", headers=auth)
    assert deleted.status_code == 200 and deleted.json() == {"success": True, "jobId": job_id, "wasRunning": False}
    assert client.get(f"/api/research-status/{job_id}", headers=auth).status_code == 404
    assert client.delete(f"/api/jobs/{job_id}", headers=auth).status_code == 404


def test_the_api_answers_409_while_a_retry_depends_on_the_job(client, fake_site):
    _fail_next_scrape(fake_site)
    job_id = client.post("/api/research-direct", json={"companyName": "Acme", "companyUrl": fake_site.url}).json()[
        "jobId"
    ]
    get_runner().wait(job_id, timeout_s=WAIT_S)
    retry_id = client.post(f"/api/research/{job_id}/retry").json()["jobId"]
    get_runner().wait(retry_id, timeout_s=WAIT_S)

    refused = client.delete(f"/api/jobs/{job_id}")

    assert refused.status_code == 409 and "Delete that retry first" in refused.json()["error"]


# -- the job page ----------------------------------------------------------------------------------


def _job_page(job_id: str) -> AppTest:
    return open_page("pages/job.py", timeout_s=WAIT_S, job=job_id)


def test_the_job_page_deletes_after_a_confirmation(app_env, fake_site):
    runner = get_runner()
    job = _finished(runner, fake_site)

    at = _job_page(job.id).button(key="delete").click().run()
    assert _rows(runner.engine, job.id)[0] == 1  # asking is not deleting
    assert "can't be undone" in at.warning[0].value
    at = at.button(key="delete_keep").click().run()
    assert _rows(runner.engine, job.id)[0] == 1 and not at.warning

    at = at.button(key="delete").click().run().button(key="delete_confirm").click().run()

    assert _rows(runner.engine, job.id) == (0, 0, 0)
    assert escape_markdown("Deleted the research on Acme Robotics.") in [s.value for s in at.success]
    assert at.title[0].value == "History"


def test_the_job_page_says_why_a_delete_is_refused(app_env, fake_site):
    _fail_next_scrape(fake_site)
    runner = get_runner()
    job = _finished(runner, fake_site)
    runner.wait(runner.retry(job.id).id, timeout_s=WAIT_S)

    at = _job_page(job.id).button(key="delete").click().run().button(key="delete_confirm").click().run()

    assert escape_markdown("Delete that retry first.") in at.error[-1].value
    assert _rows(runner.engine, job.id)[0] == 1
