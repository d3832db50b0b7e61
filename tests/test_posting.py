"""The job posting as an input: pasted text and URL through the API, the CLI and the form; the
Role fit section; every bad-input case."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from streamlit.testing.v1 import AppTest

from core.errors import InvalidInput, ServiceUnavailable
from core.request import MAX_POSTING_CHARS
from harness.fakes.server import Reply
from pipeline.posting import POSTING_UNREADABLE, read_posting
from pipeline.request import parse_request
from settings import PROJECT_DIR
from tests.helpers import LOCAL_POLICY
from tests.test_api import _body, _submit, _wait
from tests.test_cli import _cli

POSTING = """Backend Engineer, Acme Robotics
About the role
Requirements:
- Three years of Python in production
- Calm under on-call pressure
"""


def test_a_pasted_posting_gives_a_role_fit_section(client, fake_site):
    submitted = _submit(client, _body(fake_site, jobDescription=POSTING))

    status = _wait(client, submitted["jobId"])

    assert status["status"] == "completed", status["message"]
    results = status["briefing"]
    posting = [s for s in results["sources"] if s["kind"] == "posting"]
    assert posting == [{"id": posting[0]["id"], "kind": "posting", "url": None, "title": "The job posting (pasted)"}]
    fits = results["roleFit"]
    assert [fit["requirement"] for fit in fits] == [
        "Three years of Python in production",
        "Calm under on-call pressure",
    ]
    assert fits[0]["requirementCitation"]["source"] == posting[0]["id"]
    assert fits[0]["finding"] and fits[0]["citations"][0]["source"] == "S1"  # the company's page, not the posting
    assert fits[1]["finding"] == "" and fits[1]["citations"] == []  # no evidence in the sources
    assert results["interviewQuestions"][0]["preparesFor"] == "Three years of Python in production"

    markdown = client.get(f"/api/research/{submitted['jobId']}/markdown").text
    assert "## Role fit" in markdown and "No evidence in the sources." in markdown
    assert "_(prepares for: “Three years of Python in production”)_" in markdown


def test_a_posting_url_is_fetched_and_becomes_a_source(client, fake_site):
    submitted = _submit(client, _body(fake_site, jobDescriptionUrl=fake_site.url + "/careers"))

    status = _wait(client, submitted["jobId"])

    assert status["status"] == "completed", status["message"]
    posting = [s for s in status["briefing"]["sources"] if s["kind"] == "posting"]
    assert len(posting) == 1 and posting[0]["url"].endswith("/careers")
    assert fake_site.hits("/careers") == 1


def test_a_posting_url_that_is_not_a_web_page_fails_the_job_clearly(client, fake_site):
    submitted = _submit(client, _body(fake_site, jobDescriptionUrl=fake_site.url + "/robots.txt"))

    status = _wait(client, submitted["jobId"])

    assert status["status"] == "failed"
    assert status["message"].startswith("The job posting could not be read:")
    assert "is not a web page (text/plain)" in status["message"]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"jobDescription": "  \n "}, "jobDescription", "The job posting is empty"),
        ({"jobDescription": "x" * (MAX_POSTING_CHARS + 1)}, "jobDescription", "too long"),
        ({"jobDescription": "PK\x03\x04\x00\x00binary"}, "jobDescription", "binary"),
        ({"jobDescription": 5}, "jobDescription", "must be a string"),
        ({"jobDescriptionUrl": "ftp://jobs.example/1"}, "jobDescriptionUrl", ""),
        ({"jobDescription": POSTING, "jobDescriptionUrl": "https://jobs.example/1"}, "jobDescriptionUrl", "not both"),
    ],
)
def test_bad_postings_are_refused_at_submit(client, fake_site, fields, field, message):
    response = client.post("/api/research-direct", json=_body(fake_site, **fields))

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field and message in response.json()["error"]


def test_posting_text_keeps_its_lines_and_is_checked_like_any_input():
    request = parse_request("Acme", job_description="Title\r\n\r\n-   Python   and  Go\r\n")

    assert request.job_description == "Title\n\n- Python and Go"
    with pytest.raises(InvalidInput, match="binary"):
        parse_request("Acme", job_description="text \x07\x08\x01 more" * 2)


def test_cli_reads_the_posting_from_stdin(app_env, fake_site):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "research",
            "Acme Robotics",
            "--url",
            fake_site.url,
            "--job-description",
            "-",
            "--wait",
        ],
        input=POSTING.encode(),
        capture_output=True,
        cwd=PROJECT_DIR,
        env=dict(os.environ),
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["briefing"]
    assert [fit["requirement"] for fit in results["roleFit"]][0] == "Three years of Python in production"


def test_cli_refuses_a_binary_or_empty_posting_file(app_env, fake_site, tmp_path):
    binary = tmp_path / "posting.pdf"
    binary.write_bytes(b"%PDF-1.7\n\xff\xfe\x00\x01")
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")

    for path, words in ((binary, "not UTF-8"), (empty, "empty"), (tmp_path / "missing.txt", "could not be read")):
        done = _cli("Acme Robotics", "--url", fake_site.url, "--job-description", str(path))
        assert done.returncode == 2 and words in done.stderr, done.stderr


def test_the_form_shows_a_bad_posting_by_its_field(app_env):
    at = AppTest.from_file(str(PROJECT_DIR / "pages" / "new_research.py"), default_timeout=30)
    at.run()
    at.text_input(key="company_name").input("Acme")
    at.text_area(key="job_description").input("\x00\x01binary")
    at = at.button[0].click().run()

    assert not at.exception
    assert any("binary" in error.value for error in at.error)


@pytest.mark.parametrize("character", ["职", "😀"])  # escaped as \uXXXX (6 bytes) or a surrogate pair (12 bytes)
def test_the_longest_posting_in_any_script_fits_the_body_limit_when_escaped(client, fake_site, character):
    body = _body(fake_site, jobDescription=character * MAX_POSTING_CHARS)
    raw = json.dumps(body, ensure_ascii=True).encode()
    assert len(raw) > 64 * 1024  # the old limit refused it

    response = client.post("/api/research-direct", content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code == 202, response.text
    assert _wait(client, response.json()["jobId"])["status"] == "completed"


def test_a_busy_posting_page_fails_as_the_posting_and_keeps_its_retry_after(fake_site, site_client):
    fake_site.fail("/jobs/busy", Reply(429, b"busy", {"Retry-After": "7"}))

    with pytest.raises(ServiceUnavailable) as caught:
        read_posting(fake_site.url + "/jobs/busy", site_client, LOCAL_POLICY, deadline=time.monotonic() + 5)

    assert caught.value.message.startswith(POSTING_UNREADABLE) and "429" in caught.value.message
    assert caught.value.retry_after == 7.0  # the worker's backoff waits as long as the site asked
