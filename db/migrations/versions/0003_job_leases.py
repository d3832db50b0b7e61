"""jobs.claims becomes jobs.leases: it counts a worker's leases on the job ("claim" is a briefing's fact).

Revision ID: 0003_job_leases
Revises: 0002_sources_posting
Create Date: 2026-12-02 16:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003_job_leases"
down_revision: str | Sequence[str] | None = "0002_sources_posting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.alter_column("claims", new_column_name="leases")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.alter_column("leases", new_column_name="claims")
