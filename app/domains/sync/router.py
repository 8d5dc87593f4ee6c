from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.openapi import problems
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal
from app.db.session import SessionDep
from app.domains.sync import service
from app.domains.sync.schemas import SyncChangePage, SyncResource

router = APIRouter(tags=["sync"], route_class=PolicyRoute)


@router.get("/sync/changes", responses=problems(400, 410))
async def list_sync_changes(
    session: SessionDep,
    principal: CurrentPrincipal,
    cursor: Annotated[
        str | None,
        Query(
            max_length=80,
            description="`next_cursor` of the last page read; without it the feed starts from "
            "the beginning (every record's latest change, and recent deletions).",
        ),
    ] = None,
    resources: Annotated[
        list[SyncResource] | None,
        Query(description="Only these resources (repeat the parameter); all by default."),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=service.MAX_FEED_LIMIT, description="Changes per page.")
    ] = service.DEFAULT_FEED_LIMIT,
) -> SyncChangePage:
    """Every create, update and delete of the units, innovations, replications and hub
    activities the caller may read (its own institution's and all public records), in commit
    order. Following `next_cursor` until `has_more` is false yields each change once, even
    while other transactions commit out of order; a record the caller may no longer read (or
    that was deleted) is a tombstone (`operation: delete`). A cursor older than the retention
    window is a 410: read again from the beginning. See docs/sync.md."""
    return await service.list_changes(session, principal, cursor, resources, limit)
