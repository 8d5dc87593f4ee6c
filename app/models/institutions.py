from __future__ import annotations

import uuid

from sqlalchemy import (
    CheckConstraint,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned
from app.models.enums import InstitutionKind


class Institution(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A ministry, agency, local government or state/regional enterprise (instansi)."""

    __tablename__ = "institutions"

    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[InstitutionKind] = mapped_column(
        Enum(
            InstitutionKind,
            native_enum=False,
            create_constraint=True,
            length=20,
            name="institution_kind",
        )
    )
    region_code: Mapped[str | None] = mapped_column(
        String(13), ForeignKey("regions.code", ondelete="RESTRICT")
    )
    # A BUMD's owning local government.
    owner_institution_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )

    __table_args__ = (
        CheckConstraint(
            "(kind IN ('kementerian', 'lembaga', 'bumn')) = (region_code IS NULL)",
            name="region_by_kind",
        ),
        CheckConstraint(
            "(kind = 'bumd') = (owner_institution_id IS NOT NULL)", name="owner_for_bumd"
        ),
        Index("uq_institutions_name", func.lower(text("name")), unique=True),
        Index(
            "uq_institutions_local_government_region",
            "region_code",
            unique=True,
            postgresql_where=text("kind IN ('pemprov', 'pemkab', 'pemkot')"),
        ),
        Index(
            "ix_institutions_region_code",
            "region_code",
            postgresql_ops={"region_code": "text_pattern_ops"},
        ),
        Index("ix_institutions_owner_institution_id", "owner_institution_id"),
        Index("ix_institutions_kind_name", "kind", "name", "id"),
        Index("ix_institutions_name_id", "name", "id"),
        Index("ix_institutions_created_at_id", "created_at", "id"),
    )


class Unit(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A public-service unit (UPP) of one institution, optionally under another of its units."""

    __tablename__ = "units"

    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    parent_unit_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str | None] = mapped_column(
        String(13), ForeignKey("regions.code", ondelete="RESTRICT")
    )
    # The id a regional system gave it, unique per institution (`/v1/sync`).
    external_id: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        # Lets the parent reference below also pin the parent to the same institution.
        UniqueConstraint("id", "institution_id", name="uq_units_id_institution_id"),
        ForeignKeyConstraint(
            ["parent_unit_id", "institution_id"],
            ["units.id", "units.institution_id"],
            name="fk_units_parent_same_institution",
            ondelete="RESTRICT",
        ),
        CheckConstraint("parent_unit_id IS DISTINCT FROM id", name="not_own_parent"),
        Index(
            "uq_units_sibling_name",
            "institution_id",
            "parent_unit_id",
            func.lower(text("name")),
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
        Index("ix_units_institution_id_name", "institution_id", "name", "id"),
        Index("ix_units_parent_unit_id", "parent_unit_id"),
        Index("ix_units_region_code", "region_code"),
        Index(
            "uq_units_institution_external_id",
            "institution_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )
