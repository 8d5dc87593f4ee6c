"""What every evaluation write starts from: the round and the assignment a caller reaches, the
guard that a round is open in an edition in evaluation, and an assignment's audit event.

Scores are private: an evaluator reaches only its own assignments (another's is a 404), the
ranking is the organiser's, and audit events of assignments name no institution, so no local
admin lists them.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, Forbidden, NotFound
from app.core.security import Principal
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.competitions import structure
from app.domains.competitions.repository import CompetitionRepository
from app.domains.evaluation.repository import EvaluationRepository
from app.models.competitions import Competition, CompetitionRound
from app.models.enums import CompetitionStatus, Role, RoundStatus
from app.models.evaluation import Assignment


async def round_of(
    session: AsyncSession, principal: Principal | None, round_id: uuid.UUID
) -> tuple[CompetitionRound, Competition]:
    """The round and its edition if the caller may see them; 404 otherwise."""
    round_ = await structure.get_part(session, principal, structure.ROUND, round_id)
    competition = await CompetitionRepository(session).get(round_.competition_id)
    assert competition is not None  # foreign key
    return round_, competition


async def run_round(
    session: AsyncSession, principal: Principal, round_id: uuid.UUID
) -> tuple[CompetitionRound, Competition]:
    """Lock the round and its edition for the organiser's write: 404 unseen, 403 if the caller
    does not run the edition, 409 unless the edition is in evaluation and the round open."""
    _, competition = await round_of(session, principal, round_id)
    if not competitions.runs(principal, competition):
        raise competitions.out_of_scope()
    competition = await competitions.get_competition(
        session, principal, competition.id, for_update=True
    )
    locked = await CompetitionRepository(session).get_part(
        CompetitionRound, round_id, for_update=True
    )
    assert locked is not None
    check_open(locked, competition)
    return locked, competition


def check_open(round_: CompetitionRound, competition: Competition) -> None:
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


def assignment_not_found(assignment_id: uuid.UUID) -> NotFound:
    return NotFound("assignment.not_found", f"No assignment has the id {assignment_id}.")


async def reach_assignment(
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
        raise assignment_not_found(assignment_id)
    round_, competition = await round_of(session, principal, assignment.round_id)
    own = principal.role is Role.evaluator and assignment.evaluator_id == principal.id
    if not own and not competitions.runs(principal, competition):
        raise assignment_not_found(assignment_id)
    return assignment, round_, competition


async def record_event(
    session: AsyncSession,
    principal: Principal,
    action: str,
    assignment: Assignment,
    before: audit.Snapshot | None,
    *,
    reason: str | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
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


def ended(assignment: Assignment) -> Conflict:
    return Conflict(
        "assignment.ended",
        f"The assignment is {assignment.status.value}: it no longer changes.",
        extra={"current_status": assignment.status.value},
    )


async def own_assignment(
    session: AsyncSession, principal: Principal, assignment_id: uuid.UUID
) -> tuple[Assignment, CompetitionRound, Competition]:
    """The caller's own assignment, locked, in an open round of an edition in evaluation."""
    assignment, round_, competition = await reach_assignment(
        session, principal, assignment_id, for_update=True
    )
    if assignment.evaluator_id != principal.id:
        raise Forbidden(
            "assignment.evaluator_only", "Only the assigned evaluator scores or recuses."
        )
    check_open(round_, competition)
    return assignment, round_, competition
