from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
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
