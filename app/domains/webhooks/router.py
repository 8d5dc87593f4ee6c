from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from app.core.concurrency import IfMatchRequiredDep, IfNoneMatchDep, read_versioned, versioned
from app.core.config import Settings
from app.core.openapi import not_modified, problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal
from app.db.session import SessionDep
from app.domains.webhooks import service
from app.domains.webhooks.schemas import (
    AttemptRead,
    DeliveryPage,
    DeliveryRead,
    DeliveryStatus,
    SecretRotation,
    WebhookCreate,
    WebhookCreated,
    WebhookPage,
    WebhookRead,
    WebhookSort,
    WebhookStatus,
    WebhookUpdate,
)
from app.models.webhooks import WebhookAttempt, WebhookDelivery

router = APIRouter(tags=["webhooks"], route_class=PolicyRoute)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _created(issued: service.WithSecret, response: Response) -> WebhookCreated:
    read = WebhookRead.model_validate(issued.webhook)
    return versioned(
        response, issued.webhook, WebhookCreated(**read.model_dump(), secret=issued.secret)
    )


def _delivery(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryRead:
    return DeliveryRead.model_validate(
        {
            **{
                name: getattr(delivery, name)
                for name in DeliveryRead.model_fields
                if name != "attempt_log"
            },
            "attempt_log": [AttemptRead.model_validate(a) for a in attempts],
        }
    )


@router.post("/webhooks", status_code=status.HTTP_201_CREATED, responses=problems(403, 422))
async def create_webhook(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    body: WebhookCreate,
    response: Response,
) -> WebhookCreated:
    """Subscribe an endpoint to event types of the caller's scope. The answer carries its
    signing secret (`whsec_...`), shown this once; deliveries are signed per Standard
    Webhooks 1.0 (README "Webhooks")."""
    issued = await service.create_webhook(session, _settings(request), principal, body)
    response.headers["Location"] = f"/v1/webhooks/{issued.webhook.id}"
    return _created(issued, response)


@router.get("/webhooks", responses=problems(400))
async def list_webhooks(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    status: Annotated[list[WebhookStatus] | None, Query(description="Any of these.")] = None,
    sort: WebhookSort = WebhookSort.created_at_desc,
) -> WebhookPage:
    """List the webhooks in the caller's reach: a regional system's own, a local admin's
    institution's, every one for the secretariat."""
    result = await service.list_webhooks(session, principal, status or [], sort, page)
    return WebhookPage.model_validate(result, from_attributes=True)


@router.get("/webhooks/{webhook_id}", responses={**problems(404), **not_modified()})
async def get_webhook(
    session: SessionDep,
    principal: CurrentPrincipal,
    webhook_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> WebhookRead:
    """One webhook (never its secret)."""
    webhook = await service.get_webhook(session, principal, webhook_id)
    cond.check_not_modified(webhook.version)
    return read_versioned(WebhookRead, webhook, response)


@router.patch("/webhooks/{webhook_id}", responses=problems(404, 412, 422))
async def update_webhook(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> WebhookRead:
    """Change a webhook's URL, event types, description or status (`active` again resumes its
    pending deliveries, oldest first)."""
    webhook = await service.update_webhook(
        session, _settings(request), principal, webhook_id, body, cond
    )
    return read_versioned(WebhookRead, webhook, response)


@router.delete(
    "/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(404, 412)
)
async def delete_webhook(
    session: SessionDep,
    principal: CurrentPrincipal,
    webhook_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Delete a webhook with its deliveries."""
    await service.delete_webhook(session, principal, webhook_id, cond)


@router.post("/webhooks/{webhook_id}/rotate-secret", responses=problems(404, 422))
async def rotate_webhook_secret(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    webhook_id: uuid.UUID,
    response: Response,
    body: SecretRotation | None = None,
) -> WebhookCreated:
    """Give the webhook a new secret, shown this once. The old one keeps signing beside it
    (two signatures in `webhook-signature`) for `previous_secret_valid_hours`."""
    issued = await service.rotate_secret(
        session, _settings(request), principal, webhook_id, body or SecretRotation()
    )
    return _created(issued, response)


@router.get("/webhooks/{webhook_id}/deliveries", responses=problems(400, 404))
async def list_webhook_deliveries(
    session: SessionDep,
    principal: CurrentPrincipal,
    webhook_id: uuid.UUID,
    page: PageDep,
    status: Annotated[list[DeliveryStatus] | None, Query(description="Any of these.")] = None,
) -> DeliveryPage:
    """The webhook's deliveries, newest first, each with every attempt (status, duration, the
    answer's first 2 kB, the error)."""
    result, attempts = await service.list_deliveries(
        session, principal, webhook_id, [s.value for s in status or []], page
    )
    return DeliveryPage(
        items=[_delivery(d, attempts[d.id]) for d in result.items],
        next_cursor=result.next_cursor,
        has_more=result.has_more,
        total=result.total,
    )


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(404, 409),
)
async def redeliver_webhook_delivery(
    session: SessionDep, principal: CurrentPrincipal, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryRead:
    """Send a succeeded or failed delivery again, with the same `webhook-id`, after what is
    pending now; a pending one is a 409 (`webhook.delivery_pending`), as is any delivery of a
    disabled webhook (`webhook.disabled`)."""
    view = await service.redeliver(session, principal, webhook_id, delivery_id)
    return _delivery(view.delivery, view.attempts)
