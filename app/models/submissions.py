"""Entries of an edition (submissions, with their answers to the first round's criteria) and
the awards that earlier editions gave, which the entry rules read (an earlier award can make an
innovation ineligible; a replication entry's source must hold a qualifying one)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned, string_enum
from app.models.enums import ScreeningOutcome, ScreeningReason, SubmissionStatus

# Entries that hold their innovation's place in the edition (withdrawn and expired ones do not).
HOLDS_PLACE = "status NOT IN ('withdrawn', 'expired')"
EMPTY_ARRAY = text("'[]'::jsonb")


class Submission(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """One innovation entered in one edition, group and category."""

    __tablename__ = "submissions"

    competition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="RESTRICT")
    )
    group_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    category_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    innovation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT")
    )
    # The innovation's owners when it was entered.
    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    unit_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("units.id", ondelete="RESTRICT")
    )
    # A replication entry's source innovation.
    source_innovation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT")
    )
    status: Mapped[SubmissionStatus] = mapped_column(
        string_enum(SubmissionStatus, "submission_status"), default=SubmissionStatus.draft
    )
    # The round the entry is in (the first one once submitted).
    round_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    return_reason: Mapped[str | None] = mapped_column(Text)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    screening_outcome: Mapped[ScreeningOutcome | None] = mapped_column(
        string_enum(ScreeningOutcome, "screening_outcome")
    )
    screening_reason: Mapped[ScreeningReason | None] = mapped_column(
        string_enum(ScreeningReason, "screening_reason")
    )
    screening_note: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    screened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The tier of the last round the entry advanced past (its award once results are decreed).
    final_tier: Mapped[str | None] = mapped_column(String(30))
    disqualification_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # The group, category and round are of the entry's edition.
        ForeignKeyConstraint(
            ["group_id", "competition_id"],
            ["competition_groups.id", "competition_groups.competition_id"],
            name="fk_submissions_group_of_competition",
            ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["category_id", "competition_id"],
            ["competition_categories.id", "competition_categories.competition_id"],
            name="fk_submissions_category_of_competition",
            ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["round_id", "competition_id"],
            ["competition_rounds.id", "competition_rounds.competition_id"],
            name="fk_submissions_round_of_competition",
            ondelete="RESTRICT",
        ),
        # One innovation enters an edition at most once.
        Index(
            "uq_submissions_competition_innovation",
            "competition_id",
            "innovation_id",
            unique=True,
            postgresql_where=text(HOLDS_PLACE),
        ),
        Index("ix_submissions_created_at_id", "created_at", "id"),
        Index("ix_submissions_competition_id_created_at_id", "competition_id", "created_at", "id"),
        Index("ix_submissions_institution_id_created_at_id", "institution_id", "created_at", "id"),
        Index(
            "ix_submissions_competition_group_institution",
            "competition_id",
            "group_id",
            "institution_id",
        ),
        Index("ix_submissions_innovation_id", "innovation_id"),
        Index("ix_submissions_source_innovation_id", "source_innovation_id"),
        Index("ix_submissions_unit_id", "unit_id"),
        Index("ix_submissions_group_id", "group_id"),
        Index("ix_submissions_category_id", "category_id"),
        Index("ix_submissions_round_id", "round_id"),
        CheckConstraint(
            "source_innovation_id IS DISTINCT FROM innovation_id", name="source_not_itself"
        ),
        CheckConstraint(
            "(status = 'disqualified') = (disqualification_reason IS NOT NULL)",
            name="disqualification_reason",
        ),
        CheckConstraint(
            "(screening_outcome IS NULL) = (screened_at IS NULL)", name="screening_dated"
        ),
        CheckConstraint(
            "screening_outcome = 'out' OR screening_reason IS NULL", name="reason_when_out"
        ),
        CheckConstraint(
            "screening_outcome IS DISTINCT FROM 'out' OR screening_reason IS NOT NULL",
            name="out_has_reason",
        ),
    )


class SubmissionAnswer(Base):
    """An entry's answer to one criterion of its edition's first round."""

    __tablename__ = "submission_answers"

    submission_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("round_criteria.id", ondelete="RESTRICT"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text)
    evidence_links: Mapped[list[str]] = mapped_column(JSONB, server_default=EMPTY_ARRAY)

    __table_args__ = (
        Index("ix_submission_answers_criterion_id", "criterion_id"),
        CheckConstraint("jsonb_typeof(evidence_links) = 'array'", name="links_array"),
    )


class Award(UUIDPrimaryKey, Base):
    """An award an innovation won (Top 45 KIPP 2021): the permanent record that later
    editions' entry rules read. Historic awards predate the system and name no edition."""

    __tablename__ = "awards"

    innovation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT")
    )
    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    competition_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="RESTRICT")
    )
    # The entry whose decreed result this award is (none for a historic award).
    submission_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("submissions.id", ondelete="RESTRICT")
    )
    tier: Mapped[str] = mapped_column(String(30))  # top_99, top_45, top_5, terpuji, ...
    year: Mapped[int] = mapped_column(SmallInteger)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("uq_awards_submission_id", "submission_id", unique=True),
        Index("ix_awards_year_id", "year", "id"),
        Index("ix_awards_innovation_id", "innovation_id"),
        Index("ix_awards_institution_id", "institution_id"),
        Index("ix_awards_competition_id", "competition_id"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("tier ~ '^[a-z0-9_]+$'", name="tier_code"),
    )
