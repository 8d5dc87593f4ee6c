from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.core.concurrency import (
    IfMatchDep,
    IfMatchRequiredDep,
    IfNoneMatchDep,
    read_versioned,
)
from app.core.openapi import not_modified, problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.query import BLANK_SEARCH, SearchText
from app.core.security import CurrentPrincipal, MaybePrincipal
from app.db.session import SessionDep
from app.domains.hub_activities import service
from app.domains.hub_activities.schemas import (
    HubActivityCreate,
    HubActivityFilter,
    HubActivityPage,
    HubActivityRead,
    HubActivitySort,
    HubActivityTransition,
    HubActivityUpdate,
)
from app.domains.regions.schemas import REGION_CODE_PATTERN
from app.models.enums import HubActivityKind, HubActivityStatus

router = APIRouter(tags=["hubs"], route_class=PolicyRoute)


@router.get("/hubs/{hub_id}/activities", responses=problems(400, 404))
async def list_hub_activities(
    session: SessionDep,
    principal: MaybePrincipal,
    hub_id: uuid.UUID,
    page: PageDep,
    kind: Annotated[list[HubActivityKind] | None, Query(description="Any of these kinds.")] = None,
    status_: Annotated[
        list[HubActivityStatus] | None,
        Query(alias="status", description="Drafts are seen by the hub's managers only."),
    ] = None,
    date_from: Annotated[date | None, Query(description="On or after this day.")] = None,
    date_to: Annotated[date | None, Query(description="On or before this day.")] = None,
    region: Annotated[
        str | None,
        Query(
            pattern=REGION_CODE_PATTERN,
            description="Held in this region or a region under it (a province: its regencies "
            "and cities too).",
        ),
    ] = None,
    institution_id: Annotated[
        uuid.UUID | None, Query(description="This institution took part.")
    ] = None,
    innovation_id: Annotated[
        uuid.UUID | None, Query(description="This innovation was presented.")
    ] = None,
    q: Annotated[
        SearchText,
        Query(description="Title contains." + BLANK_SEARCH),
    ] = None,
    sort: HubActivitySort = HubActivitySort.activity_date_desc,
) -> HubActivityPage:
    """List a hub's activities, newest first: published ones for everyone who sees the hub,
    drafts too for its managers."""
    filters = HubActivityFilter(
        kind=kind or [],
        status=status_ or [],
        date_from=date_from,
        date_to=date_to,
        region=region,
        institution_id=institution_id,
        innovation_id=innovation_id,
        q=q,
    )
    result = await service.list_activities(session, principal, hub_id, filters, sort, page)
    return HubActivityPage.model_validate(result, from_attributes=True)


@router.post(
    "/hubs/{hub_id}/activities",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404),
)
async def create_hub_activity(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    body: HubActivityCreate,
    response: Response,
) -> HubActivityRead:
    """Record an activity of the hub (a draft until published): participants must exist and
    the innovations shown must be published (422 naming each one that is not)."""
    activity = await service.create_activity(session, principal, hub_id, body)
    response.headers["Location"] = f"/v1/hubs/{hub_id}/activities/{activity.id}"
    return read_versioned(HubActivityRead, activity, response)


@router.get(
    "/hubs/{hub_id}/activities/{activity_id}", responses={**problems(404), **not_modified()}
)
async def get_hub_activity(
    session: SessionDep,
    principal: MaybePrincipal,
    hub_id: uuid.UUID,
    activity_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> HubActivityRead:
    """Get one activity; a draft only for the hub's managers."""
    activity = await service.get_activity(session, principal, hub_id, activity_id)
    cond.check_not_modified(activity.version)
    return read_versioned(HubActivityRead, activity, response)


@router.patch("/hubs/{hub_id}/activities/{activity_id}", responses=problems(403, 404, 412))
async def update_hub_activity(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    activity_id: uuid.UUID,
    body: HubActivityUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> HubActivityRead:
    """Change an activity; lists (participants, innovations, documents) are replaced whole."""
    activity = await service.update_activity(session, principal, hub_id, activity_id, body, cond)
    return read_versioned(HubActivityRead, activity, response)


@router.delete(
    "/hubs/{hub_id}/activities/{activity_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409, 412),
)
async def delete_hub_activity(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    activity_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Delete a draft activity (a published one is unpublished first: 409)."""
    await service.delete_activity(session, principal, hub_id, activity_id, cond)


@router.post(
    "/hubs/{hub_id}/activities/{activity_id}/transitions",
    responses=problems(403, 404, 409, 412),
)
async def transition_hub_activity(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    activity_id: uuid.UUID,
    body: HubActivityTransition,
    response: Response,
    cond: IfMatchDep,
) -> HubActivityRead:
    """`publish` a draft (it becomes public) or `unpublish` it back to draft; any other step
    is a 409 naming the current status and the allowed actions."""
    activity = await service.transition_activity(
        session, principal, hub_id, activity_id, body, cond
    )
    return read_versioned(HubActivityRead, activity, response)
