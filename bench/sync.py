"""Sync throughput: pushing innovations in batches over HTTP, and draining the changes feed.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.sync [--rows 10000] [--batch 500] [--feed 100000]

Builds a fresh database (`inovasi_bench_sync`), starts the service (uvicorn, one worker, as in
production) and, in the same run:

- pushes `--rows` innovations through `POST /v1/sync/innovations/batch` in batches of `--batch`
  (created), then the same rows changed (updated), then unchanged;
- writes the same rows for another institution with raw asyncpg, `INSERT ... ON CONFLICT (...)
  DO UPDATE` in the same batches (created, then updated): the floor any service pays, triggers
  included (the change log and the typed words);
- tops the change log up to `--feed` changes with raw inserts, then drains it through
  `GET /v1/sync/changes?limit=1000` as the secretariat (every change), and reads the same
  changes with raw asyncpg (the log in keyset pages plus the records by id) for comparison.

Prints rows per second and the ratios, and writes .data/bench/sync-<rows>.json. Target (issue
9): pushing at least 30% of the raw rate end to end. Results: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import httpx
import orjson

from app.db.url import to_async_url, to_libpq_dsn
from bench.catalogue import BIN, HOST, RESULTS_DIR, _run, start_server

DB_NAME = "inovasi_bench_sync"
PORT = 8771
SECRET_KEY = "bench-sync-secret-key-0123456789abcdef0123"  # noqa: S105 - a benchmark's key

_SECTIONS = (
    "summary",
    "background_and_aims",
    "novelty",
    "implementation",
    "significance_and_impact",
)
_PARAGRAPH = (
    "Layanan publik yang lebih cepat dan mudah diakses masyarakat melalui pendaftaran daring, "
    "antrean terjadwal dan notifikasi otomatis kepada pemohon tentang status berkas mereka. "
)


def item(i: int, revision: int) -> dict[str, Any]:
    """One innovation as a regional system pushes it (about 1.5 kB of JSON)."""
    return {
        "external_id": f"SIM-{i:06d}",
        "unit_external_id": "DISDUKCAPIL",
        "title": f"INOVASI {i} REV {revision}",
        "acronym_expansion": f"Inovasi Layanan Nomor {i}",
        "year_started": 2018 + i % 6,
        "implemented_date": date(2024, 1 + i % 12, 1 + i % 28).isoformat(),
        "is_digital": i % 3 != 0,
        "stage": ("inisiatif", "uji_coba", "penerapan")[i % 3],
        "sdgs": [1 + i % 17, 1 + (i + 5) % 17] if i % 17 != (i + 5) % 17 else [1 + i % 17],
        "sections": {name: f"{_PARAGRAPH}({name} {i})" for name in _SECTIONS},
        "links": [{"kind": "website", "url": f"https://layanan.example.go.id/{i}"}],
        "source_system": "SIM-INOVASI-DAERAH",
    }


def _raw_row(data: dict[str, Any], institution_id: uuid.UUID, unit_id: uuid.UUID) -> tuple:
    return (
        uuid.uuid4(),
        institution_id,
        unit_id,
        data["external_id"],
        data["title"],
        data["acronym_expansion"],
        data["year_started"],
        date.fromisoformat(data["implemented_date"]),
        data["is_digital"],
        data["stage"],
        data["sdgs"],
        json.dumps(data["sections"]),
        json.dumps(data["links"]),
        data["source_system"],
    )


_RAW_UPSERT = """
INSERT INTO innovations (
    id, institution_id, unit_id, external_id, title, acronym_expansion, year_started,
    implemented_date, is_digital, stage, sdgs, sections, links, source_system, status, version
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13::jsonb, $14, 'draft', 1)
ON CONFLICT (institution_id, external_id) WHERE external_id IS NOT NULL DO UPDATE SET
    unit_id = excluded.unit_id, title = excluded.title,
    acronym_expansion = excluded.acronym_expansion, year_started = excluded.year_started,
    implemented_date = excluded.implemented_date, is_digital = excluded.is_digital,
    stage = excluded.stage, sdgs = excluded.sdgs, sections = excluded.sections,
    links = excluded.links, source_system = excluded.source_system,
    version = innovations.version + 1, updated_at = now()
"""


def admin_dsn() -> str:
    given = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    return to_libpq_dsn(to_async_url(given).set(database="postgres"))


def bench_dsn() -> str:
    given = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    return to_libpq_dsn(to_async_url(given).set(database=DB_NAME))


def env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": bench_dsn(),
        "ENVIRONMENT": "production",
        "SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_MINUTE": "0",
        "RATE_LIMIT_ANONYMOUS_PER_MINUTE": "0",
        "DB_STATEMENT_TIMEOUT_MS": "120000",
        "SHUTDOWN_GRACE_SECONDS": "130",  # longer than the statement timeout
    }


async def fresh_database() -> None:
    admin = await asyncpg.connect(admin_dsn())
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {DB_NAME}")
    finally:
        await admin.close()
    await _run(str(BIN / "inovasi"), "migrate", env=env())
    await _run(str(BIN / "inovasi"), "seed", env=env())


async def key(role: str, institution: uuid.UUID | None = None) -> str:
    args = [str(BIN / "inovasi"), "create-api-key", "--role", role, "--name", f"bench {role}"]
    if institution is not None:
        args += ["--institution", str(institution)]
    process = await asyncio.create_subprocess_exec(*args, env=env(), stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise SystemExit("create-api-key failed")
    return out.decode().strip().splitlines()[-1]


async def institutions(conn: asyncpg.Connection) -> dict[str, tuple[uuid.UUID, uuid.UUID]]:
    """Two cities, each with one unit: 'http' is pushed through the API, 'raw' with asyncpg."""
    made = {}
    for name, region in (("http", "12.71"), ("raw", "35.73")):
        institution = uuid.uuid4()
        unit = uuid.uuid4()
        await conn.execute(
            "INSERT INTO institutions (id, name, kind, region_code, version) "
            "VALUES ($1, $2, 'pemkot', $3, 1)",
            institution,
            f"Pemerintah Kota Bench {name}",
            region,
        )
        await conn.execute(
            "INSERT INTO units (id, institution_id, name, external_id, version) "
            "VALUES ($1, $2, 'Dinas Kependudukan dan Pencatatan Sipil', 'DISDUKCAPIL', 1)",
            unit,
            institution,
        )
        made[name] = (institution, unit)
    return made


async def push_http(
    client: httpx.AsyncClient, headers: dict[str, str], rows: list[dict[str, Any]], size: int
) -> tuple[float, dict[str, int]]:
    totals: dict[str, int] = {}
    started = time.perf_counter()
    for start in range(0, len(rows), size):
        body = orjson.dumps({"items": rows[start : start + size]})
        response = await client.post(
            "/v1/sync/innovations/batch",
            content=body,
            headers={
                **headers,
                "Idempotency-Key": str(uuid.uuid4()),
                "Content-Type": "application/json",
            },
        )
        if response.status_code != 200:
            raise SystemExit(f"push failed: {response.status_code} {response.text[:500]}")
        for name, count in response.json()["totals"].items():
            totals[name] = totals.get(name, 0) + count
    return time.perf_counter() - started, totals


async def push_raw(
    conn: asyncpg.Connection,
    rows: list[dict[str, Any]],
    size: int,
    institution: uuid.UUID,
    unit: uuid.UUID,
) -> float:
    started = time.perf_counter()
    for start in range(0, len(rows), size):
        chunk = [_raw_row(data, institution, unit) for data in rows[start : start + size]]
        async with conn.transaction():
            await conn.executemany(_RAW_UPSERT, chunk)
    return time.perf_counter() - started


async def top_up(conn: asyncpg.Connection, target: int, unit: tuple[uuid.UUID, uuid.UUID]) -> int:
    """Raw inserts until the change log holds `target` changes."""
    have = await conn.fetchval("SELECT count(*) FROM sync_changes")
    missing = max(0, target - have)
    rows = [item(1_000_000 + i, 0) for i in range(missing)]
    rows = [{**data, "external_id": f"TOPUP-{i:07d}"} for i, data in enumerate(rows)]
    await push_raw(conn, rows, 1000, *unit)
    return int(await conn.fetchval("SELECT count(*) FROM sync_changes"))


async def drain_http(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[float, int]:
    started = time.perf_counter()
    cursor = None
    count = 0
    while True:
        params: dict[str, Any] = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/v1/sync/changes", params=params, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"drain failed: {response.status_code} {response.text[:500]}")
        page = response.json()
        count += len(page["items"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return time.perf_counter() - started, count


async def drain_raw(conn: asyncpg.Connection) -> tuple[float, int]:
    """The floor of a drain: the log in keyset pages of 1,000 and the innovations by id."""
    started = time.perf_counter()
    after = (0, 0)
    count = 0
    while True:
        page = await conn.fetch(
            "SELECT xid, position, resource, record_id FROM sync_changes "
            "WHERE (xid, position) > ($1, $2) ORDER BY xid, position LIMIT 1000",
            *after,
        )
        if not page:
            return time.perf_counter() - started, count
        ids = [row["record_id"] for row in page if row["resource"] == "innovations"]
        await conn.fetch("SELECT * FROM innovations WHERE id = ANY($1::uuid[])", ids)
        count += len(page)
        after = (page[-1]["xid"], page[-1]["position"])


async def main(rows: int, size: int, feed: int) -> None:
    await fresh_database()
    conn = await asyncpg.connect(bench_dsn())
    made = await institutions(conn)
    regional = await key("regional_system", made["http"][0])
    secretariat = await key("secretariat_admin")
    server = await start_server("sync", "app.main:create_app", PORT, env())
    results: dict[str, Any] = {
        "rows": rows,
        "batch": size,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{PORT}", timeout=600) as client:
            headers = {"Authorization": f"Bearer {regional}"}
            first = [item(i, 1) for i in range(rows)]
            second = [item(i, 2) for i in range(rows)]
            raw_inst, raw_unit = made["raw"]
            # Alternate raw and HTTP so the table grows alike under both.
            raw_create = await push_raw(conn, first, size, raw_inst, raw_unit)
            http_create, created = await push_http(client, headers, first, size)
            raw_update = await push_raw(conn, second, size, raw_inst, raw_unit)
            http_update, updated = await push_http(client, headers, second, size)
            http_same, unchanged = await push_http(client, headers, second, size)
            changes = await top_up(conn, feed, made["raw"])
            await conn.execute("VACUUM ANALYZE")
            admin = {"Authorization": f"Bearer {secretariat}"}
            http_drain, drained = await drain_http(client, admin)
            raw_drain, raw_drained = await drain_raw(conn)
    finally:
        await server.stop()
        await conn.close()

    def rate(seconds: float, count: int = rows) -> float:
        return round(count / seconds)

    results["push"] = {
        "create": {
            "http_rows_per_s": rate(http_create),
            "raw_rows_per_s": rate(raw_create),
            "ratio": round(raw_create / http_create, 3),
            "totals": created,
        },
        "update": {
            "http_rows_per_s": rate(http_update),
            "raw_rows_per_s": rate(raw_update),
            "ratio": round(raw_update / http_update, 3),
            "totals": updated,
        },
        "unchanged": {"http_rows_per_s": rate(http_same), "totals": unchanged},
    }
    results["drain"] = {
        "changes": changes,
        "http_changes": drained,
        "http_changes_per_s": rate(http_drain, drained),
        "raw_changes_per_s": rate(raw_drain, raw_drained),
        "ratio": round(raw_drain / http_drain, 3),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"sync-{rows}.json"
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(f"written to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--feed", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.batch, args.feed))
