"""What authentication and rate limiting cost per request, in process (no network).

Drives the ASGI app over httpx.ASGITransport against a real PostgreSQL, sequentially, and
prints requests per second and the median and p95 latency for:

- an anonymous read with rate limiting off, and with each counter store (memory, PostgreSQL,
  Redis when it answers);
- `GET /v1/me` with an API key and with an access token (JWT + account lookup).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python -m bench.auth_overhead

Without BENCH_DATABASE_URL it uses the embedded PostgreSQL. A database `inovasi_bench` is created
(dropped first) on that server and dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from typing import Any

import httpx
from sqlalchemy.engine import URL

from app.core.config import Environment, Settings
from app.core.passwords import hash_password
from app.core.tokens import issue_access_token
from app.db.session import create_engine, create_sessionmaker
from app.db.url import embedded_server_url, ensure_database, to_async_url
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.main import create_app
from app.models.accounts import User
from app.models.enums import Role
from tests.fixtures.database import drop_database, migrate, seed

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
WARMUP = 200


def _url() -> URL:
    given = os.environ.get("BENCH_DATABASE_URL")
    base = to_async_url(given) if given else embedded_server_url(Settings().embedded_pg_dir)
    return base.set(database="inovasi_bench")


def _settings(url: URL, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": Environment.test,
        "database_url": url.render_as_string(hide_password=False),
        "secret_key": "bench-secret-key-0123456789abcdef0123456789",
        "log_level": "WARNING",
        "rate_limit_per_minute": 0,
        "rate_limit_anonymous_per_minute": 0,
    }
    values.update(overrides)
    return Settings(**values)


async def _credentials(url: URL) -> tuple[str, str]:
    settings = _settings(url)
    engine = create_engine(url, settings, null_pool=True)
    async with create_sessionmaker(engine)() as session, session.begin():
        key = await issue_api_key(
            session, None, ApiKeyCreate(name="bench", role=Role.secretariat_admin)
        )
        user = User(
            email="bench@example.go.id",
            name="Bench",
            role=Role.secretariat_admin,
            password_hash=await hash_password("bench-password-123"),
        )
        session.add(user)
        await session.flush()
        await session.refresh(user)
        token = issue_access_token(settings, user.id, user.password_changed_at).token
    await engine.dispose()
    return key.secret, token


async def _measure(settings: Settings, path: str, headers: dict[str, str]) -> dict[str, float]:
    app = create_app(settings)
    latencies: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i in range(WARMUP + REQUESTS):
                started = time.perf_counter()
                response = await client.get(path, headers=headers)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                if i >= WARMUP:
                    latencies.append(elapsed)
    total = sum(latencies)
    latencies.sort()
    return {
        "rps": len(latencies) / total,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95)] * 1000,
    }


async def _redis_up() -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", 6379), 1)
    except OSError:
        return False
    except TimeoutError:
        return False
    writer.close()
    return True


async def main() -> None:
    url = _url()
    await ensure_database(url, drop_first=True)
    await asyncio.to_thread(migrate, url)
    await asyncio.to_thread(seed, url, _settings(url))
    try:
        key, token = await _credentials(url)
        region = "/v1/regions/12"
        big = 10**9  # a limit never reached: the store is consulted on every request
        cases: list[tuple[str, Settings, str, dict[str, str]]] = [
            ("anonymous read, rate limit off", _settings(url), region, {}),
            (
                "anonymous read, memory counters",
                _settings(url, rate_limit_anonymous_per_minute=big, rate_limit_storage="memory"),
                region,
                {},
            ),
            (
                "anonymous read, PostgreSQL counters",
                _settings(
                    url, rate_limit_anonymous_per_minute=big, rate_limit_storage="postgresql"
                ),
                region,
                {},
            ),
        ]
        if await _redis_up():
            cases.append(
                (
                    "anonymous read, Redis counters",
                    _settings(
                        url,
                        rate_limit_anonymous_per_minute=big,
                        rate_limit_storage="redis://127.0.0.1:6379/14",
                    ),
                    region,
                    {},
                )
            )
        cases += [
            ("GET /v1/me, API key", _settings(url), "/v1/me", {"Authorization": f"Bearer {key}"}),
            (
                "GET /v1/me, access token",
                _settings(url),
                "/v1/me",
                {"Authorization": f"Bearer {token}"},
            ),
        ]
        print(f"{REQUESTS} sequential requests each (after {WARMUP} warm-up), in process\n")
        print("| case | req/s | p50 ms | p95 ms |\n|---|---:|---:|---:|")
        for name, settings, path, headers in cases:
            result = await _measure(settings, path, headers)
            print(
                f"| {name} | {result['rps']:.0f} | {result['p50_ms']:.2f} | "
                f"{result['p95_ms']:.2f} |"
            )
    finally:
        await asyncio.to_thread(drop_database, url)


if __name__ == "__main__":
    asyncio.run(main())
