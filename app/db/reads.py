"""Hot reads: a SQLAlchemy Core statement compiled once, run on a pooled connection's driver.

The busiest public read (an innovation by id) spent most of its time in the layers around its
one-millisecond query: an `AsyncSession`, SQLAlchemy's execution and result processing. Here
the statement is still built with SQLAlchemy Core and the connection still comes from the
engine's pool, but the compiled SQL runs on the asyncpg connection directly (bench/README.md,
"2026-11-23 (second session)"). Use it for reads by key whose statement never changes; anything
built per request goes through the session.

Errors come out as the rest of the service's do: a lost connection is a 503
`database.unavailable` (and the connection leaves the pool), the statement timeout a 503
`database.timeout`, an exhausted pool SQLAlchemy's `TimeoutError` (503 `database.busy`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import asyncpg
from fastapi import Request
from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import greenlet_spawn

from app.core.errors import (
    ServiceUnavailable,
    database_unavailable,
    log_unavailable,
    unavailability,
)

_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]

# What asyncpg raises when the connection itself is gone (a server restart, a failover), and
# what it raises on a connection whose protocol is no longer usable: an InterfaceError on one it
# already knows is closed, an InternalClientError ("cannot switch to state ...") on one left in
# the middle of an operation. Either way the connection leaves the pool and the read is a 503.
# Its InterfaceErrors that are also ValueErrors (DataError: a bad argument) are bugs: a 500.
_CONNECTION_LOST = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    OSError,
)


class CompiledRead:
    """A Core SELECT compiled once for asyncpg: its SQL text and its parameters' order.

    Values go to the driver as given (no SQLAlchemy bind processing): pass what asyncpg
    encodes for the column's type (a UUID, a str for an enum, bytes). Literal values the
    statement was built with (`x * 10`) are kept from compilation.
    """

    def __init__(self, statement: ClauseElement) -> None:
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.fixed: dict[str, Any] = {
            name: compiled.binds[name].effective_value
            for name in self.names
            if not compiled.binds[name].required
        }

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        fixed = self.fixed
        return [params[name] if name in params else fixed[name] for name in self.names]

    async def fetchrow(self, driver: Any, params: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Run on a pooled connection's `driver_connection` (an asyncpg connection)."""
        row: Mapping[str, Any] | None = await _driver(driver).fetchrow(
            self.sql, *self.arguments(params)
        )
        return row


class Reader(Protocol):
    """Runs compiled reads; rows are asyncpg records (read like mappings)."""

    async def one(self, read: CompiledRead, **params: Any) -> Mapping[str, Any] | None: ...


def _driver(connection: Any) -> asyncpg.Connection:
    assert connection is not None, "a pooled connection always has its driver connection"
    driver: asyncpg.Connection = connection
    return driver


def _lost(error: BaseException) -> ServiceUnavailable:
    log_unavailable(error)
    return database_unavailable("The connection to the database was lost; retry.")


def _timeout() -> ServiceUnavailable:
    return ServiceUnavailable("database.timeout", "The database took too long to answer.")


class PoolReader:
    """Reads on the engine's pool: one connection per read, returned at once.

    No transaction: each statement sees what was committed when it started, as a GET's
    autocommit session does.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def one(self, read: CompiledRead, **params: Any) -> Mapping[str, Any] | None:
        try:
            fairy = await self.engine.raw_connection()
        except Exception as error:
            # No connection could be made (refused, a missing socket, the connect timeout, a
            # server starting or stopping): the driver's error, not wrapped by SQLAlchemy here.
            unavailable = unavailability(error)
            if unavailable is None:
                raise
            log_unavailable(error)
            raise unavailable from error
        try:
            row = await read.fetchrow(fairy.driver_connection, params)
        except _CONNECTION_LOST as error:
            if isinstance(error, ValueError):
                raise
            # As SQLAlchemy does on a disconnect: drop this connection and every pooled one
            # as old as it (a restarted server closed them all), so each is not found dead by
            # one more request. `_invalidate` is the pool's own call for this.
            pool = self.engine.sync_engine.pool
            await greenlet_spawn(pool._invalidate, fairy, error)
            raise _lost(error) from error
        except asyncpg.exceptions.QueryCanceledError as error:  # the statement timeout
            raise _timeout() from error
        finally:
            # Never in a transaction here: a connection the pool keeps goes back without a
            # round trip, so without a greenlet. One the pool closes instead (a NullPool, an
            # overflow connection) awaits the driver, which SQLAlchemy does from a greenlet.
            pool = self.engine.sync_engine.pool
            if isinstance(pool, QueuePool) and pool.checkedin() < pool.size():
                fairy.close()
            else:
                await greenlet_spawn(fairy.close)
        return row


class ConnectionReader:
    """Reads on one `AsyncConnection`, inside whatever transaction it is in (tests, scripts)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def one(self, read: CompiledRead, **params: Any) -> Mapping[str, Any] | None:
        raw = await self.connection.get_raw_connection()
        try:
            row = await read.fetchrow(raw.driver_connection, params)
        except asyncpg.exceptions.QueryCanceledError as error:  # the statement timeout
            raise _timeout() from error
        return row


def reader_of(request: Request) -> Reader:
    """The app's reader (tests put a `ConnectionReader` on their transaction in its place).

    Not a dependency: on a read that takes a few hundred microseconds, each dependency FastAPI
    solves is a measurable share (bench/README.md)."""
    reader: Reader = request.app.state.reader
    return reader
