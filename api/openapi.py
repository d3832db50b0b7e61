"""The API's one table of operations, and the OpenAPI 3.1 document built from it.

`OPERATIONS` is the paths table: api.routes builds its Starlette routes from it, so a path or
method cannot be documented without being served, or served without being documented. Every
schema in the document is generated from the pydantic models in api.schemas.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from api.schemas import (
    REQUEST_MODELS,
    RESPONSE_MODELS,
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
from pipeline.batch_input import MAX_COMPANIES
from pipeline.models import OpenRoles

OPENAPI_VERSION = "3.1.0"
API_VERSION = "1.0.0"
REF = "#/components/schemas/{model}"
MARKDOWN = "text/markdown"
PDF = "application/pdf"

ERRORS = {
    400: "The request is malformed: not JSON, or an unknown or bad query parameter.",
    401: "A bearer token is required (PREP_API_TOKEN is set) and was missing or wrong.",
    404: "There is no job with that id.",
    409: "The job is not in a state that allows this.",
    413: "The request body is larger than 320 KB.",
    415: "The request body must be sent as application/json.",
    422: "The request is well-formed JSON but not a valid request; `field` names the culprit.",
    500: "An unexpected error on our side; it was logged.",
    503: "The database could not be queried.",
}


@dataclass(frozen=True)
class Operation:
    """One method on one path: what it takes, what it answers, and whether it needs the token."""

    method: str
    path: str  # OpenAPI and Starlette share the `{name}` template syntax
    operation_id: str
    summary: str
    responses: dict[int, dict[str, Any]]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    public: bool = False
    description: str = ""


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "required": True, "schema": {"type": "string"}}


def _json(model: type[BaseModel], description: str, **headers: dict) -> dict[str, Any]:
    reply: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": _ref(model)}}}
    if headers:
        reply["headers"] = {name.replace("_", "-").title(): spec for name, spec in headers.items()}
    return reply


def _download(media_type: str, what: str, extension: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A briefing download's 200: the document as `media_type`, named by Content-Disposition."""
    filename = f'attachment; filename="<company>-briefing-<id>.{extension}"'
    return {
        "description": f"The briefing as {what}.",
        "headers": {"Content-Disposition": _header(filename)},
        "content": {media_type: {"schema": schema}},
    }


def _errors(*codes: int) -> dict[int, dict[str, Any]]:
    return {code: _json(ErrorResponse, ERRORS[code]) for code in codes}


_ACCEPTED = _json(
    SubmitResponse,
    "Queued; poll statusUrl. A repeat of the same request within seconds returns the same job.",
    location=_header("The job's status URL."),
)
_SUBMIT_ERRORS = _errors(400, 413, 415, 422)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/api/research-direct",
        "submitResearch",
        "Queue research on a company",
        body=ResearchSubmission,
        responses={202: _ACCEPTED, **_SUBMIT_ERRORS},
        description="Starts a background job: read the company's site and GitHub, then write a briefing.",
    ),
    Operation(
        "GET",
        "/api/research-status/{jobId}",
        "getResearchStatus",
        "A job's status, and its briefing once done",
        responses={
            200: _json(JobStatusResponse, "The job's status.", etag=_header("Send it back in If-None-Match.")),
            304: {"description": "Unchanged since the ETag sent in If-None-Match; no body."},
            **_errors(404),
        },
        description="Every answer carries an ETag; with `If-None-Match` set to it, an unchanged status is a 304.",
    ),
    Operation(
        "GET",
        "/api/jobs",
        "listJobs",
        "The history of jobs, newest first",
        query=JobsQuery,
        responses={200: _json(JobPage, "A page of jobs."), **_errors(400)},
        description="Keyset pagination: pass the page's nextCursor as `cursor` to get the next page.",
    ),
    Operation(
        "GET",
        "/api/research/{jobId}/markdown",
        "getResearchMarkdown",
        "The briefing as a Markdown download",
        responses={200: _download(MARKDOWN, "Markdown", "md", {"type": "string"}), **_errors(404, 409)},
    ),
    Operation(
        "GET",
        "/api/research/{jobId}/pdf",
        "getResearchPdf",
        "The briefing as a PDF download (the same document as the Markdown)",
        responses={
            200: _download(PDF, "PDF", "pdf", {"type": "string", "contentMediaType": PDF}),
            **_errors(404, 409),
        },
    ),
    Operation(
        "POST",
        "/api/research/{jobId}/retry",
        "retryResearch",
        "Run a job again with the same inputs",
        responses={202: _ACCEPTED, **_errors(404)},
    ),
    Operation(
        "POST",
        "/api/research/{jobId}/cancel",
        "cancelResearch",
        "Cancel a queued or running job",
        responses={
            202: _json(JobStatusResponse, "Cancelled (queued job) or stopping at the next step (running job)."),
            **_errors(404, 409),
        },
        description="A queued job never starts; a running one stops at its next step boundary and ends cancelled.",
    ),
    Operation(
        "DELETE",
        "/api/jobs/{jobId}",
        "deleteJob",
        "Delete a job, its attempts and its briefing",
        responses={200: _json(DeleteResponse, "Deleted."), **_errors(404, 409)},
        description=(
            "A queued or running job is cancelled by its deletion. Refused (409) while a retry of the job "
            "names it, or while its batch is still running."
        ),
    ),
    Operation(
        "POST",
        "/api/batches",
        "submitBatch",
        f"Queue research on up to {MAX_COMPANIES} companies at once",
        body=BatchSubmission,
        responses={
            202: _json(BatchAccepted, "Queued, every company as a job.", location=_header("The batch's status URL.")),
            **_SUBMIT_ERRORS,
        },
        description="Every company is validated first: one bad entry and nothing is queued (422 names them all).",
    ),
    Operation(
        "GET",
        "/api/batches/{batchId}",
        "getBatch",
        "A batch's progress: counts and each job's status",
        responses={
            200: _json(BatchStatusResponse, "The batch."),
            404: _json(ErrorResponse, "There is no batch with that id."),
        },
    ),
    Operation(
        "GET",
        "/api/open-roles",
        "listOpenRoles",
        "The company's open roles on its Greenhouse, Lever or Ashby board",
        query=OpenRolesQuery,
        responses={
            200: _json(OpenRoles, "The board and its roles; a role's postingUrl can be sent as jobDescriptionUrl."),
            404: _json(ErrorResponse, "No Greenhouse, Lever or Ashby board has this company's name."),
            502: _json(ErrorResponse, "A job board could not be asked; try again later."),
            **_errors(400),
        },
    ),
    Operation(
        "GET",
        "/api/health",
        "getHealth",
        "Liveness, and the queue counted in the database",
        public=True,
        responses={
            200: _json(HealthResponse, "Up, and the database answers."),
            503: _json(HealthResponse, ERRORS[503]),
        },
    ),
    Operation(
        "GET",
        "/api/openapi.json",
        "getOpenApi",
        "This document",
        responses={
            200: {
                "description": "The OpenAPI 3.1 document.",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
        },
    ),
)

_JOB_ID = {
    "name": "jobId",
    "in": "path",
    "required": True,
    "description": "The jobId that submit returned.",
    "schema": {"type": "string", "minLength": 1},
}


_BATCH_ID = {
    "name": "batchId",
    "in": "path",
    "required": True,
    "description": "The batchId that the batch submit returned.",
    "schema": {"type": "string", "minLength": 1},
}


def _components() -> dict[str, Any]:
    """Every model's schema: requests as validated, responses as serialised, camelCase."""
    pairs = [(model, "validation") for model in REQUEST_MODELS]
    pairs += [(model, "serialization") for model in RESPONSE_MODELS]
    _, top = models_json_schema(pairs, by_alias=True, ref_template=REF)
    return top["$defs"]


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    """One optional query parameter per field; null is spelled by leaving the parameter out."""
    parameters = []
    for name, prop in schemas[model.__name__]["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", "")
        prop.pop("title", None)
        if prop.get("default", 0) is None:
            prop.pop("default")
        options = [option for option in prop.pop("anyOf", []) if option != {"type": "null"}]
        if len(options) == 1:
            prop.update(options[0])
        elif options:
            prop["anyOf"] = options
        parameters.append({"name": name, "in": "query", "required": False, "description": description, "schema": prop})
    return parameters


def _operation(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary}
    if op.description:
        spec["description"] = op.description
    parameters = [_JOB_ID] if "{jobId}" in op.path else [_BATCH_ID] if "{batchId}" in op.path else []
    if op.query:
        parameters += _query_parameters(op.query, schemas)
    if parameters:
        spec["parameters"] = parameters
    if op.body:
        spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(op.body)}}}
    responses = {**_errors(400), **op.responses}  # every route refuses unknown query parameters
    if op.public:
        spec["security"] = []
    else:
        responses.update(_errors(401))
    responses.update(_errors(500))
    spec["responses"] = {str(code): reply for code, reply in sorted(responses.items())}
    return spec


@cache
def openapi_document(token_required: bool) -> dict[str, Any]:
    """The OpenAPI 3.1 document (shared: do not mutate); `token_required`: PREP_API_TOKEN is set."""
    schemas = _components()
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    schemas.pop(JobsQuery.__name__, None)  # spelled out as query parameters instead
    bearer = {"bearerAuth": []}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Interview Prep API",
            "version": API_VERSION,
            "description": (
                "Queue research on a company, poll its status, and fetch the interview briefing. "
                "Errors are `{success: false, error, field?}`."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "The value of PREP_API_TOKEN; every route but /api/health needs it when set.",
                },
            },
        },
        # Without a token configured, the bearer header is accepted and ignored.
        "security": [bearer] if token_required else [bearer, {}],
    }
