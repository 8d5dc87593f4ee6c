"""Batches pushed by regional systems (docs/sync.md): items validated one by one, applied in
dependency order (units, then innovations, replications and hub activities, which name them),
each reported; a bad item fails alone. Writes are confined to the caller's institution. Each
batch is recorded as a run.

Units, replications and hub activities are few and their rules (the tree, the region; the
source, the holder, the lineage; the hub's dates and references) live in their services: they
are written one by one, each in a savepoint. Innovations come by the thousand: they are checked in
Python against what one query per kind of reference loaded, then written with one INSERT and one
UPDATE per batch (bench/README.md).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from asgi_correlation_id import correlation_id
from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.errors import (
    AppError,
    Forbidden,
    ProblemFieldError,
    Unprocessable,
    field_error,
    integrity_problem,
    validation_field_errors,
)
from app.core.security import Principal
from app.core.texts import storable, unstorable_pointer
from app.domains.audit import service as audit
from app.domains.hub_activities import service as hub_activities
from app.domains.hub_activities.repository import snapshot as activity_snapshot
from app.domains.innovations import service as innovations
from app.domains.institutions import service as institutions
from app.domains.replications import service as replications
from app.domains.sync.schemas import (
    HubActivitySyncItem,
    InnovationSyncItem,
    ReplicationSyncItem,
    SyncBatchResult,
    SyncItemResult,
    SyncItemStatus,
    SyncResource,
    SyncTotals,
    UnitSyncItem,
)
from app.models.audit import AuditEvent
from app.models.enums import (
    PUBLIC_HUB_STATUSES,
    HubActivityStatus,
    InnovationStatus,
    ReplicationStatus,
)
from app.models.hubs import Hub, HubActivity
from app.models.innovations import Innovation, InnovationCategory
from app.models.institutions import Unit
from app.models.replications import Replication
from app.models.sync import SyncRun

# What a batch may hold, in the order they are applied.
SUPPORTED = (
    SyncResource.units,
    SyncResource.innovations,
    SyncResource.replications,
    SyncResource.hub_activities,
)
_ADAPTERS: dict[SyncResource, TypeAdapter[Any]] = {
    SyncResource.units: TypeAdapter(UnitSyncItem),
    SyncResource.innovations: TypeAdapter(InnovationSyncItem),
    SyncResource.replications: TypeAdapter(ReplicationSyncItem),
    SyncResource.hub_activities: TypeAdapter(HubActivitySyncItem),
}
_SERIALISE = text("SELECT pg_advisory_xact_lock(hashtextextended(:lock_key, 0))")


# --- items ----------------------------------------------------------------------------------


@dataclass
class Item:
    """One item of the batch, and what became of it once known."""

    index: int
    resource: SyncResource | None  # None: a mixed batch's item that named none it knows
    external_id: str | None
    data: Any = None  # the parsed item, once valid
    result: SyncItemResult | None = None

    @property
    def pointer(self) -> str:
        return f"/items/{self.index}"

    @property
    def pending(self) -> bool:
        return self.result is None

    def done(
        self,
        status: SyncItemStatus,
        record_id: uuid.UUID | None = None,
        version: int | None = None,
    ) -> None:
        self.result = SyncItemResult(
            index=self.index,
            resource=self.resource,
            external_id=self.external_id,
            status=status,
            id=record_id,
            version=version,
        )

    def stale(self, record_id: uuid.UUID | None, version: int | None) -> bool:
        """Report a `conflict` when the item names a version the record (None: no record
        has its external_id) is not at."""
        if self.data.version is None or (record_id is not None and version == self.data.version):
            return False
        self.conflict(
            record_id,
            version,
            "The record changed since the version given; read it again and resend."
            if record_id is not None
            else "No record has this external_id any more (deleted since the version given).",
        )
        return True

    def conflict(self, record_id: uuid.UUID | None, version: int | None, message: str) -> None:
        self.result = SyncItemResult(
            index=self.index,
            resource=self.resource,
            external_id=self.external_id,
            status=SyncItemStatus.conflict,
            id=record_id,
            version=version,
            code="sync.version_conflict" if record_id is not None else "sync.record_gone",
            message=message,
        )

    def invalid(
        self,
        code: str,
        message: str,
        errors: Sequence[ProblemFieldError] | None = None,
        record_id: uuid.UUID | None = None,
    ) -> None:
        self.result = SyncItemResult(
            index=self.index,
            resource=self.resource,
            external_id=self.external_id,
            status=SyncItemStatus.invalid,
            id=record_id,
            code=code,
            message=message,
            errors=list(errors) if errors else None,
        )

    def refuse(self, exc: AppError, renames: dict[str, str] | None = None) -> None:
        """Report a service's refusal, its pointers moved under this item."""
        self.invalid(
            exc.code,
            exc.detail or exc.code,
            [self.moved(error, renames) for error in exc.errors or []],
        )

    def moved(
        self, error: ProblemFieldError, renames: dict[str, str] | None = None
    ) -> ProblemFieldError:
        pointer = error.pointer or ""
        pointer = (renames or {}).get(pointer, pointer)
        return error.model_copy(update={"pointer": self.pointer + pointer, "location": "body"})

    def error(self, pointer: str, code: str, message: str) -> ProblemFieldError:
        return field_error(self.pointer + pointer, code, message)


def _external_id(raw: Any) -> str | None:
    """The item's external_id as its result shows it (none when it cannot be stored)."""
    value = raw.get("external_id") if isinstance(raw, dict) else None
    if not isinstance(value, str) or not storable(value):
        return None
    return value.strip()


def _parse(index: int, raw: Any, resource: SyncResource | None) -> Item:
    """Validate one item on its own: a bad one becomes `invalid`, the others go on."""
    if resource is None:  # a mixed batch: the item names its resource
        named = raw.get("resource") if isinstance(raw, dict) else None
        known = {r.value: r for r in SUPPORTED}
        if named not in known:
            item = Item(index, None, _external_id(raw))
            item.invalid(
                "sync.unknown_resource",
                "Each item of a mixed batch names its `resource`: one of " + ", ".join(known) + ".",
                [item.error("/resource", "sync.unknown_resource", "Not a resource of a batch.")],
            )
            return item
        resource = known[named]
        raw = {key: value for key, value in raw.items() if key != "resource"}
    item = Item(index, resource, _external_id(raw))
    unstorable = unstorable_pointer(raw)
    if unstorable is not None:
        item.invalid(
            "validation_failed",
            "A text holds a character that cannot be stored (NUL, or half of a surrogate pair).",
            [item.error(unstorable, "validation_failed", "This text cannot be stored.")],
        )
        return item
    try:
        item.data = _ADAPTERS[resource].validate_python(raw)
    except ValidationError as exc:
        errors = validation_field_errors(
            [
                {**error, "loc": ("body", "items", index, *error["loc"])}
                for error in exc.errors(include_url=False)
            ]
        )
        item.invalid("sync.invalid_item", "The item breaks the resource's schema.", errors)
    return item


def _mark_duplicates(items: list[Item]) -> None:
    """An external_id is applied once a batch: its later items are reported, not applied."""
    first: dict[tuple[SyncResource, str], int] = {}
    for item in items:
        if item.external_id is None or item.resource is None:
            continue
        key = (item.resource, item.external_id)
        if key in first:
            item.invalid(
                "sync.duplicate_external_id",
                f"Item {first[key]} of this batch has the same external_id; it is applied once.",
                [
                    item.error(
                        "/external_id",
                        "sync.duplicate_external_id",
                        f"Also the external_id of item {first[key]}.",
                    )
                ],
            )
        else:
            first[key] = item.index


# --- the batch ------------------------------------------------------------------------------


@dataclass
class Batch:
    session: AsyncSession
    principal: Principal
    institution_id: uuid.UUID
    # The caller's units by its external_id, as loaded or written so far.
    units: dict[str, uuid.UUID] = field(default_factory=dict)


@asynccontextmanager
async def _writing(
    session: AsyncSession, item: Item, renames: dict[str, str] | None = None
) -> AsyncIterator[None]:
    """One item's writes, in a savepoint: a refusal of the service's rules, or of the
    database's, undoes them and reports the item invalid (the caller goes on when
    `item.pending` is still true)."""
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except AppError as exc:
        item.refuse(exc, renames)
    except DBAPIError as exc:
        item.refuse(integrity_problem(exc), renames)


# --- units ----------------------------------------------------------------------------------


def _unit_order(items: list[Item]) -> list[Item]:
    """Parents before their sub-units; an item in a cycle of parents is invalid."""
    by_external = {item.data.external_id: item for item in items}
    ordered: list[Item] = []
    state: dict[int, str] = {}

    def visit(item: Item, path: list[Item]) -> None:
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
        parent = by_external.get(item.data.parent_external_id)
        if parent is not None:
            visit(parent, [*path, item])
        state[item.index] = "done"
        ordered.append(item)

    for item in items:
        visit(item, [])
    return ordered


async def _apply_units(batch: Batch, items: list[Item]) -> None:
    session = batch.session
    pending = [item for item in items if item.pending]
    if not pending:
        return
    # The lock unit writes take (app.domains.institutions.service): no racing tree changes.
    institution = await institutions.get_institution(session, batch.institution_id, for_update=True)
    named = {item.data.external_id for item in pending} | {
        item.data.parent_external_id for item in pending if item.data.parent_external_id
    }
    existing = {
        unit.external_id: unit
        for unit in await session.scalars(
            select(Unit).where(
                Unit.institution_id == batch.institution_id, Unit.external_id.in_(named)
            )
        )
        if unit.external_id is not None
    }
    batch.units.update({key: unit.id for key, unit in existing.items()})
    renames = {"/parent_unit_id": "/parent_external_id"}
    for item in _unit_order(pending):
        if not item.pending:
            continue
        data: UnitSyncItem = item.data
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
        async with _writing(session, item, renames):
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
                session.add(unit)
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


# --- innovations ----------------------------------------------------------------------------

_INNOVATIONS = cast(Table, Innovation.__table__)
# The columns an item writes (besides the status and its dates).
_WRITTEN = (
    "unit_id",
    "title",
    "acronym_expansion",
    "year_started",
    "implemented_date",
    "is_digital",
    "stage",
    "sdgs",
    "category_codes",
    "sections",
    "regulations",
    "budget_lines",
    "links",
    "sustainability_status",
    "source_system",
)
_READ = [
    _INNOVATIONS.c[name]
    for name in (
        "id",
        "version",
        "external_id",
        "status",
        "published_at",
        "archived_at",
        *_WRITTEN,
    )
]
_UPDATE = (
    update(_INNOVATIONS)
    .where(_INNOVATIONS.c.id == bindparam("b_id"))
    .values(
        {
            **{name: bindparam(f"b_{name}") for name in _WRITTEN},
            "status": bindparam("b_status"),
            "published_at": bindparam("b_published_at"),
            "archived_at": bindparam("b_archived_at"),
            "version": _INNOVATIONS.c.version + 1,
            "updated_at": func.now(),
        }
    )
)
# Steps an item may take along the lifecycle (a new record starts as a draft).
_STEPS = {
    (InnovationStatus.draft, InnovationStatus.published),
    (InnovationStatus.published, InnovationStatus.archived),
}
_EXCLUDED = {"sections", "version", "unit_id", "unit_external_id", "status", "external_id"}


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    return {key: dates.jsonable(value) for key, value in values.items()}


async def _resolve_units(
    batch: Batch, items: list[Item], field: str = "unit_id"
) -> dict[uuid.UUID, uuid.UUID]:
    """Load the units the items name in `field` (by id) or `field` less `_id` plus
    `_external_id`; returns the institution of each unit named by id."""
    session = batch.session
    external_field = field.removesuffix("_id") + "_external_id"
    wanted = {
        named
        for item in items
        if (named := getattr(item.data, external_field)) is not None and named not in batch.units
    }
    if wanted:
        found = await session.execute(
            select(Unit.external_id, Unit.id).where(
                Unit.institution_id == batch.institution_id, Unit.external_id.in_(wanted)
            )
        )
        batch.units.update({external: unit_id for external, unit_id in found if external})
    by_id = {named for item in items if (named := getattr(item.data, field)) is not None}
    if not by_id:
        return {}
    found = await session.execute(select(Unit.id, Unit.institution_id).where(Unit.id.in_(by_id)))
    return {row.id: row.institution_id for row in found}


def _unit_of(
    batch: Batch, item: Item, owners: dict[uuid.UUID, uuid.UUID], field: str = "unit_id"
) -> uuid.UUID | None:
    """The item's unit (named in `field` or its `_external_id` twin), or None once the item
    is reported invalid."""
    external_field = field.removesuffix("_id") + "_external_id"
    unit_id: uuid.UUID | None = getattr(item.data, field)
    unit_external_id: str | None = getattr(item.data, external_field)
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


async def _apply_innovations(batch: Batch, items: list[Item]) -> None:
    session = batch.session
    pending = [item for item in items if item.pending]
    if not pending:
        return
    owners = await _resolve_units(batch, pending)
    known_codes = set(await session.scalars(select(InnovationCategory.code)))
    rows = await session.execute(
        select(*_READ)
        .where(
            _INNOVATIONS.c.institution_id == batch.institution_id,
            _INNOVATIONS.c.external_id.in_([item.data.external_id for item in pending]),
        )
        .with_for_update()
    )
    existing = {row.external_id: row for row in rows}
    now = datetime.now(UTC)
    creates: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    applied: list[tuple[Item, SyncItemStatus, uuid.UUID, int]] = []
    for item in pending:
        data: InnovationSyncItem = item.data
        current = existing.get(data.external_id)
        if item.stale(current.id if current else None, current.version if current else None):
            continue
        unit_id = _unit_of(batch, item, owners)
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
                    after=_snapshot(row),
                )
            )
            applied.append((item, SyncItemStatus.created, record_id, 1))
            continue
        before = {key: getattr(current, key) for key in (*_WRITTEN, "status")}
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
                before=_snapshot(before),
                after=_snapshot(after),
            )
        )
        applied.append((item, SyncItemStatus.updated, current.id, current.version + 1))
    if not applied:
        return
    try:
        async with session.begin_nested():
            await _write_innovations(session, creates, updates, audits)
    except DBAPIError as exc:
        # Something only the database catches (a race with another writer): nothing of the
        # batch's innovations was written; report it on each.
        problem = integrity_problem(exc)
        for item, _, _, _ in applied:
            item.refuse(problem)
        return
    for item, status, record_id, version in applied:
        item.done(status, record_id, version)


async def _write_innovations(
    session: AsyncSession,
    creates: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    audits: list[dict[str, Any]],
) -> None:
    if creates:
        await session.execute(insert(_INNOVATIONS), creates)
    if updates:
        await session.execute(_UPDATE, updates)
    if audits:
        await session.execute(insert(cast(Table, AuditEvent.__table__)), audits)


# --- replications ---------------------------------------------------------------------------

# The plan an item writes whole (the source, the adopter unit and the date are fixed).
_PLAN = ("scope", "adaptation", "facilitator", "facilitator_hub_id", "documents")


async def _innovations_by_external_id(batch: Batch, external_ids: set[str]) -> dict[str, uuid.UUID]:
    if not external_ids:
        return {}
    found = await batch.session.execute(
        select(Innovation.external_id, Innovation.id).where(
            Innovation.institution_id == batch.institution_id,
            Innovation.external_id.in_(external_ids),
        )
    )
    return {external: record_id for external, record_id in found if external is not None}


def _replica_of(item: Item, replicas: dict[str, uuid.UUID]) -> tuple[bool, uuid.UUID | None]:
    """(whether the item may go on, the replica it names if any)."""
    data: ReplicationSyncItem = item.data
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


def _fixed(item: Item, pointer: str, what: str) -> None:
    item.invalid(
        "sync.fixed_field",
        f"{what} is fixed once the record exists: push a new record (another external_id) instead.",
        [item.error(pointer, "sync.fixed_field", "Differs from the record's.")],
    )


async def _apply_replications(batch: Batch, items: list[Item]) -> None:
    session = batch.session
    pending = [item for item in items if item.pending]
    if not pending:
        return
    owners = await _resolve_units(batch, pending, "adopter_unit_id")
    replicas = await _innovations_by_external_id(
        batch, {e for item in pending if (e := item.data.replica_external_id) is not None}
    )
    existing = {
        replication.external_id: replication
        for replication in await session.scalars(
            select(Replication)
            .where(
                Replication.external_institution_id == batch.institution_id,
                Replication.external_id.in_([item.data.external_id for item in pending]),
            )
            .with_for_update()
        )
    }
    for item in pending:
        data: ReplicationSyncItem = item.data
        current = existing.get(data.external_id)
        if item.stale(current.id if current else None, current.version if current else None):
            continue
        unit_id = _unit_of(batch, item, owners, "adopter_unit_id")
        if unit_id is None:
            continue
        ok, replica_id = _replica_of(item, replicas)
        if not ok:
            continue
        renames = {}
        if data.adopter_unit_external_id is not None:
            renames["/adopter_unit_id"] = "/adopter_unit_external_id"
        if data.replica_external_id is not None:
            renames["/replica_innovation_id"] = "/replica_external_id"
        plan = {
            "scope": data.scope,
            "adaptation": data.adaptation,
            "facilitator": data.facilitator,
            "facilitator_hub_id": data.facilitator_hub_id,
            "documents": [d.model_dump(mode="json") for d in data.documents],
            "replica_innovation_id": replica_id,
        }
        if current is not None:
            if current.source_innovation_id != data.source_innovation_id:
                _fixed(item, "/source_innovation_id", "A replication's source")
                continue
            if current.adopter_unit_id != unit_id:
                _fixed(
                    item,
                    renames.get("/adopter_unit_id", "/adopter_unit_id"),
                    "A replication's adopter unit",
                )
                continue
            if data.requested_date not in (None, current.requested_date):
                _fixed(item, "/requested_date", "The date a replication was requested")
                continue
            if {key: getattr(current, key) for key in plan} == plan:
                item.done(SyncItemStatus.unchanged, current.id, current.version)
                continue
        async with _writing(session, item, renames):
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
    batch: Batch, data: ReplicationSyncItem, unit_id: uuid.UUID, plan: dict[str, Any]
) -> Replication:
    session = batch.session
    unit = await session.get(Unit, unit_id)
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
    session.add(replication)
    await session.flush()
    await replications.audit_write(session, batch.principal, "create", replication, None)
    return replication


# --- hub activities -------------------------------------------------------------------------

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


async def _apply_hub_activities(batch: Batch, items: list[Item]) -> None:
    session = batch.session
    pending = [item for item in items if item.pending]
    if not pending:
        return
    hubs = {
        hub.id: hub
        for hub in await session.scalars(
            select(Hub).where(Hub.id.in_({item.data.hub_id for item in pending}))
        )
    }
    existing = {
        activity.external_id: activity
        for activity in await session.scalars(
            select(HubActivity)
            .where(
                HubActivity.external_institution_id == batch.institution_id,
                HubActivity.external_id.in_([item.data.external_id for item in pending]),
            )
            .with_for_update(of=HubActivity)
        )
    }
    for item in pending:
        data: HubActivitySyncItem = item.data
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
            _fixed(item, "/hub_id", "An activity's hub")
            continue
        fields = _activity_fields(data)
        target = data.status or (current.status if current else HubActivityStatus.draft)
        if current is not None and _activity_now(current) == {**fields, "status": target}:
            item.done(SyncItemStatus.unchanged, current.id, current.version)
            continue
        async with _writing(session, item):
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
                session.add(activity)
            else:
                # The lists live in their own tables: the row changes (and its version
                # moves) even when only they did.
                activity.updated_at = func.now()
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


_APPLY = {
    SyncResource.units: _apply_units,
    SyncResource.innovations: _apply_innovations,
    SyncResource.replications: _apply_replications,
    SyncResource.hub_activities: _apply_hub_activities,
}


# --- the run --------------------------------------------------------------------------------


def check_size(items: Sequence[Any], cap: int) -> None:
    if len(items) > cap:
        raise Unprocessable(
            "sync.batch_too_large",
            f"A batch holds at most {cap} items; this one has {len(items)}. Split it.",
        )


def _institution(principal: Principal) -> uuid.UUID:
    if principal.institution_id is None:  # the policy admits institution-scoped callers only
        raise Forbidden("sync.no_institution", "Only an institution's system pushes batches.")
    return principal.institution_id


@dataclass(frozen=True)
class Attempt:
    """A batch as pushed: by whom, of what, when it started (wall clock and a monotonic one)."""

    principal: Principal
    resource: SyncResource | None
    received: int
    idempotency_key: str | None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: float = field(default_factory=time.perf_counter)

    def run(self, institution_id: uuid.UUID, totals: SyncTotals, **outcome: Any) -> SyncRun:
        return SyncRun(
            id=uuid.uuid4(),
            institution_id=institution_id,
            caller_kind=self.principal.kind,
            caller_id=self.principal.id,
            caller_name=self.principal.email or self.principal.name,
            resource=self.resource.value if self.resource is not None else "mixed",
            idempotency_key=self.idempotency_key,
            request_id=correlation_id.get(),
            started_at=self.started,
            duration_ms=round((time.perf_counter() - self.clock) * 1000),
            **totals.model_dump(),
            **outcome,
        )


def failed_run(attempt: Attempt, error_code: str) -> SyncRun | None:
    """The run of an attempt that failed as a whole (nothing of it applied), or None for a
    caller of no institution (refused before anything began)."""
    if attempt.principal.institution_id is None:
        return None
    nothing = SyncTotals(
        received=attempt.received, created=0, updated=0, unchanged=0, conflict=0, invalid=0
    )
    return attempt.run(
        attempt.principal.institution_id,
        nothing,
        failures=[],
        outcome="failed",
        error_code=error_code,
    )


async def push(
    session: AsyncSession, attempt: Attempt, raw_items: Sequence[Any]
) -> SyncBatchResult:
    """Apply a batch of one resource (`attempt.resource`), or of several (None: each item names
    its own), and record it as an applied run, in the batch's transaction."""
    principal, resource = attempt.principal, attempt.resource
    institution_id = _institution(principal)
    # One batch of an institution at a time: its items' lookups and writes see each other.
    await session.execute(_SERIALISE, {"lock_key": f"sync:{institution_id}"})
    items = [_parse(index, raw, resource) for index, raw in enumerate(raw_items)]
    _mark_duplicates(items)
    batch = Batch(session, principal, institution_id)
    for kind in SUPPORTED:
        of_kind = [item for item in items if item.resource is kind]
        if of_kind:
            await _APPLY[kind](batch, of_kind)
    results = [item.result for item in items if item.result is not None]
    assert len(results) == len(items), "every item is reported"
    counts = dict.fromkeys(SyncItemStatus, 0)
    for result in results:
        counts[result.status] += 1
    totals = SyncTotals(
        received=len(items),
        created=counts[SyncItemStatus.created],
        updated=counts[SyncItemStatus.updated],
        unchanged=counts[SyncItemStatus.unchanged],
        conflict=counts[SyncItemStatus.conflict],
        invalid=counts[SyncItemStatus.invalid],
    )
    failures = [
        result.model_dump(mode="json", exclude_none=True)
        for result in results
        if result.status in (SyncItemStatus.conflict, SyncItemStatus.invalid)
    ]
    run = attempt.run(institution_id, totals, failures=failures, outcome="applied")
    session.add(run)
    await session.flush()
    return SyncBatchResult(run_id=run.id, items=results, totals=totals)
