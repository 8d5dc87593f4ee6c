"""Unit items, applied first (the other items name them), one by one in a savepoint, parents
before their sub-units; and the units the other items name, by id or by external_id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from app.domains.audit import service as audit
from app.domains.institutions import service as institutions
from app.domains.sync.batch.items import Batch, Item, pending, writing
from app.domains.sync.schemas import SyncItem, SyncItemStatus, UnitSyncItem
from app.models.institutions import Unit


def _unit_order(items: list[tuple[Item, UnitSyncItem]]) -> list[tuple[Item, UnitSyncItem]]:
    """Parents before their sub-units; an item in a cycle of parents is invalid."""
    by_external = {data.external_id: (item, data) for item, data in items}
    ordered: list[tuple[Item, UnitSyncItem]] = []
    state: dict[int, str] = {}

    def visit(entry: tuple[Item, UnitSyncItem], path: list[Item]) -> None:
        item, data = entry
        if state.get(item.index) == "done":
            return
        if state.get(item.index) == "visiting":
            for member in path[path.index(item) :]:
                if member.pending:
                    member.invalid(
                        "sync.reference_cycle",
                        "The units' parents form a cycle in this batch.",
                        [
                            member.error(
                                "/parent_external_id",
                                "sync.reference_cycle",
                                "This parent leads back to the unit itself.",
                            )
                        ],
                    )
            return
        state[item.index] = "visiting"
        parent = (
            by_external.get(data.parent_external_id)
            if data.parent_external_id is not None
            else None
        )
        if parent is not None:
            visit(parent, [*path, item])
        state[item.index] = "done"
        ordered.append(entry)

    for entry in items:
        visit(entry, [])
    return ordered


async def apply_units(batch: Batch, items: list[Item]) -> None:
    """Apply the unit items, parents before their sub-units, each in a savepoint, under the
    lock the institution's unit writes take."""
    session = batch.session
    waiting = pending(items, UnitSyncItem)
    if not waiting:
        return
    # The lock unit writes take (app.domains.institutions.service): no racing tree changes.
    institution = await institutions.get_institution(session, batch.institution_id, for_update=True)
    named = {data.external_id for _, data in waiting} | {
        data.parent_external_id for _, data in waiting if data.parent_external_id
    }
    existing = {
        unit.external_id: unit
        for unit in await batch.repository.units_by_external_id(batch.institution_id, named)
        if unit.external_id is not None
    }
    batch.units.update({key: unit.id for key, unit in existing.items()})
    renames = {"/parent_unit_id": "/parent_external_id"}
    for item, data in _unit_order(waiting):
        if not item.pending:
            continue
        unit = existing.get(data.external_id)
        if item.stale(unit.id if unit else None, unit.version if unit else None):
            continue
        parent_id = None
        if data.parent_external_id is not None:
            parent_id = batch.units.get(data.parent_external_id)
            if parent_id is None:
                item.invalid(
                    "sync.unknown_reference",
                    "No unit of your institution has the parent's external_id.",
                    [
                        item.error(
                            "/parent_external_id",
                            "sync.unknown_reference",
                            "Not the external_id of a unit pushed before or applied in this batch.",
                        )
                    ],
                )
                continue
        async with writing(session, item, renames):
            if parent_id is not None:
                await institutions.check_parent(
                    session, batch.institution_id, parent_id, unit.id if unit else None
                )
            await institutions.check_unit_region(session, institution, data.region_code)
            if unit is None:
                unit = Unit(
                    institution_id=batch.institution_id,
                    parent_unit_id=parent_id,
                    name=data.name,
                    region_code=data.region_code,
                    external_id=data.external_id,
                )
                batch.repository.add(unit)
                await session.flush()
                await institutions.audit_write(session, batch.principal, "create", unit, None)
                status = SyncItemStatus.created
            elif (unit.name, unit.parent_unit_id, unit.region_code) == (
                data.name,
                parent_id,
                data.region_code,
            ):
                status = SyncItemStatus.unchanged
            else:
                before = audit.snapshot(unit)
                unit.name = data.name
                unit.parent_unit_id = parent_id
                unit.region_code = data.region_code
                await session.flush()
                await institutions.audit_write(session, batch.principal, "update", unit, before)
                status = SyncItemStatus.updated
        if not item.pending:
            continue
        existing[data.external_id] = unit
        batch.units[data.external_id] = unit.id
        item.done(status, unit.id, unit.version)


# --- the units other items name -------------------------------------------------------------


async def resolve_units(
    batch: Batch, items: Sequence[tuple[Item, SyncItem]], field: str = "unit_id"
) -> dict[uuid.UUID, uuid.UUID]:
    """Load the units the items name in `field` (by id) or `field` less `_id` plus
    `_external_id`; returns the institution of each unit named by id."""
    external_field = field.removesuffix("_id") + "_external_id"
    wanted = {
        named
        for _, data in items
        if (named := getattr(data, external_field)) is not None and named not in batch.units
    }
    if wanted:
        batch.units.update(
            await batch.repository.unit_ids_by_external_id(batch.institution_id, wanted)
        )
    by_id = {named for _, data in items if (named := getattr(data, field)) is not None}
    if not by_id:
        return {}
    return await batch.repository.unit_institutions(by_id)


def unit_of(
    batch: Batch,
    item: Item,
    data: SyncItem,
    owners: dict[uuid.UUID, uuid.UUID],
    field: str = "unit_id",
) -> uuid.UUID | None:
    """The item's unit (named in `field` or its `_external_id` twin), or None once the item
    is reported invalid."""
    external_field = field.removesuffix("_id") + "_external_id"
    unit_id: uuid.UUID | None = getattr(data, field)
    unit_external_id: str | None = getattr(data, external_field)
    if (unit_id is None) == (unit_external_id is None):
        item.invalid(
            "sync.unit_required",
            f"Name the unit by exactly one of `{field}` and `{external_field}`.",
            [item.error(f"/{external_field}", "sync.unit_required", "Give exactly one.")],
        )
        return None
    if unit_external_id is not None:
        unit_id = batch.units.get(unit_external_id)
        if unit_id is None:
            item.invalid(
                "sync.unknown_reference",
                f"No unit of your institution has this {external_field}.",
                [
                    item.error(
                        f"/{external_field}",
                        "sync.unknown_reference",
                        "Not the external_id of a unit pushed before or applied in this batch.",
                    )
                ],
            )
        return unit_id
    assert unit_id is not None
    owner = owners.get(unit_id)
    if owner is None:
        item.invalid(
            "sync.unknown_reference",
            f"No unit has this {field}.",
            [item.error(f"/{field}", "sync.unknown_reference", "No unit has this id.")],
        )
        return None
    if owner != batch.institution_id:
        item.invalid(
            "sync.out_of_scope",
            "The unit belongs to another institution: a batch writes its own institution's "
            "records only.",
            [item.error(f"/{field}", "sync.out_of_scope", "Another institution's unit.")],
        )
        return None
    return unit_id
