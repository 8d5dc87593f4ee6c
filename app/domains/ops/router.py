from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from app.core.errors import ServiceUnavailable
from app.core.openapi import problems

router = APIRouter(tags=["ops"])


class Health(BaseModel):
    status: str


@router.get("/livez")
async def get_liveness() -> Health:
    """The process is up (does not touch the database)."""
    return Health(status="ok")


@router.get("/readyz", responses=problems(503))
async def get_readiness(request: Request) -> Health:
    """The database answers within the configured time (503 otherwise)."""
    engine = request.app.state.engine
    timeout = request.app.state.settings.readyz_timeout_seconds

    async def ping() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(ping(), timeout=timeout)
    except Exception as exc:
        raise ServiceUnavailable("database.unavailable", "The database is not reachable.") from exc
    return Health(status="ok")
