"""Webhooks (README "Webhooks"): machine clients' HTTPS endpoints, told of workflow events and
record changes, each delivery signed per Standard Webhooks 1.0 and retried with its attempts
recorded."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned

WEBHOOK_STATUSES = ("active", "disabled")
DELIVERY_STATUSES = ("pending", "succeeded", "failed")

# Orders an endpoint's deliveries: the oldest pending one goes out first. A redelivery takes a
# new number, so it goes out after what was pending.
DELIVERY_SEQ = Sequence("webhook_deliveries_seq")


class Webhook(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """An endpoint a regional system, a local admin or the secretariat subscribed to event
    types. Its signing secrets are kept encrypted (Fernet under a key derived from SECRET_KEY):
    signing needs them back, so a digest would not do."""

    __tablename__ = "webhooks"

    # The owner: one API key or one person (the other is null).
    owner_api_key_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id", ondelete="CASCADE")
    )
    owner_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    owner_name: Mapped[str] = mapped_column(String(320))
    # The institution whose events it receives; null: every event (the secretariat's only).
    institution_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="CASCADE")
    )
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(60)))
    secret_encrypted: Mapped[str] = mapped_column(Text)
    # After a rotation, the secret before it also signs until `previous_secret_expires_at`.
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10), server_default="active")
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint("status IN ('active', 'disabled')", name="status"),
        CheckConstraint("(owner_api_key_id IS NULL) <> (owner_user_id IS NULL)", name="one_owner"),
        Index("ix_webhooks_created_at_id", "created_at", "id"),
        Index("ix_webhooks_institution_id", "institution_id"),
        Index("ix_webhooks_event_types", "event_types", postgresql_using="gin"),
    )


class WebhookDelivery(Base):
    """One event for one endpoint. `message_id` is the `webhook-id` header, the same on every
    attempt and redelivery, so a receiver can drop what it has seen."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    webhook_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("webhooks.id", ondelete="CASCADE")
    )
    seq: Mapped[int] = mapped_column(
        BigInteger, DELIVERY_SEQ, server_default=DELIVERY_SEQ.next_value()
    )
    message_id: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(60))
    # The body sent: {"type", "timestamp", "data": {...}}.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
        UniqueConstraint("webhook_id", "message_id"),
        Index("ix_webhook_deliveries_webhook_id_seq", "webhook_id", "seq"),
        Index(
            "ix_webhook_deliveries_pending",
            "webhook_id",
            "seq",
            postgresql_where="status = 'pending'",
        ),
    )


class WebhookAttempt(Base):
    """One try of a delivery: the answer's status, how long it took, the first 2 kB of its
    body, or the error that stopped it (a refused target, a timeout, a redirect)."""

    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    attempt: Mapped[int] = mapped_column(SmallInteger)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    duration_ms: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(2000))
    succeeded: Mapped[bool] = mapped_column(server_default="false")

    __table_args__ = (Index("ix_webhook_attempts_delivery_id", "delivery_id", "attempt"),)


class WebhookFeedCursor(Base):
    """How far the `webhooks.feed` job read the sync change log (one row): every change at or
    before (xid, position) became deliveries. Moved only below the reading snapshot's xmin, as
    the changes feed's cursor is (docs/sync.md), so no change is skipped."""

    __tablename__ = "webhook_feed_cursor"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)
