"""amended announcements: an upheld objection's promotion is announced

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 07:00:00+00:00

An objection upheld with `promote_next` publishes an amended announcement (*pengumuman
perubahan*) that names the promoted entry, links to the announcement it amends and opens its
own objection window (docs/evaluation.md). Announcements gain the link, objections the amended
announcement their decision published.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("announcements", sa.Column("amends_announcement_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_announcements_amends_announcement_id_announcements"),
        "announcements",
        "announcements",
        ["amends_announcement_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_index(
        "ix_announcements_amends_announcement_id", "announcements", ["amends_announcement_id"]
    )
    op.add_column("objections", sa.Column("amendment_announcement_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_objections_amendment_announcement_id_announcements"),
        "objections",
        "announcements",
        ["amendment_announcement_id"],
        ["id"],
        ondelete="RESTRICT",
    )
    op.create_index(
        "ix_objections_amendment_announcement_id", "objections", ["amendment_announcement_id"]
    )
    op.create_check_constraint(
        op.f("ck_objections_amendment_names_promotion"),
        "objections",
        "amendment_announcement_id IS NULL OR promoted_submission_id IS NOT NULL",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_objections_amendment_names_promotion"), "objections", type_="check"
    )
    op.drop_index("ix_objections_amendment_announcement_id", table_name="objections")
    op.drop_constraint(
        op.f("fk_objections_amendment_announcement_id_announcements"),
        "objections",
        type_="foreignkey",
    )
    op.drop_column("objections", "amendment_announcement_id")
    op.drop_index("ix_announcements_amends_announcement_id", table_name="announcements")
    op.drop_constraint(
        op.f("fk_announcements_amends_announcement_id_announcements"),
        "announcements",
        type_="foreignkey",
    )
    op.drop_column("announcements", "amends_announcement_id")
