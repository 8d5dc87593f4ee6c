"""Queries of results: announcements and the entries they name, objections, awards."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError

from app.core.pagination import PageRequest
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.models.competitions import CompetitionRound
from app.models.enums import ObjectionStatus, RoundOutcome, SubmissionStatus
from app.models.evaluation import RoundResult
from app.models.innovations import Innovation
from app.models.institutions import Institution
from app.models.results import Announcement, Objection
from app.models.submissions import Award, Submission

ANNOUNCEMENT_SORT = SortKey((Announcement.published_at, Announcement.id), descending=True)
OBJECTION_SORT = SortKey((Objection.created_at, Objection.id))
AWARD_SORT = SortKey((Award.year, Award.id), descending=True)
# Entries that hold a tier once evaluated (a disqualified one has lost it).
HOLDERS = (SubmissionStatus.finalist, SubmissionStatus.eliminated)


class EntrySummary(NamedTuple):
    """An entry as an announcement names it: its innovation and institution by name, its
    tier and status."""

    id: uuid.UUID
    innovation_id: uuid.UUID
    innovation_title: str
    institution_id: uuid.UUID
    institution_name: str
    final_tier: str | None
    status: SubmissionStatus


@dataclass(frozen=True)
class AwardFilter:
    """The awards list's filters (each None: any)."""

    competition_id: uuid.UUID | None = None
    innovation_id: uuid.UUID | None = None
    institution_id: uuid.UUID | None = None
    year: int | None = None
    tier: str | None = None

    @property
    def scope(self) -> str:
        """The cursor's scope: a cursor of one filter is refused by another."""
        return (
            f"awards:{self.competition_id}:{self.innovation_id}:{self.institution_id}:"
            f"{self.year}:{self.tier}"
        )


class AnnouncementRepository(RepositoryBase[Announcement]):
    model = Announcement

    async def add_numbered(self, announcement: Announcement) -> bool:
        """Add and flush the announcement in a savepoint: False when its number is already
        taken (the unique index decides, in any case)."""
        self.add(announcement)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    async def number_taken(self, number: str) -> bool:
        """Whether an announcement has this number (any case)."""
        found = await self.session.scalar(
            select(Announcement.id).where(func.upper(Announcement.number) == number.upper())
        )
        return found is not None

    async def generated_numbers(self, year: int) -> list[str]:
        """The numbers of the form `B/{n}/PP.00.05/{year}` (any case), generated or typed."""
        numbers = await self.session.scalars(
            select(Announcement.number).where(
                Announcement.number.regexp_match(rf"^B/[0-9]+/PP\.00\.05/{year}$", flags="i")
            )
        )
        return list(numbers)

    async def amended_by(self, announcement_id: uuid.UUID) -> list[uuid.UUID]:
        """The amended announcements published for this one, oldest first."""
        rows = await self.session.scalars(
            select(Announcement.id)
            .where(Announcement.amends_announcement_id == announcement_id)
            .order_by(Announcement.published_at, Announcement.id)
        )
        return list(rows)

    async def of_competition(self, competition_id: uuid.UUID) -> list[Announcement]:
        rows = await self.session.scalars(
            select(Announcement).where(Announcement.competition_id == competition_id)
        )
        return list(rows)

    async def page(self, competition_id: uuid.UUID, page: PageRequest) -> PageResult[Announcement]:
        """The edition's announcements, newest first."""
        stmt: Select[Any] = select(Announcement).where(
            Announcement.competition_id == competition_id
        )
        return await keyset_page(
            self.session, stmt, ANNOUNCEMENT_SORT, page, f"announcements:{competition_id}"
        )

    async def entrants(
        self, competition_id: uuid.UUID, round_id: uuid.UUID | None
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """The (institution, unit) of every entry the round evaluated (None: any round of the
        edition), each pair once: whom an announcement of it concerns."""
        stmt = (
            select(Submission.institution_id, Submission.unit_id)
            .join(RoundResult, RoundResult.submission_id == Submission.id)
            .where(Submission.competition_id == competition_id)
            .distinct()
            .order_by(Submission.institution_id, Submission.unit_id)
        )
        if round_id is not None:
            stmt = stmt.where(RoundResult.round_id == round_id)
        rows = await self.session.execute(stmt)
        return [(row[0], row[1]) for row in rows]

    # --- the entries announcements name ---------------------------------------------------

    async def entries(self, submission_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, EntrySummary]:
        rows = await self.session.execute(
            select(
                Submission.id,
                Submission.innovation_id,
                Innovation.title,
                Submission.institution_id,
                Institution.name,
                Submission.final_tier,
                Submission.status,
            )
            .join(Innovation, Innovation.id == Submission.innovation_id)
            .join(Institution, Institution.id == Submission.institution_id)
            .where(Submission.id.in_(submission_ids))
        )
        return {row.id: EntrySummary(*row) for row in rows}

    async def statuses(
        self, submission_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, SubmissionStatus]:
        rows = await self.session.execute(
            select(Submission.id, Submission.status).where(Submission.id.in_(submission_ids))
        )
        return {row.id: row.status for row in rows}

    async def advanced(self, round_id: uuid.UUID) -> list[RoundResult]:
        """The results of the entries the round advanced, by rank."""
        rows = await self.session.scalars(
            select(RoundResult)
            .where(RoundResult.round_id == round_id, RoundResult.outcome == RoundOutcome.advanced)
            .order_by(RoundResult.rank)
        )
        return list(rows)

    async def advanced_in(self, round_ids: Sequence[uuid.UUID]) -> list[RoundResult]:
        """The results of the entries any of the rounds advanced, in no order."""
        rows = await self.session.scalars(
            select(RoundResult).where(
                RoundResult.round_id.in_(round_ids), RoundResult.outcome == RoundOutcome.advanced
            )
        )
        return list(rows)

    async def result(self, round_id: uuid.UUID, submission_id: uuid.UUID) -> RoundResult | None:
        return await self.session.scalar(
            select(RoundResult).where(
                RoundResult.round_id == round_id, RoundResult.submission_id == submission_id
            )
        )


class ObjectionRepository(RepositoryBase[Objection]):
    model = Objection

    async def page(self, announcement_id: uuid.UUID, page: PageRequest) -> PageResult[Objection]:
        """The objections filed against the announcement, oldest first."""
        stmt: Select[Any] = select(Objection).where(Objection.announcement_id == announcement_id)
        return await keyset_page(
            self.session, stmt, OBJECTION_SORT, page, f"objections:{announcement_id}"
        )

    async def count_pending(self, competition_id: uuid.UUID) -> int:
        """The edition's objections not decided yet."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(Objection)
            .join(Announcement, Announcement.id == Objection.announcement_id)
            .where(
                Announcement.competition_id == competition_id,
                Objection.status == ObjectionStatus.filed,
            )
        )
        return count or 0

    async def last_advanced_round(self, submission_id: uuid.UUID) -> CompetitionRound | None:
        """The last round (by position) the entry advanced past."""
        return await self.session.scalar(
            select(CompetitionRound)
            .join(RoundResult, RoundResult.round_id == CompetitionRound.id)
            .where(
                RoundResult.submission_id == submission_id,
                RoundResult.outcome == RoundOutcome.advanced,
            )
            .order_by(CompetitionRound.position.desc())
            .limit(1)
        )

    async def lock_best_eliminated(self, round_: CompetitionRound) -> RoundResult | None:
        """The result of the best-ranked entry the round eliminated and that is still
        eliminated, scored and at or above the round's passing grade; locked for its
        promotion."""
        stmt = (
            select(RoundResult)
            .join(Submission, Submission.id == RoundResult.submission_id)
            .where(
                RoundResult.round_id == round_.id,
                RoundResult.outcome == RoundOutcome.eliminated,
                RoundResult.score.is_not(None),
                Submission.status == SubmissionStatus.eliminated,
            )
            .order_by(RoundResult.rank)
            .limit(1)
            .with_for_update(of=RoundResult)
        )
        if round_.passing_grade is not None:
            stmt = stmt.where(RoundResult.score >= round_.passing_grade)
        return await self.session.scalar(stmt)


class AwardRepository(RepositoryBase[Award]):
    model = Award

    async def page(self, filters: AwardFilter, page: PageRequest) -> PageResult[Award]:
        """Awards matching the filters, newest year first."""
        stmt: Select[Any] = select(Award)
        if filters.competition_id is not None:
            stmt = stmt.where(Award.competition_id == filters.competition_id)
        if filters.innovation_id is not None:
            stmt = stmt.where(Award.innovation_id == filters.innovation_id)
        if filters.institution_id is not None:
            stmt = stmt.where(Award.institution_id == filters.institution_id)
        if filters.year is not None:
            stmt = stmt.where(Award.year == filters.year)
        if filters.tier is not None:
            stmt = stmt.where(Award.tier == filters.tier)
        return await keyset_page(self.session, stmt, AWARD_SORT, page, filters.scope)

    async def of_innovation(self, innovation_id: uuid.UUID) -> list[Award]:
        """The innovation's awards, newest year first."""
        rows = await self.session.scalars(
            select(Award)
            .where(Award.innovation_id == innovation_id)
            .order_by(Award.year.desc(), Award.id)
        )
        return list(rows)

    async def innovation(self, innovation_id: uuid.UUID) -> Innovation | None:
        return await self.session.get(Innovation, innovation_id)

    async def holders(self, competition_id: uuid.UUID) -> list[Submission]:
        """The edition's entries holding a tier, in a stable order."""
        rows = await self.session.scalars(
            select(Submission)
            .where(
                Submission.competition_id == competition_id,
                Submission.status.in_(HOLDERS),
                Submission.final_tier.is_not(None),
            )
            .order_by(Submission.id)
        )
        return list(rows)

    async def count_holders(self, competition_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.count()).where(
                Submission.competition_id == competition_id,
                Submission.status.in_(HOLDERS),
                Submission.final_tier.is_not(None),
            )
        )
        return count or 0
