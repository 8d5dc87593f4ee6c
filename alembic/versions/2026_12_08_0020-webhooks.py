"""webhooks: endpoints, their deliveries and attempts, and the record-change feed's cursor

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:00:00+00:00

An endpoint's signing secrets are stored encrypted (they are needed back to sign). A delivery
is one event for one endpoint (`message_id`, the `webhook-id` header, unique per endpoint);
`webhook_deliveries_seq` orders an endpoint's deliveries. The feed cursor starts at the log's
present (every change of a transaction below the migration's xmin is before it): endpoints
are told of changes made after they exist, not of the log's history.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE SEQUENCE webhook_deliveries_seq")
    op.create_table('webhook_feed_cursor',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('xid', sa.BigInteger(), nullable=False),
    sa.Column('position', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_webhook_feed_cursor_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_feed_cursor'))
    )
    op.create_table('webhooks',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('owner_api_key_id', sa.UUID(), nullable=True),
    sa.Column('owner_user_id', sa.UUID(), nullable=True),
    sa.Column('owner_name', sa.String(length=320), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('event_types', postgresql.ARRAY(sa.String(length=60)), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('previous_secret_encrypted', sa.Text(), nullable=True),
    sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('secret_rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), server_default='active', nullable=False),
    sa.Column('disabled_reason', sa.String(length=500), nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f('ck_webhooks_status')),
    sa.CheckConstraint('(owner_api_key_id IS NULL) <> (owner_user_id IS NULL)', name=op.f('ck_webhooks_one_owner')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_webhooks_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_api_key_id'], ['api_keys.id'], name=op.f('fk_webhooks_owner_api_key_id_api_keys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_webhooks_owner_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhooks'))
    )
    op.create_index('ix_webhooks_event_types', 'webhooks', ['event_types'], unique=False, postgresql_using='gin')
    op.create_index('ix_webhooks_created_at_id', 'webhooks', ['created_at', 'id'], unique=False)
    op.create_index('ix_webhooks_institution_id', 'webhooks', ['institution_id'], unique=False)
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('webhook_id', sa.UUID(), nullable=False),
    sa.Column('seq', sa.BigInteger(), server_default=sa.text("nextval('webhook_deliveries_seq')"), nullable=False),
    sa.Column('message_id', sa.String(length=100), nullable=False),
    sa.Column('event_type', sa.String(length=60), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='pending', nullable=False),
    sa.Column('attempts', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name=op.f('ck_webhook_deliveries_status')),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_webhook_deliveries_webhook_id_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('webhook_id', 'message_id', name=op.f('uq_webhook_deliveries_webhook_id_message_id'))
    )
    op.create_index('ix_webhook_deliveries_pending', 'webhook_deliveries', ['webhook_id', 'seq'], unique=False, postgresql_where="status = 'pending'")
    op.create_index('ix_webhook_deliveries_webhook_id_seq', 'webhook_deliveries', ['webhook_id', 'seq'], unique=False)
    op.create_table('webhook_attempts',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('delivery_id', sa.UUID(), nullable=False),
    sa.Column('attempt', sa.SmallInteger(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.SmallInteger(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('error', sa.String(length=2000), nullable=True),
    sa.Column('succeeded', sa.Boolean(), server_default='false', nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhook_deliveries.id'], name=op.f('fk_webhook_attempts_delivery_id_webhook_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_attempts'))
    )
    op.create_index('ix_webhook_attempts_delivery_id', 'webhook_attempts', ['delivery_id', 'attempt'], unique=False)
    op.execute(
        "INSERT INTO webhook_feed_cursor (id, xid, position) VALUES "
        "(1, (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint - 1, 9223372036854775807)"
    )


def downgrade() -> None:
    op.drop_index('ix_webhook_attempts_delivery_id', table_name='webhook_attempts')
    op.drop_table('webhook_attempts')
    op.drop_index('ix_webhook_deliveries_webhook_id_seq', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_pending', table_name='webhook_deliveries', postgresql_where="status = 'pending'")
    op.drop_table('webhook_deliveries')
    op.drop_index('ix_webhooks_institution_id', table_name='webhooks')
    op.drop_index('ix_webhooks_created_at_id', table_name='webhooks')
    op.drop_index('ix_webhooks_event_types', table_name='webhooks', postgresql_using='gin')
    op.drop_table('webhooks')
    op.drop_table('webhook_feed_cursor')
    op.execute("DROP SEQUENCE webhook_deliveries_seq")
