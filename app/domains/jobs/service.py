"""Enqueue a job in the caller's transaction; the secretariat's reads and retry.

`enqueue(session, kind, payload)` writes the job with the session's other changes: a
rolled-back change enqueues nothing, a committed one is never forgotten (README "Background
jobs"). The worker (`worker.py`) runs it after the commit.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, NotFound
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.jobs.kinds import REGISTRY
from app.domains.jobs.repository import JobRepository
from app.domains.jobs.schemas import RETRYABLE, JobFilter, JobSort, JobStatus
from app.models.jobs import Job


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
) -> uuid.UUID | None:
    """Add a job to the session's transaction; its id, or None if `dedupe_key` is taken. A
    kind registered with its own `max_attempts` keeps it unless the caller gives one."""
    if max_attempts is None and kind in REGISTRY:
        max_attempts = REGISTRY[kind].max_attempts
    return await JobRepository(session).insert(
        kind,
        payload or {},
        run_at=run_at,
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
    )


async def list_jobs(
    session: AsyncSession, filters: JobFilter, sort: JobSort, page: PageRequest
) -> PageResult[Job]:
    return await JobRepository(session).list(filters, sort, page)


def _not_found(job_id: uuid.UUID) -> NotFound:
    return NotFound("job.not_found", f"No job has the id {job_id}.")


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> Job:
    job = await JobRepository(session).get(job_id)
    if job is None:
        raise _not_found(job_id)
    return job


async def retry_job(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Job:
    """Queue a failed or dead job to run now with a fresh set of attempts (its last error stays
    until the next attempt ends); any other status is a 409."""
    repo = JobRepository(session)
    job = await repo.get(job_id, for_update=True)
    if job is None:
        raise _not_found(job_id)
    if job.status not in RETRYABLE:
        raise Conflict(
            "job.not_retryable",
            f"Only a failed or dead job can be retried; this one is {job.status}.",
            extra={"current_status": job.status},
        )
    before = {"status": job.status, "attempts": job.attempts}
    now = datetime.now(UTC)
    job.status = JobStatus.queued.value
    job.attempts = 0
    job.run_at = now
    job.finished_at = None
    job.updated_at = now
    await session.flush()
    await repo.notify(job.kind)
    await audit.record(
        session,
        principal,
        "retry",
        "job",
        job.id,
        institution_id=None,
        before=before,
        after={"status": job.status, "attempts": job.attempts},
    )
    return job
