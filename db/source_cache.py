"""The source cache's store in the database: one row per fetched source, shared by every process."""

from __future__ import annotations

import hashlib
import logging
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from core.cache import CachedResponse
from db.engine import core_writing, upsert_insert
from db.models import SourceCacheEntry

log = logging.getLogger(__name__)


_table = SourceCacheEntry.__table__
# Built once: every fetch of every job reads the cache first (a Core read costs a fraction of the ORM's).
_LOAD = select(
    *(_table.c[name] for name in ("url", "status", "content_type", "body", "etag", "last_modified", "stored_at"))
).where(_table.c.key == bindparam("key"))


@cache
def _save(dialect_insert):
    """The upsert of one entry, built once per dialect: every fetch of every job stores what it read,
    and built per call through the ORM it cost 1.2–2 ms of CPU instead of 0.2–0.4 ms (SQLite)."""
    statement = dialect_insert(_table)
    replaced = {name: statement.excluded[name] for name in _table.c.keys() if name != "key"}
    return statement.on_conflict_do_update(index_elements=["key"], set_=replaced)


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
            "key": _digest(key),
            "source": key,
            "url": entry.url,
            "status": entry.status,
            "content_type": entry.content_type,
            "body": entry.body,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "stored_at": entry.stored_at,
        }
        try:
            with core_writing(self._engine) as conn:
                conn.execute(_save(upsert_insert(self._engine)), values)
        except SQLAlchemyError:
            log.warning("source cache: could not store %s", key, exc_info=True)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
