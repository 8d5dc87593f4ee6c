from __future__ import annotations

import uuid
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel

from app.core.concurrency import IfMatchDep, IfMatchRequiredDep, IfNoneMatchDep, etag
from app.core.openapi import not_modified, problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal, MaybePrincipal
from app.db.session import SessionDep
from app.domains.competitions import access, service, structure
from app.domains.competitions.schemas import (
    CategoryCreate,
    CategoryPage,
    CategoryRead,
    CategoryUpdate,
    CompetitionCreate,
    CompetitionFilter,
    CompetitionPage,
    CompetitionRead,
    CompetitionReadiness,
    CompetitionSort,
    CompetitionTransition,
    CompetitionUpdate,
    CriterionCreate,
    CriterionPage,
    CriterionRead,
    CriterionUpdate,
    GroupCreate,
    GroupPage,
    GroupRead,
    GroupUpdate,
    RoundCreate,
    RoundPage,
    RoundRead,
    RoundUpdate,
)
from app.models.competitions import CompetitionCategory, CompetitionGroup, CompetitionRound
from app.models.enums import CompetitionScope, CompetitionStatus

router = APIRouter(tags=["competitions"], route_class=PolicyRoute)

R = TypeVar("R", bound=BaseModel)


def _read(schema: type[R], record: Any, response: Response) -> R:
    response.headers["ETag"] = etag(record.version)
    return schema.model_validate(record)


# --- editions -------------------------------------------------------------------------------


@router.get("/competitions", responses=problems(400))
async def list_competitions(
    session: SessionDep,
    principal: MaybePrincipal,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    scope: Annotated[list[CompetitionScope] | None, Query(description="Any of these.")] = None,
    status_: Annotated[
        list[CompetitionStatus] | None,
        Query(alias="status", description="Any of these; drafts only within the caller's reach."),
    ] = None,
    hub_id: Annotated[uuid.UUID | None, Query(description="Run by this hub.")] = None,
    sort: CompetitionSort = CompetitionSort.year_desc,
) -> CompetitionPage:
    """List competition editions: the public sees every edition past its draft."""
    filters = CompetitionFilter(year=year, scope=scope or [], status=status_ or [], hub_id=hub_id)
    result = await service.list_competitions(session, principal, filters, sort, page)
    return CompetitionPage.model_validate(result, from_attributes=True)


@router.post("/competitions", status_code=status.HTTP_201_CREATED, responses=problems(403, 409))
async def create_competition(
    session: SessionDep, principal: CurrentPrincipal, body: CompetitionCreate, response: Response
) -> CompetitionRead:
    """Create an edition as a draft; its rules and structure are added while it is one."""
    competition = await service.create_competition(session, principal, body)
    response.headers["Location"] = f"/v1/competitions/{competition.id}"
    return _read(CompetitionRead, competition, response)


@router.get("/competitions/{competition_id}", responses={**problems(404), **not_modified()})
async def get_competition(
    session: SessionDep,
    principal: MaybePrincipal,
    competition_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> CompetitionRead:
    """Get one edition; a draft only within the caller's reach."""
    competition = await access.get_competition(session, principal, competition_id)
    cond.check_not_modified(competition.version)
    return _read(CompetitionRead, competition, response)


@router.patch("/competitions/{competition_id}", responses=problems(403, 404, 409, 412))
async def update_competition(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    body: CompetitionUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> CompetitionRead:
    """Change an edition: anything while it is a draft; later its name, theme and legal basis
    (and while registration is open, its deadline)."""
    competition = await service.update_competition(session, principal, competition_id, body, cond)
    return _read(CompetitionRead, competition, response)


@router.delete(
    "/competitions/{competition_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409, 412),
)
async def delete_competition(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Delete a draft edition with its structure; a later one is cancelled instead (409)."""
    await service.delete_competition(session, principal, competition_id, cond)


@router.get("/competitions/{competition_id}/readiness", responses=problems(403, 404))
async def get_competition_readiness(
    session: SessionDep, principal: CurrentPrincipal, competition_id: uuid.UUID
) -> CompetitionReadiness:
    """What still stops registration from opening: the checks `open_registration` makes."""
    competition = await access.get_competition(session, principal, competition_id)
    if not access.runs(principal, competition):
        raise access.out_of_scope()
    found = await service.readiness_problems(session, competition)
    return CompetitionReadiness.model_validate({"ready": not found, "problems": found})


@router.post("/competitions/{competition_id}/transitions", responses=problems(403, 404, 409, 412))
async def transition_competition(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    body: CompetitionTransition,
    response: Response,
    cond: IfMatchDep,
) -> CompetitionRead:
    """Move an edition one step: open registration (409 listing every problem of its
    structure), close registration, start evaluation, publish results, close; or cancel it,
    with a reason, before results. A step the machine does not allow is a 409 naming the
    allowed ones."""
    competition = await service.transition_competition(
        session, principal, competition_id, body, cond
    )
    return _read(CompetitionRead, competition, response)


# --- groups ---------------------------------------------------------------------------------


@router.get("/competitions/{competition_id}/groups", responses=problems(400, 404))
async def list_competition_groups(
    session: SessionDep, principal: MaybePrincipal, competition_id: uuid.UUID, page: PageDep
) -> GroupPage:
    """The edition's groups and their entry rules, by code."""
    result = await structure.list_parts(session, principal, competition_id, CompetitionGroup, page)
    return GroupPage.model_validate(result, from_attributes=True)


@router.post(
    "/competitions/{competition_id}/groups",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404, 409),
)
async def create_competition_group(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    body: GroupCreate,
    response: Response,
) -> GroupRead:
    """Add a group with its rules (the edition must be a draft)."""
    group = await structure.create_group(session, principal, competition_id, body)
    response.headers["Location"] = f"/v1/competitions/{competition_id}/groups/{group.id}"
    return _read(GroupRead, group, response)


@router.get(
    "/competitions/{competition_id}/groups/{group_id}",
    responses={**problems(404), **not_modified()},
)
async def get_competition_group(
    session: SessionDep,
    principal: MaybePrincipal,
    competition_id: uuid.UUID,
    group_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> GroupRead:
    """Get one group."""
    group = await structure.get_part(session, principal, structure.GROUP, group_id, competition_id)
    cond.check_not_modified(group.version)
    return _read(GroupRead, group, response)


@router.patch(
    "/competitions/{competition_id}/groups/{group_id}", responses=problems(403, 404, 409, 412)
)
async def update_competition_group(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    group_id: uuid.UUID,
    body: GroupUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> GroupRead:
    """Change a group or its rules (the edition must be a draft)."""
    group = await structure.update_part(
        session, principal, structure.GROUP, group_id, competition_id, body, cond
    )
    return _read(GroupRead, group, response)


@router.delete(
    "/competitions/{competition_id}/groups/{group_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409, 412),
)
async def delete_competition_group(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    group_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Remove a group and its criteria (the edition must be a draft)."""
    await structure.delete_part(session, principal, structure.GROUP, group_id, competition_id, cond)


# --- categories -----------------------------------------------------------------------------


@router.get("/competitions/{competition_id}/categories", responses=problems(400, 404))
async def list_competition_categories(
    session: SessionDep, principal: MaybePrincipal, competition_id: uuid.UUID, page: PageDep
) -> CategoryPage:
    """The edition's categories, by code."""
    result = await structure.list_parts(
        session, principal, competition_id, CompetitionCategory, page
    )
    return CategoryPage.model_validate(result, from_attributes=True)


@router.post(
    "/competitions/{competition_id}/categories",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404, 409),
)
async def create_competition_category(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    body: CategoryCreate,
    response: Response,
) -> CategoryRead:
    """Add a category (the edition must be a draft)."""
    category = await structure.create_category(session, principal, competition_id, body)
    response.headers["Location"] = f"/v1/competitions/{competition_id}/categories/{category.id}"
    return _read(CategoryRead, category, response)


@router.get(
    "/competitions/{competition_id}/categories/{category_id}",
    responses={**problems(404), **not_modified()},
)
async def get_competition_category(
    session: SessionDep,
    principal: MaybePrincipal,
    competition_id: uuid.UUID,
    category_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> CategoryRead:
    """Get one category."""
    category = await structure.get_part(
        session, principal, structure.CATEGORY, category_id, competition_id
    )
    cond.check_not_modified(category.version)
    return _read(CategoryRead, category, response)


@router.patch(
    "/competitions/{competition_id}/categories/{category_id}",
    responses=problems(403, 404, 409, 412),
)
async def update_competition_category(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    category_id: uuid.UUID,
    body: CategoryUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> CategoryRead:
    """Change a category (the edition must be a draft)."""
    category = await structure.update_part(
        session, principal, structure.CATEGORY, category_id, competition_id, body, cond
    )
    return _read(CategoryRead, category, response)


@router.delete(
    "/competitions/{competition_id}/categories/{category_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409, 412),
)
async def delete_competition_category(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    category_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Remove a category (the edition must be a draft)."""
    await structure.delete_part(
        session, principal, structure.CATEGORY, category_id, competition_id, cond
    )


# --- rounds ---------------------------------------------------------------------------------


@router.get("/competitions/{competition_id}/rounds", responses=problems(400, 404))
async def list_competition_rounds(
    session: SessionDep, principal: MaybePrincipal, competition_id: uuid.UUID, page: PageDep
) -> RoundPage:
    """The edition's rounds, in order."""
    result = await structure.list_parts(session, principal, competition_id, CompetitionRound, page)
    return RoundPage.model_validate(result, from_attributes=True)


@router.post(
    "/competitions/{competition_id}/rounds",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404, 409),
)
async def create_competition_round(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    body: RoundCreate,
    response: Response,
) -> RoundRead:
    """Add a round, after the last unless a position is given (the edition must be a draft)."""
    round_ = await structure.create_round(session, principal, competition_id, body)
    response.headers["Location"] = f"/v1/rounds/{round_.id}"
    return _read(RoundRead, round_, response)


@router.get("/rounds/{round_id}", responses={**problems(404), **not_modified()})
async def get_round(
    session: SessionDep,
    principal: MaybePrincipal,
    round_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> RoundRead:
    """Get one round."""
    round_ = await structure.get_part(session, principal, structure.ROUND, round_id)
    cond.check_not_modified(round_.version)
    return _read(RoundRead, round_, response)


@router.patch("/rounds/{round_id}", responses=problems(403, 404, 409, 412))
async def update_round(
    session: SessionDep,
    principal: CurrentPrincipal,
    round_id: uuid.UUID,
    body: RoundUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> RoundRead:
    """Change a round (the edition must be a draft)."""
    round_ = await structure.update_part(
        session, principal, structure.ROUND, round_id, None, body, cond
    )
    return _read(RoundRead, round_, response)


@router.delete(
    "/rounds/{round_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409, 412),
)
async def delete_round(
    session: SessionDep, principal: CurrentPrincipal, round_id: uuid.UUID, cond: IfMatchRequiredDep
) -> None:
    """Remove a round and its criteria (the edition must be a draft)."""
    await structure.delete_part(session, principal, structure.ROUND, round_id, None, cond)


# --- criteria -------------------------------------------------------------------------------


@router.get("/rounds/{round_id}/criteria", responses=problems(400, 404))
async def list_round_criteria(
    session: SessionDep,
    principal: MaybePrincipal,
    round_id: uuid.UUID,
    page: PageDep,
    group_id: Annotated[uuid.UUID | None, Query(description="One group's criteria.")] = None,
) -> CriterionPage:
    """The round's weighted criteria, by group and position."""
    result = await structure.list_criteria(session, principal, round_id, group_id, page)
    return CriterionPage.model_validate(result, from_attributes=True)


@router.post(
    "/rounds/{round_id}/criteria",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404, 409),
)
async def create_round_criterion(
    session: SessionDep,
    principal: CurrentPrincipal,
    round_id: uuid.UUID,
    body: CriterionCreate,
    response: Response,
) -> CriterionRead:
    """Add a criterion for one group (the edition must be a draft)."""
    criterion = await structure.create_criterion(session, principal, round_id, body)
    response.headers["Location"] = f"/v1/rounds/{round_id}/criteria/{criterion.id}"
    return _read(CriterionRead, criterion, response)


@router.get(
    "/rounds/{round_id}/criteria/{criterion_id}", responses={**problems(404), **not_modified()}
)
async def get_round_criterion(
    session: SessionDep,
    principal: MaybePrincipal,
    round_id: uuid.UUID,
    criterion_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> CriterionRead:
    """Get one criterion."""
    criterion = await structure.get_part(
        session, principal, structure.CRITERION, criterion_id, round_id
    )
    cond.check_not_modified(criterion.version)
    return _read(CriterionRead, criterion, response)


@router.patch("/rounds/{round_id}/criteria/{criterion_id}", responses=problems(403, 404, 409, 412))
async def update_round_criterion(
    session: SessionDep,
    principal: CurrentPrincipal,
    round_id: uuid.UUID,
    criterion_id: uuid.UUID,
    body: CriterionUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> CriterionRead:
    """Change a criterion (the edition must be a draft)."""
    criterion = await structure.update_part(
        session, principal, structure.CRITERION, criterion_id, round_id, body, cond
    )
    return _read(CriterionRead, criterion, response)


@router.delete(
    "/rounds/{round_id}/criteria/{criterion_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409, 412),
)
async def delete_round_criterion(
    session: SessionDep,
    principal: CurrentPrincipal,
    round_id: uuid.UUID,
    criterion_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Remove a criterion (the edition must be a draft)."""
    await structure.delete_part(
        session, principal, structure.CRITERION, criterion_id, round_id, cond
    )
