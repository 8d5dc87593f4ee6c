"""Organiser mail: the secretariat (everything) or a hub's admins (their own hub's competition,
its members) write a message to an audience, preview it as one recipient will read it, and
send it; each email goes through the sent log like an event's."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, invalid_field, invalid_parameter
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.competitions import structure
from app.domains.evaluation.access import round_of
from app.domains.hubs import service as hubs
from app.domains.notifications import mailer
from app.domains.notifications.dispatch import base_url, language_of, queue_emails
from app.domains.notifications.mailings import personalise, unknown_placeholders
from app.domains.notifications.rendering import render_written
from app.domains.notifications.repository import MailingRepository
from app.domains.notifications.schemas import (
    EditionEntrants,
    MailingAudience,
    MailingCreate,
    MailingPreview,
    RoundEvaluators,
)
from app.models.accounts import User
from app.models.notifications import EmailMessage, Mailing

ENTITY = "mailing"


async def _check_audience(
    session: AsyncSession, principal: Principal, audience: MailingAudience
) -> None:
    """The caller may write to this audience: it runs the edition (or the round's), or
    manages the hub; 404 for what it may not see, 403 for what it sees but does not run."""
    if isinstance(audience, EditionEntrants):
        competition = await competitions.get_competition(
            session, principal, audience.competition_id
        )
        if audience.group_id is not None:
            group = await structure.get_part(
                session, principal, structure.GROUP, audience.group_id, competition.id
            )
            assert group.competition_id == competition.id
    elif isinstance(audience, RoundEvaluators):
        _, competition = await round_of(session, principal, audience.round_id)
    else:
        hub = await hubs.get_hub(session, principal, audience.hub_id)
        if not hubs.manages(principal, hub):
            raise Forbidden("mailing.out_of_scope", "A hub's members are written to by its admins.")
        return
    if not competitions.runs(principal, competition):
        raise Forbidden(
            "mailing.out_of_scope",
            "An edition's entrants and evaluators are written to by whoever runs it.",
        )


def _visible(principal: Principal, mailing: Mailing) -> bool:
    return principal.is_secretariat or (
        principal.hub_id is not None and mailing.hub_id == principal.hub_id
    )


async def get_mailing(
    session: AsyncSession, principal: Principal, mailing_id: uuid.UUID, *, for_update: bool = False
) -> Mailing:
    mailing = await MailingRepository(session).get(mailing_id, for_update=for_update)
    if mailing is None or not _visible(principal, mailing):
        raise NotFound("mailing.not_found", f"No mailing has the id {mailing_id}.")
    return mailing


async def create_mailing(
    session: AsyncSession, principal: Principal, data: MailingCreate
) -> Mailing:
    for field in ("subject", "body"):
        unknown = unknown_placeholders(getattr(data, field))
        if unknown:
            raise invalid_field(
                "mailing.unknown_placeholder",
                f"/{field}",
                f"Unknown placeholder {{{{ {unknown[0]} }}}}: the only one is {{{{ name }}}}.",
            )
    await _check_audience(session, principal, data.audience)
    audience = data.audience.model_dump(mode="json", exclude_none=True)
    repo = MailingRepository(session)
    mailing = Mailing(
        subject=data.subject,
        body=data.body,
        audience=audience,
        hub_id=principal.hub_id if not principal.is_secretariat else None,
        created_by_user_id=principal.user_id,
        created_by_name=principal.name,
        recipients=len(await repo.audience(audience)),
    )
    repo.add(mailing)
    await session.flush()
    await audit.record(
        session, principal, "create", ENTITY, mailing.id, institution_id=None,
        after=audit.snapshot(mailing),
    )  # fmt: skip
    return mailing


async def list_mailings(
    session: AsyncSession, principal: Principal, page: PageRequest
) -> PageResult[Mailing]:
    hub_id = None if principal.is_secretariat else principal.hub_id
    if hub_id is None and not principal.is_secretariat:
        return PageResult.empty(page)
    return await MailingRepository(session).page(hub_id, page)


async def preview_mailing(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    mailing_id: uuid.UUID,
    recipient_id: uuid.UUID | None,
) -> MailingPreview:
    """The message as one recipient (the first of the audience unless told) will read it."""
    mailing = await get_mailing(session, principal, mailing_id)
    people = await MailingRepository(session).audience(mailing.audience)
    if not people:
        raise _no_recipients()
    chosen: User = people[0]
    if recipient_id is not None:
        found = next((p for p in people if p.id == recipient_id), None)
        if found is None:
            raise invalid_parameter(
                "mailing.not_a_recipient",
                "recipient_id",
                f"{recipient_id} is not among this mailing's recipients.",
            )
        chosen = found
    language = language_of(settings, chosen)
    subject, body = personalise(mailing, chosen.name)
    rendered = render_written(language, subject, body, {"base_url": base_url(settings)})
    return MailingPreview(
        recipient_id=chosen.id,
        recipient_name=chosen.name,
        recipient_email=chosen.email,
        language=language,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
    )


def _no_recipients() -> Conflict:
    return Conflict(
        "mailing.no_recipients", "Nobody is in this mailing's audience (yet): nothing to send."
    )


async def send_mailing(
    session: AsyncSession, settings: Settings, principal: Principal, mailing_id: uuid.UUID
) -> Mailing:
    """Queue one email per recipient (each in their language); a mailing is sent once."""
    mailing = await get_mailing(session, principal, mailing_id, for_update=True)
    if mailing.sent_at is not None:
        raise Conflict(
            "mailing.already_sent",
            "This mailing was sent already; write a new one to send again.",
            extra={"sent_at": dates.rfc3339(mailing.sent_at)},
        )
    people = await MailingRepository(session).audience(mailing.audience)
    if not people:
        raise _no_recipients()
    await queue_emails(
        session,
        [
            {
                "id": uuid.uuid4(),
                "mailing_id": mailing.id,
                "user_id": person.id,
                "recipient": person.email,
                "kind": "mailing",
                "language": language_of(settings, person),
                "message_id": mailer.new_message_id(settings),
            }
            for person in people
        ],
    )
    mailing.sent_at = dates.now()
    mailing.recipients = len(people)
    await session.flush()
    await audit.record(
        session, principal, "send", ENTITY, mailing.id, institution_id=None,
        changes={"recipients": {"before": None, "after": len(people)}},
    )  # fmt: skip
    return mailing


async def list_emails(
    session: AsyncSession,
    *,
    mailing_id: uuid.UUID | None,
    event_id: uuid.UUID | None,
    status: str | None,
    recipient: str | None,
    page: PageRequest,
) -> PageResult[EmailMessage]:
    return await MailingRepository(session).emails(
        mailing_id=mailing_id, event_id=event_id, status=status, recipient=recipient, page=page
    )
