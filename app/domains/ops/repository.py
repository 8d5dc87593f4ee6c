"""What the readiness check asks the database."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def ping(engine: AsyncEngine) -> None:
    """One round trip on a connection of the pool: the database answers."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
