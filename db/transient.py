"""Database blips (a dropped connection, a failover, a serialization failure or deadlock, SQLite's
busy timeout) redo the transaction with backoff; a real error (a constraint, a bug) is raised at once."""

from __future__ import annotations

import logging

import backoff
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

BLIP_MAX_S = 30.0  # how long a write keeps being redone: a PostgreSQL restart takes ~10 s, seconds
BLIP_MAX_WAIT_S = 2.0  # the longest single wait between tries, seconds


def is_transient(error: Exception) -> bool:
    """True for errors that another try on a fresh connection may not meet again."""
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _log_redo(details: dict) -> None:
    log.warning(
        "database blip in %s (%s); redoing it (try %d) in %.2f s",
        details["target"].__name__,
        details["exception"].__class__.__name__,
        details["tries"],
        details["wait"],
    )


# Every function it wraps runs one whole transaction, so a redo starts it again from the top.
redo_on_blip = backoff.on_exception(
    backoff.expo,
    DBAPIError,
    giveup=lambda error: not is_transient(error),
    max_time=BLIP_MAX_S,
    factor=0.1,
    max_value=BLIP_MAX_WAIT_S,
    on_backoff=_log_redo,
    logger=None,
)
