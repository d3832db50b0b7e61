"""The JSON API: a FastAPI app, mounted at /api by app.py through `st.App(routes=ROUTES)`.

FastAPI routes each request (a JSON 404 for an unknown path, a JSON 405 with `Allow` for a wrong
method), validates path and query parameters against the pydantic models of api.schemas and
generates the OpenAPI document from the same models. Bodies are read here, not by FastAPI: its
size limit answers in plain text, and a body is refused (413) before it is read past 320 KB.
Handlers are async and never block the event loop (it also carries Streamlit's websockets): every
database or runner call goes through `run_in_threadpool`. Every refusal is
`{success: false, error, field?}`; anything unexpected is logged and answered with a generic JSON
500, never a traceback.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from functools import cache
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount

from api.auth import is_authorized
from api.schemas import (
    BODY_MODELS,
    ESTIMATED_DURATION,
    BatchAccepted,
    BatchStatusResponse,
    BatchSubmission,
    DeleteResponse,
    ErrorResponse,
    HealthResponse,
    JobPage,
    JobsQuery,
    JobStatusResponse,
    OpenRolesQuery,
    ResearchSubmission,
    SubmitResponse,
)
from api.status_json import BATCH_URL, STATUS_URL, Encoded, batch_status, encoded, job_status, known_encoding
from core.errors import InvalidInput, PipelineError
from core.status import JobStatus
from db import jobs
from db.deletion import DeleteRefused
from db.history import count_jobs, decode_cursor, list_jobs
from db.models import Job, elapsed_ms, iso
from db.store import get_briefing
from pipeline.batch_input import MAX_COMPANIES, BadBatch, validate
from pipeline.markdown import markdown_filename
from pipeline.models import OpenRoles
from pipeline.pdf import pdf_filename
from pipeline.request import parse_request
from worker.documents import job_markdown, job_pdf
from worker.open_roles import open_roles
from worker.runner import Runner, get_runner, started_runner
from worker.status import cached_report, report

log = logging.getLogger(__name__)

# The largest valid submission: its strings at their longest (name 100, role 120, two URLs of
# 2 048 and a posting of 20 000 characters = 24 316 characters), each character sent JSON-escaped
# as a surrogate pair ("\ud83d\ude00", 12 bytes): 291 792 bytes. 320 KiB (327 680 bytes) leaves
# 35 888 bytes for keys, punctuation and whitespace; anything larger is refused with 413.
MAX_BODY_BYTES = 320 * 1024
PREFIX = "/api"
UNEXPECTED = "Something went wrong on our side. It has been logged; please try again."
REF = "#/components/schemas/{model}"

ERRORS = {
    400: "The request is malformed: not JSON, or an unknown or bad query parameter.",
    401: "A bearer token is required (PREP_API_TOKEN is set) and was missing or wrong.",
    404: "There is no job with that id.",
    409: "The job is not in a state that allows this.",
    413: "The request body is larger than 320 KB.",
    415: "The request body must be sent as application/json.",
    422: "The request is well-formed JSON but not a valid request; `field` names the culprit.",
    500: "An unexpected error on our side; it was logged.",
}


class ApiError(Exception):
    """A request the API refuses, with the status code and the sentence the client gets."""

    def __init__(self, status: int, message: str, field: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field, self.headers = status, message, field, headers

    def response(self) -> JSONResponse:
        """`{success: false, error, field?}` with this error's status and headers."""
        body: dict = {"success": False, "error": self.message}
        if self.field:
            body["field"] = self.field
        return JSONResponse(body, self.status, headers=self.headers)


def _unknown_job() -> ApiError:
    return ApiError(404, "There is no job with that id.")


# -- refusals as JSON ----------------------------------------------------------------------------

_SENTENCES = {
    "missing": "{field} is required.",
    "extra_forbidden": "{field} is not a field of this request.",
    "string_type": "{field} must be a string.",
    "bool_type": "{field} must be true or false.",
    "bool_parsing": "{field} must be true or false.",
    "int_parsing": "{field} must be a whole number.",
    "int_type": "{field} must be a whole number.",
    "enum": "{field} must be one of: {expected}.",
    "string_too_short": "{field} must not be empty.",
    "string_too_long": "{field} is too long (at most {max_length} characters).",
    "too_long": "{field} has {actual_length} items; at most {max_length}.",
    "too_short": "{field} must not be empty.",
    "greater_than_equal": "{field} must be at least {ge}.",
    "less_than_equal": "{field} must be at most {le}.",
}


def _first_error(errors: list[dict], status: int, skip: int = 0) -> ApiError:
    """The first pydantic error as one sentence naming its field (`skip` drops loc's leading parts)."""
    error = errors[0]
    field = ".".join(str(part) for part in error["loc"][skip:]) or None
    if error["type"] == "extra_forbidden" and status == 400:
        return ApiError(400, f"Unknown query parameter: {field or '(no name)'}.", field)
    template = _SENTENCES.get(error["type"])
    context = {key: str(value).replace("'", "") for key, value in (error.get("ctx") or {}).items()}
    message = template.format(field=field, **context) if template else f"{field}: {error['msg']}."
    return ApiError(status, message, field)


def _http_error(error: HTTPException) -> ApiError:
    """The router's own refusals (no such path, a method the path does not take) as our JSON."""
    if error.status_code == 405:
        allow = (error.headers or {}).get("Allow", "")
        return ApiError(405, f"Use {allow} for this path.", headers={"Allow": allow})
    if error.status_code == 404:
        return ApiError(404, "There is no such API endpoint; see /api/openapi.json.")
    return ApiError(error.status_code, "The request could not be read.")


class GuardedRoute(APIRoute):
    """A route whose refusals are JSON errors, and whose surprises are logged and a generic 500."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as error:
                return error.response()
            except RequestValidationError as invalid:  # path or query parameters: the URL is at fault
                return _first_error(list(invalid.errors()), 400, skip=1).response()
            except Exception:
                log.exception("%s %s failed", request.method, request.url.path)
                return ApiError(500, UNEXPECTED).response()

        return guarded


# -- what every route depends on -------------------------------------------------------------------

bearer = HTTPBearer(
    scheme_name="bearerAuth",
    description="The value of PREP_API_TOKEN; every route but /api/health needs it when set.",
    auto_error=False,  # checked below, in constant time, and only when a token is configured
)


async def the_runner(request: Request, _credentials: Annotated[object, Depends(bearer)]) -> Runner:
    """This process's runner, once the request's bearer token is checked (when one is configured)."""
    runner = started_runner() or await run_in_threadpool(get_runner)
    if not is_authorized(request.headers, runner.settings.api_token):
        raise ApiError(401, "A valid bearer token is required.", headers={"WWW-Authenticate": "Bearer"})
    return runner


async def plain_query(request: Request) -> None:
    """Refuse query parameters on a route that takes none (a typo must not be ignored silently), and
    a parameter given twice (each takes one value; FastAPI would keep the last and drop the rest);
    GET /api/jobs refuses unknown ones through its query model. Async: FastAPI runs a plain
    function dependency on a worker thread, a hop every request would pay."""
    query = request.query_params
    if query and not request.scope["route"].dependant.query_params:
        name = next(iter(query))
        raise ApiError(400, f"Unknown query parameter: {name or '(no name)'}.", name or None)
    repeated = next((name for name in query if len(query.getlist(name)) > 1), None)
    if repeated is not None:
        raise ApiError(400, f"Query parameter {repeated or '(no name)'} is given more than once.", repeated or None)


RunnerDep = Annotated[Runner, Depends(the_runner)]
JobId = Annotated[str, Path(alias="jobId", min_length=1, description="The jobId that submit returned.")]
BatchId = Annotated[str, Path(alias="batchId", min_length=1, description="The batchId the batch submit returned.")]


async def _json_body(request: Request) -> object:
    """The body parsed as JSON: 415 unless sent as JSON, 413 past MAX_BODY_BYTES (declared or streamed)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiError(415, "Send the request body as JSON, with Content-Type: application/json.")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.strip().isascii() and declared.strip().isdigit()):
            raise ApiError(400, "The Content-Length header is not a number.")
        if int(declared) > MAX_BODY_BYTES:
            raise ApiError(413, f"The request body is larger than {MAX_BODY_BYTES // 1024} KB.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, f"The request body is larger than {MAX_BODY_BYTES // 1024} KB.")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError and bad UTF-8 are both ValueErrors
        raise ApiError(400, "The request body is not valid JSON.") from None


Model = TypeVar("Model", bound=BaseModel)


def body_of(model: type[Model]) -> Callable[[Request], Coroutine[Any, Any, Model]]:
    """A dependency: the request body read as `model`, or an ApiError naming what is wrong."""

    async def read(request: Request) -> Model:
        data = await _json_body(request)
        if not isinstance(data, Mapping):
            raise ApiError(422, "The request body must be a JSON object.")
        try:
            return model.model_validate(data)
        except ValidationError as invalid:
            raise _first_error(invalid.errors(include_url=False), 422) from None

    return read


def _json(model: type[BaseModel], description: str, **headers: str) -> dict[str, Any]:
    """A documented reply: `model` as JSON, with the named headers (required)."""
    reply: dict[str, Any] = {"model": model, "description": description}
    if headers:
        reply["headers"] = {
            name.replace("_", "-").title(): {"description": text, "required": True, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return reply


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: _json(ErrorResponse, ERRORS[code]) for code in codes}


def _download(media_type: str, what: str, extension: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A briefing download's 200: the document as `media_type`, named by Content-Disposition."""
    filename = f'attachment; filename="<company>-briefing-<id>.{extension}"'
    return {
        "description": f"The briefing as {what}.",
        "headers": {"Content-Disposition": {"description": filename, "required": True, "schema": {"type": "string"}}},
        "content": {media_type: {"schema": schema}},
    }


def _body(model: type[BaseModel]) -> dict[str, Any]:
    """The requestBody of an operation whose body `body_of(model)` reads."""
    schema = {"$ref": REF.format(model=model.__name__)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


_ACCEPTED = _json(
    SubmitResponse,
    "Queued; poll statusUrl. A repeat of the same request within seconds returns the same job.",
    location="The job's status URL.",
)
_BODY_ERRORS = _errors(413, 415, 422)

public = APIRouter(route_class=GuardedRoute, dependencies=[Depends(plain_query)], responses=_errors(400, 500))
router = APIRouter(route_class=GuardedRoute, dependencies=[Depends(plain_query)], responses=_errors(400, 401, 422, 500))


def _accepted(job: Job) -> JSONResponse:
    status_url = STATUS_URL.format(job.id)
    body = {
        "success": True,
        "jobId": job.id,
        "company": job.company_name,
        "role": job.role,
        "deepMode": job.deep_mode,
        "statusUrl": status_url,
        "estimatedDuration": ESTIMATED_DURATION,
    }
    return JSONResponse(body, 202, headers={"Location": status_url})


@router.post(
    "/research-direct",
    operation_id="submitResearch",
    summary="Queue research on a company",
    description="Starts a background job: read the company's site and GitHub, then write a briefing.",
    status_code=202,
    responses={202: _ACCEPTED, **_BODY_ERRORS},
    openapi_extra=_body(ResearchSubmission),
)
async def submit(
    runner: RunnerDep, submission: Annotated[ResearchSubmission, Depends(body_of(ResearchSubmission))]
) -> Response:
    """Validate, queue (or find the twin of a double submit), 202."""
    try:
        research = parse_request(
            submission.company_name,
            submission.company_url,
            submission.role,
            submission.deep_mode,
            submission.refresh,
            allow_private=runner.settings.allow_private_urls,
            job_description=submission.job_description,
            job_description_url=submission.job_description_url,
        )
    except InvalidInput as error:
        raise ApiError(422, error.message, error.field) from None
    job, _created = await run_in_threadpool(runner.submit, research)
    return _accepted(job)


def _fresh(if_none_match: str | None, etag: str) -> bool:
    """True when the client's If-None-Match already names this ETag (RFC 9110 weak comparison)."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def _encoded_status(runner: Runner, job_id: str) -> Encoded | None:
    found = report(runner.engine, job_id, workers=runner.settings.workers, prices=runner.settings.prices)
    return encoded(found) if found else None


@router.get(
    "/research-status/{jobId}",
    operation_id="getResearchStatus",
    summary="A job's status, and its briefing once done",
    description="Every answer carries an ETag; with `If-None-Match` set to it, an unchanged status is a 304.",
    responses={
        200: _json(JobStatusResponse, "The job's status.", etag="Send it back in If-None-Match."),
        304: {"description": "Unchanged since the ETag sent in If-None-Match; no body."},
        **_errors(404),
    },
)
async def status(request: Request, runner: RunnerDep, job_id: JobId) -> Response:
    """The status object, with the briefing once completed.

    A terminal job's status comes from memory without a thread hop; every answer carries an ETag,
    and a client that sends it back in If-None-Match gets 304 with no body.
    """
    cached = cached_report(runner.engine, job_id)
    found = (known_encoding(cached) if cached else None) or await run_in_threadpool(_encoded_status, runner, job_id)
    if found is None:
        raise _unknown_job()
    headers = {"ETag": found.etag, "Cache-Control": "no-cache"}
    if _fresh(request.headers.get("if-none-match"), found.etag):
        return Response(status_code=304, headers=headers)
    return Response(found.body, media_type="application/json", headers=headers)


def _summary(job: Job) -> dict:
    return {
        "jobId": job.id,
        "companyName": job.company_name,
        "role": job.role,
        "status": job.status.value,
        "createdAt": iso(job.created_at),
        "updatedAt": iso(job.updated_at),
        "durationMs": elapsed_ms(job.started_at, job.finished_at) if job.started_at and job.finished_at else None,
        "statusUrl": STATUS_URL.format(job.id),
    }


@router.get(
    "/jobs",
    operation_id="listJobs",
    summary="The history of jobs, newest first",
    description="Keyset pagination: pass the page's nextCursor as `cursor` to get the next page.",
    responses={200: _json(JobPage, "A page of jobs.")},
)
async def history(runner: RunnerDep, query: Annotated[JobsQuery, Query()]) -> Response:
    """Jobs newest first, filtered, one keyset page at a time."""
    if query.cursor:
        try:
            decode_cursor(query.cursor)
        except ValueError:
            raise ApiError(400, "cursor is not one this API returned.", "cursor") from None
    page = await run_in_threadpool(
        list_jobs,
        runner.engine,
        status=query.status,
        q=query.q,
        limit=query.limit,
        cursor=query.cursor,
        batch_id=query.batch,
    )
    return JSONResponse({"jobs": [_summary(job) for job in page.jobs], "nextCursor": page.next_cursor})


def _briefing_of(runner: Runner, job_id: str) -> tuple[Job, dict]:
    job = jobs.get_job(runner.engine, job_id)
    if job is None:
        raise _unknown_job()
    briefing = get_briefing(runner.engine, job_id)
    if briefing is None:
        raise ApiError(409, f"This job has no briefing yet: it is {job.status.value}.")
    return job, briefing


@router.get(
    "/research/{jobId}/markdown",
    operation_id="getResearchMarkdown",
    summary="The briefing as a Markdown download",
    responses={200: _download("text/markdown", "Markdown", "md", {"type": "string"}), **_errors(404, 409)},
    response_class=Response,
)
async def markdown(runner: RunnerDep, job_id: JobId) -> Response:
    """The briefing as a Markdown attachment."""
    job, briefing = await run_in_threadpool(_briefing_of, runner, job_id)
    text = await run_in_threadpool(job_markdown, runner.engine, job, briefing, runner.settings.prices)
    filename = markdown_filename(job.company_name, job.id)
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/research/{jobId}/pdf",
    operation_id="getResearchPdf",
    summary="The briefing as a PDF download (the same document as the Markdown)",
    responses={
        200: _download("application/pdf", "PDF", "pdf", {"type": "string", "contentMediaType": "application/pdf"}),
        **_errors(404, 409),
    },
    response_class=Response,
)
async def pdf(runner: RunnerDep, job_id: JobId) -> Response:
    """The same document as the Markdown, as a PDF attachment."""
    job, briefing = await run_in_threadpool(_briefing_of, runner, job_id)
    data = await run_in_threadpool(job_pdf, runner.engine, job, briefing, runner.settings.prices)
    filename = pdf_filename(markdown_filename(job.company_name, job.id))
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.post(
    "/research/{jobId}/retry",
    operation_id="retryResearch",
    summary="Run a job again with the same inputs",
    status_code=202,
    responses={202: _ACCEPTED, **_errors(404)},
)
async def retry(runner: RunnerDep, job_id: JobId) -> Response:
    """A new job with the same inputs, 202 like submit."""
    job = await run_in_threadpool(runner.retry, job_id)
    if job is None:
        raise _unknown_job()
    return _accepted(job)


def _cancel(runner: Runner, job_id: str) -> dict:
    job = jobs.get_job(runner.engine, job_id)
    if job is None:
        raise _unknown_job()
    if not job.status.is_terminal:
        job = runner.cancel(job_id)
        if job is None:  # deleted meanwhile
            raise _unknown_job()
        if job.status not in (JobStatus.COMPLETED, JobStatus.FAILED):  # else it finished as we asked
            found = job_status(runner.engine, job_id, workers=runner.settings.workers, prices=runner.settings.prices)
            if found is None:
                raise _unknown_job()
            return found
    raise ApiError(409, f"This job has already finished: it is {job.status.value}.")


@router.post(
    "/research/{jobId}/cancel",
    operation_id="cancelResearch",
    summary="Cancel a queued or running job",
    description="A queued job never starts; a running one stops at its next step boundary and ends cancelled.",
    status_code=202,
    responses={
        202: _json(JobStatusResponse, "Cancelled (queued job) or stopping at the next step (running job)."),
        **_errors(404, 409),
    },
)
async def cancel(runner: RunnerDep, job_id: JobId) -> Response:
    """Stop a queued job now, a running one at its next step."""
    return JSONResponse(await run_in_threadpool(_cancel, runner, job_id), 202)


def _delete(runner: Runner, job_id: str) -> dict:
    try:
        deleted = runner.delete(job_id)
    except DeleteRefused as refused:
        raise ApiError(409, refused.message) from None
    if deleted is None:
        raise _unknown_job()
    return {"success": True, "jobId": deleted.job_id, "wasRunning": deleted.was_running}


@router.delete(
    "/jobs/{jobId}",
    operation_id="deleteJob",
    summary="Delete a job, its attempts and its briefing",
    description=(
        "A queued or running job is cancelled by its deletion. Refused (409) while a retry of the job "
        "names it, or while its batch is still running."
    ),
    responses={200: _json(DeleteResponse, "Deleted."), **_errors(404, 409)},
)
async def delete(runner: RunnerDep, job_id: JobId) -> Response:
    """Remove the job, its attempts and its briefing (cancelling it if running)."""
    return JSONResponse(await run_in_threadpool(_delete, runner, job_id))


@router.post(
    "/batches",
    operation_id="submitBatch",
    summary=f"Queue research on up to {MAX_COMPANIES} companies at once",
    description="Every company is validated first: one bad entry and nothing is queued (422 names them all).",
    status_code=202,
    responses={
        202: _json(BatchAccepted, "Queued, every company as a job.", location="The batch's status URL."),
        **_BODY_ERRORS,
    },
    openapi_extra=_body(BatchSubmission),
)
async def submit_batch(
    runner: RunnerDep, submission: Annotated[BatchSubmission, Depends(body_of(BatchSubmission))]
) -> Response:
    """Validate every company, then queue them all as one batch, 202."""
    companies = [company.model_dump(by_alias=True) for company in submission.companies]
    try:
        requests = validate(
            companies,
            deep_mode=submission.deep_mode,
            allow_private=runner.settings.allow_private_urls,
            job_description=submission.job_description,
            job_description_url=submission.job_description_url,
        )
    except BadBatch as bad:
        first = bad.errors[0]
        field = f"companies.{first.line - 1}.{first.field}" if first.line and first.field else first.field
        message = "; ".join(f"company {e.line}: {e.message}" if e.line else e.message for e in bad.errors)
        raise ApiError(422, f"Nothing was queued. {message[0].upper()}{message[1:]}", field or "companies") from None
    batch, members = await run_in_threadpool(runner.submit_batch, requests)
    status_url = BATCH_URL.format(batch.id)
    body = {"success": True, "batchId": batch.id, "jobIds": [job.id for job in members], "statusUrl": status_url}
    return JSONResponse(body, 202, headers={"Location": status_url})


@router.get(
    "/batches/{batchId}",
    operation_id="getBatch",
    summary="A batch's progress: counts and each job's status",
    responses={
        200: _json(BatchStatusResponse, "The batch."),
        404: _json(ErrorResponse, "There is no batch with that id."),
    },
)
async def get_batch(runner: RunnerDep, batch_id: BatchId) -> Response:
    """The batch's counts and each job's progress."""
    found = await run_in_threadpool(batch_status, runner.engine, batch_id, runner.settings.prices)
    if found is None:
        raise ApiError(404, "There is no batch with that id.")
    return JSONResponse(found)


def _health() -> dict:
    runner = get_runner()
    return {
        "status": "ok",
        "db": "ok",
        "workers": runner.settings.workers,
        "queued": count_jobs(runner.engine, status=JobStatus.QUEUED),
        "processing": count_jobs(runner.engine, status=JobStatus.PROCESSING),
        "github": runner.services.github_budget.report(),
    }


@public.get(
    "/health",
    operation_id="getHealth",
    summary="Liveness, and the queue counted in the database",
    responses={
        200: _json(HealthResponse, "Up, and the database answers."),
        503: _json(HealthResponse, "The database could not be queried."),
    },
)
async def health() -> Response:
    """No token needed: up, and the queue as the database counts it."""
    try:
        return JSONResponse(await run_in_threadpool(_health))
    except Exception:
        log.exception("health check: the database query failed")
        body = {"status": "error", "db": "error", "workers": None, "queued": None, "processing": None}
        return JSONResponse(body, 503)


@router.get(
    "/open-roles",
    operation_id="listOpenRoles",
    summary="The company's open roles on its Greenhouse, Lever or Ashby board",
    responses={
        200: _json(OpenRoles, "The board and its roles; a role's postingUrl can be sent as jobDescriptionUrl."),
        404: _json(ErrorResponse, "No Greenhouse, Lever or Ashby board has this company's name."),
        502: _json(ErrorResponse, "A job board could not be asked; try again later."),
        **_errors(400),
    },
)
async def list_open_roles(runner: RunnerDep, query: Annotated[OpenRolesQuery, Query()]) -> Response:
    """The roles open on the company's job board, to pick one as the posting."""
    try:
        board = await run_in_threadpool(open_roles, runner.services, query.company_name, query.company_url)
    except PipelineError as error:
        raise ApiError(502, f"The job boards could not be asked: {error.message}") from None
    if board is None:
        raise ApiError(404, "No Greenhouse, Lever or Ashby board has this company's name.")
    return JSONResponse(board.to_json_dict())


@router.get(
    "/openapi.json",
    operation_id="getOpenApi",
    summary="This document",
    responses={
        200: {
            "description": "The OpenAPI 3.1 document.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def openapi(runner: RunnerDep) -> Response:
    """The OpenAPI 3.1 document of this API."""
    return JSONResponse(openapi_document(runner.settings.api_token is not None))


api = FastAPI(
    title="Interview Prep API",
    version="1.0.0",
    description=(
        "Queue research on a company, poll its status, and fetch the interview briefing. "
        "Errors are `{success: false, error, field?}`."
    ),
    servers=[{"url": PREFIX}],
    openapi_url=None,  # served by the route above, behind the token like every route but health
    docs_url=None,
    redoc_url=None,
    exception_handlers={HTTPException: lambda _request, error: _http_error(error).response()},
)
api.include_router(router)
api.include_router(public)


@cache
def openapi_document(token_required: bool) -> dict[str, Any]:
    """The OpenAPI 3.1 document FastAPI generates from the routes and models (shared: do not mutate).

    Two things FastAPI cannot see are added: the schemas of the bodies read by `body_of`, and,
    when PREP_API_TOKEN is unset, that the bearer token may be left out.
    """
    document = copy.deepcopy(api.openapi())
    _, bodies = models_json_schema([(model, "validation") for model in BODY_MODELS], by_alias=True, ref_template=REF)
    document["components"]["schemas"].update(bodies["$defs"])
    if not token_required:
        for item in document["paths"].values():
            for operation in item.values():
                if operation.get("security"):
                    operation["security"] = [*operation["security"], {}]
    return document


class _Mount(Mount):
    """A Mount that takes every path under its prefix. Starlette matches the rest of the path with
    `.*`, which stops at a newline (`%0A` in a job id), and that request would fall through to
    Streamlit's plain-text 404 instead of the API's JSON one."""

    def __init__(self, path: str, app: FastAPI) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


ROUTES = [_Mount(PREFIX, api)]
