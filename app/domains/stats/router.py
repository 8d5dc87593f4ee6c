from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.openapi import problems
from app.core.policies import PolicyRoute
from app.core.security import MaybePrincipal
from app.db.replica import PublicSessionDep
from app.domains.innovations.router import CatalogueFilters
from app.domains.regions.schemas import REGION_CODE_PATTERN
from app.domains.stats import funnel, service
from app.domains.stats.funnel import CompetitionFunnel, FunnelBy
from app.domains.stats.replication_repository import ReplicationStatsFilter
from app.domains.stats.schemas import (
    HubStats,
    InnovationStats,
    ReplicationGroupBy,
    ReplicationStats,
    StatsGroupBy,
    StatsOverview,
)
from app.models.enums import HubKind

router = APIRouter(tags=["stats"], route_class=PolicyRoute)


@router.get("/stats/overview", responses=problems(422))
async def get_stats_overview(session: PublicSessionDep, filters: CatalogueFilters) -> StatsOverview:
    """Published innovations, institutions with at least one, digital share, and by stage."""
    return await service.overview(session, filters)


@router.get("/stats/innovations", responses=problems(422))
async def get_innovation_stats(
    session: PublicSessionDep,
    filters: CatalogueFilters,
    group_by: Annotated[StatsGroupBy, Query(description="What to count by.")],
) -> InnovationStats:
    """Published innovations counted by year, province, institution kind, SDG or category."""
    return await service.innovation_stats(session, filters, group_by)


@router.get("/stats/hubs", responses=problems(422))
async def get_hub_stats(
    session: PublicSessionDep,
    kind: Annotated[HubKind | None, Query(description="Only hubs of this kind.")] = None,
) -> HubStats:
    """Per public hub: current members, published activities per year and kind, the members'
    published innovations and the latest verified maturity score; national coverage
    (provinces with an active regional hub)."""
    return await service.hub_stats(session, kind)


@router.get("/stats/replications", responses=problems(422))
async def get_replication_stats(
    session: PublicSessionDep,
    group_by: Annotated[
        ReplicationGroupBy | None, Query(description="Also count by this (default: no groups).")
    ] = None,
    year_from: Annotated[
        int | None, Query(ge=1945, le=2100, description="Implemented in or after this year.")
    ] = None,
    year_to: Annotated[
        int | None, Query(ge=1945, le=2100, description="Implemented in or before this year.")
    ] = None,
    province: Annotated[
        str | None,
        Query(
            max_length=13,
            pattern=REGION_CODE_PATTERN,
            description="The adopter institution's region (a province matches everything in it).",
        ),
    ] = None,
    award_winning: Annotated[bool, Query(description="Only sources that hold an award.")] = False,
) -> ReplicationStats:
    """ "N innovations replicated by M institutions" (distinct sources and adopter institutions
    over replications that reached implementation), the award-winning share, the median days
    from request to implementation, groups, and the most replicated innovations."""
    filters = ReplicationStatsFilter(
        year_from=year_from, year_to=year_to, province=province, award_winning=award_winning
    )
    return await service.replication_stats(session, filters, group_by)


@router.get("/stats/competitions/{competition_id}/funnel", responses=problems(403, 404))
async def get_competition_funnel(
    session: PublicSessionDep,
    principal: MaybePrincipal,
    competition_id: uuid.UUID,
    by: Annotated[
        FunnelBy | None, Query(description="Also count by group, institution kind or province.")
    ] = None,
) -> CompetitionFunnel:
    """The edition's funnel: drafts, submitted, screened in and out, per closed round advanced
    and eliminated, disqualified, and each final tier; public once its results are published
    (before that, whoever runs it)."""
    return await funnel.funnel(session, principal, competition_id, by)
