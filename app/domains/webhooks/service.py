"""Webhook endpoints: who may hold one and for which events, their secrets, their deliveries.

Reach: the secretariat, every endpoint; a local admin, its institution's (its keys' too); a
regional system's key, the endpoints it created. Another's endpoint is a 404. An endpoint's
scope is its institution (every event for the secretariat's endpoints of no institution):
it is never told more than its owner may read (delivery.py says how events are matched).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error, invalid_field
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.webhooks import delivery, event_types, signing, targets
from app.domains.webhooks.repository import DeliveryRepository, WebhookRepository
from app.domains.webhooks.schemas import (
    SecretRotation,
    WebhookCreate,
    WebhookSort,
    WebhookStatus,
    WebhookUpdate,
)
from app.models.enums import Role
from app.models.webhooks import Webhook, WebhookAttempt, WebhookDelivery

AUDITED = (
    "url",
    "description",
    "event_types",
    "institution_id",
    "owner_api_key_id",
    "owner_user_id",
    "status",
    "disabled_reason",
    "secret_rotated_at",
    "previous_secret_expires_at",
)


def _view(webhook: Webhook) -> dict[str, Any]:
    """What the audit trail keeps of an endpoint: never its secrets, even encrypted."""
    return {name: dates.jsonable(getattr(webhook, name)) for name in AUDITED}


def _not_found(webhook_id: uuid.UUID) -> NotFound:
    return NotFound("webhook.not_found", f"No webhook you may see has the id {webhook_id}.")


def _reaches(principal: Principal, webhook: Webhook) -> bool:
    if principal.is_secretariat:
        return True
    if principal.role is Role.regional_system:
        return webhook.owner_api_key_id == principal.id
    return (
        principal.institution_id is not None and webhook.institution_id == principal.institution_id
    )


def _check_types(names: Sequence[str]) -> list[str]:
    errors = [
        field_error(
            f"/event_types/{i}", "webhook.unknown_event_type", f"{name!r} is no event type."
        )
        for i, name in enumerate(names)
        if not event_types.is_known(name)
    ]
    if errors:
        raise Unprocessable(
            "webhook.unknown_event_type",
            "Unknown event types; known: " + ", ".join(event_types.all_types()) + ".",
            errors=errors,
        )
    return list(dict.fromkeys(names))


def _check_url(url: str, settings: Settings) -> str:
    try:
        targets.parse(url, settings)
    except targets.TargetRefused as exc:
        raise invalid_field(exc.code, "/url", exc.message) from None
    return url


async def _get(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, *, for_update: bool = False
) -> Webhook:
    webhook = await WebhookRepository(session).get(webhook_id, for_update=for_update)
    if webhook is None or not _reaches(principal, webhook):
        raise _not_found(webhook_id)
    return webhook


@dataclass(frozen=True)
class WithSecret:
    webhook: Webhook
    secret: str


async def create_webhook(
    session: AsyncSession, settings: Settings, principal: Principal, data: WebhookCreate
) -> WithSecret:
    """Subscribe an endpoint; its secret is in the answer only (kept encrypted)."""
    if principal.is_secretariat:
        institution_id = data.institution_id
    else:
        if principal.institution_id is None or (
            data.institution_id is not None and data.institution_id != principal.institution_id
        ):
            raise Forbidden(
                "webhook.out_of_scope", "A webhook receives its own institution's events only."
            )
        institution_id = principal.institution_id
    secret = signing.new_secret()
    webhook = Webhook(
        owner_api_key_id=principal.api_key_id,
        owner_user_id=principal.user_id,
        owner_name=principal.name[:320],
        institution_id=institution_id,
        url=_check_url(data.url, settings),
        description=data.description,
        event_types=_check_types(data.event_types),
        secret_encrypted=signing.encrypt(settings.secret_key, secret),
        status=WebhookStatus.active.value,
    )
    WebhookRepository(session).add(webhook)
    await session.flush()
    await session.refresh(webhook)
    await audit.record(
        session, principal, "create", "webhook", webhook.id,
        institution_id=institution_id, after=_view(webhook),
    )  # fmt: skip
    return WithSecret(webhook, secret)


async def list_webhooks(
    session: AsyncSession,
    principal: Principal,
    status: Sequence[WebhookStatus],
    sort: WebhookSort,
    page: PageRequest,
) -> PageResult[Webhook]:
    return await WebhookRepository(session).page(
        everything=principal.is_secretariat,
        owner_api_key_id=principal.id if principal.role is Role.regional_system else None,
        institution_id=principal.institution_id,
        status=[s.value for s in status],
        sort=sort,
        page=page,
    )


async def get_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> Webhook:
    return await _get(session, principal, webhook_id)


async def update_webhook(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    webhook_id: uuid.UUID,
    data: WebhookUpdate,
    preconditions: Preconditions,
) -> Webhook:
    """Change the URL, types, description or status; `active` again resumes the pending
    deliveries, oldest first."""
    webhook = await _get(session, principal, webhook_id, for_update=True)
    preconditions.check_match(webhook.version, entity="webhook")
    changes = data.model_dump(exclude_unset=True)
    for name in ("url", "event_types", "status"):
        if name in changes and changes[name] is None:
            raise invalid_field(f"webhook.{name}_required", f"/{name}", f"{name} cannot be null.")
    before = _view(webhook)
    if "url" in changes:
        webhook.url = _check_url(changes["url"], settings)
    if "event_types" in changes:
        webhook.event_types = _check_types(changes["event_types"])
    if "description" in changes:
        webhook.description = changes["description"]
    resumed = False
    if "status" in changes and changes["status"] != webhook.status:
        if changes["status"] == WebhookStatus.active:
            webhook.status = "active"
            webhook.disabled_reason = None
            webhook.disabled_at = None
            resumed = True
        else:
            webhook.status = "disabled"
            webhook.disabled_reason = f"disabled by {principal.name}"[:500]
            webhook.disabled_at = dates.now()
    await session.flush()
    await session.refresh(webhook)
    if resumed:
        await delivery.queue_run(session, webhook.id)
    await audit.record(
        session, principal, "update", "webhook", webhook.id,
        institution_id=webhook.institution_id, before=before, after=_view(webhook),
    )  # fmt: skip
    return webhook


async def delete_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, preconditions: Preconditions
) -> None:
    """Remove the endpoint with its deliveries and their attempts."""
    webhook = await _get(session, principal, webhook_id, for_update=True)
    preconditions.check_match(webhook.version, entity="webhook")
    before = _view(webhook)
    await session.delete(webhook)
    await session.flush()
    await audit.record(
        session, principal, "delete", "webhook", webhook_id,
        institution_id=webhook.institution_id, before=before,
    )  # fmt: skip


async def rotate_secret(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    webhook_id: uuid.UUID,
    data: SecretRotation,
) -> WithSecret:
    """A new secret, shown once; the one before still signs (both signatures are sent) for
    the overlap asked for (WEBHOOKS_ROTATION_OVERLAP_HOURS by default)."""
    webhook = await _get(session, principal, webhook_id, for_update=True)
    hours = (
        data.previous_secret_valid_hours
        if data.previous_secret_valid_hours is not None
        else settings.webhooks_rotation_overlap_hours
    )
    before = _view(webhook)
    secret = signing.new_secret()
    now = dates.now()
    webhook.previous_secret_encrypted = webhook.secret_encrypted if hours else None
    webhook.previous_secret_expires_at = now + timedelta(hours=hours) if hours else None
    webhook.secret_encrypted = signing.encrypt(settings.secret_key, secret)
    webhook.secret_rotated_at = now
    await session.flush()
    await session.refresh(webhook)
    await audit.record(
        session, principal, "rotate_secret", "webhook", webhook.id,
        institution_id=webhook.institution_id, before=before, after=_view(webhook),
    )  # fmt: skip
    return WithSecret(webhook, secret)


@dataclass(frozen=True)
class DeliveryView:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    webhook_id: uuid.UUID,
    status: Sequence[str],
    page: PageRequest,
) -> tuple[PageResult[WebhookDelivery], dict[uuid.UUID, list[WebhookAttempt]]]:
    """The endpoint's deliveries, newest first, each with its attempts."""
    await _get(session, principal, webhook_id)
    repo = DeliveryRepository(session)
    result = await repo.page(webhook_id, status, page)
    return result, await repo.attempts_of([d.id for d in result.items])


async def redeliver(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> DeliveryView:
    """Send a finished delivery again (same `webhook-id`, a fresh set of attempts), after what
    is pending now."""
    webhook = await _get(session, principal, webhook_id)
    repo = DeliveryRepository(session)
    found = await repo.get_of(webhook_id, delivery_id, for_update=True)
    if found is None:
        raise NotFound(
            "webhook.delivery_not_found", f"The webhook has no delivery with the id {delivery_id}."
        )
    if found.status == "pending":
        raise Conflict(
            "webhook.delivery_pending",
            "The delivery is still pending: it goes out (or is retried) by itself.",
            extra={"current_status": found.status},
        )
    if webhook.status != "active":
        raise Conflict(
            "webhook.disabled",
            "The webhook is disabled: set its status to active first.",
            extra={"current_status": webhook.status},
        )
    before = {"status": found.status, "attempts": found.attempts}
    await repo.requeue(found)
    await delivery.queue_run(session, webhook_id)
    await audit.record(
        session, principal, "redeliver", "webhook_delivery", found.id,
        institution_id=webhook.institution_id, before=before,
        after={"status": found.status, "attempts": found.attempts},
    )  # fmt: skip
    attempts = await repo.attempts_of([found.id])
    return DeliveryView(found, attempts[found.id])
