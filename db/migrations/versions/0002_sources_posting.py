"""The source cache, the shared GitHub budget, refresh, the job posting, and grounded briefings.

Existing jobs read as not refreshed and existing briefings as grounded (they were shown as such).

Revision ID: 0002_sources_posting
Revises: 0001_baseline
Create Date: 2026-11-29 19:04:14.595859
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002_sources_posting"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "github_budget",
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("resource", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("reset_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account", "resource"),
    )
    op.create_table(
        "source_cache",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("stored_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("briefings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grounded", sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_description", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("job_description_url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True)
        )
        batch_op.add_column(sa.Column("refresh", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("refresh")
        batch_op.drop_column("job_description_url")
        batch_op.drop_column("job_description")

    with op.batch_alter_table("briefings", schema=None) as batch_op:
        batch_op.drop_column("grounded")

    op.drop_table("source_cache")
    op.drop_table("github_budget")
