from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned
from app.models.enums import HubKind, HubStatus


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
