"""Submissions in the database: reads within a caller's reach, the parts an entry names, the
entry rules' lookups, the cap's lock and the export's stream."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    SQLColumnExpression,
    and_,
    func,
    literal,
    or_,
    select,
    update,
)

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.regions.repository import within
from app.domains.submissions.schemas import SubmissionFilter, SubmissionSort
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.enums import CompetitionStatus, SubmissionStatus
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from app.models.submissions import Award, Submission, SubmissionAnswer

SORTS = {
    SubmissionSort.created_at: SortKey((Submission.created_at, Submission.id)),
    SubmissionSort.created_at_desc: SortKey(
        (Submission.created_at, Submission.id), descending=True
    ),
}
# An entry holds its innovation's place in the edition unless withdrawn or expired.
RELEASED = (SubmissionStatus.withdrawn, SubmissionStatus.expired)
# Entries that count against an institution's cap in a group.
COUNTED = (SubmissionStatus.submitted, SubmissionStatus.screened_in)
# Unsubmitted entries, which expire when registration closes.
UNSUBMITTED = (
    SubmissionStatus.draft,
    SubmissionStatus.returned,
    SubmissionStatus.awaiting_local_admin,
)
RESULTS_OUT = (CompetitionStatus.results_published, CompetitionStatus.closed)
# Entries that were screened in and evaluated: public once the edition's results are out.
EVALUATED = (
    SubmissionStatus.screened_in,
    SubmissionStatus.eliminated,
    SubmissionStatus.finalist,
    SubmissionStatus.disqualified,
)


@dataclass(frozen=True)
class SubmissionVisibility:
    """Which entries a caller sees: everything (the secretariat); the entries of the editions
    its hub runs (a hub admin); its own institution's (unit operators, local admins, regional
    systems); and, like everyone, the screened-in entries of editions whose results are out."""

    everything: bool = False
    hub_id: uuid.UUID | None = None
    institution_id: uuid.UUID | None = None

    def admits(self, submission: Submission, competition: Competition) -> bool:
        return (
            self.everything
            or (self.hub_id is not None and competition.hub_id == self.hub_id)
            or (
                self.institution_id is not None and submission.institution_id == self.institution_id
            )
            or (competition.status in RESULTS_OUT and submission.status in EVALUATED)
        )

    def inside(self, submission: Submission, hub_id: uuid.UUID | None) -> bool:
        """The caller sees the entry as its institution or its organiser does (not only
        because the edition's results are out); `hub_id`: the hub running its edition."""
        return (
            self.everything
            or (self.hub_id is not None and hub_id == self.hub_id)
            or (
                self.institution_id is not None and submission.institution_id == self.institution_id
            )
        )

    def condition(self) -> ColumnElement[bool] | None:
        if self.everything:
            return None
        published = and_(
            Submission.status.in_(EVALUATED),
            Submission.competition_id.in_(
                select(Competition.id).where(Competition.status.in_(RESULTS_OUT))
            ),
        )
        visible: list[ColumnElement[bool]] = [published]
        if self.hub_id is not None:
            visible.append(
                Submission.competition_id.in_(
                    select(Competition.id).where(Competition.hub_id == self.hub_id)
                )
            )
        if self.institution_id is not None:
            visible.append(Submission.institution_id == self.institution_id)
        return or_(*visible)


def _normalised(title: SQLColumnExpression[str]) -> ColumnElement[str]:
    """A title compared without case and with its whitespace collapsed."""
    return func.lower(func.btrim(func.regexp_replace(title, r"\s+", " ", "g")))


EXPORT_COLUMNS = (
    Submission.id.label("submission_id"),
    Competition.code.label("competition_code"),
    CompetitionGroup.code.label("group_code"),
    CompetitionCategory.code.label("category_code"),
    Submission.innovation_id,
    Innovation.title.label("innovation_title"),
    Submission.institution_id,
    Institution.name.label("institution_name"),
    Submission.unit_id,
    Unit.name.label("unit_name"),
    Submission.status,
    Submission.sent_at,
    Submission.submitted_at,
    Submission.screened_at,
    Submission.screening_outcome,
    Submission.screening_reason,
    Submission.screening_note,
)


class SubmissionRepository(RepositoryBase[Submission]):
    model = Submission

    async def edition(self, competition_id: uuid.UUID, *, lock: bool) -> Competition | None:
        """The entry's edition; `lock` takes it shared (FOR SHARE), re-read: its status cannot
        move under an entry's write, and closing registration waits for the write."""
        if not lock:
            return await self.session.get(Competition, competition_id)
        return await self.session.get(
            Competition, competition_id, with_for_update={"read": True}, populate_existing=True
        )

    async def group(self, group_id: uuid.UUID) -> CompetitionGroup | None:
        return await self.session.get(CompetitionGroup, group_id)

    async def category(self, category_id: uuid.UUID) -> CompetitionCategory | None:
        return await self.session.get(CompetitionCategory, category_id)

    async def innovation(self, innovation_id: uuid.UUID) -> Innovation | None:
        return await self.session.get(Innovation, innovation_id)

    async def page(
        self,
        filters: SubmissionFilter,
        visibility: SubmissionVisibility,
        sort: SubmissionSort,
        page: PageRequest,
    ) -> PageResult[Submission]:
        stmt: Select[Submission] = select(Submission)
        visible = visibility.condition()
        if visible is not None:
            stmt = stmt.where(visible)
        for column, value in (
            (Submission.competition_id, filters.competition_id),
            (Submission.group_id, filters.group_id),
            (Submission.category_id, filters.category_id),
            (Submission.institution_id, filters.institution_id),
            (Submission.round_id, filters.round_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if filters.status:
            stmt = stmt.where(Submission.status.in_(filters.status))
        if filters.region:
            stmt = stmt.where(
                Submission.institution_id.in_(
                    select(Institution.id).where(within(Institution.region_code, filters.region))
                )
            )
        scope = f"submissions:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, SORTS[sort], page, scope)

    async def hubs_of(
        self, competition_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID | None]:
        """The hub running each edition (None: the secretariat's)."""
        ids = list(set(competition_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Competition.id, Competition.hub_id).where(Competition.id.in_(ids))
        )
        return {row.id: row.hub_id for row in rows}

    async def titles(self, innovation_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        ids = list(set(innovation_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Innovation.id, Innovation.title).where(Innovation.id.in_(ids))
        )
        return {row.id: row.title for row in rows}

    async def answers(self, submission_id: uuid.UUID) -> list[SubmissionAnswer]:
        rows = await self.session.scalars(
            select(SubmissionAnswer)
            .join(RoundCriterion, RoundCriterion.id == SubmissionAnswer.criterion_id)
            .where(SubmissionAnswer.submission_id == submission_id)
            .order_by(RoundCriterion.position, RoundCriterion.id)
        )
        return list(rows)

    async def replace_answers(
        self, submission_id: uuid.UUID, answers: list[SubmissionAnswer]
    ) -> None:
        for answer in await self.answers(submission_id):
            await self.session.delete(answer)
        await self.session.flush()
        self.session.add_all(answers)

    def add_answers(self, answers: list[SubmissionAnswer]) -> None:
        self.session.add_all(answers)

    async def first_round(self, competition_id: uuid.UUID) -> CompetitionRound | None:
        return await self.session.scalar(
            select(CompetitionRound)
            .where(CompetitionRound.competition_id == competition_id)
            .order_by(CompetitionRound.position)
            .limit(1)
        )

    async def criteria(self, round_id: uuid.UUID, group_id: uuid.UUID) -> list[RoundCriterion]:
        rows = await self.session.scalars(
            select(RoundCriterion)
            .where(RoundCriterion.round_id == round_id, RoundCriterion.group_id == group_id)
            .order_by(RoundCriterion.position, RoundCriterion.id)
        )
        return list(rows)

    async def first_round_criteria(
        self, competition_id: uuid.UUID, group_id: uuid.UUID
    ) -> list[RoundCriterion]:
        """The criteria of the edition's first round for the group: what an entry answers."""
        first = await self.first_round(competition_id)
        return [] if first is None else await self.criteria(first.id, group_id)

    async def other_entry(
        self, competition_id: uuid.UUID, innovation_id: uuid.UUID, submission_id: uuid.UUID | None
    ) -> uuid.UUID | None:
        """Another entry holding the innovation's place in the edition."""
        stmt = select(Submission.id).where(
            Submission.competition_id == competition_id,
            Submission.innovation_id == innovation_id,
            Submission.status.not_in(RELEASED),
        )
        if submission_id is not None:
            stmt = stmt.where(Submission.id != submission_id)
        return await self.session.scalar(stmt.limit(1))

    async def same_title_entry(
        self,
        competition_id: uuid.UUID,
        institution_id: uuid.UUID,
        title: str,
        submission_id: uuid.UUID,
    ) -> uuid.UUID | None:
        """Another entry of the institution in the edition whose innovation has this title."""
        return await self.session.scalar(
            select(Submission.id)
            .join(Innovation, Innovation.id == Submission.innovation_id)
            .where(
                Submission.competition_id == competition_id,
                Submission.institution_id == institution_id,
                Submission.id != submission_id,
                Submission.status.not_in(RELEASED),
                _normalised(Innovation.title) == _normalised(literal(title)),
            )
            .limit(1)
        )

    async def award_tiers(
        self, innovation_id: uuid.UUID, except_competition_id: uuid.UUID
    ) -> list[str]:
        """The tiers of the awards the innovation won in other editions (or before the system)."""
        rows = await self.session.scalars(
            select(Award.tier).where(
                Award.innovation_id == innovation_id,
                or_(
                    Award.competition_id.is_(None),
                    Award.competition_id != except_competition_id,
                ),
            )
        )
        return list(rows)

    async def lock_cap(self, group_id: uuid.UUID, institution_id: uuid.UUID) -> None:
        """Serialise the institution's entries in the group until the transaction ends, so two
        approvals cannot both take the last place."""
        key = f"submission-cap:{group_id}:{institution_id}"
        await self.session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0)))
        )

    async def count_counted(
        self,
        competition_id: uuid.UUID,
        group_id: uuid.UUID,
        institution_id: uuid.UUID,
        submission_id: uuid.UUID,
    ) -> int:
        count = await self.session.scalar(
            select(func.count()).where(
                Submission.competition_id == competition_id,
                Submission.group_id == group_id,
                Submission.institution_id == institution_id,
                Submission.id != submission_id,
                Submission.status.in_(COUNTED),
            )
        )
        return int(count or 0)

    async def expire_unsubmitted(
        self, competition_id: uuid.UUID, at: datetime
    ) -> list[tuple[uuid.UUID, uuid.UUID, SubmissionStatus]]:
        """Expire the edition's unsubmitted entries: `(id, institution_id, previous status)`."""
        previous = (
            select(Submission.id, Submission.status)
            .where(
                Submission.competition_id == competition_id,
                Submission.status.in_(UNSUBMITTED),
            )
            .with_for_update()
            .subquery()
        )
        rows = await self.session.execute(
            update(Submission)
            .where(Submission.id == previous.c.id)
            .values(
                status=SubmissionStatus.expired,
                expired_at=at,
                version=Submission.version + 1,
                updated_at=func.now(),
            )
            .returning(Submission.id, Submission.institution_id, previous.c.status)
            .execution_options(synchronize_session=False)
        )
        return [(id_, inst, SubmissionStatus(prev)) for id_, inst, prev in rows]

    async def stream(
        self, competition_id: uuid.UUID, batch: int = 1000
    ) -> AsyncIterator[RowMapping]:
        """The edition's entries for the export, oldest first, `batch` rows at a time."""
        stmt = (
            select(*EXPORT_COLUMNS)
            .join(Competition, Competition.id == Submission.competition_id)
            .join(CompetitionGroup, CompetitionGroup.id == Submission.group_id)
            .join(CompetitionCategory, CompetitionCategory.id == Submission.category_id)
            .join(Innovation, Innovation.id == Submission.innovation_id)
            .join(Institution, Institution.id == Submission.institution_id)
            .join(Unit, Unit.id == Submission.unit_id)
            .where(Submission.competition_id == competition_id)
            .order_by(Submission.created_at, Submission.id)
        )
        result = await self.session.stream(stmt.execution_options(yield_per=batch))
        rows: AsyncIterator[RowMapping] = result.mappings().__aiter__()
        return rows

    # --- reminders ------------------------------------------------------------------------

    async def registration_closing(self, now: datetime, until: datetime) -> list[Competition]:
        """The editions open for registration whose registration closes after `now` and by
        `until`."""
        rows = await self.session.scalars(
            select(Competition)
            .where(
                Competition.status == CompetitionStatus.registration_open,
                Competition.registration_closes_at > now,
                Competition.registration_closes_at <= until,
            )
            .order_by(Competition.registration_closes_at, Competition.id)
        )
        return list(rows)

    async def awaiting_by_institution(self, competition_id: uuid.UUID) -> dict[uuid.UUID, int]:
        """Per institution, how many of its entries in the edition wait for its local admin."""
        rows = await self.session.execute(
            select(Submission.institution_id, func.count())
            .where(
                Submission.competition_id == competition_id,
                Submission.status == SubmissionStatus.awaiting_local_admin,
            )
            .group_by(Submission.institution_id)
        )
        return {row[0]: int(row[1]) for row in rows}
