"""Background jobs on a database of their own (committed transactions, real workers): the
enqueue is transactional, failures are retried with backoff until dead, the secretariat sees
and retries them, a schedule's tick runs once with two workers, a job whose worker died runs
again, and `inovasi worker` stops on SIGTERM."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.config import Settings
from app.db.session import create_sessionmaker
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.domains.jobs import builtin, repository
from app.domains.jobs.kinds import REGISTRY, JobContext, JobKind, Registry, register
from app.domains.jobs.schedules import SCHEDULES, WIB, Schedule
from app.domains.jobs.service import enqueue
from app.domains.jobs.worker import Worker
from app.main import create_app
from app.models.enums import Role
from tests.conftest import make_settings
from tests.fixtures.database import drop_database, migrate, test_database_url

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


@pytest.fixture(scope="module")
def jobs_url() -> Iterator[URL]:
    url = test_database_url(f"inovasi_test_jobs_{os.getpid()}")
    migrate(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="module")
def jobs_settings(jobs_url: URL) -> Settings:
    return make_settings(
        jobs_url,
        jobs_poll_interval_seconds=0.05,
        jobs_backoff_base_seconds=0.2,
        jobs_backoff_max_seconds=5,
        jobs_max_attempts=3,
        jobs_lease_seconds=5,
        jobs_shutdown_grace_seconds=5,
    )


@pytest.fixture(scope="module")
async def jobs_engine(jobs_url: URL) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(jobs_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


async def _job(engine: AsyncEngine, job_id: uuid.UUID) -> dict[str, Any] | None:
    async with engine.connect() as conn:
        row = (
            (await conn.execute(text("SELECT * FROM jobs WHERE id = :id"), {"id": job_id}))
            .mappings()
            .first()
        )
        return dict(row) if row is not None else None


async def _wait_for(
    check: Callable[[], Awaitable[bool]], within: float = 15.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Background:
    """A worker running in a task of the test's loop."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.task = asyncio.create_task(worker.run())

    async def stop(self) -> None:
        self.worker.stop()
        await asyncio.wait_for(self.task, 10)


# --- the transactional property ---------------------------------------------------------------


async def test_a_rolled_back_change_enqueues_nothing_and_a_committed_one_is_run(
    jobs_engine: AsyncEngine, jobs_settings: Settings
) -> None:
    seen: list[str] = []

    async def record(ctx: JobContext, payload: dict[str, Any]) -> None:
        seen.append(payload["marker"])

    kinds: Registry = {}
    register(JobKind("test.record", record), kinds)
    sessions = create_sessionmaker(jobs_engine)
    rolled_back, committed = uuid.uuid4().hex, uuid.uuid4().hex

    async with sessions() as session, session.begin():
        gone = await enqueue(session, "test.record", {"marker": rolled_back})
        # the change that causes the job, in the same transaction
        await session.execute(text("CREATE TEMP TABLE change_of_the_test (x int)"))
        await session.rollback()
    assert gone is not None
    assert await _job(jobs_engine, gone) is None

    async with sessions() as session, session.begin():
        kept = await enqueue(session, "test.record", {"marker": committed})
    assert kept is not None
    row = await _job(jobs_engine, kept)
    assert row is not None
    assert row["status"] == "queued"

    worker = Worker(jobs_engine, jobs_settings, kinds=kinds, schedules=[])
    await worker.run(until_idle=True)
    assert seen == [committed]
    row = await _job(jobs_engine, kept)
    assert row is not None
    assert (row["status"], row["attempts"], row["locked_by"]) == ("succeeded", 1, None)
    assert row["finished_at"] is not None


async def test_a_handler_s_writes_commit_only_with_its_success(
    jobs_engine: AsyncEngine, jobs_settings: Settings
) -> None:
    """A failing attempt rolls back what it wrote; the successful one keeps it."""
    async with jobs_engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS job_writes (job_id uuid, n int)"))

    async def write_then_fail_once(ctx: JobContext, payload: dict[str, Any]) -> None:
        await ctx.session.execute(
            text("INSERT INTO job_writes VALUES (:id, :n)"), {"id": ctx.job_id, "n": ctx.attempt}
        )
        if ctx.attempt == 1:
            raise RuntimeError("first attempt fails after writing")

    kinds: Registry = {}
    register(JobKind("test.write", write_then_fail_once, backoff=lambda _: 0.0), kinds)
    async with create_sessionmaker(jobs_engine)() as session, session.begin():
        job_id = await enqueue(session, "test.write")
    await Worker(jobs_engine, jobs_settings, kinds=kinds, schedules=[]).run(until_idle=True)
    async with jobs_engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT n FROM job_writes WHERE job_id = :id"), {"id": job_id})
        ).all()
    assert [r.n for r in rows] == [2]
    assert job_id is not None
    row = await _job(jobs_engine, job_id)
    assert row is not None
    assert row["status"] == "succeeded"
    assert row["last_error"] == "RuntimeError: first attempt fails after writing"


# --- retries, backoff, dead, and the secretariat's endpoints ---------------------------------


@pytest.fixture(scope="module")
async def jobs_api(
    jobs_url: URL, jobs_settings: Settings, jobs_engine: AsyncEngine
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    """The real app on the jobs database: its requests commit, so a worker sees them."""
    async with create_sessionmaker(jobs_engine)() as session, session.begin():
        issued = await issue_api_key(
            session, None, ApiKeyCreate(name="jobs test", role=Role.secretariat_admin)
        )
    app = create_app(jobs_settings, engine=jobs_engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client, {"Authorization": f"Bearer {issued.secret}"}


async def test_a_failing_job_is_retried_with_backoff_ends_dead_and_a_retry_runs_it_again(
    jobs_engine: AsyncEngine,
    jobs_settings: Settings,
    jobs_api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, admin = jobs_api
    attempts_at: list[float] = []
    healed = False

    async def flaky(ctx: JobContext, payload: dict[str, Any]) -> None:
        attempts_at.append(time.monotonic())
        if not healed:
            raise ConnectionError(f"receiver down (attempt {ctx.attempt})")

    kinds: Registry = {}
    register(JobKind("test.flaky", flaky), kinds)
    async with create_sessionmaker(jobs_engine)() as session, session.begin():
        job_id = await enqueue(session, "test.flaky", {"to": "somewhere"})
    assert job_id is not None

    running = Background(Worker(jobs_engine, jobs_settings, kinds=kinds, schedules=[]))
    try:

        async def dead() -> bool:
            row = await _job(jobs_engine, job_id)
            return row is not None and row["status"] == "dead"

        await _wait_for(dead, what="the job to be dead")
        row = await _job(jobs_engine, job_id)
        assert row is not None
        assert row["attempts"] == 3  # JOBS_MAX_ATTEMPTS
        assert row["last_error"] == "ConnectionError: receiver down (attempt 3)"
        assert row["locked_by"] is None
        assert row["finished_at"] is not None
        # exponential: about 0.2 s then 0.4 s (base 0.2, up to 10% jitter)
        gaps = [b - a for a, b in itertools.pairwise(attempts_at)]
        assert len(gaps) == 2
        # (lower bounds only: a loaded machine may run an attempt late, never early)
        assert gaps[0] >= 0.2, gaps
        assert gaps[1] >= 0.4, gaps
        assert gaps[0] < 2, gaps  # not the cap

        # the secretariat sees it, dead, with its last error
        listed = await client.get("/v1/jobs", params={"status": "dead"}, headers=admin)
        assert listed.status_code == 200, listed.text
        assert [j["id"] for j in listed.json()["items"]] == [str(job_id)]
        one = await client.get(f"/v1/jobs/{job_id}", headers=admin)
        assert one.status_code == 200
        body = one.json()
        assert (body["status"], body["attempts"], body["kind"]) == ("dead", 3, "test.flaky")
        assert body["last_error"] == "ConnectionError: receiver down (attempt 3)"
        assert body["payload"] == {"to": "somewhere"}

        # retried: queued with fresh attempts, and the worker runs it (now it succeeds)
        healed = True
        retried = await client.post(f"/v1/jobs/{job_id}/retry", headers=admin)
        assert retried.status_code == 200, retried.text
        assert (retried.json()["status"], retried.json()["attempts"]) == ("queued", 0)

        async def succeeded() -> bool:
            row = await _job(jobs_engine, job_id)
            return row is not None and row["status"] == "succeeded"

        await _wait_for(succeeded, what="the retried job to succeed")
        row = await _job(jobs_engine, job_id)
        assert row is not None
        assert row["attempts"] == 1
        assert len(attempts_at) == 4

        # a succeeded job cannot be retried
        again = await client.post(f"/v1/jobs/{job_id}/retry", headers=admin)
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        assert again.json()["code"] == "job.not_retryable"
        assert again.json()["current_status"] == "succeeded"
        # the retry is in the audit trail
        audit = await client.get(
            "/v1/audit-events",
            params={"entity_type": "job", "entity_id": str(job_id)},
            headers=admin,
        )
        assert [e["action"] for e in audit.json()["items"]] == ["retry"]
        assert audit.json()["items"][0]["changes"]["status"] == {
            "before": "dead",
            "after": "queued",
        }
    finally:
        await running.stop()


async def test_the_jobs_list_filters_by_kind_and_status_and_pages_with_a_cursor(
    jobs_engine: AsyncEngine, jobs_api: tuple[httpx.AsyncClient, dict[str, str]]
) -> None:
    client, admin = jobs_api
    kind = f"test.listed.{uuid.uuid4().hex[:8]}"
    async with create_sessionmaker(jobs_engine)() as session, session.begin():
        ids = [await enqueue(session, kind, {"n": n}) for n in range(3)]
    first = await client.get("/v1/jobs", params={"kind": kind, "limit": 2}, headers=admin)
    assert first.status_code == 200
    page = first.json()
    assert page["has_more"] is True
    assert len(page["items"]) == 2
    second = await client.get(
        "/v1/jobs", params={"kind": kind, "limit": 2, "cursor": page["next_cursor"]}, headers=admin
    )
    seen = [j["id"] for j in page["items"]] + [j["id"] for j in second.json()["items"]]
    assert sorted(seen) == sorted(str(i) for i in ids)
    assert second.json()["has_more"] is False
    none = await client.get(
        "/v1/jobs", params={"kind": kind, "status": ["dead", "succeeded"]}, headers=admin
    )
    assert none.json()["items"] == []
    # another list's cursor is refused
    bad = await client.get(
        "/v1/jobs", params={"kind": "other", "cursor": page["next_cursor"]}, headers=admin
    )
    assert bad.status_code == 400
    missing = await client.get(f"/v1/jobs/{uuid.uuid4()}", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["code"] == "job.not_found"
    queued = await client.post(f"/v1/jobs/{ids[0]}/retry", headers=admin)
    assert queued.status_code == 409
    assert queued.json()["current_status"] == "queued"
    assert (await client.get("/v1/jobs")).status_code == 401
    async with jobs_engine.begin() as conn:
        await conn.execute(text("DELETE FROM jobs WHERE kind = :kind"), {"kind": kind})


# --- schedules ----------------------------------------------------------------------------------


def test_a_schedule_ticks_in_wib() -> None:
    daily = Schedule("daily", "k", timedelta(days=1), timedelta(hours=2))
    # 01:59 WIB on 8 December: the last 02:00 WIB was on the 7th
    assert daily.latest_tick(datetime(2026, 12, 7, 18, 59, tzinfo=UTC)) == datetime(
        2026, 12, 7, 2, 0, tzinfo=WIB
    )
    # 02:00 WIB on the 8th is 19:00 UTC on the 7th
    tick = daily.latest_tick(datetime(2026, 12, 7, 19, 0, tzinfo=UTC))
    assert tick == datetime(2026, 12, 8, 2, 0, tzinfo=WIB)
    assert daily.dedupe_key(tick) == "schedule:daily:2026-12-08T02:00:00+07:00"
    hourly = Schedule("hourly", "k", timedelta(hours=1), timedelta(minutes=5))
    assert hourly.latest_tick(datetime(2026, 12, 7, 17, 4, tzinfo=UTC)) == datetime(
        2026, 12, 8, 0, 5, tzinfo=WIB
    ) - timedelta(hours=1)


def test_the_service_schedules_its_maintenance() -> None:
    assert builtin.SYNC_COMPACT.name in REGISTRY
    names = {s.name: s for s in SCHEDULES}
    assert names["sync-compact"].kind == "sync.compact"
    assert names["sync-compact"].every == timedelta(days=1)
    assert names["idempotency-expiry"].kind == "idempotency.expire"
    assert {s.kind for s in SCHEDULES} <= set(REGISTRY)


async def test_two_workers_on_the_same_tick_run_the_schedule_once(
    jobs_engine: AsyncEngine, jobs_settings: Settings
) -> None:
    runs: list[str] = []

    async def tick(ctx: JobContext, payload: dict[str, Any]) -> None:
        runs.append(str(ctx.job_id))
        await asyncio.sleep(0.05)

    kinds: Registry = {}
    register(JobKind("test.tick", tick), kinds)
    name = f"tick-{uuid.uuid4().hex[:8]}"
    schedules = [Schedule(name, "test.tick", timedelta(days=1), timedelta(hours=2))]
    # ticks in the past (a job's tick is its run_at, compared with the database's clock)
    now = datetime.now(UTC) - timedelta(days=3)
    workers = [
        Worker(jobs_engine, jobs_settings, kinds=kinds, schedules=schedules, clock=lambda: now)
        for _ in range(2)
    ]
    # both enqueue the tick at the same moment, then both look for work
    await asyncio.gather(*(w.enqueue_schedules() for w in workers))
    await asyncio.gather(*(w.run(until_idle=True) for w in workers))
    assert len(runs) == 1
    assert sum(w.ran for w in workers) == 1
    key = schedules[0].dedupe_key(schedules[0].latest_tick(now))
    async with jobs_engine.connect() as conn:
        rows = (
            await conn.execute(text("SELECT status FROM jobs WHERE dedupe_key = :k"), {"k": key})
        ).all()
    assert [r.status for r in rows] == ["succeeded"]
    # the next day's tick is a new job
    later = now + timedelta(days=1)
    workers[0].clock = lambda: later
    await workers[0].run(until_idle=True)
    assert len(runs) == 2


async def test_the_builtin_kinds_expire_idempotency_keys_and_compact_the_feed(
    jobs_engine: AsyncEngine, jobs_settings: Settings
) -> None:
    caller = uuid.uuid4()
    async with jobs_engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO idempotency_keys (caller_id, key, operation, fingerprint, "
                "status_code, response, expires_at) VALUES (:c, 'old', 'op', 'f', 200, '{}', "
                "now() - interval '1 hour'), (:c, 'fresh', 'op', 'f', 200, '{}', "
                "now() + interval '1 hour')"
            ),
            {"c": caller},
        )
    async with create_sessionmaker(jobs_engine)() as session, session.begin():
        expire = await enqueue(session, "idempotency.expire")
        compact = await enqueue(session, "sync.compact")
    await Worker(jobs_engine, jobs_settings, schedules=[]).run(until_idle=True)
    for job_id in (expire, compact):
        assert job_id is not None
        row = await _job(jobs_engine, job_id)
        assert row is not None
        assert row["status"] == "succeeded", row
    async with jobs_engine.connect() as conn:
        keys = (
            await conn.execute(
                text("SELECT key FROM idempotency_keys WHERE caller_id = :c"), {"c": caller}
            )
        ).all()
    assert [k.key for k in keys] == ["fresh"]


# --- dead workers and shutdown ------------------------------------------------------------------


async def test_a_job_whose_worker_died_is_run_again_by_another(
    jobs_engine: AsyncEngine, jobs_settings: Settings
) -> None:
    ran: list[int] = []

    async def work(ctx: JobContext, payload: dict[str, Any]) -> None:
        ran.append(ctx.attempt)

    kinds: Registry = {}
    register(JobKind("test.orphan", work), kinds)
    async with create_sessionmaker(jobs_engine)() as session, session.begin():
        job_id = await enqueue(session, "test.orphan")
    # a worker leases it and dies (no heartbeat): its lease lapses
    async with create_sessionmaker(jobs_engine)() as session, session.begin():
        taken = await repository.claim(session, "dead-worker", ["test.orphan"], 5, 3)
    assert taken is not None
    assert taken["id"] == job_id
    await Worker(jobs_engine, jobs_settings, kinds=kinds, schedules=[]).run(until_idle=True)
    assert ran == []  # leased to the dead worker: not taken while the lease holds
    async with jobs_engine.begin() as conn:
        await conn.execute(
            text("UPDATE jobs SET locked_until = now() - interval '1 second' WHERE id = :id"),
            {"id": job_id},
        )
    await Worker(jobs_engine, jobs_settings, kinds=kinds, schedules=[]).run(until_idle=True)
    assert ran == [2]
    row = await _job(jobs_engine, job_id)
    assert row is not None
    assert row["status"] == "succeeded"


async def test_a_worker_that_died_on_the_last_attempt_leaves_the_job_dead(
    jobs_engine: AsyncEngine, jobs_settings: Settings
) -> None:
    kinds: Registry = {}

    async def work(ctx: JobContext, payload: dict[str, Any]) -> None:
        raise AssertionError("not run again")

    register(JobKind("test.lastgasp", work), kinds)
    async with create_sessionmaker(jobs_engine)() as session, session.begin():
        job_id = await enqueue(session, "test.lastgasp", max_attempts=1)
        assert job_id is not None
        await repository.claim(session, "dead-worker", ["test.lastgasp"], 5, 3)
        await session.execute(
            text("UPDATE jobs SET locked_until = now() - interval '1 second' WHERE id = :id"),
            {"id": job_id},
        )
    await Worker(jobs_engine, jobs_settings, kinds=kinds, schedules=[]).run(until_idle=True)
    row = await _job(jobs_engine, job_id)
    assert row is not None
    assert row["status"] == "dead"
    assert "lease lapsed" in row["last_error"]


async def test_stop_lets_the_current_job_end_and_a_job_past_the_grace_is_put_back(
    jobs_engine: AsyncEngine, jobs_settings: Settings
) -> None:
    started = asyncio.Event()

    async def slow(ctx: JobContext, payload: dict[str, Any]) -> None:
        started.set()
        await asyncio.sleep(payload["seconds"])

    kinds: Registry = {}
    register(JobKind("test.slow", slow), kinds)
    sessions = create_sessionmaker(jobs_engine)
    async with sessions() as session, session.begin():
        short = await enqueue(session, "test.slow", {"seconds": 0.3})
    running = Background(Worker(jobs_engine, jobs_settings, kinds=kinds, schedules=[]))
    await asyncio.wait_for(started.wait(), 10)
    await running.stop()  # waits for the job, then returns
    assert short is not None
    row = await _job(jobs_engine, short)
    assert row is not None
    assert row["status"] == "succeeded"

    started.clear()
    async with sessions() as session, session.begin():
        long = await enqueue(session, "test.slow", {"seconds": 30})
    impatient = jobs_settings.model_copy(update={"jobs_shutdown_grace_seconds": 0.2})
    running = Background(Worker(jobs_engine, impatient, kinds=kinds, schedules=[]))
    await asyncio.wait_for(started.wait(), 10)
    begun = time.monotonic()
    await running.stop()
    assert time.monotonic() - begun < 5
    assert long is not None
    row = await _job(jobs_engine, long)
    assert row is not None
    assert (row["status"], row["attempts"], row["locked_by"]) == ("queued", 0, None)
    assert row["last_error"] == "interrupted: the worker stopped during the attempt"
    async with jobs_engine.begin() as conn:
        await conn.execute(text("DELETE FROM jobs WHERE id = :id"), {"id": long})


def test_inovasi_worker_runs_the_schedules_and_stops_on_sigterm(jobs_url: URL) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": jobs_url.render_as_string(hide_password=False),
        "ENVIRONMENT": "test",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "JOBS_POLL_INTERVAL_SECONDS": "0.1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        lines: list[str] = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "job succeeded" in line and "sync.compact" in line:
                break
        else:
            raise AssertionError("".join(lines))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert "worker stopped" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()


async def test_a_commit_that_enqueues_wakes_an_idle_worker_at_once(
    jobs_engine: AsyncEngine, jobs_settings: Settings
) -> None:
    """LISTEN/NOTIFY: the worker polls only every 60 s here, yet runs the job within seconds."""
    done = asyncio.Event()

    async def work(ctx: JobContext, payload: dict[str, Any]) -> None:
        done.set()

    kinds: Registry = {}
    register(JobKind("test.wake", work), kinds)
    sleepy = jobs_settings.model_copy(update={"jobs_poll_interval_seconds": 60})
    running = Background(Worker(jobs_engine, sleepy, kinds=kinds, schedules=[]))
    try:
        await asyncio.sleep(0.3)  # the worker is idle, waiting
        async with create_sessionmaker(jobs_engine)() as session, session.begin():
            await enqueue(session, "test.wake")
        await asyncio.wait_for(done.wait(), 10)
    finally:
        await running.stop()
