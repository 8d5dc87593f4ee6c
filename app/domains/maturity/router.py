from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.core.concurrency import (
    IfMatchDep,
    IfMatchRequiredDep,
    IfNoneMatchDep,
    read_versioned,
    versioned,
)
from app.core.openapi import not_modified, problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal, MaybePrincipal
from app.db.session import SessionDep
from app.domains.maturity import service
from app.domains.maturity.schemas import (
    AnswersPut,
    AssessmentCreate,
    AssessmentFilter,
    AssessmentPage,
    AssessmentRead,
    AssessmentReview,
    AssessmentSort,
    MaturityInstrumentCreate,
    MaturityInstrumentFilter,
    MaturityInstrumentPage,
    MaturityInstrumentRead,
    MaturityInstrumentSort,
    MaturityInstrumentTransition,
    MaturityInstrumentUpdate,
    PeriodYear,
)
from app.models.enums import AssessmentStatus, MaturityInstrumentStatus

router = APIRouter(tags=["maturity"], route_class=PolicyRoute)


# --- instruments ----------------------------------------------------------------------------


@router.get("/maturity-instruments", responses=problems(400))
async def list_maturity_instruments(
    session: SessionDep,
    principal: MaybePrincipal,
    page: PageDep,
    code: Annotated[str | None, Query(max_length=40, description="Revisions of this code.")] = None,
    status_: Annotated[
        list[MaturityInstrumentStatus] | None,
        Query(alias="status", description="Drafts are the secretariat's only."),
    ] = None,
    sort: MaturityInstrumentSort = MaturityInstrumentSort.code,
) -> MaturityInstrumentPage:
    """List maturity instrument revisions (by code, then revision)."""
    filters = MaturityInstrumentFilter(code=code, status=status_ or [])
    result = await service.list_instruments(session, principal, filters, sort, page)
    return MaturityInstrumentPage.model_validate(result, from_attributes=True)


@router.post("/maturity-instruments", status_code=status.HTTP_201_CREATED, responses=problems(409))
async def create_maturity_instrument(
    session: SessionDep,
    principal: CurrentPrincipal,
    body: MaturityInstrumentCreate,
    response: Response,
) -> MaturityInstrumentRead:
    """Create a draft revision: revision 1 of a new code or the next of an existing one. The
    aspects' weights sum to 1, and so do each aspect's questions' (422 naming the sum)."""
    instrument = await service.create_instrument(session, principal, body)
    response.headers["Location"] = f"/v1/maturity-instruments/{instrument.id}"
    return read_versioned(MaturityInstrumentRead, instrument, response)


@router.get("/maturity-instruments/{instrument_id}", responses={**problems(404), **not_modified()})
async def get_maturity_instrument(
    session: SessionDep,
    principal: MaybePrincipal,
    instrument_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> MaturityInstrumentRead:
    """Get one revision with its aspects, questions and options."""
    instrument = await service.get_instrument(session, principal, instrument_id)
    cond.check_not_modified(instrument.version)
    return read_versioned(MaturityInstrumentRead, instrument, response)


@router.patch("/maturity-instruments/{instrument_id}", responses=problems(404, 409, 412))
async def update_maturity_instrument(
    session: SessionDep,
    principal: CurrentPrincipal,
    instrument_id: uuid.UUID,
    body: MaturityInstrumentUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> MaturityInstrumentRead:
    """Change a draft revision; a published or retired one is frozen (409)."""
    instrument = await service.update_instrument(session, principal, instrument_id, body, cond)
    return read_versioned(MaturityInstrumentRead, instrument, response)


@router.delete(
    "/maturity-instruments/{instrument_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(404, 409, 412),
)
async def delete_maturity_instrument(
    session: SessionDep,
    principal: CurrentPrincipal,
    instrument_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Delete a draft revision (a published or retired one stays: 409)."""
    await service.delete_instrument(session, principal, instrument_id, cond)


@router.post("/maturity-instruments/{instrument_id}/transitions", responses=problems(404, 409, 412))
async def transition_maturity_instrument(
    session: SessionDep,
    principal: CurrentPrincipal,
    instrument_id: uuid.UUID,
    body: MaturityInstrumentTransition,
    response: Response,
    cond: IfMatchDep,
) -> MaturityInstrumentRead:
    """`publish` a draft (the code's published revision is retired) or `retire` a published
    revision; another step is a 409 naming the allowed ones."""
    instrument = await service.transition_instrument(session, principal, instrument_id, body, cond)
    return read_versioned(MaturityInstrumentRead, instrument, response)


# --- assessments ----------------------------------------------------------------------------


@router.get("/hubs/{hub_id}/assessments", responses=problems(400, 404))
async def list_hub_assessments(
    session: SessionDep,
    principal: MaybePrincipal,
    hub_id: uuid.UUID,
    page: PageDep,
    status_: Annotated[
        list[AssessmentStatus] | None,
        Query(alias="status", description="Only verified ones outside the hub and secretariat."),
    ] = None,
    period_year: Annotated[PeriodYear | None, Query()] = None,
    sort: AssessmentSort = AssessmentSort.period_year_desc,
) -> AssessmentPage:
    """A hub's maturity assessments over the years (summaries; newest first)."""
    filters = AssessmentFilter(status=status_ or [], period_year=period_year)
    result = await service.list_assessments(session, principal, hub_id, filters, sort, page)
    return AssessmentPage.model_validate(result, from_attributes=True)


@router.post(
    "/hubs/{hub_id}/assessments",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404, 409),
)
async def create_hub_assessment(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    body: AssessmentCreate,
    response: Response,
) -> AssessmentRead:
    """Open the hub's self-assessment of a year against a published instrument revision (one
    per hub and year)."""
    assessment = await service.create_assessment(session, principal, hub_id, body)
    response.headers["Location"] = f"/v1/hubs/{hub_id}/assessments/{assessment.id}"
    return versioned(response, assessment, await service.view(session, assessment))


@router.get(
    "/hubs/{hub_id}/assessments/{assessment_id}", responses={**problems(404), **not_modified()}
)
async def get_hub_assessment(
    session: SessionDep,
    principal: MaybePrincipal,
    hub_id: uuid.UUID,
    assessment_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> AssessmentRead:
    """One assessment with its answers, scores and aspect subtotals."""
    assessment = await service.get_assessment(session, principal, hub_id, assessment_id)
    cond.check_not_modified(assessment.version)
    return versioned(response, assessment, await service.view(session, assessment))


@router.delete(
    "/hubs/{hub_id}/assessments/{assessment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409, 412),
)
async def delete_hub_assessment(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    assessment_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Delete a draft assessment (a submitted one is the hub's record: 409)."""
    await service.delete_assessment(session, principal, hub_id, assessment_id, cond)


@router.put(
    "/hubs/{hub_id}/assessments/{assessment_id}/answers",
    responses=problems(403, 404, 409, 412),
)
async def put_hub_assessment_answers(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    assessment_id: uuid.UUID,
    body: AnswersPut,
    response: Response,
    cond: IfMatchRequiredDep,
) -> AssessmentRead:
    """Add or replace answers (draft or returned); other answers stay as they are."""
    assessment = await service.put_answers(session, principal, hub_id, assessment_id, body, cond)
    return versioned(response, assessment, await service.view(session, assessment))


@router.post(
    "/hubs/{hub_id}/assessments/{assessment_id}/submit",
    responses=problems(403, 404, 409, 412),
)
async def submit_hub_assessment(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    assessment_id: uuid.UUID,
    response: Response,
    cond: IfMatchDep,
) -> AssessmentRead:
    """Submit for verification: every question answered and evidence attached where the
    chosen option needs it (a 422 lists each gap)."""
    assessment = await service.submit_assessment(session, principal, hub_id, assessment_id, cond)
    return versioned(response, assessment, await service.view(session, assessment))


@router.post(
    "/hubs/{hub_id}/assessments/{assessment_id}/review",
    responses=problems(404, 409, 412),
)
async def review_hub_assessment(
    session: SessionDep,
    principal: CurrentPrincipal,
    hub_id: uuid.UUID,
    assessment_id: uuid.UUID,
    body: AssessmentReview,
    response: Response,
    cond: IfMatchDep,
) -> AssessmentRead:
    """The verifier's decision on a submitted assessment: re-score answers with notes, then
    `verify` (sets the total) or `return` it to the hub with a reason."""
    assessment = await service.review_assessment(
        session, principal, hub_id, assessment_id, body, cond
    )
    return versioned(response, assessment, await service.view(session, assessment))
