"""documents: files attached to records, served by the service

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 00:15:00+00:00

A document is a row (its name, media type decided from its bytes, size, SHA-256, the key of
its bytes in the store) attached to one record, whose institution scopes it and counts it in
its quota.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('media_type', sa.String(length=120), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('record_type', sa.String(length=30), nullable=False),
    sa.Column('record_id', sa.UUID(), nullable=False),
    sa.Column('institution_id', sa.UUID(), nullable=False),
    sa.Column('private', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('uploaded_by_kind', sa.String(length=10), nullable=False),
    sa.Column('uploaded_by_id', sa.UUID(), nullable=False),
    sa.Column('uploaded_by_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('regulation', 'budget_document', 'photo', 'report', 'other')", name=op.f('ck_documents_kind')),
    sa.CheckConstraint("record_type IN ('innovation')", name=op.f('ck_documents_record_type')),
    sa.CheckConstraint('size_bytes > 0', name=op.f('ck_documents_size')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_documents_institution_id_institutions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_documents_storage_key'))
    )
    op.create_index('ix_documents_created_at_id', 'documents', ['created_at', 'id'], unique=False)
    op.create_index('ix_documents_institution_id', 'documents', ['institution_id'], unique=False)
    op.create_index('ix_documents_record', 'documents', ['record_type', 'record_id', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_documents_record', table_name='documents')
    op.drop_index('ix_documents_institution_id', table_name='documents')
    op.drop_index('ix_documents_created_at_id', table_name='documents')
    op.drop_table('documents')
