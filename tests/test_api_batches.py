"""Batches through the API and the CLI: queued whole or not at all, progress derived from the jobs,
History filtered by batch, the zip of finished briefings, and 50 companies on two workers."""

from __future__ import annotations

import io
import json
import subprocess
import time
import zipfile

import pytest
from sqlmodel import select

from db.engine import get_engine, reading
from db.models import Job
from pipeline.markdown import markdown_filename
from tests.helpers import count_jobs
from tests.test_cli import _cli
from worker.batch_status import batch_zip
from worker.runner import get_runner

WAIT_S = 60.0
POLL_S = 0.1


@pytest.fixture
def db_url(any_db_url) -> str:
    """Progress and usage are summed in SQL, so both databases run."""
    return any_db_url


def _wait_done(client, status_url: str) -> dict:
    deadline = time.monotonic() + WAIT_S
    while True:
        batch = client.get(status_url).json()
        if batch["status"] == "completed":
            return batch
        assert time.monotonic() < deadline, batch
        time.sleep(POLL_S)


def test_submit_a_batch_poll_it_filter_history_and_zip_it(client, fake_site):
    companies = [
        {"companyName": "Acme Robotics", "companyUrl": fake_site.url, "role": "Backend Engineer"},
        {"companyName": "Société Générale", "companyUrl": fake_site.url},
        {"companyName": "Acme Robotics", "companyUrl": fake_site.url, "role": "Backend Engineer"},  # twice on purpose
    ]
    client.post("/api/research-direct", json={"companyName": "Not In The Batch", "companyUrl": fake_site.url})

    response = client.post("/api/batches", json={"companies": companies})

    assert response.status_code == 202
    accepted = response.json()
    assert len(set(accepted["jobIds"])) == 3 and response.headers["location"] == accepted["statusUrl"]
    batch = _wait_done(client, accepted["statusUrl"])
    assert (batch["total"], batch["completed"], batch["failed"], batch["cancelled"]) == (3, 3, 0, 0)
    assert [job["jobId"] for job in batch["jobs"]] == accepted["jobIds"]
    assert {job["progress"] for job in batch["jobs"]} == {"6/6"}
    assert batch["usage"]["calls"] == 6  # two requests per briefing (facts, coaching)

    listed = client.get("/api/jobs", params={"batch": accepted["batchId"]}).json()["jobs"]
    assert sorted(job["jobId"] for job in listed) == sorted(accepted["jobIds"])

    runner = get_runner()
    with zipfile.ZipFile(io.BytesIO(batch_zip(runner.engine, accepted["batchId"], runner.settings.prices))) as archive:
        names = archive.namelist()
        documents = {name: archive.read(name).decode() for name in names}
    expected = [
        markdown_filename(company["companyName"], job_id)
        for company, job_id in zip(companies, accepted["jobIds"], strict=True)
    ]
    assert names == expected
    for company, name in zip(companies, names, strict=True):
        assert documents[name].startswith(f"# Interview briefing: {company['companyName']}\n")
        assert "## Interview questions" in documents[name] and "_Usage: 2 calls to" in documents[name]


def test_a_batch_with_bad_entries_queues_nothing_and_names_each(client, app_env, fake_site):
    companies = [
        {"companyName": "Good Co", "companyUrl": fake_site.url},
        {"companyName": "Bad Url", "companyUrl": "ftp://acme.com"},
        {"companyName": "Bad\u200bName"},
    ]

    response = client.post("/api/batches", json={"companies": companies})

    assert response.status_code == 422
    body = response.json()
    assert body["field"] == "companies.1.companyUrl"
    assert body["error"].startswith("Nothing was queued. Company 2: ") and "company 3: " in body["error"]
    assert count_jobs(app_env["DATABASE_URL"]) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"companies": []}, "companies"),
        ({"companies": [{"companyName": f"C{n}"} for n in range(51)]}, "companies"),
        ({"companies": [{"companyName": "Acme", "x": 1}]}, "companies.0.x"),
        ({"companies": [{"companyName": "Acme"}], "deepMode": "yes"}, "deepMode"),
    ],
)
def test_malformed_batches_are_422(client, app_env, body, field):
    response = client.post("/api/batches", json=body)

    assert response.status_code == 422 and response.json()["field"] == field
    assert count_jobs(app_env["DATABASE_URL"]) == 0


def test_an_unknown_batch_is_a_404(client):
    assert client.get("/api/batches/nope").status_code == 404


def test_fifty_companies_finish_on_two_workers(client, fake_site, monkeypatch):
    monkeypatch.setenv("PREP_WORKERS", "2")
    companies = [{"companyName": f"Company {n:02d}", "companyUrl": fake_site.url} for n in range(50)]

    accepted = client.post("/api/batches", json={"companies": companies}).json()
    assert get_runner().settings.workers == 2
    batch = _wait_done(client, accepted["statusUrl"])

    assert (batch["total"], batch["completed"], batch["failed"]) == (50, 50, 0)
    assert [job["companyName"] for job in batch["jobs"]] == [company["companyName"] for company in companies]


# -- the CLI -------------------------------------------------------------------------------------------


def _batch(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return _cli(*args, command="batch", stdin=stdin)


def test_the_cli_reports_bad_lines_and_queues_nothing(app_env, tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text("company,website,role\nAcme,ftp://acme.com,SRE\nGood Co\n,https://nameless.com\n")

    done = _batch(str(path))

    assert done.returncode == 2 and done.stdout == ""
    assert "nothing was queued" in done.stderr
    assert "Line 2: Only http:// and https://" in done.stderr and "Line 4: Company name is required." in done.stderr
    assert count_jobs(app_env["DATABASE_URL"]) == 0


def test_the_cli_runs_a_batch_with_wait(app_env, fake_site, tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text(f"Acme Robotics, {fake_site.url}, Backend Engineer\nGlobex, {fake_site.url}\n")

    done = _batch(str(path), "--wait")

    assert done.returncode == 0, done.stderr
    batch = json.loads(done.stdout)
    assert (batch["total"], batch["completed"]) == (2, 2)
    assert [job["role"] for job in batch["jobs"]] == ["Backend Engineer", None]


def test_the_cli_without_wait_queues_for_the_app(app_env, fake_site, tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text(f"Acme Robotics, {fake_site.url}\n")

    done = _batch(str(path))

    assert done.returncode == 0, done.stderr
    batch = json.loads(done.stdout)
    assert batch["status"] == "queued" and batch["total"] == 1
    with reading(get_engine(app_env["DATABASE_URL"])) as session:
        assert session.exec(select(Job.owner)).all() == [None]  # any worker adopts it


# -- a job posting shared by the batch ------------------------------------------------------------------

POSTING = "Backend Engineer\n\nRequirements:\n- Python in production\n- Experience with PostgreSQL\n"


def test_a_batch_shares_its_job_posting_with_every_company(client, app_env, fake_site):
    companies = [{"companyName": "Acme Robotics", "companyUrl": fake_site.url}, {"companyName": "Globex"}]

    accepted = client.post("/api/batches", json={"companies": companies, "jobDescription": POSTING})

    assert accepted.status_code == 202, accepted.text
    with reading(get_engine(app_env["DATABASE_URL"])) as session:
        stored = session.exec(select(Job.job_description).where(Job.batch_id == accepted.json()["batchId"])).all()
    assert len(stored) == 2 and all("Python in production" in posting for posting in stored)
    _wait_done(client, accepted.json()["statusUrl"])
    results = client.get(f"/api/research-status/{accepted.json()['jobIds'][0]}").json()["briefing"]
    assert [source["kind"] for source in results["sources"]].count("posting") == 1
    assert any("Python in production" in fit["requirement"] for fit in results["roleFit"])


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"jobDescription": "   "}, "jobDescription"),
        ({"jobDescription": POSTING, "jobDescriptionUrl": "https://jobs.example/1"}, "jobDescriptionUrl"),
        ({"jobDescriptionUrl": "ftp://jobs.example/1"}, "jobDescriptionUrl"),
    ],
)
def test_a_bad_shared_posting_is_named_once_and_queues_nothing(client, app_env, fake_site, extra, field):
    companies = [{"companyName": "Acme Robotics", "companyUrl": fake_site.url}, {"companyName": "Globex"}]

    response = client.post("/api/batches", json={"companies": companies, **extra})

    assert response.status_code == 422 and response.json()["field"] == field
    assert "company 1" not in response.json()["error"].lower()  # said once, for the batch
    assert count_jobs(app_env["DATABASE_URL"]) == 0


def test_the_cli_batch_takes_a_posting_from_stdin(app_env, fake_site, tmp_path):
    path = tmp_path / "companies.csv"
    path.write_text(f"Acme Robotics, {fake_site.url}\n")

    done = _batch(str(path), "--job-description", "-", stdin=POSTING)

    assert done.returncode == 0, done.stderr
    with reading(get_engine(app_env["DATABASE_URL"])) as session:
        assert "Python in production" in session.exec(select(Job.job_description)).one()
