"""regions institutions units api keys

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 07:50:30.681097+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('regions',
    sa.Column('code', sa.String(length=13), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('type', sa.Enum('provinsi', 'kabupaten', 'kota', name='region_type', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('parent_code', sa.String(length=13), nullable=True),
    sa.CheckConstraint('(level = 1) = (parent_code IS NULL)', name=op.f('ck_regions_parent_by_level')),
    sa.CheckConstraint('level BETWEEN 1 AND 4', name=op.f('ck_regions_level_range')),
    sa.ForeignKeyConstraint(['parent_code'], ['regions.code'], name=op.f('fk_regions_parent_code_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_regions'))
    )
    op.create_index('ix_regions_parent_code', 'regions', ['parent_code'], unique=False)
    op.create_table('institutions',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=60), nullable=True),
    sa.Column('kind', sa.Enum('kementerian', 'lembaga', 'pemprov', 'pemkab', 'pemkot', 'bumn', 'bumd', name='institution_kind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('region_code', sa.String(length=13), nullable=True),
    sa.Column('owner_institution_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(kind = 'bumd') = (owner_institution_id IS NOT NULL)", name=op.f('ck_institutions_owner_for_bumd')),
    sa.CheckConstraint("(kind IN ('kementerian', 'lembaga', 'bumn')) = (region_code IS NULL)", name=op.f('ck_institutions_region_by_kind')),
    sa.ForeignKeyConstraint(['owner_institution_id'], ['institutions.id'], name=op.f('fk_institutions_owner_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_institutions_region_code_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institutions'))
    )
    op.create_index('ix_institutions_created_at_id', 'institutions', ['created_at', 'id'], unique=False)
    op.create_index('ix_institutions_kind_name', 'institutions', ['kind', 'name', 'id'], unique=False)
    op.create_index('ix_institutions_name_id', 'institutions', ['name', 'id'], unique=False)
    op.create_index('ix_institutions_owner_institution_id', 'institutions', ['owner_institution_id'], unique=False)
    op.create_index('ix_institutions_region_code', 'institutions', ['region_code'], unique=False, postgresql_ops={'region_code': 'text_pattern_ops'})
    op.create_index('uq_institutions_local_government_region', 'institutions', ['region_code'], unique=True, postgresql_where=sa.text("kind IN ('pemprov', 'pemkab', 'pemkot')"))
    op.create_index('uq_institutions_name', 'institutions', [sa.literal_column('lower(name)')], unique=True)
    op.create_table('units',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('parent_unit_id', sa.UUID(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region_code', sa.String(length=13), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('parent_unit_id IS DISTINCT FROM id', name=op.f('ck_units_not_own_parent')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_units_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['parent_unit_id', 'institution_id'], ['units.id', 'units.institution_id'], name='fk_units_parent_same_institution', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_units_region_code_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_units')),
    sa.UniqueConstraint('id', 'institution_id', name='uq_units_id_institution_id')
    )
    op.create_index('ix_units_institution_id_name', 'units', ['institution_id', 'name', 'id'], unique=False)
    op.create_index('ix_units_parent_unit_id', 'units', ['parent_unit_id'], unique=False)
    op.create_index('ix_units_region_code', 'units', ['region_code'], unique=False)
    op.create_index('uq_units_sibling_name', 'units', ['institution_id', 'parent_unit_id', sa.literal_column('lower(name)')], unique=True, postgresql_nulls_not_distinct=True)
    op.create_table('api_keys',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('role', sa.Enum('secretariat_admin', 'local_admin', 'unit_operator', 'evaluator', 'hub_admin', 'regional_system', name='role', native_enum=False, create_constraint=True, length=30), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=True),
    sa.Column('unit_id', sa.UUID(), nullable=True),
    sa.Column('hub_id', sa.UUID(), nullable=True),
    sa.Column('created_by_api_key_id', sa.UUID(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role <> 'hub_admin' OR hub_id IS NOT NULL", name=op.f('ck_api_keys_hub_scope')),
    sa.CheckConstraint("role <> 'unit_operator' OR unit_id IS NOT NULL", name=op.f('ck_api_keys_unit_scope')),
    sa.CheckConstraint("role NOT IN ('local_admin', 'regional_system', 'unit_operator') OR institution_id IS NOT NULL", name=op.f('ck_api_keys_institution_scope')),
    sa.ForeignKeyConstraint(['created_by_api_key_id'], ['api_keys.id'], name=op.f('fk_api_keys_created_by_api_key_id_api_keys'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_api_keys_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_api_keys_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys'))
    )
    op.create_index('ix_api_keys_created_at_id', 'api_keys', ['created_at', 'id'], unique=False)
    op.create_index('ix_api_keys_institution_id', 'api_keys', ['institution_id'], unique=False)
    op.create_index('uq_api_keys_prefix', 'api_keys', ['prefix'], unique=True)
    op.create_index('uq_api_keys_secret_hash', 'api_keys', ['secret_hash'], unique=True)


def downgrade() -> None:
    for table in ("api_keys", "units", "institutions", "regions"):
        op.drop_table(table)
