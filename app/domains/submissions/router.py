from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import IfMatchDep, IfMatchRequiredDep, IfNoneMatchDep, versioned
from app.core.openapi import not_modified, problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal, MaybePrincipal
from app.db.session import SessionDep, StreamSessionDep
from app.domains.innovations import export
from app.domains.submissions import flow, service
from app.domains.submissions.schemas import (
    SubmissionCreate,
    SubmissionFilter,
    SubmissionPage,
    SubmissionRead,
    SubmissionSort,
    SubmissionTransition,
    SubmissionUpdate,
)
from app.models.enums import SubmissionStatus
from app.models.submissions import Submission

router = APIRouter(tags=["submissions"], route_class=PolicyRoute)

# The export's columns, in order (stable: new columns are only ever appended).
EXPORT_COLUMNS = (
    "submission_id",
    "competition_code",
    "group_code",
    "category_code",
    "innovation_id",
    "innovation_title",
    "institution_id",
    "institution_name",
    "unit_id",
    "unit_name",
    "status",
    "sent_at",
    "submitted_at",
    "screened_at",
    "screening_outcome",
    "screening_reason",
    "screening_note",
)


async def _read(
    session: AsyncSession, submission: Submission, response: Response, *, insider: bool = True
) -> SubmissionRead:
    """The entry as this caller sees it, with its ETag."""
    body = await service.read_model(session, submission, insider=insider)
    return versioned(response, submission, body)


@router.get("/submissions", responses=problems(400))
async def list_submissions(
    session: SessionDep,
    principal: MaybePrincipal,
    page: PageDep,
    competition_id: uuid.UUID | None = None,
    group_id: uuid.UUID | None = None,
    category_id: uuid.UUID | None = None,
    status_: Annotated[
        list[SubmissionStatus] | None, Query(alias="status", description="Any of these.")
    ] = None,
    institution_id: uuid.UUID | None = None,
    region: Annotated[
        str | None,
        Query(
            max_length=13,
            pattern=r"^[0-9]{2}(\.[0-9]{2}(\.[0-9]{2}(\.[0-9]{4})?)?)?$",
            description="A region code: a province matches every institution inside it.",
        ),
    ] = None,
    round_id: Annotated[uuid.UUID | None, Query(description="In this round.")] = None,
    sort: SubmissionSort = SubmissionSort.created_at_desc,
) -> SubmissionPage:
    """List the entries within the caller's reach (answers are on the single entry)."""
    filters = SubmissionFilter(
        competition_id=competition_id,
        group_id=group_id,
        category_id=category_id,
        status=status_ or [],
        institution_id=institution_id,
        region=region,
        round_id=round_id,
    )
    result, shown = await service.list_submissions(session, principal, filters, sort, page)
    return SubmissionPage(
        items=shown,
        next_cursor=result.next_cursor,
        has_more=result.has_more,
        total=result.total,
    )


@router.post("/submissions", status_code=status.HTTP_201_CREATED, responses=problems(403, 409))
async def create_submission(
    session: SessionDep, principal: CurrentPrincipal, body: SubmissionCreate, response: Response
) -> SubmissionRead:
    """Enter one of the caller's innovations in an open edition, as a draft (the entry rules
    are checked when it is sent)."""
    submission = await service.create_submission(session, principal, body)
    response.headers["Location"] = f"/v1/submissions/{submission.id}"
    return await _read(session, submission, response)


@router.get(
    "/submissions/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The edition's entries as CSV; columns as documented in the README.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problems(403, 404),
    },
)
async def export_submissions(
    session: StreamSessionDep,
    principal: CurrentPrincipal,
    competition_id: Annotated[uuid.UUID, Query(description="The edition.")],
) -> StreamingResponse:
    """Every entry of one edition with its screening outcome, as CSV (UTF-8, header row)."""
    rows = await service.export_rows(session, principal, competition_id)
    return StreamingResponse(
        export.csv_chunks(rows, EXPORT_COLUMNS),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="submissions.csv"'},
    )


@router.get("/submissions/{submission_id:uuid}", responses={**problems(404), **not_modified()})
async def get_submission(
    session: SessionDep,
    principal: MaybePrincipal,
    submission_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> SubmissionRead:
    """Get one entry with its answers."""
    submission, insider = await service.get_submission(session, principal, submission_id)
    cond.check_not_modified(submission.version)
    return await _read(session, submission, response, insider=insider)


@router.patch("/submissions/{submission_id:uuid}", responses=problems(403, 404, 409, 412))
async def update_submission(
    session: SessionDep,
    principal: CurrentPrincipal,
    submission_id: uuid.UUID,
    body: SubmissionUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> SubmissionRead:
    """Change a draft or returned entry while registration is open; `answers` replaces the
    whole set."""
    submission = await service.update_submission(session, principal, submission_id, body, cond)
    return await _read(session, submission, response)


@router.delete(
    "/submissions/{submission_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409, 412),
)
async def delete_submission(
    session: SessionDep,
    principal: CurrentPrincipal,
    submission_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Delete a draft never sent; a later entry is withdrawn instead (409)."""
    await service.delete_submission(session, principal, submission_id, cond)


@router.post(
    "/submissions/{submission_id:uuid}/transitions", responses=problems(403, 404, 409, 412)
)
async def transition_submission(
    session: SessionDep,
    principal: CurrentPrincipal,
    submission_id: uuid.UUID,
    body: SubmissionTransition,
    response: Response,
    cond: IfMatchDep,
) -> SubmissionRead:
    """Move an entry one step: `submit` (to the local admin), `approve` (to the organiser) or
    `return` (for revision, with a reason), `withdraw`, `screen` (`in`, or `out` with a
    screening reason). Sending, approving and screening in check the edition's entry rules: a
    refusal is a 409 or 422 with the first broken rule's code, and `problems` lists them all."""
    submission = await flow.transition_submission(session, principal, submission_id, body, cond)
    return await _read(session, submission, response)
