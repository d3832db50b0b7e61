"""The database's clock: leases, heartbeats, deadlines and the dedupe window all compare times
that one clock (the database's) gave, so hosts whose clocks disagree never judge each other."""

from __future__ import annotations

from sqlalchemy import ColumnElement, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel.sql.sqltypes import UTCDateTime


class db_now(FunctionElement):
    """The database's current UTC time, `seconds_ago` seconds back (a bound number)."""

    type = UTCDateTime()
    inherit_cache = True

    def __init__(self, seconds_ago: float | ColumnElement = 0.0) -> None:
        # A column element (a bindparam) lets a statement built once take the interval per call.
        super().__init__(seconds_ago if isinstance(seconds_ago, ColumnElement) else literal(float(seconds_ago)))


@compiles(db_now, "postgresql")
def _postgresql(element: db_now, compiler, **kw) -> str:
    # statement_timestamp(): when this statement began; now() would be the transaction's start.
    return f"(statement_timestamp() - make_interval(secs => {compiler.process(element.clauses, **kw)}))"


@compiles(db_now, "sqlite")
def _sqlite(element: db_now, compiler, **kw) -> str:
    # The text layout SQLAlchemy stores DATETIME in on SQLite (microseconds, no offset), so that
    # comparisons with stored values are plain string comparisons.
    seconds = compiler.process(element.clauses, **kw)
    return f"strftime('%Y-%m-%d %H:%M:%f000', 'now', '-' || ({seconds}) || ' seconds')"
