"""Results (docs/evaluation.md): numbered announcements of a round's outcome or the final
results, each opening a public objection window, and the objections filed in it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
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
from app.models.enums import AnnouncementKind, ObjectionStatus


class Announcement(UUIDPrimaryKey, Timestamps, Base):
    """A published, numbered announcement (B/187/PP.00.05/2022). Its entries are a snapshot of
    what it announced; an entry later disqualified is marked, never removed. An amended
    announcement (*pengumuman perubahan*) names the entries an upheld objection promoted, with
    its own objection window, and links to the announcement it amends."""

    __tablename__ = "announcements"

    competition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="RESTRICT")
    )
    kind: Mapped[AnnouncementKind] = mapped_column(
        string_enum(AnnouncementKind, "announcement_kind")
    )
    # The round whose outcome it announces (none for the final results).
    round_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competition_rounds.id", ondelete="RESTRICT")
    )
    number: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    objection_days: Mapped[int] = mapped_column(SmallInteger)
    objections_close_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    entries: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    # The announcement this one amends (an upheld objection promoted an entry into it).
    amends_announcement_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("announcements.id", ondelete="RESTRICT")
    )

    __table_args__ = (
        Index("uq_announcements_number", func.upper(text("number")), unique=True),
        Index("ix_announcements_amends_announcement_id", "amends_announcement_id"),
        Index(
            "ix_announcements_competition_id_published_at_id",
            "competition_id",
            "published_at",
            "id",
        ),
        Index("ix_announcements_round_id", "round_id"),
        CheckConstraint(
            "(kind = 'round_outcome') = (round_id IS NOT NULL)", name="round_when_outcome"
        ),
        CheckConstraint("objection_days BETWEEN 0 AND 30", name="objection_days_range"),
        CheckConstraint("objections_close_at >= published_at", name="window_order"),
        CheckConstraint("jsonb_typeof(entries) = 'array'", name="entries_array"),
    )


class Objection(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A public objection to one announced entry. The filer's contact is seen by the organiser
    only."""

    __tablename__ = "objections"

    announcement_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("announcements.id", ondelete="RESTRICT")
    )
    submission_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("submissions.id", ondelete="RESTRICT")
    )
    filer_name: Mapped[str] = mapped_column(String(120))
    filer_contact: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ObjectionStatus] = mapped_column(
        string_enum(ObjectionStatus, "objection_status"), default=ObjectionStatus.filed
    )
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The entry promoted in the disqualified one's place, if any.
    promoted_submission_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("submissions.id", ondelete="RESTRICT")
    )
    # The amended announcement that named the promoted entry.
    amendment_announcement_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("announcements.id", ondelete="RESTRICT")
    )

    __table_args__ = (
        Index("ix_objections_announcement_id_created_at_id", "announcement_id", "created_at", "id"),
        Index("ix_objections_submission_id", "submission_id"),
        Index("ix_objections_promoted_submission_id", "promoted_submission_id"),
        Index("ix_objections_amendment_announcement_id", "amendment_announcement_id"),
        CheckConstraint(
            "amendment_announcement_id IS NULL OR promoted_submission_id IS NOT NULL",
            name="amendment_names_promotion",
        ),
        CheckConstraint("(status = 'filed') = (reviewed_at IS NULL)", name="reviewed_dated"),
        CheckConstraint("status = 'filed' OR review_note IS NOT NULL", name="review_has_note"),
    )
