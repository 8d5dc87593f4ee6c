"""Emit an event in the caller's transaction: `await events.emit(session, ...)`.

The event travels as the payload of a `notifications.dispatch` job, written with the change
that caused it (the job row is the outbox, README "Background jobs"): a rolled-back change
tells nobody, a committed one is never forgotten. The worker then writes the event, finds its
recipients (`audience.py`), and makes the in-app notifications and the emails.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
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
) -> uuid.UUID:
    """Enqueue the event; its id. `data` holds the values its templates show (exactly the
    kind's `fields`), `refs` the records whose names they show (exactly its `refs`: an
    innovation's title, a competition's name), looked up when it is dispatched."""
    spec = kinds.get(kind)
    data = dict(data or {})
    refs = dict(refs or {})
    if set(data) != set(spec.fields) or set(refs) != set(spec.refs):
        raise ValueError(
            f"event {kind} carries {sorted(data)} and refs {sorted(refs)}; its templates "
            f"show {sorted(spec.fields)} and refs {sorted(spec.refs)}"
        )
    event_id = uuid.uuid4()
    payload = {
        "event_id": str(event_id),
        "kind": kind,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "institution_id": str(institution_id) if institution_id else None,
        "actor_name": actor.name if actor else None,
        "actor_user_id": str(actor.user_id) if actor and actor.user_id else None,
        "data": {key: _scalar(value) for key, value in data.items()},
        "refs": {key: str(value) if value else None for key, value in refs.items()},
        "audience": audiences.check(audience),
        "occurred_at": dates.now().isoformat(),
    }
    await enqueue(session, DISPATCH, payload, max_attempts=DISPATCH_MAX_ATTEMPTS)
    return event_id
