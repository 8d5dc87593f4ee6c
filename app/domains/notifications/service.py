"""A person's in-app notifications and notification preferences: each sees and changes only
their own (an API key has none: 403)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.config import Settings
from app.core.errors import Forbidden, NotFound, invalid_field
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.notifications import kinds
from app.domains.notifications.dispatch import touch_states
from app.domains.notifications.repository import NotificationRepository
from app.domains.notifications.schemas import (
    KindPreferenceRead,
    NotificationPreferences,
    NotificationPreferencesUpdate,
)
from app.models.notifications import Notification


def person(principal: Principal) -> uuid.UUID:
    if principal.user_id is None:
        raise Forbidden(
            "notifications.people_only",
            "Notifications are for people; a machine client subscribes to webhooks.",
        )
    return principal.user_id


async def changed_at(session: AsyncSession, principal: Principal) -> datetime | None:
    return await NotificationRepository(session).changed_at(person(principal))


async def list_notifications(
    session: AsyncSession, principal: Principal, *, unread: bool | None, page: PageRequest
) -> tuple[PageResult[Notification], int]:
    user_id = person(principal)
    repo = NotificationRepository(session)
    result = await repo.page(user_id, unread=unread, page=page)
    return result, await repo.unread_count(user_id)


async def mark_read(
    session: AsyncSession, principal: Principal, notification_id: uuid.UUID
) -> Notification:
    user_id = person(principal)
    notification = await NotificationRepository(session).get(user_id, notification_id)
    if notification is None:  # someone else's is as absent as one that never was
        raise NotFound(
            "notification.not_found", f"You have no notification with the id {notification_id}."
        )
    if notification.read_at is None:
        notification.read_at = dates.now()
        await session.flush()
        await touch_states(session, [user_id])
    return notification


async def mark_all_read(session: AsyncSession, principal: Principal) -> int:
    user_id = person(principal)
    marked = await NotificationRepository(session).mark_all_read(user_id)
    if marked:
        await touch_states(session, [user_id])
    return marked


async def get_preferences(
    session: AsyncSession, settings: Settings, principal: Principal
) -> NotificationPreferences:
    user_id = person(principal)
    user = await NotificationRepository(session).user(user_id)
    stored = {row.kind: row for row in await NotificationRepository(session).preferences(user_id)}
    items = []
    for kind in kinds.KINDS.values():
        row = stored.get(kind.name)
        items.append(
            KindPreferenceRead(
                kind=kind.name,
                description=kind.description,
                essential=kind.essential,
                email=kind.essential or row is None or row.email,
                in_app=kind.essential or row is None or row.in_app,
            )
        )
    language = (user.language if user else None) or settings.default_language
    return NotificationPreferences(language=language, kinds=items)


async def set_preferences(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    data: NotificationPreferencesUpdate,
) -> NotificationPreferences:
    user_id = person(principal)
    seen: set[str] = set()
    choices: list[tuple[str, bool, bool]] = []
    for index, choice in enumerate(data.kinds):
        pointer = f"/kinds/{index}/kind"
        spec = kinds.KINDS.get(choice.kind)
        if spec is None:
            raise invalid_field(
                "notification_preferences.unknown_kind",
                pointer,
                f"No event kind is named {choice.kind!r}; GET the preferences for the list.",
            )
        if choice.kind in seen:
            raise invalid_field(
                "notification_preferences.duplicate_kind",
                pointer,
                f"{choice.kind} is listed twice.",
            )
        seen.add(choice.kind)
        if spec.essential and not (choice.email and choice.in_app):
            raise invalid_field(
                "notification_preferences.essential",
                f"/kinds/{index}",
                f"{choice.kind} is a security message: it is always sent, by email and in the app.",
            )
        if not (choice.email and choice.in_app):
            choices.append((choice.kind, choice.email, choice.in_app))
    user = await NotificationRepository(session).user(user_id, for_update=True)
    if user is None or not user.is_active:
        raise Forbidden("auth.inactive", "This account is disabled.")
    before = await get_preferences(session, settings, principal)
    if user.language != data.language:
        user.language = data.language
    await NotificationRepository(session).replace_preferences(user_id, choices)
    after = await get_preferences(session, settings, principal)
    await audit.record(
        session,
        principal,
        "notification_preferences",
        "user",
        user_id,
        institution_id=user.institution_id,
        before=_choices(before),
        after=_choices(after),
    )
    return after


def _choices(preferences: NotificationPreferences) -> dict[str, object]:
    """What the trail keeps of a person's preferences: the language and the kinds turned off."""
    return {
        "language": preferences.language,
        "off": sorted(
            f"{item.kind}:{'email' if not item.email else ''}{'in_app' if not item.in_app else ''}"
            for item in preferences.kinds
            if not (item.email and item.in_app)
        ),
    }
