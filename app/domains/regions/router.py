from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.core.openapi import problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.query import BLANK_SEARCH, SearchText
from app.db.session import SessionDep
from app.domains.regions import service
from app.domains.regions.schemas import RegionCode, RegionFilter, RegionPage, RegionRead, RegionSort

router = APIRouter(prefix="/regions", tags=["regions"], route_class=PolicyRoute)


@router.get("", responses=problems(400))
async def list_regions(
    session: SessionDep,
    page: PageDep,
    level: Annotated[
        int | None, Query(ge=1, le=2, description="1 provinces, 2 regencies/cities.")
    ] = None,
    parent_code: Annotated[RegionCode | None, Query(description="Children of this region.")] = None,
    q: Annotated[
        SearchText,
        Query(description="Name contains." + BLANK_SEARCH),
    ] = None,
    sort: RegionSort = RegionSort.code,
) -> RegionPage:
    """List Kemendagri regions (provinces, regencies and cities)."""
    filters = RegionFilter(level=level, parent_code=parent_code, q=q)
    result = await service.list_regions(session, filters, sort, page)
    return RegionPage.model_validate(result, from_attributes=True)


@router.get("/{code}", responses=problems(404))
async def get_region(
    session: SessionDep, code: Annotated[str, Path(max_length=13, examples=["12.71"])]
) -> RegionRead:
    """Get one region by its dotted Kemendagri code."""
    return RegionRead.model_validate(await service.get_region(session, code))
