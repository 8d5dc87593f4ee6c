"""Queries of evaluation: a round's entries, panel, assignments, scores and results."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, Select, and_, delete, func, select
from sqlalchemy.exc import IntegrityError

from app.core.pagination import PageRequest
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.models.accounts import User
from app.models.competitions import Competition, CompetitionRound, RoundCriterion
from app.models.enums import (
    AssignmentStatus,
    CompetitionStatus,
    InstitutionKind,
    Role,
    RoundStatus,
    SubmissionStatus,
)
from app.models.evaluation import Assignment, AssignmentScore, EvaluatorConflict, RoundResult
from app.models.innovations import Innovation
from app.models.institutions import Institution
from app.models.submissions import Submission

ACTIVE = (AssignmentStatus.assigned, AssignmentStatus.submitted)
REGIONAL_KINDS = (InstitutionKind.pemprov, InstitutionKind.pemkab, InstitutionKind.pemkot)
ASSIGNMENT_SORT = SortKey((Assignment.created_at, Assignment.id))


@dataclass(frozen=True)
class EvaluatorRow:
    id: uuid.UUID
    name: str
    role: Role
    is_active: bool
    institution_id: uuid.UUID | None
    region_code: str | None


@dataclass(frozen=True)
class EntryRow:
    id: uuid.UUID
    group_id: uuid.UUID
    institution_id: uuid.UUID
    institution_name: str
    institution_kind: InstitutionKind
    region_code: str | None
    innovation_id: uuid.UUID
    innovation_title: str
    submitted_at: datetime | None
    status: SubmissionStatus
    round_id: uuid.UUID | None


def conflict_of_interest(
    evaluator: EvaluatorRow, entry: EntryRow, declared: set[tuple[uuid.UUID, uuid.UUID]]
) -> str | None:
    """Why the evaluator may not evaluate the entry, or None: `same_institution`, `same_region`
    (the entry's institution is a regional government and the evaluator's institution sits in
    the same province) or `declared` (the evaluator recused from it)."""
    if evaluator.institution_id is not None and evaluator.institution_id == entry.institution_id:
        return "same_institution"
    if (
        entry.institution_kind in REGIONAL_KINDS
        and entry.region_code is not None
        and evaluator.region_code is not None
        and evaluator.region_code[:2] == entry.region_code[:2]
    ):
        return "same_region"
    if (evaluator.id, entry.id) in declared:
        return "declared"
    return None


_ENTRY_COLUMNS = (
    Submission.id,
    Submission.group_id,
    Submission.institution_id,
    Institution.name.label("institution_name"),
    Institution.kind.label("institution_kind"),
    Institution.region_code,
    Submission.innovation_id,
    Innovation.title.label("innovation_title"),
    Submission.submitted_at,
    Submission.status,
    Submission.round_id,
)


def _entries() -> Select[*tuple[Any, ...]]:
    return (
        select(*_ENTRY_COLUMNS)
        .join(Institution, Institution.id == Submission.institution_id)
        .join(Innovation, Innovation.id == Submission.innovation_id)
    )


def _entry(row: Row[*tuple[Any, ...]]) -> EntryRow:
    return EntryRow(**row._mapping)


@dataclass(frozen=True)
class AssignmentFacts:
    """What a list shows of an assignment beyond its row."""

    innovation_title: str
    evaluator_name: str
    scored_criteria: int


class EvaluationRepository(RepositoryBase[Assignment]):
    model = Assignment

    async def evaluators(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, EvaluatorRow]:
        rows = await self.session.execute(
            select(
                User.id,
                User.name,
                User.role,
                User.is_active,
                User.institution_id,
                Institution.region_code,
            )
            .outerjoin(Institution, Institution.id == User.institution_id)
            .where(User.id.in_(ids))
        )
        return {row.id: EvaluatorRow(**row._mapping) for row in rows}

    async def entries_in_round(self, round_id: uuid.UUID) -> list[EntryRow]:
        """The entries being evaluated in an open round, in a stable order."""
        rows = await self.session.execute(
            _entries()
            .where(
                Submission.round_id == round_id,
                Submission.status == SubmissionStatus.screened_in,
            )
            .order_by(Submission.id)
        )
        return [_entry(row) for row in rows]

    async def entries_with_results(self, round_id: uuid.UUID) -> list[EntryRow]:
        """The entries a closed round ranked."""
        rows = await self.session.execute(
            _entries()
            .join(RoundResult, RoundResult.submission_id == Submission.id)
            .where(RoundResult.round_id == round_id)
            .order_by(Submission.id)
        )
        return [_entry(row) for row in rows]

    async def entry(self, submission_id: uuid.UUID) -> EntryRow | None:
        row = (await self.session.execute(_entries().where(Submission.id == submission_id))).first()
        return None if row is None else _entry(row)

    async def lock_submissions(self, ids: Sequence[uuid.UUID]) -> list[Submission]:
        rows = await self.session.scalars(
            select(Submission)
            .where(Submission.id.in_(ids))
            .order_by(Submission.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return list(rows)

    async def results(self, round_id: uuid.UUID) -> dict[uuid.UUID, RoundResult]:
        rows = await self.session.scalars(
            select(RoundResult).where(RoundResult.round_id == round_id)
        )
        return {row.submission_id: row for row in rows}

    async def declared(
        self, submission_ids: Sequence[uuid.UUID]
    ) -> set[tuple[uuid.UUID, uuid.UUID]]:
        rows = await self.session.execute(
            select(EvaluatorConflict.evaluator_id, EvaluatorConflict.submission_id).where(
                EvaluatorConflict.submission_id.in_(submission_ids)
            )
        )
        return {(row.evaluator_id, row.submission_id) for row in rows}

    async def active(self, round_id: uuid.UUID) -> list[Assignment]:
        rows = await self.session.scalars(
            select(Assignment)
            .where(Assignment.round_id == round_id, Assignment.status.in_(ACTIVE))
            .order_by(Assignment.created_at, Assignment.id)
        )
        return list(rows)

    async def add_unique(self, assignment: Assignment) -> bool:
        """Add the assignment and write it in a savepoint: False, and the savepoint rolled back,
        when the evaluator already holds the entry in the round (the unique constraint)."""
        self.session.add(assignment)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError:
            return False
        return True

    def add_result(self, result: RoundResult) -> None:
        self.session.add(result)

    def add_conflict(self, conflict: EvaluatorConflict) -> None:
        """A declared conflict of interest: the evaluator is never assigned the entry again."""
        self.session.add(conflict)

    async def replace_scores(self, assignment_id: uuid.UUID, scores: list[AssignmentScore]) -> None:
        """The assignment's score sheet, replaced whole."""
        await self.session.execute(
            delete(AssignmentScore).where(AssignmentScore.assignment_id == assignment_id)
        )
        self.session.add_all(scores)

    async def scores(self, assignment_id: uuid.UUID) -> list[AssignmentScore]:
        rows = await self.session.scalars(
            select(AssignmentScore)
            .join(RoundCriterion, RoundCriterion.id == AssignmentScore.criterion_id)
            .where(AssignmentScore.assignment_id == assignment_id)
            .order_by(RoundCriterion.position, RoundCriterion.id)
        )
        return list(rows)

    async def submitted_scores(
        self, round_id: uuid.UUID
    ) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, dict[uuid.UUID, Decimal]]]:
        """(assignment, entry, evaluator, scores by criterion) of the round's submitted
        assignments."""
        rows = await self.session.execute(
            select(
                Assignment.id,
                Assignment.submission_id,
                Assignment.evaluator_id,
                AssignmentScore.criterion_id,
                AssignmentScore.score,
            )
            .outerjoin(AssignmentScore, AssignmentScore.assignment_id == Assignment.id)
            .where(
                Assignment.round_id == round_id,
                Assignment.status == AssignmentStatus.submitted,
            )
        )
        found: dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID, dict[uuid.UUID, Decimal]]] = {}
        for row in rows:
            item = found.setdefault(row.id, (row.submission_id, row.evaluator_id, {}))
            if row.criterion_id is not None:
                item[2][row.criterion_id] = row.score
        return [(key, *value) for key, value in found.items()]

    async def criteria(self, round_id: uuid.UUID) -> list[RoundCriterion]:
        rows = await self.session.scalars(
            select(RoundCriterion)
            .where(RoundCriterion.round_id == round_id)
            .order_by(RoundCriterion.group_id, RoundCriterion.position, RoundCriterion.id)
        )
        return list(rows)

    async def names(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        rows = await self.session.execute(select(User.id, User.name).where(User.id.in_(user_ids)))
        return {row.id: row.name for row in rows}

    async def next_round(self, current: CompetitionRound) -> CompetitionRound | None:
        return await self.session.scalar(
            select(CompetitionRound)
            .where(
                CompetitionRound.competition_id == current.competition_id,
                CompetitionRound.position > current.position,
            )
            .order_by(CompetitionRound.position)
            .limit(1)
        )

    async def open_earlier_round(self, current: CompetitionRound) -> CompetitionRound | None:
        return await self.session.scalar(
            select(CompetitionRound)
            .where(
                CompetitionRound.competition_id == current.competition_id,
                CompetitionRound.position < current.position,
                CompetitionRound.status == RoundStatus.open,
            )
            .order_by(CompetitionRound.position)
            .limit(1)
        )

    async def page(
        self,
        round_id: uuid.UUID,
        page: PageRequest,
        *,
        evaluator_id: uuid.UUID | None,
        submission_id: uuid.UUID | None,
        statuses: Sequence[AssignmentStatus],
    ) -> PageResult[Assignment]:
        stmt: Select[Assignment] = select(Assignment).where(Assignment.round_id == round_id)
        if evaluator_id is not None:
            stmt = stmt.where(Assignment.evaluator_id == evaluator_id)
        if submission_id is not None:
            stmt = stmt.where(Assignment.submission_id == submission_id)
        if statuses:
            stmt = stmt.where(Assignment.status.in_(statuses))
        scope = f"assignments:{round_id}:{evaluator_id}:{submission_id}:" + ",".join(
            sorted(s.value for s in statuses)
        )
        return await keyset_page(self.session, stmt, ASSIGNMENT_SORT, page, scope)

    async def summaries(
        self, assignments: Sequence[Assignment]
    ) -> dict[uuid.UUID, AssignmentFacts]:
        """Per assignment: the entry's title, the evaluator's name and the criteria scored."""
        ids = [a.id for a in assignments]
        if not ids:
            return {}
        counts = (
            select(AssignmentScore.assignment_id, func.count().label("n"))
            .where(AssignmentScore.assignment_id.in_(ids))
            .group_by(AssignmentScore.assignment_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(
                Assignment.id,
                Innovation.title,
                User.name,
                func.coalesce(counts.c.n, 0).label("n"),
            )
            .join(Submission, Submission.id == Assignment.submission_id)
            .join(Innovation, Innovation.id == Submission.innovation_id)
            .join(User, User.id == Assignment.evaluator_id)
            .outerjoin(counts, and_(counts.c.assignment_id == Assignment.id))
            .where(Assignment.id.in_(ids))
        )
        return {row.id: AssignmentFacts(row.title, row.name, row.n) for row in rows}

    # --- reminders ------------------------------------------------------------------------

    async def rounds_closing(self, now: datetime, until: datetime) -> list[CompetitionRound]:
        """The open rounds of editions in evaluation that close after `now` and by `until`."""
        rows = await self.session.scalars(
            select(CompetitionRound)
            .join(Competition, Competition.id == CompetitionRound.competition_id)
            .where(
                Competition.status == CompetitionStatus.evaluation,
                CompetitionRound.status == RoundStatus.open,
                CompetitionRound.closes_at > now,
                CompetitionRound.closes_at <= until,
            )
            .order_by(CompetitionRound.closes_at, CompetitionRound.id)
        )
        return list(rows)

    async def unsubmitted_by_evaluator(self, round_id: uuid.UUID) -> dict[uuid.UUID, int]:
        """Per active evaluator, how many of its assignments in the round are not submitted."""
        rows = await self.session.execute(
            select(Assignment.evaluator_id, func.count())
            .join(User, User.id == Assignment.evaluator_id)
            .where(
                Assignment.round_id == round_id,
                Assignment.status == AssignmentStatus.assigned,
                User.is_active,
            )
            .group_by(Assignment.evaluator_id)
        )
        return {row[0]: int(row[1]) for row in rows}
