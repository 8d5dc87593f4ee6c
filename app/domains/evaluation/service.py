"""Evaluation of a round (docs/evaluation.md): whoever runs the edition assigns entries to
evaluators (by hand or balanced automatically, conflicts of interest excluded), evaluators score
their own assignments, the organiser reads the ranking and closes the round, which advances the
best entries and eliminates the rest.

Scores are private: an evaluator reaches only its own assignments (another's is a 404), the
ranking is the organiser's, and audit events of assignments name no institution, so no local
admin lists them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.competitions import structure
from app.domains.competitions.repository import CompetitionRepository
from app.domains.evaluation import ranking
from app.domains.evaluation.repository import (
    EntryRow,
    EvaluationRepository,
    EvaluatorRow,
    conflict_of_interest,
)
from app.domains.evaluation.schemas import (
    AssignmentCreate,
    AssignmentRead,
    AssignmentSummary,
    AutoAssign,
    AutoAssignResult,
    EvaluatorLoad,
    EvaluatorTotalRead,
    RankingEntry,
    Reassign,
    Recusal,
    RoundClose,
    RoundCloseResult,
    RoundRanking,
    ScoreRead,
    ScoresPut,
    SubmissionAnswerRead,
)
from app.domains.submissions.repository import SubmissionRepository
from app.models.competitions import Competition, CompetitionRound
from app.models.enums import (
    AssignmentStatus,
    CompetitionStatus,
    Role,
    RoundOutcome,
    RoundStatus,
    SubmissionStatus,
)
from app.models.evaluation import Assignment, AssignmentScore, EvaluatorConflict, RoundResult
from app.models.submissions import Submission

TIE_BREAK = (
    "Score, highest first (entries without a submitted evaluation last); then the smaller "
    "spread; then the earlier submission to the organiser; then the smaller submission id."
)
CONFLICTS = {
    "same_institution": "the evaluator belongs to the entry's institution",
    "same_region": "the evaluator's institution sits in the same province as the entry's "
    "regional government",
    "declared": "the evaluator declared a conflict of interest with the entry",
}


# --- rounds and who acts --------------------------------------------------------------------


async def _round(
    session: AsyncSession, principal: Principal | None, round_id: uuid.UUID
) -> tuple[CompetitionRound, Competition]:
    """The round and its edition if the caller may see them; 404 otherwise."""
    round_ = await structure.get_part(session, principal, structure.ROUND, round_id)
    competition = await CompetitionRepository(session).get(round_.competition_id)
    assert competition is not None  # foreign key
    return round_, competition


async def _run_round(
    session: AsyncSession, principal: Principal, round_id: uuid.UUID
) -> tuple[CompetitionRound, Competition]:
    """Lock the round and its edition for the organiser's write: 404 unseen, 403 if the caller
    does not run the edition, 409 unless the edition is in evaluation and the round open."""
    _, competition = await _round(session, principal, round_id)
    if not competitions.runs(principal, competition):
        raise competitions.out_of_scope()
    competition = await competitions.get_competition(
        session, principal, competition.id, for_update=True
    )
    locked = await CompetitionRepository(session).get_part(
        CompetitionRound, round_id, for_update=True
    )
    assert locked is not None
    _check_open(locked, competition)
    return locked, competition


def _check_open(round_: CompetitionRound, competition: Competition) -> None:
    if competition.status is not CompetitionStatus.evaluation:
        raise Conflict(
            "evaluation.not_in_evaluation",
            f"The competition is {competition.status.value}: rounds are evaluated while it is "
            "in evaluation.",
            extra={"competition_status": competition.status.value},
        )
    if round_.status is RoundStatus.closed:
        raise Conflict(
            "round.closed",
            f"Round {round_.position} ({round_.name}) is closed: its evaluation no longer changes.",
        )


def _assignment_not_found(assignment_id: uuid.UUID) -> NotFound:
    return NotFound("assignment.not_found", f"No assignment has the id {assignment_id}.")


async def _assignment(
    session: AsyncSession,
    principal: Principal,
    assignment_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> tuple[Assignment, CompetitionRound, Competition]:
    """An assignment the caller reaches: the evaluator its own, the organiser every one of its
    editions; 404 for everyone else (an evaluator never learns of another's)."""
    assignment = await EvaluationRepository(session).get(assignment_id, for_update=for_update)
    if assignment is None:
        raise _assignment_not_found(assignment_id)
    round_, competition = await _round(session, principal, assignment.round_id)
    own = principal.role is Role.evaluator and assignment.evaluator_id == principal.id
    if not own and not competitions.runs(principal, competition):
        raise _assignment_not_found(assignment_id)
    return assignment, round_, competition


async def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    assignment: Assignment,
    before: audit.Snapshot | None,
    *,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """One event; no institution, so only the secretariat lists evaluation events."""
    changes = {**audit.diff(before, audit.snapshot(assignment)), **(extra or {})}
    await audit.record(
        session,
        principal,
        action,
        "assignment",
        assignment.id,
        institution_id=None,
        changes=changes,
        reason=reason,
    )


# --- reads ----------------------------------------------------------------------------------


async def read_model(session: AsyncSession, assignment: Assignment) -> AssignmentRead:
    repo = EvaluationRepository(session)
    submission = await session.get(Submission, assignment.submission_id)
    assert submission is not None
    entry = await repo.entry(submission.id)
    assert entry is not None
    names = await repo.names([assignment.evaluator_id])
    answers = await SubmissionRepository(session).answers(submission.id)
    scores = await repo.scores(assignment.id)
    return AssignmentRead(
        id=assignment.id,
        competition_id=assignment.competition_id,
        round_id=assignment.round_id,
        submission_id=assignment.submission_id,
        innovation_id=entry.innovation_id,
        innovation_title=entry.innovation_title,
        group_id=submission.group_id,
        category_id=submission.category_id,
        evaluator_id=assignment.evaluator_id,
        evaluator_name=names.get(assignment.evaluator_id, ""),
        status=assignment.status,
        comment=assignment.comment,
        submitted_at=assignment.submitted_at,
        end_reason=assignment.end_reason,
        ended_at=assignment.ended_at,
        replaced_by_id=assignment.replaced_by_id,
        scores=[ScoreRead.model_validate(score) for score in scores],
        answers=[
            SubmissionAnswerRead(
                criterion_id=a.criterion_id, text=a.text, evidence_links=a.evidence_links
            )
            for a in answers
        ],
        created_at=assignment.created_at,
        updated_at=assignment.updated_at,
        version=assignment.version,
    )


async def summaries(
    session: AsyncSession, assignments: Sequence[Assignment]
) -> list[AssignmentSummary]:
    found = await EvaluationRepository(session).summaries(assignments)
    return [
        AssignmentSummary(
            id=a.id,
            round_id=a.round_id,
            submission_id=a.submission_id,
            innovation_title=found[a.id]["innovation_title"],
            evaluator_id=a.evaluator_id,
            evaluator_name=found[a.id]["evaluator_name"],
            status=a.status,
            scored_criteria=found[a.id]["n"],
            submitted_at=a.submitted_at,
            created_at=a.created_at,
        )
        for a in assignments
    ]


async def get_assignment(
    session: AsyncSession, principal: Principal, assignment_id: uuid.UUID
) -> Assignment:
    assignment, _, _ = await _assignment(session, principal, assignment_id)
    return assignment


async def list_assignments(
    session: AsyncSession,
    principal: Principal,
    round_id: uuid.UUID,
    page: PageRequest,
    *,
    evaluator_id: uuid.UUID | None,
    submission_id: uuid.UUID | None,
    statuses: Sequence[AssignmentStatus],
) -> PageResult[Assignment]:
    """The organiser sees every assignment of the round; an evaluator its own only."""
    _, competition = await _round(session, principal, round_id)
    if not competitions.runs(principal, competition):
        if principal.role is not Role.evaluator:
            raise competitions.out_of_scope()
        if evaluator_id is not None and evaluator_id != principal.id:
            raise Forbidden(
                "assignment.others_hidden", "An evaluator sees its own assignments only."
            )
        evaluator_id = principal.id
    return await EvaluationRepository(session).page(
        round_id, page, evaluator_id=evaluator_id, submission_id=submission_id, statuses=statuses
    )


# --- assigning ------------------------------------------------------------------------------


def _check_evaluator(evaluator: EvaluatorRow | None, evaluator_id: uuid.UUID, pointer: str) -> None:
    if evaluator is None or evaluator.role is not Role.evaluator or not evaluator.is_active:
        raise Unprocessable(
            "assignment.not_an_evaluator",
            f"{evaluator_id} is not an active evaluator account.",
            errors=[
                field_error(
                    pointer, "assignment.not_an_evaluator", "Not an active evaluator account."
                )
            ],
        )


async def _entry_in_round(
    session: AsyncSession, round_: CompetitionRound, submission_id: uuid.UUID
) -> EntryRow:
    entry = await EvaluationRepository(session).entry(submission_id)
    if (
        entry is None
        or entry.round_id != round_.id
        or entry.status is not SubmissionStatus.screened_in
    ):
        raise Unprocessable(
            "assignment.not_in_round",
            f"The submission {submission_id} is not an entry being evaluated in this round.",
            errors=[
                field_error(
                    "/submission_id",
                    "assignment.not_in_round",
                    "Not an entry being evaluated in this round.",
                )
            ],
        )
    return entry


def _conflict(evaluator: EvaluatorRow, entry: EntryRow, reason: str) -> Conflict:
    return Conflict(
        "assignment.conflict_of_interest",
        f"{evaluator.name} may not evaluate this entry: {CONFLICTS[reason]}.",
        extra={"conflict": reason},
    )


async def _new_assignment(
    session: AsyncSession,
    principal: Principal,
    round_: CompetitionRound,
    entry: EntryRow,
    evaluator: EvaluatorRow,
    *,
    audited: bool = True,
) -> Assignment:
    """Store one assignment after the conflict checks (a duplicate is a 409)."""
    repo = EvaluationRepository(session)
    declared = await repo.declared([entry.id])
    reason = conflict_of_interest(evaluator, entry, declared)
    if reason is not None:
        raise _conflict(evaluator, entry, reason)
    assignment = Assignment(
        competition_id=round_.competition_id,
        round_id=round_.id,
        submission_id=entry.id,
        evaluator_id=evaluator.id,
        status=AssignmentStatus.assigned,
    )
    repo.add(assignment)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(
            "assignment.duplicate",
            f"{evaluator.name} is already assigned this entry in this round.",
        ) from None
    if audited:
        await _audit(session, principal, "assign", assignment, None)
    return assignment


async def create_assignment(
    session: AsyncSession, principal: Principal, round_id: uuid.UUID, data: AssignmentCreate
) -> Assignment:
    round_, _ = await _run_round(session, principal, round_id)
    entry = await _entry_in_round(session, round_, data.submission_id)
    evaluators = await EvaluationRepository(session).evaluators([data.evaluator_id])
    evaluator = evaluators.get(data.evaluator_id)
    _check_evaluator(evaluator, data.evaluator_id, "/evaluator_id")
    assert evaluator is not None
    return await _new_assignment(session, principal, round_, entry, evaluator)


async def auto_assign(
    session: AsyncSession, principal: Principal, round_id: uuid.UUID, data: AutoAssign
) -> AutoAssignResult:
    """Top every entry up to N evaluators from the panel: the most constrained entries first
    (fewest eligible evaluators, then id), each taking the least loaded eligible evaluators
    (then by id). Loads count the round's active assignments. All or nothing: an entry that
    cannot reach N is a 409 naming it, and nothing is assigned."""
    round_, _ = await _run_round(session, principal, round_id)
    repo = EvaluationRepository(session)
    evaluators = await repo.evaluators(data.evaluator_ids)
    for index, evaluator_id in enumerate(data.evaluator_ids):
        _check_evaluator(evaluators.get(evaluator_id), evaluator_id, f"/evaluator_ids/{index}")
    panel = [evaluators[i] for i in sorted(data.evaluator_ids, key=str)]
    entries = await repo.entries_in_round(round_.id)
    if not entries:
        raise Conflict("round.no_entries", "The round has no entry to evaluate.")
    active = await repo.active(round_.id)
    declared = await repo.declared([e.id for e in entries])
    assigned: dict[uuid.UUID, set[uuid.UUID]] = {e.id: set() for e in entries}
    load: Counter[uuid.UUID] = Counter({e.id: 0 for e in panel})
    for assignment in active:
        assigned.setdefault(assignment.submission_id, set()).add(assignment.evaluator_id)
        if assignment.evaluator_id in load:
            load[assignment.evaluator_id] += 1
    eligible = {
        entry.id: [
            e
            for e in panel
            if conflict_of_interest(e, entry, declared) is None and e.id not in assigned[entry.id]
        ]
        for entry in entries
    }
    wanted = data.evaluators_per_submission
    short = [
        {"submission_id": str(entry.id), "eligible": len(eligible[entry.id])}
        for entry in entries
        if len(assigned[entry.id]) + len(eligible[entry.id]) < wanted
    ]
    if short:
        raise Conflict(
            "assignment.not_enough_evaluators",
            f"{len(short)} entries cannot get {wanted} evaluators from this panel without a "
            "conflict of interest; widen the panel or lower evaluators_per_submission.",
            extra={"entries": short},
        )
    order = sorted(entries, key=lambda e: (len(eligible[e.id]), str(e.id)))
    plan: list[tuple[EntryRow, EvaluatorRow]] = []
    for entry in order:
        missing = wanted - len(assigned[entry.id])
        if missing <= 0:
            continue
        chosen = sorted(eligible[entry.id], key=lambda e: (load[e.id], str(e.id)))[:missing]
        for evaluator in chosen:
            load[evaluator.id] += 1
            plan.append((entry, evaluator))
    created: list[Assignment] = []
    for entry, evaluator in plan:
        assignment = Assignment(
            competition_id=round_.competition_id,
            round_id=round_.id,
            submission_id=entry.id,
            evaluator_id=evaluator.id,
            status=AssignmentStatus.assigned,
        )
        repo.add(assignment)
        created.append(assignment)
    await session.flush()
    # One event for the request, on the round: the assignments it made.
    await audit.record(
        session,
        principal,
        "auto_assign",
        "competition_round",
        round_.id,
        institution_id=None,
        changes={
            "assignments": {
                "from": None,
                "to": [
                    {
                        "id": str(a.id),
                        "submission_id": str(a.submission_id),
                        "evaluator_id": str(a.evaluator_id),
                    }
                    for a in created
                ],
            }
        },
    )
    return AutoAssignResult(
        created=await summaries(session, created),
        loads=[EvaluatorLoad(evaluator_id=e.id, assignments=load[e.id]) for e in panel],
    )


async def reassign(
    session: AsyncSession,
    principal: Principal,
    assignment_id: uuid.UUID,
    data: Reassign,
    preconditions: Preconditions,
) -> Assignment:
    """Hand an active assignment to another evaluator: the old one is `replaced` (its scores are
    kept for the record and no longer count); once it has a score, a reason is required."""
    assignment, round_, competition = await _assignment(
        session, principal, assignment_id, for_update=True
    )
    if not competitions.runs(principal, competition):
        raise Forbidden("assignment.organiser_only", "Only whoever runs the competition reassigns.")
    round_, competition = await _run_round(session, principal, round_.id)
    preconditions.check_match(assignment.version, entity="assignment")
    if assignment.status not in (AssignmentStatus.assigned, AssignmentStatus.submitted):
        raise _ended(assignment)
    started = assignment.status is AssignmentStatus.submitted or bool(
        await EvaluationRepository(session).scores(assignment.id)
    )
    if started and data.reason is None:
        raise Unprocessable(
            "assignment.reason_required",
            "Scoring has started: say why the assignment is handed to another evaluator.",
            errors=[field_error("/reason", "assignment.reason_required", "Say why.")],
        )
    if data.evaluator_id == assignment.evaluator_id:
        raise Unprocessable(
            "assignment.same_evaluator",
            "The assignment is already this evaluator's.",
            errors=[field_error("/evaluator_id", "assignment.same_evaluator", "Same evaluator.")],
        )
    evaluators = await EvaluationRepository(session).evaluators([data.evaluator_id])
    evaluator = evaluators.get(data.evaluator_id)
    _check_evaluator(evaluator, data.evaluator_id, "/evaluator_id")
    assert evaluator is not None
    entry = await EvaluationRepository(session).entry(assignment.submission_id)
    assert entry is not None
    before = audit.snapshot(assignment)
    assignment.status = AssignmentStatus.replaced
    assignment.submitted_at = None
    assignment.ended_at = dates.now()
    assignment.end_reason = data.reason
    await session.flush()
    replacement = await _new_assignment(session, principal, round_, entry, evaluator, audited=False)
    assignment.replaced_by_id = replacement.id
    await session.flush()
    await _audit(session, principal, "reassign", assignment, before, reason=data.reason)
    return replacement


def _ended(assignment: Assignment) -> Conflict:
    return Conflict(
        "assignment.ended",
        f"The assignment is {assignment.status.value}: it no longer changes.",
        extra={"current_status": assignment.status.value},
    )


async def _own_assignment(
    session: AsyncSession, principal: Principal, assignment_id: uuid.UUID
) -> tuple[Assignment, CompetitionRound, Competition]:
    """The caller's own assignment, locked, in an open round of an edition in evaluation."""
    assignment, round_, competition = await _assignment(
        session, principal, assignment_id, for_update=True
    )
    if assignment.evaluator_id != principal.id:
        raise Forbidden(
            "assignment.evaluator_only", "Only the assigned evaluator scores or recuses."
        )
    _check_open(round_, competition)
    return assignment, round_, competition


async def recuse(
    session: AsyncSession,
    principal: Principal,
    assignment_id: uuid.UUID,
    data: Recusal,
    preconditions: Preconditions,
) -> Assignment:
    """The evaluator declares a conflict of interest: the assignment ends (its scores no longer
    count) and the evaluator is never assigned the entry again."""
    assignment, _, _ = await _own_assignment(session, principal, assignment_id)
    preconditions.check_match(assignment.version, entity="assignment")
    if assignment.status not in (AssignmentStatus.assigned, AssignmentStatus.submitted):
        raise _ended(assignment)
    before = audit.snapshot(assignment)
    assignment.status = AssignmentStatus.recused
    assignment.submitted_at = None
    assignment.ended_at = dates.now()
    assignment.end_reason = data.reason
    session.add(
        EvaluatorConflict(
            evaluator_id=assignment.evaluator_id,
            submission_id=assignment.submission_id,
            reason=data.reason,
        )
    )
    await session.flush()
    await _audit(session, principal, "recuse", assignment, before, reason=data.reason)
    return assignment


# --- scoring --------------------------------------------------------------------------------


def _plain(scores: Sequence[AssignmentScore]) -> dict[str, Any]:
    """A sheet as the audit trail keeps it: scores with their two decimals, whatever was sent."""
    return {
        str(s.criterion_id): {
            "score": str(Decimal(s.score).quantize(Decimal("0.01"))),
            "comment": s.comment,
        }
        for s in scores
    }


async def put_scores(
    session: AsyncSession,
    principal: Principal,
    assignment_id: uuid.UUID,
    data: ScoresPut,
    preconditions: Preconditions,
) -> Assignment:
    """Replace the evaluator's score sheet; `submit` makes it final."""
    assignment, round_, _ = await _own_assignment(session, principal, assignment_id)
    preconditions.check_match(assignment.version, entity="assignment")
    if assignment.status is AssignmentStatus.submitted:
        raise Conflict(
            "assignment.submitted",
            "The scores are submitted: they no longer change (ask the organiser to reassign).",
        )
    if assignment.status is not AssignmentStatus.assigned:
        raise _ended(assignment)
    submission = await session.get(Submission, assignment.submission_id)
    assert submission is not None
    repo = EvaluationRepository(session)
    criteria = {
        c.id: c for c in await repo.criteria(round_.id) if c.group_id == submission.group_id
    }
    errors = []
    seen: set[uuid.UUID] = set()
    for index, item in enumerate(data.scores):
        criterion = criteria.get(item.criterion_id)
        pointer = f"/scores/{index}"
        if criterion is None:
            errors.append(
                field_error(
                    f"{pointer}/criterion_id",
                    "score.unknown_criterion",
                    "Not a criterion of this round for the entry's group.",
                )
            )
        elif item.criterion_id in seen:
            errors.append(
                field_error(
                    f"{pointer}/criterion_id", "score.duplicate", "The criterion is scored twice."
                )
            )
        elif not criterion.min_score <= item.score <= criterion.max_score:
            errors.append(
                field_error(
                    f"{pointer}/score",
                    "score.out_of_range",
                    f"{criterion.name} is scored from {criterion.min_score} to "
                    f"{criterion.max_score}.",
                )
            )
        seen.add(item.criterion_id)
    if errors:
        raise Unprocessable(errors[0].code, errors[0].message, errors=errors)
    if data.submit:
        missing = [c for c in criteria.values() if c.id not in seen]
        if missing:
            raise Unprocessable(
                "score.incomplete",
                "Every criterion needs a score before the sheet is submitted; missing: "
                + ", ".join(c.name for c in missing)
                + ".",
                errors=[
                    field_error("/scores", "score.incomplete", f"No score for {c.name}.")
                    for c in missing
                ],
            )
    previous = await repo.scores(assignment.id)
    before = audit.snapshot(assignment)
    await session.execute(
        delete(AssignmentScore).where(AssignmentScore.assignment_id == assignment.id)
    )
    new = [
        AssignmentScore(
            assignment_id=assignment.id,
            criterion_id=item.criterion_id,
            score=Decimal(item.score),
            comment=item.comment,
        )
        for item in data.scores
    ]
    session.add_all(new)
    assignment.comment = data.comment
    if data.submit:
        assignment.status = AssignmentStatus.submitted
        assignment.submitted_at = dates.now()
    # Bump the version even when only scores changed: the sheet is the assignment's.
    assignment.updated_at = dates.now()
    await session.flush()
    old_sheet, new_sheet = _plain(previous), _plain(new)
    extra = {"scores": {"from": old_sheet, "to": new_sheet}} if old_sheet != new_sheet else {}
    await _audit(
        session, principal, "submit" if data.submit else "score", assignment, before, extra=extra
    )
    return assignment


# --- ranking and closing --------------------------------------------------------------------


async def _ranked(
    session: AsyncSession, round_: CompetitionRound
) -> tuple[list[EntryRow], list[ranking.Ranked], dict[uuid.UUID, RoundResult]]:
    repo = EvaluationRepository(session)
    closed = round_.status is RoundStatus.closed
    entries = await (
        repo.entries_with_results(round_.id) if closed else repo.entries_in_round(round_.id)
    )
    criteria = [
        ranking.Criterion(c.id, c.group_id, c.weight, c.min_score, c.max_score)
        for c in await repo.criteria(round_.id)
    ]
    evaluations = [
        ranking.Evaluation(assignment_id, submission_id, evaluator_id, scores)
        for assignment_id, submission_id, evaluator_id, scores in await repo.submitted_scores(
            round_.id
        )
    ]
    settings = ranking.Settings(
        advance_quota=round_.advance_quota,
        passing_grade=round_.passing_grade,
        spread_threshold=round_.spread_threshold,
        normalise=round_.normalise_scores,
    )
    ranked = ranking.rank(
        criteria,
        [ranking.Entry(e.id, e.group_id, e.submitted_at) for e in entries],
        evaluations,
        settings,
    )
    results = await repo.results(round_.id) if closed else {}
    return entries, ranked, results


async def get_ranking(
    session: AsyncSession, principal: Principal, round_id: uuid.UUID
) -> RoundRanking:
    round_, competition = await _round(session, principal, round_id)
    if not competitions.runs(principal, competition):
        raise competitions.out_of_scope()
    entries, ranked, results = await _ranked(session, round_)
    by_id = {e.id: e for e in entries}
    repo = EvaluationRepository(session)
    active = await repo.active(round_.id)
    pending = Counter(a.submission_id for a in active if a.status is AssignmentStatus.assigned)
    names = await repo.names(
        sorted({t.evaluator_id for item in ranked for t in item.totals}, key=str)
    )
    items = []
    for item in ranked:
        entry = by_id[item.submission_id]
        result = results.get(item.submission_id)
        items.append(
            RankingEntry(
                rank=item.rank,
                submission_id=item.submission_id,
                innovation_id=entry.innovation_id,
                innovation_title=entry.innovation_title,
                institution_id=entry.institution_id,
                institution_name=entry.institution_name,
                group_id=entry.group_id,
                score=None if item.score is None else float(item.score),
                spread=None if item.spread is None else float(item.spread),
                flagged=item.flagged,
                evaluations=[
                    EvaluatorTotalRead(
                        assignment_id=t.assignment_id,
                        evaluator_id=t.evaluator_id,
                        evaluator_name=names.get(t.evaluator_id, ""),
                        total=float(t.total),
                        counted=float(t.counted),
                    )
                    for t in item.totals
                ],
                pending_evaluations=pending[item.submission_id],
                advances=(
                    result.outcome is RoundOutcome.advanced if result is not None else item.advances
                ),
                outcome=None if result is None else result.outcome,
            )
        )
    return RoundRanking(
        round_id=round_.id,
        status=round_.status,
        normalise_scores=round_.normalise_scores,
        spread_threshold=float(round_.spread_threshold),
        advance_quota=round_.advance_quota,
        passing_grade=None if round_.passing_grade is None else float(round_.passing_grade),
        tie_break=TIE_BREAK,
        entries=items,
    )


async def close_round(
    session: AsyncSession,
    principal: Principal,
    round_id: uuid.UUID,
    data: RoundClose,
    preconditions: Preconditions,
) -> RoundCloseResult:
    """Close the round: refused while assignments are unscored or entries unassigned unless
    forced with a reason; records each entry's score, rank and outcome; moves the advancing
    entries to the next round (or makes them finalists after the last one), giving them the
    round's tier, and eliminates the rest."""
    round_, competition = await _run_round(session, principal, round_id)
    preconditions.check_match(round_.version, entity="round")
    repo = EvaluationRepository(session)
    earlier = await repo.open_earlier_round(round_)
    if earlier is not None:
        raise Conflict(
            "round.earlier_open",
            f"Round {earlier.position} ({earlier.name}) is still open: rounds close in order.",
        )
    if data.force and data.reason is None:
        raise Unprocessable(
            "round.reason_required",
            "Say why the round is closed with evaluations missing.",
            errors=[field_error("/reason", "round.reason_required", "Say why.")],
        )
    entries = await repo.entries_in_round(round_.id)
    in_round = {e.id for e in entries}
    # Assignments of entries no longer evaluated here (disqualified since) do not hold it up.
    active = [a for a in await repo.active(round_.id) if a.submission_id in in_round]
    unscored = [a for a in active if a.status is AssignmentStatus.assigned]
    covered = {a.submission_id for a in active}
    unassigned = [e for e in entries if e.id not in covered]
    if (unscored or unassigned) and not data.force:
        raise Conflict(
            "round.unscored",
            f"{len(unscored)} assignments are not submitted and {len(unassigned)} entries have "
            "no evaluator: finish the evaluation, or close with force and a reason.",
            extra={
                "unscored_assignments": [str(a.id) for a in unscored],
                "unassigned_submissions": [str(e.id) for e in unassigned],
            },
        )
    _, ranked, _ = await _ranked(session, round_)
    following = await repo.next_round(round_)
    now = dates.now()
    submissions = {
        s.id: s for s in await repo.lock_submissions([item.submission_id for item in ranked])
    }
    advanced = 0
    for item in ranked:
        outcome = RoundOutcome.advanced if item.advances else RoundOutcome.eliminated
        repo.add(
            RoundResult(
                round_id=round_.id,
                submission_id=item.submission_id,
                score=item.score,
                rank=item.rank,
                outcome=outcome,
            )
        )
        submission = submissions[item.submission_id]
        before = audit.snapshot(submission)
        if item.advances:
            advanced += 1
            if round_.award_tier is not None:
                submission.final_tier = round_.award_tier
            if following is not None:
                submission.round_id = following.id
            else:
                submission.status = SubmissionStatus.finalist
        else:
            submission.status = SubmissionStatus.eliminated
        await session.flush()
        await audit.record(
            session,
            principal,
            "advance" if item.advances else "eliminate",
            "submission",
            submission.id,
            institution_id=submission.institution_id,
            changes=audit.diff(before, audit.snapshot(submission)),
        )
    before_round = audit.snapshot(round_)
    round_.status = RoundStatus.closed
    round_.closed_at = now
    round_.close_reason = data.reason if data.force else None
    await session.flush()
    await audit.record(
        session,
        principal,
        "close",
        "competition_round",
        round_.id,
        institution_id=competition.organiser_institution_id,
        changes=audit.diff(before_round, audit.snapshot(round_)),
        reason=data.reason,
    )
    return RoundCloseResult(
        round_id=round_.id,
        status=round_.status,
        closed_at=now,
        advanced=advanced,
        eliminated=len(ranked) - advanced,
        next_round_id=following.id if following is not None else None,
    )
