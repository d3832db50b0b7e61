"""Punycode (xn--) host names are checked as IDNA: at submit a clear 422, as a redirect target a
clear step error, never an exception from deep inside httpx."""

from __future__ import annotations

import pytest

from core.request import ResearchRequest
from db import attempts
from harness.fakes.server import Reply
from pipeline.urls import normalize_url

WAIT_S = 30.0
BAD = ["http://xn--a.com", "https://www.xn--ls8h.la/", "http://XN--A.com/jobs", "http://xn--.com"]


@pytest.mark.parametrize("url", BAD)
def test_a_bad_punycode_website_is_a_clear_422(client, url):
    answer = client.post("/api/research-direct", json={"companyName": "Acme", "companyUrl": url})

    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "companyUrl"
    assert "is not a valid host name" in answer.json()["error"]


def test_good_punycode_passes_as_it_is():
    assert normalize_url("http://xn--bcher-kva.example/") == "http://xn--bcher-kva.example/"
    assert normalize_url("http://bücher.example/") == "http://xn--bcher-kva.example/"


def test_a_redirect_to_bad_punycode_is_a_clear_step_error(runner, fake_site):
    fake_site.fail("/", Reply(302, headers={"Location": "http://xn--a.com/"}))
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url))

    done = runner.wait(job.id, timeout_s=WAIT_S)

    scrape = next(row for row in attempts.for_job(runner.engine, job.id) if row.step == "scrape-website")
    assert "unexpected" not in (done.error_message or "")
    assert "redirected to an address that cannot be read: its host name is not valid IDNA" in scrape.error_message
