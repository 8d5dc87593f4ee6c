"""Hub activity items: the activities of the hubs the caller's institution hosts, each written
whole, one by one in a savepoint, through the hub activities' own rules (the hub's dates and
references); the hub is fixed once the activity exists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python

from app.domains.hub_activities import service as hub_activities
from app.domains.hub_activities.repository import snapshot as activity_snapshot
from app.domains.sync.batch.items import Batch, Item, pending, writing
from app.domains.sync.schemas import HubActivitySyncItem, SyncItemStatus
from app.models.enums import PUBLIC_HUB_STATUSES, HubActivityStatus
from app.models.hubs import HubActivity

_ACTIVITY_KEYS = ("external_id", "version", "hub_id", "status")


def _activity_fields(data: HubActivitySyncItem) -> dict[str, Any]:
    """What the item writes, as the activity's attributes hold it."""
    fields = data.model_dump(exclude=set(_ACTIVITY_KEYS))
    fields["documents"] = to_jsonable_python(data.documents)
    return fields


def _activity_now(activity: HubActivity) -> dict[str, Any]:
    return {
        **{
            key: getattr(activity, key)
            for key in HubActivitySyncItem.model_fields
            if key not in _ACTIVITY_KEYS
        },
        "status": activity.status,
    }


async def apply_hub_activities(batch: Batch, items: list[Item]) -> None:
    """Apply the hub activity items one by one, each in a savepoint, the existing ones locked."""
    session = batch.session
    waiting = pending(items, HubActivitySyncItem)
    if not waiting:
        return
    hubs = await batch.repository.hubs({data.hub_id for _, data in waiting})
    existing = {
        activity.external_id: activity
        for activity in await batch.repository.hub_activities_for_update(
            batch.institution_id, [data.external_id for _, data in waiting]
        )
    }
    for item, data in waiting:
        current = existing.get(data.external_id)
        if item.stale(current.id if current else None, current.version if current else None):
            continue
        hub = hubs.get(data.hub_id)
        if hub is None or (
            hub.host_institution_id != batch.institution_id
            and hub.status not in PUBLIC_HUB_STATUSES
        ):
            item.invalid(
                "sync.unknown_reference",
                "No hub has this hub_id.",
                [item.error("/hub_id", "sync.unknown_reference", "No hub has this id.")],
            )
            continue
        if hub.host_institution_id != batch.institution_id:
            item.invalid(
                "sync.out_of_scope",
                "Another institution hosts the hub: a batch writes the activities of the "
                "hubs its own institution hosts.",
                [item.error("/hub_id", "sync.out_of_scope", "Another institution's hub.")],
            )
            continue
        if current is not None and current.hub_id != hub.id:
            item.fixed("/hub_id", "An activity's hub")
            continue
        fields = _activity_fields(data)
        target = data.status or (current.status if current else HubActivityStatus.draft)
        if current is not None and _activity_now(current) == {**fields, "status": target}:
            item.done(SyncItemStatus.unchanged, current.id, current.version)
            continue
        async with writing(session, item):
            await hub_activities.check_fields(session, hub, dict(fields))
            activity = current or HubActivity(
                hub_id=hub.id,
                participants=[],
                innovations=[],
                external_id=data.external_id,
                external_institution_id=batch.institution_id,
            )
            before = activity_snapshot(current) if current is not None else None
            hub_activities.set_lists(activity, fields)
            for key, value in fields.items():
                setattr(activity, key, value)
            if activity.status is not target or current is None:
                activity.status = target
                activity.published_at = (
                    datetime.now(UTC) if target is HubActivityStatus.published else None
                )
            if current is None:
                batch.repository.add(activity)
            else:
                # The lists live in their own tables: the row changes (and its version
                # moves) even when only they did.
                batch.repository.touch(activity)
            await session.flush()
            await hub_activities.audit_write(
                session,
                batch.principal,
                "create" if current is None else "update",
                hub,
                activity,
                before,
            )
        if not item.pending:
            continue
        existing[data.external_id] = activity
        item.done(
            SyncItemStatus.created if current is None else SyncItemStatus.updated,
            activity.id,
            activity.version,
        )
