"""a covering index for facets and statistics over published innovations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 20:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_innovations_published_facets",
        "innovations",
        ["institution_id"],
        unique=False,
        postgresql_include=[
            "status",
            "stage",
            "is_digital",
            "year_started",
            "sdgs",
            "category_codes",
        ],
        postgresql_where=sa.text("status = 'published'"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_innovations_published_facets",
        table_name="innovations",
        postgresql_where=sa.text("status = 'published'"),
    )
