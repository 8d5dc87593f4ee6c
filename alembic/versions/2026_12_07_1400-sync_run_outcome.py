"""sync runs record failed attempts: outcome and error code

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 14:00:00+00:00

A batch that applies is recorded with its writes, as before (`outcome` `applied`); an attempt
that fails (its transaction rolled back: a database error mid-batch, say) is now recorded too,
in a transaction of its own after the rollback, as `failed` with the problem code its response
carried (`error_code`), so it shows in `GET /v1/sync/runs` (docs/sync.md). Existing runs all
applied.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "sync_runs",
        sa.Column("outcome", sa.String(length=10), server_default="applied", nullable=False),
    )
    op.add_column("sync_runs", sa.Column("error_code", sa.String(length=64), nullable=True))
    op.create_check_constraint(
        op.f("ck_sync_runs_outcome"),
        "sync_runs",
        "(outcome = 'applied' AND error_code IS NULL) "
        "OR (outcome = 'failed' AND error_code IS NOT NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_sync_runs_outcome"), "sync_runs", type_="check")
    op.drop_column("sync_runs", "error_code")
    op.drop_column("sync_runs", "outcome")
