from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class SyncChange(Base):
    """One write of a unit, innovation, replication or hub activity, logged by a trigger in the
    writing transaction (migration 0013) and read by `GET /v1/sync/changes` in (xid, position)
    order, only below the reading snapshot's xmin (docs/sync.md)."""

    __tablename__ = "sync_changes"

    position: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    # The writing transaction's id (pg_current_xact_id(), an xid8) as a bigint.
    xid: Mapped[int] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint")
    )
    resource: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    operation: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    # The institutions whose record it is (a replication's two sides).
    institution_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    # Whether anyone could read the record before and after the write.
    public_before: Mapped[bool] = mapped_column(Boolean)
    public_after: Mapped[bool] = mapped_column(Boolean)
    external_id: Mapped[str | None] = mapped_column(String(100))
    external_institution_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint(
            "resource IN ('units', 'innovations', 'replications', 'hub-activities')",
            name="resource",
        ),
        CheckConstraint("operation IN ('upsert', 'delete')", name="operation"),
        Index("ix_sync_changes_xid_position", "xid", "position"),
        Index("ix_sync_changes_resource_record_id", "resource", "record_id", "position"),
        Index("ix_sync_changes_changed_at", "changed_at"),
    )


class SyncHorizon(Base):
    """The newest feed position compaction removed (one row, once compaction ran) and how many
    compactions removed something (`generation`): a cursor handed out before the last of them
    and positioned before that newest removed change may have missed a tombstone, and is
    refused with 410."""

    __tablename__ = "sync_horizon"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(BigInteger)
    generation: Mapped[int] = mapped_column(BigInteger)
    compacted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


class SyncRun(Base):
    """One batch a regional system pushed (`POST /v1/sync/.../batch`): who, when, how it went.
    A batch that applies is written in the batch's transaction (`applied`: recorded exactly when
    its writes are); an attempt that fails is written after its rollback, in a transaction of
    its own (`failed`, with the problem code its response carried, nothing of it applied)."""

    __tablename__ = "sync_runs"

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")
    )
    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True),
        ForeignKey("institutions.id", ondelete="CASCADE"),
    )
    caller_kind: Mapped[str] = mapped_column(String(10))
    caller_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    caller_name: Mapped[str] = mapped_column(String(320))
    resource: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    conflict: Mapped[int] = mapped_column(Integer)
    invalid: Mapped[int] = mapped_column(Integer)
    # The items that were not applied (conflict, invalid), as the batch's response lists them.
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    outcome: Mapped[str] = mapped_column(String(10), default="applied", server_default="applied")
    error_code: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint(
            "resource IN ('units', 'innovations', 'replications', 'hub-activities', 'mixed')",
            name="resource",
        ),
        CheckConstraint("caller_kind IN ('user', 'api_key')", name="caller_kind"),
        CheckConstraint(
            "(outcome = 'applied' AND error_code IS NULL) "
            "OR (outcome = 'failed' AND error_code IS NOT NULL)",
            name="outcome",
        ),
        Index("ix_sync_runs_institution_id_started_at", "institution_id", "started_at", "id"),
        Index("ix_sync_runs_started_at_id", "started_at", "id"),
    )


class IdempotencyKey(Base):
    """A request made with an `Idempotency-Key`, and the response it got: a retry with the same
    key and body replays it (API.md). Written in the request's own transaction, so a key is
    kept exactly when what the request did is."""

    __tablename__ = "idempotency_keys"

    caller_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The operation and a SHA-256 of the request's body: the same key with another body is
    # another request (422).
    operation: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_idempotency_keys_expires_at", "expires_at"),)
