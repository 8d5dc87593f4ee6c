from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response

from app.core.openapi import problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal
from app.db.session import SessionDep
from app.domains.notifications import mailing_service, service
from app.domains.notifications.schemas import (
    EmailMessagePage,
    MailingCreate,
    MailingPage,
    MailingPreview,
    MailingRead,
    NotificationPage,
    NotificationPreferences,
    NotificationPreferencesUpdate,
    NotificationRead,
    ReadAllResult,
)

router = APIRouter(tags=["notifications"], route_class=PolicyRoute)

_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {
        "description": "Not modified: nothing changed in your notifications since "
        "`If-Modified-Since`."
    }
}


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # an unreadable date is ignored (RFC 9110 13.1.3)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@router.get(
    "/notifications",
    response_model=NotificationPage,
    responses={**problems(400, 403), **_NOT_MODIFIED},
)
async def list_notifications(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    response: Response,
    unread: Annotated[
        bool | None, Query(description="true: unread only; false: read only; absent: all.")
    ] = None,
    if_modified_since: Annotated[
        str | None,
        Header(
            description="The `Last-Modified` of your previous poll: 304 if nothing changed "
            "since (one cheap read)."
        ),
    ] = None,
) -> Any:
    """Your in-app notifications, newest first, and how many are unread. Poll with
    `If-Modified-Since`: a 304 costs one read of one row."""
    changed = await service.changed_at(session, principal)
    since = _http_date(if_modified_since)
    if changed is not None:
        last_modified = format_datetime(changed.astimezone(UTC), usegmt=True)
        if since is not None and changed <= since:
            return Response(status_code=304, headers={"Last-Modified": last_modified})
        response.headers["Last-Modified"] = last_modified
    response.headers["Cache-Control"] = "private, no-cache"
    result, unread_count = await service.list_notifications(
        session, principal, unread=unread, page=page
    )
    return NotificationPage(
        items=[NotificationRead.model_validate(item) for item in result.items],
        next_cursor=result.next_cursor,
        has_more=result.has_more,
        total=result.total,
        unread_count=unread_count,
    )


@router.post("/notifications/{notification_id:uuid}/read", responses=problems(403, 404))
async def mark_notification_read(
    session: SessionDep, principal: CurrentPrincipal, notification_id: uuid.UUID
) -> NotificationRead:
    """Mark one of your notifications read (again: no change)."""
    return NotificationRead.model_validate(
        await service.mark_read(session, principal, notification_id)
    )


@router.post("/notifications/read-all", responses=problems(403))
async def mark_all_notifications_read(
    session: SessionDep, principal: CurrentPrincipal
) -> ReadAllResult:
    """Mark every unread notification of yours read."""
    return ReadAllResult(marked=await service.mark_all_read(session, principal))


@router.get("/me/notification-preferences", responses=problems(403))
async def get_notification_preferences(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> NotificationPreferences:
    """Your language and, per kind of event, email and in-app on or off."""
    return await service.get_preferences(session, request.app.state.settings, principal)


@router.put("/me/notification-preferences", responses=problems(403))
async def set_notification_preferences(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: NotificationPreferencesUpdate,
) -> NotificationPreferences:
    """Replace your choices. Security messages (`essential`) cannot be turned off (422)."""
    return await service.set_preferences(session, request.app.state.settings, principal, body)


# --- organiser mail and the sent log ---------------------------------------------------------


@router.post("/mailings", status_code=201, responses=problems(403, 404))
async def create_mailing(
    session: SessionDep, principal: CurrentPrincipal, body: MailingCreate, response: Response
) -> MailingRead:
    """Write a message to an audience (an edition's entrants, a round's evaluators, a hub's
    members); nothing is sent until `POST /v1/mailings/{mailing_id}/send`."""
    mailing = await mailing_service.create_mailing(session, principal, body)
    response.headers["Location"] = f"/v1/mailings/{mailing.id}"
    return MailingRead.model_validate(mailing)


@router.get("/mailings", responses=problems(400))
async def list_mailings(
    session: SessionDep, principal: CurrentPrincipal, page: PageDep
) -> MailingPage:
    """The mailings the caller may see, newest first."""
    result = await mailing_service.list_mailings(session, principal, page)
    return MailingPage.model_validate(result, from_attributes=True)


@router.get("/mailings/{mailing_id:uuid}", responses=problems(404))
async def get_mailing(
    session: SessionDep, principal: CurrentPrincipal, mailing_id: uuid.UUID
) -> MailingRead:
    """One mailing."""
    return MailingRead.model_validate(
        await mailing_service.get_mailing(session, principal, mailing_id)
    )


@router.get("/mailings/{mailing_id:uuid}/preview", responses=problems(404, 409))
async def preview_mailing(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    mailing_id: uuid.UUID,
    recipient_id: Annotated[
        uuid.UUID | None,
        Query(description="A recipient of the audience; absent: the first of them."),
    ] = None,
) -> MailingPreview:
    """The message as one recipient will read it (their name, their language), text and HTML."""
    return await mailing_service.preview_mailing(
        session, request.app.state.settings, principal, mailing_id, recipient_id
    )


@router.post("/mailings/{mailing_id:uuid}/send", responses=problems(404, 409))
async def send_mailing(
    request: Request, session: SessionDep, principal: CurrentPrincipal, mailing_id: uuid.UUID
) -> MailingRead:
    """Queue one email per recipient of the audience as it is now; a mailing goes once (409
    `mailing.already_sent` after), and never to nobody (409 `mailing.no_recipients`)."""
    mailing = await mailing_service.send_mailing(
        session, request.app.state.settings, principal, mailing_id
    )
    return MailingRead.model_validate(mailing)


@router.get("/email-messages", responses=problems(400))
async def list_email_messages(
    session: SessionDep,
    _: CurrentPrincipal,
    page: PageDep,
    mailing_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    status: Annotated[Literal["pending", "sent", "failed", "skipped"] | None, Query()] = None,
    recipient: Annotated[str | None, Query(min_length=3, max_length=254)] = None,
) -> EmailMessagePage:
    """The sent log: every email, newest first, with its status, attempts, language and the
    server's answer."""
    result = await mailing_service.list_emails(
        session,
        mailing_id=mailing_id,
        event_id=event_id,
        status=status,
        recipient=recipient,
        page=page,
    )
    return EmailMessagePage.model_validate(result, from_attributes=True)
