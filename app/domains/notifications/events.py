"""Emit an event in the caller's transaction: `await events.emit(session, ...)`.

The event travels as the payload of a `notifications.dispatch` job, written with the change
that caused it (the job row is the outbox, README "Background jobs"): a rolled-back change
tells nobody, a committed one is never forgotten. The worker then writes the event, finds its
recipients (`audience.py`), and makes the in-app notifications and the emails.

The person who caused an event is not told of it (they just did it), unless `include_actor`:
a security message (a password changed by its owner) reaches its owner all the same. A
reminder gives a `dedupe` key (what it reminds of, to whom, and its window): the event's id is
derived from it, so a reminder emitted again (the next tick, another worker) enqueues nothing
while its job is kept, and is written and sent once when dispatched (events are kept).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.security import Principal
from app.domains.jobs.service import enqueue
from app.domains.notifications import audience as audiences
from app.domains.notifications import kinds

DISPATCH = "notifications.dispatch"
# Its kind is registered by dispatch.py (the worker's side) with the same attempts.
DISPATCH_MAX_ATTEMPTS = 10
# The namespace of the ids derived from reminders' dedupe keys.
_DEDUPE_NAMESPACE = uuid.UUID("6f1c1a52-8d3e-4c0b-9a57-4e0b7d1f2a61")


def event_id_for(dedupe: str) -> uuid.UUID:
    """The id of the event emitted with this dedupe key."""
    return uuid.uuid5(_DEDUPE_NAMESPACE, dedupe)


def window(remaining: timedelta, leads: Iterable[timedelta]) -> timedelta | None:
    """A reminder's window: of the lead times before a deadline at which it is sent (48 h,
    24 h), the shortest one `remaining` is within; None before the longest. A tick in a window
    whose reminder went out already sends nothing more (its dedupe key), and a window missed
    while no worker ran is not made up for once a shorter one began."""
    within = [lead for lead in leads if remaining <= lead]
    return min(within) if within else None


def wib(value: datetime | None) -> str:
    """An instant as messages show it: its WIB date and time (`2026-03-01 23:59 WIB`), the
    programme's calendar, the same in both languages."""
    if value is None:
        return ""
    return value.astimezone(dates.WIB).strftime("%Y-%m-%d %H:%M WIB")


def _scalar(value: object) -> str | int | None:
    if value is None or isinstance(value, int | str):
        return value
    if hasattr(value, "value"):  # an enum member
        return str(value.value)
    return str(value)


async def emit(
    session: AsyncSession,
    kind: str,
    subject_type: str,
    subject_id: uuid.UUID,
    *,
    audience: Iterable[dict[str, Any]],
    actor: Principal | None = None,
    institution_id: uuid.UUID | None = None,
    data: Mapping[str, object] | None = None,
    refs: Mapping[str, uuid.UUID | None] | None = None,
    include_actor: bool = False,
    dedupe: str | None = None,
) -> uuid.UUID | None:
    """Enqueue the event; its id (None: emitted already with this `dedupe` key). `data` holds
    the values its templates show (exactly the kind's `fields`), `refs` the records whose
    names they show (exactly its `refs`: an innovation's title, a competition's name), looked
    up when it is dispatched.
    `include_actor`: the actor is told too (security messages). `dedupe`: the event is
    emitted once for this key (reminders)."""
    spec = kinds.get(kind)
    data = dict(data or {})
    refs = dict(refs or {})
    if set(data) != set(spec.fields) or set(refs) != set(spec.refs):
        raise ValueError(
            f"event {kind} carries {sorted(data)} and refs {sorted(refs)}; its templates "
            f"show {sorted(spec.fields)} and refs {sorted(spec.refs)}"
        )
    event_id = event_id_for(dedupe) if dedupe is not None else uuid.uuid4()
    told_actor = include_actor or actor is None or actor.user_id is None
    payload = {
        "event_id": str(event_id),
        "kind": kind,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "institution_id": str(institution_id) if institution_id else None,
        "actor_name": actor.name if actor else None,
        # The person the dispatch leaves out of the recipients.
        "actor_user_id": None if told_actor or actor is None else str(actor.user_id),
        "data": {key: _scalar(value) for key, value in data.items()},
        "refs": {key: str(value) if value else None for key, value in refs.items()},
        "audience": audiences.check(audience),
        "occurred_at": dates.now().isoformat(),
    }
    job = await enqueue(
        session,
        DISPATCH,
        payload,
        max_attempts=DISPATCH_MAX_ATTEMPTS,
        dedupe_key=f"notify:{event_id}" if dedupe is not None else None,
    )
    return None if job is None else event_id
