"""The read replica (DATABASE_READ_URL): its engines, whether it is usable now, and which
requests it serves.

It serves the public catalogue's reads (the routes that take `PublicSessionDep`,
`PublicStreamSessionDep` or `public_reader_of`) for anonymous callers. A request with a
credential reads the primary: every write needs one, so a caller reads its own writes at once,
whichever process or machine serves its next request, with no marker to share between them
(README "Read replicas"). When the replica cannot give a connection (down, refusing,
unreachable within its connect timeout), reads go to the primary for
DATABASE_READ_FALLBACK_SECONDS, then the replica is tried again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util import greenlet_spawn

from app.core.config import Settings
from app.core.errors import ServiceUnavailable
from app.db.reads import CompiledRead, PoolReader, Reader, reader_of
from app.db.session import (
    create_engine,
    create_key_read_engine,
    create_read_sessionmaker,
    create_sessionmaker,
)
from app.db.url import to_async_url

logger = logging.getLogger(__name__)

# How long the replica may take to accept a connection before a read goes to the primary.
CONNECT_TIMEOUT_SECONDS = 2.0

_READ_METHODS = frozenset({"GET", "HEAD"})

# What a replica that cannot serve raises: connections refused or timed out, a server starting
# or shutting down (SQLAlchemy wraps the driver's errors at connect), a connection lost mid-read
# (the key reader's 503), a read cancelled because replay needed its rows (conflict with
# recovery).
_UNAVAILABLE = (
    DBAPIError,
    OSError,
    TimeoutError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.SerializationError,
)

# How far the replica is behind: zero when it has replayed all it received, else the age of
# the last transaction it replayed (an idle primary sends nothing, so age alone is no lag).
_LAG = text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END"
    "::float8"
)


class ReadReplica:
    """The replica's engines (sessions, and the reads by key) and its fallback state."""

    def __init__(
        self,
        engine: AsyncEngine,
        key_read_engine: AsyncEngine,
        fallback_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.key_read_engine = key_read_engine
        self.read_sessionmaker = create_read_sessionmaker(engine)
        self.stream_sessionmaker = create_sessionmaker(engine)
        self.reader = PoolReader(key_read_engine)
        self.fallback_seconds = fallback_seconds
        self._clock = clock
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        """False for DATABASE_READ_FALLBACK_SECONDS after the replica failed."""
        return self._down_until <= self._clock()

    def mark_down(self, error: BaseException) -> None:
        """Send reads to the primary for a while."""
        if self.available:
            logger.warning(
                "read replica unavailable; reading the primary",
                extra={"retry_in_seconds": self.fallback_seconds, "error": repr(error)},
            )
        self._down_until = self._clock() + self.fallback_seconds

    async def open_session(
        self, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> AsyncSession | None:
        """A session of `sessionmaker` holding a replica connection, or None (and the replica
        marked down) when none can be had."""
        session = sessionmaker()
        try:
            connection = await session.connection()
            raw = await connection.get_raw_connection()
            if raw.driver_connection is None or raw.driver_connection.is_closed():
                # A pooled connection the replica closed (a shutdown, a restart): asyncpg
                # saw its end without a round trip. Drop it and every pooled one as old as
                # it, as the key reader does (app/db/reads.py).
                closed = ConnectionError("the read replica closed the connection")
                await greenlet_spawn(self.engine.sync_engine.pool._invalidate, raw, closed)
                raise closed
        except _UNAVAILABLE as error:
            await session.close()
            self.mark_down(error)
            return None
        return session

    async def lag_seconds(self) -> float:
        """How far behind the primary the replica is (0 when it replayed all it received)."""
        async with self.engine.connect() as connection:
            lag: float = (await connection.execute(_LAG)).scalar_one()
        return lag

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self.key_read_engine.dispose()


def build_replica(settings: Settings) -> ReadReplica | None:
    """The read replica's engines when DATABASE_READ_URL is set (opened lazily: a replica that
    is down when the service starts is only read from once it answers)."""
    if not settings.database_read_url:
        return None
    url = to_async_url(settings.database_read_url)
    timeout = CONNECT_TIMEOUT_SECONDS
    return ReadReplica(
        create_engine(url, settings, connect_timeout=timeout),
        create_key_read_engine(url, settings, connect_timeout=timeout),
        settings.database_read_fallback_seconds,
    )


def replica_for(request: Request) -> ReadReplica | None:
    """The replica to read from for this request, or None for the primary: an anonymous GET
    or HEAD while a replica is configured and available."""
    replica: ReadReplica | None = getattr(request.app.state, "replica", None)
    if (
        replica is None
        or request.method not in _READ_METHODS
        or getattr(request.state, "principal", None) is not None
        or not replica.available
    ):
        return None
    return replica


class ReplicaReader:
    """Reads by key on the replica, and on the primary's reader when the replica fails (a read
    by key is one statement: it is simply asked again)."""

    def __init__(self, replica: ReadReplica, primary: Reader) -> None:
        self.replica = replica
        self.primary = primary

    async def one(self, read: CompiledRead, **params: Any) -> Mapping[str, Any] | None:
        if self.replica.available:
            try:
                return await self.replica.reader.one(read, **params)
            except ServiceUnavailable as error:
                if error.code != "database.unavailable":
                    raise
                self.replica.mark_down(error)
            except _UNAVAILABLE as error:
                self.replica.mark_down(error)
        return await self.primary.one(read, **params)


def public_reader_of(request: Request) -> Reader:
    """The reader of a public read by key: the replica's (falling back to the primary) for an
    anonymous caller, else the app's (`reader_of`)."""
    replica = replica_for(request)
    if replica is None:
        return reader_of(request)
    return ReplicaReader(replica, reader_of(request))


async def public_unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """A public read's session (GET routes only): on the read replica (DATABASE_READ_URL) for
    an anonymous caller while the replica gives connections, else the primary's autocommit
    session, as `unit_of_work` gives a GET.

    Callers with a credential read the primary: every write needs one, so a caller always
    reads its own writes, in whichever process or machine its next request lands
    (README "Read replicas").
    """
    replica = replica_for(request)
    if replica is not None:
        session = await replica.open_session(replica.read_sessionmaker)
        if session is not None:
            async with session:
                yield session
            return
    # Public reads are GET routes: the primary's autocommit session, as `unit_of_work` gives.
    readmaker: async_sessionmaker[AsyncSession] = request.app.state.read_sessionmaker
    async with readmaker() as session:
        yield session


PublicSessionDep = Annotated[AsyncSession, Depends(public_unit_of_work, scope="function")]
"""The session of a public catalogue read that the read replica may serve."""


async def public_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """`read_session` for a public streamed read: on the read replica when `public_unit_of_work`
    would use it."""
    replica = replica_for(request)
    if replica is not None:
        session = await replica.open_session(replica.stream_sessionmaker)
        if session is not None:
            async with session:
                yield session
            return
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        yield session


PublicStreamSessionDep = Annotated[AsyncSession, Depends(public_read_session)]
"""The session of a public streamed read (the export) that the read replica may serve."""
