"""Competition editions and their structure over HTTP.

The structure's parts (groups, categories, rounds, criteria) share one shape of endpoints:
`_part_routes` registers them from a `PartRoutes` (its kind, schemas, paths, and each
operation's id and description), as if each were written out by hand."""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Path, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import IfMatchDep, IfMatchRequiredDep, IfNoneMatchDep, read_versioned
from app.core.openapi import not_modified, problems
from app.core.pagination import Page, PageDep
from app.core.policies import PolicyRoute
from app.core.schemas import InputModel, ReadModel
from app.core.security import CurrentPrincipal, MaybePrincipal, Principal
from app.db.session import SessionDep
from app.domains.competitions import access, service, structure
from app.domains.competitions.repository import PartT
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
from app.models.enums import CompetitionScope, CompetitionStatus

router = APIRouter(tags=["competitions"], route_class=PolicyRoute)


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
    return read_versioned(CompetitionRead, competition, response)


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
    return read_versioned(CompetitionRead, competition, response)


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
    return read_versioned(CompetitionRead, competition, response)


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
    return read_versioned(CompetitionRead, competition, response)


# --- structure: one shape of endpoints per kind of part --------------------------------------

CreateT = TypeVar("CreateT", bound=InputModel)
Endpoint = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Operation:
    """One route of a part: its operation id (`verb_noun`, what a generated client calls) and
    its description."""

    name: str
    doc: str


@dataclass(frozen=True)
class PartRoutes(Generic[PartT, CreateT]):
    """The endpoints of one kind of part. `collection` is the path of its list and create
    routes (naming its owner: the edition, or a criterion's round); `item` the path of one part
    (naming the owner too, except for a round). `list_op` None: its list is written by hand."""

    kind: structure.PartKind[PartT]
    collection: str
    item: str
    read: type[ReadModel]
    page: type[Page[Any]]
    create_body: type[CreateT]
    update_body: type[InputModel]
    create: Callable[[AsyncSession, Principal, uuid.UUID, CreateT], Awaitable[PartT]]
    list_op: Operation | None
    create_op: Operation
    get_op: Operation
    update_op: Operation
    delete_op: Operation


def _path_parameters(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def _path_id(name: str) -> object:
    """A path parameter `name` holding an id (the endpoint's own parameter keeps its name)."""
    return Annotated[uuid.UUID, Path(alias=name)]


def _endpoint(
    endpoint: Endpoint, operation: Operation, parameters: Mapping[str, object | None]
) -> Endpoint:
    """`endpoint` as FastAPI reads it: named and described as `operation`, and each parameter
    in `parameters` annotated as given there (a part's schema, or its path parameter under the
    path's own name), or left out where None (a round's path names no edition)."""
    signature = inspect.signature(endpoint)
    declared = []
    for parameter in signature.parameters.values():
        if parameter.name not in parameters:
            declared.append(parameter)
        elif (annotation := parameters[parameter.name]) is not None:
            declared.append(parameter.replace(annotation=annotation, default=parameter.empty))
    # What inspect.signature, and so FastAPI, reads instead of the function's own parameters.
    endpoint.__dict__["__signature__"] = signature.replace(parameters=declared)
    endpoint.__name__ = endpoint.__qualname__ = operation.name
    endpoint.__doc__ = operation.doc
    return endpoint


def _part_routes(spec: PartRoutes[PartT, CreateT]) -> None:
    """Register the list (unless written by hand), create, get, update and delete routes of one
    kind of part, in that order (the OpenAPI document lists them so)."""
    kind = spec.kind
    (owner,) = _path_parameters(spec.collection)
    *item_owner, part = _path_parameters(spec.item)
    owner_path = _path_id(owner)
    # A round's own routes name no owner: the service then checks none.
    item = {
        "owner_id": _path_id(item_owner[0]) if item_owner else None,
        "part_id": _path_id(part),
    }

    async def list_parts(
        *, session: SessionDep, principal: MaybePrincipal, owner_id: uuid.UUID, page: PageDep
    ) -> Page[Any]:
        result = await structure.list_parts(session, principal, owner_id, kind, page)
        return spec.page.model_validate(result, from_attributes=True)

    async def create_part(
        *,
        session: SessionDep,
        principal: CurrentPrincipal,
        owner_id: uuid.UUID,
        body: CreateT,
        response: Response,
    ) -> ReadModel:
        created = await spec.create(session, principal, owner_id, body)
        location = spec.item.format_map({owner: owner_id, part: created.id})
        response.headers["Location"] = f"/v1{location}"
        return read_versioned(spec.read, created, response)

    async def get_part(
        *,
        session: SessionDep,
        principal: MaybePrincipal,
        owner_id: uuid.UUID | None = None,
        part_id: uuid.UUID,
        response: Response,
        cond: IfNoneMatchDep,
    ) -> ReadModel:
        found = await structure.get_part(session, principal, kind, part_id, owner_id)
        cond.check_not_modified(found.version)
        return read_versioned(spec.read, found, response)

    async def update_part(
        *,
        session: SessionDep,
        principal: CurrentPrincipal,
        owner_id: uuid.UUID | None = None,
        part_id: uuid.UUID,
        body: InputModel,
        response: Response,
        cond: IfMatchRequiredDep,
    ) -> ReadModel:
        changed = await structure.update_part(
            session, principal, kind, part_id, owner_id, body, cond
        )
        return read_versioned(spec.read, changed, response)

    async def delete_part(
        *,
        session: SessionDep,
        principal: CurrentPrincipal,
        owner_id: uuid.UUID | None = None,
        part_id: uuid.UUID,
        cond: IfMatchRequiredDep,
    ) -> None:
        await structure.delete_part(session, principal, kind, part_id, owner_id, cond)

    if spec.list_op is not None:
        router.add_api_route(
            spec.collection,
            _endpoint(list_parts, spec.list_op, {"owner_id": owner_path}),
            methods=["GET"],
            response_model=spec.page,
            responses=problems(400, 404),
        )
    router.add_api_route(
        spec.collection,
        _endpoint(create_part, spec.create_op, {"owner_id": owner_path, "body": spec.create_body}),
        methods=["POST"],
        response_model=spec.read,
        status_code=status.HTTP_201_CREATED,
        responses=problems(403, 404, 409),
    )
    router.add_api_route(
        spec.item,
        _endpoint(get_part, spec.get_op, item),
        methods=["GET"],
        response_model=spec.read,
        responses={**problems(404), **not_modified()},
    )
    router.add_api_route(
        spec.item,
        _endpoint(update_part, spec.update_op, {**item, "body": spec.update_body}),
        methods=["PATCH"],
        response_model=spec.read,
        responses=problems(403, 404, 409, 412),
    )
    router.add_api_route(
        spec.item,
        _endpoint(delete_part, spec.delete_op, item),
        methods=["DELETE"],
        response_model=None,
        status_code=status.HTTP_204_NO_CONTENT,
        responses=problems(403, 404, 409, 412),
    )


# --- groups ---------------------------------------------------------------------------------

_part_routes(
    PartRoutes(
        kind=structure.GROUP,
        collection="/competitions/{competition_id}/groups",
        item="/competitions/{competition_id}/groups/{group_id}",
        read=GroupRead,
        page=GroupPage,
        create_body=GroupCreate,
        update_body=GroupUpdate,
        create=structure.create_group,
        list_op=Operation(
            "list_competition_groups", "The edition's groups and their entry rules, by code."
        ),
        create_op=Operation(
            "create_competition_group",
            "Add a group with its rules (the edition must be a draft).",
        ),
        get_op=Operation("get_competition_group", "Get one group."),
        update_op=Operation(
            "update_competition_group",
            "Change a group or its rules (the edition must be a draft).",
        ),
        delete_op=Operation(
            "delete_competition_group",
            "Remove a group and its criteria (the edition must be a draft).",
        ),
    )
)

# --- categories -----------------------------------------------------------------------------

_part_routes(
    PartRoutes(
        kind=structure.CATEGORY,
        collection="/competitions/{competition_id}/categories",
        item="/competitions/{competition_id}/categories/{category_id}",
        read=CategoryRead,
        page=CategoryPage,
        create_body=CategoryCreate,
        update_body=CategoryUpdate,
        create=structure.create_category,
        list_op=Operation("list_competition_categories", "The edition's categories, by code."),
        create_op=Operation(
            "create_competition_category", "Add a category (the edition must be a draft)."
        ),
        get_op=Operation("get_competition_category", "Get one category."),
        update_op=Operation(
            "update_competition_category", "Change a category (the edition must be a draft)."
        ),
        delete_op=Operation(
            "delete_competition_category", "Remove a category (the edition must be a draft)."
        ),
    )
)

# --- rounds ---------------------------------------------------------------------------------

_part_routes(
    PartRoutes(
        kind=structure.ROUND,
        collection="/competitions/{competition_id}/rounds",
        item="/rounds/{round_id}",
        read=RoundRead,
        page=RoundPage,
        create_body=RoundCreate,
        update_body=RoundUpdate,
        create=structure.create_round,
        list_op=Operation("list_competition_rounds", "The edition's rounds, in order."),
        create_op=Operation(
            "create_competition_round",
            "Add a round, after the last unless a position is given (the edition must be a draft).",
        ),
        get_op=Operation("get_round", "Get one round."),
        update_op=Operation("update_round", "Change a round (the edition must be a draft)."),
        delete_op=Operation(
            "delete_round", "Remove a round and its criteria (the edition must be a draft)."
        ),
    )
)

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


# Its list is written by hand: it filters by group, which no other part's list does.
_part_routes(
    PartRoutes(
        kind=structure.CRITERION,
        collection="/rounds/{round_id}/criteria",
        item="/rounds/{round_id}/criteria/{criterion_id}",
        read=CriterionRead,
        page=CriterionPage,
        create_body=CriterionCreate,
        update_body=CriterionUpdate,
        create=structure.create_criterion,
        list_op=None,
        create_op=Operation(
            "create_round_criterion", "Add a criterion for one group (the edition must be a draft)."
        ),
        get_op=Operation("get_round_criterion", "Get one criterion."),
        update_op=Operation(
            "update_round_criterion", "Change a criterion (the edition must be a draft)."
        ),
        delete_op=Operation(
            "delete_round_criterion", "Remove a criterion (the edition must be a draft)."
        ),
    )
)
