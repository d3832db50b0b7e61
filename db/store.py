"""The store-research step's transaction, and reading briefings back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import select

from db.attempts import NotOwner, close, holds
from db.clock import db_now
from db.engine import reading, upsert_insert, writing
from db.jobs import Fence
from db.models import AttemptStatus, BriefingRecord, Company, Job, JobStatus, StepAttempt, utcnow
from db.transient import retry_blips


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


@retry_blips
def store_research(
    engine: Engine, fence: Fence, attempt: StepAttempt, company_name: str, website: str | None, briefing: dict
) -> StoreResult:
    """Upsert the company, insert the job's briefing, close the step's attempt and complete the job,
    all in one transaction; raises NotOwner (and writes nothing) when the fence is stale."""
    with writing(engine) as session:
        if not holds(session, fence):
            raise NotOwner(fence.job_id)
        key = company_key(company_name)
        # Insert-if-absent in one statement: two jobs storing the same new company at once both
        # succeed (a select-then-insert would make one of them fail on the unique key).
        dialect_insert = upsert_insert(engine)
        session.execute(
            dialect_insert(Company)
            .values(name=company_name, key=key, website=website, created_at=utcnow(), updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["key"])
        )
        company = session.exec(select(Company).where(Company.key == key)).one()
        if website and company.website != website:
            company.website = website
            company.updated_at = utcnow()
        record = BriefingRecord(
            job_id=fence.job_id,
            company_id=company.id,
            analysis_mode=briefing["analysisMode"],
            model=briefing.get("model"),
            grounded=briefing.get("grounded", True),
            data=briefing,
        )
        session.add(record)
        session.flush()
        result = StoreResult(True, company.id, fence.job_id, record.created_at)
        close(session, fence, attempt, AttemptStatus.SUCCEEDED, output=result.to_json_dict())
        session.execute(
            update(Job)
            .where(Job.id == fence.job_id)
            .values(status=JobStatus.COMPLETED, company_id=company.id, finished_at=db_now(), updated_at=db_now())
        )
    return result


@retry_blips
def get_briefing(engine: Engine, job_id: str) -> dict | None:
    """The stored briefing (camelCase JSON) of a job, or None."""
    with reading(engine) as session:
        return session.exec(select(BriefingRecord.data).where(BriefingRecord.job_id == job_id)).first()
