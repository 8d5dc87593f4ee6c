"""Evaluation: assignments, scores, the ranking and closing a round (docs/evaluation.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import IfMatchDep, IfMatchRequiredDep, versioned
from app.core.openapi import problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal
from app.db.session import SessionDep
from app.domains.evaluation import assignments, closing, scoring
from app.domains.evaluation.schemas import (
    AssignmentCreate,
    AssignmentPage,
    AssignmentRead,
    AutoAssign,
    AutoAssignResult,
    Reassign,
    Recusal,
    RoundClose,
    RoundCloseResult,
    RoundRanking,
    ScoresPut,
)
from app.models.enums import AssignmentStatus
from app.models.evaluation import Assignment

router = APIRouter(tags=["evaluation"], route_class=PolicyRoute)


async def _read(
    session: AsyncSession, assignment: Assignment, response: Response
) -> AssignmentRead:
    """The assignment as `AssignmentRead` shows it, with its ETag."""
    return versioned(response, assignment, await assignments.read_model(session, assignment))


@router.get("/rounds/{round_id}/assignments", responses=problems(400, 403, 404))
async def list_round_assignments(
    session: SessionDep,
    principal: CurrentPrincipal,
    round_id: uuid.UUID,
    page: PageDep,
    evaluator_id: Annotated[uuid.UUID | None, Query(description="This evaluator's.")] = None,
    submission_id: Annotated[uuid.UUID | None, Query(description="Of this entry.")] = None,
    status_: Annotated[
        list[AssignmentStatus] | None, Query(alias="status", description="Any of these.")
    ] = None,
) -> AssignmentPage:
    """List the round's assignments, oldest first: every one for the organiser, its own for an
    evaluator."""
    result = await assignments.list_assignments(
        session,
        principal,
        round_id,
        page,
        evaluator_id=evaluator_id,
        submission_id=submission_id,
        statuses=status_ or [],
    )
    return AssignmentPage(
        items=await assignments.summaries(session, result.items),
        next_cursor=result.next_cursor,
        has_more=result.has_more,
        total=result.total,
    )


@router.post(
    "/rounds/{round_id}/assignments",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404, 409),
)
async def create_assignment(
    session: SessionDep,
    principal: CurrentPrincipal,
    round_id: uuid.UUID,
    body: AssignmentCreate,
    response: Response,
) -> AssignmentRead:
    """Assign one entry of the round to one evaluator. An evaluator of the entry's institution
    or, for a regional government's entry, of the same province, or one who recused from it,
    is a conflict of interest (409)."""
    assignment = await assignments.create_assignment(session, principal, round_id, body)
    response.headers["Location"] = f"/v1/assignments/{assignment.id}"
    return await _read(session, assignment, response)


@router.post(
    "/rounds/{round_id}/assignments/auto-assign",
    status_code=status.HTTP_201_CREATED,
    response_description="Assignments were created: `created` lists them.",
    responses={
        200: {
            "description": "Every entry already had its evaluators: nothing was created "
            "(`created` is empty, `loads` are the panel's current loads).",
            "model": AutoAssignResult,
        },
        **problems(403, 404, 409),
    },
)
async def auto_assign_round(
    session: SessionDep,
    principal: CurrentPrincipal,
    round_id: uuid.UUID,
    body: AutoAssign,
    response: Response,
) -> AutoAssignResult:
    """Give every entry of the round `evaluators_per_submission` evaluators from the panel,
    conflicts of interest excluded, balancing the evaluators' loads (all or nothing). 201 when
    it created assignments, 200 when there was nothing to create."""
    result = await assignments.auto_assign(session, principal, round_id, body)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return result


@router.get("/assignments/{assignment_id}", responses=problems(404))
async def get_assignment(
    session: SessionDep, principal: CurrentPrincipal, assignment_id: uuid.UUID, response: Response
) -> AssignmentRead:
    """Get an assignment with the entry's answers and the evaluator's scores."""
    assignment = await assignments.get_assignment(session, principal, assignment_id)
    return await _read(session, assignment, response)


@router.post(
    "/assignments/{assignment_id}/reassign",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404, 409, 412),
)
async def reassign_assignment(
    session: SessionDep,
    principal: CurrentPrincipal,
    assignment_id: uuid.UUID,
    body: Reassign,
    response: Response,
    cond: IfMatchDep,
) -> AssignmentRead:
    """Hand the assignment to another evaluator; returns the new assignment. Once scoring
    started a reason is required; the old assignment's scores are kept but no longer count."""
    assignment = await assignments.reassign(session, principal, assignment_id, body, cond)
    response.headers["Location"] = f"/v1/assignments/{assignment.id}"
    return await _read(session, assignment, response)


@router.post("/assignments/{assignment_id}/recuse", responses=problems(403, 404, 409, 412))
async def recuse_assignment(
    session: SessionDep,
    principal: CurrentPrincipal,
    assignment_id: uuid.UUID,
    body: Recusal,
    response: Response,
    cond: IfMatchDep,
) -> AssignmentRead:
    """The evaluator declares a conflict of interest with the entry and steps down; it is
    never assigned the entry again."""
    assignment = await assignments.recuse(session, principal, assignment_id, body, cond)
    return await _read(session, assignment, response)


@router.put("/assignments/{assignment_id}/scores", responses=problems(403, 404, 409, 412))
async def put_assignment_scores(
    session: SessionDep,
    principal: CurrentPrincipal,
    assignment_id: uuid.UUID,
    body: ScoresPut,
    response: Response,
    cond: IfMatchRequiredDep,
) -> AssignmentRead:
    """Replace the evaluator's score sheet: one score per criterion of the round for the entry's
    group, each within the criterion's range. Editable until submitted (`submit: true`, every
    criterion scored) or the round closes."""
    assignment = await scoring.put_scores(session, principal, assignment_id, body, cond)
    return await _read(session, assignment, response)


@router.get("/rounds/{round_id}/ranking", responses=problems(403, 404))
async def get_round_ranking(
    session: SessionDep, principal: CurrentPrincipal, round_id: uuid.UUID
) -> RoundRanking:
    """The round's entries in rank order, from submitted evaluations: each evaluator's weighted
    total, the mean, the spread and its flag, and whether the entry would advance (or, once
    closed, its recorded outcome). docs/evaluation.md gives every rule."""
    return await closing.get_ranking(session, principal, round_id)


@router.post("/rounds/{round_id}/close", responses=problems(403, 404, 409, 412))
async def close_round(
    session: SessionDep,
    principal: CurrentPrincipal,
    round_id: uuid.UUID,
    body: RoundClose,
    cond: IfMatchDep,
) -> RoundCloseResult:
    """Close the round: the advancing entries move to the next round (after the last one they
    are finalists) with the round's tier, the rest are eliminated. Refused (409) while
    assignments are unscored or entries unassigned, unless `force` with a reason."""
    return await closing.close_round(session, principal, round_id, body, cond)
