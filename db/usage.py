"""Reading the calls to Claude that jobs made (recorded in their attempts' meta) for usage and cost."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from core.status import JobStatus
from core.steps import ANALYZE
from core.usage import Price, Tokens, Usage, priced, usage_of
from db.engine import reading
from db.history import filters
from db.models import Job, StepAttempt

_CALL = ("llmCall",)


def _field(name: str):
    return StepAttempt.meta[(*_CALL, name)]


def usage_by_job(engine: Engine, job_ids: list[str], prices: Mapping[str, Price]) -> dict[str, Usage]:
    """The usage of each of these jobs (jobs with no call get an empty, zero-cost usage)."""
    metas: dict[str, list[dict]] = {job_id: [] for job_id in job_ids}
    if job_ids:
        with reading(engine) as session:
            rows = session.exec(
                select(StepAttempt.job_id, StepAttempt.meta).where(
                    col(StepAttempt.job_id).in_(job_ids), col(StepAttempt.meta).is_not(None)
                )
            )
            for job_id, meta in rows:
                metas[job_id].append(meta)
    return {job_id: usage_of(found, prices) for job_id, found in metas.items()}


def usage_total(
    engine: Engine,
    prices: Mapping[str, Price],
    *,
    status: JobStatus | None = None,
    q: str | None = None,
    batch_id: str | None = None,
) -> Usage:
    """The usage of every job matching the history filters, summed in SQL by model."""
    model = _field("model").as_string()
    statement = select(
        model,
        func.sum(func.coalesce(_field("requests").as_integer(), 1)),  # a record may sum several requests
        func.coalesce(func.sum(_field("inputTokens").as_integer()), 0),
        func.coalesce(func.sum(_field("outputTokens").as_integer()), 0),
        func.coalesce(func.sum(_field("cacheReadInputTokens").as_integer()), 0),
        func.coalesce(func.sum(_field("cacheCreationInputTokens").as_integer()), 0),
    ).select_from(StepAttempt)
    clauses = filters(status, q, batch_id)
    if clauses:  # without a filter every job counts, and the join would only slow the sum down
        statement = statement.join(Job, Job.id == StepAttempt.job_id).where(*clauses)
    # Only analyze-with-claude calls Claude: the cheap step test spares reading the other rows' JSON.
    statement = statement.where(StepAttempt.step == ANALYZE.id, model.is_not(None)).group_by(model)
    with reading(engine) as session:
        rows = session.exec(statement).all()
    return priced({name: Tokens(*counts) for name, *counts in rows}, prices)
