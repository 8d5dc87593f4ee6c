"""A competition edition (KIPP 2023) and its structure: groups, categories, rounds, criteria.

The edition's rules are data, never code (the rules changed almost every year from 2014 to
2025): the minimum implementation age, the cap of proposals per institution, the earlier award
tiers that make an innovation ineligible and the source awards a replication needs are kept
per group, whether an SDG is required per edition.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned, string_enum
from app.models.enums import CompetitionScope, CompetitionStatus, RoundKind, RoundStatus


def _enum(enum: type[CompetitionScope | CompetitionStatus | RoundKind], name: str) -> Enum:
    return Enum(enum, native_enum=False, create_constraint=True, length=30, name=name)


class Competition(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """One edition: KIPP 2023, a province's own competition, PKRI 2024."""

    __tablename__ = "competitions"

    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(SmallInteger)
    scope: Mapped[CompetitionScope] = mapped_column(_enum(CompetitionScope, "competition_scope"))
    organiser_institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    # The regional hub that runs a provincial competition (its host is the organiser).
    hub_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hubs.id", ondelete="RESTRICT")
    )
    theme: Mapped[str | None] = mapped_column(Text)
    # References of the decrees and regulations the edition rests on, in order.
    legal_basis: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    registration_opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    registration_closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sdg_required: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    status: Mapped[CompetitionStatus] = mapped_column(
        _enum(CompetitionStatus, "competition_status"), default=CompetitionStatus.draft
    )
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Whether announcements show the entries' scores (never the evaluators' names or their
    # own scores).
    publish_scores: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint(
            "registration_closes_at > registration_opens_at", name="registration_window_order"
        ),
        # Registration opens only with its window set.
        CheckConstraint(
            "status IN ('draft', 'cancelled')"
            " OR (registration_opens_at IS NOT NULL AND registration_closes_at IS NOT NULL)",
            name="registration_window_when_open",
        ),
        CheckConstraint(
            "(status = 'cancelled')"
            " = (cancelled_at IS NOT NULL AND cancellation_reason IS NOT NULL)",
            name="cancellation",
        ),
        CheckConstraint(
            "(scope = 'provincial') = (hub_id IS NOT NULL)", name="hub_when_provincial"
        ),
        CheckConstraint("jsonb_typeof(legal_basis) = 'array'", name="legal_basis_array"),
        Index("uq_competitions_code", func.upper(text("code")), unique=True),
        Index("ix_competitions_year_id", "year", "id"),
        Index("ix_competitions_created_at_id", "created_at", "id"),
        Index("ix_competitions_hub_id", "hub_id"),
        Index("ix_competitions_organiser_institution_id", "organiser_institution_id"),
    )


class CompetitionGroup(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A group (*kelompok*) of an edition, with the group's entry rules."""

    __tablename__ = "competition_groups"

    competition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(30))  # umum, replikasi, khusus, keberlanjutan, ...
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    # Implemented at least this many months before registration closes.
    min_implementation_months: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    # Proposals one institution may have in the group; None: no cap.
    max_submissions_per_institution: Mapped[int | None] = mapped_column(SmallInteger)
    # An innovation holding an earlier award of one of these tiers may not enter the group.
    ineligible_award_tiers: Mapped[list[str]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    # A replication group: each entry names its source innovation, which must hold an earlier
    # award of one of `source_award_tiers` (any award when that list is empty).
    requires_source_innovation: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    source_award_tiers: Mapped[list[str]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))

    __table_args__ = (
        UniqueConstraint("competition_id", "code", name="uq_competition_groups_code"),
        # The target of the criteria's composite key (a criterion's group is of its round's
        # edition).
        UniqueConstraint("id", "competition_id", name="uq_competition_groups_id_competition"),
        CheckConstraint("min_implementation_months BETWEEN 0 AND 240", name="age_range"),
        CheckConstraint("max_submissions_per_institution >= 1", name="cap_positive"),
        CheckConstraint(
            "jsonb_typeof(ineligible_award_tiers) = 'array'"
            " AND jsonb_typeof(source_award_tiers) = 'array'",
            name="tiers_arrays",
        ),
        CheckConstraint(
            "requires_source_innovation OR source_award_tiers = '[]'::jsonb",
            name="source_tiers_when_replication",
        ),
    )


class CompetitionCategory(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A thematic category of an edition (2021 had 10, 2022 had 3)."""

    __tablename__ = "competition_categories"

    competition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("competition_id", "code", name="uq_competition_categories_code"),
        UniqueConstraint("id", "competition_id", name="uq_competition_categories_id_competition"),
    )


class CompetitionRound(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A round (*tahap*) of an edition, in order, with its window and who advances."""

    __tablename__ = "competition_rounds"

    competition_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("competitions.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(SmallInteger)
    kind: Mapped[RoundKind] = mapped_column(_enum(RoundKind, "round_kind"))
    name: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The best N advance, and/or those scoring at least the passing grade.
    advance_quota: Mapped[int | None] = mapped_column(SmallInteger)
    passing_grade: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    # The tier the entries advancing past this round hold (top_99, top_45, ...): an entry's
    # final tier is that of the last round it advanced past.
    award_tier: Mapped[str | None] = mapped_column(String(30))
    # Entries whose evaluators' totals differ by more than this are flagged in the ranking.
    spread_threshold: Mapped[Decimal] = mapped_column(Numeric(5, 2), server_default="20")
    # Rank on per-evaluator z-scores (re-expressed on the round's scale) instead of raw totals.
    normalise_scores: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    status: Mapped[RoundStatus] = mapped_column(
        string_enum(RoundStatus, "round_status"), server_default=RoundStatus.open.value
    )
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why the round was closed with evaluations outstanding (a forced close).
    close_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_dated"),
        CheckConstraint("award_tier ~ '^[a-z0-9_]+$'", name="award_tier_code"),
        CheckConstraint("spread_threshold BETWEEN 0 AND 100", name="spread_threshold_range"),
        UniqueConstraint("competition_id", "position", name="uq_competition_rounds_position"),
        UniqueConstraint("id", "competition_id", name="uq_competition_rounds_id_competition"),
        CheckConstraint("position BETWEEN 1 AND 20", name="position_range"),
        CheckConstraint("closes_at > opens_at", name="window_order"),
        CheckConstraint("advance_quota >= 1", name="quota_positive"),
        CheckConstraint("passing_grade BETWEEN 0 AND 100", name="passing_grade_range"),
    )


class RoundCriterion(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A weighted criterion of one round for one group; weights of a round and group sum to
    100 before registration opens (a criterion may weigh 0, as KIPP 2023's summary did)."""

    __tablename__ = "round_criteria"

    competition_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    round_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    group_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    position: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(200))
    guidance: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[int] = mapped_column(SmallInteger)
    min_score: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    max_score: Mapped[int] = mapped_column(SmallInteger, server_default="100")

    __table_args__ = (
        # The round and the group are of the same edition.
        ForeignKeyConstraint(
            ["round_id", "competition_id"],
            ["competition_rounds.id", "competition_rounds.competition_id"],
            name="fk_round_criteria_round_of_competition",
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["group_id", "competition_id"],
            ["competition_groups.id", "competition_groups.competition_id"],
            name="fk_round_criteria_group_of_competition",
            ondelete="CASCADE",
        ),
        Index(
            "uq_round_criteria_name",
            "round_id",
            "group_id",
            func.lower(text("name")),
            unique=True,
        ),
        Index("ix_round_criteria_round_id_group_id_position", "round_id", "group_id", "position"),
        Index("ix_round_criteria_group_id", "group_id"),
        CheckConstraint("weight BETWEEN 0 AND 100", name="weight_range"),
        CheckConstraint("position BETWEEN 1 AND 100", name="position_range"),
        CheckConstraint("min_score >= 0 AND max_score > min_score", name="score_range"),
    )
