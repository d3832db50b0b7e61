"""The store-research step's transaction, and reading briefings back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, insert, update
from sqlalchemy.engine import Engine
from sqlmodel import select

from core.status import AttemptStatus
from db import jobs
from db.attempts import NotOwner, close, holds
from db.engine import core_writing, reading, upsert_insert
from db.jobs import Fence
from db.models import BriefingRecord, Company, StepAttempt, utcnow
from db.transient import redo_on_blip


@dataclass(frozen=True)
class StoreResult:
    """What store-research returns: where the briefing now lives."""

    success: bool
    company_id: int
    job_id: str
    timestamp: datetime

    def to_json_dict(self) -> dict:
        """The camelCase form the step's attempt row keeps as its output."""
        return {
            "success": self.success,
            "companyId": self.company_id,
            "jobId": self.job_id,
            "timestamp": self.timestamp.isoformat(),
        }


def company_key(name: str) -> str:
    """The normalised name that identifies a company."""
    return " ".join(name.lower().split())


_companies = Company.__table__
_briefings = BriefingRecord.__table__
# Built once, as Core: the store runs once per job while holding the writer queue.
_COMPANY = select(_companies.c.id, _companies.c.website).where(_companies.c.key == bindparam("key"))
_SET_WEBSITE = (
    update(_companies)
    .where(_companies.c.id == bindparam("company"))
    .values(website=bindparam("new_website"), updated_at=bindparam("now"))
)
_INSERT_BRIEFING = insert(_briefings)


@cache
def _add_company(dialect_insert):
    """Insert-if-absent of a company in one statement, built once per dialect: two jobs storing
    the same new company at once both succeed (a select-then-insert would make one fail on the
    unique key)."""
    return (
        dialect_insert(_companies)
        .values(
            name=bindparam("name"),
            key=bindparam("key"),
            website=bindparam("new_website"),
            created_at=bindparam("now"),
            updated_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["key"])
    )


@redo_on_blip
def store_research(
    engine: Engine, fence: Fence, attempt: StepAttempt, company_name: str, website: str | None, briefing: dict
) -> StoreResult:
    """Upsert the company, insert the job's briefing, close the step's attempt and complete the job
    (db.jobs.complete), all in one transaction; raises NotOwner (and writes nothing) when the fence
    is stale."""
    key, now = company_key(company_name), utcnow()
    with core_writing(engine) as conn:
        if not holds(conn, fence):
            raise NotOwner(fence.job_id)
        conn.execute(
            _add_company(upsert_insert(engine)), {"name": company_name, "key": key, "new_website": website, "now": now}
        )
        company_id, stored_website = conn.execute(_COMPANY, {"key": key}).one()
        if website and stored_website != website:
            conn.execute(_SET_WEBSITE, {"company": company_id, "new_website": website, "now": now})
        conn.execute(
            _INSERT_BRIEFING,
            {
                "job_id": fence.job_id,
                "company_id": company_id,
                "analysis_mode": briefing["analysisMode"],
                "model": briefing.get("model"),
                "grounded": briefing.get("grounded", True),
                "data": briefing,
                "created_at": now,
            },
        )
        result = StoreResult(True, company_id, fence.job_id, now)
        close(conn, fence, attempt, AttemptStatus.SUCCEEDED, output=result.to_json_dict())
        if not jobs.complete(conn, fence, company_id):
            raise NotOwner(fence.job_id)
    return result


@redo_on_blip
def get_briefing(engine: Engine, job_id: str) -> dict | None:
    """The stored briefing (camelCase JSON) of a job, or None."""
    with reading(engine) as session:
        return session.exec(select(BriefingRecord.data).where(BriefingRecord.job_id == job_id)).first()
