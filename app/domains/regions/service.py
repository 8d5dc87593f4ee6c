from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.pagination import PageRequest
from app.db.repository import PageResult
from app.domains.regions.repository import RegionRepository
from app.domains.regions.schemas import RegionFilter, RegionSort
from app.models.regions import Region


async def list_regions(
    session: AsyncSession, filters: RegionFilter, sort: RegionSort, page: PageRequest
) -> PageResult[Region]:
    return await RegionRepository(session).list(filters, sort, page)


async def get_region(session: AsyncSession, code: str) -> Region:
    region = await RegionRepository(session).get(code)
    if region is None:
        raise NotFound("region.not_found", f"No region has the code {code}.")
    return region
