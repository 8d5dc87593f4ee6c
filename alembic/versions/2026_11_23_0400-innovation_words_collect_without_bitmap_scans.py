"""the title-word trigger looks words up by primary key, not through the trigram index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 04:00:00+00:00

pg_trgm's GIN operator class answers `=` too, and for the trigger's UPDATE (one lookup per
distinct word of the inserted rows) the planner rated it cheaper than the primary key. Each
such lookup reads the posting lists of every trigram of the word, about 8 ms at 20,000 words
against 0.002 ms for the primary key: a COPY of 10,000 rows spent 85 s in the trigger
(bench/README.md). A GIN index is only ever read through a bitmap scan, so the function runs
without them; the trigger's statements have no other use for one.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER FUNCTION innovation_words_collect() SET enable_bitmapscan = off")


def downgrade() -> None:
    op.execute("ALTER FUNCTION innovation_words_collect() RESET enable_bitmapscan")
