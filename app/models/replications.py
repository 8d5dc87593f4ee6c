"""Replications: a unit adopting, whole or in part, an innovation proven elsewhere, with the
date of every step it reached, and optionally the adopter's own record of the adapted
innovation (its replica). Replicas link innovations into a lineage tree."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned, string_enum
from app.models.enums import ReplicationFacilitator, ReplicationScope, ReplicationStatus

# A replication holds its place (one per source and adopter unit) unless it ended this way.
ENDED = ("rejected", "discontinued")
HOLDS_PLACE = f"status NOT IN {ENDED!r}"
EMPTY_ARRAY = text("'[]'::jsonb")


class Replication(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """One adopter unit replicating one source innovation."""

    __tablename__ = "replications"

    source_innovation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="RESTRICT")
    )
    # The source's owners when the replication was requested: the source side.
    source_institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    source_unit_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    adopter_institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    adopter_unit_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    facilitator: Mapped[ReplicationFacilitator | None] = mapped_column(
        string_enum(ReplicationFacilitator, "replication_facilitator")
    )
    facilitator_hub_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hubs.id", ondelete="RESTRICT")
    )
    scope: Mapped[ReplicationScope] = mapped_column(
        string_enum(ReplicationScope, "replication_scope")
    )
    adaptation: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ReplicationStatus] = mapped_column(
        string_enum(ReplicationStatus, "replication_status"), default=ReplicationStatus.requested
    )
    requested_date: Mapped[date] = mapped_column(Date)
    approved_date: Mapped[date | None] = mapped_column(Date)
    rejected_date: Mapped[date | None] = mapped_column(Date)
    agreement_date: Mapped[date | None] = mapped_column(Date)
    implementation_started_date: Mapped[date | None] = mapped_column(Date)
    implemented_date: Mapped[date | None] = mapped_column(Date)
    evaluated_date: Mapped[date | None] = mapped_column(Date)
    discontinued_date: Mapped[date | None] = mapped_column(Date)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    discontinuation_reason: Mapped[str | None] = mapped_column(Text)
    # [{kind, url, title}] and [{indicator, before, after, unit, note}], validated by the API.
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=EMPTY_ARRAY)
    benefit_measures: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=EMPTY_ARRAY
    )
    # The adopter's own record of the adapted innovation (deleting that draft unlinks it).
    replica_innovation_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("innovations.id", ondelete="SET NULL")
    )
    # The id a regional system gave it, unique per institution that pushed it (`/v1/sync`).
    external_id: Mapped[str | None] = mapped_column(String(100))
    external_institution_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey(
            "institutions.id",
            name="fk_replications_external_institution_id_institutions",
            ondelete="RESTRICT",
        ),
    )

    __table_args__ = (
        CheckConstraint(
            "(external_id IS NULL) = (external_institution_id IS NULL)",
            name="external_id_with_institution",
        ),
        Index(
            "uq_replications_external_institution_external_id",
            "external_institution_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        ForeignKeyConstraint(
            ["source_unit_id", "source_institution_id"],
            ["units.id", "units.institution_id"],
            name="fk_replications_source_unit_of_institution",
            ondelete="RESTRICT",
        ),
        ForeignKeyConstraint(
            ["adopter_unit_id", "adopter_institution_id"],
            ["units.id", "units.institution_id"],
            name="fk_replications_adopter_unit_of_institution",
            ondelete="RESTRICT",
        ),
        # One source has at most one live (or completed) replication per adopter unit.
        Index(
            "uq_replications_source_adopter_unit",
            "source_innovation_id",
            "adopter_unit_id",
            unique=True,
            postgresql_where=text(HOLDS_PLACE),
        ),
        # An innovation is the replica of one replication at most: the lineage is a tree.
        Index(
            "uq_replications_replica_innovation_id",
            "replica_innovation_id",
            unique=True,
            postgresql_where=text("replica_innovation_id IS NOT NULL"),
        ),
        Index("ix_replications_created_at_id", "created_at", "id"),
        Index("ix_replications_source_innovation_id", "source_innovation_id"),
        Index("ix_replications_source_institution_id", "source_institution_id"),
        Index("ix_replications_adopter_institution_id", "adopter_institution_id"),
        Index("ix_replications_adopter_unit_id", "adopter_unit_id"),
        Index("ix_replications_source_unit_id", "source_unit_id"),
        Index("ix_replications_facilitator_hub_id", "facilitator_hub_id"),
        Index(
            "ix_replications_implemented",
            "implemented_date",
            postgresql_where=text("implemented_date IS NOT NULL"),
        ),
        CheckConstraint("adopter_unit_id <> source_unit_id", name="adopter_not_source_unit"),
        CheckConstraint(
            "replica_innovation_id IS DISTINCT FROM source_innovation_id", name="replica_not_source"
        ),
        CheckConstraint(
            "coalesce(facilitator = 'hub', false) = (facilitator_hub_id IS NOT NULL)",
            name="facilitator_hub",
        ),
        CheckConstraint("scope IN ('full', 'partial')", name="scope_known"),
        # Every step reached has its date, and only those (discontinued keeps the earlier ones).
        CheckConstraint(
            "(approved_date IS NOT NULL) = (status IN ('approved', 'agreement_signed', "
            "'implementing', 'implemented', 'evaluated') OR (status = 'discontinued' AND "
            "approved_date IS NOT NULL))"
            " AND (rejected_date IS NOT NULL) = (status = 'rejected')"
            " AND (discontinued_date IS NOT NULL) = (status = 'discontinued')"
            " AND (status <> 'agreement_signed' OR agreement_date IS NOT NULL)"
            " AND (status <> 'implementing' OR implementation_started_date IS NOT NULL)"
            " AND (status <> 'implemented' OR implemented_date IS NOT NULL)"
            " AND (status <> 'evaluated' OR evaluated_date IS NOT NULL)",
            name="status_dates",
        ),
        CheckConstraint(
            "(approved_date IS NULL OR approved_date >= requested_date)"
            " AND (rejected_date IS NULL OR rejected_date >= requested_date)"
            " AND (agreement_date IS NULL OR agreement_date >= approved_date)"
            " AND (implementation_started_date IS NULL OR implementation_started_date >= "
            "agreement_date)"
            " AND (implemented_date IS NULL OR implemented_date >= implementation_started_date)"
            " AND (evaluated_date IS NULL OR evaluated_date >= implemented_date)",
            name="dates_ordered",
        ),
        CheckConstraint(
            "jsonb_typeof(documents) = 'array' AND jsonb_typeof(benefit_measures) = 'array'",
            name="json_arrays",
        ),
    )
