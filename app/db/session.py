"""Engine per process, and the request's unit of work: one session, one commit point."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from app.core.config import Settings


def create_engine(url: URL, settings: Settings, *, null_pool: bool = False) -> AsyncEngine:
    connect_args = {
        "server_settings": {
            "application_name": "inovasi",
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "timezone": "UTC",
            # asyncpg prepares every statement; PostgreSQL's generic plan for a prepared search
            # ignores the partial indexes and the parameters' selectivity (600 ms instead of
            # 50 ms at 100k rows, bench/README.md): plan every execution for its parameters.
            "plan_cache_mode": "force_custom_plan",
        }
    }
    if null_pool:
        return create_async_engine(url, poolclass=NullPool, connect_args=connect_args)
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        connect_args=connect_args,
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield the request's session; commit after the endpoint returns, roll back if it raised.

    Registered with `scope="function"` so the commit happens before the response is sent: a
    failed commit becomes an error response, never a false success.
    """
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
