"""`inovasi worker`: runs the jobs of the jobs table, one at a time per process (run several
processes, on several machines, for more).

A loop: enqueue the schedules' latest ticks (one job per tick, whatever the number of
workers), recover jobs whose worker died (their lease lapsed), lease the next due job
(`FOR UPDATE SKIP LOCKED`, so workers never wait for each other), run it, and sleep until a
commit that enqueued a job notifies (LISTEN) or `JOBS_POLL_INTERVAL_SECONDS` pass (behind
PgBouncer in transaction mode, LISTEN only on a direct connection, JOBS_LISTEN_URL; without one
the worker polls).

A job runs in a transaction that also marks it succeeded, so what a handler writes to the
database commits exactly when the job is done. A handler that raises (or outlives its kind's
timeout) is retried with exponential backoff; after its last attempt it is `dead`. Delivery
outside the database (an email, a webhook) is at least once: a worker that dies after
sending and before committing sends again on the next attempt.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack, suppress
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.db.session import create_sessionmaker
from app.domains.jobs import repository
from app.domains.jobs.kinds import (
    REGISTRY,
    JobContext,
    JobKind,
    Registry,
    exponential_backoff,
)
from app.domains.jobs.repository import JobRepository
from app.domains.jobs.schedules import SCHEDULES, Schedule

logger = logging.getLogger(__name__)

ERROR_CHARS = 2000


class LeaseLost(Exception):
    """The job's lease lapsed and another worker took it: this attempt's writes roll back."""


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:ERROR_CHARS]


class Worker:
    def __init__(
        self,
        engine: AsyncEngine,
        settings: Settings,
        *,
        kinds: Registry | None = None,
        schedules: list[Schedule] | None = None,
        name: str | None = None,
        clock: Callable[[], datetime] | None = None,
        listen_engine: AsyncEngine | None = None,
    ) -> None:
        self.engine = engine
        # LISTEN needs a connection of its own for as long as the worker runs: through
        # PgBouncer in transaction mode the server connection would serve other clients (and
        # get their notifications), so there only a direct one (JOBS_LISTEN_URL) will do.
        self.listen_engine = listen_engine or (None if settings.database_pgbouncer else engine)
        self.settings = settings
        self.sessions = create_sessionmaker(engine)
        self.kinds = REGISTRY if kinds is None else kinds
        self.schedules = SCHEDULES if schedules is None else schedules
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock or (lambda: datetime.now(UTC))
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._ticks: dict[str, datetime] = {}
        self.ran = 0  # attempts this worker ran (tests and logs)

    def stop(self) -> None:
        """Take no new job; the current one gets JOBS_SHUTDOWN_GRACE_SECONDS to end."""
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self, *, until_idle: bool = False) -> None:
        """Run jobs until `stop()` (or, with `until_idle`, until no job is due)."""
        logger.info("worker started", extra={"worker": self.name, "kinds": sorted(self.kinds)})
        async with AsyncExitStack() as stack:
            if self.listen_engine is None:
                logger.info(
                    "worker behind PgBouncer without JOBS_LISTEN_URL: polling only",
                    extra={"poll_interval_seconds": self.settings.jobs_poll_interval_seconds},
                )
            else:
                try:
                    await stack.enter_async_context(
                        repository.listening(self.listen_engine, self._wake.set)
                    )
                except Exception:  # the database is away: poll until it is back
                    logger.warning("worker cannot LISTEN; polling only", exc_info=True)
            await self._loop(until_idle)
        logger.info("worker stopped", extra={"worker": self.name})

    async def _loop(self, until_idle: bool) -> None:
        while not self.stopping:
            self._wake.clear()
            try:
                await self.enqueue_schedules()
                job = await self._claim()
            except Exception:  # the database is away: try again after a pause
                logger.exception("worker cannot reach the jobs table")
                job = None
            if job is None:
                if until_idle:
                    return
                with suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wake.wait(), self.settings.jobs_poll_interval_seconds
                    )
                continue
            await self._execute(job)

    async def enqueue_schedules(self) -> None:
        """Enqueue each schedule's latest tick once per worker (the dedupe key makes it once
        for all workers)."""
        now = self.clock()
        for entry in self.schedules:
            tick = entry.latest_tick(now)
            if self._ticks.get(entry.name) == tick or entry.kind not in self.kinds:
                continue
            async with self.sessions() as session, session.begin():
                await JobRepository(session).insert(
                    entry.kind,
                    dict(entry.payload),
                    run_at=tick,
                    dedupe_key=entry.dedupe_key(tick),
                    max_attempts=self.kinds[entry.kind].max_attempts,
                )
            self._ticks[entry.name] = tick

    async def _claim(self) -> dict[str, Any] | None:
        kinds = sorted(self.kinds)
        default_max = self.settings.jobs_max_attempts
        async with self.sessions() as session, session.begin():
            reaped = await repository.reap(session, kinds, default_max)
            if reaped:
                logger.warning("jobs dead after their worker stopped", extra={"count": reaped})
            return await repository.claim(
                session, self.name, kinds, self.settings.jobs_lease_seconds, default_max
            )

    async def _execute(self, job: dict[str, Any]) -> None:
        kind = self.kinds[job["kind"]]
        attempt = asyncio.create_task(self._attempt(kind, job))
        beat = asyncio.create_task(self._heartbeat(job["id"]))
        stopping = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait({attempt, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if not attempt.done():
                await asyncio.wait({attempt}, timeout=self.settings.jobs_shutdown_grace_seconds)
            if not attempt.done():
                attempt.cancel()
                with suppress(asyncio.CancelledError):
                    await attempt
        finally:
            beat.cancel()
            stopping.cancel()
            with suppress(asyncio.CancelledError):
                await beat
        self.ran += 1

    async def _attempt(self, kind: JobKind, job: dict[str, Any]) -> None:
        job_id: uuid.UUID = job["id"]
        context = {"worker": self.name, "job_id": str(job_id), "kind": kind.name}
        try:
            async with asyncio.timeout(kind.timeout_seconds):
                async with self.sessions() as session, session.begin():
                    ctx = JobContext(session, self.settings, job_id, job["attempts"])
                    await kind.handler(ctx, dict(job["payload"] or {}))
                    if not await JobRepository(session).succeed(job_id, self.name):
                        raise LeaseLost
            logger.info("job succeeded", extra=context)
        except LeaseLost:
            logger.warning("job lease lost; another worker runs it", extra=context)
        except asyncio.CancelledError:
            logger.warning("job interrupted by shutdown; put back", extra=context)
            try:
                async with self.sessions() as session, session.begin():
                    await JobRepository(session).release(
                        job_id,
                        self.name,
                        error="interrupted: the worker stopped during the attempt",
                    )
            except Exception:  # the database is away: the lease lapses and the job runs again
                logger.exception("interrupted job not put back", extra=context)
            raise
        except Exception as exc:
            try:
                await self._fail(kind, job, exc, context)
            except Exception:  # the database is away: the lease lapses and the job runs again
                logger.exception("job failure not recorded", extra=context)

    async def _fail(
        self, kind: JobKind, job: dict[str, Any], exc: Exception, context: dict[str, Any]
    ) -> None:
        attempts: int = job["attempts"]
        limit = job["max_attempts"] or kind.max_attempts or self.settings.jobs_max_attempts
        dead = attempts >= limit
        if dead:
            delay = 0.0
        elif kind.backoff is not None:
            delay = kind.backoff(attempts)
        else:
            delay = exponential_backoff(
                attempts,
                self.settings.jobs_backoff_base_seconds,
                self.settings.jobs_backoff_max_seconds,
            )
        logger.warning(
            "job dead" if dead else "job failed; retried later",
            exc_info=exc,
            extra={**context, "attempt": attempts, "retry_in_seconds": round(delay, 3)},
        )
        async with self.sessions() as session, session.begin():
            await JobRepository(session).fail(
                job["id"], self.name, error=_describe(exc), delay=delay, dead=dead
            )

    async def _heartbeat(self, job_id: uuid.UUID) -> None:
        lease = self.settings.jobs_lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            try:
                async with self.sessions() as session, session.begin():
                    await repository.heartbeat(session, job_id, self.name, lease)
            except Exception:
                logger.warning("job heartbeat failed", exc_info=True)
