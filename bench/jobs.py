"""What enqueueing a job adds to a write, and how many jobs a second workers run.

- **Enqueue overhead**: the secretariat creates an institution through the service
  (`institutions.service.create_institution`: checks, the insert, the audit event, the commit)
  in its own transaction, alternately without and with `jobs.service.enqueue` of one job in the
  same transaction (its insert and its `pg_notify`); median and p95 of each, and the ratio.
- **Throughput**: 2,000 no-op jobs run by one worker, then by two, from enqueue to the last
  `succeeded` (each job: a leasing transaction, the handler's transaction, with the lapsed-lease
  check before each lease).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.jobs

Without BENCH_DATABASE_URL it uses the embedded PostgreSQL. A database `inovasi_bench_jobs` is
created (dropped first) on that server and dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Environment, Settings
from app.db.session import create_engine, create_sessionmaker
from app.db.url import embedded_server_url, ensure_database, to_async_url
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.domains.institutions.schemas import InstitutionCreate
from app.domains.institutions.service import create_institution
from app.domains.jobs.kinds import JobContext, JobKind, Registry, register
from app.domains.jobs.service import enqueue
from app.domains.jobs.worker import Worker
from app.main import create_app
from app.models.enums import InstitutionKind, Role
from tests.fixtures.database import drop_database, migrate

WRITES = int(os.environ.get("BENCH_WRITES", "1000"))
JOBS = int(os.environ.get("BENCH_JOBS", "2000"))


def _url() -> URL:
    given = os.environ.get("BENCH_DATABASE_URL")
    base = to_async_url(given) if given else embedded_server_url(Settings().embedded_pg_dir)
    return base.set(database="inovasi_bench_jobs")


def _settings(url: URL) -> Settings:
    values: dict[str, Any] = {
        "environment": Environment.test,
        "database_url": url.render_as_string(hide_password=False),
        "secret_key": "bench-secret-key-0123456789abcdef0123456789",
        "log_level": "WARNING",
        "jobs_poll_interval_seconds": 0.05,
        "rate_limit_per_minute": 0,
        "rate_limit_anonymous_per_minute": 0,
        "rate_limit_storage": "memory",
    }
    return Settings(**values)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95)] * 1000


Extra = Callable[[AsyncSession, uuid.UUID], Awaitable[object]]


async def write_overhead(
    url: URL, settings: Settings, extra: Extra, what: str, writes: int = WRITES
) -> float:
    """Institutions created through the service, each in its own transaction, alternately
    without and with `extra(session, institution_id)` in the same transaction (after 100
    warm-up pairs); prints both and returns what `extra` adds to the p50, in ms."""
    engine = create_engine(url, settings)
    sessions = create_sessionmaker(engine)
    plain: list[float] = []
    with_extra: list[float] = []
    for i in range(writes + 100):
        for samples, extended in ((plain, False), (with_extra, True)):
            started = time.perf_counter()
            async with sessions() as session, session.begin():
                created = await create_institution(
                    session,
                    None,
                    InstitutionCreate(
                        name=f"Kementerian Bench {uuid.uuid4().hex}",
                        kind=InstitutionKind.kementerian,
                    ),
                )
                if extended:
                    await extra(session, created.id)
            if i >= 100:  # warm-up
                samples.append(time.perf_counter() - started)
    await engine.dispose()
    p50, p95 = percentiles(plain)
    q50, q95 = percentiles(with_extra)
    label = f"service write + {what}:"
    print(f"{'service write alone:':<{len(label)}} p50 {p50:.2f} ms  p95 {p95:.2f} ms  ({writes})")
    print(f"{label} p50 {q50:.2f} ms  p95 {q95:.2f} ms")
    print(f"{what} adds {q50 - p50:.2f} ms: {100 * (q50 - p50) / p50:.1f}% of the service write")
    return q50 - p50


async def _enqueue_overhead(url: URL, settings: Settings) -> None:
    async def one_job(session: AsyncSession, institution_id: uuid.UUID) -> object:
        return await enqueue(session, "bench.noop", {"institution_id": str(institution_id)})

    added = await write_overhead(url, settings, one_job, "enqueue")
    http50 = await _http_write(url, settings)
    print(f"the same write over HTTP (POST /v1/institutions, in process): p50 {http50:.2f} ms")
    print(f"enqueue adds {100 * added / http50:.1f}% of the HTTP write")


async def _http_write(url: URL, settings: Settings) -> float:
    engine = create_engine(url, settings)
    async with create_sessionmaker(engine)() as session, session.begin():
        issued = await issue_api_key(
            session, None, ApiKeyCreate(name="bench", role=Role.secretariat_admin)
        )
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 0}), engine=engine)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    samples: list[float] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for i in range(WRITES + 100):
            body = {"name": f"Kementerian Bench HTTP {uuid.uuid4().hex}", "kind": "kementerian"}
            started = time.perf_counter()
            response = await client.post("/v1/institutions", json=body, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.status_code == 201, response.text
            if i >= 100:
                samples.append(elapsed)
    await engine.dispose()
    return percentiles(samples)[0]


async def _throughput(url: URL, settings: Settings, workers: int) -> None:
    engine = create_engine(url, settings)
    sessions = create_sessionmaker(engine)

    async def noop(ctx: JobContext, payload: dict[str, Any]) -> None:
        return None

    kinds: Registry = {}
    register(JobKind("bench.noop", noop), kinds)
    async with sessions() as session, session.begin():
        await session.execute(text("DELETE FROM jobs"))
        for n in range(JOBS):
            await enqueue(session, "bench.noop", {"n": n})
    started = time.perf_counter()
    await asyncio.gather(
        *(
            Worker(engine, settings, kinds=kinds, schedules=[]).run(until_idle=True)
            for _ in range(workers)
        )
    )
    elapsed = time.perf_counter() - started
    async with sessions() as session:
        done = await session.scalar(text("SELECT count(*) FROM jobs WHERE status = 'succeeded'"))
    await engine.dispose()
    print(f"{workers} worker(s): {done} jobs in {elapsed:.2f} s = {JOBS / elapsed:.0f} jobs/s")


async def _run(url: URL, settings: Settings) -> None:
    await _enqueue_overhead(url, settings)
    await _throughput(url, settings, 1)
    await _throughput(url, settings, 2)


def main() -> None:
    url = _url()
    asyncio.run(ensure_database(url, drop_first=True))
    migrate(url)
    try:
        asyncio.run(_run(url, _settings(url)))
    finally:
        drop_database(url)


if __name__ == "__main__":
    main()
