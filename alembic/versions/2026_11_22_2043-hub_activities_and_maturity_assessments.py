"""hub activities and maturity assessments

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 20:43:05.351205+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('maturity_instruments',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('revision', sa.SmallInteger(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'published', 'retired', name='instrument_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('aspects', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(published_at IS NOT NULL) = (status <> 'draft') AND (retired_at IS NOT NULL) = (status = 'retired')", name=op.f('ck_maturity_instruments_status_dates')),
    sa.CheckConstraint("jsonb_typeof(aspects) = 'array'", name=op.f('ck_maturity_instruments_aspects_array')),
    sa.CheckConstraint('revision >= 1', name=op.f('ck_maturity_instruments_revision_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maturity_instruments')),
    sa.UniqueConstraint('code', 'revision', name=op.f('uq_maturity_instruments_code_revision'))
    )
    op.create_index('uq_maturity_instruments_open_draft', 'maturity_instruments', ['code'], unique=True, postgresql_where=sa.text("status = 'draft'"))
    op.create_index('uq_maturity_instruments_published', 'maturity_instruments', ['code'], unique=True, postgresql_where=sa.text("status = 'published'"))
    op.create_table('hub_activities',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('hub_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Enum('coaching_clinic', 'knowledge_sharing', 'replication_forum', 'inspiration_forum', 'regional_competition', 'proposal_coaching', 'data_update', name='hub_activity_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('activity_date', sa.Date(), nullable=False),
    sa.Column('region_code', sa.String(length=13), nullable=True),
    sa.Column('venue', sa.String(length=300), nullable=True),
    sa.Column('is_online', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('outcome_notes', sa.Text(), nullable=True),
    sa.Column('documents', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', name='hub_activity_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'published') = (published_at IS NOT NULL)", name=op.f('ck_hub_activities_published_at')),
    sa.CheckConstraint("jsonb_typeof(documents) = 'array'", name=op.f('ck_hub_activities_documents_array')),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_hub_activities_hub_id_hubs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_hub_activities_region_code_regions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hub_activities'))
    )
    op.create_index('ix_hub_activities_hub_id_activity_date', 'hub_activities', ['hub_id', 'activity_date', 'id'], unique=False)
    op.create_index('ix_hub_activities_hub_id_created_at', 'hub_activities', ['hub_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_hub_activities_region_code', 'hub_activities', ['region_code'], unique=False, postgresql_ops={'region_code': 'text_pattern_ops'})
    op.create_table('maturity_assessments',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('hub_id', sa.UUID(), nullable=False),
    sa.Column('instrument_id', sa.UUID(), nullable=False),
    sa.Column('period_year', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'verified', name='assessment_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_reason', sa.Text(), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('self_score', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('total_score', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(status = 'returned') <= (return_reason IS NOT NULL)", name=op.f('ck_maturity_assessments_returned')),
    sa.CheckConstraint("(status = 'verified') = (verified_at IS NOT NULL AND total_score IS NOT NULL)", name=op.f('ck_maturity_assessments_verified_with_score')),
    sa.CheckConstraint("status = 'draft' OR (submitted_at IS NOT NULL AND self_score IS NOT NULL)", name=op.f('ck_maturity_assessments_submitted_with_score')),
    sa.CheckConstraint('period_year BETWEEN 2000 AND 2100', name=op.f('ck_maturity_assessments_period_year_range')),
    sa.ForeignKeyConstraint(['hub_id'], ['hubs.id'], name=op.f('fk_maturity_assessments_hub_id_hubs'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['instrument_id'], ['maturity_instruments.id'], name=op.f('fk_maturity_assessments_instrument_id_maturity_instruments'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maturity_assessments')),
    sa.UniqueConstraint('hub_id', 'period_year', name=op.f('uq_maturity_assessments_hub_id_period_year'))
    )
    op.create_index('ix_maturity_assessments_hub_id_status', 'maturity_assessments', ['hub_id', 'status', 'period_year'], unique=False)
    op.create_index('ix_maturity_assessments_instrument_id', 'maturity_assessments', ['instrument_id'], unique=False)
    op.create_table('hub_activity_innovations',
    sa.Column('activity_id', sa.UUID(), nullable=False),
    sa.Column('innovation_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['hub_activities.id'], name=op.f('fk_hub_activity_innovations_activity_id_hub_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['innovation_id'], ['innovations.id'], name=op.f('fk_hub_activity_innovations_innovation_id_innovations'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('activity_id', 'innovation_id', name=op.f('pk_hub_activity_innovations'))
    )
    op.create_index('ix_hub_activity_innovations_innovation_id', 'hub_activity_innovations', ['innovation_id'], unique=False)
    op.create_table('hub_activity_participants',
    sa.Column('activity_id', sa.UUID(), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['activity_id'], ['hub_activities.id'], name=op.f('fk_hub_activity_participants_activity_id_hub_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_hub_activity_participants_institution_id_institutions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('activity_id', 'institution_id', name=op.f('pk_hub_activity_participants'))
    )
    op.create_index('ix_hub_activity_participants_institution_id', 'hub_activity_participants', ['institution_id'], unique=False)
    op.create_table('maturity_answers',
    sa.Column('assessment_id', sa.UUID(), nullable=False),
    sa.Column('question_code', sa.String(length=40), nullable=False),
    sa.Column('option_code', sa.String(length=40), nullable=False),
    sa.Column('evidence', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('verified_option_code', sa.String(length=40), nullable=True),
    sa.Column('verifier_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("jsonb_typeof(evidence) = 'array'", name=op.f('ck_maturity_answers_evidence_array')),
    sa.ForeignKeyConstraint(['assessment_id'], ['maturity_assessments.id'], name=op.f('fk_maturity_answers_assessment_id_maturity_assessments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assessment_id', 'question_code', name=op.f('pk_maturity_answers'))
    )


def downgrade() -> None:
    op.drop_table('maturity_answers')
    op.drop_index('ix_hub_activity_participants_institution_id', table_name='hub_activity_participants')
    op.drop_table('hub_activity_participants')
    op.drop_index('ix_hub_activity_innovations_innovation_id', table_name='hub_activity_innovations')
    op.drop_table('hub_activity_innovations')
    op.drop_index('ix_maturity_assessments_instrument_id', table_name='maturity_assessments')
    op.drop_index('ix_maturity_assessments_hub_id_status', table_name='maturity_assessments')
    op.drop_table('maturity_assessments')
    op.drop_index('ix_hub_activities_region_code', table_name='hub_activities', postgresql_ops={'region_code': 'text_pattern_ops'})
    op.drop_index('ix_hub_activities_hub_id_created_at', table_name='hub_activities')
    op.drop_index('ix_hub_activities_hub_id_activity_date', table_name='hub_activities')
    op.drop_table('hub_activities')
    op.drop_index('uq_maturity_instruments_published', table_name='maturity_instruments', postgresql_where=sa.text("status = 'published'"))
    op.drop_index('uq_maturity_instruments_open_draft', table_name='maturity_instruments', postgresql_where=sa.text("status = 'draft'"))
    op.drop_table('maturity_instruments')
