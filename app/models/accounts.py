from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned
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
    hub_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hubs.id", ondelete="RESTRICT")
    )
    created_by_api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id", ondelete="SET NULL")
    )
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        # use_alter: users and api_keys refer to each other (who created whom).
        UUID(as_uuid=True),
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True),
    )
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("uq_api_keys_secret_hash", "secret_hash", unique=True),
        Index("uq_api_keys_prefix", "prefix", unique=True),
        Index("ix_api_keys_institution_id", "institution_id"),
        Index("ix_api_keys_hub_id", "hub_id"),
        Index("ix_api_keys_created_at_id", "created_at", "id"),
        CheckConstraint(
            "role NOT IN ('local_admin', 'regional_system', 'unit_operator')"
            " OR institution_id IS NOT NULL",
            name="institution_scope",
        ),
        CheckConstraint("role <> 'unit_operator' OR unit_id IS NOT NULL", name="unit_scope"),
        CheckConstraint("role <> 'hub_admin' OR hub_id IS NOT NULL", name="hub_scope"),
    )


class User(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A person who signs in with email and password. The password is stored only as an
    argon2 hash; a machine client gets an API key instead (no regional_system users)."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, create_constraint=True, length=30, name="role")
    )
    institution_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    unit_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    hub_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("hubs.id", ondelete="RESTRICT")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # The language of the person's messages (id or en); null: DEFAULT_LANGUAGE.
    language: Mapped[str | None] = mapped_column(String(5))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Tokens issued before this moment are refused (a password change signs every session out).
    password_changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index("uq_users_email", func.lower(text("email")), unique=True),
        Index("ix_users_institution_id_name", "institution_id", "name", "id"),
        Index("ix_users_created_at_id", "created_at", "id"),
        Index("ix_users_hub_id", "hub_id"),
        # A unit operator's unit belongs to its institution.
        ForeignKeyConstraint(
            ["unit_id", "institution_id"],
            ["units.id", "units.institution_id"],
            name="fk_users_unit_same_institution",
            ondelete="RESTRICT",
        ),
        CheckConstraint("role <> 'regional_system'", name="person_role"),
        CheckConstraint("language IN ('id', 'en')", name="language"),
        CheckConstraint(
            "role NOT IN ('local_admin', 'unit_operator') OR institution_id IS NOT NULL",
            name="institution_scope",
        ),
        CheckConstraint("role <> 'unit_operator' OR unit_id IS NOT NULL", name="unit_scope"),
        CheckConstraint("role <> 'hub_admin' OR hub_id IS NOT NULL", name="hub_scope"),
    )
