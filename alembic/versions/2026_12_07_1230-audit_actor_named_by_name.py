"""audit trail: the actor is named by its name, a person's email kept beside it

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 12:30:00+00:00

`audit_events.actor_name` held a person's email (an API key's name, or `system`). It now holds
the person's display name, and the email moves to the new `actor_email`. Existing events of
people are rewritten: the email moves over and the name is the person's current one (events of
an account that no longer exists keep the email as their name). The table refuses UPDATE, so
its append-only trigger is set aside for the rewrite, inside the migration's transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TRIGGER = "audit_events_append_only"


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("actor_email", sa.String(length=254), nullable=True))
    op.execute(f"ALTER TABLE audit_events DISABLE TRIGGER {_TRIGGER}")
    op.execute(
        """
        UPDATE audit_events AS e
        SET actor_email = e.actor_name,
            actor_name = coalesce(
                (SELECT u.name FROM users AS u WHERE u.id = e.actor_id), e.actor_name
            )
        WHERE e.actor_kind = 'user'
        """
    )
    op.execute(f"ALTER TABLE audit_events ENABLE TRIGGER {_TRIGGER}")


def downgrade() -> None:
    op.execute(f"ALTER TABLE audit_events DISABLE TRIGGER {_TRIGGER}")
    op.execute(
        """
        UPDATE audit_events
        SET actor_name = actor_email
        WHERE actor_kind = 'user' AND actor_email IS NOT NULL
        """
    )
    op.execute(f"ALTER TABLE audit_events ENABLE TRIGGER {_TRIGGER}")
    op.drop_column("audit_events", "actor_email")
