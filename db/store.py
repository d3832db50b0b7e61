"""The store-research step's transaction, and reading briefings back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import select

from db.engine import reading, writing
from db.models import BriefingRecord, Company, utcnow


@dataclass(frozen=True)
class StoreResult:
    """What store-research returns: where the briefing now lives."""

    success: bool
    company_id: int
    job_id: str
    timestamp: datetime


def company_key(name: str) -> str:
    """The normalised name that identifies a company."""
    return " ".join(name.lower().split())


def store_research(engine: Engine, job_id: str, company_name: str, website: str | None, briefing: dict) -> StoreResult:
    """Upsert the company and insert the job's briefing, all or nothing; idempotent per job."""
    with writing(engine) as session:
        key = company_key(company_name)
        # Insert-if-absent in one statement: two jobs storing the same new company at once both
        # succeed (a select-then-insert would make one of them fail on the unique key).
        dialect_insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            dialect_insert(Company)
            .values(name=company_name, key=key, website=website, created_at=utcnow(), updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["key"])
        )
        company = session.exec(select(Company).where(Company.key == key)).one()
        if website and company.website != website:
            company.website = website
            company.updated_at = utcnow()
        existing = session.exec(select(BriefingRecord).where(BriefingRecord.job_id == job_id)).first()
        if existing is None:
            existing = BriefingRecord(
                job_id=job_id,
                company_id=company.id,
                analysis_mode=briefing["analysisMode"],
                model=briefing.get("model"),
                grounded=briefing.get("grounded", True),
                data=briefing,
            )
            session.add(existing)
        return StoreResult(True, company.id, job_id, existing.created_at)


def get_briefing(engine: Engine, job_id: str) -> dict | None:
    """The stored briefing (camelCase JSON) of a job, or None."""
    with reading(engine) as session:
        return session.exec(select(BriefingRecord.data).where(BriefingRecord.job_id == job_id)).first()
