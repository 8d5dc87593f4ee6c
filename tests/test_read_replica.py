"""DATABASE_READ_URL against a real streaming replica made here: a private primary cluster
(initdb, wal_level=replica), its replica (pg_basebackup -R) on another port, both started by
the module. Anonymous public reads come from the replica, a caller with a credential reads the
primary (its own writes at once); a replica that stops sends reads to the primary, no 503; the
connection budget counts the replica's own connections; /readyz reports it."""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import URL

from app.core.config import Settings
from app.db.budget import budget_refusals
from app.db.replica import build_replica
from app.db.session import create_engine, create_key_read_engine
from app.main import attach_database, create_app
from tests.conftest import client_for, make_settings
from tests.fixtures.database import migrate, seed
from tests.fixtures.servers import (
    Cluster,
    World,
    build_world,
    fetch_value,
    free_port,
    innovation_body,
    postgres_bin_dir,
    private_dir,
)

BIN = postgres_bin_dir()
pytestmark = pytest.mark.skipif(
    BIN is None, reason="no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
)

# The replica keeps more connections for superusers than the primary (a standby may not have
# fewer max_connections than its primary, so this is how it gets fewer usable ones).
REPLICA_RESERVED = 20


@dataclass
class Pair:
    primary: Cluster
    replica: Cluster
    primary_url: URL
    replica_url: URL


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    assert BIN is not None
    folder = private_dir("inovasi-replica-")
    primary = Cluster.initdb(BIN, folder / "primary", free_port())
    primary.start()
    replica: Cluster | None = None
    try:
        asyncio.run(_create_database(primary.url()))
        primary_url = primary.url("inovasi")
        migrate(primary_url)
        seed(primary_url, make_settings(primary_url))
        replica = primary.basebackup(folder / "replica", free_port())
        with (replica.data_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"superuser_reserved_connections = {REPLICA_RESERVED}\n")
        replica.start()
        yield Pair(primary, replica, primary_url, replica.url("inovasi"))
    finally:
        if replica is not None:
            replica.stop()
        primary.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def _create_database(url: URL) -> None:
    import asyncpg

    from app.db.url import to_libpq_dsn

    connection = await asyncpg.connect(to_libpq_dsn(url))
    try:
        await connection.execute("CREATE DATABASE inovasi")
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def world(pair: Pair) -> World:
    world = build_world(pair.primary_url, make_settings(pair.primary_url), published=5)
    asyncio.run(_caught_up(pair))
    return world


@pytest.fixture(scope="module")
def replica_settings(pair: Pair) -> Settings:
    return make_settings(
        pair.primary_url,
        database_read_url=pair.replica_url.render_as_string(hide_password=False),
        database_read_fallback_seconds=60,
        db_pool_size=4,
        db_read_pool_size=2,
    )


@pytest.fixture(scope="module")
async def client(
    pair: Pair, replica_settings: Settings, world: World
) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(pair.primary_url, replica_settings)
    key_engine = create_key_read_engine(pair.primary_url, replica_settings)
    app = create_app(replica_settings, engine=engine)
    attach_database(app, engine, key_engine)
    app.state.replica = build_replica(replica_settings)
    async with client_for(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client
    await app.state.rate_limiter.aclose()
    await app.state.replica.dispose()
    await engine.dispose()
    await key_engine.dispose()


async def _caught_up(pair: Pair, seconds: float = 30) -> None:
    """Wait until the replica has replayed everything the primary wrote so far."""
    target = await fetch_value(pair.primary_url, "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = await fetch_value(
            pair.replica_url, "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", target
        )
        if done:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the replica did not catch up")


async def _replica(pair: Pair, sql: str) -> None:
    await fetch_value(pair.replica_url, sql)


async def test_the_replica_is_a_read_only_standby_of_the_primary(pair: Pair, world: World) -> None:
    assert await fetch_value(pair.replica_url, "SELECT pg_is_in_recovery()") is True
    assert await fetch_value(pair.primary_url, "SELECT pg_is_in_recovery()") is False
    count = "SELECT count(*) FROM innovations WHERE status = 'published'"
    assert await fetch_value(pair.replica_url, count) == len(world.innovation_ids)


async def test_a_caller_reads_its_own_write_while_the_public_reads_the_paused_replica(
    pair: Pair, client: httpx.AsyncClient, world: World
) -> None:
    """Replay paused: the secretariat creates and publishes an innovation (on the primary:
    the replica refuses writes) and reads it at once, by id, in the list, the search, the
    facets, the statistics and the export; an anonymous caller, read from the replica, does
    not see it yet. Replay resumed, the anonymous caller sees it everywhere."""
    title = f"LAYANAN REPLIKA {uuid.uuid4().hex[:8].upper()}"
    await _replica(pair, "SELECT pg_wal_replay_pause()")
    try:
        created = await client.post(
            "/v1/innovations", json=innovation_body(world.unit_id, title), headers=world.admin
        )
        assert created.status_code == 201, created.text
        innovation_id = created.json()["id"]
        published = await client.post(
            f"/v1/innovations/{innovation_id}/publish", headers=world.admin
        )
        assert published.status_code == 200, published.text

        views = await _views(client, innovation_id, title, world.admin)
        assert views == {"get": 200, "list": 1, "search": 1, "facets": 6, "stats": 6, "csv": 1}
        views = await _views(client, innovation_id, title, None)
        assert views == {"get": 404, "list": 0, "search": 0, "facets": 5, "stats": 5, "csv": 0}
        # What the replica has is what the anonymous caller got.
        assert (
            await fetch_value(
                pair.replica_url, "SELECT count(*) FROM innovations WHERE title = $1", title
            )
            == 0
        )
    finally:
        await _replica(pair, "SELECT pg_wal_replay_resume()")
    await _caught_up(pair)
    views = await _views(client, innovation_id, title, None)
    assert views == {"get": 200, "list": 1, "search": 1, "facets": 6, "stats": 6, "csv": 1}


async def _views(
    client: httpx.AsyncClient, innovation_id: str, title: str, headers: dict[str, str] | None
) -> dict[str, int]:
    """What a caller sees of the new innovation through each public read."""
    word = title.split()[-1].lower()
    got = await client.get(f"/v1/innovations/{innovation_id}", headers=headers)
    listed = await client.get("/v1/innovations?limit=100&status=published", headers=headers)
    found = await client.get(f"/v1/innovations?q={word}", headers=headers)
    facets = await client.get("/v1/innovations/facets?status=published", headers=headers)
    stats = await client.get("/v1/stats/overview", headers=headers)
    csv = await client.get("/v1/innovations/export?status=published", headers=headers)
    for response in (listed, found, facets, stats, csv):
        assert response.status_code == 200, response.text
    return {
        "get": got.status_code,
        "list": sum(item["id"] == innovation_id for item in listed.json()["items"]),
        "search": len(found.json()["items"]),
        "facets": facets.json()["total"],
        "stats": stats.json()["published_innovations"],
        "csv": csv.text.count(title),
    }


async def test_readyz_reports_the_replica_and_its_lag(
    pair: Pair, client: httpx.AsyncClient
) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["replica"]["status"] == "ok"
    assert 0 <= body["replica"]["lag_seconds"] < 60


async def test_the_budget_counts_the_replica_s_pools_against_the_replica_s_connections(
    pair: Pair, replica_settings: Settings
) -> None:
    """The primary has 57 usable connections and the replica 40: 45 a process fit the first
    only, and the refusal names the replica."""
    wide = replica_settings.model_copy(
        update={"db_pool_size": 25, "db_max_overflow": 0, "db_read_pool_size": 20}
    )
    refusals = await budget_refusals(wide, pair.primary_url, 1)
    assert len(refusals) == 1
    assert "database (DATABASE_READ_URL) allows 40" in refusals[0]
    assert f"superuser_reserved_connections {REPLICA_RESERVED}" in refusals[0]
    assert await budget_refusals(replica_settings, pair.primary_url, 1) == []
    behind_pgbouncer = wide.model_copy(update={"database_pgbouncer": True})
    assert await budget_refusals(behind_pgbouncer, pair.primary_url, 1) == []


async def test_a_stopped_replica_sends_the_public_reads_to_the_primary(
    pair: Pair, client: httpx.AsyncClient, world: World, replica_settings: Settings
) -> None:
    """Last in the module: the replica stops (its pooled connections close). Reads by id, lists,
    facets, statistics and the export answer from the primary, never a 503; /readyz stays 200
    and says the replica is unavailable."""
    assert (await client.get("/v1/innovations?limit=5")).status_code == 200  # pools warm
    assert (await client.get(f"/v1/innovations/{world.innovation_ids[0]}")).status_code == 200
    pair.replica.stop()
    # pg_ctl blocked this event loop: let it read the replica's goodbye on its pooled
    # connections, as a running service does while it comes (a request that took one before
    # that gets the 503 database.unavailable of a lost connection: README "Read replicas").
    await asyncio.sleep(0.2)
    statuses = []
    for path in (
        "/v1/innovations?limit=5",
        f"/v1/innovations/{world.innovation_ids[0]}",
        "/v1/innovations/facets",
        "/v1/stats/overview",
        "/v1/innovations/export",
        "/v1/innovation-categories",
    ):
        statuses.append((path, (await client.get(path)).status_code))
    assert all(status == 200 for _, status in statuses), statuses
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["replica"] == {"status": "unavailable"}
    app = client.app  # type: ignore[attr-defined]
    assert app.state.replica.available is False
    # Nor does it keep the service from starting: its budget is left unchecked.
    wide = replica_settings.model_copy(update={"db_pool_size": 25, "db_read_pool_size": 20})
    assert await budget_refusals(wide, pair.primary_url, 1) == []


def test_the_clusters_are_debian_s_postgresql(pair: Pair) -> None:
    assert Path(pair.primary.bin_dir, "pg_basebackup").exists()
