"""An edition's funnel (GET /v1/stats/competitions/{competition_id}/funnel): how many entries
were drafted, submitted, screened in, advanced and eliminated round by round, and reached each
final tier, in total and by group, institution kind or province."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Forbidden
from app.core.security import Principal
from app.domains.competitions import access as competitions
from app.domains.competitions.repository import CompetitionRepository
from app.domains.stats.repository import FunnelEntry, FunnelRepository
from app.models.competitions import CompetitionRound
from app.models.enums import CompetitionStatus, RoundOutcome, ScreeningOutcome, SubmissionStatus

UNSUBMITTED = frozenset(
    {
        SubmissionStatus.draft,
        SubmissionStatus.returned,
        SubmissionStatus.awaiting_local_admin,
        SubmissionStatus.expired,
    }
)
PUBLIC_FROM = frozenset({CompetitionStatus.results_published, CompetitionStatus.closed})


class FunnelBy(StrEnum):
    group = "group"
    institution_kind = "institution_kind"
    province = "province"


class RoundFunnel(BaseModel):
    round_id: uuid.UUID
    position: int
    name: str
    advanced: int
    eliminated: int


class FunnelCounts(BaseModel):
    drafts: int = Field(description="Entries never submitted to the organiser (expired too).")
    submitted: int = Field(description="Entries the local admin submitted to the organiser.")
    withdrawn: int
    screened_in: int
    screened_out: int
    rounds: list[RoundFunnel] = Field(description="Per closed round, in order.")
    disqualified: int
    tiers: dict[str, int] = Field(description="Entries holding each final tier.")


class FunnelGroup(BaseModel):
    key: str = Field(description="The group's code, the institution kind, or the province code.")
    label: str
    counts: FunnelCounts


class CompetitionFunnel(BaseModel):
    competition_id: uuid.UUID
    status: CompetitionStatus
    totals: FunnelCounts
    by: FunnelBy | None
    groups: list[FunnelGroup]


def _counts(
    rows: Sequence[FunnelEntry],
    rounds: Sequence[CompetitionRound],
    results: Mapping[uuid.UUID, dict[uuid.UUID, RoundOutcome]],
) -> FunnelCounts:
    status = Counter(row.status for row in rows)
    tiers = Counter(
        row.final_tier
        for row in rows
        if row.final_tier and row.status in (SubmissionStatus.finalist, SubmissionStatus.eliminated)
    )
    per_round = []
    for round_ in rounds:
        outcomes = Counter(
            results[round_.id][row.id] for row in rows if row.id in results.get(round_.id, {})
        )
        per_round.append(
            RoundFunnel(
                round_id=round_.id,
                position=round_.position,
                name=round_.name,
                advanced=outcomes[RoundOutcome.advanced],
                eliminated=outcomes[RoundOutcome.eliminated],
            )
        )
    return FunnelCounts(
        drafts=sum(status[s] for s in UNSUBMITTED),
        submitted=sum(1 for row in rows if row.submitted_at is not None),
        withdrawn=status[SubmissionStatus.withdrawn],
        screened_in=sum(1 for row in rows if row.screening_outcome is ScreeningOutcome.in_),
        screened_out=sum(1 for row in rows if row.screening_outcome is ScreeningOutcome.out),
        rounds=per_round,
        disqualified=status[SubmissionStatus.disqualified],
        tiers=dict(sorted(tiers.items())),
    )


async def funnel(
    session: AsyncSession,
    principal: Principal | None,
    competition_id: uuid.UUID,
    by: FunnelBy | None,
) -> CompetitionFunnel:
    """Public once the edition's results are published; before that whoever runs it only
    (403: the counts would reveal unannounced outcomes)."""
    competition = await competitions.get_competition(session, principal, competition_id)
    if competition.status not in PUBLIC_FROM and not competitions.runs(principal, competition):
        raise Forbidden(
            "stats.results_not_published",
            "The funnel is public once the competition's results are published.",
        )
    repo = FunnelRepository(session)
    rows = await repo.entries(competition.id)
    rounds = [r for r in await CompetitionRepository(session).rounds(competition.id) if r.closed_at]
    results = await repo.outcomes([r.id for r in rounds])
    groups: list[FunnelGroup] = []
    if by is not None:
        buckets: dict[str, list[FunnelEntry]] = defaultdict(list)
        labels: dict[str, str] = {}
        for row in rows:
            if by is FunnelBy.group:
                key, label = row.group_code, row.group_name
            elif by is FunnelBy.institution_kind:
                key = label = row.kind.value
            else:
                key = row.province or "none"
                label = key
            buckets[key].append(row)
            labels[key] = label
        if by is FunnelBy.province:
            names = await repo.region_names(list(buckets))
            labels = {k: names.get(k, "Tanpa wilayah (pusat)") for k in buckets}
        groups = [
            FunnelGroup(key=key, label=labels[key], counts=_counts(buckets[key], rounds, results))
            for key in sorted(buckets)
        ]
    return CompetitionFunnel(
        competition_id=competition.id,
        status=competition.status,
        totals=_counts(rows, rounds, results),
        by=by,
        groups=groups,
    )
