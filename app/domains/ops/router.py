from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.errors import database_unavailable
from app.core.openapi import problems
from app.domains.ops import repository
from app.domains.ops.schemas import Health

router = APIRouter(tags=["ops"])


@router.get("/livez")
async def get_liveness() -> Health:
    """The process is up (does not touch the database)."""
    return Health(status="ok")


@router.get("/readyz", responses=problems(503))
async def get_readiness(request: Request) -> Health:
    """The database answers within the configured time (503 otherwise)."""
    engine: AsyncEngine = request.app.state.engine
    timeout: float = request.app.state.settings.readyz_timeout_seconds
    try:
        await asyncio.wait_for(repository.ping(engine), timeout=timeout)
    except Exception as exc:
        raise database_unavailable("The database is not reachable.") from exc
    return Health(status="ok")
