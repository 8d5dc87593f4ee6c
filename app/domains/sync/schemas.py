"""The sync wire format: batches pushed by regional systems, their runs, and the changes feed
(docs/sync.md)."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainValidator, StringConstraints

from app.core.dates import UtcDateTime
from app.core.errors import ProblemFieldError
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.domains.hub_activities.schemas import HubActivityCreate, HubActivityRead
from app.domains.innovations.schemas import InnovationCreate, InnovationRead
from app.domains.institutions.schemas import Name, RegionCodeIn, UnitRead
from app.domains.replications.schemas import ReplicationCreate, ReplicationRead
from app.models.enums import HubActivityStatus, InnovationStatus

ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class SyncResource(StrEnum):
    """The records regional systems keep in step."""

    units = "units"
    innovations = "innovations"
    replications = "replications"
    hub_activities = "hub-activities"


class ChangeOperation(StrEnum):
    upsert = "upsert"
    delete = "delete"


class SyncChangeRead(BaseModel):
    """One write of a record the caller may read, in commit order."""

    resource: SyncResource
    id: uuid.UUID = Field(description="The record's id.")
    external_id: str | None = Field(
        description="The caller's own id for the record, when the record is its institution's."
    )
    version: int = Field(description="The record's version this write made.")
    operation: ChangeOperation = Field(
        description="`upsert`: the record exists and the caller may read it; `record` is it as "
        "the read endpoints show it now. `delete` (a tombstone): the record was deleted, or the "
        "caller may no longer read it; `record` is null."
    )
    changed_at: UtcDateTime
    record: UnitRead | InnovationRead | ReplicationRead | HubActivityRead | None = Field(
        description="The record as its read endpoint shows it to the caller now (it may be "
        "newer than this change: a later change of it follows in the feed)."
    )


class SyncChangePage(BaseModel):
    """A page of the changes feed. Store `next_cursor` and pass it next time: following it until
    `has_more` is false yields every change once."""

    items: list[SyncChangeRead]
    next_cursor: str = Field(
        description="Where the next read starts; given on the last page too (the feed's end "
        "as of now)."
    )
    has_more: bool = Field(description="More changes can be read right away.")


# --- batches --------------------------------------------------------------------------------


class SyncItem(InputModel):
    """What every pushed item carries: the caller's id for the record, and the version of it
    the caller last saw, if any."""

    external_id: ExternalId = Field(
        description="The caller's id for the record, unique per institution and resource: "
        "the record it names is updated, or created if there is none."
    )
    version: int | None = Field(
        default=None,
        ge=1,
        description="The record's version the caller last saw. When given, the item applies "
        "only if the record is still at that version (else `conflict`, with the current "
        "version); omit it to write whatever is there.",
    )


class UnitSyncItem(SyncItem):
    """A unit of the caller's institution."""

    name: Name = Field(examples=["Bidang Pelayanan Perizinan"])
    parent_external_id: ExternalId | None = Field(
        default=None,
        description="The parent unit's `external_id`: an earlier item of the same batch, or a "
        "unit pushed before. Absent: a top-level unit.",
    )
    region_code: RegionCodeIn | None = Field(
        default=None, description="Where the unit is, inside its institution's region."
    )


class InnovationSyncItem(SyncItem, InnovationCreate):
    """An innovation of the caller's institution, written whole: the fields an item leaves out
    are cleared (or defaulted), as on create."""

    unit_id: uuid.UUID | None = Field(  # type: ignore[assignment]
        default=None,
        description="The owning unit by its id; or give `unit_external_id`.",
    )
    unit_external_id: ExternalId | None = Field(
        default=None,
        description="The owning unit by the caller's id for it: a unit item of the same batch, "
        "or one pushed before. Exactly one of `unit_id` and `unit_external_id`.",
    )
    status: InnovationStatus | None = Field(
        default=None,
        description="Publish (`published`) or archive (`archived`) in the same write, along the "
        "lifecycle draft -> published -> archived; absent: the status stays (new records are "
        "drafts).",
    )


class ReplicationSyncItem(SyncItem, ReplicationCreate):
    """A replication the caller's institution adopts (a request for one of its units), written
    whole: the plan's fields an item leaves out are cleared. The source and the adopter unit
    are fixed once the replication exists; its steps (approve, sign, implement...) are taken on
    `/v1/replications/{replication_id}/transitions`, each by its side."""

    adopter_unit_id: uuid.UUID | None = Field(  # type: ignore[assignment]
        default=None,
        description="The adopting unit (the caller's institution's) by its id; or give "
        "`adopter_unit_external_id`.",
    )
    adopter_unit_external_id: ExternalId | None = Field(
        default=None,
        description="The adopting unit by the caller's id for it: a unit item of the same "
        "batch, or one pushed before. Exactly one of `adopter_unit_id` and "
        "`adopter_unit_external_id`.",
    )
    replica_external_id: ExternalId | None = Field(
        default=None,
        description="The replica by the caller's id for it (an innovation item of the same "
        "batch, or one pushed before); or give `replica_innovation_id`, not both.",
    )
    requested_date: date | None = Field(
        default=None,
        description="When it was requested (default: today in WIB); fixed once the "
        "replication exists (absent: it stays).",
    )


class HubActivitySyncItem(SyncItem, HubActivityCreate):
    """An activity of a hub the caller's institution hosts, written whole: the fields an item
    leaves out are cleared (or defaulted), as on create."""

    hub_id: uuid.UUID = Field(
        description="The hub, one the caller's institution hosts; fixed once the activity exists."
    )
    status: HubActivityStatus | None = Field(
        default=None,
        description="`published` makes it public, `draft` takes it back; absent: the status "
        "stays (new activities are drafts).",
    )


class UnitSyncItemTagged(UnitSyncItem):
    resource: Literal["units"]


class InnovationSyncItemTagged(InnovationSyncItem):
    resource: Literal["innovations"]


class ReplicationSyncItemTagged(ReplicationSyncItem):
    resource: Literal["replications"]


class HubActivitySyncItemTagged(HubActivitySyncItem):
    resource: Literal["hub-activities"]


MixedSyncItem = Annotated[
    UnitSyncItemTagged
    | InnovationSyncItemTagged
    | ReplicationSyncItemTagged
    | HubActivitySyncItemTagged,
    Field(discriminator="resource"),
]


# An item as sent: any JSON value. Items are validated one by one by the service (a bad item
# fails alone), so a batch's model only describes them.
RawItem = Any


def _as_sent(item: RawItem) -> RawItem:
    return item


def described_as(item_type: object) -> PlainValidator:
    """An item taken as sent, described in the document as `item_type`: items are validated
    one by one by the service (a bad item fails alone), so the body's model only describes
    them. (`SkipValidation` would copy the item's schema inline; this references it.)"""
    return PlainValidator(_as_sent, json_schema_input_type=item_type)


class UnitSyncBatch(InputModel):
    items: list[Annotated[RawItem, described_as(UnitSyncItem)]] = Field(
        description="Units, parents before their sub-units or in any order."
    )


class InnovationSyncBatch(InputModel):
    items: list[Annotated[RawItem, described_as(InnovationSyncItem)]]


class ReplicationSyncBatch(InputModel):
    items: list[Annotated[RawItem, described_as(ReplicationSyncItem)]]


class HubActivitySyncBatch(InputModel):
    items: list[Annotated[RawItem, described_as(HubActivitySyncItem)]]


class MixedSyncBatch(InputModel):
    items: list[Annotated[RawItem, described_as(MixedSyncItem)]] = Field(
        description="Items of several resources, each naming its `resource`; applied units "
        "first, then innovations, replications and hub activities, so an item can name a "
        "record of the same batch."
    )


class SyncItemStatus(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    conflict = "conflict"
    invalid = "invalid"


class SyncItemResult(BaseModel):
    """What became of one item."""

    index: int = Field(description="The item's position in `items`, from 0.")
    resource: SyncResource | None = Field(
        default=None,
        description="The item's resource (null: an item of a mixed batch that named none).",
    )
    external_id: str | None = Field(
        default=None, description="The item's `external_id`, when it had one."
    )
    status: SyncItemStatus = Field(
        description="`created`, `updated`, `unchanged` (it matched the record: nothing "
        "written); `conflict`: `version` was stale (or the record is gone), nothing written, "
        "`version` here is the current one; `invalid`: nothing written, `code`, `message` and "
        "`errors` say why."
    )
    id: uuid.UUID | None = Field(default=None, description="The record's id, when it exists.")
    version: int | None = Field(
        default=None, description="The record's version now (after the write, if any)."
    )
    code: str | None = Field(default=None, description="Why it was not applied.")
    message: str | None = None
    errors: list[ProblemFieldError] | None = Field(
        default=None, description="Each broken rule, with a JSON pointer into the request body."
    )


class SyncTotals(BaseModel):
    received: int
    created: int
    updated: int
    unchanged: int
    conflict: int
    invalid: int


class SyncBatchResult(BaseModel):
    """Per item what happened, in the order sent, and the totals. A batch with invalid or
    conflicting items still applies the others."""

    run_id: uuid.UUID = Field(description="The batch's run (`GET /v1/sync/runs`).")
    items: list[SyncItemResult]
    totals: SyncTotals


class SyncRunOutcome(StrEnum):
    applied = "applied"
    failed = "failed"


class SyncRunRead(ReadModel):
    """A batch pushed: who, when, how long, and how it went."""

    id: uuid.UUID
    institution_id: uuid.UUID
    caller_kind: str = Field(description="`api_key` or `user`.")
    caller_id: uuid.UUID
    caller_name: str
    resource: str = Field(description="The batch's resource, or `mixed`.")
    idempotency_key: str | None
    request_id: str | None
    started_at: UtcDateTime
    duration_ms: int
    received: int
    created: int
    updated: int
    unchanged: int
    conflict: int
    invalid: int
    failures: list[SyncItemResult] = Field(
        description="The items not applied (`conflict`, `invalid`), as the batch's response "
        "listed them."
    )
    outcome: SyncRunOutcome = Field(
        description="`applied`: the batch's writes committed (its counts say how each item "
        "went). `failed`: the attempt failed as a whole (its transaction rolled back) and "
        "nothing of it was applied; the counts other than `received` are 0, `error_code` says "
        "why. Retry it (with the same `Idempotency-Key`)."
    )
    error_code: str | None = Field(
        description="For a `failed` run, the problem code its response carried "
        "(`database.unavailable`, `internal_error`, ...); null for an applied one."
    )


class SyncRunPage(Page[SyncRunRead]):
    pass
