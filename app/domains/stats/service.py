"""Statistics of the public record (published innovations, public hubs), whoever asks."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import invalid_parameter
from app.domains.innovations.repository import PUBLISHED_ONLY, InnovationRepository
from app.domains.innovations.schemas import InnovationFilter
from app.domains.innovations.service import check_filters, scoped_filters
from app.domains.stats.replication_repository import (
    ReplicationStatsFilter,
    ReplicationStatsRepository,
)
from app.domains.stats.repository import HubStatsRepository
from app.domains.stats.schemas import (
    HubActivityCount,
    HubCoverage,
    HubMaturity,
    HubStats,
    HubStatsItem,
    InnovationStats,
    ReplicationFigures,
    ReplicationGroup,
    ReplicationGroupBy,
    ReplicationStats,
    StatsCount,
    StatsGroupBy,
    StatsOverview,
    TopReplicated,
)
from app.models.enums import HubKind

_DIMENSION = {
    StatsGroupBy.year: "year_started",
    StatsGroupBy.province: "province",
    StatsGroupBy.institution_kind: "institution_kind",
    StatsGroupBy.sdg: "sdg",
    StatsGroupBy.category: "category",
    StatsGroupBy.stage: "stage",
}
# Groups shown in their natural order (a time series, goals 1-17) rather than by count.
_ORDERED = {StatsGroupBy.year, StatsGroupBy.sdg}


async def overview(session: AsyncSession, filters: InnovationFilter) -> StatsOverview:
    check_filters(filters)
    filters = await scoped_filters(session, None, filters)
    counts = await InnovationRepository(session).group_counts(
        filters, PUBLISHED_ONLY, ("is_digital", "stage")
    )
    total = counts.total
    digital = sum(c for value, _, c in counts.by["is_digital"] if value == "true")
    return StatsOverview(
        published_innovations=total,
        institutions=counts.institutions,
        digital_innovations=digital,
        digital_share=round(digital / total, 4) if total else 0.0,
        by_stage=[StatsCount(key=v, label=label, count=c) for v, label, c in counts.by["stage"]],
    )


async def innovation_stats(
    session: AsyncSession, filters: InnovationFilter, group_by: StatsGroupBy
) -> InnovationStats:
    check_filters(filters)
    filters = await scoped_filters(session, None, filters)
    dimension = _DIMENSION[group_by]
    counts = await InnovationRepository(session).group_counts(filters, PUBLISHED_ONLY, (dimension,))
    total = counts.total
    values = counts.by[dimension]
    if group_by in _ORDERED:
        values = sorted(values, key=lambda item: int(item[0]))
    return InnovationStats(
        group_by=group_by,
        total=total,
        items=[StatsCount(key=v, label=label, count=c) for v, label, c in values],
    )


async def hub_stats(session: AsyncSession, kind: HubKind | None) -> HubStats:
    """Per public hub: current members, published activities per year and kind, the members'
    published innovations and the latest verified maturity score; and national coverage."""
    figures = await HubStatsRepository(session).figures(kind)
    return HubStats(
        hubs=[
            HubStatsItem(
                hub_id=hub.id,
                name=hub.name,
                kind=hub.kind,
                status=hub.status,
                is_pilot=hub.is_pilot,
                designation_year=hub.designation_year,
                province_code=hub.province_code,
                members=hub.members,
                member_institutions=hub.member_institutions,
                activities_total=sum(count for _, _, count in hub.activities),
                activities=[
                    HubActivityCount(year=year, kind=activity_kind, count=count)
                    for year, activity_kind, count in hub.activities
                ],
                member_innovations=hub.member_innovations,
                latest_maturity=(
                    HubMaturity(
                        assessment_id=hub.maturity[0],
                        period_year=hub.maturity[1],
                        total_score=float(hub.maturity[2]),
                    )
                    if hub.maturity
                    else None
                ),
            )
            for hub in figures.hubs
        ],
        coverage=HubCoverage(
            provinces=figures.provinces,
            provinces_with_active_hub=len(figures.active_provinces),
            province_codes=figures.active_provinces,
            active_regional_hubs=figures.active_by_kind.get(HubKind.regional, 0),
            active_central_hubs=figures.active_by_kind.get(HubKind.central, 0),
        ),
    )


async def replication_stats(
    session: AsyncSession, filters: ReplicationStatsFilter, group_by: ReplicationGroupBy | None
) -> ReplicationStats:
    """ "N innovations replicated by M institutions", its award-winning share, the median time
    to implementation, optional groups and the most replicated sources."""
    if (
        filters.year_from is not None
        and filters.year_to is not None
        and filters.year_from > filters.year_to
    ):
        raise invalid_parameter(
            "stats.year_range", "year_from", "year_from is after year_to: no year is in range."
        )
    repo = ReplicationStatsRepository(session)
    sources, adopters, count, median = await repo.totals(filters)
    awarded = await repo.totals(replace(filters, award_winning=True))
    groups: list[ReplicationGroup] = []
    if group_by is not None:
        rows = await repo.groups(filters, group_by)
        if group_by is ReplicationGroupBy.year:
            rows.sort(key=lambda r: r[0])
        else:
            rows.sort(key=lambda r: (-r[4], -r[2], r[0]))
        groups = [
            ReplicationGroup(
                key=key,
                label=label,
                replicated_innovations=s,
                adopter_institutions=a,
                replications=c,
            )
            for key, label, s, a, c in rows
        ]
    return ReplicationStats(
        replicated_innovations=sources,
        adopter_institutions=adopters,
        replications=count,
        award_winning=ReplicationFigures(
            replicated_innovations=awarded[0],
            adopter_institutions=awarded[1],
            replications=awarded[2],
        ),
        median_days_to_implementation=median,
        group_by=group_by,
        groups=groups,
        top_innovations=[TopReplicated.model_validate(dict(r)) for r in await repo.top(filters)],
    )
