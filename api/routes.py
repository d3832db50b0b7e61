"""The JSON API's endpoints, served by the Streamlit process through `st.App(routes=ROUTES)`.

Handlers are async and never block the event loop (it also carries Streamlit's websockets):
every database or runner call goes through `run_in_threadpool`. Each handler is wrapped so that
auth is checked first, a refusal is an `ApiError` turned into `{success: false, error, field?}`,
and anything unexpected is logged and answered with a generic JSON 500, never a traceback.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api.auth import is_authorized
from api.openapi import OPERATIONS, openapi_document
from api.schemas import ESTIMATED_DURATION, BatchSubmission, JobsQuery, OpenRolesQuery, ResearchSubmission
from core.errors import InvalidInput, PipelineError
from core.status import JobStatus
from db import jobs
from db.deletion import DeleteRefused
from db.history import count_jobs, decode_cursor, list_jobs
from db.models import Job, elapsed_ms
from db.store import get_briefing
from engine.batch_status import BATCH_URL, batch_status
from engine.documents import job_markdown, job_pdf
from engine.open_roles import open_roles
from engine.runner import Runner, get_runner, started_runner
from engine.status import cached_report, iso, job_status, report
from pipeline.batch_input import BadBatch, validate
from pipeline.markdown import markdown_filename
from pipeline.pdf import pdf_filename
from pipeline.request import parse_request

log = logging.getLogger(__name__)

# The largest valid submission: its strings at their longest (name 100, role 120, two URLs of
# 2 048 and a posting of 20 000 characters = 24 316 characters), each character sent JSON-escaped
# as a surrogate pair ("\ud83d\ude00", 12 bytes): 291 792 bytes. 320 KiB (327 680 bytes) leaves
# 35 888 bytes for keys, punctuation and whitespace; anything larger is refused with 413.
MAX_BODY_BYTES = 320 * 1024
STATUS_URL = "/api/research-status/{}"
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
UNEXPECTED = "Something went wrong on our side. It has been logged; please try again."


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


Handler = Callable[..., Awaitable[Response]]


def guarded(
    handler: Handler, *, public: bool = False, query: frozenset[str] | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint: auth (unless public), query parameters outside `query` refused (when given),
    then the handler; refusals and surprises become JSON."""

    async def endpoint(request: Request) -> Response:
        try:
            if not public:
                runner = started_runner() or await run_in_threadpool(get_runner)
                if not is_authorized(request.headers, runner.settings.api_token):
                    raise ApiError(401, "A valid bearer token is required.", headers={"WWW-Authenticate": "Bearer"})
            unknown = sorted(set(request.query_params) - query) if query is not None else []
            if unknown:
                raise ApiError(400, f"Unknown query parameter: {unknown[0] or '(no name)'}.", unknown[0] or None)
            return await (handler(request) if public else handler(request, runner))
        except ApiError as error:
            return error.response()
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return ApiError(500, UNEXPECTED).response()

    endpoint.__name__ = handler.__name__
    return endpoint


# -- request parsing -----------------------------------------------------------------------


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


def _validated(model: type[BaseModel], data: object, status: int) -> BaseModel:
    """`data` as `model`, or an ApiError naming the first field at fault in one sentence."""
    if not isinstance(data, Mapping):
        raise ApiError(422, "The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in error["loc"]) or None
        template = _SENTENCES.get(error["type"])
        context = {key: str(value).replace("'", "") for key, value in (error.get("ctx") or {}).items()}
        message = template.format(field=field, **context) if template else f"{field}: {error['msg']}."
        raise ApiError(status, message, field) from None


# -- endpoints -----------------------------------------------------------------------------


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


async def submit(request: Request, runner: Runner) -> Response:
    """POST /api/research-direct: validate, queue (or find the twin of a double submit), 202."""
    submission = _validated(ResearchSubmission, await _json_body(request), 422)
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
    job, _created = await runner.submit_async(research)
    return _accepted(job)


def _fresh(if_none_match: str | None, etag: str) -> bool:
    """True when the client's If-None-Match already names this ETag (RFC 9110 weak comparison)."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


async def status(request: Request, runner: Runner) -> Response:
    """GET /api/research-status/{jobId}: the status object, with the briefing once completed.

    A terminal job's status comes from memory without a thread hop; every answer carries an ETag,
    and a client that sends it back in If-None-Match gets 304 with no body.
    """
    job_id = request.path_params["jobId"]
    found = cached_report(runner.engine, job_id) or await run_in_threadpool(
        report, runner.engine, job_id, workers=runner.settings.workers, prices=runner.settings.prices
    )
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


async def history(request: Request, runner: Runner) -> Response:
    """GET /api/jobs: jobs newest first, filtered, one keyset page at a time."""
    query = _validated(JobsQuery, dict(request.query_params.items()), 400)
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


async def markdown(request: Request, runner: Runner) -> Response:
    """GET /api/research/{jobId}/markdown: the briefing as a Markdown attachment."""
    job, briefing = await run_in_threadpool(_briefing_of, runner, request.path_params["jobId"])
    text = await run_in_threadpool(job_markdown, runner.engine, job, briefing, runner.settings.prices)
    filename = markdown_filename(job.company_name, job.id)
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def pdf(request: Request, runner: Runner) -> Response:
    """GET /api/research/{jobId}/pdf: the same document as the Markdown, as a PDF attachment."""
    job, briefing = await run_in_threadpool(_briefing_of, runner, request.path_params["jobId"])
    data = await run_in_threadpool(job_pdf, runner.engine, job, briefing, runner.settings.prices)
    filename = pdf_filename(markdown_filename(job.company_name, job.id))
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


async def retry(request: Request, runner: Runner) -> Response:
    """POST /api/research/{jobId}/retry: a new job with the same inputs, 202 like submit."""
    job = await run_in_threadpool(runner.retry, request.path_params["jobId"])
    if job is None:
        raise _unknown_job()
    return _accepted(job)


def _cancel(runner: Runner, job_id: str) -> dict:
    job = jobs.get_job(runner.engine, job_id)
    if job is None:
        raise _unknown_job()
    if not job.status.is_terminal:
        job = runner.cancel(job_id)
        if job.status not in (JobStatus.COMPLETED, JobStatus.FAILED):  # else it finished as we asked
            return job_status(runner.engine, job_id, workers=runner.settings.workers, prices=runner.settings.prices)
    raise ApiError(409, f"This job has already finished: it is {job.status.value}.")


async def cancel(request: Request, runner: Runner) -> Response:
    """POST /api/research/{jobId}/cancel: stop a queued job now, a running one at its next step."""
    found = await run_in_threadpool(_cancel, runner, request.path_params["jobId"])
    return JSONResponse(found, 202)


def _delete(runner: Runner, job_id: str) -> dict:
    try:
        deleted = runner.delete(job_id)
    except DeleteRefused as refused:
        raise ApiError(409, refused.message) from None
    if deleted is None:
        raise _unknown_job()
    return {"success": True, "jobId": deleted.job_id, "wasRunning": deleted.was_running}


async def delete(request: Request, runner: Runner) -> Response:
    """DELETE /api/jobs/{jobId}: remove the job, its attempts and its briefing (cancelling it if running)."""
    return JSONResponse(await run_in_threadpool(_delete, runner, request.path_params["jobId"]))


async def submit_batch(request: Request, runner: Runner) -> Response:
    """POST /api/batches: validate every company, then queue them all as one batch, 202."""
    submission = _validated(BatchSubmission, await _json_body(request), 422)
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


async def get_batch(request: Request, runner: Runner) -> Response:
    """GET /api/batches/{batchId}: the batch's counts and each job's progress."""
    found = await run_in_threadpool(batch_status, runner.engine, request.path_params["batchId"], runner.settings.prices)
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


async def health(request: Request) -> Response:
    """GET /api/health (no token needed): up, and the queue as the database counts it."""
    try:
        return JSONResponse(await run_in_threadpool(_health))
    except Exception:
        log.exception("health check: the database query failed")
        body = {"status": "error", "db": "error", "workers": None, "queued": None, "processing": None}
        return JSONResponse(body, 503)


async def list_open_roles(request: Request, runner: Runner) -> Response:
    """GET /api/open-roles: the roles open on the company's job board, to pick one as the posting."""
    query = _validated(OpenRolesQuery, dict(request.query_params.items()), 400)
    try:
        board = await run_in_threadpool(open_roles, runner.services, query.company_name, query.company_url)
    except PipelineError as error:
        raise ApiError(502, f"The job boards could not be asked: {error.message}") from None
    if board is None:
        raise ApiError(404, "No Greenhouse, Lever or Ashby board has this company's name.")
    return JSONResponse(board.to_json_dict())


async def openapi(request: Request, runner: Runner) -> Response:
    """GET /api/openapi.json: the OpenAPI 3.1 document of this API."""
    return JSONResponse(openapi_document(runner.settings.api_token is not None))


HANDLERS: dict[str, Handler] = {
    "submitResearch": submit,
    "getResearchStatus": status,
    "listJobs": history,
    "getResearchMarkdown": markdown,
    "getResearchPdf": pdf,
    "retryResearch": retry,
    "cancelResearch": cancel,
    "deleteJob": delete,
    "submitBatch": submit_batch,
    "getBatch": get_batch,
    "listOpenRoles": list_open_roles,
    "getHealth": health,
    "getOpenApi": openapi,
}


def _method_not_allowed(method: str) -> Handler:
    allow = f"{method}, HEAD" if method == "GET" else method

    async def method_not_allowed(request: Request, runner: Runner | None = None) -> Response:
        raise ApiError(405, f"Use {method} for this path.", headers={"Allow": allow})

    return method_not_allowed


async def no_such_route(request: Request, runner: Runner) -> Response:
    """Anything else under /api/: a JSON 404 rather than Streamlit's page."""
    raise ApiError(404, "There is no such API endpoint; see /api/openapi.json.")


def _query_names(model: type[BaseModel] | None) -> frozenset[str]:
    return frozenset(info.alias or name for name, info in model.model_fields.items()) if model else frozenset()


def _routes() -> list[Route]:
    """One route per operation, then per path a JSON 405 for other methods, then a JSON 404."""
    routes = [
        Route(
            op.path,
            guarded(HANDLERS[op.operation_id], public=op.public, query=_query_names(op.query)),
            methods=[op.method],
            name=op.operation_id,
        )
        for op in OPERATIONS
    ]
    for op in OPERATIONS:  # a route whose method does not match lets the router try the next one
        routes.append(Route(op.path, guarded(_method_not_allowed(op.method), public=op.public), methods=ANY_METHOD))
    routes.append(Route("/api/{rest:path}", guarded(no_such_route), methods=ANY_METHOD))
    return routes


ROUTES: list[Route] = _routes()
