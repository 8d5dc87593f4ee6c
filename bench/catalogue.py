"""The public catalogue under load: get, list, search, facets and export over HTTP, at 100k and 1M
published innovations, against the practical limit of a bare asyncpg app running the same SQL.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.catalogue --rows 100000
    BENCH_DATABASE_URL=... .venv/bin/python -m bench.catalogue --rows 1000000

The database `inovasi_bench_catalogue` is created on that server (TCP: the service under test
runs as a uvicorn process and connects to it), built with `inovasi migrate` and `inovasi seed`,
and filled by `bench.catalogue_data` with one pemkab/pemkot per regency/city, a few ministries
and `--rows` published innovations (binary COPY; secondary indexes dropped during the load and
rebuilt after, unless `--keep-indexes`), then vacuumed and analysed. It is kept: a later run
with the same `--rows` reuses it (`--reload` forces a new load); another `--rows` reloads it.

Each scenario runs for `--duration` seconds at 64 concurrent keep-alive connections from this
process (a minimal asyncio HTTP/1.1 client: httpx costs about 1.2 ms of CPU a request here and
would cap the measurement), after a short sequential warm-up whose median is reported as the
unloaded latency. Before each scenario it waits (up to `--wait-idle` seconds) for other load on
the machine to stop, and records the load it found. The service runs as
`uvicorn app.main:create_app --factory --workers 1` on port 8765 (and with the former pool
default, 10 + 10 overflow, on port 8767); the limit app (`create_raw_app` below) on port 8766 with
an asyncpg pool as large as the service's default (20) runs the SQL the service sends (captured
from the service itself, not retyped) and returns JSON. The export is streamed once over one
connection while the server's RSS is sampled.

Results go to stdout as Markdown and to `.data/bench/catalogue-<rows>.json`; when both sizes
have results the 100k -> 1M latency growth is printed too. `--only get,export,...` runs some
scenarios again and replaces their rows there. `EXPLAIN (ANALYZE, BUFFERS)` of the list, search
and facets statements, and whether PostgreSQL switches each to a slower generic plan once it is
prepared, go to `.data/bench/catalogue-explain-<rows>.txt`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import random
import signal
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
from sqlalchemy.engine import URL

from app.core.config import PROJECT_ROOT
from app.db.url import ensure_database, to_async_url, to_libpq_dsn
from bench import catalogue_data as data

DB_NAME = "inovasi_bench_catalogue"
SERVICE_PORT = 8765
RAW_PORT = 8766
UNCACHED_PORT = 8768
HOST = "127.0.0.1"
CONCURRENCY = 64
SECRET_KEY = "bench-catalogue-secret-key-0123456789abcdef"  # noqa: S105 - a benchmark's key
PROVINCE = "35"  # Jawa Timur: 38 of the 514 regencies and cities
COMMON_WORD = "layanan"
DEEP_PAGES = 50
BATCH = 10_000
REQUEST_TIMEOUT = 120.0
RESULTS_DIR = PROJECT_ROOT / ".data" / "bench"
BIN = Path(sys.executable).parent
# The service's pool (DB_POOL_SIZE + DB_MAX_OVERFLOW defaults, 20 + 0): the limit app gets as
# many.
POOL_SIZE = 20

PATHS = {
    "list_filtered": f"/v1/innovations?region={PROVINCE}&is_digital=true&sort=-created_at&limit=20",
    "list_plain": "/v1/innovations?limit=20",
    "search_common": f"/v1/innovations?q={COMMON_WORD}&limit=20",
    "search_rare": f"/v1/innovations?q={data.RARE_WORD}&limit=20",
    "facets": "/v1/innovations/facets",
    "facets_region": f"/v1/innovations/facets?region={PROVINCE}",
    "export": "/v1/innovations/export",
}


# --- the database -----------------------------------------------------------------------------


def database_url() -> URL:
    given = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    return to_async_url(given).set(database=DB_NAME)


def dsn(url: URL) -> str:
    return to_libpq_dsn(url)


def service_env(url: URL) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": dsn(url),
        "ENVIRONMENT": "production",
        "SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_MINUTE": "0",
        "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "0",
    }


async def _loaded(url: URL) -> dict[str, Any] | None:
    """The load record of the existing database, or None when there is none."""
    admin = await asyncpg.connect(dsn(url.set(database="postgres")))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB_NAME)
    finally:
        await admin.close()
    if not exists:
        return None
    conn = await asyncpg.connect(dsn(url))
    try:
        if await conn.fetchval("SELECT to_regclass('bench_catalogue_meta')") is None:
            return None
        value = await conn.fetchval("SELECT value FROM bench_catalogue_meta WHERE key = 'load'")
    finally:
        await conn.close()
    return json.loads(value) if value else None


async def _run(*command: str, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(*command, env=env, cwd=PROJECT_ROOT)
    if await process.wait() != 0:
        raise SystemExit(f"{' '.join(command)} failed")


async def _copy_innovations(
    url: URL,
    rows: int,
    local: list[data.Owner],
    ministries: list[data.Owner],
    categories: list[str],
) -> float:
    """COPY `rows` innovations over two connections while a thread generates the next batches;
    returns the seconds it took."""
    rare = data.rare_rows(rows)
    queue: asyncio.Queue[list[tuple[object, ...]] | None] = asyncio.Queue(maxsize=4)
    copiers = 2
    done = 0
    started = time.perf_counter()

    async def produce() -> None:
        for start in range(0, rows, BATCH):
            batch = await asyncio.to_thread(
                data.innovation_batch,
                start,
                min(BATCH, rows - start),
                local,
                ministries,
                categories,
                rare,
            )
            await queue.put(batch)
        for _ in range(copiers):
            await queue.put(None)

    async def copy() -> None:
        nonlocal done
        conn = await asyncpg.connect(dsn(url))
        try:
            while (batch := await queue.get()) is not None:
                await conn.copy_records_to_table(
                    "innovations", records=batch, columns=data.INNOVATION_COLUMNS
                )
                before, done = done, done + len(batch)
                if done // 100_000 != before // 100_000:
                    elapsed = time.perf_counter() - started
                    print(f"  {done:,} rows in {elapsed:.0f} s", file=sys.stderr)
        finally:
            await conn.close()

    await asyncio.gather(produce(), *(copy() for _ in range(copiers)))
    return time.perf_counter() - started


def _index_cost(definition: str) -> int:
    """Build the slow (GIN) indexes first so the two builders finish together."""
    for rank, marker in enumerate(("search_vector", "category_codes", "sdgs")):
        if marker in definition:
            return rank
    return 10


async def _build_indexes(url: URL, definitions: list[tuple[str, str]]) -> dict[str, float]:
    """Create the indexes on two connections at once (a GIN build uses one core)."""
    pending = sorted(definitions, key=lambda item: _index_cost(item[1]))
    timings: dict[str, float] = {}

    async def builder() -> None:
        conn = await asyncpg.connect(dsn(url))
        try:
            await conn.execute("SET maintenance_work_mem = '1GB'")
            await conn.execute("SET max_parallel_maintenance_workers = 0")
            while pending:
                name, definition = pending.pop(0)
                started = time.perf_counter()
                await conn.execute(definition)
                timings[name] = round(time.perf_counter() - started, 1)
        finally:
            await conn.close()

    await asyncio.gather(builder(), builder())
    return timings


async def load(url: URL, rows: int, *, keep_indexes: bool) -> dict[str, Any]:
    print(f"loading {rows:,} innovations into {DB_NAME}", file=sys.stderr)
    total_started = time.perf_counter()
    await ensure_database(url, drop_first=True)
    env = service_env(url)
    started = time.perf_counter()
    await _run(str(BIN / "inovasi"), "migrate", env=env)
    await _run(str(BIN / "inovasi"), "seed", env=env)
    schema_seconds = time.perf_counter() - started

    conn = await asyncpg.connect(dsn(url))
    try:
        regions = [
            (r["code"], r["name"], r["type"])
            for r in await conn.fetch(
                "SELECT code, name, type FROM regions WHERE level = 2 ORDER BY code"
            )
        ]
        categories = [r["code"] for r in await conn.fetch("SELECT code FROM innovation_categories")]
        institutions = data.institutions(regions)
        await conn.copy_records_to_table(
            "institutions",
            records=[(i.id, i.name, i.short_name, i.kind, i.region_code, 1) for i in institutions],
            columns=("id", "name", "short_name", "kind", "region_code", "version"),
        )
        await conn.copy_records_to_table(
            "units",
            records=[(i.unit_id, i.id, i.unit_name, i.region_code, 1) for i in institutions],
            columns=("id", "institution_id", "name", "region_code", "version"),
        )
        local = [
            data.Owner(i.id, i.unit_id, i.name) for i in institutions if i.region_code is not None
        ]
        ministries = [
            data.Owner(i.id, i.unit_id, i.name) for i in institutions if i.region_code is None
        ]
        definitions = [
            (r["indexname"], r["indexdef"])
            for r in await conn.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND tablename = 'innovations' AND indexname <> 'pk_innovations'"
            )
        ]
        if not keep_indexes:
            for name, _ in definitions:
                await conn.execute(f'DROP INDEX "{name}"')
    finally:
        await conn.close()

    copy_seconds = await _copy_innovations(url, rows, local, ministries, categories)
    index_seconds = 0.0
    index_timings: dict[str, float] = {}
    if not keep_indexes:
        print("  building indexes", file=sys.stderr)
        started = time.perf_counter()
        index_timings = await _build_indexes(url, definitions)
        index_seconds = time.perf_counter() - started

    conn = await asyncpg.connect(dsn(url))
    try:
        print("  VACUUM (ANALYZE)", file=sys.stderr)
        started = time.perf_counter()
        await conn.execute("VACUUM (ANALYZE) innovations")
        await conn.execute(
            "ANALYZE institutions, units, regions, innovation_categories, innovation_words"
        )
        vacuum_seconds = time.perf_counter() - started
        sizes = await conn.fetchrow(
            "SELECT pg_relation_size('innovations') AS heap, "
            "pg_total_relation_size('innovations') AS total, "
            "pg_indexes_size('innovations') AS indexes, "
            "pg_total_relation_size('innovation_words') AS words_total, "
            "(SELECT count(*) FROM innovation_words) AS words"
        )
        record = {
            "rows": rows,
            "generator_version": data.GENERATOR_VERSION,
            "loaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "keep_indexes": keep_indexes,
            "schema_seconds": round(schema_seconds, 1),
            "copy_seconds": round(copy_seconds, 1),
            "copy_rows_per_second": round(rows / copy_seconds),
            "index_seconds": round(index_seconds, 1),
            "index_timings": index_timings,
            "vacuum_analyze_seconds": round(vacuum_seconds, 1),
            "total_seconds": round(time.perf_counter() - total_started, 1),
            "heap_mb": round(sizes["heap"] / 2**20),
            "indexes_mb": round(sizes["indexes"] / 2**20),
            "total_mb": round(sizes["total"] / 2**20),
            # The title-word vocabulary of typo search, filled by a trigger during the COPY.
            "title_words": sizes["words"],
            "title_words_mb": round(sizes["words_total"] / 2**20),
        }
        await conn.execute(
            "CREATE TABLE bench_catalogue_meta (key text PRIMARY KEY, value jsonb NOT NULL)"
        )
        await conn.execute(
            "INSERT INTO bench_catalogue_meta VALUES ('load', $1::jsonb)", json.dumps(record)
        )
    finally:
        await conn.close()
    print(f"  loaded in {record['total_seconds']} s: {record}", file=sys.stderr)
    return record


async def prepare(url: URL, rows: int, *, reload: bool, keep_indexes: bool) -> dict[str, Any]:
    record = await _loaded(url)
    if (
        not reload
        and record is not None
        and record.get("rows") == rows
        and record.get("generator_version") == data.GENERATOR_VERSION
    ):
        print(f"reusing {DB_NAME} ({rows:,} rows, loaded {record['loaded_at']})", file=sys.stderr)
        return {**record, "reused": True}
    return {**await load(url, rows, keep_indexes=keep_indexes), "reused": False}


async def facts(url: URL) -> dict[str, Any]:
    """What the scenarios touch: sample ids, and how many rows each filter matches."""
    conn = await asyncpg.connect(dsn(url))
    try:
        total = await conn.fetchval("SELECT count(*) FROM innovations")
        percent = min(100.0, 20_000 / max(total, 1) * 100 * 1.2)
        ids = [
            str(r["id"])
            for r in await conn.fetch(
                f"SELECT id FROM innovations TABLESAMPLE BERNOULLI ({percent:.4f}) REPEATABLE (7)"
            )
        ]
        match = (
            "SELECT count(*) FROM innovations WHERE status = 'published' AND ("
            "search_vector @@ (websearch_to_tsquery('indonesian', $1) "
            "|| coalesce((SELECT innovation_fuzzy_tsquery($1, true)), "
            "websearch_to_tsquery('indonesian', $1))))"
        )
        province = await conn.fetchval(
            "SELECT count(*) FROM innovations i JOIN institutions n ON n.id = i.institution_id "
            "WHERE i.status = 'published' AND n.region_code LIKE $1 || '.%'",
            PROVINCE,
        )
        province_digital = await conn.fetchval(
            "SELECT count(*) FROM innovations i JOIN institutions n ON n.id = i.institution_id "
            "WHERE i.status = 'published' AND i.is_digital AND n.region_code LIKE $1 || '.%'",
            PROVINCE,
        )
        return {
            "rows": total,
            "sample_ids": ids,
            "common_word_matches": await conn.fetchval(match, COMMON_WORD),
            "rare_word_matches": await conn.fetchval(match, data.RARE_WORD),
            "province_matches": province,
            "province_digital_matches": province_digital,
        }
    finally:
        await conn.close()


# --- the SQL the service sends ----------------------------------------------------------------


def _tagged(value: Any) -> list[Any]:
    if isinstance(value, uuid.UUID):
        return ["uuid", str(value)]
    if isinstance(value, dt.datetime):
        return ["datetime", value.isoformat()]
    if isinstance(value, dt.date):
        return ["date", value.isoformat()]
    return ["plain", value]


def _untagged(item: list[Any]) -> Any:
    kind, value = item
    if kind == "uuid":
        return uuid.UUID(value)
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    return value


async def capture_sql(url: URL, paths: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each path's statements against `innovations`, as the service sends them: the app is run
    in process once per path with a listener on its engine."""
    import httpx
    from sqlalchemy import event

    from app.core.config import Settings
    from app.db.session import create_engine
    from app.main import create_app

    settings = Settings(
        environment="production",
        database_url=url.render_as_string(hide_password=False),
        secret_key=SECRET_KEY,
        log_level="WARNING",
        rate_limit_per_minute=0,
        rate_limit_anonymous_per_minute=0,
    )
    engine = create_engine(url, settings, null_pool=True)
    seen: list[dict[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, _m: Any) -> None:
        if "FROM innovations" in statement:
            seen.append({"sql": statement, "params": [_tagged(p) for p in parameters or ()]})

    app = create_app(settings, engine=engine)
    reader = app.state.reader

    class Recording:
        """Hot reads run on the driver, past the engine's events (app/db/reads.py)."""

        async def one(self, read: Any, **params: Any) -> Any:
            if "FROM innovations" in read.sql:
                arguments = read.arguments(params)
                seen.append({"sql": read.sql, "params": [_tagged(p) for p in arguments]})
            return await reader.one(read, **params)

    app.state.reader = Recording()
    captured: dict[str, list[dict[str, Any]]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for path in paths:
                seen.clear()
                response = await client.get(path)
                assert response.status_code == 200, response.text
                captured[path] = list(seen)
    await engine.dispose()
    return captured


# --- the practical limit: the same SQL from a bare ASGI app -------------------------------------


def _json_default(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)  # UUID


def create_raw_app() -> Callable[..., Awaitable[None]]:
    """An ASGI app with an asyncpg pool that answers `GET /v1/innovations/{id}` and the
    filtered list with the service's SQL (from BENCH_RAW_SQL), as JSON. No framework, no
    validation, no transaction: what the same queries cost at the least."""
    spec = json.loads(Path(os.environ["BENCH_RAW_SQL"]).read_text())
    get_sql: str = spec["get"]["sql"]
    get_params = [_untagged(p) for p in spec["get"]["params"]]
    id_index = next(i for i, p in enumerate(spec["get"]["params"]) if p[0] == "uuid")
    list_sql: str = spec["list"]["sql"]
    list_params = [_untagged(p) for p in spec["list"]["params"]]
    list_path: str = spec["list"]["path"]
    limit = 20
    key = SECRET_KEY.encode()
    state: dict[str, asyncpg.Pool] = {}

    async def init(conn: asyncpg.Connection) -> None:
        await conn.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )

    async def respond(send: Callable[..., Awaitable[None]], status: int, body: bytes) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    state["pool"] = await asyncpg.create_pool(
                        os.environ["DATABASE_URL"],
                        min_size=POOL_SIZE,
                        max_size=POOL_SIZE,
                        init=init,
                        server_settings={"application_name": "bench-raw", "timezone": "UTC"},
                    )
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await state["pool"].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        pool = state["pool"]
        path: str = scope["path"]
        query = scope["query_string"].decode()
        if path == "/v1/innovations" and f"{path}?{query}" == list_path:
            rows = await pool.fetch(list_sql, *list_params)
            items = [dict(r) for r in rows[:limit]]
            cursor = None
            if len(rows) > limit:
                last = items[-1]
                payload = json.dumps([last["created_at"].isoformat(), str(last["id"])]).encode()
                mac = hmac.new(key, payload, hashlib.sha256).digest()[:16]
                cursor = (
                    base64.urlsafe_b64encode(payload).decode()
                    + "."
                    + base64.urlsafe_b64encode(mac).decode()
                )
            body = {"items": items, "next_cursor": cursor, "has_more": cursor is not None}
            await respond(send, 200, json.dumps(body, default=_json_default).encode())
            return
        if path.startswith("/v1/innovations/"):
            try:
                innovation_id = uuid.UUID(path.rsplit("/", 1)[1])
            except ValueError:
                await respond(send, 404, b'{"code":"not_found"}')
                return
            params = list(get_params)
            params[id_index] = innovation_id
            row = await pool.fetchrow(get_sql, *params)
            if row is None:
                await respond(send, 404, b'{"code":"innovation.not_found"}')
                return
            await respond(send, 200, json.dumps(dict(row), default=_json_default).encode())
            return
        await respond(send, 404, b'{"code":"not_found"}')

    return app


# --- servers ----------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: asyncio.subprocess.Process

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def start_server(name: str, target: str, port: int, env: dict[str, str]) -> Server:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log = (RESULTS_DIR / f"catalogue-{name}.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        str(BIN / "uvicorn"),
        target,
        "--factory",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
        "--log-level",
        "warning",
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=log,
    )
    log.close()
    server = Server(name, port, process)
    deadline = time.perf_counter() + 30
    probe = "/nothing" if name == "raw" else "/livez"
    while time.perf_counter() < deadline:
        if process.returncode is not None:
            raise SystemExit(f"{name} server exited; see {RESULTS_DIR}/catalogue-{name}.log")
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            connection = HttpConnection(port)
            status, _ = await connection.get(probe)
            connection.close()
            if status in (200, 404):
                return server
        await asyncio.sleep(0.2)
    await server.stop()
    raise SystemExit(f"{name} server did not answer on port {port}")


# --- the load driver --------------------------------------------------------------------------


class HttpConnection:
    """One keep-alive HTTP/1.1 connection: GET, read the whole body (length or chunked)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        reader, writer = self.reader, self.writer
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = -1
        chunked = close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    break
                parts.append((await reader.readexactly(size + 2))[:-2])
            body = b"".join(parts)
        else:
            body = await reader.readexactly(max(length, 0))
        if close:
            self.close()
        return status, body


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK"), sum(values) / os.sysconf("SC_CLK_TCK")


def _percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


@dataclass
class Result:
    scenario: str
    target: str
    requests: int
    errors: dict[str, int]
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    unloaded_p50_ms: float
    server_cpu: float  # cores
    driver_cpu: float  # cores
    machine_busy: float  # cores, of os.cpu_count()
    background: float  # cores busy just before, with this benchmark idle
    new_db_sessions: int  # PostgreSQL sessions opened on the bench database meanwhile
    extra: dict[str, Any] = field(default_factory=dict)


async def background_load(seconds: float = 1.0) -> float:
    """Cores busy over `seconds` (call it while this benchmark is idle: the others' load)."""
    busy, total = _machine_busy()
    await asyncio.sleep(seconds)
    busy_after, total_after = _machine_busy()
    return (busy_after - busy) / max(total_after - total, 1e-9) * (os.cpu_count() or 1)


async def wait_quiet(limit: float, threshold: float = 0.3) -> float:
    """Wait up to `limit` seconds for the machine to be idle; the background load found."""
    deadline = time.perf_counter() + limit
    while True:
        load = await background_load()
        if load < threshold or time.perf_counter() >= deadline:
            if load >= threshold:
                print(
                    f"  warning: {load:.2f} cores busy elsewhere; measuring anyway", file=sys.stderr
                )
            return load
        print(f"  waiting: {load:.2f} cores busy elsewhere", file=sys.stderr)
        await asyncio.sleep(4)


async def measure(
    scenario: str,
    server: Server,
    next_path: Callable[[], str],
    duration: float,
    concurrency: int = CONCURRENCY,
    wait_idle: float = 0.0,
    sessions: Callable[[], Awaitable[int]] | None = None,
) -> Result:
    background = await wait_quiet(wait_idle)
    # Warm-up, one request at a time: at least 3, at most 50 or 2 seconds' worth.
    warm = HttpConnection(server.port)
    unloaded: list[float] = []
    warm_started = time.perf_counter()
    while len(unloaded) < 3 or (len(unloaded) < 50 and time.perf_counter() - warm_started < 2):
        path = next_path()
        started = time.perf_counter()
        status, body = await warm.get(path)
        unloaded.append(time.perf_counter() - started)
        if status != 200:
            raise SystemExit(f"{scenario}: GET {path} answered {status}: {body[:500]!r}")
    warm.close()

    latencies: list[float] = []
    errors: Counter[str] = Counter()
    last_done = 0.0

    async def worker(deadline: float) -> None:
        nonlocal last_done
        connection = HttpConnection(server.port)
        while time.perf_counter() < deadline:
            path = next_path()
            started = time.perf_counter()
            try:
                status, _ = await asyncio.wait_for(connection.get(path), REQUEST_TIMEOUT)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                connection.close()
                errors[type(exc).__name__] += 1
                continue
            finished = time.perf_counter()
            last_done = max(last_done, finished)
            if status == 200:
                latencies.append(finished - started)
            else:
                errors[str(status)] += 1
        connection.close()

    sessions_before = await sessions() if sessions else 0
    cpu_server = _cpu_seconds(server.pid)
    cpu_driver = time.process_time()
    busy, total = _machine_busy()
    started = time.perf_counter()
    await asyncio.gather(*(worker(started + duration) for _ in range(concurrency)))
    elapsed = max(last_done, time.perf_counter()) - started
    busy_after, total_after = _machine_busy()
    cores = os.cpu_count() or 1
    latencies.sort()
    return Result(
        scenario=scenario,
        target=server.name,
        requests=len(latencies),
        errors=dict(errors),
        seconds=round(elapsed, 2),
        rps=len(latencies) / elapsed,
        p50_ms=_percentile(latencies, 0.5) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        mean_ms=statistics.fmean(latencies) * 1000 if latencies else float("nan"),
        unloaded_p50_ms=statistics.median(unloaded) * 1000,
        server_cpu=(_cpu_seconds(server.pid) - cpu_server) / elapsed,
        driver_cpu=(time.process_time() - cpu_driver) / elapsed,
        machine_busy=(busy_after - busy) / max(total_after - total, 1e-9) * cores,
        background=background,
        new_db_sessions=(await sessions() - sessions_before) if sessions else 0,
    )


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss(pid: int) -> None:
    """Set VmHWM back to the current RSS (Linux 4.0+), so the peak is the export's own."""
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


async def measure_export(server: Server, expected_rows: int) -> dict[str, Any]:
    """Stream the full CSV once over one connection, sampling the server's RSS meanwhile."""
    import httpx

    pid = server.pid
    _reset_peak_rss(pid)
    rss_before = _status_kb(pid, "VmRSS")
    samples: list[tuple[int, int]] = []  # (rows so far, RSS kB)
    rows = 0
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            samples.append((rows, _status_kb(pid, "VmRSS")))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)

    sampler = asyncio.create_task(sample())
    size = 0
    lines = 0
    tail = b""
    started = time.perf_counter()
    first_byte = None
    timeout = httpx.Timeout(None)
    async with (
        httpx.AsyncClient(base_url=f"http://{HOST}:{server.port}", timeout=timeout) as client,
        client.stream("GET", PATHS["export"]) as response,
    ):
        assert response.status_code == 200, await response.aread()
        async for chunk in response.aiter_raw():
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            lines += chunk.count(b"\r\n") + (tail == b"\r" and chunk[:1] == b"\n")
            tail = chunk[-1:]
            rows = max(0, lines - 1)
    elapsed = time.perf_counter() - started
    stop.set()
    await sampler
    samples.append((rows, _status_kb(pid, "VmRSS")))
    peak = _status_kb(pid, "VmHWM")
    by_progress = {}
    for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
        reached = [kb for done, kb in samples if done >= fraction * expected_rows]
        by_progress[f"{int(fraction * 100)}%"] = round(reached[0] / 1024) if reached else None
    return {
        "rows": rows,
        "expected_rows": expected_rows,
        "seconds": round(elapsed, 1),
        "first_byte_ms": round((first_byte or 0) * 1000),
        "rows_per_second": round(rows / elapsed),
        "mb": round(size / 2**20),
        "rss_before_mb": round(rss_before / 1024),
        "rss_peak_mb": round(peak / 1024),
        "rss_max_sampled_mb": round(max(kb for _, kb in samples) / 1024) if samples else None,
        "rss_by_progress_mb": by_progress,
    }


async def follow(port: int, path: str, pages: int) -> str:
    """The path of page `pages + 1`, reached by following `next_cursor`."""
    connection = HttpConnection(port)
    current = path
    try:
        for _ in range(pages):
            status, body = await connection.get(current)
            assert status == 200, body[:500]
            cursor = json.loads(body)["next_cursor"]
            assert cursor, "the list ended before the deep page"
            current = f"{path}&cursor={quote(cursor, safe='')}"
    finally:
        connection.close()
    return current


# --- EXPLAIN ----------------------------------------------------------------------------------


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


async def _prepared_runs(conn: asyncpg.Connection, sql: str, params: list[Any]) -> list[float]:
    """Milliseconds of 8 runs of one prepared statement, as the service runs it (asyncpg
    prepares every statement): PostgreSQL may switch to a generic plan from the sixth run."""
    statement = await conn.prepare(sql)
    times = []
    for _ in range(8):
        started = time.perf_counter()
        await statement.fetch(*params)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def _generic_plan(conn: asyncpg.Connection, sql: str, params: list[Any]) -> str:
    await conn.execute(f"PREPARE bench_generic AS {sql}")
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        values = ", ".join(_literal(p) for p in params)
        plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_generic({values})")
    finally:
        await conn.execute("RESET plan_cache_mode")
        await conn.execute("DEALLOCATE bench_generic")
    return "\n".join(r[0] for r in plan)


async def explain(url: URL, captured: dict[str, list[dict[str, Any]]], rows: int) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of every captured statement, and how a prepared statement's
    runs 1-5 (custom plans) compare with runs 6-8 (maybe a generic plan); the full plans go to
    a file, a line per statement is returned."""
    conn = await asyncpg.connect(dsn(url))
    summary: list[str] = []
    out: list[str] = []
    try:
        for path, statements in captured.items():
            for number, statement in enumerate(statements, 1):
                params = [_untagged(p) for p in statement["params"]]
                # The first run reads the table into the cache; the second is the one shown.
                plan: list[Any] = []
                for _ in range(2):
                    plan = await conn.fetch(
                        "EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"], *params
                    )
                text = "\n".join(r[0] for r in plan)
                took = next(
                    (r[0] for r in plan if r[0].startswith("Execution Time")), "Execution Time: ?"
                )
                line = f"{path} [statement {number}]: {took}"
                generic = ""
                if float(took.split()[2]) < 2000:
                    runs = await _prepared_runs(conn, statement["sql"], params)
                    first, later = statistics.median(runs[:5]), statistics.median(runs[5:])
                    line += (
                        f"; prepared, runs 1-5 median {first:.1f} ms, runs 6-8 median "
                        f"{later:.1f} ms"
                    )
                    if later > 2 * first + 5:
                        line += " (a generic plan: see the file)"
                        plan_text = await _generic_plan(conn, statement["sql"], params)
                        generic = (
                            "\n-- the generic plan (plan_cache_mode = force_generic_plan)\n"
                            f"{plan_text}\n"
                        )
                summary.append(line)
                out.append(
                    f"-- {path} [statement {number}]\n-- params: {statement['params']}\n"
                    f"{statement['sql']}\n\n{text}\n{generic}"
                )
    finally:
        await conn.close()
    target = RESULTS_DIR / f"catalogue-explain-{rows}.txt"
    target.write_text("\n\n".join(out))
    return summary


# --- the run ----------------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def table(results: Sequence[Result]) -> str:
    lines = [
        "| scenario | target | req/s | p50 ms | p99 ms | unloaded p50 ms | errors | "
        "CPU: server | driver | PostgreSQL and rest | busy before | new DB sessions |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        errors = sum(r.errors.values())
        lines.append(
            f"| {r.scenario} | {r.target} | {_fmt(r.rps)} | {_fmt(r.p50_ms)} | {_fmt(r.p99_ms)} "
            f"| {_fmt(r.unloaded_p50_ms)} | {errors} | {r.server_cpu:.2f} | "
            f"{r.driver_cpu:.2f} | {r.machine_busy - r.server_cpu - r.driver_cpu:.2f} | "
            f"{r.background:.2f} | {r.new_db_sessions} |"
        )
    return "\n".join(lines)


# The scenarios measured against the limit app.
COMPARED = ("get", "list_filtered")


def medians(results: Sequence[Result]) -> list[Result]:
    """One result per scenario and target: with `--rounds`, the round of median throughput,
    with every round's throughput, p50 and unloaded p50 in `extra["rounds_rps"]`,
    `extra["rounds_p50_ms"]` and `extra["rounds_unloaded_p50_ms"]` (in the order measured)."""
    by: dict[tuple[str, str], list[Result]] = {}
    for result in results:
        by.setdefault((result.scenario, result.target), []).append(result)
    kept = []
    for rounds in by.values():
        if len(rounds) == 1:
            kept.append(rounds[0])
            continue
        median = sorted(rounds, key=lambda r: r.rps)[(len(rounds) - 1) // 2]
        median.extra["rounds_rps"] = [round(r.rps) for r in rounds]
        median.extra["rounds_p50_ms"] = [round(r.p50_ms, 1) for r in rounds]
        median.extra["rounds_unloaded_p50_ms"] = [round(r.unloaded_p50_ms, 1) for r in rounds]
        kept.append(median)
    return kept


def comparison(results: Sequence[Result]) -> list[str]:
    by = {(r.scenario, r.target): r for r in results}
    lines = []
    for scenario in COMPARED:
        service, raw = by.get((scenario, "service")), by.get((scenario, "raw"))
        if service and raw:
            share = service.rps / raw.rps * 100
            verdict = "PASS" if share >= 40 else "FAIL"
            lines.append(
                f"- {scenario}: service {service.rps:,.0f} req/s = {share:.0f}% of the limit "
                f"({raw.rps:,.0f} req/s): {verdict} (target >= 40%)"
            )
            service_rounds = service.extra.get("rounds_rps", [])
            raw_rounds = raw.extra.get("rounds_rps", [])
            if service_rounds and len(service_rounds) == len(raw_rounds):
                shares = [s / r * 100 for s, r in zip(service_rounds, raw_rounds, strict=True)]
                lines.append(
                    f"  - each round, service / limit: {', '.join(f'{x:.0f}%' for x in shares)}; "
                    f"median of the rounds' ratios {statistics.median(shares):.0f}% (the line "
                    "above divides the median rounds)"
                )
        old = by.get((scenario, "service-pool-10+10"))
        if old and raw:
            lines.append(
                f"  - with DB_POOL_SIZE=10 DB_MAX_OVERFLOW=10: {old.rps:,.0f} req/s = "
                f"{old.rps / raw.rps * 100:.0f}% of the limit"
            )
    return lines


def growth() -> list[str]:
    small, large = RESULTS_DIR / "catalogue-100000.json", RESULTS_DIR / "catalogue-1000000.json"
    if not (small.exists() and large.exists()):
        return []
    before = {
        r["scenario"]: r
        for r in json.loads(small.read_text())["results"]
        if r["target"] == "service"
    }
    after = {
        r["scenario"]: r
        for r in json.loads(large.read_text())["results"]
        if r["target"] == "service"
    }
    lines = [
        "| scenario | p50 ms 100k | p50 ms 1M | growth | unloaded p50 100k | unloaded p50 1M "
        "| growth | target < 50% |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for scenario in ("get", "list_filtered", "list_plain", "search_common", "search_rare"):
        a, b = before.get(scenario), after.get(scenario)
        if not a or not b:
            continue
        a50, b50 = _median_of_rounds(a, "p50_ms"), _median_of_rounds(b, "p50_ms")
        au, bu = _median_of_rounds(a, "unloaded_p50_ms"), _median_of_rounds(b, "unloaded_p50_ms")
        g = (b50 / a50 - 1) * 100
        u = (bu / au - 1) * 100
        lines.append(
            f"| {scenario} | {_fmt(a50)} | {_fmt(b50)} | {g:+.0f}% | "
            f"{_fmt(au)} | {_fmt(bu)} | {u:+.0f}% | {'PASS' if g < 50 else 'FAIL'} |"
        )
    return lines


def _median_of_rounds(result: dict[str, Any], key: str) -> float:
    """A latency as the median of every round's (with `--rounds`), else the one measured:
    the round of median throughput need not have the median latency."""
    rounds: list[float] = result.get("extra", {}).get(f"rounds_{key}", [])
    return statistics.median(rounds) if rounds else float(result[key])


def _merged(previous: list[dict[str, Any]], new: list[Result]) -> list[dict[str, Any]]:
    """The previous results with the scenarios measured again replaced, in their order."""
    fresh = {(r.scenario, r.target): asdict(r) for r in new}
    merged = [fresh.pop((r["scenario"], r["target"]), r) for r in previous]
    return merged + list(fresh.values())


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reload", action="store_true", help="load the data again")
    parser.add_argument(
        "--keep-indexes", action="store_true", help="load with every index in place"
    )
    parser.add_argument("--duration", type=float, default=12.0, help="seconds per scenario")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure the service and the limit of get and list_filtered (with --only: of "
        "the scenarios named) this many times, alternately, and keep the median (the ratio "
        "of one pair varies by 10%% on a noisy machine)",
    )
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=120.0,
        help="seconds to wait, before each scenario, for other load on the machine to stop",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenarios to run again (export and explain count as scenarios); "
        "their results replace the same rows of the last run's results",
    )
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}

    def wanted(name: str) -> bool:
        return not only or name in only

    results_file = RESULTS_DIR / f"catalogue-{args.rows}.json"
    previous: dict[str, Any] = (
        json.loads(results_file.read_text()) if only and results_file.exists() else {}
    )

    run_started = time.perf_counter()
    url = database_url()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    record = await prepare(url, args.rows, reload=args.reload, keep_indexes=args.keep_indexes)
    if args.load_only:
        return
    info = await facts(url)
    ids = info.pop("sample_ids")
    print(f"data: {info}", file=sys.stderr)
    rng = random.Random(1)

    captured = await capture_sql(url, [f"/v1/innovations/{ids[0]}", PATHS["list_filtered"]])
    get_statement = captured[f"/v1/innovations/{ids[0]}"][0]
    list_statement = captured[PATHS["list_filtered"]][0]
    spec = {"get": get_statement, "list": {**list_statement, "path": PATHS["list_filtered"]}}
    spec_file = RESULTS_DIR / "catalogue-raw-sql.json"
    spec_file.write_text(json.dumps(spec, indent=1))

    env = service_env(url)
    service = await start_server("service", "app.main:create_app", SERVICE_PORT, env)
    raw = await start_server(
        "raw", "bench.catalogue:create_raw_app", RAW_PORT, {**env, "BENCH_RAW_SQL": str(spec_file)}
    )
    # The service keeping no facets (PUBLIC_FACETS_CACHE_SECONDS=0): identical concurrent
    # requests still share one statement, but every answer is computed afresh.
    uncached = await start_server(
        "service-facets-kept-0s",
        "app.main:create_app",
        UNCACHED_PORT,
        {**env, "PUBLIC_FACETS_CACHE_SECONDS": "0"},
    )
    monitor = await asyncpg.connect(dsn(url))

    async def sessions() -> int:
        value = await monitor.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1", DB_NAME
        )
        return int(value or 0)

    results: list[Result] = []
    export = previous.get("export", {})
    try:
        # Export first, on a fresh process, so its peak RSS is its own.
        for path in (f"/v1/innovations/{ids[1]}", PATHS["list_plain"]):
            await HttpConnection(SERVICE_PORT).get(path)
        if wanted("export"):
            print("export ...", file=sys.stderr)
            background = await wait_quiet(args.wait_idle)
            export = {**await measure_export(service, info["rows"]), "background": background}
            print(f"export: {export}", file=sys.stderr)

        def get_path() -> str:
            return f"/v1/innovations/{rng.choice(ids)}"

        deep_plain = await follow(SERVICE_PORT, PATHS["list_plain"], DEEP_PAGES)
        deep_filtered = await follow(SERVICE_PORT, PATHS["list_filtered"], DEEP_PAGES)
        plan: list[tuple[str, Server, Callable[[], str]]] = [
            ("get", service, get_path),
            ("get", raw, get_path),
            ("list_filtered", service, lambda: PATHS["list_filtered"]),
            ("list_filtered", raw, lambda: PATHS["list_filtered"]),
            ("list_plain", service, lambda: PATHS["list_plain"]),
            ("list_plain_page_51", service, lambda: deep_plain),
            ("list_filtered_page_51", service, lambda: deep_filtered),
            ("search_common", service, lambda: PATHS["search_common"]),
            ("search_rare", service, lambda: PATHS["search_rare"]),
            ("facets", service, lambda: PATHS["facets"]),
            ("facets", uncached, lambda: PATHS["facets"]),
            ("facets_region", service, lambda: PATHS["facets_region"]),
            ("facets_region", uncached, lambda: PATHS["facets_region"]),
        ]
        # Rounds repeat the compared scenarios, or with `--only` every scenario named.
        compared = [step for step in plan if (step[0] in only if only else step[0] in COMPARED)]
        plan = compared * (args.rounds - 1) + plan
        for scenario, server, next_path in plan:
            if not wanted(scenario):
                continue
            print(f"{scenario} ({server.name}) ...", file=sys.stderr)
            result = await measure(
                scenario,
                server,
                next_path,
                args.duration,
                wait_idle=args.wait_idle,
                sessions=sessions,
            )
            result.extra["measured_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            print(f"  {asdict(result)}", file=sys.stderr)
            results.append(result)
    finally:
        await monitor.close()
        await raw.stop()
        await uncached.stop()
        await service.stop()

    results = medians(results)
    explained: list[str] = previous.get("explain", [])
    if not args.no_explain and wanted("explain"):
        paths = [PATHS[k] for k in ("list_filtered", "search_common", "search_rare", "facets")]
        explained = await explain(url, await capture_sql(url, paths), args.rows)

    today = dt.date.today().isoformat()
    report = {
        "date": today,
        "rows": args.rows,
        "load": record,
        "data": info,
        "export": export,
        "results": _merged(previous.get("results", []), results),
        "explain": explained,
        "run_seconds": round(time.perf_counter() - run_started),
    }
    results_file.write_text(json.dumps(report, indent=1))

    print(f"\n## {args.rows:,} published innovations, {today}\n")
    print(f"load: {json.dumps(record)}\n")
    print(f"data: {json.dumps(info)}\n")
    print(f"{CONCURRENCY} connections, {args.duration:g} s per scenario\n")
    print(table([Result(**r) for r in report["results"]]))
    print()
    print("\n".join(comparison([Result(**r) for r in report["results"]])))
    print(f"\nexport: {json.dumps(export)}\n")
    if explained:
        print("EXPLAIN (ANALYZE, BUFFERS), second run:")
        print("\n".join(f"- {line}" for line in explained))
    lines = growth()
    if lines:
        print("\n100k -> 1M, p50 latency at 64 connections:\n")
        print("\n".join(lines))
    print(f"\nrun took {report['run_seconds']} s")


if __name__ == "__main__":
    asyncio.run(main())
