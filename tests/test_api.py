"""The JSON API through its ASGI routes: real runner, real database, loopback fakes outside.

Every response any test here receives is checked against the OpenAPI document the API serves
(status code listed, media type listed, required headers present, body valid for its schema),
by a response hook on the client. One test runs schemathesis on the served document; one starts
the real `streamlit run app.py` and drives it over HTTP like docs/api.md does.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import httpx
import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig
from sqlalchemy import text
from starlette.applications import Starlette

from api.routes import MAX_BODY_BYTES, PREFIX, ROUTES, UNEXPECTED, openapi_document, public, router
from core.request import MAX_URL_CHARS
from harness.fakes.server import Reply
from harness.live_app import app_environment, serve_app
from pipeline.markdown import markdown_filename
from tests.api_contract import CONTRACT
from worker.runner import get_runner

WAIT_S = 30.0  # bound on any wait for a job or a server, seconds
POLL_S = 0.05
TERMINAL = {"completed", "failed", "cancelled"}
TOKEN = "s3cret-token"
BRIEFING_KEYS = {
    "companyName",
    "overview",
    "products",
    "techStack",
    "salary",
    "salarySource",
    "interviewQuestions",
    "preparationTips",
    "keyTalkingPoints",
    "topChallenges",
    "cultureInsights",
    "smartQuestions",
    "redFlags",
    "prepChecklist",
    "roleFit",
    "notVerified",
    "verification",
    "sources",
    "unread",
    "identifiedAs",
    "grounded",
    "analysisMode",
    "model",
    "incomplete",
}
SEED_LISTS = ("products", "techStack", "interviewQuestions", "preparationTips", "keyTalkingPoints", "topChallenges")
SEED_TYPES = {
    "companyName": str,
    "overview": str,
    "cultureInsights": str,
    **dict.fromkeys((*SEED_LISTS, "smartQuestions", "redFlags", "prepChecklist"), list),
    "salaryRange": (dict, type(None)),
    "averageSalary": (float, int, type(None)),
}


@dataclass(frozen=True)
class Op:
    """One documented operation, with its path as a client calls it."""

    method: str
    path: str
    operation_id: str
    public: bool


OPERATIONS = [
    Op(method.upper(), PREFIX + path, spec["operationId"], not spec.get("security"))
    for path, item in openapi_document(False)["paths"].items()
    for method, spec in item.items()
]

# -- helpers -----------------------------------------------------------------------------------


def _body(fake_site, **fields) -> dict:
    return {"companyName": "Acme Robotics", "companyUrl": fake_site.url, "role": "Backend Engineer", **fields}


def _submit(client, body: dict) -> dict:
    response = client.post("/api/research-direct", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def _status(client, job_id: str) -> dict:
    response = client.get(f"/api/research-status/{job_id}")
    assert response.status_code == 200, response.text
    return response.json()


def _wait(client, job_id: str, until=lambda s: s["status"] in TERMINAL) -> dict:
    """Poll the status until `until` holds; fails after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        status = _status(client, job_id)
        if until(status):
            return status
        assert time.monotonic() < deadline, f"job {job_id} still {status['status']} after {WAIT_S} s"
        time.sleep(POLL_S)


def _slow_home(fake_site, delay_s: float, times: int = 1) -> None:
    fake_site.fail("/", *[replace(fake_site.page("/"), delay_s=delay_s)] * times)


def _error(response: httpx.Response, status: int, field: str | None = None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body.get("field") == field
    assert body["error"].endswith(".") and "Traceback" not in body["error"]
    return body["error"]


def _url(template: str, job_id: str = "0" * 32) -> str:
    return template.replace("{jobId}", job_id)


# -- submit and status ---------------------------------------------------------------------------


def test_submit_then_poll_until_the_briefing_is_there(client, fake_site, fake_anthropic):
    response = client.post("/api/research-direct", json=_body(fake_site))

    assert response.status_code == 202
    submitted = response.json()
    job_id = submitted["jobId"]
    assert submitted == {
        "success": True,
        "jobId": job_id,
        "company": "Acme Robotics",
        "role": "Backend Engineer",
        "deepMode": False,
        "statusUrl": f"/api/research-status/{job_id}",
        "estimatedDuration": "30-60 seconds",
    }
    assert response.headers["location"] == submitted["statusUrl"]

    status = _wait(client, job_id)
    assert status["status"] == "completed", status["message"]
    assert (status["isComplete"], status["isFailed"], status["progress"]) == (True, False, "6/6")
    assert set(status["briefing"]) == BRIEFING_KEYS
    assert status["briefing"]["analysisMode"] == "claude"
    seed = status["results"]  # the seed's names and types, built from the verified briefing
    assert set(seed) == set(SEED_TYPES) and seed["companyName"] == "Acme Robotics"
    for name, kind in SEED_TYPES.items():
        value = seed[name]
        assert isinstance(value, kind) and (kind is not list or all(isinstance(item, str) for item in value)), name
    overview = [item["text"] for item in status["briefing"]["overview"]]
    assert seed["overview"] == " ".join(text if text.endswith(".") else f"{text}." for text in overview)
    assert seed["interviewQuestions"] == [item["text"] for item in status["briefing"]["interviewQuestions"]]
    assert [step["id"] for step in status["steps"]] == [
        "identify-company",
        "scrape-website",
        "search-github",
        "read-sources",
        "analyze-with-claude",
        "store-research",
    ]
    assert all(set(step) == {"id", "status", "attempts", "durationMs", "error"} for step in status["steps"])
    assert all(step["status"] == "succeeded" and step["attempts"] == 1 for step in status["steps"])
    assert status["createdAt"].endswith("Z") and status["updatedAt"] >= status["createdAt"]
    assert "Backend Engineer" in fake_anthropic.calls[0].user_text


def test_results_stay_null_until_the_job_completes(client, fake_site):
    _slow_home(fake_site, 1.0)
    job_id = _submit(client, _body(fake_site))["jobId"]

    early = _status(client, job_id)

    assert early["status"] in {"queued", "processing"}
    assert early["results"] is None and early["isComplete"] is False
    assert early["message"]
    assert _wait(client, job_id)["results"] is not None


def test_a_double_submit_returns_the_same_job(client, fake_site):
    first = _submit(client, _body(fake_site))
    second = _submit(client, _body(fake_site))
    other_role = _submit(client, _body(fake_site, role="Data Engineer"))

    assert second["jobId"] == first["jobId"]
    assert other_role["jobId"] != first["jobId"]


def test_deep_mode_is_passed_through(client, fake_site):
    submitted = _submit(client, _body(fake_site, deepMode=True))

    assert submitted["deepMode"] is True
    status = _wait(client, submitted["jobId"])
    assert status["deepMode"] is True
    assert any((source["url"] or "").endswith("/about") for source in status["briefing"]["sources"])


# -- request errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"companyUrl": "https://acme.example"}, 422, "companyName"),
        ({"companyName": 5}, 422, "companyName"),
        ({"companyName": None}, 422, "companyName"),
        ({"companyName": "Acme", "deepMode": "5"}, 422, "deepMode"),
        ({"companyName": "Acme", "deepMode": 1}, 422, "deepMode"),
        ({"companyName": "Acme", "role": ["Engineer"]}, 422, "role"),
        ({"companyName": "Acme", "company_url": "https://acme.example"}, 422, "company_url"),
        ({"companyName": "Acme", "extra": True}, 422, "extra"),
        ({"companyName": "   "}, 422, "companyName"),
        ({"companyName": "A" * 101}, 422, "companyName"),
        ({"companyName": "Acme\u200b"}, 422, "companyName"),
        ({"companyName": "Acme", "role": "R" * 121}, 422, "role"),
        ({"companyName": "Acme", "companyUrl": "ftp://acme.example"}, 422, "companyUrl"),
        ([{"companyName": "Acme"}], 422, None),
        ("Acme", 422, None),
    ],
)
def test_invalid_submissions_are_refused_with_the_field(client, body, status, field):
    _error(client.post("/api/research-direct", json=body), status, field)

    assert client.get("/api/jobs").json()["jobs"] == []  # nothing was queued


@pytest.mark.parametrize("raw", [b"{", b"", b"{'companyName': 'Acme'}", b"\xff\xfe{}", b"[" * 10_000])
def test_malformed_json_is_a_400(client, raw):
    response = client.post("/api/research-direct", content=raw, headers={"Content-Type": "application/json"})

    assert "not valid JSON" in _error(response, 400)


def test_a_body_not_sent_as_json_is_a_415(client):
    body, headers = b'{"companyName": "Acme"}', {"Content-Type": "text/plain"}

    response = client.post("/api/research-direct", content=body, headers=headers)

    _error(response, 415)


def test_a_body_over_the_limit_is_a_413_by_its_content_length(client):
    body = {"companyName": "Acme", "role": "x" * MAX_BODY_BYTES}

    response = client.post("/api/research-direct", json=body)

    assert f"{MAX_BODY_BYTES // 1024} KB" in _error(response, 413)


def test_a_streamed_body_over_the_limit_is_a_413_as_it_arrives(client):
    sent = []

    def chunks():  # no Content-Length: the body is sent chunked
        for _ in range(MAX_BODY_BYTES // 4096 + 1):
            sent.append(4096)
            yield b" " * 4096

    response = client.post("/api/research-direct", content=chunks(), headers={"Content-Type": "application/json"})

    assert "content-length" not in response.request.headers
    _error(response, 413)
    assert client.get("/api/jobs").json()["jobs"] == []


def test_a_body_just_under_the_limit_is_read(client, fake_site):
    body = _body(fake_site)
    raw = httpx.Request("POST", "/", json=body).content
    padded = raw + b" " * (MAX_BODY_BYTES - len(raw))

    response = client.post("/api/research-direct", content=padded, headers={"Content-Type": "application/json"})

    assert response.status_code == 202


# -- unknown jobs, fallbacks --------------------------------------------------------------------


@pytest.mark.parametrize("op", [op for op in OPERATIONS if "{jobId}" in op.path], ids=lambda op: op.operation_id)
def test_an_unknown_job_is_a_404(client, op):
    response = client.request(op.method, _url(op.path, "f" * 32))

    assert "no job" in _error(response, 404)


def test_unknown_query_parameters_are_a_400(client):
    _error(client.get(f"/api/research-status/{'0' * 32}", params={"verbose": "1"}), 400, "verbose")
    _error(client.get("/api/health", params={"x": ""}), 400, "x")


def test_a_query_parameter_given_twice_is_a_400_not_its_last_value(client):
    assert "more than once" in _error(client.get("/api/jobs?batch=a&batch=b"), 400, "batch")
    assert client.get("/api/jobs?batch=a").status_code == 200


def test_other_methods_and_paths_answer_json(client):
    wrong_method = client.delete("/api/jobs")
    assert wrong_method.headers["allow"] == "GET"
    _error(wrong_method, 405)
    _error(client.get("/api/research-direct"), 405)
    _error(client.get("/api/no-such-thing"), 404)


# -- history --------------------------------------------------------------------------------------


def test_history_is_newest_first_and_paged_with_a_cursor(client, fake_site):
    submitted = [_submit(client, _body(fake_site, role=f"Engineer {n}"))["jobId"] for n in range(3)]
    for job_id in submitted:
        _wait(client, job_id)

    first = client.get("/api/jobs", params={"limit": 2}).json()
    second = client.get("/api/jobs", params={"limit": 2, "cursor": first["nextCursor"]}).json()

    assert [job["jobId"] for job in first["jobs"] + second["jobs"]] == submitted[::-1]
    assert first["nextCursor"] and second["nextCursor"] is None
    row = first["jobs"][0]
    assert row["companyName"] == "Acme Robotics" and row["role"] == "Engineer 2"
    assert row["status"] == "completed" and row["durationMs"] >= 0
    assert row["statusUrl"] == f"/api/research-status/{row['jobId']}"


def test_history_filters_by_status_and_company_text(client, fake_site):
    done = _submit(client, _body(fake_site, companyName="Globex Robotics"))["jobId"]
    _wait(client, done)
    _slow_home(fake_site, 0.5)
    cancelled = _submit(client, _body(fake_site, companyName="Initech"))["jobId"]
    assert client.post(f"/api/research/{cancelled}/cancel").status_code == 202
    _wait(client, cancelled)

    by_status = client.get("/api/jobs", params={"status": "completed"}).json()["jobs"]
    by_text = client.get("/api/jobs", params={"q": "initech"}).json()["jobs"]
    everything = client.get("/api/jobs", params={"q": "", "cursor": ""}).json()["jobs"]

    assert [job["jobId"] for job in by_status] == [done]
    assert [job["jobId"] for job in by_text] == [cancelled]
    assert {job["jobId"] for job in everything} == {done, cancelled}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "done"}, "status"),
        ({"status": ""}, "status"),
        ({"page": "2"}, "page"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_history_parameters_are_a_400(client, params, field):
    _error(client.get("/api/jobs", params=params), 400, field)


# -- markdown, retry, cancel ----------------------------------------------------------------------


def test_markdown_download_of_a_completed_job(client, fake_site):
    job_id = _submit(client, _body(fake_site))["jobId"]
    _wait(client, job_id)

    response = client.get(f"/api/research/{job_id}/markdown")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/markdown; charset=utf-8"
    filename = markdown_filename("Acme Robotics", job_id)
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert response.text.startswith("# Interview briefing: Acme Robotics\n")
    assert "**Role:** Backend Engineer" in response.text


def test_markdown_before_the_briefing_exists_is_a_409(client, fake_site):
    _slow_home(fake_site, 1.0)
    job_id = _submit(client, _body(fake_site))["jobId"]

    message = _error(client.get(f"/api/research/{job_id}/markdown"), 409)

    assert "no briefing yet" in message
    _wait(client, job_id)


def test_retry_runs_a_new_job_with_the_same_inputs(client, fake_site):
    busy = Reply(503, b"busy", {"Retry-After": "0"})
    fake_site.fail("/", busy, busy, busy)
    first = _wait(client, _submit(client, _body(fake_site, deepMode=True))["jobId"])
    assert first["status"] == "failed"

    response = client.post(f"/api/research/{first['jobId']}/retry")

    assert response.status_code == 202
    again = response.json()
    assert again["jobId"] != first["jobId"]
    assert (again["company"], again["role"], again["deepMode"]) == ("Acme Robotics", "Backend Engineer", True)
    status = _wait(client, again["jobId"])
    assert status["status"] == "completed"
    assert status["retryOf"] == first["jobId"] and status["companyUrl"] == first["companyUrl"]


def test_cancel_a_queued_job_and_it_never_starts(client, fake_site, monkeypatch):
    monkeypatch.setenv("PREP_WORKERS", "1")
    _slow_home(fake_site, 1.0)
    blocker = _submit(client, _body(fake_site, role="First"))["jobId"]
    queued = _submit(client, _body(fake_site, role="Second"))["jobId"]

    response = client.post(f"/api/research/{queued}/cancel")

    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"
    _wait(client, blocker)
    final = _status(client, queued)
    assert final["status"] == "cancelled"
    assert all(step["status"] == "pending" and step["attempts"] == 0 for step in final["steps"])


def test_cancel_a_running_job_stops_it_at_the_next_step(client, fake_site, fake_anthropic):
    _slow_home(fake_site, 1.5)
    job_id = _submit(client, _body(fake_site))["jobId"]
    _wait(client, job_id, until=lambda s: s["status"] == "processing")

    response = client.post(f"/api/research/{job_id}/cancel")

    assert response.status_code == 202
    assert response.json()["status"] in {"processing", "cancelled"}
    final = _wait(client, job_id)
    assert final["status"] == "cancelled"
    assert next(s for s in final["steps"] if s["id"] == "analyze-with-claude")["status"] == "pending"
    assert fake_anthropic.calls == []


def test_cancelling_a_finished_job_is_a_409(client, fake_site):
    job_id = _submit(client, _body(fake_site))["jobId"]
    _wait(client, job_id)

    message = _error(client.post(f"/api/research/{job_id}/cancel"), 409)

    assert "completed" in message
    assert _status(client, job_id)["status"] == "completed"


# -- health, failures -----------------------------------------------------------------------------


def test_health_counts_the_queue_in_the_database(client, fake_site, monkeypatch):
    monkeypatch.setenv("PREP_WORKERS", "1")
    assert client.get("/api/health").json() == {
        "status": "ok",
        "db": "ok",
        "workers": 1,
        "queued": 0,
        "processing": 0,
        "github": {},
    }
    _slow_home(fake_site, 1.0)
    first = _submit(client, _body(fake_site, role="First"))["jobId"]
    second = _submit(client, _body(fake_site, role="Second"))["jobId"]
    _wait(client, first, until=lambda s: s["status"] == "processing")

    busy = client.get("/api/health").json()

    assert (busy["queued"], busy["processing"]) == (1, 1)
    _wait(client, second)


def test_a_failing_database_gives_503_on_health_and_a_generic_500_elsewhere(client, caplog):
    assert client.get("/api/health").status_code == 200
    with get_runner().engine.begin() as connection:
        connection.execute(text("DROP TABLE jobs"))

    with caplog.at_level(logging.ERROR, logger="api.routes"):
        health = client.get("/api/health")
        listing = client.get("/api/jobs")

    assert health.status_code == 503
    assert health.json() == {"status": "error", "db": "error", "workers": None, "queued": None, "processing": None}
    assert listing.status_code == 500
    assert listing.json() == {"success": False, "error": UNEXPECTED}  # no traceback, no SQL
    logged = [record for record in caplog.records if record.name == "api.routes" and record.exc_info]
    assert len(logged) == 2


# -- auth -----------------------------------------------------------------------------------------

PROTECTED = [op for op in OPERATIONS if not op.public]


@pytest.mark.parametrize("op", PROTECTED, ids=lambda op: op.operation_id)
@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN])
def test_with_a_token_set_every_route_but_health_needs_it(client, monkeypatch, op, authorization):
    monkeypatch.setenv("PREP_API_TOKEN", TOKEN)
    headers = {"Authorization": authorization} if authorization else {}

    response = client.request(op.method, _url(op.path), headers=headers)

    _error(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_with_a_token_set_the_right_bearer_gets_in_and_health_stays_open(client, monkeypatch, fake_site):
    monkeypatch.setenv("PREP_API_TOKEN", TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}

    assert client.get("/api/health").status_code == 200
    assert client.get("/api/jobs", headers=auth).status_code == 200
    assert client.post("/api/research-direct", json=_body(fake_site), headers=auth).status_code == 202
    assert client.get("/api/jobs", headers={"Authorization": f"bearer  {TOKEN}"}).status_code == 200
    assert client.get("/api/openapi.json", headers=auth).json() == openapi_document(True)


def test_without_a_token_no_header_is_needed(client):
    assert client.get("/api/jobs").status_code == 200
    status = client.get("/api/openapi.json").json()["paths"]["/research-status/{jobId}"]["get"]
    assert status["security"] == [{"bearerAuth": []}, {}]  # the token may be left out


# -- the document -----------------------------------------------------------------------------------


def test_the_document_lists_exactly_the_served_routes(client):
    document = client.get("/api/openapi.json").json()

    assert document["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    served = {(route.path, method) for route in (*router.routes, *public.routes) for method in route.methods}
    assert documented == served and document["servers"] == [{"url": PREFIX}]
    assert [route.path for route in ROUTES] == [PREFIX]
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_the_document_rejects_what_the_api_rejects():
    """The submit schema is strict: the contract and the handler agree on what is invalid."""
    schema = openapi_document(False)["paths"]["/research-direct"]["post"]["requestBody"]["content"]
    schema = schema["application/json"]["schema"]
    CONTRACT.validate({"companyName": "Acme", "deepMode": True, "role": None}, schema)
    for bad in ({"companyName": "Acme", "deepMode": "5"}, {"companyName": "Acme", "x": 1}, {}):
        with pytest.raises(jsonschema.ValidationError):
            CONTRACT.validate(bad, schema)


# -- schemathesis ---------------------------------------------------------------------------------

AUTH = {"Authorization": f"Bearer {TOKEN}"}

# Loaded eagerly from the document the API serves with a token set (the test below checks that
# they are equal); schemathesis' lazy `from_fixture` needs `Function._nodeid`, gone in pytest 9.
# A body too large to read is refused with 413 before it is parsed; generated negative bodies (a
# posting past its maxLength, in escaped Unicode) can be that large, and 413 rejects them too.
NEGATIVE_REJECTED = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
schema = schemathesis.openapi.from_dict(
    copy.deepcopy(openapi_document(True)),
    config=SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": NEGATIVE_REJECTED}}}
    ),
)
schema.app = Starlette(routes=ROUTES)


@pytest.fixture
def token_env(app_env, monkeypatch) -> dict[str, str]:
    """The app environment with PREP_API_TOKEN set, before the process runner starts."""
    monkeypatch.setenv("PREP_API_TOKEN", TOKEN)
    return {**app_env, "PREP_API_TOKEN": TOKEN}


def test_the_schemathesis_schema_is_the_served_document(client, token_env):
    served = client.get("/api/openapi.json", headers=AUTH).json()

    assert served == schema.raw_schema


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_honours_its_document(case, token_env, fake_site):
    body = case.body
    # A submit's body is one company; a batch's holds several.
    companies = body["companies"] if isinstance(body, dict) and isinstance(body.get("companies"), list) else [body]
    for company in companies:
        url = company.get("companyUrl") if isinstance(company, dict) else 0
        if url is None or (isinstance(url, str) and len(url) <= MAX_URL_CHARS):
            company["companyUrl"] = fake_site.url  # generated jobs read the fake site, never the internet
    posting_url = body.get("jobDescriptionUrl") if isinstance(body, dict) else None
    if isinstance(posting_url, str) and len(posting_url) <= MAX_URL_CHARS:
        body["jobDescriptionUrl"] = fake_site.url + "/careers"  # and read their posting there too

    # Every other check runs (no 5xx, status codes, media types, headers, body schemas, negative
    # data rejected, auth enforced). Positive-data acceptance cannot hold: the server also refuses
    # what a JSON Schema cannot say (blank names, control or invisible characters, unsafe URLs).
    response = case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])

    assert response.status_code < 500


# -- the real app ---------------------------------------------------------------------------------


@pytest.fixture
def live_app(app_env, tmp_path) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port, wired to the fakes, with its own database."""
    workdir = tmp_path / "live"
    workdir.mkdir()
    fakes = {key: value for key, value in app_env.items() if key != "DATABASE_URL"}
    served = serve_app(app_environment(workdir, fakes), workdir)
    try:
        yield served.url
    finally:
        served.stop()


def test_the_real_app_serves_the_api_and_the_pages(live_app, fake_site):
    # As in docs/api.md: curl -X POST .../api/research-direct -H 'Content-Type: application/json' -d '{...}'
    response = httpx.post(
        f"{live_app}/api/research-direct",
        headers={"Content-Type": "application/json"},
        content=f'{{"companyName": "Acme Robotics", "companyUrl": "{fake_site.url}", "role": "Backend Engineer"}}',
    )
    assert response.status_code == 202, response.text
    status_url = live_app + response.json()["statusUrl"]

    deadline = time.monotonic() + WAIT_S
    while (status := httpx.get(status_url).json())["status"] not in TERMINAL:
        assert time.monotonic() < deadline, status
        time.sleep(0.2)

    assert status["status"] == "completed", status["message"]
    assert status["results"]["companyName"] == "Acme Robotics"
    page = httpx.get(f"{live_app}/")
    assert page.status_code == 200 and '<div id="root">' in page.text
    assert httpx.get(f"{live_app}/_stcore/health").text == "ok"
