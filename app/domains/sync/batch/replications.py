"""Replication items: requests the caller's institution adopts, each written one by one in a
savepoint through the replications' own rules (the source, the holder, the lineage); the source,
the adopter unit and the date are fixed once the replication exists, the plan is written whole."""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

from app.core import dates
from app.domains.audit import service as audit
from app.domains.replications import service as replications
from app.domains.sync.batch.items import Batch, Item, pending, writing
from app.domains.sync.batch.units import resolve_units, unit_of
from app.domains.sync.schemas import ReplicationSyncItem, SyncItemStatus
from app.models.enums import ReplicationFacilitator, ReplicationScope, ReplicationStatus
from app.models.replications import Replication


class Plan(TypedDict):
    """What an item writes whole, as the replication's attributes hold it."""

    scope: ReplicationScope
    adaptation: str | None
    facilitator: ReplicationFacilitator | None
    facilitator_hub_id: uuid.UUID | None
    documents: list[dict[str, Any]]  # JSON, as the column keeps them
    replica_innovation_id: uuid.UUID | None


def _replica_of(
    item: Item, data: ReplicationSyncItem, replicas: dict[str, uuid.UUID]
) -> tuple[bool, uuid.UUID | None]:
    """(whether the item may go on, the replica it names if any)."""
    if data.replica_external_id is None:
        return True, data.replica_innovation_id
    if data.replica_innovation_id is not None:
        item.invalid(
            "sync.replica_twice",
            "Name the replica by at most one of `replica_innovation_id` and `replica_external_id`.",
            [item.error("/replica_external_id", "sync.replica_twice", "Give at most one.")],
        )
        return False, None
    replica_id = replicas.get(data.replica_external_id)
    if replica_id is None:
        item.invalid(
            "sync.unknown_reference",
            "No innovation of your institution has this replica_external_id.",
            [
                item.error(
                    "/replica_external_id",
                    "sync.unknown_reference",
                    "Not the external_id of an innovation pushed before or applied in this batch.",
                )
            ],
        )
        return False, None
    return True, replica_id


async def apply_replications(batch: Batch, items: list[Item]) -> None:
    """Apply the replication items one by one, each in a savepoint, the existing ones locked."""
    session = batch.session
    waiting = pending(items, ReplicationSyncItem)
    if not waiting:
        return
    owners = await resolve_units(batch, waiting, "adopter_unit_id")
    replicas = await batch.repository.innovation_ids_by_external_id(
        batch.institution_id,
        {e for _, data in waiting if (e := data.replica_external_id) is not None},
    )
    existing = {
        replication.external_id: replication
        for replication in await batch.repository.replications_for_update(
            batch.institution_id, [data.external_id for _, data in waiting]
        )
    }
    for item, data in waiting:
        current = existing.get(data.external_id)
        if item.stale(current.id if current else None, current.version if current else None):
            continue
        unit_id = unit_of(batch, item, data, owners, "adopter_unit_id")
        if unit_id is None:
            continue
        ok, replica_id = _replica_of(item, data, replicas)
        if not ok:
            continue
        renames = {}
        if data.adopter_unit_external_id is not None:
            renames["/adopter_unit_id"] = "/adopter_unit_external_id"
        if data.replica_external_id is not None:
            renames["/replica_innovation_id"] = "/replica_external_id"
        plan = Plan(
            scope=data.scope,
            adaptation=data.adaptation,
            facilitator=data.facilitator,
            facilitator_hub_id=data.facilitator_hub_id,
            documents=[d.model_dump(mode="json") for d in data.documents],
            replica_innovation_id=replica_id,
        )
        if current is not None:
            if current.source_innovation_id != data.source_innovation_id:
                item.fixed("/source_innovation_id", "A replication's source")
                continue
            if current.adopter_unit_id != unit_id:
                item.fixed(
                    renames.get("/adopter_unit_id", "/adopter_unit_id"),
                    "A replication's adopter unit",
                )
                continue
            if data.requested_date not in (None, current.requested_date):
                item.fixed("/requested_date", "The date a replication was requested")
                continue
            if {key: getattr(current, key) for key in plan} == plan:
                item.done(SyncItemStatus.unchanged, current.id, current.version)
                continue
        async with writing(session, item, renames):
            if current is None:
                status = SyncItemStatus.created
                replication = await _create_replication(batch, data, unit_id, plan)
            else:
                await replications.check_plan(
                    session, current, data.facilitator, data.facilitator_hub_id, replica_id
                )
                before = audit.snapshot(current)
                for key, value in plan.items():
                    setattr(current, key, value)
                await session.flush()
                await replications.audit_write(session, batch.principal, "update", current, before)
                status, replication = SyncItemStatus.updated, current
        if not item.pending:
            continue
        existing[data.external_id] = replication
        item.done(status, replication.id, replication.version)


async def _create_replication(
    batch: Batch, data: ReplicationSyncItem, unit_id: uuid.UUID, plan: Plan
) -> Replication:
    session = batch.session
    unit = await batch.repository.unit(unit_id)
    assert unit is not None  # resolved within the caller's institution, under its lock
    requested = data.requested_date or dates.today_wib()
    source = await replications.check_request(
        session,
        batch.principal,
        data.source_innovation_id,
        unit,
        data.facilitator,
        data.facilitator_hub_id,
        requested,
        plan["replica_innovation_id"],
    )
    replication = Replication(
        id=uuid.uuid4(),
        source_innovation_id=source.id,
        source_institution_id=source.institution_id,
        source_unit_id=source.unit_id,
        adopter_institution_id=unit.institution_id,
        adopter_unit_id=unit.id,
        status=ReplicationStatus.requested,
        requested_date=requested,
        benefit_measures=[],
        external_id=data.external_id,
        external_institution_id=batch.institution_id,
        **plan,
    )
    batch.repository.add(replication)
    await session.flush()
    await replications.audit_write(session, batch.principal, "create", replication, None)
    await replications.tell_requested(session, batch.principal, replication)
    return replication
