"""PostgreSQL LISTEN: wakes this process's pool as soon as any process queues a job.

Polling stays the fallback (and the only way on SQLite); a lost connection is opened again.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy.engine import make_url

from db.jobs import QUEUE_CHANNEL

log = logging.getLogger(__name__)

CHECK_STOP_S = 1.0  # how often the listener looks at its stop flag, seconds
RECONNECT_S = 1.0  # the wait before listening again after the connection was lost, seconds


def listen_for_jobs(url: str, wake: threading.Event, stop: threading.Event) -> None:
    """Set `wake` on every NOTIFY of a queued job until `stop` is set (a thread's body)."""
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as connection:
                connection.execute(f"LISTEN {QUEUE_CHANNEL}")
                wake.set()  # whatever was queued while nobody listened
                while not stop.is_set():
                    for _ in connection.notifies(timeout=CHECK_STOP_S, stop_after=1):
                        wake.set()
        except psycopg.Error as error:
            log.warning("listening for queued jobs failed (%s); polling until it is back", error.__class__.__name__)
            stop.wait(RECONNECT_S)
