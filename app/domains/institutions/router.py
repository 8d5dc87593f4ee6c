from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.core.concurrency import IfMatchRequiredDep, IfNoneMatchDep, read_versioned
from app.core.openapi import not_modified, problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.query import BLANK_SEARCH, SearchText
from app.core.security import CurrentPrincipal
from app.db.session import SessionDep
from app.domains.institutions import service
from app.domains.institutions.schemas import (
    InstitutionCreate,
    InstitutionFilter,
    InstitutionPage,
    InstitutionRead,
    InstitutionSort,
    InstitutionUpdate,
    UnitCreate,
    UnitFilter,
    UnitPage,
    UnitRead,
    UnitSort,
    UnitUpdate,
)
from app.domains.regions.schemas import REGION_CODE_PATTERN
from app.models.enums import InstitutionKind

router = APIRouter(tags=["institutions"], route_class=PolicyRoute)


@router.get("/institutions", responses=problems(400))
async def list_institutions(
    session: SessionDep,
    page: PageDep,
    kind: Annotated[list[InstitutionKind] | None, Query(description="Any of these kinds.")] = None,
    region: Annotated[
        str | None,
        Query(
            pattern=REGION_CODE_PATTERN,
            description="A region code; a province matches everything inside it.",
        ),
    ] = None,
    owner_institution_id: Annotated[uuid.UUID | None, Query()] = None,
    q: Annotated[
        SearchText,
        Query(description="Name or short name contains." + BLANK_SEARCH),
    ] = None,
    sort: InstitutionSort = InstitutionSort.name,
) -> InstitutionPage:
    """List institutions: ministries, agencies, local governments and enterprises."""
    filters = InstitutionFilter(
        kind=kind or [], region=region, owner_institution_id=owner_institution_id, q=q
    )
    result = await service.list_institutions(session, filters, sort, page)
    return InstitutionPage.model_validate(result, from_attributes=True)


@router.post(
    "/institutions",
    status_code=status.HTTP_201_CREATED,
    responses=problems(409),
)
async def create_institution(
    session: SessionDep, principal: CurrentPrincipal, body: InstitutionCreate, response: Response
) -> InstitutionRead:
    """Register an institution; its kind, region and owner must agree."""
    institution = await service.create_institution(session, principal, body)
    created = read_versioned(InstitutionRead, institution, response)
    response.headers["Location"] = f"/v1/institutions/{institution.id}"
    return created


@router.get(
    "/institutions/{institution_id}",
    responses={**problems(404), **not_modified()},
)
async def get_institution(
    session: SessionDep, institution_id: uuid.UUID, response: Response, cond: IfNoneMatchDep
) -> InstitutionRead:
    """Get one institution."""
    institution = await service.get_institution(session, institution_id)
    cond.check_not_modified(institution.version)
    return read_versioned(InstitutionRead, institution, response)


@router.patch(
    "/institutions/{institution_id}",
    responses=problems(404, 409, 412),
)
async def update_institution(
    session: SessionDep,
    principal: CurrentPrincipal,
    institution_id: uuid.UUID,
    body: InstitutionUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> InstitutionRead:
    """Change an institution; `If-Match` (its ETag) is required."""
    institution = await service.update_institution(session, principal, institution_id, body, cond)
    return read_versioned(InstitutionRead, institution, response)


@router.delete(
    "/institutions/{institution_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(404, 409, 412),
)
async def delete_institution(
    session: SessionDep,
    principal: CurrentPrincipal,
    institution_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Delete an institution that nothing refers to any more (409 otherwise)."""
    await service.delete_institution(session, principal, institution_id, cond)


@router.get(
    "/institutions/{institution_id}/units",
    responses=problems(400, 404),
)
async def list_units(
    session: SessionDep,
    institution_id: uuid.UUID,
    page: PageDep,
    parent_unit_id: Annotated[
        uuid.UUID | None, Query(description="Only the direct sub-units of this unit.")
    ] = None,
    top_level: Annotated[
        bool | None, Query(description="true: only units with no parent; false: only sub-units.")
    ] = None,
    q: Annotated[
        SearchText,
        Query(description="Name contains." + BLANK_SEARCH),
    ] = None,
    sort: UnitSort = UnitSort.name,
) -> UnitPage:
    """List an institution's public-service units."""
    filters = UnitFilter(parent_unit_id=parent_unit_id, top_level=top_level, q=q)
    result = await service.list_units(session, institution_id, filters, sort, page)
    return UnitPage.model_validate(result, from_attributes=True)


@router.post(
    "/institutions/{institution_id}/units",
    status_code=status.HTTP_201_CREATED,
    responses=problems(404, 409),
)
async def create_unit(
    session: SessionDep,
    principal: CurrentPrincipal,
    institution_id: uuid.UUID,
    body: UnitCreate,
    response: Response,
) -> UnitRead:
    """Add a unit to an institution, optionally under one of its units."""
    unit = await service.create_unit(session, principal, institution_id, body)
    created = read_versioned(UnitRead, unit, response)
    response.headers["Location"] = f"/v1/units/{unit.id}"
    return created


@router.get(
    "/units/{unit_id}",
    responses={**problems(404), **not_modified()},
)
async def get_unit(
    session: SessionDep, unit_id: uuid.UUID, response: Response, cond: IfNoneMatchDep
) -> UnitRead:
    """Get one unit."""
    unit = await service.get_unit(session, unit_id)
    cond.check_not_modified(unit.version)
    return read_versioned(UnitRead, unit, response)


@router.patch("/units/{unit_id}", responses=problems(404, 409, 412))
async def update_unit(
    session: SessionDep,
    principal: CurrentPrincipal,
    unit_id: uuid.UUID,
    body: UnitUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> UnitRead:
    """Rename or move a unit inside its institution (never under itself or its sub-units)."""
    unit = await service.update_unit(session, principal, unit_id, body, cond)
    return read_versioned(UnitRead, unit, response)


@router.delete(
    "/units/{unit_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(404, 409, 412),
)
async def delete_unit(
    session: SessionDep, principal: CurrentPrincipal, unit_id: uuid.UUID, cond: IfMatchRequiredDep
) -> None:
    """Delete a unit with no sub-units and nothing referring to it (409 otherwise)."""
    await service.delete_unit(session, principal, unit_id, cond)
