"""Scoring: the evaluator's score sheet for an assignment, editable until it is submitted or the
round closes (docs/evaluation.md)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import Conflict, Unprocessable, field_error
from app.core.security import Principal
from app.domains.audit import service as audit
from app.domains.evaluation.access import ended, own_assignment, record_event
from app.domains.evaluation.repository import EvaluationRepository
from app.domains.evaluation.schemas import ScoresPut
from app.domains.submissions.repository import SubmissionRepository
from app.models.enums import AssignmentStatus
from app.models.evaluation import Assignment, AssignmentScore


def _plain(scores: Sequence[AssignmentScore]) -> dict[str, dict[str, str | None]]:
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
    assignment, round_, _ = await own_assignment(session, principal, assignment_id)
    preconditions.check_match(assignment.version, entity="assignment")
    if assignment.status is AssignmentStatus.submitted:
        raise Conflict(
            "assignment.submitted",
            "The scores are submitted: they no longer change (ask the organiser to reassign).",
        )
    if assignment.status is not AssignmentStatus.assigned:
        raise ended(assignment)
    submission = await SubmissionRepository(session).get(assignment.submission_id)
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
    new = [
        AssignmentScore(
            assignment_id=assignment.id,
            criterion_id=item.criterion_id,
            score=Decimal(item.score),
            comment=item.comment,
        )
        for item in data.scores
    ]
    await repo.replace_scores(assignment.id, new)
    assignment.comment = data.comment
    if data.submit:
        assignment.status = AssignmentStatus.submitted
        assignment.submitted_at = dates.now()
    # Bump the version even when only scores changed: the sheet is the assignment's.
    assignment.updated_at = dates.now()
    await session.flush()
    old_sheet, new_sheet = _plain(previous), _plain(new)
    extra = {"scores": {"from": old_sheet, "to": new_sheet}} if old_sheet != new_sheet else {}
    await record_event(
        session, principal, "submit" if data.submit else "score", assignment, before, extra=extra
    )
    return assignment
