"""Background jobs (README "Background jobs"): a row per unit of work, written in the
transaction of the change that causes it and run by `inovasi worker`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, SmallInteger, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base

JOB_STATUSES = ("queued", "running", "failed", "succeeded", "dead")


class Job(Base):
    """One job. `queued` waits for `run_at`; `running` is leased to a worker until
    `locked_until` (heartbeats extend it; past it, another worker takes the job again);
    `failed` waits for its next attempt at `run_at`; `succeeded` and `dead` (every attempt
    failed) are final until the secretariat retries a dead one."""

    __tablename__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(10), server_default="queued")
    attempts: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    # Null: the worker's default (JOBS_MAX_ATTEMPTS, or the kind's own).
    max_attempts: Mapped[int | None] = mapped_column(SmallInteger)
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # A scheduled tick's name (`schedule:sync-compact:2026-12-07T02:00:00+07:00`), or any key a
    # caller gives: a second job with the same key is not enqueued.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    locked_by: Mapped[str | None] = mapped_column(String(200))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(
            "status IN ('queued', 'running', 'failed', 'succeeded', 'dead')", name="status"
        ),
        CheckConstraint("max_attempts >= 1", name="max_attempts"),
        # What a worker looks for: the jobs due, oldest first.
        Index(
            "ix_jobs_due",
            "run_at",
            postgresql_where=text("status IN ('queued', 'failed')"),
        ),
        Index(
            "ix_jobs_leased",
            "locked_until",
            postgresql_where=text("status = 'running'"),
        ),
        Index("ix_jobs_created_at_id", "created_at", "id"),
        Index("ix_jobs_status_created_at_id", "status", "created_at", "id"),
    )
