from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import ReadModel


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    failed = "failed"
    succeeded = "succeeded"
    dead = "dead"


# A job the secretariat may send back to the queue.
RETRYABLE = frozenset({JobStatus.failed, JobStatus.dead})


class JobRead(ReadModel):
    """A background job: what it does (`kind`, `payload`), where it stands and how its attempts
    went."""

    id: uuid.UUID
    kind: str = Field(description="What the job does: `sync.compact`, `idempotency.expire`, ...")
    payload: dict[str, Any]
    status: JobStatus = Field(
        description="`queued` (waits for `run_at`), `running` (leased to a worker), `failed` "
        "(an attempt failed; the next one is at `run_at`), `succeeded`, `dead` (every attempt "
        "failed; `POST /v1/jobs/{job_id}/retry` queues it again)."
    )
    attempts: int = Field(description="Attempts started so far (since the last retry).")
    max_attempts: int | None = Field(
        description="Attempts before the job is dead; null: the worker's default "
        "(`JOBS_MAX_ATTEMPTS`, or the kind's own)."
    )
    run_at: UtcDateTime = Field(description="When the job (or its next attempt) may run.")
    dedupe_key: str | None = Field(
        description="A scheduled tick (`schedule:<name>:<instant in WIB>`) or a caller's key: "
        "one job per key."
    )
    locked_by: str | None = Field(description="The worker running it, while `running`.")
    locked_until: UtcDateTime | None = Field(
        description="The worker's lease: past it, another worker runs the job again."
    )
    last_error: str | None = Field(description="What the last failed attempt raised.")
    created_at: UtcDateTime
    updated_at: UtcDateTime
    finished_at: UtcDateTime | None


class JobPage(Page[JobRead]):
    pass


class JobSort(StrEnum):
    created_at = "created_at"
    created_at_desc = "-created_at"


class JobFilter(BaseModel):
    status: list[JobStatus] = Field(default_factory=list)
    kind: str | None = None
