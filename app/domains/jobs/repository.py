"""Every statement on the jobs table: enqueue, claim (`FOR UPDATE SKIP LOCKED`), lease
renewal, completion, failure, recovery of lapsed leases, and the secretariat's reads."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import Any, cast

from sqlalchemy import DateTime, Select, SmallInteger, String, bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.jobs.schemas import JobFilter, JobSort
from app.models.jobs import Job

# The channel a commit that enqueued a job notifies, so idle workers wake at once.
CHANNEL = "inovasi_jobs"

SORTS = {
    JobSort.created_at: SortKey((Job.created_at, Job.id)),
    JobSort.created_at_desc: SortKey((Job.created_at, Job.id), descending=True),
}

_NOTIFY = text("SELECT pg_notify(:channel, :kind)")

# One statement, one round trip (a write's cost is mostly its round trips: bench/README.md):
# the insert, and the notification only when a row went in (a NULL dedupe_key never conflicts).
# Written as text, not built per call: building and caching the construct cost more than the
# round trip.
_ENQUEUE = text(
    """
    WITH added AS (
        INSERT INTO jobs (id, kind, payload, dedupe_key, max_attempts, run_at)
        VALUES (:id, :kind, :payload, :dedupe_key, :max_attempts, coalesce(:run_at, now()))
        ON CONFLICT (dedupe_key) DO NOTHING
        RETURNING id)
    SELECT id, pg_notify(:channel, :kind) FROM added
    """
).bindparams(
    bindparam("payload", type_=JSONB),
    bindparam("run_at", type_=DateTime(timezone=True)),
    bindparam("max_attempts", type_=SmallInteger),
    bindparam("dedupe_key", type_=String),
)

# The oldest due job of a kind this worker knows, or one whose worker's lease lapsed with
# attempts left; locked rows (another worker is taking them) are skipped, not waited for.
_CLAIM = text(
    """
    UPDATE jobs
       SET status = 'running', attempts = attempts + 1, locked_by = :worker,
           locked_until = now() + make_interval(secs => :lease), updated_at = now()
     WHERE id = (
           SELECT id FROM jobs
            WHERE kind = ANY(:kinds)
              AND ((status IN ('queued', 'failed') AND run_at <= now())
                   OR (status = 'running' AND locked_until < now()
                       AND attempts < coalesce(max_attempts, :default_max)))
            ORDER BY run_at, id
            LIMIT 1
              FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, payload, attempts, max_attempts
    """
)

# A job whose worker died during its last attempt: dead, not run again.
_REAP = text(
    """
    UPDATE jobs
       SET status = 'dead', locked_by = NULL, locked_until = NULL, finished_at = now(),
           updated_at = now(),
           last_error = 'the worker running its last attempt stopped before it ended '
                        || '(its lease lapsed)'
     WHERE status = 'running' AND locked_until < now() AND kind = ANY(:kinds)
       AND attempts >= coalesce(max_attempts, :default_max)
    """
)

_HEARTBEAT = text(
    """
    UPDATE jobs SET locked_until = now() + make_interval(secs => :lease)
     WHERE id = :id AND locked_by = :worker AND status = 'running'
    """
)

_SUCCEED = text(
    """
    UPDATE jobs
       SET status = 'succeeded', locked_by = NULL, locked_until = NULL, finished_at = now(),
           updated_at = now()
     WHERE id = :id AND locked_by = :worker AND status = 'running'
    """
)

_FAIL = text(
    """
    UPDATE jobs
       SET status = CASE WHEN :dead THEN 'dead' ELSE 'failed' END,
           run_at = now() + make_interval(secs => :delay),
           finished_at = CASE WHEN :dead THEN now() END,
           last_error = :error, locked_by = NULL, locked_until = NULL, updated_at = now()
     WHERE id = :id AND locked_by = :worker AND status = 'running'
    """
)

# Put back a job whose attempt the worker interrupted on shutdown: not counted as an attempt.
_RELEASE = text(
    """
    UPDATE jobs
       SET status = 'queued', attempts = greatest(attempts - 1, 0), run_at = now(),
           last_error = :error, locked_by = NULL, locked_until = NULL, updated_at = now()
     WHERE id = :id AND locked_by = :worker AND status = 'running'
    """
)

_PRUNE = text(
    "DELETE FROM jobs WHERE status = 'succeeded'"
    " AND finished_at < now() - make_interval(days => :days)"
)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class JobRepository(RepositoryBase[Job]):
    model = Job

    async def insert(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        run_at: datetime | None,
        dedupe_key: str | None,
        max_attempts: int | None,
    ) -> uuid.UUID | None:
        """Add the job in the session's transaction and notify the workers on its commit; None
        when a job with this `dedupe_key` exists."""
        job_id = await self.session.scalar(
            _ENQUEUE,
            {
                "id": uuid.uuid4(),
                "kind": kind,
                "payload": payload,
                "dedupe_key": dedupe_key,
                "max_attempts": max_attempts,
                "run_at": run_at,
                "channel": CHANNEL,
            },
        )
        return cast(uuid.UUID | None, job_id)

    async def notify(self, kind: str) -> None:
        """Wake the idle workers when the transaction commits."""
        await self.session.execute(_NOTIFY, {"channel": CHANNEL, "kind": kind})

    async def list(self, filters: JobFilter, sort: JobSort, page: PageRequest) -> PageResult[Job]:
        stmt: Select[Job] = select(Job)
        if filters.status:
            stmt = stmt.where(Job.status.in_([s.value for s in filters.status]))
        if filters.kind is not None:
            stmt = stmt.where(Job.kind == filters.kind)
        scope = f"jobs:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, SORTS[sort], page, scope)

    async def succeed(self, job_id: uuid.UUID, worker: str) -> bool:
        """Mark the job done in the handler's transaction; False if this worker lost it."""
        result = await self.session.execute(_SUCCEED, {"id": job_id, "worker": worker})
        return _rowcount(result) == 1

    async def fail(
        self, job_id: uuid.UUID, worker: str, *, error: str, delay: float, dead: bool
    ) -> bool:
        result = await self.session.execute(
            _FAIL,
            {"id": job_id, "worker": worker, "error": error, "delay": delay, "dead": dead},
        )
        return _rowcount(result) == 1

    async def release(self, job_id: uuid.UUID, worker: str, *, error: str) -> bool:
        result = await self.session.execute(
            _RELEASE, {"id": job_id, "worker": worker, "error": error}
        )
        return _rowcount(result) == 1

    async def prune(self, days: int) -> int:
        return _rowcount(await self.session.execute(_PRUNE, {"days": days}))


async def claim(
    session: AsyncSession, worker: str, kinds: list[str], lease: float, default_max: int
) -> dict[str, Any] | None:
    """Lease the next job to `worker` (committed by the caller), as a mapping of its id, kind,
    payload, attempts (this one included) and max_attempts."""
    row = (
        (
            await session.execute(
                _CLAIM,
                {"worker": worker, "kinds": kinds, "lease": lease, "default_max": default_max},
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


async def reap(session: AsyncSession, kinds: list[str], default_max: int) -> int:
    return _rowcount(await session.execute(_REAP, {"kinds": kinds, "default_max": default_max}))


async def heartbeat(session: AsyncSession, job_id: uuid.UUID, worker: str, lease: float) -> bool:
    result = await session.execute(_HEARTBEAT, {"id": job_id, "worker": worker, "lease": lease})
    return _rowcount(result) == 1


@asynccontextmanager
async def listening(engine: AsyncEngine, wake: Callable[[], None]) -> AsyncIterator[None]:
    """Call `wake` on every notification of `CHANNEL` (asyncpg's LISTEN) while inside, on a
    connection of `engine` kept for it."""

    def on_notify(*_: Any) -> None:
        wake()

    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.add_listener(CHANNEL, on_notify)
        try:
            yield
        finally:
            with suppress(Exception):  # the connection may be gone; the pool then drops it
                await driver.remove_listener(CHANNEL, on_notify)
