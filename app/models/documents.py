"""Documents (README "Documents"): files the service stores and serves, each attached to the
record it documents, seen by whoever may see that record."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

DOCUMENT_KINDS = (
    "regulation",
    "budget_document",
    "photo",
    "report",
    "other",
)
RECORD_TYPES = ("innovation",)


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(30))
    # The name shown and sent in Content-Disposition, sanitised; never a path.
    file_name: Mapped[str] = mapped_column(String(200))
    # Decided from the file's own bytes (and equal to what the client declared).
    media_type: Mapped[str] = mapped_column(String(120))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # Where the bytes are in the store: chosen by the service, never by the client.
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    record_type: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # The record's institution: the quota's and the scope's (a published innovation's
    # documents are public unless private).
    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    private: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    uploaded_by_kind: Mapped[str] = mapped_column(String(10))
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    uploaded_by_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(
            "kind IN ('regulation', 'budget_document', 'photo', 'report', 'other')", name="kind"
        ),
        CheckConstraint("record_type IN ('innovation')", name="record_type"),
        CheckConstraint("size_bytes > 0", name="size"),
        Index("ix_documents_record", "record_type", "record_id", "created_at", "id"),
        Index("ix_documents_institution_id", "institution_id"),
        Index("ix_documents_created_at_id", "created_at", "id"),
    )
