"""audit trail: the instants in recorded changes are written in UTC with Z

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 13:00:00+00:00

Every response writes an instant in UTC with `Z` (README, API conventions). The audit trail
kept its changes as the record held them, so an instant given or computed in WIB was stored
as `...+07:00`: each `before`/`after` that is an instant with an offset is rewritten as the
same instant in UTC with `Z` (microseconds only when there are any, as the API writes them).
The table refuses UPDATE, so its append-only trigger is set aside for the rewrite, inside the
migration's transaction. The downgrade leaves the rewritten instants (they are the same).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGER = "audit_events_append_only"
_INSTANT = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}:\d{2}$"


def upgrade() -> None:
    op.execute(f"ALTER TABLE audit_events DISABLE TRIGGER {_TRIGGER}")
    op.execute(
        f"""
        CREATE FUNCTION pg_temp.utc_z(value jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
            SELECT CASE
                WHEN jsonb_typeof(value) = 'string' AND (value #>> '{{}}') ~ '{_INSTANT}' THEN
                    to_jsonb(
                        to_char((value #>> '{{}}')::timestamptz AT TIME ZONE 'UTC',
                                'YYYY-MM-DD"T"HH24:MI:SS')
                        || CASE
                            WHEN to_char((value #>> '{{}}')::timestamptz, 'US') = '000000'
                            THEN ''
                            ELSE '.' || to_char((value #>> '{{}}')::timestamptz, 'US')
                        END
                        || 'Z'
                    )
                ELSE value
            END
        $$
        """
    )
    op.execute(
        """
        UPDATE audit_events AS e
        SET changes = coalesce((
            SELECT jsonb_object_agg(
                field,
                CASE
                    WHEN jsonb_typeof(change) = 'object' THEN coalesce((
                        SELECT jsonb_object_agg(side, pg_temp.utc_z(value))
                        FROM jsonb_each(change) AS sides(side, value)
                    ), change)
                    ELSE change
                END
            )
            FROM jsonb_each(e.changes) AS fields(field, change)
        ), e.changes)
        WHERE e.changes::text ~ '\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?[+-]\\d{2}:\\d{2}"'
        """
    )
    op.execute(f"ALTER TABLE audit_events ENABLE TRIGGER {_TRIGGER}")


def downgrade() -> None:
    pass
