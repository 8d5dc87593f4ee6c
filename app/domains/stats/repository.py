"""Statistics' statements: the hubs' figures (one grouped query per measure, over public hubs
only) and an edition's funnel."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Integer, and_, cast, extract, func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.competitions import CompetitionGroup
from app.models.enums import (
    PUBLIC_HUB_STATUSES,
    AssessmentStatus,
    HubActivityKind,
    HubActivityStatus,
    HubKind,
    HubStatus,
    InnovationStatus,
    InstitutionKind,
    RegionType,
    RoundOutcome,
    ScreeningOutcome,
    SubmissionStatus,
)
from app.models.evaluation import RoundResult
from app.models.hubs import Hub, HubActivity, HubMember
from app.models.innovations import Innovation
from app.models.institutions import Institution
from app.models.maturity import MaturityAssessment
from app.models.regions import Region
from app.models.submissions import Submission

_PUBLIC = Hub.status.in_(PUBLIC_HUB_STATUSES)
_CURRENT = HubMember.left_date.is_(None)

_HUBS = (
    select(
        Hub.id,
        Hub.name,
        Hub.kind,
        Hub.status,
        Hub.is_pilot,
        Hub.designation_year,
        Institution.region_code,
    )
    .join(Institution, Institution.id == Hub.host_institution_id)
    .where(_PUBLIC)
    .order_by(Hub.name, Hub.id)
)
_MEMBERS = (
    select(HubMember.hub_id, func.count(), func.count(HubMember.institution_id.distinct()))
    .where(_CURRENT)
    .group_by(HubMember.hub_id)
)
_YEAR = cast(extract("year", HubActivity.activity_date), Integer)
_ACTIVITIES = (
    select(HubActivity.hub_id, _YEAR, HubActivity.kind, func.count())
    .where(HubActivity.status == HubActivityStatus.published)
    .group_by(HubActivity.hub_id, _YEAR, HubActivity.kind)
    .order_by(HubActivity.hub_id, _YEAR, HubActivity.kind)
)
_LATEST_MATURITY = (
    select(
        MaturityAssessment.hub_id,
        MaturityAssessment.id,
        MaturityAssessment.period_year,
        MaturityAssessment.total_score,
    )
    .where(MaturityAssessment.status == AssessmentStatus.verified)
    .ext(distinct_on(MaturityAssessment.hub_id))
    .order_by(MaturityAssessment.hub_id, MaturityAssessment.period_year.desc())
)
# A member institution brings all its innovations; a member unit only its own.
_MEMBER_INNOVATIONS = (
    select(HubMember.hub_id, func.count(Innovation.id.distinct()))
    .join(
        Innovation,
        and_(
            Innovation.institution_id == HubMember.institution_id,
            or_(HubMember.unit_id.is_(None), Innovation.unit_id == HubMember.unit_id),
        ),
    )
    .where(_CURRENT, Innovation.status == InnovationStatus.published)
    .group_by(HubMember.hub_id)
)
_PROVINCES = select(func.count()).select_from(Region).where(Region.type == RegionType.provinsi)
_ACTIVE_REGIONAL_PROVINCES = (
    select(Institution.region_code)
    .join(Hub, Hub.host_institution_id == Institution.id)
    .where(Hub.status == HubStatus.active, Hub.kind == HubKind.regional)
    .distinct()
    .order_by(Institution.region_code)
)
_ACTIVE_BY_KIND = (
    select(Hub.kind, func.count()).where(Hub.status == HubStatus.active).group_by(Hub.kind)
)


@dataclass
class HubFigures:
    id: uuid.UUID
    name: str
    kind: HubKind
    status: HubStatus
    is_pilot: bool
    designation_year: int | None
    province_code: str | None
    members: int = 0
    member_institutions: int = 0
    activities: list[tuple[int, HubActivityKind, int]] = field(default_factory=list)
    member_innovations: int = 0
    maturity: tuple[uuid.UUID, int, Decimal] | None = None


@dataclass(frozen=True)
class NetworkFigures:
    hubs: list[HubFigures]
    provinces: int
    active_provinces: list[str]
    active_by_kind: dict[HubKind, int]


class HubStatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def figures(self, kind: HubKind | None) -> NetworkFigures:
        hubs_stmt = _HUBS if kind is None else _HUBS.where(Hub.kind == kind)
        hubs = {row.id: HubFigures(*row) for row in await self.session.execute(hubs_stmt)}
        for hub_id, members, institutions in await self.session.execute(_MEMBERS):
            if hub_id in hubs:
                hubs[hub_id].members, hubs[hub_id].member_institutions = members, institutions
        activities: defaultdict[uuid.UUID, list[tuple[int, HubActivityKind, int]]] = defaultdict(
            list
        )
        for hub_id, year, activity_kind, count in await self.session.execute(_ACTIVITIES):
            activities[hub_id].append((year, activity_kind, count))
        for hub_id, counted in activities.items():
            if hub_id in hubs:
                hubs[hub_id].activities = counted
        for hub_id, count in await self.session.execute(_MEMBER_INNOVATIONS):
            if hub_id in hubs:
                hubs[hub_id].member_innovations = count
        for hub_id, assessment_id, year, score in await self.session.execute(_LATEST_MATURITY):
            if hub_id in hubs and score is not None:  # verified: always scored
                hubs[hub_id].maturity = (assessment_id, year, score)
        return NetworkFigures(
            hubs=list(hubs.values()),
            provinces=await self.session.scalar(_PROVINCES) or 0,
            active_provinces=[
                code for code in await self.session.scalars(_ACTIVE_REGIONAL_PROVINCES) if code
            ],
            active_by_kind={row[0]: row[1] for row in await self.session.execute(_ACTIVE_BY_KIND)},
        )


class FunnelEntry(NamedTuple):
    """One entry of an edition as its funnel counts it."""

    id: uuid.UUID
    status: SubmissionStatus
    screening_outcome: ScreeningOutcome | None
    submitted_at: datetime | None
    final_tier: str | None
    group_code: str
    group_name: str
    kind: InstitutionKind
    province: str | None


_FUNNEL_ENTRIES = (
    select(
        Submission.id,
        Submission.status,
        Submission.screening_outcome,
        Submission.submitted_at,
        Submission.final_tier,
        CompetitionGroup.code.label("group_code"),
        CompetitionGroup.name.label("group_name"),
        Institution.kind,
        func.left(Institution.region_code, 2).label("province"),
    )
    .join(CompetitionGroup, CompetitionGroup.id == Submission.group_id)
    .join(Institution, Institution.id == Submission.institution_id)
)


class FunnelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def entries(self, competition_id: uuid.UUID) -> list[FunnelEntry]:
        """Every entry of the edition, with its group and its institution's kind and province."""
        rows = await self.session.execute(
            _FUNNEL_ENTRIES.where(Submission.competition_id == competition_id)
        )
        return [FunnelEntry(*row) for row in rows]

    async def outcomes(
        self, round_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, dict[uuid.UUID, RoundOutcome]]:
        """Per round, each entry's recorded outcome."""
        results: defaultdict[uuid.UUID, dict[uuid.UUID, RoundOutcome]] = defaultdict(dict)
        if round_ids:
            for result in await self.session.scalars(
                select(RoundResult).where(RoundResult.round_id.in_(round_ids))
            ):
                results[result.round_id][result.submission_id] = result.outcome
        return results

    async def region_names(self, codes: Sequence[str]) -> dict[str, str]:
        rows = await self.session.execute(
            select(Region.code, Region.name).where(Region.code.in_(codes))
        )
        return dict(rows.all())
