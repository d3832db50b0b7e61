"""The batch pages through AppTest: bad lines listed by number with nothing queued, a batch's page
with each company's progress and the zip, and History filtered by batch."""

from __future__ import annotations

from sqlmodel import func, select
from streamlit.testing.v1 import AppTest

from db.engine import get_engine, reading
from db.models import Job
from tests.helpers import open_page
from ui.format import escape_markdown
from worker.runner import get_runner

TIMEOUT_S = 30


def _app(page: str, **params: str) -> AppTest:
    return open_page(page, timeout_s=TIMEOUT_S, **params)


def _submit(text: str, posting: str | None = None) -> AppTest:
    at = _app("pages/batch.py")
    at.text_area(key="batch_lines").input(text)
    if posting is not None:
        at.text_area(key="batch_job_description").input(posting)
    return at.form_submit_button[0].click().run()


def _count(engine) -> int:
    with reading(engine) as session:
        return session.exec(select(func.count()).select_from(Job)).one()


def test_bad_lines_are_listed_by_number_and_nothing_is_queued(app_env, fake_site):
    at = _submit(f"Acme, {fake_site.url}\nBad, ftp://acme.com\n\n, https://nameless.com\n")

    assert not at.exception
    error = at.error[0].value
    assert error.startswith("Nothing was queued.")
    assert escape_markdown("Line 2: Only http:// and https://") in error
    assert escape_markdown("Line 4: Company name is required.") in error
    assert _count(get_engine(app_env["DATABASE_URL"])) == 0


def test_a_batch_opens_its_page_with_progress_the_zip_and_history(app_env, fake_site):
    at = _submit(f"Acme Robotics, {fake_site.url}, Backend Engineer\nGlobex, {fake_site.url}\n")

    batch_id = at.query_params["batch"]
    assert at.title[0].value == "Batch of 2 companies"
    runner = get_runner()
    with reading(runner.engine) as session:
        members = session.exec(select(Job).where(Job.batch_id == batch_id)).all()
    for job in members:
        runner.wait(job.id, timeout_s=TIMEOUT_S)

    at = _app("pages/batch.py", batch=batch_id)

    assert "2 of 2 finished: 2 completed, 0 failed" in at.get("progress")[0].proto.text
    labels = [link.proto.label for link in at.get("page_link")]
    assert "Acme Robotics (Backend Engineer) — completed · 6/6 steps" in labels
    assert "Globex — completed · 6/6 steps" in labels
    assert at.get("download_button")[0].proto.label == "Download 2 briefings (.zip of Markdown)"

    history = _app("pages/history.py", batch=batch_id)
    assert sorted(link.proto.label for link in history.get("page_link") if link.proto.label != "Show every job") == [
        "Acme Robotics",
        "Globex",
    ]


def test_an_unknown_batch_says_so(app_env):
    at = _app("pages/batch.py", batch="nope")

    assert at.title[0].value == "Batch not found"


def test_the_job_posting_is_shared_by_every_company_and_checked_once(app_env, fake_site):
    engine = get_engine(app_env["DATABASE_URL"])
    refused = _submit(f"Acme, {fake_site.url}\nGlobex\n", posting="\x00\x01 binary")

    assert escape_markdown("The batch: The job posting looks like binary data") in refused.error[0].value
    assert _count(engine) == 0

    _submit(f"Acme, {fake_site.url}\nGlobex\n", posting="Requirements:\n- Python in production\n")

    with reading(engine) as session:
        postings = session.exec(select(Job.job_description)).all()
    assert postings == ["Requirements:\n- Python in production"] * 2
