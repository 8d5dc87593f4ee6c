"""innovations and innovation categories

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 17:08:29.655403+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The starting vocabulary of thematic categories; secretariat admins manage it afterwards.
CATEGORIES = [
    ("administrasi_kependudukan", "Administrasi Kependudukan", "Civil registration and identity."),
    ("kesehatan", "Kesehatan", "Health services."),
    ("pendidikan", "Pendidikan", "Education services."),
    ("sosial", "Perlindungan Sosial", "Social protection and welfare."),
    ("ekonomi", "Ekonomi dan UMKM", "Economy, small enterprises and cooperatives."),
    ("perizinan_investasi", "Perizinan dan Investasi", "Licensing and investment services."),
    ("tata_kelola", "Tata Kelola Pemerintahan", "Governance, planning, budgeting and transparency."),
    ("legislatif", "Layanan Legislatif", "Services of regional parliaments and their secretariats."),
    ("infrastruktur", "Infrastruktur dan Transportasi", "Infrastructure, transport and utilities."),
    ("lingkungan_hidup", "Lingkungan Hidup", "Environment, sanitation and waste."),
    ("pertanian_pangan", "Pertanian dan Ketahanan Pangan", "Agriculture, fisheries and food security."),
    ("pariwisata_budaya", "Pariwisata dan Kebudayaan", "Tourism and culture."),
    ("ketertiban_keamanan", "Ketertiban dan Keamanan", "Public order, safety and disaster response."),
    ("kesetaraan_gender", "Kesetaraan Gender dan Inklusi", "Gender equality, children and inclusion."),
    ("pengaduan_publik", "Pengaduan dan Partisipasi Publik", "Complaints handling and participation."),
]


def upgrade() -> None:
    # Trigram matching for acronyms and typos; a trusted extension, no superuser needed.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    categories = op.create_table('innovation_categories',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("code ~ '^[a-z][a-z0-9_]{1,39}$'", name=op.f('ck_innovation_categories_code_format')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_innovation_categories'))
    )
    op.create_table('innovations',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('unit_id', sa.UUID(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('acronym_expansion', sa.String(length=300), nullable=True),
    sa.Column('year_started', sa.SmallInteger(), nullable=False),
    sa.Column('implemented_date', sa.Date(), nullable=True),
    sa.Column('is_digital', sa.Boolean(), nullable=False),
    sa.Column('stage', sa.Enum('inisiatif', 'uji_coba', 'penerapan', name='innovation_stage', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('sdgs', postgresql.ARRAY(sa.SmallInteger()), server_default=sa.text("'{}'::smallint[]"), nullable=False),
    sa.Column('category_codes', postgresql.ARRAY(sa.String(length=40)), server_default=sa.text("'{}'::varchar[]"), nullable=False),
    sa.Column('sections', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('regulations', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('budget_lines', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('links', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('sustainability_status', sa.Enum('running', 'institutionalised', 'paused', 'discontinued', name='sustainability_status', native_enum=False, create_constraint=True, length=20), nullable=True),
    sa.Column('status', sa.Enum('draft', 'published', 'archived', name='innovation_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source_system', sa.String(length=60), nullable=True),
    sa.Column('external_id', sa.String(length=100), nullable=True),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('indonesian'::regconfig, replace(title, '''', '') || ' ' || coalesce(replace(acronym_expansion, '''', ''), '')), 'A') || setweight(to_tsvector('indonesian'::regconfig, coalesce(sections->>'summary', '') || ' ' || coalesce(sections->>'novelty', '')), 'B') || setweight(to_tsvector('indonesian'::regconfig, coalesce(sections->>'background_and_aims', '') || ' ' || coalesce(sections->>'implementation', '') || ' ' || coalesce(sections->>'significance_and_impact', '') || ' ' || coalesce(sections->>'adaptability', '') || ' ' || coalesce(sections->>'resources', '') || ' ' || coalesce(sections->>'sustainability_strategy', '')), 'C')", persisted=True), nullable=False),
    sa.Column('search_title', sa.Text(), sa.Computed("lower(replace(title || ' ' || coalesce(acronym_expansion, ''), '''', ''))", persisted=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'draft') OR (published_at IS NOT NULL)", name=op.f('ck_innovations_published_has_date')),
    sa.CheckConstraint("sdgs <@ '{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17}'::smallint[]", name=op.f('ck_innovations_sdgs_range')),
    sa.CheckConstraint('implemented_date IS NULL OR extract(year FROM implemented_date) >= year_started', name=op.f('ck_innovations_implemented_after_start')),
    sa.CheckConstraint('year_started BETWEEN 1945 AND 2100', name=op.f('ck_innovations_year_started_range')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_innovations_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id', 'institution_id'], ['units.id', 'units.institution_id'], name='fk_innovations_unit_same_institution', ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_innovations'))
    )
    op.bulk_insert(
        categories,
        [{"code": c, "name": n, "description": d, "version": 1} for c, n, d in CATEGORIES],
    )
    op.create_index('ix_innovations_category_codes', 'innovations', ['category_codes'], unique=False, postgresql_using='gin')
    op.create_index('ix_innovations_created_at_id', 'innovations', ['created_at', 'id'], unique=False)
    op.create_index('ix_innovations_institution_id_created_at', 'innovations', ['institution_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_innovations_published_created_at', 'innovations', ['created_at', 'id'], unique=False, postgresql_where=sa.text("status = 'published'"))
    op.create_index('ix_innovations_published_title', 'innovations', ['title', 'id'], unique=False, postgresql_where=sa.text("status = 'published'"))
    op.create_index('ix_innovations_published_year_started', 'innovations', ['year_started', 'id'], unique=False, postgresql_where=sa.text("status = 'published'"))
    op.create_index('ix_innovations_sdgs', 'innovations', ['sdgs'], unique=False, postgresql_using='gin')
    op.create_index('ix_innovations_search_title_trgm', 'innovations', ['search_title'], unique=False, postgresql_using='gin', postgresql_ops={'search_title': 'gin_trgm_ops'})
    op.create_index('ix_innovations_search_vector', 'innovations', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_innovations_title_id', 'innovations', ['title', 'id'], unique=False)
    op.create_index('ix_innovations_unit_id_created_at', 'innovations', ['unit_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_innovations_year_started_id', 'innovations', ['year_started', 'id'], unique=False)
    op.create_index('uq_innovations_institution_external_id', 'innovations', ['institution_id', 'external_id'], unique=True, postgresql_where=sa.text('external_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('uq_innovations_institution_external_id', table_name='innovations', postgresql_where=sa.text('external_id IS NOT NULL'))
    op.drop_index('ix_innovations_year_started_id', table_name='innovations')
    op.drop_index('ix_innovations_unit_id_created_at', table_name='innovations')
    op.drop_index('ix_innovations_title_id', table_name='innovations')
    op.drop_index('ix_innovations_search_vector', table_name='innovations', postgresql_using='gin')
    op.drop_index('ix_innovations_search_title_trgm', table_name='innovations', postgresql_using='gin', postgresql_ops={'search_title': 'gin_trgm_ops'})
    op.drop_index('ix_innovations_sdgs', table_name='innovations', postgresql_using='gin')
    op.drop_index('ix_innovations_published_year_started', table_name='innovations', postgresql_where=sa.text("status = 'published'"))
    op.drop_index('ix_innovations_published_title', table_name='innovations', postgresql_where=sa.text("status = 'published'"))
    op.drop_index('ix_innovations_published_created_at', table_name='innovations', postgresql_where=sa.text("status = 'published'"))
    op.drop_index('ix_innovations_institution_id_created_at', table_name='innovations')
    op.drop_index('ix_innovations_created_at_id', table_name='innovations')
    op.drop_index('ix_innovations_category_codes', table_name='innovations', postgresql_using='gin')
    op.drop_table('innovations')
    op.drop_table('innovation_categories')
