"""A database that blinks: the service (a real `inovasi serve`) on a private PostgreSQL cluster
that the test restarts and stops for ten seconds while requests of every kind run.

Every answer is counted: while the database is away each route answers 503
`database.unavailable` with `Retry-After` (never a 500, never a hang, never a refusal that a
client would take as final, such as a 401 for a key that could not be looked up); once it is
back every kind of request succeeds again without restarting the service, and every write that
was acknowledged with a 2xx is in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import URL

from app.core.config import PROJECT_ROOT
from app.db.url import ensure_database, to_libpq_dsn
from app.seed.demo import DEMO_PASSWORD, DEMO_REGIONAL_SYSTEM_KEY, demo_id
from tests.conftest import COMPLETE_SECTIONS, TEST_SECRET, make_settings
from tests.fixtures.cluster import Cluster, free_port, make_cluster
from tests.fixtures.database import migrate, seed
from tests.fixtures.sync_client import load_sync_client

MEDAN = demo_id("institution", "Pemerintah Kota Medan")
REQUEST_TIMEOUT = 10.0  # longer than any answer may take: a request that needs it hangs


@dataclass
class Service:
    cluster: Cluster
    url: URL
    base_url: str
    log: Path
    process: subprocess.Popen[bytes]


def _serve(cluster: Cluster, url: URL, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": url.render_as_string(hide_password=False),
        "SECRET_KEY": TEST_SECRET,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        # The counters in PostgreSQL too: the rate limiter's store blinks with the rest.
        "RATE_LIMIT_STORAGE": "postgresql",
        "RATE_LIMIT_PER_MINUTE": "100000",
        "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "100000",
        "DB_POOL_SIZE": "6",
        "DB_READ_POOL_SIZE": "3",
        "WEB_CONCURRENCY": "1",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    process = subprocess.Popen(  # noqa: S603 - a fixed command, no shell
        [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text()
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return process, base_url
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    cluster = make_cluster("blink")
    try:
        url = cluster.url("inovasi_blink")
        asyncio.run(ensure_database(url))
        migrate(url)
        seed(url, make_settings(url), demo=True)
        log = tmp_path_factory.mktemp("blink") / "server.log"
        process, base_url = _serve(cluster, url, log)
        try:
            yield Service(cluster, url, base_url, log, process)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        cluster.remove()


# --- the requests -----------------------------------------------------------------------------


@dataclass
class Tally:
    """What each kind of request got: statuses (or the transport error's name), the problem codes
    of the 503s, whether every 503 carried Retry-After, and the writes acknowledged."""

    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    codes: Counter[str] = field(default_factory=Counter)
    without_retry_after: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    acknowledged_units: set[uuid.UUID] = field(default_factory=set)
    acknowledged_innovations: set[uuid.UUID] = field(default_factory=set)

    def count(self, kind: str, response: httpx.Response) -> None:
        self.statuses.setdefault(kind, Counter())[str(response.status_code)] += 1
        if response.status_code == 503:
            body = response.json()
            self.codes[body.get("code")] += 1
            if "retry-after" not in response.headers:
                self.without_retry_after.append(f"{kind}: {body}")
        elif response.status_code >= 300:
            self.unexpected.append(f"{kind}: {response.status_code} {response.text[:300]}")

    def fail(self, kind: str, error: Exception) -> None:
        self.statuses.setdefault(kind, Counter())[type(error).__name__] += 1
        self.unexpected.append(f"{kind}: {type(error).__name__} {error}")


Request = Callable[[httpx.AsyncClient, Tally], Awaitable[httpx.Response]]


def _requests(token: str, innovation_id: str) -> dict[str, Request]:
    serial = itertools.count()
    key = {"Authorization": f"Bearer {DEMO_REGIONAL_SYSTEM_KEY}"}
    person = {"Authorization": f"Bearer {token}"}

    async def get(http: httpx.AsyncClient, _: Tally) -> httpx.Response:
        return await http.get(f"/v1/innovations/{innovation_id}")

    async def list_(http: httpx.AsyncClient, _: Tally) -> httpx.Response:
        return await http.get("/v1/innovations", params={"limit": 5})

    async def search(http: httpx.AsyncClient, _: Tally) -> httpx.Response:
        return await http.get("/v1/innovations", params={"q": "layanan", "limit": 5})

    async def readyz(http: httpx.AsyncClient, _: Tally) -> httpx.Response:
        return await http.get("/readyz")

    async def key_read(http: httpx.AsyncClient, _: Tally) -> httpx.Response:
        return await http.get("/v1/me", headers=key)

    async def feed(http: httpx.AsyncClient, _: Tally) -> httpx.Response:
        return await http.get("/v1/sync/changes", params={"limit": 5}, headers=key)

    async def token_read(http: httpx.AsyncClient, _: Tally) -> httpx.Response:
        return await http.get("/v1/me", headers=person)

    async def write(http: httpx.AsyncClient, tally: Tally) -> httpx.Response:
        name = f"Unit blink {next(serial)} {uuid.uuid4().hex[:6]}"
        response = await http.post(
            f"/v1/institutions/{MEDAN}/units", json={"name": name}, headers=person
        )
        if response.status_code == 201:
            tally.acknowledged_units.add(uuid.UUID(response.json()["id"]))
        return response

    async def push(http: httpx.AsyncClient, tally: Tally) -> httpx.Response:
        n = next(serial)
        items: list[dict[str, Any]] = []
        for i in range(5):
            unit = f"BLINK-{n}-{i}"
            items.append({"resource": "units", "external_id": unit, "name": f"Sync unit {n} {i}"})
            items.append({
                "resource": "innovations", "external_id": f"BLINK-INO-{n}-{i}",
                "unit_external_id": unit, "title": f"Inovasi blink {n} {i}",
                "year_started": 2021, "implemented_date": "2021-07-01", "is_digital": True,
                "stage": "penerapan", "sdgs": [16], "sections": dict(COMPLETE_SECTIONS),
            })  # fmt: skip
        response = await http.post("/v1/sync/batch", json={"items": items}, headers=key)
        if response.status_code == 200:
            for item in response.json()["items"]:
                if item["status"] not in ("created", "updated", "unchanged"):
                    tally.unexpected.append(f"push item refused: {item}")
                    continue
                record = uuid.UUID(item["id"])
                if item["resource"] == "units":
                    tally.acknowledged_units.add(record)
                else:
                    tally.acknowledged_innovations.add(record)
        return response

    return {
        "get": get,
        "list": list_,
        "search": search,
        "readyz": readyz,
        "key_read": key_read,
        "feed": feed,
        "token_read": token_read,
        "write": write,
        "push": push,
    }


async def _keep_sending(
    http: httpx.AsyncClient, kind: str, send: Request, tally: Tally, stop: asyncio.Event
) -> None:
    while not stop.is_set():
        try:
            tally.count(kind, await send(http, tally))
        except httpx.HTTPError as error:
            tally.fail(kind, error)
        await asyncio.sleep(0.05)


async def _reference_client_pushing(base_url: str, tally: Tally, stop: asyncio.Event) -> int:
    """The reference sync client (examples/sync_client.py) pushing small batches until `stop`:
    it must ride out the blink by itself (retries within its budget), never give up."""
    sync_client = load_sync_client()
    batches = 0
    async with sync_client.connect(base_url, DEMO_REGIONAL_SYSTEM_KEY) as http:
        pusher = sync_client.SyncClient(http, budget=60, backoff=0.2, max_delay=2)
        while not stop.is_set():
            result = await pusher.push_batch([
                {"resource": "units", "external_id": f"CLIENT-{batches}-{i}",
                 "name": f"Client unit {batches} {i}"}
                for i in range(3)
            ])  # fmt: skip
            for item in result["items"]:
                if item["status"] != "created":
                    tally.unexpected.append(f"client item not created: {item}")
                else:
                    tally.acknowledged_units.add(uuid.UUID(item["id"]))
            batches += 1
            await asyncio.sleep(0.2)
    return batches


async def _wait_ready(http: httpx.AsyncClient, within: float) -> None:
    deadline = time.monotonic() + within
    while (await http.get("/readyz")).status_code != 200:
        assert time.monotonic() < deadline, "the service did not see the database come back"
        await asyncio.sleep(0.2)


async def _sign_in(http: httpx.AsyncClient) -> str:
    response = await http.post(
        "/v1/auth/token",
        json={"email": "admin.medan@demo.inovasi.id", "password": DEMO_PASSWORD},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def _published_innovation(http: httpx.AsyncClient) -> str:
    response = await http.get("/v1/innovations", params={"limit": 1})
    assert response.status_code == 200, response.text
    found: str = response.json()["items"][0]["id"]
    return found


async def _present(url: URL, table: str, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    connection = await asyncpg.connect(to_libpq_dsn(url))
    try:
        rows = await connection.fetch(
            f"SELECT id FROM {table} WHERE id = ANY($1::uuid[])",  # noqa: S608 - fixed names
            list(ids),
        )
    finally:
        await connection.close()
    return {row["id"] for row in rows}


async def test_every_route_answers_503_while_the_database_blinks_and_recovers(
    service: Service,
) -> None:
    cluster = service.cluster
    tally = Tally()
    timeout = httpx.Timeout(REQUEST_TIMEOUT)
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(base_url=service.base_url, timeout=timeout, limits=limits) as http:
        token = await _sign_in(http)
        requests = _requests(token, await _published_innovation(http))
        stop = asyncio.Event()
        senders = [
            asyncio.create_task(_keep_sending(http, kind, send, tally, stop))
            for kind, send in requests.items()
        ]
        client = asyncio.create_task(_reference_client_pushing(service.base_url, tally, stop))
        try:
            await asyncio.sleep(1.5)
            await asyncio.to_thread(cluster.restart)
            await asyncio.sleep(3)
            await asyncio.to_thread(cluster.stop)
            await asyncio.sleep(10)
            await asyncio.to_thread(cluster.start)
            await _wait_ready(http, within=15)
            await asyncio.sleep(3)
        finally:
            stop.set()
            await asyncio.gather(*senders)
            # Its last batch may be waiting out a backoff (at most 2 s): then it finishes.
            pushed_by_client = await asyncio.wait_for(client, timeout=30)
        assert pushed_by_client >= 2  # it rode out the blink: no SyncError, no giving up

        # Recovered: every kind of request succeeds again, the first time.
        after = Tally()
        for kind, send in requests.items():
            response = await send(http, after)
            assert response.status_code < 300, (kind, response.status_code, response.text)

    report = json.dumps({k: dict(v) for k, v in tally.statuses.items()}, indent=1)
    assert not tally.unexpected, "\n".join(tally.unexpected[:20]) + "\n" + report
    for kind, statuses in tally.statuses.items():
        assert "500" not in statuses, (kind, report)
        assert any(s.startswith("2") for s in statuses), (kind, report)
    # The blink was seen, and every 503 said why and when to come back.
    assert sum(s["503"] for s in tally.statuses.values()) > 0, report
    assert set(tally.codes) == {"database.unavailable"}, tally.codes
    assert not tally.without_retry_after, tally.without_retry_after[:5]
    # Every write acknowledged is there.
    units = tally.acknowledged_units | after.acknowledged_units
    innovations = tally.acknowledged_innovations | after.acknowledged_innovations
    assert units
    assert innovations
    assert await _present(service.url, "units", units) == units
    assert await _present(service.url, "innovations", innovations) == innovations
    log = service.log.read_text()
    assert "unhandled error" not in log, log[-5000:]


async def test_a_sync_batch_whose_connection_is_lost_fails_whole_with_a_503(
    service: Service,
) -> None:
    """The connection of a batch is lost while it writes an item (here: its backend is
    terminated while it waits for a lock the test holds): the batch answers 503, not item
    refusals that a client would take as final, nor the 500 of the next item's savepoint on a
    dead connection; pushed again, it is applied whole."""
    dsn = to_libpq_dsn(service.url)
    holder = await asyncpg.connect(dsn)
    key = {"Authorization": f"Bearer {DEMO_REGIONAL_SYSTEM_KEY}"}
    tag = uuid.uuid4().hex[:8]
    items = [
        {"resource": "units", "external_id": f"LOST-{tag}-{i}", "name": f"Lost unit {tag} {i}"}
        for i in range(3)
    ]
    async with httpx.AsyncClient(base_url=service.base_url, timeout=REQUEST_TIMEOUT) as http:
        await _wait_ready(http, within=15)
        try:
            transaction = holder.transaction()
            await transaction.start()
            # Each unit item writes its audit event inside its savepoint: it waits here.
            await holder.execute("LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE")
            pushed = asyncio.create_task(
                http.post("/v1/sync/batch", json={"items": items}, headers=key)
            )
            waiting: int | None = None
            for _ in range(100):
                # In a transaction PostgreSQL keeps its first look at the statistics.
                await holder.execute("SELECT pg_stat_clear_snapshot()")
                waiting = await holder.fetchval(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
                if waiting is not None:
                    break
                await asyncio.sleep(0.05)
            assert waiting is not None, "the batch never waited for the lock"
            await holder.execute("SELECT pg_terminate_backend($1)", waiting)
            await transaction.rollback()
            response = await pushed
        finally:
            await holder.close()
        body = response.json()
        assert response.status_code == 503, body
        assert body["code"] == "database.unavailable"
        assert response.headers["retry-after"] == "1"

        again = await http.post("/v1/sync/batch", json={"items": items}, headers=key)
        assert again.status_code == 200, again.text
        assert [item["status"] for item in again.json()["items"]] == ["created"] * 3
