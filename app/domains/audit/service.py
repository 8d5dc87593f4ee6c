"""The audit trail: every write appends one event in the transaction that makes it.

Services call `record(...)` with snapshots of the record before and after the change; only the
fields that changed are kept, and secret columns are never copied (they are not even read).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from asgi_correlation_id import correlation_id
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dates import jsonable
from app.core.errors import Unprocessable
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit.repository import AuditEventRepository
from app.domains.audit.schemas import AuditEventFilter, AuditEventSort
from app.models.audit import AuditEvent

# Columns never written to the trail, whatever the table.
SECRET_FIELDS = frozenset({"password_hash", "secret_hash", "password", "secret"})
# Bookkeeping that changes on every update and tells nothing.
_NOISE = frozenset({"updated_at"})
# The actor name of writes made without a caller: the operator's command line, seeding.
SYSTEM_ACTOR = "system"

Snapshot = dict[str, Any]


def snapshot(record: object) -> Snapshot:
    """The record's column values as JSON-ready data (instants in UTC), secrets left out."""
    mapper = inspect(type(record))
    unloaded = inspect(record).unloaded
    return {
        attr.key: jsonable(getattr(record, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in SECRET_FIELDS
        and attr.key not in _NOISE
        and attr.key not in unloaded  # deferred columns: never loaded, never lazily read
        and all(column.computed is None for column in attr.columns)  # derived, not written
    }


def diff(before: Snapshot | None, after: Snapshot | None) -> dict[str, dict[str, Any]]:
    """{field: {"before": old, "after": new}} for each field that differs."""
    before, after = before or {}, after or {}
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(before.keys() | after.keys())
        if key not in SECRET_FIELDS and before.get(key) != after.get(key)
    }


def event_values(
    actor: Principal | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str,
    *,
    institution_id: uuid.UUID | None,
    before: Snapshot | None = None,
    after: Snapshot | None = None,
    changes: dict[str, dict[str, Any]] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """An event's columns: `record` adds it to the session, bulk writers (sync batches) insert
    many at once. The actor is named by its name (a person's display name, a key's name) and
    a person's email is kept beside it; `actor` None is the operator's command line
    (`system`, no email). `reason`, the caller's why, is kept with the changes."""
    return {
        "actor_kind": actor.kind if actor else "system",
        "actor_id": actor.id if actor else None,
        "actor_role": actor.role.value if actor else None,
        "actor_name": actor.name if actor else SYSTEM_ACTOR,
        "actor_email": actor.email if actor else None,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "institution_id": institution_id,
        "request_id": correlation_id.get(),
        "changes": {
            **(changes if changes is not None else diff(before, after)),
            **({"reason": {"before": None, "after": reason}} if reason is not None else {}),
        },
    }


async def record(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str,
    *,
    institution_id: uuid.UUID | None,
    before: Snapshot | None = None,
    after: Snapshot | None = None,
    changes: dict[str, dict[str, Any]] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Append one event to the session (written with the request's commit, or not at all);
    the arguments as `event_values` takes them."""
    event = AuditEvent(
        **event_values(
            actor,
            action,
            entity_type,
            entity_id,
            institution_id=institution_id,
            before=before,
            after=after,
            changes=changes,
            reason=reason,
        )
    )
    AuditEventRepository(session).add(event)
    return event


async def record_many(session: AsyncSession, events: Sequence[dict[str, Any]]) -> None:
    """Append many events at once, each as `event_values` makes it: one INSERT run for all
    (executemany), so a bulk writer (a sync batch) builds no ORM object per event. Written
    with the transaction, like `record`'s."""
    if events:
        await AuditEventRepository(session).insert_many(events)


async def list_audit_events(
    session: AsyncSession,
    principal: Principal,
    filters: AuditEventFilter,
    sort: AuditEventSort,
    page: PageRequest,
) -> PageResult[AuditEvent]:
    """Secretariat admins read every event; a local admin its own institution's only."""
    if (
        filters.occurred_from is not None
        and filters.occurred_to is not None
        and filters.occurred_from > filters.occurred_to
    ):
        raise Unprocessable(
            "audit.time_range_inverted", "`occurred_from` must not be after `occurred_to`."
        )
    visible, institution_id = principal.institution_filter(filters.institution_id)
    if not visible:
        return PageResult.empty(page)
    filters = filters.model_copy(update={"institution_id": institution_id})
    return await AuditEventRepository(session).list(filters, sort, page)
