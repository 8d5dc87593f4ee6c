"""hubs and hub members

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 19:29:46.627358+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Before this revision nothing checked `hub_id`, so an account or key may name a hub that does
# not exist. The demo's hub admin is one (its hub now comes with `inovasi demo`): it is removed
# here and `inovasi demo` adds it again with its hub. Any other such row stops the migration.
DEMO_HUB_ID = "bc3d1e10-43b3-5cff-8cdb-2cde8f4d15e9"  # demo_id("hub", "JIPP Provinsi Sumatera Utara")
DEMO_HUB_ADMIN_EMAIL = "hub.sumut@demo.inovasi.id"


def _drop_dangling_hub_references() -> None:
    op.execute(
        sa.text("DELETE FROM users WHERE hub_id = CAST(:hub AS uuid) AND lower(email) = :email")
        .bindparams(hub=DEMO_HUB_ID, email=DEMO_HUB_ADMIN_EMAIL)
    )
    dangling = op.get_bind().execute(
        sa.text(
            "SELECT 'user ' || id FROM users WHERE hub_id IS NOT NULL"
            " UNION ALL SELECT 'api_key ' || id FROM api_keys WHERE hub_id IS NOT NULL"
        )
    ).scalars().all()
    if dangling:
        raise RuntimeError(
            "these accounts and keys name hubs that do not exist yet; create the hubs after "
            f"migrating, or remove them, then migrate again: {', '.join(dangling)}"
        )


def upgrade() -> None:
    op.create_table('hubs',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('regional', 'central', name='hub_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('host_institution_id', sa.UUID(), nullable=False),
    sa.Column('coordinating_unit_id', sa.UUID(), nullable=True),
    sa.Column('status', sa.Enum('candidate', 'committed', 'designated', 'active', 'inactive', name='hub_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('candidate_date', sa.Date(), nullable=False),
    sa.Column('committed_date', sa.Date(), nullable=True),
    sa.Column('designated_date', sa.Date(), nullable=True),
    sa.Column('activated_date', sa.Date(), nullable=True),
    sa.Column('inactivated_date', sa.Date(), nullable=True),
    sa.Column('designation_decree_reference', sa.String(length=200), nullable=True),
    sa.Column('designation_year', sa.SmallInteger(), nullable=True),
    sa.Column('is_pilot', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('contacts', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(committed_date IS NOT NULL) = (status <> 'candidate') AND (designated_date IS NOT NULL) = (status IN ('designated', 'active', 'inactive')) AND (activated_date IS NOT NULL) = (status IN ('active', 'inactive')) AND (inactivated_date IS NOT NULL) = (status = 'inactive')", name=op.f('ck_hubs_status_dates')),
    sa.CheckConstraint("jsonb_typeof(contacts) = 'array'", name=op.f('ck_hubs_contacts_array')),
    sa.CheckConstraint('(committed_date IS NULL OR committed_date >= candidate_date) AND (designated_date IS NULL OR designated_date >= committed_date) AND (activated_date IS NULL OR activated_date >= designated_date) AND (inactivated_date IS NULL OR inactivated_date >= activated_date)', name=op.f('ck_hubs_dates_in_order')),
    sa.CheckConstraint('designated_date IS NOT NULL OR (designation_year IS NULL AND designation_decree_reference IS NULL)', name=op.f('ck_hubs_designation_when_designated')),
    sa.CheckConstraint('designation_year BETWEEN 2000 AND 2100', name=op.f('ck_hubs_designation_year_range')),
    sa.ForeignKeyConstraint(['coordinating_unit_id', 'host_institution_id'], ['units.id', 'units.institution_id'], name='fk_hubs_coordinating_unit_of_host', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['host_institution_id'], ['institutions.id'], name=op.f('fk_hubs_host_institution_id_institutions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hubs'))
    )
    op.create_index('ix_hubs_coordinating_unit_id', 'hubs', ['coordinating_unit_id'], unique=False)
    op.create_index('ix_hubs_created_at_id', 'hubs', ['created_at', 'id'], unique=False)
    op.create_index('ix_hubs_host_institution_id', 'hubs', ['host_institution_id'], unique=False)
    op.create_index('ix_hubs_name_id', 'hubs', ['name', 'id'], unique=False)
    op.create_index('uq_hubs_active_host', 'hubs', ['host_institution_id'], unique=True, postgresql_where=sa.text("status = 'active'"))
    op.create_index('uq_hubs_name', 'hubs', [sa.literal_column('lower(name)')], unique=True)
    op.create_table('hub_members',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('hub_id', sa.UUID(), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('unit_id', sa.UUID(), nullable=True),
    sa.Column('joined_date', sa.Date(), nullable=False),
    sa.Column('left_date', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('left_date IS NULL OR left_date >= joined_date', name=op.f('ck_hub_members_left_after_joined')),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_hub_members_hub_id_hubs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_hub_members_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id', 'institution_id'], ['units.id', 'units.institution_id'], name='fk_hub_members_unit_same_institution', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hub_members'))
    )
    op.create_index('ix_hub_members_hub_id_created_at', 'hub_members', ['hub_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_hub_members_hub_id_joined_date', 'hub_members', ['hub_id', 'joined_date', 'id'], unique=False)
    op.create_index('ix_hub_members_institution_id', 'hub_members', ['institution_id'], unique=False)
    op.create_index('ix_hub_members_unit_id', 'hub_members', ['unit_id'], unique=False)
    op.create_index('uq_hub_members_open', 'hub_members', ['hub_id', 'institution_id', 'unit_id'], unique=True, postgresql_nulls_not_distinct=True, postgresql_where=sa.text('left_date IS NULL'))
    _drop_dangling_hub_references()
    op.create_index('ix_api_keys_hub_id', 'api_keys', ['hub_id'], unique=False)
    op.create_foreign_key(op.f('fk_api_keys_hub_id_hubs'), 'api_keys', 'hubs', ['hub_id'], ['id'], ondelete='RESTRICT')
    op.create_index('ix_users_hub_id', 'users', ['hub_id'], unique=False)
    op.create_foreign_key(op.f('fk_users_hub_id_hubs'), 'users', 'hubs', ['hub_id'], ['id'], ondelete='RESTRICT')


def downgrade() -> None:
    op.drop_constraint(op.f('fk_users_hub_id_hubs'), 'users', type_='foreignkey')
    op.drop_index('ix_users_hub_id', table_name='users')
    op.drop_constraint(op.f('fk_api_keys_hub_id_hubs'), 'api_keys', type_='foreignkey')
    op.drop_index('ix_api_keys_hub_id', table_name='api_keys')
    op.drop_index('uq_hub_members_open', table_name='hub_members', postgresql_nulls_not_distinct=True, postgresql_where=sa.text('left_date IS NULL'))
    op.drop_index('ix_hub_members_unit_id', table_name='hub_members')
    op.drop_index('ix_hub_members_institution_id', table_name='hub_members')
    op.drop_index('ix_hub_members_hub_id_joined_date', table_name='hub_members')
    op.drop_index('ix_hub_members_hub_id_created_at', table_name='hub_members')
    op.drop_table('hub_members')
    op.drop_index('uq_hubs_name', table_name='hubs')
    op.drop_index('uq_hubs_active_host', table_name='hubs', postgresql_where=sa.text("status = 'active'"))
    op.drop_index('ix_hubs_name_id', table_name='hubs')
    op.drop_index('ix_hubs_host_institution_id', table_name='hubs')
    op.drop_index('ix_hubs_created_at_id', table_name='hubs')
    op.drop_index('ix_hubs_coordinating_unit_id', table_name='hubs')
    op.drop_table('hubs')
