from __future__ import annotations

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base
from app.models.enums import RegionType


class Region(Base):
    """A Kemendagri region: province (level 1) or regency/city (level 2), keyed by dotted code."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(13), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(SmallInteger)
    type: Mapped[RegionType] = mapped_column(
        Enum(RegionType, native_enum=False, create_constraint=True, length=20, name="region_type")
    )
    parent_code: Mapped[str | None] = mapped_column(
        String(13), ForeignKey("regions.code", ondelete="RESTRICT")
    )

    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 4", name="level_range"),
        CheckConstraint("(level = 1) = (parent_code IS NULL)", name="parent_by_level"),
        Index("ix_regions_parent_code", "parent_code"),
    )
