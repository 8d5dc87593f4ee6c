"""Results: announcements, objections and awards (docs/evaluation.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.core.concurrency import IfMatchDep, read_versioned
from app.core.openapi import problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal, MaybePrincipal
from app.db.session import SessionDep
from app.domains.competitions.schemas import AWARD_TIER_PATTERN
from app.domains.results import announcements, awards, objections
from app.domains.results.schemas import (
    AnnouncementCreate,
    AnnouncementPage,
    AnnouncementRead,
    AwardCreate,
    AwardList,
    AwardPage,
    AwardRead,
    ObjectionCreate,
    ObjectionPage,
    ObjectionRead,
    ObjectionReceipt,
    ObjectionReview,
)

router = APIRouter(tags=["results"], route_class=PolicyRoute)


@router.get("/competitions/{competition_id}/announcements", responses=problems(400, 404))
async def list_competition_announcements(
    session: SessionDep, principal: MaybePrincipal, competition_id: uuid.UUID, page: PageDep
) -> AnnouncementPage:
    """The edition's announcements, newest first."""
    result, competition = await announcements.list_announcements(
        session, principal, competition_id, page
    )
    return AnnouncementPage(
        items=[
            await announcements.read_announcement(session, a, competition) for a in result.items
        ],
        next_cursor=result.next_cursor,
        has_more=result.has_more,
        total=result.total,
    )


@router.post(
    "/competitions/{competition_id}/announcements",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 404, 409),
)
async def create_announcement(
    session: SessionDep,
    principal: CurrentPrincipal,
    competition_id: uuid.UUID,
    body: AnnouncementCreate,
    response: Response,
) -> AnnouncementRead:
    """Publish a numbered announcement of a closed round's outcome or of the final results
    (every round closed); it opens a public objection window (5 calendar days by default)."""
    announcement = await announcements.create_announcement(session, principal, competition_id, body)
    _, competition = await announcements.get_announcement(session, principal, announcement.id)
    response.headers["Location"] = f"/v1/announcements/{announcement.id}"
    return await announcements.read_announcement(session, announcement, competition)


@router.get("/announcements/{announcement_id}", responses=problems(404))
async def get_announcement(
    session: SessionDep, principal: MaybePrincipal, announcement_id: uuid.UUID
) -> AnnouncementRead:
    """One announcement with the entries it announced (scores only where the edition publishes
    them)."""
    announcement, competition = await announcements.get_announcement(
        session, principal, announcement_id
    )
    return await announcements.read_announcement(session, announcement, competition)


@router.get("/announcements/{announcement_id}/objections", responses=problems(400, 403, 404))
async def list_announcement_objections(
    session: SessionDep, principal: CurrentPrincipal, announcement_id: uuid.UUID, page: PageDep
) -> ObjectionPage:
    """The objections filed against the announcement, oldest first, with the filers' contacts."""
    result = await objections.list_objections(session, principal, announcement_id, page)
    return ObjectionPage(
        items=[ObjectionRead.model_validate(o) for o in result.items],
        next_cursor=result.next_cursor,
        has_more=result.has_more,
        total=result.total,
    )


@router.post(
    "/announcements/{announcement_id}/objections",
    status_code=status.HTTP_201_CREATED,
    responses=problems(404, 409),
)
async def file_objection(
    session: SessionDep,
    principal: MaybePrincipal,
    announcement_id: uuid.UUID,
    body: ObjectionCreate,
    response: Response,
) -> ObjectionReceipt:
    """Object to an announced entry while the window is open (409 after it); anyone may."""
    objection = await objections.file_objection(session, principal, announcement_id, body)
    response.headers["Location"] = f"/v1/objections/{objection.id}"
    return ObjectionReceipt(
        id=objection.id,
        announcement_id=objection.announcement_id,
        submission_id=objection.submission_id,
        status=objection.status,
        created_at=objection.created_at,
    )


@router.get("/objections/{objection_id}", responses=problems(404))
async def get_objection(
    session: SessionDep, principal: CurrentPrincipal, objection_id: uuid.UUID, response: Response
) -> ObjectionRead:
    """One objection, for whoever runs the edition."""
    objection = await objections.get_objection(session, principal, objection_id)
    return read_versioned(ObjectionRead, objection, response)


@router.post("/objections/{objection_id}/review", responses=problems(404, 409, 412))
async def review_objection(
    session: SessionDep,
    principal: CurrentPrincipal,
    objection_id: uuid.UUID,
    body: ObjectionReview,
    response: Response,
    cond: IfMatchDep,
) -> ObjectionRead:
    """Uphold (the entry is disqualified; `promote_next` advances the best-ranked eliminated
    entry of the round that decided it and publishes an amended announcement naming it, with
    its own objection window) or dismiss a filed objection. Whoever runs the edition."""
    objection = await objections.review_objection(session, principal, objection_id, body, cond)
    return read_versioned(ObjectionRead, objection, response)


@router.get("/awards", responses=problems(400))
async def list_awards(
    session: SessionDep,
    page: PageDep,
    competition_id: Annotated[uuid.UUID | None, Query(description="Of this edition.")] = None,
    innovation_id: Annotated[uuid.UUID | None, Query(description="Won by this one.")] = None,
    institution_id: Annotated[uuid.UUID | None, Query(description="Won by its.")] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    tier: Annotated[
        str | None, Query(max_length=30, pattern=AWARD_TIER_PATTERN, examples=["top_45"])
    ] = None,
) -> AwardPage:
    """Awards, the permanent public record: newest year first."""
    result = await awards.list_awards(
        session,
        page,
        competition_id=competition_id,
        innovation_id=innovation_id,
        institution_id=institution_id,
        year=year,
        tier=tier.lower() if tier else None,
    )
    return AwardPage(
        items=[AwardRead.model_validate(a) for a in result.items],
        next_cursor=result.next_cursor,
        has_more=result.has_more,
        total=result.total,
    )


@router.post("/awards", status_code=status.HTTP_201_CREATED, responses=problems(403))
async def create_award(
    session: SessionDep, principal: CurrentPrincipal, body: AwardCreate, response: Response
) -> AwardRead:
    """Record a historic award, won before this service (decreed results create their own)."""
    award = await awards.create_award(session, principal, body)
    response.headers["Location"] = f"/v1/awards/{award.id}"
    return AwardRead.model_validate(award)


@router.get("/awards/{award_id}", responses=problems(404))
async def get_award(session: SessionDep, award_id: uuid.UUID) -> AwardRead:
    return AwardRead.model_validate(await awards.get_award(session, award_id))


@router.get(
    "/innovations/{innovation_id:uuid}/awards", tags=["innovations"], responses=problems(404)
)
async def list_innovation_awards(
    session: SessionDep, principal: MaybePrincipal, innovation_id: uuid.UUID
) -> AwardList:
    """The innovation's awards, newest first (its award history)."""
    history = await awards.innovation_awards(session, principal, innovation_id)
    return AwardList(items=[AwardRead.model_validate(a) for a in history])
