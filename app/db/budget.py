"""The connection budget: every serving process's pools must fit the server's connections."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg
from sqlalchemy.engine import URL

from app.core.config import Settings
from app.db.url import to_async_url, to_libpq_dsn

logger = logging.getLogger(__name__)


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
    limits: ServerLimits,
    workers: int,
    pool_size: int,
    max_overflow: int,
    read_pool_size: int,
    *,
    server: str = "DATABASE_URL",
) -> str | None:
    """Why `workers` processes cannot fit the server's connections, or None when they fit.
    `server` names the setting of the server the limits are of (the primary or the replica)."""
    per_process = connections_per_process(pool_size, max_overflow, read_pool_size)
    needed = workers * per_process
    if needed <= limits.available:
        return None
    fitting = limits.available // per_process
    return (
        f"refused: {workers} worker(s) x (DB_POOL_SIZE {pool_size} + DB_MAX_OVERFLOW "
        f"{max_overflow} + DB_READ_POOL_SIZE {read_pool_size}) = {needed} connections, but the "
        f"database ({server}) allows {limits.available} (max_connections "
        f"{limits.max_connections} - superuser_reserved_connections "
        f"{limits.superuser_reserved}); lower WEB_CONCURRENCY (at most {fitting} fit) or the "
        f"pool sizes, or raise max_connections"
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


async def budget_refusals(settings: Settings, primary: URL, workers: int) -> list[str]:
    """Why `workers` serving processes cannot fit: the primary's connections, and the read
    replica's when DATABASE_READ_URL is set (each process opens the same pools on both).
    Nothing behind PgBouncer: the processes' pools then connect to PgBouncer, whose own pool
    sizes must fit the server (README "Behind PgBouncer")."""
    if settings.database_pgbouncer:
        return []
    servers = [("DATABASE_URL", primary)]
    if settings.database_read_url:
        servers.append(("DATABASE_READ_URL", to_async_url(settings.database_read_url)))
    refusals = []
    for name, url in servers:
        try:
            limits = await read_server_limits(url)
        except Exception:
            if name == "DATABASE_URL":
                raise
            # A replica that is down is not read from until it answers (README "Read
            # replicas"): it must not keep the service from starting.
            logger.warning("read replica unreachable: its connection budget is not checked")
            continue
        refusal = budget_refusal(
            limits,
            workers,
            settings.db_pool_size,
            settings.db_max_overflow,
            settings.db_read_pool_size,
            server=name,
        )
        if refusal is not None:
            refusals.append(refusal)
    return refusals
