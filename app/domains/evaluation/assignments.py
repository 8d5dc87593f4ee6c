"""Assigning a round's entries to evaluators: by hand or balanced automatically, conflicts of
interest excluded; handing an assignment to another evaluator; an evaluator's recusal; and the
reads of assignments (docs/evaluation.md).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import Conflict, Forbidden, Unprocessable, field_error
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.evaluation.access import (
    ended,
    own_assignment,
    reach_assignment,
    record_event,
    round_of,
    run_round,
)
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
    Reassign,
    Recusal,
    ScoreRead,
    SubmissionAnswerRead,
)
from app.domains.notifications import audience, events
from app.domains.submissions.repository import SubmissionRepository
from app.models.competitions import CompetitionRound
from app.models.enums import AssignmentStatus, Role, SubmissionStatus
from app.models.evaluation import Assignment, EvaluatorConflict

CONFLICTS = {
    "same_institution": "the evaluator belongs to the entry's institution",
    "same_region": "the evaluator's institution sits in the same province as the entry's "
    "regional government",
    "declared": "the evaluator declared a conflict of interest with the entry",
}


# --- reads ----------------------------------------------------------------------------------


async def read_model(session: AsyncSession, assignment: Assignment) -> AssignmentRead:
    """The assignment with the entry to evaluate, its answers and the evaluator's scores."""
    repo = EvaluationRepository(session)
    submission = await SubmissionRepository(session).get(assignment.submission_id)
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
        answers=[SubmissionAnswerRead.model_validate(answer) for answer in answers],
        created_at=assignment.created_at,
        updated_at=assignment.updated_at,
        version=assignment.version,
    )


async def summaries(
    session: AsyncSession, assignments: Sequence[Assignment]
) -> list[AssignmentSummary]:
    """The assignments as lists show them, in the order given."""
    found = await EvaluationRepository(session).summaries(assignments)
    return [
        AssignmentSummary(
            id=a.id,
            round_id=a.round_id,
            submission_id=a.submission_id,
            innovation_title=found[a.id].innovation_title,
            evaluator_id=a.evaluator_id,
            evaluator_name=found[a.id].evaluator_name,
            status=a.status,
            scored_criteria=found[a.id].scored_criteria,
            submitted_at=a.submitted_at,
            created_at=a.created_at,
        )
        for a in assignments
    ]


async def get_assignment(
    session: AsyncSession, principal: Principal, assignment_id: uuid.UUID
) -> Assignment:
    assignment, _, _ = await reach_assignment(session, principal, assignment_id)
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
    _, competition = await round_of(session, principal, round_id)
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


async def _tell_assigned(
    session: AsyncSession, principal: Principal, assignment: Assignment, entry: EntryRow
) -> None:
    """The evaluator is told of its new assignment (docs/notifications.md): the entry's title,
    the round and the edition, which its assignment shows it; never who had it before."""
    await events.emit(
        session,
        "assignment.created",
        "assignment",
        assignment.id,
        audience=[audience.person(assignment.evaluator_id)],
        actor=principal,
        refs={
            "innovation": entry.innovation_id,
            "competition": assignment.competition_id,
            "round": assignment.round_id,
        },
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
    if not await repo.add_unique(assignment):
        raise Conflict(
            "assignment.duplicate",
            f"{evaluator.name} is already assigned this entry in this round.",
        )
    if audited:
        await record_event(session, principal, "assign", assignment, None)
    await _tell_assigned(session, principal, assignment, entry)
    return assignment


async def create_assignment(
    session: AsyncSession, principal: Principal, round_id: uuid.UUID, data: AssignmentCreate
) -> Assignment:
    round_, _ = await run_round(session, principal, round_id)
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
    round_, _ = await run_round(session, principal, round_id)
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
    # One message per evaluator for the request: the number of entries it was given.
    given = Counter(a.evaluator_id for a in created)
    for evaluator_id in sorted(given, key=str):
        await events.emit(
            session,
            "assignment.auto_assigned",
            "competition_round",
            round_.id,
            audience=[audience.person(evaluator_id)],
            actor=principal,
            data={"count": given[evaluator_id]},
            refs={"competition": round_.competition_id, "round": round_.id},
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
    assignment, round_, competition = await reach_assignment(
        session, principal, assignment_id, for_update=True
    )
    if not competitions.runs(principal, competition):
        raise Forbidden("assignment.organiser_only", "Only whoever runs the competition reassigns.")
    round_, competition = await run_round(session, principal, round_.id)
    preconditions.check_match(assignment.version, entity="assignment")
    if assignment.status not in (AssignmentStatus.assigned, AssignmentStatus.submitted):
        raise ended(assignment)
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
    await record_event(session, principal, "reassign", assignment, before, reason=data.reason)
    return replacement


async def recuse(
    session: AsyncSession,
    principal: Principal,
    assignment_id: uuid.UUID,
    data: Recusal,
    preconditions: Preconditions,
) -> Assignment:
    """The evaluator declares a conflict of interest: the assignment ends (its scores no longer
    count) and the evaluator is never assigned the entry again."""
    assignment, _, _ = await own_assignment(session, principal, assignment_id)
    preconditions.check_match(assignment.version, entity="assignment")
    if assignment.status not in (AssignmentStatus.assigned, AssignmentStatus.submitted):
        raise ended(assignment)
    before = audit.snapshot(assignment)
    assignment.status = AssignmentStatus.recused
    assignment.submitted_at = None
    assignment.ended_at = dates.now()
    assignment.end_reason = data.reason
    EvaluationRepository(session).add_conflict(
        EvaluatorConflict(
            evaluator_id=assignment.evaluator_id,
            submission_id=assignment.submission_id,
            reason=data.reason,
        )
    )
    await session.flush()
    await record_event(session, principal, "recuse", assignment, before, reason=data.reason)
    return assignment
