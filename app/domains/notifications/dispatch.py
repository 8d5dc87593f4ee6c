"""The worker's side of notifications: `notifications.dispatch` turns an event into in-app
notifications and queued emails; `email.send` sends one email of the sent log.

Both are at least once (README "Background jobs") and idempotent: a dispatch run again writes
nothing twice (the event by its id, a notification and an email per event and person), and an
email already `sent` is not sent again. An email is written in its recipient's language.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.config import Settings
from app.domains.jobs.kinds import JobContext, JobKind, register
from app.domains.jobs.service import enqueue
from app.domains.notifications import kinds, mailer
from app.domains.notifications.events import DISPATCH, DISPATCH_MAX_ATTEMPTS
from app.domains.notifications.mailings import personalise
from app.domains.notifications.rendering import render, render_written
from app.domains.notifications.repository import DispatchRepository
from app.models.accounts import User
from app.models.notifications import EmailMessage, NotificationEvent

SEND_EMAIL = "email.send"

# Called after an event's notifications are written, in the same transaction (webhooks add
# their deliveries here).
DispatchHook = Callable[[JobContext, NotificationEvent], Awaitable[None]]
HOOKS: list[DispatchHook] = []


def base_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


def link_of(settings: Settings, kind: str, subject_id: uuid.UUID) -> str | None:
    path = kinds.get(kind).link
    return None if path is None else base_url(settings) + path.format(subject_id=subject_id)


async def _ref_names(repo: DispatchRepository, refs: dict[str, str | None]) -> dict[str, str]:
    """The names the event's refs stand for (a record gone since: "-")."""
    names: dict[str, str] = {}
    for ref, value in refs.items():
        found = await repo.ref_name(ref, uuid.UUID(value)) if value else None
        names[ref] = found or "-"
    return names


def language_of(settings: Settings, user: User) -> str:
    return user.language or settings.default_language


async def touch_states(session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> None:
    await DispatchRepository(session).touch_states(user_ids)


async def dispatch(ctx: JobContext, payload: dict[str, Any]) -> None:
    settings = ctx.settings
    repo = DispatchRepository(ctx.session)
    kind = payload["kind"]
    spec = kinds.get(kind)
    event_id = uuid.UUID(payload["event_id"])
    subject_id = uuid.UUID(payload["subject_id"])
    values = {**payload["data"], **await _ref_names(repo, payload["refs"])}
    institution = payload.get("institution_id")
    added = await repo.add_event(
        {
            "id": event_id,
            "kind": kind,
            "subject_type": payload["subject_type"],
            "subject_id": subject_id,
            "institution_id": uuid.UUID(institution) if institution else None,
            "actor_name": payload.get("actor_name"),
            "data": values,
            "audience": payload["audience"],
            "occurred_at": datetime.fromisoformat(payload["occurred_at"]),
        }
    )
    if not added:
        return  # dispatched already (a worker that died after committing it)
    actor = payload.get("actor_user_id")
    recipients = await repo.recipients(
        payload["audience"], exclude=uuid.UUID(actor) if actor else None
    )
    preferences = await repo.preferences([user.id for user in recipients], kind)
    link = link_of(settings, kind, subject_id)
    notifications: list[dict[str, Any]] = []
    emails: list[dict[str, Any]] = []
    for user in recipients:
        choice = preferences.get(user.id)
        language = language_of(settings, user)
        if spec.essential or choice is None or choice.in_app:
            rendered = render(
                kind,
                language,
                {**values, "name": user.name, "link": link, "base_url": base_url(settings)},
            )
            notifications.append(
                {
                    "id": uuid.uuid4(),
                    "user_id": user.id,
                    "event_id": event_id,
                    "kind": kind,
                    "subject_type": payload["subject_type"],
                    "subject_id": subject_id,
                    "language": language,
                    "title": rendered.subject[:300],
                    "body": rendered.body,
                    "link": link,
                }
            )
        if spec.essential or choice is None or choice.email:
            emails.append(
                {
                    "id": uuid.uuid4(),
                    "event_id": event_id,
                    "user_id": user.id,
                    "recipient": user.email,
                    "kind": kind,
                    "language": language,
                    "message_id": mailer.new_message_id(settings),
                }
            )
    if notifications:
        await repo.add_notifications(notifications)
        await repo.touch_states([row["user_id"] for row in notifications])
    await queue_emails(ctx.session, emails)
    event = await repo.event(event_id)
    assert event is not None
    for hook in HOOKS:
        await hook(ctx, event)


async def queue_emails(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write the sent log's rows (pending) and a send job for each one that is new."""
    for message_id in await DispatchRepository(session).add_emails(rows):
        await enqueue(session, SEND_EMAIL, {"email_message_id": str(message_id)})


async def _outgoing(
    repo: DispatchRepository, settings: Settings, message: EmailMessage
) -> mailer.Outgoing:
    user = await repo.user(message.user_id) if message.user_id else None
    name = user.name if user is not None else message.recipient
    common = {"name": name, "base_url": base_url(settings)}
    if message.event_id is not None:
        event = await repo.event(message.event_id)
        assert event is not None
        rendered = render(
            message.kind,
            message.language,
            {**event.data, **common, "link": link_of(settings, event.kind, event.subject_id)},
        )
    else:
        assert message.mailing_id is not None
        mailing = await repo.mailing(message.mailing_id)
        assert mailing is not None
        subject, body = personalise(mailing, name)
        rendered = render_written(message.language, subject, body, {**common, "link": None})
    return mailer.Outgoing(
        to=message.recipient,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        language=message.language,
        message_id=message.message_id,
    )


async def send_email(ctx: JobContext, payload: dict[str, Any]) -> None:
    settings = ctx.settings
    repo = DispatchRepository(ctx.session)
    message = await repo.email_for_update(uuid.UUID(payload["email_message_id"]))
    if message is None or message.status != "pending":
        return  # sent (or given up) already: a message goes once per event and recipient
    outgoing = await _outgoing(repo, settings, message)
    message.subject = outgoing.subject[:300]
    message.attempts = ctx.attempt
    try:
        response = await mailer.send(settings, outgoing)
    except mailer.PermanentMailError as exc:
        message.status = "failed"
        message.last_error = str(exc)[:2000]
        return
    message.status = "sent"
    message.sent_at = dates.now()
    message.provider_response = response
    message.last_error = None


def _email_backoff(attempt: int) -> float:
    # 1 min, 5 min, 30 min, 2 h, 6 h: a mail server down for a while is waited for.
    return (60.0, 300.0, 1800.0, 7200.0, 21600.0)[min(attempt, 5) - 1]


register(JobKind(DISPATCH, dispatch, max_attempts=DISPATCH_MAX_ATTEMPTS, timeout_seconds=120))
register(
    JobKind(SEND_EMAIL, send_email, max_attempts=6, backoff=_email_backoff, timeout_seconds=120)
)
