"""Replication statistics: one grouped query per figure over the replications that reached
implementation (an implementation date) of published sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    RowMapping,
    Select,
    String,
    cast,
    exists,
    extract,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.domains.regions.repository import within
from app.domains.stats.schemas import ReplicationGroupBy
from app.models.enums import InnovationStatus
from app.models.hubs import Hub
from app.models.innovations import Innovation
from app.models.institutions import Institution
from app.models.regions import Region
from app.models.replications import Replication
from app.models.submissions import Award

TOP = 10
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class ReplicationStatsFilter:
    year_from: int | None = None
    year_to: int | None = None
    province: str | None = None
    award_winning: bool = False


_YEAR = cast(extract("year", Replication.implemented_date), Integer)
# Correlated to the replication only: the award-tier groups join `awards` themselves.
_AWARDED = (
    exists().where(Award.innovation_id == Replication.source_innovation_id).correlate(Replication)
)
_DAYS = Replication.implemented_date - Replication.requested_date


def _figures(*extra: Any) -> AnySelect:
    return select(
        *extra,
        func.count(Replication.source_innovation_id.distinct()),
        func.count(Replication.adopter_institution_id.distinct()),
        func.count(Replication.id.distinct()),
    )


class ReplicationStatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _scoped(stmt: AnySelect, filters: ReplicationStatsFilter) -> AnySelect:
        """Replications that reached implementation, of published sources, under the filters
        (the adopter institution is joined for the province)."""
        conditions: list[ColumnElement[bool]] = [
            Replication.implemented_date.is_not(None),
            Replication.source_innovation_id.in_(
                select(Innovation.id).where(Innovation.status == InnovationStatus.published)
            ),
        ]
        if filters.year_from is not None:
            conditions.append(filters.year_from <= _YEAR)
        if filters.year_to is not None:
            conditions.append(filters.year_to >= _YEAR)
        if filters.province:
            conditions.append(within(Institution.region_code, filters.province))
        if filters.award_winning:
            conditions.append(_AWARDED)
        return stmt.join(Institution, Institution.id == Replication.adopter_institution_id).where(
            *conditions
        )

    async def totals(self, filters: ReplicationStatsFilter) -> tuple[int, int, int, float | None]:
        stmt = select(
            func.count(Replication.source_innovation_id.distinct()),
            func.count(Replication.adopter_institution_id.distinct()),
            func.count(Replication.id),
            func.percentile_cont(0.5).within_group(_DAYS),
        ).select_from(Replication)
        row = (await self.session.execute(self._scoped(stmt, filters))).one()
        median = None if row[3] is None else round(float(row[3]), 1)
        return int(row[0]), int(row[1]), int(row[2]), median

    async def groups(
        self, filters: ReplicationStatsFilter, group_by: ReplicationGroupBy
    ) -> list[tuple[str, str | None, int, int, int]]:
        """(key, label, sources, adopter institutions, replications) per group."""
        stmt: AnySelect
        if group_by is ReplicationGroupBy.source_award_tier:
            key: Any = func.coalesce(Award.tier, literal("none"))
            stmt = (
                _figures(key.label("key"), literal(None).label("label"))
                .select_from(Replication)
                .outerjoin(Award, Award.innovation_id == Replication.source_innovation_id)
            )
        elif group_by is ReplicationGroupBy.hub:
            key = func.coalesce(cast(Replication.facilitator_hub_id, String), "none")
            stmt = (
                _figures(key.label("key"), func.min(Hub.name).label("label"))
                .select_from(Replication)
                .outerjoin(Hub, Hub.id == Replication.facilitator_hub_id)
            )
        elif group_by is ReplicationGroupBy.province:
            key = func.coalesce(func.left(Institution.region_code, 2), "none")
            stmt = _figures(key.label("key"), func.min(Region.name).label("label")).select_from(
                Replication
            )
        elif group_by is ReplicationGroupBy.year:
            key = cast(_YEAR, String)
            stmt = _figures(key.label("key"), literal(None).label("label")).select_from(Replication)
        else:
            key = cast(Institution.kind, String)
            stmt = _figures(key.label("key"), literal(None).label("label")).select_from(Replication)
        stmt = self._scoped(stmt, filters)
        if group_by is ReplicationGroupBy.province:
            stmt = stmt.outerjoin(Region, Region.code == func.left(Institution.region_code, 2))
        stmt = stmt.group_by(key)
        rows = (await self.session.execute(stmt)).all()
        return [(str(r[0]), r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]

    async def top(self, filters: ReplicationStatsFilter) -> list[RowMapping]:
        """The most replicated sources: id, title, owner, adopter institutions, replications."""
        adopters = func.count(Replication.adopter_institution_id.distinct())
        replications = func.count(Replication.id)
        base: AnySelect = select(
            Replication.source_innovation_id.label("innovation_id"),
            adopters.label("adopter_institutions"),
            replications.label("replications"),
        ).select_from(Replication)
        scoped = self._scoped(base, filters).group_by(Replication.source_innovation_id)
        counted = scoped.subquery("counted")
        owner = Institution.__table__.alias("owner")
        stmt = (
            select(
                counted.c.innovation_id,
                Innovation.title,
                Innovation.institution_id,
                owner.c.name.label("institution_name"),
                counted.c.adopter_institutions,
                counted.c.replications,
            )
            .join(Innovation, Innovation.id == counted.c.innovation_id)
            .join(owner, owner.c.id == Innovation.institution_id)
            .order_by(
                counted.c.adopter_institutions.desc(),
                counted.c.replications.desc(),
                Innovation.title,
                counted.c.innovation_id,
            )
            .limit(TOP)
        )
        return list((await self.session.execute(stmt)).mappings())
