"""Evaluation of a round (docs/evaluation.md): evaluators assigned to entries, their scores per
criterion, the conflicts they declared and each round's recorded outcome."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    SmallInteger,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned, string_enum
from app.models.enums import AssignmentStatus, RoundOutcome

# Assignments that count: their evaluator still evaluates the entry.
ACTIVE = "status IN ('assigned', 'submitted')"


class Assignment(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """One evaluator assigned one entry in one round."""

    __tablename__ = "assignments"

    competition_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    round_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    submission_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("submissions.id", ondelete="RESTRICT")
    )
    evaluator_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="RESTRICT")
    )
    status: Mapped[AssignmentStatus] = mapped_column(
        string_enum(AssignmentStatus, "assignment_status"), default=AssignmentStatus.assigned
    )
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why the evaluator recused, or why the assignment was handed to another evaluator.
    end_reason: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replaced_by_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("assignments.id", ondelete="RESTRICT")
    )

    __table_args__ = (
        ForeignKeyConstraint(
            ["round_id", "competition_id"],
            ["competition_rounds.id", "competition_rounds.competition_id"],
            name="fk_assignments_round_of_competition",
            ondelete="RESTRICT",
        ),
        # An evaluator evaluates an entry once per round.
        Index(
            "uq_assignments_round_submission_evaluator",
            "round_id",
            "submission_id",
            "evaluator_id",
            unique=True,
            postgresql_where=text(ACTIVE),
        ),
        Index("ix_assignments_round_id_created_at_id", "round_id", "created_at", "id"),
        Index("ix_assignments_evaluator_id_created_at_id", "evaluator_id", "created_at", "id"),
        Index("ix_assignments_submission_id", "submission_id"),
        Index("ix_assignments_replaced_by_id", "replaced_by_id"),
        CheckConstraint("(status = 'submitted') = (submitted_at IS NOT NULL)", name="submitted"),
        CheckConstraint(
            "(status IN ('recused', 'replaced')) = (ended_at IS NOT NULL)", name="ended"
        ),
        CheckConstraint("status <> 'recused' OR end_reason IS NOT NULL", name="recusal_has_reason"),
    )


class AssignmentScore(Base):
    """An evaluator's score for one criterion of the entry's round and group."""

    __tablename__ = "assignment_scores"

    assignment_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("round_criteria.id", ondelete="RESTRICT"), primary_key=True
    )
    score: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    comment: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        Index("ix_assignment_scores_criterion_id", "criterion_id"),
        CheckConstraint("score >= 0", name="score_non_negative"),
    )


class EvaluatorConflict(Base):
    """A conflict of interest an evaluator declared with an entry: never assigned it again."""

    __tablename__ = "evaluator_conflicts"

    evaluator_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    submission_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )

    __table_args__ = (Index("ix_evaluator_conflicts_submission_id", "submission_id"),)


class RoundResult(Base):
    """An entry's recorded result when its round closed: score, rank and outcome."""

    __tablename__ = "round_results"

    round_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("competition_rounds.id", ondelete="CASCADE"),
        primary_key=True,
    )
    submission_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[Decimal | None] = mapped_column(Numeric(7, 3))
    rank: Mapped[int] = mapped_column(SmallInteger)
    outcome: Mapped[RoundOutcome] = mapped_column(string_enum(RoundOutcome, "round_outcome"))
    # Promoted after an objection disqualified an entry ranked above it.
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_round_results_submission_id", "submission_id"),
        CheckConstraint("rank >= 1", name="rank_positive"),
    )
