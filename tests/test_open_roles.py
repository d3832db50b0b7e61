"""Picking one of the company's open roles as the posting: on the form, through the API and the
CLI; and the job page naming which company the name was taken to be, with a way to correct it."""

from __future__ import annotations

import json

from sqlmodel import select

from db.engine import make_engine, reading
from db.models import Job
from harness.fakes.job_boards import GREENHOUSE_JOB_ID, GREENHOUSE_TOKEN
from tests.helpers import open_page
from tests.test_api import _submit, _wait
from tests.test_cli import _cli

POSTING_URL = f"https://boards.greenhouse.io/{GREENHOUSE_TOKEN}/jobs/{GREENHOUSE_JOB_ID}"


def _posting_box(at) -> object:
    """The form's "Job posting" expander."""
    return next(e for e in at.expander if e.label.startswith("Job posting"))


def _find_roles(at):
    return next(b for b in at.button if b.label.startswith("Find its open roles")).click().run()


def test_the_form_finds_the_open_roles_and_submits_the_one_picked(app_env, fake_sources):
    at = open_page("pages/new_research.py")
    assert _posting_box(at).proto.expanded is False  # collapsed until there is something to pick
    at.text_input(key="company_name").input("Acme Robotics")
    at = _find_roles(at)

    assert not at.exception
    assert _posting_box(at).proto.expanded is True  # opened: the roles found are in sight
    picker = at.selectbox(key="open_role")
    assert picker.label == "…or one of its 3 open roles on Greenhouse"
    assert picker.options[1] == "Senior Backend Engineer · Engineering · Lyon"
    picker.select_index(1)
    at = next(b for b in at.button if b.label == "Research").click().run()

    assert not at.exception
    assert [job.job_description_url for job in _jobs(app_env)] == [POSTING_URL]


def test_roles_found_for_one_company_go_when_the_name_changes(app_env, fake_sources):
    at = open_page("pages/new_research.py")
    at.text_input(key="company_name").input("Acme Robotics")
    at = _find_roles(at)
    at.selectbox(key="open_role").select_index(1)
    at.text_input(key="company_name").input("Initech")  # another company, whose roles were never asked for
    at = next(b for b in at.button if b.label == "Research").click().run()

    assert not at.exception
    # Initech's job has no posting: the role picked from Acme's board went with Acme's name.
    assert [(job.company_name, job.job_description_url) for job in _jobs(app_env)] == [("Initech", None)]


def _jobs(app_env) -> list[Job]:
    """Every job in the app's database."""
    engine = make_engine(app_env["DATABASE_URL"])
    try:
        with reading(engine) as session:
            return list(session.exec(select(Job)))
    finally:
        engine.dispose()


def test_the_api_lists_open_roles_and_says_when_there_is_no_board(client):
    found = client.get("/api/open-roles", params={"companyName": "Acme Robotics"})
    missing = client.get("/api/open-roles", params={"companyName": "Initech"})
    bad = client.get("/api/open-roles", params={"company": "Acme"})

    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["service"], body["token"], len(body["roles"])) == ("greenhouse", GREENHOUSE_TOKEN, 3)
    assert body["roles"][0] == {
        "title": "Senior Backend Engineer",
        "team": "Engineering",
        "location": "Lyon",
        "postingUrl": POSTING_URL,
    }
    assert missing.status_code == 404 and "No Greenhouse, Lever or Ashby board" in missing.json()["error"]
    assert bad.status_code == 400


def test_the_cli_lists_open_roles(app_env):
    done = _cli("Acme Robotics", command="roles")

    assert done.returncode == 0, done.stderr
    assert [role["postingUrl"] for role in json.loads(done.stdout)["roles"]][0] == POSTING_URL
    assert _cli("Initech", command="roles").returncode == 1


def test_a_picked_role_url_is_a_posting_with_its_pay(client, fake_site):
    status = _wait(client, _submit(client, {"companyName": "Acme Robotics", "jobDescriptionUrl": POSTING_URL})["jobId"])

    assert status["status"] == "completed", status["message"]
    assert status["briefing"]["salary"]["citations"][0]["quote"] == "Pay range (Lyon): EUR 95,000 – 120,000"
    assert status["briefing"]["salary"]["period"] is None  # Greenhouse states no interval


def test_the_job_page_names_the_company_picked_and_offers_to_correct_it(client, fake_site, app_env):
    status = _wait(client, _submit(client, {"companyName": "Acme Robotics"})["jobId"])
    at = open_page("pages/job.py", job=status["jobId"])

    assert not at.exception
    assert any("Taken to be **Acme Robotics** (French robotics company)" in text.value for text in at.markdown)
    at.text_input(key="corrected_url").input(fake_site.url + "/about")
    at = next(b for b in at.button if b.label == "Research this website instead").click().run()
    assert not at.exception
    assert sorted(job.company_url or "" for job in _jobs(app_env)) == ["", fake_site.url + "/about"]


def test_a_job_given_its_website_says_the_article_matched_it_and_offers_no_correction(client, fake_site, app_env):
    status = _wait(client, _submit(client, {"companyName": "Acme Robotics", "companyUrl": fake_site.url})["jobId"])
    at = open_page("pages/job.py", job=status["jobId"])

    assert not at.exception
    assert status["briefing"]["identifiedAs"]["title"] == "Acme Robotics"
    notices = [text.value for text in at.markdown if "Acme Robotics** (French robotics company)" in text.value]
    assert notices and "its official website is on the domain you gave" in notices[0]
    assert not any("Taken to be" in text.value for text in at.markdown)
    assert "corrected_url" not in [box.key for box in at.text_input]
