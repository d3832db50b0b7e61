"""GitHub's rate-limit budget in the database: every job of every process spends the same one.

Each change reads the window under a row lock (SQLite: the write lock BEGIN IMMEDIATE takes) and
applies the rules of `pipeline.github_budget`, so two processes never both spend the last request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from db.engine import reading, upsert_insert, writing
from db.models import GitHubBudgetWindow, utcnow
from pipeline import github_budget as rules
from pipeline.github_budget import Verdict, Window


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
        with reading(self._engine) as session:
            row = session.get(GitHubBudgetWindow, (self._account, resource))
            window = _window(row)
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
        with writing(self._engine) as session:
            if create is not None:
                self._insert_missing(session, create)
            row = session.exec(
                select(GitHubBudgetWindow)
                .where(GitHubBudgetWindow.account == self._account, GitHubBudgetWindow.resource == resource)
                .with_for_update()
            ).first()
            window = change(_window(row))
            if row is not None and window is not None and window != _window(row):
                row.limit, row.remaining, row.reset_at = window.limit, window.remaining, window.reset_at
                row.updated_at = utcnow()
                session.add(row)

    def _insert_missing(self, session: Session, window: Window) -> None:
        """The row for a first window, inserted unless another process just did."""
        insert = upsert_insert(self._engine)
        session.execute(
            insert(GitHubBudgetWindow)
            .values(
                account=self._account,
                resource=window.resource,
                limit=window.limit,
                remaining=window.remaining,
                reset_at=window.reset_at,
                updated_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["account", "resource"])
        )


def _window(row: GitHubBudgetWindow | None) -> Window | None:
    return None if row is None else Window(row.resource, row.limit, row.remaining, row.reset_at)
