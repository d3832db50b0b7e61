"""The pages through Streamlit's AppTest: form validation, the job page in each state, history."""

from __future__ import annotations

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from core.request import ResearchRequest
from core.status import AttemptStatus, JobStatus
from db import attempts, jobs, workers
from db.engine import get_engine, reading, writing
from db.models import Job, utcnow
from db.store import get_briefing
from harness.fakes.server import Reply
from pipeline.markdown import sections
from settings import PROJECT_DIR
from tests.helpers import open_page
from ui.format import escape_markdown
from worker.runner import get_runner

APP = str(PROJECT_DIR / "app.py")
TIMEOUT_S = 30


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT_S)


def _job_page(job_id: str) -> AppTest:
    return open_page("pages/job.py", timeout_s=TIMEOUT_S, job=job_id)


def _texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.markdown, *at.caption, *at.error, *at.info, *at.success, *at.title, *at.subheader)]
    return "\n".join(str(p) for p in parts)


def _all_jobs(engine) -> list[Job]:
    with reading(engine) as session:
        return list(session.exec(select(Job)))


def _fill(at: AppTest, name: str = "", url: str = "", role: str = "") -> AppTest:
    at.text_input(key="company_name").input(name)
    at.text_input(key="company_url").input(url)
    at.text_input(key="role").input(role)
    return at.form_submit_button[0].click().run()


def test_first_page_explains_itself(app_env):
    at = _app().run()

    assert not at.exception
    assert at.title[0].value == "Interview Prep"
    assert "briefing" in at.markdown[0].value
    assert [w.key for w in at.text_input] == ["company_name", "company_url", "role", "job_description_url"]
    assert [w.key for w in at.text_area] == ["job_description"]


def test_empty_company_name_is_refused_by_the_field(app_env):
    at = _fill(_app().run(), name="   ")

    assert [e.value for e in at.error] == ["Company name is required."]
    assert _all_jobs(get_engine(app_env["DATABASE_URL"])) == []


@pytest.mark.parametrize(
    ("url", "role", "message"),
    [
        ("ftp://acme.example", "", "http"),
        ("https://acme.example", "Backend\u200bEngineer", "invisible"),
    ],
)
def test_bad_url_or_role_is_refused_and_nothing_is_queued(app_env, url, role, message):
    at = _app().run()
    at.text_input(key="company_name").input("Acme")
    at.text_input(key="company_url").input(url)
    at.text_input(key="role").input(role)
    at = at.form_submit_button[0].click().run()

    assert len(at.error) == 1 and message in at.error[0].value.lower()
    assert _all_jobs(get_engine(app_env["DATABASE_URL"])) == []


def test_submit_queues_a_job_and_opens_its_page(app_env, fake_site):
    at = _fill(_app().run(), name="Acme Robotics", url=fake_site.url, role="Backend Engineer")

    assert not at.exception
    job_id = at.query_params["job"]
    job = jobs.get_job(get_engine(app_env["DATABASE_URL"]), job_id)
    assert job.company_name == "Acme Robotics" and job.role == "Backend Engineer"
    assert at.title[0].value == "Acme Robotics"
    get_runner().wait(job_id, timeout_s=TIMEOUT_S)


def _live_owner(engine) -> str:
    """A worker row for this very process: alive, so no runner adopts its jobs."""
    return workers.register(engine)


def test_job_page_while_queued(app_env):
    engine = get_engine(app_env["DATABASE_URL"])
    job, _ = jobs.create_job(engine, ResearchRequest(company_name="Queued Co"), owner=_live_owner(engine))

    at = _job_page(job.id)

    assert not at.exception
    assert at.title[0].value == "Queued Co"
    assert "Waiting for a free worker" in at.get("progress")[0].proto.text
    assert at.button(key="cancel")


def test_job_page_while_processing_shows_each_step(app_env):
    engine = get_engine(app_env["DATABASE_URL"])
    owner = _live_owner(engine)
    job, _ = jobs.create_job(engine, ResearchRequest(company_name="Busy Co"), owner=owner)
    [fence] = jobs.lease_next(engine, owner, 1, reserved_only=True)
    row = attempts.start(engine, fence, "scrape-website")
    attempts.finish(
        engine, fence, row, AttemptStatus.FAILED, error_kind="unavailable", error_message="the site answered 503"
    )
    attempts.start(engine, fence, "scrape-website")

    at = _job_page(job.id)

    text = _texts(at)
    assert "Researching Busy Co" in at.get("progress")[0].proto.text
    assert "Reading the company website" in text and "2 attempts" in text
    assert "Last error: the site answered 503" in text


def test_cancel_button_cancels_a_queued_job(app_env):
    engine = get_engine(app_env["DATABASE_URL"])
    job, _ = jobs.create_job(engine, ResearchRequest(company_name="Queued Co"), owner=_live_owner(engine))

    at = _job_page(job.id)
    at.button(key="cancel").click().run()

    assert jobs.get_job(engine, job.id).status == JobStatus.CANCELLED
    at = _job_page(job.id)
    assert escape_markdown("Cancelled before it started.") in at.error[0].value
    assert at.button(key="retry") and not at.get("progress")


def test_completed_job_page_renders_every_section_and_the_markdown(app_env, fake_site):
    runner = get_runner()
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url, role="SRE"))
    runner.wait(job.id, timeout_s=TIMEOUT_S)

    at = _job_page(job.id)

    assert not at.exception
    briefing = get_briefing(runner.engine, job.id)
    titles = [s.value for s in at.subheader]
    assert titles == [s.title for s in sections(briefing) if not s.title.startswith("Not verified")]
    side_by_side = [column.get("download_button") for column in at.columns if column.get("download_button")]
    assert [[button.proto.label for button in column] for column in side_by_side] == [
        ["Download Markdown"],
        ["Download PDF"],
    ]
    document = at.code[0].value
    for section in sections(briefing):
        assert f"## {section.title}" in document
    for question in briefing["interviewQuestions"]:
        assert question["text"] in document
    assert "[^1]" in document and "[^1]: " in document  # standard footnotes
    assert any("[\\[1\\]](<" in m.value for m in at.markdown)  # the page's linked marker
    assert fake_site.url in document


def test_failed_job_says_why_and_retry_opens_a_new_job(app_env, fake_site):
    busy = Reply(503, b"busy", {"Retry-After": "0"})
    fake_site.fail("/", busy, busy, busy)
    runner = get_runner()
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url))
    runner.wait(job.id, timeout_s=TIMEOUT_S)

    at = _job_page(job.id)
    assert "We could not read the company website" in at.error[0].value
    assert escape_markdown(fake_site.url) in at.error[0].value  # shown as text, not as a link
    at = at.button(key="retry").click().run()

    new_id = at.query_params["job"]
    assert new_id != job.id
    assert jobs.get_job(runner.engine, new_id).retry_of == job.id
    runner.wait(new_id, timeout_s=TIMEOUT_S)


def test_unknown_job_id_says_so(app_env):
    at = _job_page("doesnotexist")

    assert at.title[0].value == "Job not found"
    assert at.error


def _seed_history(engine) -> None:
    owner = _live_owner(engine)
    for name, status in [("Alpha", JobStatus.COMPLETED), ("Beta", JobStatus.FAILED), ("Gamma", JobStatus.COMPLETED)]:
        with writing(engine) as session:
            session.add(
                Job(
                    company_name=name,
                    status=status,
                    owner=owner,
                    dedupe_key=name,
                    started_at=utcnow(),
                    finished_at=utcnow(),
                )
            )


def test_history_lists_newest_first_and_filters(app_env):
    engine = get_engine(app_env["DATABASE_URL"])
    _seed_history(engine)

    at = _app()
    at.switch_page("pages/history.py")
    at = at.run()
    labels = [link.proto.label for link in at.get("page_link")]
    assert labels == ["Gamma", "Beta", "Alpha"]

    at = at.selectbox(key="history_status").select("failed").run()
    assert [link.proto.label for link in at.get("page_link")] == ["Beta"]

    at = at.selectbox(key="history_status").select("all").run()
    at = at.text_input(key="history_q").input("amm").run()
    assert [link.proto.label for link in at.get("page_link")] == ["Gamma"]

    at = at.text_input(key="history_q").input("zzz").run()
    assert not at.get("page_link") and at.info[0].value == "No job matches these filters."


def test_history_empty_state(app_env):
    at = _app()
    at.switch_page("pages/history.py")
    at = at.run()

    assert "No jobs yet" in at.info[0].value
    assert not at.selectbox and not at.text_input  # no filters over nothing


def test_history_pages_in_sql(app_env):
    engine = get_engine(app_env["DATABASE_URL"])
    owner = _live_owner(engine)
    with writing(engine) as session:
        for n in range(45):
            session.add(
                Job(company_name=f"Company {n:02d}", status=JobStatus.COMPLETED, owner=owner, dedupe_key=str(n))
            )

    at = _app()
    at.switch_page("pages/history.py")
    at = at.run()
    first_page = [link.proto.label for link in at.get("page_link")]
    at = at.button(key="history_older").click().run()
    second_page = [link.proto.label for link in at.get("page_link")]

    assert len(first_page) == 20 and len(second_page) == 20
    assert not set(first_page) & set(second_page)
    assert "Jobs 21–40 of 45" in _texts(at)
