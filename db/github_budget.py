"""GitHub's rate-limit budget in the database: every job of every process spends the same one.

Each change reads the window under a row lock (SQLite: the write lock BEGIN IMMEDIATE takes) and
applies the rules of `pipeline.github_budget`, so two processes never both spend the last request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Engine, Row
from sqlmodel import select

from core import github_budget as rules
from core.github_budget import Verdict, Window
from db.engine import core_writing, reading, upsert_insert
from db.models import GitHubBudgetWindow, utcnow

_table = GitHubBudgetWindow.__table__
# Built once, as Core: every GitHub request of every job reads the budget or changes it two or
# three times (reserve, observe the reply, give back a 304); built per call through the ORM each
# change cost 1.6–3.4 ms of CPU instead of about 0.4 ms (SQLite), while it held the writer queue.
_ROW = (_table.c.account == bindparam("of_account")) & (_table.c.resource == bindparam("of_resource"))
_WINDOW = select(_table.c.resource, _table.c.limit, _table.c.remaining, _table.c.reset_at).where(_ROW)
_LOCKED_WINDOW = _WINDOW.with_for_update()
_SET_WINDOW = (
    update(_table)
    .where(_ROW)
    .values(
        limit=bindparam("new_limit"),
        remaining=bindparam("new_remaining"),
        reset_at=bindparam("new_reset_at"),
        updated_at=bindparam("now"),
    )
)


@cache
def _insert_missing(dialect_insert):
    """The row for a first window, inserted unless another process just did; built once per dialect."""
    return dialect_insert(_table).on_conflict_do_nothing(index_elements=["account", "resource"])


class DbBudget:
    """`pipeline.github_budget.RateBudget` on the `github_budget` table, for one account."""

    def __init__(self, engine: Engine, authenticated: bool) -> None:
        self._engine = engine
        self._account = "token" if authenticated else "anonymous"

    def take(self, resource: str) -> Verdict:
        """Reserve one request of `resource` when its current window has one left."""
        verdict = Verdict.UNKNOWN

        def spend(current: Window | None) -> Window | None:
            nonlocal verdict
            verdict, window = rules.take(current, time.time())
            return window

        self._update(resource, spend)
        return verdict

    def give_back(self, resource: str) -> None:
        """Return one reserved request of the current window."""
        self._update(resource, lambda current: rules.give_back(current, time.time()))

    def observe(self, window: Window) -> None:
        """Fold in a window GitHub reported."""
        self._update(window.resource, lambda current: rules.merge(current, window, time.time()), create=window)

    def window(self, resource: str) -> Window | None:
        """The current window of `resource`, None when unknown or expired."""
        with self._engine.connect() as conn:
            window = _window(conn.execute(_WINDOW, self._row(resource)).first())
        return None if window is None or window.expired(time.time()) else window

    def report(self) -> dict[str, dict[str, object]]:
        """This account's current windows, `{"core": {"limit", "remaining", "resetAt"}}`, for /api/health."""
        now = time.time()
        with reading(self._engine) as session:
            rows = session.exec(select(GitHubBudgetWindow).where(GitHubBudgetWindow.account == self._account)).all()
        return {
            row.resource: {
                "limit": row.limit,
                "remaining": row.remaining,
                "resetAt": datetime.fromtimestamp(row.reset_at, UTC).isoformat().replace("+00:00", "Z"),
            }
            for row in rows
            if row.reset_at > now
        }

    def _update(
        self, resource: str, change: Callable[[Window | None], Window | None], create: Window | None = None
    ) -> None:
        with core_writing(self._engine) as conn:
            if create is not None:
                conn.execute(
                    _insert_missing(upsert_insert(self._engine)),
                    {
                        "account": self._account,
                        "resource": create.resource,
                        "limit": create.limit,
                        "remaining": create.remaining,
                        "reset_at": create.reset_at,
                        "updated_at": utcnow(),
                    },
                )
            row = conn.execute(_LOCKED_WINDOW, self._row(resource)).first()
            current = _window(row)
            window = change(current)
            if row is not None and window is not None and window != current:
                conn.execute(
                    _SET_WINDOW,
                    {
                        **self._row(resource),
                        "new_limit": window.limit,
                        "new_remaining": window.remaining,
                        "new_reset_at": window.reset_at,
                        "now": utcnow(),
                    },
                )

    def _row(self, resource: str) -> dict[str, str]:
        return {"of_account": self._account, "of_resource": resource}


def _window(row: Row | None) -> Window | None:
    return None if row is None else Window(*row)
