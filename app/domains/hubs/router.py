from __future__ import annotations

import uuid
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
from app.domains.hubs import service
from app.domains.hubs.schemas import (
    PROVINCE_CODE_PATTERN,
    HubCreate,
    HubFilter,
    HubMemberCreate,
    HubMemberFilter,
    HubMemberLeave,
    HubMemberPage,
    HubMemberRead,
    HubMemberSort,
    HubPage,
    HubRead,
    HubSort,
    HubTransition,
    HubUpdate,
)
from app.models.enums import HubKind, HubStatus

router = APIRouter(tags=["hubs"], route_class=PolicyRoute)


@router.get("/hubs", responses=problems(400))
async def list_hubs(
    session: SessionDep,
    principal: MaybePrincipal,
    page: PageDep,
    kind: Annotated[list[HubKind] | None, Query(description="Any of these kinds.")] = None,
    status_: Annotated[
        list[HubStatus] | None,
        Query(
            alias="status",
            description="Any of these; candidate and committed hubs only within the caller's "
            "reach.",
        ),
    ] = None,
    province: Annotated[
        str | None,
        Query(pattern=PROVINCE_CODE_PATTERN, description="Hubs hosted on this province code."),
    ] = None,
    is_pilot: Annotated[bool | None, Query()] = None,
    host_institution_id: Annotated[uuid.UUID | None, Query()] = None,
    q: Annotated[
        SearchText,
        Query(description="Name contains." + BLANK_SEARCH),
    ] = None,
    sort: HubSort = HubSort.name,
) -> HubPage:
    """List JIPP hubs: the public sees designated, active and inactive ones."""
    filters = HubFilter(
        kind=kind or [],
        status=status_ or [],
        province=province,
        is_pilot=is_pilot,
        host_institution_id=host_institution_id,
        q=q,
    )
    result = await service.list_hubs(session, principal, filters, sort, page)
    return HubPage.model_validate(result, from_attributes=True)


@router.post("/hubs", status_code=status.HTTP_201_CREATED, responses=problems(409))
async def create_hub(
    session: SessionDep, principal: CurrentPrincipal, body: HubCreate, response: Response
) -> HubRead:
    """Register a candidate hub on a host institution whose kind fits the hub's."""
    hub = await service.create_hub(session, principal, body)
    response.headers["Location"] = f"/v1/hubs/{hub.id}"
    return read_versioned(HubRead, hub, response)


@router.get("/hubs/{hub_id}", responses={**problems(404), **not_modified()})
async def get_hub(
    session: SessionDep,
    principal: MaybePrincipal,
    hub_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> HubRead:
    """Get one hub; a candidate or committed hub only within the caller's reach."""
    hub = await service.get_hub(session, principal, hub_id)
    cond.check_not_modified(hub.version)
    return read_versioned(HubRead, hub, response)


@router.patch("/hubs/{hub_id}", responses=problems(403, 404, 409, 412))
async def update_hub(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    body: HubUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> HubRead:
    """Change a hub's profile (not its status); `If-Match` required (428 without)."""
    hub = await service.update_hub(session, principal, hub_id, body, cond)
    return read_versioned(HubRead, hub, response)


@router.delete(
    "/hubs/{hub_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 409, 412)
)
async def delete_hub(
    session: SessionDep, principal: CurrentPrincipal, hub_id: uuid.UUID, cond: IfMatchRequiredDep
) -> None:
    """Delete a candidate hub (a hub that got further is deactivated instead: 409)."""
    await service.delete_hub(session, principal, hub_id, cond)


@router.post("/hubs/{hub_id}/transitions", responses=problems(404, 409, 412))
async def transition_hub(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    body: HubTransition,
    response: Response,
    cond: IfMatchDep,
) -> HubRead:
    """Move a hub one step: commit, designate (with the decree), activate, deactivate; a step
    the machine does not allow from the current status is a 409 naming the allowed ones."""
    hub = await service.transition_hub(session, principal, hub_id, body, cond)
    return read_versioned(HubRead, hub, response)


@router.get("/hubs/{hub_id}/members", responses=problems(400, 404))
async def list_hub_members(
    session: SessionDep,
    principal: MaybePrincipal,
    hub_id: uuid.UUID,
    page: PageDep,
    current: Annotated[
        bool | None,
        Query(description="true: memberships that last; false: those that ended."),
    ] = None,
    institution_id: Annotated[
        uuid.UUID | None, Query(description="The memberships of this institution or its units.")
    ] = None,
    sort: HubMemberSort = HubMemberSort.joined_date,
) -> HubMemberPage:
    """List a hub's memberships, current and past (leaving keeps the record)."""
    filters = HubMemberFilter(current=current, institution_id=institution_id)
    result = await service.list_members(session, principal, hub_id, filters, sort, page)
    return HubMemberPage.model_validate(result, from_attributes=True)


@router.post(
    "/hubs/{hub_id}/members",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404, 409),
)
async def add_hub_member(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    body: HubMemberCreate,
    response: Response,
) -> HubMemberRead:
    """Add a member: a pemkab or pemkot of a regional hub's province or one of the host's
    own units; a member from outside is a 422 naming the rule."""
    member = await service.add_member(session, principal, hub_id, body)
    response.headers["Location"] = f"/v1/hubs/{hub_id}/members/{member.id}"
    return read_versioned(HubMemberRead, member, response)


@router.get("/hubs/{hub_id}/members/{member_id}", responses={**problems(404), **not_modified()})
async def get_hub_member(
    session: SessionDep,
    principal: MaybePrincipal,
    hub_id: uuid.UUID,
    member_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> HubMemberRead:
    """Get one membership record."""
    member = await service.get_member(session, principal, hub_id, member_id)
    cond.check_not_modified(member.version)
    return read_versioned(HubMemberRead, member, response)


@router.post("/hubs/{hub_id}/members/{member_id}/leave", responses=problems(403, 404, 409, 412))
async def end_hub_membership(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    member_id: uuid.UUID,
    response: Response,
    cond: IfMatchDep,
    body: HubMemberLeave | None = None,
) -> HubMemberRead:
    """End a membership: it gets its `left_date` and stays readable as history.

    A named action, not `DELETE`: the record is not removed (API.md: state changes are
    `POST` actions), and a later rejoin adds a new record next to it.
    """
    data = body or HubMemberLeave()
    member = await service.end_membership(session, principal, hub_id, member_id, data, cond)
    return read_versioned(HubMemberRead, member, response)
