"""The briefing document of a job, the one text every export (page, API, CLI, zip, PDF) carries."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import Engine

from core.usage import Price, Usage, describe
from db.models import Job, iso
from db.usage import usage_by_job
from pipeline.markdown import render_markdown
from pipeline.models import Briefing
from pipeline.pdf import render_pdf


def markdown_document(job: Job, briefing: Briefing | dict, usage: Usage) -> str:
    """The briefing as Markdown, with the job's role, date and what its calls to Claude cost."""
    return render_markdown(briefing, role=job.role, created_at=iso(job.created_at), usage=describe(usage))


def pdf_document(job: Job, briefing: Briefing | dict, usage: Usage) -> bytes:
    """The same document as the Markdown, as a PDF."""
    return render_pdf(markdown_document(job, briefing, usage), title=f"Interview briefing: {job.company_name}")


def _usage(engine: Engine, job: Job, prices: Mapping[str, Price]) -> Usage:
    """The job's usage read from its attempts."""
    return usage_by_job(engine, [job.id], prices)[job.id]


def job_markdown(engine: Engine, job: Job, briefing: dict, prices: Mapping[str, Price]) -> str:
    """The briefing as Markdown, reading the job's usage from its attempts."""
    return markdown_document(job, briefing, _usage(engine, job, prices))


def job_pdf(engine: Engine, job: Job, briefing: dict, prices: Mapping[str, Price]) -> bytes:
    """The briefing as a PDF, reading the job's usage from its attempts."""
    return pdf_document(job, briefing, _usage(engine, job, prices))
