"""The connection budget: every serving process's pools must fit the server's connections."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import URL

from app.db.url import to_libpq_dsn


@dataclass(frozen=True)
class ServerLimits:
    """`max_connections` and the connections of them kept for superusers."""

    max_connections: int
    superuser_reserved: int

    @property
    def available(self) -> int:
        return self.max_connections - self.superuser_reserved


def connections_per_process(pool_size: int, max_overflow: int, read_pool_size: int) -> int:
    """The most connections one process opens: its pool, the pool's overflow, the read pool."""
    return pool_size + max_overflow + read_pool_size


def budget_refusal(
    limits: ServerLimits, workers: int, pool_size: int, max_overflow: int, read_pool_size: int
) -> str | None:
    """Why `workers` processes cannot fit the server's connections, or None when they fit."""
    per_process = connections_per_process(pool_size, max_overflow, read_pool_size)
    needed = workers * per_process
    if needed <= limits.available:
        return None
    fitting = limits.available // per_process
    return (
        f"refused: {workers} worker(s) x (DB_POOL_SIZE {pool_size} + DB_MAX_OVERFLOW "
        f"{max_overflow} + DB_READ_POOL_SIZE {read_pool_size}) = {needed} connections, but the "
        f"database allows {limits.available} (max_connections {limits.max_connections} - "
        f"superuser_reserved_connections {limits.superuser_reserved}); lower WEB_CONCURRENCY "
        f"(at most {fitting} fit) or the pool sizes, or raise max_connections"
    )


async def read_server_limits(url: URL) -> ServerLimits:
    """Ask the server for its connection limits (one short-lived connection)."""
    connection = await asyncpg.connect(to_libpq_dsn(url), timeout=10)
    try:
        max_connections = int(await connection.fetchval("SHOW max_connections"))
        reserved = int(await connection.fetchval("SHOW superuser_reserved_connections"))
    finally:
        await connection.close()
    return ServerLimits(max_connections, reserved)
