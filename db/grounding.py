"""Which jobs ended with a generic briefing: one that no page or repository grounds."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from db.engine import reading
from db.models import BriefingRecord


def generic_jobs(engine: Engine, job_ids: list[str]) -> set[str]:
    """The ids among `job_ids` whose stored briefing is not grounded in any source."""
    if not job_ids:
        return set()
    with reading(engine) as session:
        rows = session.exec(
            select(BriefingRecord.job_id).where(
                col(BriefingRecord.job_id).in_(job_ids), col(BriefingRecord.grounded).is_(False)
            )
        )
        return set(rows.all())
