"""CPU time of the service process per request, in process: sequential ASGI calls, no HTTP.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/inovasi_bench_catalogue \
        .venv/bin/python -m bench.request_cost "/v1/innovations/{id}" 3000 [--profile]

Runs against a database built by `bench.catalogue` (`{id}` is replaced by published ids in
turn). Prints requests per second, wall and CPU milliseconds per request; `--profile` adds the
share of profiled time per package and the top functions (PROFILE_SORT=cumulative and
PROFILE_LINES=60 to see more).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import os
import pstats
import time
from typing import Any

from sqlalchemy import text

from app.core.config import Settings
from app.main import create_app


async def _call(app: Any, path: str) -> int:
    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def main(path: str, requests: int, profile: bool) -> None:
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/inovasi_bench_catalogue"
    )
    settings = Settings(
        environment="production",
        database_url=url,
        secret_key="bench-" * 8,
        log_level="WARNING",
        rate_limit_per_minute=0,
        rate_limit_anonymous_per_minute=0,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with app.state.engine.connect() as conn:
            ids = [
                str(row[0])
                for row in await conn.execute(
                    text("SELECT id FROM innovations WHERE status = 'published' LIMIT 500")
                )
            ]
        paths = [path.replace("{id}", i) for i in ids] if "{id}" in path else [path]
        for n in range(100):
            status = await _call(app, paths[n % len(paths)])
        assert status == 200, status
        profiler = cProfile.Profile()
        started, cpu = time.perf_counter(), time.process_time()
        if profile:
            profiler.enable()
        for n in range(requests):
            await _call(app, paths[n % len(paths)])
        if profile:
            profiler.disable()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"{requests / elapsed:.0f} req/s, {elapsed / requests * 1000:.2f} ms/req wall, "
        f"{cpu / requests * 1000:.3f} ms/req CPU{' (profiled)' if profile else ''}"
    )
    if profile:
        stats = pstats.Stats(profiler)
        shares: collections.Counter[str] = collections.Counter()
        for (filename, _, _), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
            package = filename.split("site-packages/")[-1].split("/")[0]
            shares[package] += own
        total = sum(shares.values())
        for package, own in shares.most_common(15):
            print(f"{own / total * 100:5.1f}%  {package}")
        stats.sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(
            int(os.environ.get("PROFILE_LINES", "30"))
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("requests", type=int, nargs="?", default=3000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.path, args.requests, args.profile))
