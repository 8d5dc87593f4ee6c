from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned
from app.models.enums import AssessmentStatus, MaturityInstrumentStatus


def _enum(enum: type[Any], name: str) -> Enum:
    return Enum(enum, native_enum=False, create_constraint=True, length=20, name=name)


class MaturityInstrument(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """One revision of the hub maturity instrument: weighted aspects of weighted questions whose
    options carry scores. Editable while a draft; frozen once published (assessments answer
    it), so a change is a new revision of the same `code`."""

    __tablename__ = "maturity_instruments"

    code: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MaturityInstrumentStatus] = mapped_column(
        _enum(MaturityInstrumentStatus, "instrument_status"), default=MaturityInstrumentStatus.draft
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # [{aspect, name, weight, questions: [{code, text, weight, options: [{code, label, score,
    # requires_evidence}]}]}]: validated by the API (weights of each level sum to 1), and
    # immutable once published, so answers may refer to its codes.
    aspects: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)

    __table_args__ = (
        UniqueConstraint("code", "revision"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint("jsonb_typeof(aspects) = 'array'", name="aspects_array"),
        CheckConstraint(
            "(published_at IS NOT NULL) = (status <> 'draft')"
            " AND (retired_at IS NOT NULL) = (status = 'retired')",
            name="status_dates",
        ),
        # One draft and one published revision per instrument at a time.
        Index(
            "uq_maturity_instruments_open_draft",
            "code",
            unique=True,
            postgresql_where=text("status = 'draft'"),
        ),
        Index(
            "uq_maturity_instruments_published",
            "code",
            unique=True,
            postgresql_where=text("status = 'published'"),
        ),
    )


class MaturityAssessment(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A hub's self-assessment for one year against one instrument revision, and the
    secretariat's verification of it. Earlier years stay, so progress shows."""

    __tablename__ = "maturity_assessments"

    hub_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hubs.id", ondelete="RESTRICT")
    )
    instrument_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("maturity_instruments.id", ondelete="RESTRICT")
    )
    period_year: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[AssessmentStatus] = mapped_column(
        _enum(AssessmentStatus, "assessment_status"), default=AssessmentStatus.draft
    )
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_reason: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The weighted sum of the hub's own answers (set on submission) and of the verified scores
    # (set on verification), 0-100.
    self_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    total_score: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))

    answers: Mapped[list[MaturityAnswer]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="MaturityAnswer.question_code"
    )

    __table_args__ = (
        UniqueConstraint("hub_id", "period_year"),
        CheckConstraint("period_year BETWEEN 2000 AND 2100", name="period_year_range"),
        CheckConstraint(
            "(status = 'verified') = (verified_at IS NOT NULL AND total_score IS NOT NULL)",
            name="verified_with_score",
        ),
        CheckConstraint(
            "status = 'draft' OR (submitted_at IS NOT NULL AND self_score IS NOT NULL)",
            name="submitted_with_score",
        ),
        CheckConstraint("(status = 'returned') <= (return_reason IS NOT NULL)", name="returned"),
        Index("ix_maturity_assessments_instrument_id", "instrument_id"),
        Index("ix_maturity_assessments_hub_id_status", "hub_id", "status", "period_year"),
    )


class MaturityAnswer(Timestamps, Base):
    """The hub's answer to one question (an option, evidence, a comment) and the verifier's
    score for it (an option of the same question) with a note."""

    __tablename__ = "maturity_answers"

    assessment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("maturity_assessments.id", ondelete="CASCADE"),
        primary_key=True,
    )
    question_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    option_code: Mapped[str] = mapped_column(String(40))
    # [{title, url}], validated by the API.
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    comment: Mapped[str | None] = mapped_column(Text)
    verified_option_code: Mapped[str | None] = mapped_column(String(40))
    verifier_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (CheckConstraint("jsonb_typeof(evidence) = 'array'", name="evidence_array"),)
