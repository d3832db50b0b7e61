"""The source cache's store in the database: one row per fetched source, shared by every process."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from db.engine import upsert_insert, writing
from db.models import SourceCacheEntry
from pipeline.cache import CachedResponse

log = logging.getLogger(__name__)


_table = SourceCacheEntry.__table__
# Built once: every fetch of every job reads the cache first (a Core read costs a fraction of the ORM's).
_LOAD = select(
    *(_table.c[name] for name in ("url", "status", "content_type", "body", "etag", "last_modified", "stored_at"))
).where(_table.c.key == bindparam("key"))


class DbCacheStore:
    """`pipeline.cache.CacheStore` on the `source_cache` table (SQLite or PostgreSQL).

    The cache only saves work: a database error reads as a miss and a failed save is logged,
    so a busy database never fails a fetch that succeeded.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def load(self, key: str) -> CachedResponse | None:
        """The entry under `key`, or None."""
        try:
            with self._engine.connect() as conn:
                row = conn.execute(_LOAD, {"key": _digest(key)}).first()
        except SQLAlchemyError:
            log.warning("source cache: could not read %s", key, exc_info=True)
            return None
        return None if row is None else CachedResponse(**row._mapping)

    def save(self, key: str, entry: CachedResponse) -> None:
        """Insert or replace the entry under `key` in one statement (no read-then-write race)."""
        values = {
            "source": key,
            "url": entry.url,
            "status": entry.status,
            "content_type": entry.content_type,
            "body": entry.body,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "stored_at": entry.stored_at,
        }
        insert = upsert_insert(self._engine)
        statement = insert(SourceCacheEntry).values(key=_digest(key), **values)
        statement = statement.on_conflict_do_update(index_elements=["key"], set_=values)
        try:
            with writing(self._engine) as session:
                session.execute(statement)
        except SQLAlchemyError:
            log.warning("source cache: could not store %s", key, exc_info=True)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
