from __future__ import annotations

import inspect
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.core.concurrency import (
    IF_NONE_MATCH_DESCRIPTION,
    IfMatchDep,
    IfMatchRequiredDep,
    IfNoneMatchDep,
    Preconditions,
    etag,
    read_versioned,
    versioned,
)
from app.core.headers import request_header
from app.core.openapi import not_modified, problems
from app.core.pagination import PageDep, page_request
from app.core.policies import PolicyRoute
from app.core.query import BLANK_SEARCH, LongSearchText, QueryParameters
from app.core.security import CurrentPrincipal, MaybePrincipal, principal_of
from app.db.replica import PublicSessionDep, PublicStreamSessionDep, public_reader_of
from app.db.session import SessionDep
from app.domains.innovations import export, service
from app.domains.innovations.schemas import (
    CATEGORY_CODE_PATTERN,
    FacetCount,
    InnovationCategoryCreate,
    InnovationCategoryPage,
    InnovationCategoryRead,
    InnovationCategoryUpdate,
    InnovationCreate,
    InnovationFacets,
    InnovationFilter,
    InnovationPage,
    InnovationRead,
    InnovationSort,
    InnovationSummary,
    InnovationUpdate,
)
from app.domains.innovations.service import InnovationAction
from app.domains.regions.schemas import REGION_CODE_PATTERN
from app.models.enums import InnovationStage, InnovationStatus, InstitutionKind

router = APIRouter(tags=["innovations"], route_class=PolicyRoute)

CategoryCodePath = Annotated[str, Path(pattern=CATEGORY_CODE_PATTERN)]


async def catalogue_filters(
    q: Annotated[
        LongSearchText,
        Query(
            description="Search title, acronym expansion and sections (Indonesian full text), "
            "tolerating typos and acronyms in any case." + BLANK_SEARCH,
        ),
    ] = None,
    year_from: Annotated[
        int | None, Query(ge=1945, le=2100, description="Started in or after this year.")
    ] = None,
    year_to: Annotated[
        int | None, Query(ge=1945, le=2100, description="Started in or before this year.")
    ] = None,
    region: Annotated[
        str | None,
        Query(
            pattern=REGION_CODE_PATTERN,
            description="The owner institution's region; a province matches everything in it.",
        ),
    ] = None,
    institution_id: Annotated[uuid.UUID | None, Query()] = None,
    unit_id: Annotated[uuid.UUID | None, Query()] = None,
    institution_kind: Annotated[
        list[InstitutionKind] | None, Query(description="Any of these kinds.")
    ] = None,
    is_digital: Annotated[bool | None, Query()] = None,
    stage: Annotated[list[InnovationStage] | None, Query(description="Any of these.")] = None,
    sdg: Annotated[
        list[Annotated[int, Query(ge=1, le=17)]] | None,
        Query(description="Any of these SDG goals (1-17).", max_length=17),
    ] = None,
    category: Annotated[
        list[Annotated[str, Query(pattern=CATEGORY_CODE_PATTERN)]] | None,
        Query(description="Any of these category codes.", max_length=50),
    ] = None,
    has_award: Annotated[
        bool | None, Query(description="Holds an award (true) or none (false).")
    ] = None,
    award_tier: Annotated[
        list[Annotated[str, Query(pattern=r"^[a-z0-9_]{1,30}$")]] | None,
        Query(description="Holds an award of any of these tiers (`top_45`, ...).", max_length=20),
    ] = None,
    award_year: Annotated[
        list[Annotated[int, Query(ge=2000, le=2100)]] | None,
        Query(description="Holds an award of any of these years.", max_length=20),
    ] = None,
    replicated: Annotated[
        bool | None,
        Query(
            description="Some institution implemented a replication of it (true), or none did "
            "(false)."
        ),
    ] = None,
    similar_to: Annotated[
        uuid.UUID | None,
        Query(
            description="Only the published innovations most alike this one (at most 200, "
            "without the caller's institution's; README: \"How similarity is computed\"); "
            "`relevance` then sorts by similarity."
        ),
    ] = None,
) -> InnovationFilter:
    return InnovationFilter(
        q=q,
        year_from=year_from,
        year_to=year_to,
        region=region,
        institution_id=institution_id,
        unit_id=unit_id,
        institution_kind=institution_kind or [],
        is_digital=is_digital,
        stage=stage or [],
        sdg=sdg or [],
        category=category or [],
        similar_to=similar_to,
        has_award=has_award,
        award_tier=award_tier or [],
        award_year=award_year or [],
        replicated=replicated,
    )


CatalogueFilters = Annotated[InnovationFilter, Depends(catalogue_filters)]
StatusFilter = Annotated[
    list[InnovationStatus] | None,
    Query(description="Any of these; callers see drafts and archived records of their own scope."),
]
SortParam = Annotated[
    InnovationSort | None,
    Query(
        description="Default: `relevance` with `q` or `similar_to`, else `-created_at` (newest "
        "first)."
    ),
]


def _sort(sort: InnovationSort | None, filters: InnovationFilter) -> InnovationSort:
    if sort is not None:
        return sort
    searching = filters.q or filters.similar_to is not None
    return InnovationSort.relevance if searching else InnovationSort.newest


def _record(row: Mapping[Any, Any], response: Response) -> InnovationRead:
    """The whole record as a response, with its version as the ETag."""
    record = InnovationRead.model_validate(dict(row))
    return versioned(response, record, record)


def _with_status(
    filters: InnovationFilter, statuses: list[InnovationStatus] | None
) -> InnovationFilter:
    return filters.model_copy(update={"status": statuses or []})


# The busiest route reads its path parameter and header from the request itself: FastAPI would
# solve the path, query, header and cookie parameters of a signature on every request (about a
# sixth of a get's cost, bench/README.md). The `:uuid` convertor already matches only UUIDs,
# and the parameters are documented here exactly as FastAPI documented them (`make
# openapi-check` compares with openapi.json, which this copy wrote: change both together).
_GET_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "innovation_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid", "title": "Innovation Id"},
    },
    {
        "name": "if-none-match",
        "in": "header",
        "required": False,
        "schema": {
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": IF_NONE_MATCH_DESCRIPTION,
            "title": "If-None-Match",
        },
        "description": IF_NONE_MATCH_DESCRIPTION,
    },
]
_serialize_read = InnovationRead.__pydantic_serializer__.to_json


# First: the busiest route, and routes are matched in order (bench/README.md).
@router.get(
    "/innovations/{innovation_id:uuid}",
    response_model=InnovationRead,
    responses={**problems(404, 422), **not_modified()},
    openapi_extra={"parameters": _GET_PARAMETERS},
)
async def get_innovation(request: Request) -> Response:
    """Get one innovation; drafts and archived ones only within the caller's scope."""
    innovation_id: uuid.UUID = request.path_params["innovation_id"]
    row = await service.get_innovation(
        public_reader_of(request), principal_of(request), innovation_id
    )
    if_none_match = request_header(request, b"if-none-match")
    Preconditions(None, if_none_match).check_not_modified(row["version"])
    # Validated once and written as JSON here: FastAPI would validate the record a second time.
    return Response(
        _serialize_read(InnovationRead.model_validate(dict(row))),
        media_type="application/json",
        headers={"ETag": etag(row["version"])},
    )


async def _list_signature(
    page: PageDep,
    filters: CatalogueFilters,
    status_: Annotated[StatusFilter, Query(alias="status")] = None,
    sort: SortParam = None,
) -> None:
    """The list's parameters as documented (and as its runtime model reads them)."""


async def _list_extras(
    status_: Annotated[StatusFilter, Query(alias="status")] = None, sort: SortParam = None
) -> None:
    """The list's own parameters, beside the catalogue filters and the page."""


# The list reads its query as one model: FastAPI solving its 21 parameters one by one cost more
# than its query (app/core/query.py, bench/README.md).
_LIST_QUERY = QueryParameters(
    "InnovationListQuery", [page_request, catalogue_filters, _list_extras], _list_signature
)
_FILTER_NAMES = tuple(inspect.signature(catalogue_filters).parameters)


@router.get(
    "/innovations",
    responses=problems(400, 422),
    openapi_extra={"parameters": _LIST_QUERY.documented},
)
async def list_innovations(
    request: Request, session: PublicSessionDep, principal: MaybePrincipal
) -> InnovationPage:
    """Browse and search the catalogue: published innovations, plus the caller's own drafts."""
    query = _LIST_QUERY.parse(request)
    page = await page_request(
        request, limit=query["limit"], cursor=query["cursor"], include_total=query["include_total"]
    )
    filters = await catalogue_filters(**{name: query[name] for name in _FILTER_NAMES})
    filters = _with_status(filters, query["status_"])
    result, snippets = await service.list_innovations(
        session, principal, filters, _sort(query["sort"], filters), page
    )
    items = [
        InnovationSummary.model_validate({**row, "snippet": snippets.get(row["id"])})
        for row in result.items
    ]
    return InnovationPage(
        items=items, next_cursor=result.next_cursor, has_more=result.has_more, total=result.total
    )


@router.get("/innovations/facets", responses=problems(422))
async def get_innovation_facets(
    request: Request,
    session: PublicSessionDep,
    principal: MaybePrincipal,
    filters: CatalogueFilters,
    status_: Annotated[StatusFilter, Query(alias="status")] = None,
) -> InnovationFacets:
    """Counts per value of each facet under the list's filters, for a filter sidebar."""
    filters = _with_status(filters, status_)
    counts = await service.innovation_facets(
        session, principal, filters, request.app.state.public_facets
    )
    return InnovationFacets(
        total=counts.total,
        **{
            name: [FacetCount(value=v, label=label, count=c) for v, label, c in values]
            for name, values in counts.by.items()
        },
    )


@router.get(
    "/innovations/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The filtered list as CSV; columns as documented in the README.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problems(422),
    },
)
async def export_innovations(
    session: PublicStreamSessionDep,
    principal: MaybePrincipal,
    filters: CatalogueFilters,
    status_: Annotated[StatusFilter, Query(alias="status")] = None,
    sort: SortParam = None,
) -> StreamingResponse:
    """The filtered list as one CSV file (UTF-8, header row), streamed however long it is."""
    filters = _with_status(filters, status_)
    rows = await service.export_rows(session, principal, filters, _sort(sort, filters))
    return StreamingResponse(
        export.csv_chunks(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="innovations.csv"'},
    )


@router.post("/innovations", status_code=status.HTTP_201_CREATED, responses=problems(403, 409))
async def create_innovation(
    session: SessionDep, principal: CurrentPrincipal, body: InnovationCreate, response: Response
) -> InnovationRead:
    """Write a new innovation as a draft of a unit the caller writes for."""
    row = await service.create_innovation(session, principal, body)
    response.headers["Location"] = f"/v1/innovations/{row['id']}"
    return _record(row, response)


@router.patch("/innovations/{innovation_id:uuid}", responses=problems(403, 404, 409, 412))
async def update_innovation(
    session: SessionDep,
    principal: CurrentPrincipal,
    innovation_id: uuid.UUID,
    body: InnovationUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> InnovationRead:
    """Change an innovation; `If-Match` (its ETag) is required."""
    row = await service.update_innovation(session, principal, innovation_id, body, cond)
    return _record(row, response)


@router.delete(
    "/innovations/{innovation_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409, 412),
)
async def delete_innovation(
    session: SessionDep,
    principal: CurrentPrincipal,
    innovation_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Delete a draft (a published innovation is archived instead: 409)."""
    await service.delete_innovation(session, principal, innovation_id, cond)


@router.post("/innovations/{innovation_id:uuid}/publish", responses=problems(403, 404, 409, 412))
async def publish_innovation(
    session: SessionDep,
    principal: CurrentPrincipal,
    innovation_id: uuid.UUID,
    response: Response,
    cond: IfMatchDep,
) -> InnovationRead:
    """Publish a draft; 422 listing what is missing (required sections, an SDG, the date)."""
    row = await service.transition_innovation(
        session, principal, innovation_id, InnovationAction.publish, cond
    )
    return _record(row, response)


@router.post("/innovations/{innovation_id:uuid}/archive", responses=problems(403, 404, 409, 412))
async def archive_innovation(
    session: SessionDep,
    principal: CurrentPrincipal,
    innovation_id: uuid.UUID,
    response: Response,
    cond: IfMatchDep,
) -> InnovationRead:
    """Archive a published innovation: it leaves the public catalogue, its owners keep it."""
    row = await service.transition_innovation(
        session, principal, innovation_id, InnovationAction.archive, cond
    )
    return _record(row, response)


# --- the category vocabulary ----------------------------------------------------------------


@router.get("/innovation-categories", responses=problems(400))
async def list_innovation_categories(
    session: PublicSessionDep, page: PageDep
) -> InnovationCategoryPage:
    """The thematic categories innovations are filed under, by code."""
    result = await service.list_categories(session, page)
    return InnovationCategoryPage.model_validate(result, from_attributes=True)


@router.post("/innovation-categories", status_code=status.HTTP_201_CREATED, responses=problems(409))
async def create_innovation_category(
    session: SessionDep,
    principal: CurrentPrincipal,
    body: InnovationCategoryCreate,
    response: Response,
) -> InnovationCategoryRead:
    """Add a category to the vocabulary."""
    category = await service.create_category(session, principal, body)
    read = read_versioned(InnovationCategoryRead, category, response)
    response.headers["Location"] = f"/v1/innovation-categories/{category.code}"
    return read


@router.get("/innovation-categories/{category_code}", responses={**problems(404), **not_modified()})
async def get_innovation_category(
    session: PublicSessionDep,
    category_code: CategoryCodePath,
    response: Response,
    cond: IfNoneMatchDep,
) -> InnovationCategoryRead:
    """Get one category."""
    category = await service.get_category(session, category_code)
    cond.check_not_modified(category.version)
    return read_versioned(InnovationCategoryRead, category, response)


@router.patch("/innovation-categories/{category_code}", responses=problems(404, 412))
async def update_innovation_category(
    session: SessionDep,
    principal: CurrentPrincipal,
    category_code: CategoryCodePath,
    body: InnovationCategoryUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> InnovationCategoryRead:
    """Rename or describe a category (its code never changes)."""
    category = await service.update_category(session, principal, category_code, body, cond)
    return read_versioned(InnovationCategoryRead, category, response)
