"""Catalogue statistics: counts of published innovations only, whoever asks."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.domains.innovations.repository import PUBLISHED_ONLY, InnovationRepository
from app.domains.innovations.schemas import InnovationFilter
from app.domains.innovations.service import check_filters
from app.domains.stats.schemas import InnovationStats, StatsCount, StatsGroupBy, StatsOverview

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
