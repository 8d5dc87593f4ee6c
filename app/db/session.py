"""The engines of a process (the sessions' one, and the reads by key's smaller one: see
`create_key_read_engine`), and the request's unit of work: one session, one commit point."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from app.core.config import Settings

logger = logging.getLogger(__name__)


def _unnamed_statement() -> str:
    """asyncpg's name for SQLAlchemy's prepared statements: the unnamed one (see below)."""
    return ""


def _connect_args(settings: Settings, *, plan_every_execution: bool) -> dict[str, Any]:
    server_settings = {"application_name": "inovasi", "timezone": "UTC"}
    if settings.database_pgbouncer:
        # Behind PgBouncer in transaction mode a server connection serves another client as
        # soon as a transaction (or an autocommit statement) ends. So no cached, named
        # prepared statement (it would be missing, or already taken under the same name, on
        # the next server connection): each statement is the unnamed one, parsed, bound and
        # run in one exchange that ends with its Sync. Unnamed statements are planned for
        # their parameters (a custom plan), so plan_cache_mode has nothing to do. Only the
        # startup parameters PgBouncer keeps per client are sent (application_name and
        # timezone; it refuses statement_timeout): the timeout is the role's default,
        # ALTER ROLE ... SET statement_timeout (README "Behind PgBouncer").
        return {
            "server_settings": server_settings,
            "statement_cache_size": 0,
            "prepared_statement_cache_size": 0,
            "prepared_statement_name_func": _unnamed_statement,
            "timeout": settings.db_connect_timeout_seconds,
        }
    server_settings["statement_timeout"] = str(settings.db_statement_timeout_ms)
    if plan_every_execution:
        # asyncpg prepares every statement; PostgreSQL's generic plan for a prepared search
        # ignores the partial indexes and the parameters' selectivity (600 ms instead of
        # 50 ms at 100k rows, bench/README.md): plan every execution for its parameters.
        server_settings["plan_cache_mode"] = "force_custom_plan"
    # Opening a connection gives up after DB_CONNECT_TIMEOUT_SECONDS (asyncpg's own default is
    # a minute): a database that does not answer makes a 503, not a request that hangs.
    return {"server_settings": server_settings, "timeout": settings.db_connect_timeout_seconds}


def create_engine(
    url: URL,
    settings: Settings,
    *,
    null_pool: bool = False,
    connect_timeout: float | None = None,
) -> AsyncEngine:
    connect_args = _connect_args(settings, plan_every_execution=True)
    if connect_timeout is not None:
        connect_args["timeout"] = connect_timeout
    # jsonb columns are decoded by orjson, about three times as fast as the json module for
    # the catalogue's sections and evidence (bench/README.md); writes keep json.dumps.
    if null_pool:
        return create_async_engine(
            url, poolclass=NullPool, connect_args=connect_args, json_deserializer=orjson.loads
        )
    return create_async_engine(
        url,
        json_deserializer=orjson.loads,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        # No ping before each checkout: it costs a round trip a request. A connection the
        # server has closed fails its request with a 503 (app.core.errors) and the pool then
        # replaces every connection as old as it.
        pool_pre_ping=False,
        connect_args=connect_args,
    )


def create_key_read_engine(
    url: URL, settings: Settings, *, connect_timeout: float | None = None
) -> AsyncEngine:
    """The pool of the hot reads by key (app/db/reads.py): an innovation by id, an API key by
    its hash, the account of an access token.

    Their statements never change and look up one row by a unique key, so PostgreSQL's cached
    generic plan is the right one, and planning each execution (as the main pool's connections
    must, for searches) cost PostgreSQL more than running the query: 0.27 against 0.11 ms of
    its CPU a get by id (bench/README.md).
    """
    connect_args = _connect_args(settings, plan_every_execution=False)
    if connect_timeout is not None:
        connect_args["timeout"] = connect_timeout
    return create_async_engine(
        url,
        json_deserializer=orjson.loads,
        pool_size=settings.db_read_pool_size,
        max_overflow=0,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_pre_ping=False,
        connect_args=connect_args,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for GET and HEAD requests: autocommit, so each statement runs on its own,
    without the BEGIN and COMMIT round trips of a transaction (bench/README.md)."""
    return create_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))


_READ_METHODS = frozenset({"GET", "HEAD"})


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield the request's session; commit after the endpoint returns, roll back if it raised.

    Registered with `scope="function"` so the commit happens before the response is sent: a
    failed commit becomes an error response, never a false success.

    GET and HEAD requests only read: their session runs each statement in autocommit (each
    sees what was committed when it started) and has nothing to commit.
    """
    if request.method in _READ_METHODS:
        readmaker: async_sessionmaker[AsyncSession] = request.app.state.read_sessionmaker
        async with readmaker() as session:
            yield session
        return
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        if session.in_transaction():
            await session.commit()


SessionDep = Annotated[AsyncSession, Depends(unit_of_work, scope="function")]


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only session for a streamed response: it lives until the last byte is sent
    (the default dependency scope) and never commits."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        yield session


StreamSessionDep = Annotated[AsyncSession, Depends(read_session)]


async def warn_of_statement_timeout(engine: AsyncEngine, settings: Settings) -> None:
    """Behind PgBouncer the statement timeout is the role's default, not the service's: say so
    (once, at start) when the two differ, with the statement that makes them agree."""
    try:
        async with engine.connect() as connection:
            value = int(
                (
                    await connection.execute(
                        text("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
                    )
                ).scalar_one()
            )
    except Exception:  # the database is away: the readiness check reports it
        logger.warning("cannot read the database's statement_timeout", exc_info=True)
        return
    if value != settings.db_statement_timeout_ms:
        logger.warning(
            "behind PgBouncer the statement timeout is the role's: %s ms, not "
            "DB_STATEMENT_TIMEOUT_MS %s; run ALTER ROLE <role> IN DATABASE <database> SET "
            "statement_timeout = '%sms' on PostgreSQL (README \"Behind PgBouncer\")",
            value,
            settings.db_statement_timeout_ms,
            settings.db_statement_timeout_ms,
        )
