from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned
from app.models.enums import HubActivityKind, HubActivityStatus, HubKind, HubStatus


def _enum(enum: type[Any], name: str) -> Enum:
    return Enum(enum, native_enum=False, create_constraint=True, length=20, name=name)


class Hub(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A JIPP hub: a provincial government (regional) or a ministry or agency (central) that
    coaches the institutions of its network. Each status it reached keeps the date it did."""

    __tablename__ = "hubs"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[HubKind] = mapped_column(_enum(HubKind, "hub_kind"))
    host_institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    # The host's unit that runs the hub (often its organisation bureau or research agency).
    coordinating_unit_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    status: Mapped[HubStatus] = mapped_column(
        _enum(HubStatus, "hub_status"), default=HubStatus.candidate
    )
    candidate_date: Mapped[date] = mapped_column(Date)
    committed_date: Mapped[date | None] = mapped_column(Date)
    designated_date: Mapped[date | None] = mapped_column(Date)
    activated_date: Mapped[date | None] = mapped_column(Date)
    inactivated_date: Mapped[date | None] = mapped_column(Date)
    designation_decree_reference: Mapped[str | None] = mapped_column(String(200))
    designation_year: Mapped[int | None] = mapped_column(SmallInteger)
    is_pilot: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # [{name, role, email, phone}], validated by the API.
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )

    __table_args__ = (
        # The coordinating unit is one of the host's own units.
        ForeignKeyConstraint(
            ["coordinating_unit_id", "host_institution_id"],
            ["units.id", "units.institution_id"],
            name="fk_hubs_coordinating_unit_of_host",
            ondelete="RESTRICT",
        ),
        # The machine is linear: a hub has the date of every status up to its current one.
        CheckConstraint(
            "(committed_date IS NOT NULL) = (status <> 'candidate')"
            " AND (designated_date IS NOT NULL) = (status IN ('designated', 'active', 'inactive'))"
            " AND (activated_date IS NOT NULL) = (status IN ('active', 'inactive'))"
            " AND (inactivated_date IS NOT NULL) = (status = 'inactive')",
            name="status_dates",
        ),
        CheckConstraint(
            "(committed_date IS NULL OR committed_date >= candidate_date)"
            " AND (designated_date IS NULL OR designated_date >= committed_date)"
            " AND (activated_date IS NULL OR activated_date >= designated_date)"
            " AND (inactivated_date IS NULL OR inactivated_date >= activated_date)",
            name="dates_in_order",
        ),
        CheckConstraint(
            "designated_date IS NOT NULL"
            " OR (designation_year IS NULL AND designation_decree_reference IS NULL)",
            name="designation_when_designated",
        ),
        CheckConstraint("designation_year BETWEEN 2000 AND 2100", name="designation_year_range"),
        CheckConstraint("jsonb_typeof(contacts) = 'array'", name="contacts_array"),
        Index("uq_hubs_name", func.lower(text("name")), unique=True),
        # One active hub per host institution.
        Index(
            "uq_hubs_active_host",
            "host_institution_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_hubs_host_institution_id", "host_institution_id"),
        Index("ix_hubs_coordinating_unit_id", "coordinating_unit_id"),
        Index("ix_hubs_name_id", "name", "id"),
        Index("ix_hubs_created_at_id", "created_at", "id"),
    )


class HubMember(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """One period of membership of an institution (or of one of its units) in a hub. Leaving
    sets `left_date`; rejoining adds a new row, so the history stays."""

    __tablename__ = "hub_members"

    hub_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hubs.id", ondelete="CASCADE")
    )
    # The member institution, or for a unit member the unit's institution.
    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    unit_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    joined_date: Mapped[date] = mapped_column(Date)
    left_date: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        ForeignKeyConstraint(
            ["unit_id", "institution_id"],
            ["units.id", "units.institution_id"],
            name="fk_hub_members_unit_same_institution",
            ondelete="RESTRICT",
        ),
        CheckConstraint("left_date IS NULL OR left_date >= joined_date", name="left_after_joined"),
        # At most one open membership per member per hub (an institution: unit_id NULL).
        Index(
            "uq_hub_members_open",
            "hub_id",
            "institution_id",
            "unit_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
            postgresql_where=text("left_date IS NULL"),
        ),
        Index("ix_hub_members_hub_id_joined_date", "hub_id", "joined_date", "id"),
        Index("ix_hub_members_hub_id_created_at", "hub_id", "created_at", "id"),
        Index("ix_hub_members_institution_id", "institution_id"),
        Index("ix_hub_members_unit_id", "unit_id"),
    )


class HubActivity(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """Something a hub did for its network: a coaching clinic, a knowledge-sharing session, a
    replication forum... with the institutions that took part and the innovations shown. The
    hub's own until it is published; then public."""

    __tablename__ = "hub_activities"

    hub_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hubs.id", ondelete="CASCADE")
    )
    kind: Mapped[HubActivityKind] = mapped_column(_enum(HubActivityKind, "hub_activity_kind"))
    title: Mapped[str] = mapped_column(String(300))
    activity_date: Mapped[date] = mapped_column(Date)
    # Where it took place: a region (the province or the regency/city) and the venue.
    region_code: Mapped[str | None] = mapped_column(
        String(13), ForeignKey("regions.code", ondelete="RESTRICT")
    )
    venue: Mapped[str | None] = mapped_column(String(300))
    is_online: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    description: Mapped[str | None] = mapped_column(Text)
    outcome_notes: Mapped[str | None] = mapped_column(Text)
    # [{title, url}], validated by the API.
    documents: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    status: Mapped[HubActivityStatus] = mapped_column(
        _enum(HubActivityStatus, "hub_activity_status"), default=HubActivityStatus.draft
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The id a regional system gave it, unique per institution that pushed it (`/v1/sync`).
    external_id: Mapped[str | None] = mapped_column(String(100))
    external_institution_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey(
            "institutions.id",
            name="fk_hub_activities_external_institution_id_institutions",
            ondelete="RESTRICT",
        ),
    )

    participants: Mapped[list[HubActivityParticipant]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HubActivityParticipant.position"
    )
    innovations: Mapped[list[HubActivityInnovation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="HubActivityInnovation.position"
    )

    __table_args__ = (
        CheckConstraint("(status = 'published') = (published_at IS NOT NULL)", name="published_at"),
        CheckConstraint(
            "(external_id IS NULL) = (external_institution_id IS NULL)",
            name="external_id_with_institution",
        ),
        Index(
            "uq_hub_activities_external_institution_external_id",
            "external_institution_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        CheckConstraint("jsonb_typeof(documents) = 'array'", name="documents_array"),
        Index("ix_hub_activities_hub_id_activity_date", "hub_id", "activity_date", "id"),
        Index("ix_hub_activities_hub_id_created_at", "hub_id", "created_at", "id"),
        Index(
            "ix_hub_activities_region_code",
            "region_code",
            postgresql_ops={"region_code": "text_pattern_ops"},
        ),
    )

    @property
    def participant_institution_ids(self) -> list[uuid.UUID]:
        return [p.institution_id for p in self.participants]

    @property
    def innovation_ids(self) -> list[uuid.UUID]:
        return [i.innovation_id for i in self.innovations]


class HubActivityParticipant(Base):
    """An institution that took part in a hub activity."""

    __tablename__ = "hub_activity_participants"

    activity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hub_activities.id", ondelete="CASCADE"), primary_key=True
    )
    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (Index("ix_hub_activity_participants_institution_id", "institution_id"),)


class HubActivityInnovation(Base):
    """An innovation presented at a hub activity (a good practice shown, a replication offer)."""

    __tablename__ = "hub_activity_innovations"

    activity_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hub_activities.id", ondelete="CASCADE"), primary_key=True
    )
    innovation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT"), primary_key=True
    )
    position: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (Index("ix_hub_activity_innovations_innovation_id", "innovation_id"),)
