"""Innovation items, by the thousand: checked in Python against what one query per kind of
reference loaded, then written with one INSERT and one UPDATE per batch, and their audit
events with one more (bench/README.md)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError

from app.core import dates
from app.domains.audit import service as audit
from app.domains.innovations import service as innovations
from app.domains.sync.batch.items import Batch, Item, item_refusal, pending
from app.domains.sync.batch.units import resolve_units, unit_of
from app.domains.sync.repository import INNOVATION_WRITTEN
from app.domains.sync.schemas import InnovationSyncItem, SyncItemStatus
from app.models.enums import InnovationStatus
from app.models.innovations import Innovation

# Steps an item may take along the lifecycle (a new record starts as a draft).
_STEPS = {
    (InnovationStatus.draft, InnovationStatus.published),
    (InnovationStatus.published, InnovationStatus.archived),
}
_EXCLUDED = {"sections", "version", "unit_id", "unit_external_id", "status", "external_id"}


def _jsonable(values: Mapping[str, object]) -> audit.Snapshot:
    return {key: dates.jsonable(value) for key, value in values.items()}


def _target_status(
    item: Item,
    record_id: uuid.UUID | None,
    current: InnovationStatus | None,
    wanted: InnovationStatus | None,
) -> InnovationStatus | None:
    start = current or InnovationStatus.draft
    target = wanted or start
    if target is start or (start, target) in _STEPS:
        return target
    item.invalid(
        "sync.invalid_transition",
        f"An innovation that is {start.value} cannot become {target.value} "
        "(draft -> published -> archived).",
        [item.error("/status", "sync.invalid_transition", f"Not reachable from {start.value}.")],
        record_id,
    )
    return None


async def apply_innovations(batch: Batch, items: list[Item]) -> None:
    """Check every innovation item in Python, then write them and their audit events in one
    savepoint: a refusal only the database makes fails them all."""
    session = batch.session
    waiting = pending(items, InnovationSyncItem)
    if not waiting:
        return
    owners = await resolve_units(batch, waiting)
    known_codes = await batch.repository.category_codes()
    existing = await batch.repository.innovations_for_update(
        batch.institution_id, [data.external_id for _, data in waiting]
    )
    now = datetime.now(UTC)
    creates: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    audits: list[dict[str, object]] = []
    applied: list[tuple[Item, SyncItemStatus, uuid.UUID, int]] = []
    for item, data in waiting:
        current = existing.get(data.external_id)
        if item.stale(current.id if current else None, current.version if current else None):
            continue
        unit_id = unit_of(batch, item, data, owners)
        if unit_id is None:
            continue
        target = _target_status(
            item, current.id if current else None, current.status if current else None, data.status
        )
        if target is None:
            continue
        values = innovations.stored(data.model_dump(exclude=_EXCLUDED))
        values["unit_id"] = unit_id
        values["sections"] = {name: body for name, body in data.sections if body}
        unknown = [code for code in values["category_codes"] if code not in known_codes]
        errors = [item.moved(error) for error in innovations.rule_errors(values, unknown)]
        if target is not InnovationStatus.draft:
            draft = Innovation(
                sections=values["sections"],
                sdgs=values["sdgs"],
                implemented_date=values["implemented_date"],
            )
            errors += [item.moved(error) for error in innovations.missing_for_publication(draft)]
        if errors:
            lacks = " or lacks what publishing requires"
            item.invalid(
                "innovation.invalid",
                "The innovation breaks the catalogue's rules"
                + (lacks if target is not InnovationStatus.draft else "")
                + "; `errors` lists each.",
                errors,
                current.id if current else None,
            )
            continue
        if current is None:
            record_id = uuid.uuid4()
            row = {
                **values,
                "id": record_id,
                "institution_id": batch.institution_id,
                "external_id": data.external_id,
                "status": target,
                "published_at": now if target is not InnovationStatus.draft else None,
                "archived_at": now if target is InnovationStatus.archived else None,
                "version": 1,
            }
            creates.append(row)
            audits.append(
                audit.event_values(
                    batch.principal,
                    "create",
                    "innovation",
                    record_id,
                    institution_id=batch.institution_id,
                    after=_jsonable(row),
                )
            )
            applied.append((item, SyncItemStatus.created, record_id, 1))
            continue
        before = {key: getattr(current, key) for key in (*INNOVATION_WRITTEN, "status")}
        after = {**values, "status": target}
        if before == after:
            item.done(SyncItemStatus.unchanged, current.id, current.version)
            continue
        published_at = current.published_at
        archived_at = current.archived_at
        if target is not current.status:
            if target is InnovationStatus.published:
                published_at = now
            if target is InnovationStatus.archived:
                archived_at = now
        updates.append(
            {
                **{f"b_{key}": value for key, value in values.items()},
                "b_id": current.id,
                "b_status": target,
                "b_published_at": published_at,
                "b_archived_at": archived_at,
            }
        )
        audits.append(
            audit.event_values(
                batch.principal,
                "update",
                "innovation",
                current.id,
                institution_id=batch.institution_id,
                before=_jsonable(before),
                after=_jsonable(after),
            )
        )
        applied.append((item, SyncItemStatus.updated, current.id, current.version + 1))
    if not applied:
        return
    try:
        async with session.begin_nested():
            await batch.repository.write_innovations(creates, updates)
            await audit.record_many(session, audits)
    except DBAPIError as exc:
        # Something only the database catches (a race with another writer): nothing of the
        # batch's innovations was written; report it on each.
        problem = item_refusal(exc)
        for item, _, _, _ in applied:
            item.refuse(problem)
        return
    for item, status, record_id, version in applied:
        item.done(status, record_id, version)
