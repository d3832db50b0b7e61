"""The JSON API's request and response models; the OpenAPI document's schemas come from these.

Requests are validated strictly (no "5" for a boolean, no unknown fields). Responses are plain
dicts built by api.status_json and the routes; these models describe them, and the tests check
every response against the schemas generated here (additionalProperties false catches drift).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from pydantic.alias_generators import to_camel

from api.results import SeedResults
from core.request import MAX_NAME_CHARS, MAX_POSTING_CHARS, MAX_ROLE_CHARS, MAX_URL_CHARS
from core.status import AttemptStatus, JobStatus
from core.steps import STEPS
from db.history import MAX_PAGE
from pipeline.batch_input import MAX_COMPANIES
from pipeline.models import Briefing

ESTIMATED_DURATION = "30-60 seconds"
DEFAULT_PAGE = 25
MAX_QUERY_CHARS = 100
MAX_CURSOR_CHARS = 200

# Derived from the database's own tables, so a new step or attempt state shows up here by itself.
StepId = Literal[tuple(step.id for step in STEPS)]  # type: ignore[valid-type]
StepStatus = Literal[("pending", *(status.value for status in AttemptStatus))]  # type: ignore[valid-type]


class ApiModel(BaseModel):
    """camelCase on the wire, nothing unexpected allowed."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid")


# -- requests ------------------------------------------------------------------------------


class PostingFields(ApiModel):
    """The optional job posting a briefing is tailored to: its text or its web page."""

    job_description: StrictStr | None = Field(
        default=None,
        max_length=MAX_POSTING_CHARS,
        description="The job posting's text, for the Role fit section; not empty, not binary.",
    )
    job_description_url: StrictStr | None = Field(
        default=None,
        max_length=MAX_URL_CHARS,
        description="Or the posting's web page: read by the same guarded fetcher, it becomes a source.",
    )


class ResearchSubmission(PostingFields):
    """The body of POST /api/research-direct."""

    model_config = ConfigDict(strict=True, title="ResearchSubmission")

    company_name: StrictStr = Field(
        min_length=1,
        max_length=MAX_NAME_CHARS,
        description="The company to research; control and invisible characters are refused.",
        examples=["Acme Robotics"],
    )
    company_url: StrictStr | None = Field(
        default=None,
        max_length=MAX_URL_CHARS,
        description="Its website; https:// is added when missing. Omitted: found on Wikipedia or GitHub.",
        examples=["https://acme.example"],
    )
    role: StrictStr | None = Field(
        default=None, max_length=MAX_ROLE_CHARS, description="The role you are interviewing for."
    )
    deep_mode: StrictBool = Field(
        default=False, description="Also read up to four about, careers, product, engineering and blog pages (slower)."
    )
    refresh: StrictBool = Field(
        default=False, description="Read the site and GitHub again instead of from the cache (and update it)."
    )


class BatchCompany(ApiModel):
    """One company of a batch."""

    model_config = ConfigDict(strict=True, title="BatchCompany")

    company_name: StrictStr = Field(min_length=1, max_length=MAX_NAME_CHARS, examples=["Acme Robotics"])
    company_url: StrictStr | None = Field(default=None, max_length=MAX_URL_CHARS)
    role: StrictStr | None = Field(default=None, max_length=MAX_ROLE_CHARS)


class BatchSubmission(PostingFields):
    """The body of POST /api/batches: up to 50 companies, queued whole or not at all; the job
    posting, when given, is shared by every company."""

    model_config = ConfigDict(strict=True, title="BatchSubmission")

    companies: list[BatchCompany] = Field(min_length=1, max_length=MAX_COMPANIES)
    deep_mode: StrictBool = Field(default=False, description="Deep mode for every company of the batch.")


class JobsQuery(ApiModel):
    """The query string of GET /api/jobs (lax: query values arrive as text)."""

    status: JobStatus | None = Field(default=None, description="Only jobs in this status.")
    q: str | None = Field(default=None, max_length=MAX_QUERY_CHARS, description="Text the company name contains.")
    limit: int = Field(default=DEFAULT_PAGE, ge=1, le=MAX_PAGE, description="Jobs per page.")
    cursor: str | None = Field(
        default=None, max_length=MAX_CURSOR_CHARS, description="The nextCursor of the previous page."
    )
    batch: str | None = Field(default=None, max_length=MAX_QUERY_CHARS, description="Only the jobs of this batch.")


class OpenRolesQuery(ApiModel):
    """The query string of GET /api/open-roles."""

    company_name: str = Field(min_length=1, max_length=MAX_NAME_CHARS, description="The company's name.")
    company_url: str | None = Field(
        default=None, max_length=MAX_URL_CHARS, description="Its website: the domain's name is tried as a board too."
    )


# -- responses -----------------------------------------------------------------------------


class SubmitResponse(ApiModel):
    """202 from submit and retry: the job is queued (or is the twin submitted moments ago)."""

    success: Literal[True]
    job_id: str
    company: str
    role: str | None
    deep_mode: bool
    status_url: str = Field(description="Poll this for the job's status.")
    estimated_duration: Literal["30-60 seconds"]


class StepState(ApiModel):
    """One of the four pipeline steps: its latest state, attempts, time spent and last error."""

    id: StepId
    status: StepStatus
    attempts: int = Field(ge=0)
    duration_ms: int | None = Field(ge=0)
    error: str | None


class Usage(ApiModel):
    """What the job's calls to Claude used, summed over every attempt (failed ones included)."""

    calls: int = Field(ge=0, description="Calls that got a reply; 0 when the offline analyzer wrote it.")
    models: list[str]
    input_tokens: int = Field(ge=0)
    output_tokens: int = Field(ge=0)
    cache_read_tokens: int = Field(ge=0)
    cache_write_tokens: int = Field(ge=0)
    cost_usd: float | None = Field(ge=0, description="USD; null (unknown) when a model has no price.")


class JobStatusResponse(ApiModel):
    """A job's status; once it completed, `results` is the briefing in the seed's shape and
    `briefing` the same briefing with its citations, sources and verification; while Claude writes,
    `partial` holds the sections verified so far."""

    job_id: str
    status: JobStatus
    progress: str = Field(pattern=r"^\d+/\d+$", description="Finished steps out of all steps, e.g. 2/4.")
    company_name: str
    company_url: str | None
    role: str | None
    deep_mode: bool
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    is_complete: bool
    is_failed: bool
    estimated_seconds_remaining: int | None = Field(ge=0, description="None once the job is terminal.")
    retry_of: str | None = Field(description="The job this one retries, if any.")
    results: SeedResults | None = Field(
        description="The seed's fields: verified statements as plain strings, a salary only when a source states it."
    )
    briefing: Briefing | None = Field(
        description="The verified briefing: citations, numbered sources, Not verified, totals, the salary's basis."
    )
    partial: Briefing | None = Field(
        description="While Claude writes: the sections verified so far, shaped like `briefing` (a section not yet "
        "written is absent); null otherwise."
    )
    message: str = Field(description="One sentence for a person: what is happening or went wrong.")
    steps: list[StepState]
    usage: Usage


class JobSummary(ApiModel):
    """One row of the history."""

    job_id: str
    company_name: str
    role: str | None
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    duration_ms: int | None = Field(ge=0, description="Run time, once the job started and finished.")
    status_url: str


class JobPage(ApiModel):
    """A page of the history, newest first."""

    jobs: list[JobSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class RateWindow(ApiModel):
    """One of GitHub's rate-limit windows as the shared budget counts it."""

    limit: int = Field(ge=0)
    remaining: int = Field(ge=0, description="Requests left in this window, less those reserved by running jobs.")
    reset_at: datetime


class DeleteResponse(ApiModel):
    """200 from delete: the job, its attempts and its briefing are gone."""

    success: Literal[True]
    job_id: str
    was_running: bool = Field(description="It was queued or running, so deleting it cancelled it.")


class BatchAccepted(ApiModel):
    """202 from a batch submit: every company is queued as a job of the batch."""

    success: Literal[True]
    batch_id: str
    job_ids: list[str]
    status_url: str = Field(description="Poll this for the batch's progress.")


class BatchJob(ApiModel):
    """One job of a batch and how far it got."""

    job_id: str
    company_name: str
    role: str | None
    status: JobStatus
    progress: str = Field(pattern=r"^\d+/\d+$", description="Finished steps out of all steps.")
    status_url: str


class BatchStatusResponse(ApiModel):
    """A batch: counts derived from its jobs; `status` is completed once every job has ended."""

    batch_id: str
    status: Literal["queued", "processing", "completed"]
    total: int = Field(ge=0)
    completed: int = Field(ge=0)
    failed: int = Field(ge=0)
    cancelled: int = Field(ge=0)
    created_at: datetime
    updated_at: datetime
    usage: Usage = Field(description="The usage of all the batch's jobs together.")
    jobs: list[BatchJob]


class HealthResponse(ApiModel):
    """Liveness and the queue, counted in the database."""

    status: Literal["ok", "error"]
    db: Literal["ok", "error"]
    workers: int | None = Field(ge=1, description="Job threads in this process.")
    queued: int | None = Field(ge=0)
    processing: int | None = Field(ge=0)
    github: dict[Literal["core", "search"], RateWindow] | None = Field(
        default=None,
        description="GitHub's current windows for this process's account (core: per hour, search: per minute); "
        "a resource is absent until a reply has reported it.",
    )


class ErrorResponse(ApiModel):
    """Every error: a sentence for a person, and the request field at fault when there is one."""

    success: Literal[False]
    error: str
    field: str | None = None


# The bodies api.routes reads itself; FastAPI documents every other model from the routes.
BODY_MODELS: tuple[type[BaseModel], ...] = (ResearchSubmission, BatchSubmission)
