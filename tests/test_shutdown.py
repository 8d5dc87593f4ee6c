"""A real `inovasi serve` stopping with SIGTERM, and clients that go away mid-request.

SIGTERM: new connections are refused at once, a request in flight finishes within
SHUTDOWN_GRACE_SECONDS, and one still running when the grace ends gets a 503
`service.shutting_down`, never a cut connection. A client that closes its connection before
it has sent the body it announced is counted as 499 (client closed request), not as a 500.

The slow requests are sync batches waiting for the lock on their institution's row, which the
test holds in a transaction of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL

from app.core.config import PROJECT_ROOT
from app.db.url import to_libpq_dsn
from app.seed.demo import DEMO_REGIONAL_SYSTEM_KEY, demo_id
from tests.conftest import TEST_SECRET, make_settings
from tests.fixtures.cluster import free_port
from tests.fixtures.database import drop_database, migrate, seed, test_database_url

MEDAN = demo_id("institution", "Pemerintah Kota Medan")
KEY = {"Authorization": f"Bearer {DEMO_REGIONAL_SYSTEM_KEY}"}
# A worker stopped by SIGTERM ends as uvicorn ends it: by raising the signal again once it has
# shut down (-15); the supervisor of several workers returns (0).
STOPPED = (0, -signal.SIGTERM)


@pytest.fixture(scope="module")
def database() -> Iterator[URL]:
    url = test_database_url(f"inovasi_shutdown_{os.getpid()}")
    migrate(url)
    seed(url, make_settings(url), demo=True)
    yield url
    drop_database(url)


class Served:
    """One `inovasi serve` process, its port and its output."""

    def __init__(self, url: URL, log: Path, **settings: str) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            "ENVIRONMENT": "test",
            "DATABASE_URL": url.render_as_string(hide_password=False),
            "SECRET_KEY": TEST_SECRET,
            "LOG_LEVEL": "INFO",
            "LOG_FORMAT": "json",
            "RATE_LIMIT_STORAGE": "memory",
            "DB_POOL_SIZE": "2",
            "DB_READ_POOL_SIZE": "1",
            "WEB_CONCURRENCY": "1",
            "PYTHONPATH": str(PROJECT_ROOT),
            **settings,
        }
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command, no shell
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1",
             "--port", str(self.port)],
            cwd=PROJECT_ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers too are stopped with it
        )  # fmt: skip
        workers = int(env["WEB_CONCURRENCY"])
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, log.read_text()
            # Every worker up (the first one answering is not enough: a signal must find each
            # of them serving).
            if log.read_text().count("Application startup complete") >= workers:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{self.base_url}/readyz", timeout=1).status_code == 200:
                        break
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                found.append(json.loads(line))
        return found

    def refuses_connections(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        return False

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@contextlib.contextmanager
def served(url: URL, tmp_path: Path, **settings: str) -> Iterator[Served]:
    server = Served(url, tmp_path / "server.log", **settings)
    try:
        yield server
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def institution_locked(url: URL) -> AsyncIterator[asyncpg.Connection]:
    """The institution's row locked, as a unit write of another request would lock it."""
    holder = await asyncpg.connect(to_libpq_dsn(url))
    transaction = holder.transaction()
    await transaction.start()
    await holder.execute("SELECT 1 FROM institutions WHERE id = $1 FOR UPDATE", MEDAN)
    try:
        yield holder
    finally:
        with contextlib.suppress(Exception):
            await transaction.rollback()
        await holder.close()


async def waiting_for_the_lock(holder: asyncpg.Connection, count: int = 1) -> None:
    for _ in range(200):
        # Inside a transaction PostgreSQL keeps the first look at its statistics: look afresh.
        await holder.execute("SELECT pg_stat_clear_snapshot()")
        waiting = await holder.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'inovasi' AND wait_event_type = 'Lock'"
        )
        if waiting >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the request never waited for the lock")


def batch(name: str) -> dict[str, Any]:
    return {"items": [{"resource": "units", "external_id": name, "name": f"Unit {name}"}]}


async def units_named(url: URL, *names: str) -> int:
    connection = await asyncpg.connect(to_libpq_dsn(url))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM units WHERE external_id = ANY($1::text[])", list(names)
        )
    finally:
        await connection.close()
    return count


async def test_sigterm_refuses_new_connections_and_lets_the_request_in_flight_finish(
    database: URL, tmp_path: Path
) -> None:
    """Two workers (what compose runs): the supervisor's socket is closed with theirs."""
    name = f"INFLIGHT-{uuid.uuid4().hex[:8]}"
    with served(database, tmp_path, WEB_CONCURRENCY="2", SHUTDOWN_GRACE_SECONDS="20") as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            async with institution_locked(database) as holder:
                pushed = asyncio.create_task(
                    http.post("/v1/sync/batch", json=batch(name), headers=KEY)
                )
                await waiting_for_the_lock(holder)
                server.process.send_signal(signal.SIGTERM)
                deadline = time.monotonic() + 5
                while not server.refuses_connections():
                    assert time.monotonic() < deadline, "new connections are still accepted"
                    await asyncio.sleep(0.1)
                await asyncio.sleep(1)
                assert not pushed.done()
            # The lock released: the batch goes on and is answered.
            response = await pushed
        assert response.status_code == 200, response.text
        assert response.json()["items"][0]["status"] == "created"
        assert await asyncio.to_thread(server.process.wait, 30) in STOPPED
    assert await units_named(database, name) == 1


async def test_a_request_still_running_when_the_grace_ends_gets_a_503(
    database: URL, tmp_path: Path
) -> None:
    """One pooled connection: the first batch holds it, waiting for the lock (until the
    statement timeout, a 503 `database.timeout`, or past the grace); the second waits for the
    connection, then for the lock, and is still waiting when the grace ends (its own statement
    cannot have timed out by then): 503 `service.shutting_down` with Retry-After, and nothing
    of either batch is written."""
    first, second = (f"GRACE-{uuid.uuid4().hex[:8]}" for _ in range(2))
    settings = {
        "SHUTDOWN_GRACE_SECONDS": "4",
        "DB_STATEMENT_TIMEOUT_MS": "3000",
        "DB_POOL_SIZE": "1",
        "DB_POOL_TIMEOUT_SECONDS": "30",
    }
    with served(database, tmp_path, **settings) as server:
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
            institution_locked(database) as holder,
        ):
            pushes = [
                asyncio.create_task(http.post("/v1/sync/batch", json=batch(name), headers=KEY))
                for name in (first, second)
            ]
            await waiting_for_the_lock(holder)
            await asyncio.sleep(0.3)  # the second is waiting for the pool's connection
            server.process.send_signal(signal.SIGTERM)
            timed_out, cut_short = await asyncio.gather(*pushes)
        assert timed_out.status_code == 503, timed_out.text
        assert timed_out.json()["code"] in ("database.timeout", "service.shutting_down")
        assert cut_short.status_code == 503, cut_short.text
        body = cut_short.json()
        assert body["code"] == "service.shutting_down"
        assert cut_short.headers["retry-after"] == "1"
        assert cut_short.headers["connection"] == "close"
        assert cut_short.headers["content-type"] == "application/problem+json"
        assert await asyncio.to_thread(server.process.wait, 30) in STOPPED
    assert await units_named(database, first, second) == 0
    lines = server.lines()
    assert not [line for line in lines if line.get("event") == "unhandled error"]
    statuses = [line["status"] for line in lines if line.get("path") == "/v1/sync/batch"]
    assert sorted(statuses) == [503, 503]


async def test_a_client_that_disconnects_mid_body_is_counted_499_not_500(
    database: URL, tmp_path: Path
) -> None:
    with served(database, tmp_path) as server:
        head = (
            "POST /v1/sync/batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n"
            f"Authorization: Bearer {DEMO_REGIONAL_SYSTEM_KEY}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
            client.sendall(head.encode() + b'{"items": [{"resource": "units", ')
            await asyncio.sleep(0.2)  # the server is reading the body
        async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
            deadline = time.monotonic() + 10
            while True:
                metrics = (await http.get("/metrics")).text
                counted = [
                    line
                    for line in metrics.splitlines()
                    if line.startswith("http_requests_total") and 'method="POST"' in line
                ]
                if counted:
                    break
                assert time.monotonic() < deadline, "the request was never counted"
                await asyncio.sleep(0.1)
        assert len(counted) == 1, counted
        assert 'status="499"' in counted[0]
        assert 'status="500"' not in metrics
        server.process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(server.process.wait, 30) in STOPPED
    logged = [line for line in server.lines() if line.get("path") == "/v1/sync/batch"]
    assert [line["status"] for line in logged] == [499]
    assert not [line for line in server.lines() if line.get("level") == "error"]
