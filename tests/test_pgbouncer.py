"""The service behind a real PgBouncer in transaction pool mode (the Debian package, started
here): with DATABASE_PGBOUNCER a realistic mix of reads and writes, more concurrent than the
pools, with server connections shared between clients, gets no error; without it, PgBouncer
refuses the service's connections. The statement timeout is the role's, sessions stay in UTC
whoever shared their server connection, and the jobs worker runs its schedules (polling)."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

import app.domains.jobs.builtin  # noqa: F401 - registers the service's job kinds
from app.core.config import Settings
from app.db.session import create_engine, create_key_read_engine, warn_of_statement_timeout
from app.db.url import to_libpq_dsn
from app.domains.jobs.worker import Worker
from app.main import attach_database, create_app
from tests.conftest import client_for, make_settings
from tests.fixtures.database import drop_database, migrate, seed, test_database_url
from tests.fixtures.servers import (
    PgBouncer,
    World,
    build_world,
    fetch_value,
    innovation_body,
    private_dir,
    sync_items,
)

PGBOUNCER = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
pytestmark = pytest.mark.skipif(
    PGBOUNCER is None, reason="the pgbouncer binary is absent (Debian: apt-get install pgbouncer)"
)

# PgBouncer's server connections to the database: fewer than the service's pools, so clients
# take turns on them.
SERVER_POOL = 2
# The role's statement timeout (ALTER ROLE ... SET), distinct from the service's default
# (and long: the mix's sync batches of one institution wait for each other under load).
ROLE_TIMEOUT_MS = 54321


@pytest.fixture(scope="module")
def database() -> Iterator[URL]:
    url = test_database_url(f"inovasi_test_pgbouncer_{os.getpid()}")
    migrate(url)
    seed(url, make_settings(url))

    async def role_timeout() -> None:
        connection = await asyncpg.connect(to_libpq_dsn(url))
        try:
            await connection.execute(
                f'ALTER ROLE CURRENT_USER IN DATABASE "{url.database}" '
                f"SET statement_timeout = '{ROLE_TIMEOUT_MS}ms'"
            )
        finally:
            await connection.close()

    asyncio.run(role_timeout())
    yield url
    drop_database(url)  # its role settings go with it


@pytest.fixture(scope="module")
def bouncer(database: URL) -> Iterator[PgBouncer]:
    assert PGBOUNCER is not None
    folder = private_dir("inovasi-pgbouncer-")
    bouncer = PgBouncer.start(PGBOUNCER, database, folder, pool_size=SERVER_POOL)
    yield bouncer
    bouncer.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def bounced_url(bouncer: PgBouncer, database: URL) -> URL:
    assert database.database is not None
    return bouncer.url(database.database, database.username or "postgres")


@pytest.fixture(scope="module")
def bounced_settings(bounced_url: URL) -> Settings:
    return make_settings(
        bounced_url,
        database_pgbouncer=True,
        db_pool_size=4,
        db_read_pool_size=2,
        db_statement_timeout_ms=ROLE_TIMEOUT_MS,
        # The statement timeout must be shorter than the shutdown grace (app.core.config).
        shutdown_grace_seconds=60,
        jobs_poll_interval_seconds=0.05,
    )


@pytest.fixture(scope="module")
def world(database: URL) -> World:
    return build_world(database, make_settings(database))


@pytest.fixture(scope="module")
async def engines(
    bounced_url: URL, bounced_settings: Settings
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    engine = create_engine(bounced_url, bounced_settings)
    key_engine = create_key_read_engine(bounced_url, bounced_settings)
    yield engine, key_engine
    await engine.dispose()
    await key_engine.dispose()


@pytest.fixture(scope="module")
async def client(
    bounced_settings: Settings, engines: tuple[AsyncEngine, AsyncEngine]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(bounced_settings, engine=engines[0])
    attach_database(app, *engines)
    async with client_for(app) as client:
        yield client
    await app.state.rate_limiter.aclose()


def _check(response: httpx.Response, expected: int, seen: Counter[str], failures: list[str]) -> Any:
    seen[f"{response.request.method} {response.status_code}"] += 1
    if response.status_code != expected:
        failures.append(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
        return None
    return response.json() if "json" in response.headers.get("content-type", "") else None


async def test_a_mix_of_reads_and_writes_more_concurrent_than_the_pools_gets_no_error(
    client: httpx.AsyncClient,
    world: World,
    engines: tuple[AsyncEngine, AsyncEngine],
    database: URL,
) -> None:
    """24 callers at once on 6 pooled connections and 2 server connections: gets (anonymous and
    signed in), lists, searches, facets, statistics, the export, creates, updates with If-Match,
    publications and sync batches with an Idempotency-Key."""
    seen: Counter[str] = Counter()
    failures: list[str] = []
    peak_backends = 0

    async def caller(index: int) -> None:
        for round_ in range(3):
            target = world.innovation_ids[(index + round_) % len(world.innovation_ids)]
            _check(await client.get(f"/v1/innovations/{target}"), 200, seen, failures)
            _check(
                await client.get(f"/v1/innovations/{target}", headers=world.admin),
                200,
                seen,
                failures,
            )
            _check(
                await client.get("/v1/innovations?limit=5&sort=-created_at"), 200, seen, failures
            )
            _check(await client.get("/v1/innovations?q=kunjungan&limit=5"), 200, seen, failures)
            _check(await client.get("/v1/innovations/facets"), 200, seen, failures)
            _check(await client.get("/v1/stats/overview"), 200, seen, failures)
            _check(await client.get("/v1/innovations/export?limit=5"), 200, seen, failures)
            title = f"LAYANAN BARU {index}-{round_}"
            created = _check(
                await client.post(
                    "/v1/innovations",
                    json=innovation_body(world.unit_id, title),
                    headers=world.admin,
                ),
                201,
                seen,
                failures,
            )
            if created is None:
                continue
            updated = _check(
                await client.patch(
                    f"/v1/innovations/{created['id']}",
                    json={"acronym_expansion": f"Layanan Baru Nomor {index}"},
                    headers={**world.admin, "If-Match": f'"{created["version"]}"'},
                ),
                200,
                seen,
                failures,
            )
            if updated is not None:
                _check(
                    await client.post(
                        f"/v1/innovations/{created['id']}/publish", headers=world.admin
                    ),
                    200,
                    seen,
                    failures,
                )
            pushed = _check(
                await client.post(
                    "/v1/sync/innovations/batch",
                    json={"items": sync_items(f"PGB{index}R{round_}", 10)},
                    headers={**world.regional, "Idempotency-Key": str(uuid.uuid4())},
                ),
                200,
                seen,
                failures,
            )
            if pushed is not None and pushed["totals"]["created"] != 10:
                failures.append(f"batch {index}/{round_}: {pushed['totals']}")

    async def watch_backends() -> None:
        nonlocal peak_backends
        while True:
            count = await fetch_value(
                database,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> "
                "pg_backend_pid()",
                database.database,
            )
            peak_backends = max(peak_backends, count)
            await asyncio.sleep(0.05)

    # Connections already open before the mix (another fixture's idle pool, say) are not
    # PgBouncer's: only what the mix adds is compared with its server pool.
    baseline = await fetch_value(
        database,
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        database.database,
    )
    watcher = asyncio.create_task(watch_backends())
    try:
        await asyncio.gather(*(caller(i) for i in range(24)))
    finally:
        watcher.cancel()
    assert failures == [], failures
    assert seen["POST 201"] == 72, seen
    assert seen["GET 200"] == 24 * 3 * 7, seen
    # The writes are there, read straight from PostgreSQL.
    assert (
        await fetch_value(
            database,
            "SELECT count(*) FROM innovations WHERE title LIKE 'LAYANAN BARU %' "
            "AND status = 'published'",
        )
        == 72
    )
    assert (
        await fetch_value(
            database, "SELECT count(*) FROM innovations WHERE external_id LIKE 'PGB%'"
        )
        == 720
    )
    # The service held more connections than PgBouncer had server connections: they were
    # shared (and PgBouncer never opened more than its pool).
    engine, key_engine = engines
    pools = [engine.sync_engine.pool, key_engine.sync_engine.pool]
    assert all(isinstance(pool, QueuePool) for pool in pools)
    held = sum(pool.checkedin() for pool in pools if isinstance(pool, QueuePool))
    assert held > SERVER_POOL
    # The service's connections were shared: PostgreSQL saw fewer backends than the service
    # held connections. (PgBouncer keeps to its pool of SERVER_POOL, but a server connection
    # it replaces can still be listed while its backend exits: one over is not a leak.)
    added = peak_backends - baseline
    assert 0 < added < held, (peak_backends, baseline, held)
    assert added <= SERVER_POOL + 1, (peak_backends, baseline)


async def test_the_statement_timeout_is_the_role_s_and_sessions_stay_in_utc(
    engines: tuple[AsyncEngine, AsyncEngine], bounced_url: URL
) -> None:
    """Another client of the same PgBouncer works in Jakarta time on the same two server
    connections: PgBouncer gives each client its own timezone back; the service reads the
    role's statement timeout (it sends none) and plans unnamed statements per execution."""
    engine, _ = engines
    other = await asyncpg.connect(
        to_libpq_dsn(bounced_url),
        statement_cache_size=0,
        server_settings={"timezone": "Asia/Jakarta", "application_name": "other"},
    )
    try:
        for _ in range(10):
            async with engine.connect() as connection:
                shown = (
                    await connection.execute(
                        text(
                            "SELECT current_setting('timezone'), "
                            "current_setting('statement_timeout'), "
                            "current_setting('application_name')"
                        )
                    )
                ).one()
            assert tuple(shown) == ("UTC", f"{ROLE_TIMEOUT_MS}ms", "inovasi")
            assert await other.fetchval("SELECT current_setting('timezone')") == "Asia/Jakarta"
    finally:
        await other.close()


async def test_a_process_warns_at_start_when_the_role_s_timeout_is_not_the_configured_one(
    engines: tuple[AsyncEngine, AsyncEngine],
    bounced_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine, _ = engines
    with caplog.at_level(logging.WARNING, logger="app.db.session"):
        await warn_of_statement_timeout(engine, bounced_settings)
        assert caplog.records == []
        other = bounced_settings.model_copy(update={"db_statement_timeout_ms": 15000})
        await warn_of_statement_timeout(engine, other)
    [record] = caplog.records
    message = record.getMessage()
    assert f"{ROLE_TIMEOUT_MS} ms, not DB_STATEMENT_TIMEOUT_MS 15000" in message
    assert "SET statement_timeout = '15000ms'" in message


async def test_the_service_s_own_connections_are_refused_without_the_setting(
    bounced_url: URL,
) -> None:
    """Without DATABASE_PGBOUNCER the service sends statement_timeout and plan_cache_mode at
    connect, which PgBouncer refuses: the setting is needed."""
    engine = create_engine(bounced_url, make_settings(bounced_url), null_pool=True)
    try:
        with pytest.raises(Exception, match="unsupported startup parameter"):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def test_the_jobs_worker_runs_its_schedules_through_pgbouncer_by_polling(
    engines: tuple[AsyncEngine, AsyncEngine], bounced_settings: Settings, database: URL
) -> None:
    """LISTEN cannot work through transaction pooling: without JOBS_LISTEN_URL the worker does
    not LISTEN, and its leases, claims (FOR UPDATE SKIP LOCKED) and jobs run fine."""
    worker = Worker(engines[0], bounced_settings)
    assert worker.listen_engine is None
    await worker.run(until_idle=True)
    assert worker.ran >= 1
    succeeded = await fetch_value(database, "SELECT count(*) FROM jobs WHERE status = 'succeeded'")
    assert succeeded == worker.ran


def test_the_pgbouncer_here_is_the_debian_package(bouncer: PgBouncer) -> None:
    """The version the README's settings were measured with."""
    assert PGBOUNCER is not None
    assert bouncer.version(PGBOUNCER).startswith("PgBouncer 1.")
    assert Path(PGBOUNCER).exists()
