from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.competitions.schemas import CompetitionFilter, CompetitionSort
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.enums import CompetitionStatus

# The parts of an edition's structure: each belongs to one edition (`competition_id`).
StructurePart: TypeAlias = (
    CompetitionGroup | CompetitionCategory | CompetitionRound | RoundCriterion
)
PartT = TypeVar("PartT", CompetitionGroup, CompetitionCategory, CompetitionRound, RoundCriterion)

COMPETITION_SORTS = {
    CompetitionSort.year: SortKey((Competition.year, Competition.id)),
    CompetitionSort.year_desc: SortKey((Competition.year, Competition.id), descending=True),
    CompetitionSort.created_at: SortKey((Competition.created_at, Competition.id)),
    CompetitionSort.created_at_desc: SortKey(
        (Competition.created_at, Competition.id), descending=True
    ),
}
GROUP_SORT = SortKey((CompetitionGroup.code, CompetitionGroup.id))
CATEGORY_SORT = SortKey((CompetitionCategory.code, CompetitionCategory.id))
ROUND_SORT = SortKey((CompetitionRound.position, CompetitionRound.id))
CRITERION_SORT = SortKey((RoundCriterion.group_id, RoundCriterion.position, RoundCriterion.id))


@dataclass(frozen=True)
class CompetitionVisibility:
    """Which editions a caller sees: every edition past its draft, plus every draft (the
    secretariat) or its own hub's drafts (a hub admin)."""

    everything: bool = False
    hub_id: uuid.UUID | None = None

    def admits(self, competition: Competition) -> bool:
        return (
            self.everything
            or competition.status is not CompetitionStatus.draft
            or (self.hub_id is not None and competition.hub_id == self.hub_id)
        )

    def condition(self) -> ColumnElement[bool] | None:
        if self.everything:
            return None
        visible: ColumnElement[bool] = Competition.status != CompetitionStatus.draft
        if self.hub_id is not None:
            visible = or_(visible, Competition.hub_id == self.hub_id)
        return visible


class CompetitionRepository(RepositoryBase[Competition]):
    """Editions, and their structure's parts (the parts' own `get_part`, `add_part`,
    `delete_part`): one repository, since every part belongs to an edition."""

    model = Competition

    async def registration_past_deadline(self, now: datetime) -> list[Competition]:
        """Editions still open for registration whose deadline has passed, locked (another
        worker's lock is skipped, not waited for)."""
        stmt = (
            select(Competition)
            .where(
                Competition.status == CompetitionStatus.registration_open,
                Competition.registration_closes_at <= now,
            )
            .order_by(Competition.registration_closes_at, Competition.id)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.scalars(stmt)).all())

    async def page(
        self,
        filters: CompetitionFilter,
        visibility: CompetitionVisibility,
        sort: CompetitionSort,
        page: PageRequest,
    ) -> PageResult[Competition]:
        stmt: Select[Any] = select(Competition)
        visible = visibility.condition()
        if visible is not None:
            stmt = stmt.where(visible)
        if filters.year is not None:
            stmt = stmt.where(Competition.year == filters.year)
        if filters.scope:
            stmt = stmt.where(Competition.scope.in_(filters.scope))
        if filters.status:
            stmt = stmt.where(Competition.status.in_(filters.status))
        if filters.hub_id is not None:
            stmt = stmt.where(Competition.hub_id == filters.hub_id)
        scope = f"competitions:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, COMPETITION_SORTS[sort], page, scope)

    # --- structure ------------------------------------------------------------------------

    async def get_part(
        self, model: type[PartT], part_id: uuid.UUID, *, for_update: bool = False
    ) -> PartT | None:
        """The part by id, or None; `for_update` locks it and re-reads it."""
        return await self.session.get(
            model, part_id, with_for_update=for_update, populate_existing=for_update
        )

    def add_part(self, part: StructurePart) -> None:
        self.session.add(part)

    async def delete_part(self, part: StructurePart) -> None:
        await self.session.delete(part)

    async def page_of(
        self,
        model: type[PartT],
        sort: SortKey,
        page: PageRequest,
        scope: str,
        *conditions: ColumnElement[bool],
    ) -> PageResult[PartT]:
        stmt = select(model).where(*conditions)
        return await keyset_page(self.session, stmt, sort, page, scope)

    async def groups(self, competition_id: uuid.UUID) -> list[CompetitionGroup]:
        rows = await self.session.scalars(
            select(CompetitionGroup)
            .where(CompetitionGroup.competition_id == competition_id)
            .order_by(CompetitionGroup.code)
        )
        return list(rows)

    async def rounds(self, competition_id: uuid.UUID) -> list[CompetitionRound]:
        rows = await self.session.scalars(
            select(CompetitionRound)
            .where(CompetitionRound.competition_id == competition_id)
            .order_by(CompetitionRound.position)
        )
        return list(rows)

    async def count_categories(self, competition_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.count()).where(CompetitionCategory.competition_id == competition_id)
        )
        return int(count or 0)

    async def weight_sums(
        self, competition_id: uuid.UUID
    ) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
        """{(round_id, group_id): the sum of its criteria's weights} for each pair that has
        criteria."""
        rows = await self.session.execute(
            select(
                RoundCriterion.round_id, RoundCriterion.group_id, func.sum(RoundCriterion.weight)
            )
            .where(RoundCriterion.competition_id == competition_id)
            .group_by(RoundCriterion.round_id, RoundCriterion.group_id)
        )
        return {(r, g): int(total) for r, g, total in rows}

    async def next_round_position(self, competition_id: uuid.UUID) -> int:
        last = await self.session.scalar(
            select(func.max(CompetitionRound.position)).where(
                CompetitionRound.competition_id == competition_id
            )
        )
        return int(last or 0) + 1

    async def next_criterion_position(self, round_id: uuid.UUID, group_id: uuid.UUID) -> int:
        last = await self.session.scalar(
            select(func.max(RoundCriterion.position)).where(
                RoundCriterion.round_id == round_id, RoundCriterion.group_id == group_id
            )
        )
        return int(last or 0) + 1
