"""The statements on people's notifications and preferences."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    false,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.pagination import PageRequest
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.models.accounts import User
from app.models.competitions import Competition, CompetitionRound
from app.models.enums import AssignmentStatus, Role, SubmissionStatus
from app.models.evaluation import Assignment
from app.models.hubs import Hub, HubMember
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from app.models.notifications import (
    EmailMessage,
    Mailing,
    Notification,
    NotificationEvent,
    NotificationPreference,
    NotificationState,
)
from app.models.submissions import Submission

_NEWEST_FIRST = SortKey((Notification.created_at, Notification.id), descending=True)


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def changed_at(self, user_id: uuid.UUID) -> datetime | None:
        return await self.session.scalar(
            select(NotificationState.changed_at).where(NotificationState.user_id == user_id)
        )

    async def page(
        self, user_id: uuid.UUID, *, unread: bool | None, page: PageRequest
    ) -> PageResult[Notification]:
        stmt: Select[Notification] = select(Notification).where(Notification.user_id == user_id)
        if unread is True:
            stmt = stmt.where(Notification.read_at.is_(None))
        elif unread is False:
            stmt = stmt.where(Notification.read_at.is_not(None))
        scope = f"notifications:{user_id}:{unread}"
        return await keyset_page(self.session, stmt, _NEWEST_FIRST, page, scope)

    async def unread_count(self, user_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        return int(count or 0)

    async def get(self, user_id: uuid.UUID, notification_id: uuid.UUID) -> Notification | None:
        return await self.session.scalar(
            select(Notification).where(
                Notification.id == notification_id, Notification.user_id == user_id
            )
        )

    async def mark_all_read(self, user_id: uuid.UUID) -> int:
        result = await self.session.execute(
            update(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .values(read_at=dates.now())
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def user(self, user_id: uuid.UUID, *, for_update: bool = False) -> User | None:
        return await self.session.get(User, user_id, with_for_update=for_update)

    async def preferences(self, user_id: uuid.UUID) -> list[NotificationPreference]:
        rows = await self.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
        return list(rows)

    async def replace_preferences(
        self, user_id: uuid.UUID, choices: list[tuple[str, bool, bool]]
    ) -> None:
        await self.session.execute(
            delete(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
        for kind, email, in_app in choices:
            self.session.add(
                NotificationPreference(user_id=user_id, kind=kind, email=email, in_app=in_app)
            )
        await self.session.flush()


# --- the worker's side (dispatch.py) ---------------------------------------------------------

_NEXT_SECOND = text("date_trunc('second', now()) + interval '1 second'")

# What a ref names: the column shown for it.
_REF_COLUMNS: dict[str, Any] = {
    "innovation": Innovation.title,
    "competition": Competition.name,
    "round": CompetitionRound.name,
    "institution": Institution.name,
    "unit": Unit.name,
    "hub": Hub.name,
}


def _audience_condition(part: dict[str, Any]) -> ColumnElement[bool]:
    if "user" in part:
        return User.id == uuid.UUID(part["user"])
    role = part["role"]
    if role == Role.local_admin.value:
        return and_(
            User.role == Role.local_admin, User.institution_id == uuid.UUID(part["institution"])
        )
    if role == Role.unit_operator.value:
        return and_(User.role == Role.unit_operator, User.unit_id == uuid.UUID(part["unit"]))
    if role == Role.hub_admin.value:
        return and_(User.role == Role.hub_admin, User.hub_id == uuid.UUID(part["hub"]))
    return User.role == Role.secretariat_admin


class DispatchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ref_name(self, ref: str, record_id: uuid.UUID) -> str | None:
        column = _REF_COLUMNS[ref]
        entity = column.class_
        return cast(
            "str | None", await self.session.scalar(select(column).where(entity.id == record_id))
        )

    async def add_event(self, values: dict[str, Any]) -> bool:
        """Write the event; False if it was written already."""
        inserted = await self.session.execute(
            insert(NotificationEvent)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[NotificationEvent.id])
            .returning(NotificationEvent.id)
        )
        return inserted.scalar() is not None

    async def event(self, event_id: uuid.UUID) -> NotificationEvent | None:
        return await self.session.get(NotificationEvent, event_id)

    async def recipients(
        self, parts: Sequence[dict[str, Any]], *, exclude: uuid.UUID | None = None
    ) -> list[User]:
        """The active people the audience's parts name, each once, in a stable order;
        `exclude` (the person who caused the event) is left out: nobody is told what they
        just did themselves."""
        if not parts:
            return []
        condition = or_(false(), *(_audience_condition(part) for part in parts))
        statement = select(User).where(User.is_active, condition).order_by(User.id)
        if exclude is not None:
            statement = statement.where(User.id != exclude)
        return list((await self.session.scalars(statement)).all())

    async def preferences(
        self, user_ids: Sequence[uuid.UUID], kind: str
    ) -> dict[uuid.UUID, NotificationPreference]:
        if not user_ids:
            return {}
        rows = await self.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id.in_(user_ids), NotificationPreference.kind == kind
            )
        )
        return {row.user_id: row for row in rows}

    async def add_notifications(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(Notification).values(rows).on_conflict_do_nothing())

    async def touch_states(self, user_ids: Sequence[uuid.UUID]) -> None:
        """Mark these people's notifications as changed (their next poll is not a 304).

        `changed_at` is the `Last-Modified` of their list, and HTTP dates count whole seconds:
        so every change moves it to a whole second after both now and its previous value. A
        poll's `If-Modified-Since` (the previous value) is then always earlier than a later
        change, even one in the same second.
        """
        if not user_ids:
            return
        statement = insert(NotificationState).values(
            [{"user_id": user_id, "changed_at": _NEXT_SECOND} for user_id in sorted(set(user_ids))]
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[NotificationState.user_id],
                set_={
                    "changed_at": func.greatest(
                        _NEXT_SECOND, NotificationState.changed_at + timedelta(seconds=1)
                    )
                },
            )
        )

    async def add_emails(self, rows: list[dict[str, Any]]) -> list[uuid.UUID]:
        """Write the sent log's rows (pending); the ids of those that are new."""
        if not rows:
            return []
        added = await self.session.scalars(
            insert(EmailMessage).values(rows).on_conflict_do_nothing().returning(EmailMessage.id)
        )
        return list(added.all())

    async def email_for_update(self, message_id: uuid.UUID) -> EmailMessage | None:
        return await self.session.get(EmailMessage, message_id, with_for_update=True)

    async def user(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def mailing(self, mailing_id: uuid.UUID) -> Mailing | None:
        return await self.session.get(Mailing, mailing_id)


# --- organiser mail and the sent log -----------------------------------------------------------

_MAILINGS_NEWEST_FIRST = SortKey((Mailing.created_at, Mailing.id), descending=True)
_EMAILS_NEWEST_FIRST = SortKey((EmailMessage.created_at, EmailMessage.id), descending=True)
_ENTERED = (
    SubmissionStatus.submitted,
    SubmissionStatus.screened_in,
    SubmissionStatus.screened_out,
    SubmissionStatus.withdrawn,
)


class MailingRepository(RepositoryBase[Mailing]):
    model = Mailing

    async def audience(self, audience: dict[str, Any]) -> list[User]:
        """The active people a mailing's audience names now, each once, by id."""
        kind = audience["kind"]
        if kind == "edition_entrants":
            entries = select(Submission.institution_id, Submission.unit_id).where(
                Submission.competition_id == uuid.UUID(audience["competition_id"]),
                Submission.submitted_at.is_not(None),
                Submission.status.in_(_ENTERED),
            )
            if audience.get("group_id"):
                entries = entries.where(Submission.group_id == uuid.UUID(audience["group_id"]))
            sub = entries.subquery()
            condition = or_(
                and_(
                    User.role == Role.local_admin,
                    User.institution_id.in_(select(sub.c.institution_id)),
                ),
                and_(User.role == Role.unit_operator, User.unit_id.in_(select(sub.c.unit_id))),
            )
        elif kind == "round_evaluators":
            condition = User.id.in_(
                select(Assignment.evaluator_id).where(
                    Assignment.round_id == uuid.UUID(audience["round_id"]),
                    Assignment.status.in_((AssignmentStatus.assigned, AssignmentStatus.submitted)),
                )
            )
        else:
            condition = and_(
                User.role == Role.local_admin,
                User.institution_id.in_(
                    select(HubMember.institution_id).where(
                        HubMember.hub_id == uuid.UUID(audience["hub_id"]),
                        HubMember.left_date.is_(None),
                    )
                ),
            )
        rows = await self.session.scalars(
            select(User).where(User.is_active, condition).order_by(User.id)
        )
        return list(rows)

    async def page(self, hub_id: uuid.UUID | None, page: PageRequest) -> PageResult[Mailing]:
        """Every mailing (the secretariat: `hub_id` None), or a hub's admins' own."""
        stmt: Select[Mailing] = select(Mailing)
        if hub_id is not None:
            stmt = stmt.where(Mailing.hub_id == hub_id)
        return await keyset_page(
            self.session, stmt, _MAILINGS_NEWEST_FIRST, page, f"mailings:{hub_id}"
        )

    async def emails(
        self,
        *,
        mailing_id: uuid.UUID | None,
        event_id: uuid.UUID | None,
        status: str | None,
        recipient: str | None,
        page: PageRequest,
    ) -> PageResult[EmailMessage]:
        stmt: Select[EmailMessage] = select(EmailMessage)
        if mailing_id is not None:
            stmt = stmt.where(EmailMessage.mailing_id == mailing_id)
        if event_id is not None:
            stmt = stmt.where(EmailMessage.event_id == event_id)
        if status is not None:
            stmt = stmt.where(EmailMessage.status == status)
        if recipient is not None:
            stmt = stmt.where(func.lower(EmailMessage.recipient) == recipient.lower())
        scope = f"emails:{mailing_id}:{event_id}:{status}:{recipient}"
        return await keyset_page(self.session, stmt, _EMAILS_NEWEST_FIRST, page, scope)
