from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.errors import database_unavailable
from app.core.openapi import problems
from app.db.replica import ReadReplica
from app.domains.ops import repository
from app.domains.ops.schemas import Health, ReplicaHealth

router = APIRouter(tags=["ops"])


@router.get("/livez", response_model_exclude_none=True)
async def get_liveness() -> Health:
    """The process is up (does not touch the database)."""
    return Health(status="ok")


@router.get("/readyz", responses=problems(503), response_model_exclude_none=True)
async def get_readiness(request: Request) -> Health:
    """The database answers within the configured time (503 otherwise), and how the read
    replica is, if there is one (its being away is no 503: the primary serves its reads)."""
    engine: AsyncEngine = request.app.state.engine
    timeout: float = request.app.state.settings.readyz_timeout_seconds
    replica: ReadReplica | None = request.app.state.replica
    try:
        await asyncio.wait_for(repository.ping(engine), timeout=timeout)
    except Exception as exc:
        raise database_unavailable("The database is not reachable.") from exc
    if replica is None:
        return Health(status="ok")
    try:
        lag = await asyncio.wait_for(replica.lag_seconds(), timeout=timeout)
    except Exception as exc:
        replica.mark_down(exc)
        return Health(status="ok", replica=ReplicaHealth(status="unavailable"))
    return Health(status="ok", replica=ReplicaHealth(status="ok", lag_seconds=lag))
