from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Enum, ForeignKey, Index, LargeBinary, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, UUIDPrimaryKey
from app.models.enums import Role


class ApiKey(UUIDPrimaryKey, Base):
    """A machine or bootstrap credential. The secret is stored only as its SHA-256 digest."""

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(120))
    # First characters of the key, safe to display ("inv_1a2B3c4D").
    prefix: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, create_constraint=True, length=30, name="role")
    )
    institution_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    unit_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("units.id", ondelete="RESTRICT")
    )
    # The hubs table arrives with the hubs feature; the reference is added then.
    hub_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_by_api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("uq_api_keys_secret_hash", "secret_hash", unique=True),
        Index("uq_api_keys_prefix", "prefix", unique=True),
        Index("ix_api_keys_institution_id", "institution_id"),
        Index("ix_api_keys_created_at_id", "created_at", "id"),
        CheckConstraint(
            "role NOT IN ('local_admin', 'regional_system', 'unit_operator')"
            " OR institution_id IS NOT NULL",
            name="institution_scope",
        ),
        CheckConstraint("role <> 'unit_operator' OR unit_id IS NOT NULL", name="unit_scope"),
        CheckConstraint("role <> 'hub_admin' OR hub_id IS NOT NULL", name="hub_scope"),
    )
