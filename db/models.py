"""The tables: the single source of truth for jobs, their step attempts, companies and briefings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.status import AttemptStatus, JobStatus


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (SQLModel stores UTC and returns aware values)."""
    return datetime.now(UTC)


def elapsed_ms(started: datetime, until: datetime | None = None) -> int:
    """Whole milliseconds from `started` to `until` (default: now)."""
    return int(((until or utcnow()) - started).total_seconds() * 1000)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z (milliseconds), or None."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment else None


def new_id() -> str:
    """A fresh job or batch id."""
    return uuid.uuid4().hex


class Batch(SQLModel, table=True):
    """A group of jobs submitted together; its counts and status are derived from its jobs."""

    __tablename__ = "batch_jobs"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)


class Company(SQLModel, table=True):
    """A researched company, one row per normalised name."""

    __tablename__ = "companies"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    key: str = Field(max_length=100, unique=True)  # lower-cased, whitespace-folded name
    website: str | None = Field(default=None, max_length=2048)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Job(SQLModel, table=True):
    """One research request and where it stands."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_created", "created_at", "id"),
        Index("ix_jobs_status_created", "status", "created_at", "id"),
        Index("ix_jobs_dedupe", "dedupe_key", "created_at"),
        Index("ix_jobs_owner_status", "owner", "status"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    company_name: str = Field(max_length=100)
    company_url: str | None = Field(default=None, max_length=2048)
    role: str | None = Field(default=None, max_length=120)
    deep_mode: bool = False
    job_description: str | None = Field(default=None, sa_column=Column(Text))  # the pasted posting
    job_description_url: str | None = Field(default=None, max_length=2048)  # or where to read it
    refresh: bool = False  # read every source again instead of from the cache (and store what was read)
    status: JobStatus = Field(default=JobStatus.QUEUED, max_length=16)
    error_kind: str | None = Field(default=None, max_length=40)
    error_message: str | None = Field(default=None, sa_column=Column(Text))
    owner: str | None = Field(default=None, max_length=32)  # the worker process that runs it
    leases: int = 0  # how many times a worker has leased it (restarts included)
    cancel_requested: bool = False
    dedupe_key: str = Field(max_length=64)
    retry_of: str | None = Field(default=None, max_length=32)
    batch_id: str | None = Field(default=None, foreign_key="batch_jobs.id", max_length=32, index=True)
    company_id: int | None = Field(default=None, foreign_key="companies.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class StepAttempt(SQLModel, table=True):
    """One attempt at one pipeline step, with its checkpointed output."""

    __tablename__ = "step_attempts"
    __table_args__ = (UniqueConstraint("job_id", "step", "attempt"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(foreign_key="jobs.id", max_length=32, index=True)
    step: str = Field(max_length=40)
    attempt: int
    status: AttemptStatus = Field(default=AttemptStatus.RUNNING, max_length=16)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    duration_ms: int | None = None
    error_kind: str | None = Field(default=None, max_length=40)
    error_message: str | None = Field(default=None, sa_column=Column(Text))
    output: dict | None = Field(default=None, sa_column=Column(JSON))
    meta: dict | None = Field(default=None, sa_column=Column(JSON))  # e.g. the LLM call: model, tokens


class BriefingRecord(SQLModel, table=True):
    """The stored briefing of a completed job (at most one per job)."""

    __tablename__ = "briefings"

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(foreign_key="jobs.id", max_length=32, unique=True)
    company_id: int = Field(foreign_key="companies.id", index=True)
    analysis_mode: str = Field(max_length=16)
    model: str | None = Field(default=None, max_length=80)
    grounded: bool = True  # False: no page or repository could be read, so the briefing is generic
    data: dict = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Worker(SQLModel, table=True):
    """A live process that runs jobs; its heartbeat tells others it is alive."""

    __tablename__ = "workers"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    hostname: str = Field(max_length=255)
    pid: int
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)


class SourceCacheEntry(SQLModel, table=True):
    """A fetched source (a page, a robots.txt, a GitHub reply) that every job and process reuses."""

    __tablename__ = "source_cache"

    key: str = Field(primary_key=True, max_length=64)  # SHA-256 hex of `source`
    source: str = Field(sa_column=Column(Text, nullable=False))  # e.g. "page https://acme.com/"
    url: str = Field(sa_column=Column(Text, nullable=False))  # the URL that answered, after redirects
    status: int
    content_type: str = Field(sa_column=Column(Text, nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    etag: str | None = Field(default=None, sa_column=Column(Text))
    last_modified: str | None = Field(default=None, sa_column=Column(Text))
    stored_at: float  # Unix time, seconds: fetched or last revalidated


class GitHubBudgetWindow(SQLModel, table=True):
    """GitHub's current rate-limit window per resource, less the requests reserved since it was read."""

    __tablename__ = "github_budget"

    account: str = Field(primary_key=True, max_length=16)  # "anonymous" or "token" (never the token)
    resource: str = Field(primary_key=True, max_length=32)  # "core", "search"
    limit: int
    remaining: int
    reset_at: int = Field(sa_column=Column(BigInteger, nullable=False))  # Unix time, seconds, GitHub's clock
    updated_at: datetime = Field(default_factory=utcnow)
