"""Migrations run on the service's own engine settings, asynchronously."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app import models  # noqa: F401 - registers every table
from app.core.config import get_settings
from app.db.base import Base
from app.db.url import resolve_database_url

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    given = config.attributes.get("database_url")
    if given is not None:
        return str(given)
    settings = get_settings()
    url = resolve_database_url(settings.database_url, settings.embedded_pg_dir)
    return url.render_as_string(hide_password=False)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_async_engine(_url(), poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    asyncio.run(_run_async())


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run against a database")
run_migrations_online()
