"""A batch's items: each parsed on its own (a bad one is reported, the others go on), an
external_id applied once a batch, and what every applier shares: the batch being applied and
one item's writes in a savepoint."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import (
    AppError,
    ProblemFieldError,
    field_error,
    integrity_problem,
    unavailability,
    validation_field_errors,
)
from app.core.security import Principal
from app.core.texts import storable, unstorable_pointer
from app.domains.sync.repository import SyncBatchRepository
from app.domains.sync.schemas import (
    HubActivitySyncItem,
    InnovationSyncItem,
    RawItem,
    ReplicationSyncItem,
    SyncItem,
    SyncItemResult,
    SyncItemStatus,
    SyncResource,
    UnitSyncItem,
)

# What a batch may hold, in the order they are applied.
SUPPORTED = (
    SyncResource.units,
    SyncResource.innovations,
    SyncResource.replications,
    SyncResource.hub_activities,
)
_MODELS: dict[SyncResource, type[SyncItem]] = {
    SyncResource.units: UnitSyncItem,
    SyncResource.innovations: InnovationSyncItem,
    SyncResource.replications: ReplicationSyncItem,
    SyncResource.hub_activities: HubActivitySyncItem,
}

DataT = TypeVar("DataT", bound=SyncItem)


@dataclass
class Item:
    """One item of the batch, and what became of it once known."""

    index: int
    resource: SyncResource | None  # None: a mixed batch's item that named none it knows
    external_id: str | None
    data: SyncItem | None = None  # the parsed item, once valid
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
        assert self.data is not None  # asked of parsed items only
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

    def fixed(self, pointer: str, what: str) -> None:
        """Report a field that differs from the existing record's and may not change."""
        self.invalid(
            "sync.fixed_field",
            f"{what} is fixed once the record exists: push a new record (another external_id) "
            "instead.",
            [self.error(pointer, "sync.fixed_field", "Differs from the record's.")],
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


# --- parsing --------------------------------------------------------------------------------


def _external_id(raw: RawItem) -> str | None:
    """The item's external_id as its result shows it (none when it cannot be stored)."""
    value = raw.get("external_id") if isinstance(raw, dict) else None
    if not isinstance(value, str) or not storable(value):
        return None
    return value.strip()


def parse(index: int, raw: RawItem, resource: SyncResource | None) -> Item:
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
        item.data = _MODELS[resource].model_validate(raw)
    except ValidationError as exc:
        errors = validation_field_errors(
            [
                {**error, "loc": ("body", "items", index, *error["loc"])}
                for error in exc.errors(include_url=False)
            ]
        )
        item.invalid("sync.invalid_item", "The item breaks the resource's schema.", errors)
    return item


def mark_duplicates(items: list[Item]) -> None:
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


def pending(items: Sequence[Item], kind: type[DataT]) -> list[tuple[Item, DataT]]:
    """The items not reported yet, each with its parsed data (an item that did not parse is
    reported already)."""
    found: list[tuple[Item, DataT]] = []
    for item in items:
        if item.pending:
            assert isinstance(item.data, kind)
            found.append((item, item.data))
    return found


# --- applying them --------------------------------------------------------------------------


@dataclass
class Batch:
    """A batch being applied: who pushed it, the institution it writes, and what it knows."""

    session: AsyncSession
    principal: Principal
    institution_id: uuid.UUID
    repository: SyncBatchRepository
    # The caller's units by its external_id, as loaded or written so far.
    units: dict[str, uuid.UUID] = field(default_factory=dict)


@asynccontextmanager
async def writing(
    session: AsyncSession, item: Item, renames: dict[str, str] | None = None
) -> AsyncIterator[None]:
    """One item's writes, in a savepoint: a refusal of the service's rules, or of the
    database's, undoes them and reports the item invalid (the caller goes on when
    `item.pending` is still true).

    A database that cannot go on (the connection lost, the server stopping, the statement
    timeout) is no refusal of the item: it fails the whole batch with a 503 that the client
    retries, instead of item refusals that it would take as final."""
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except AppError as exc:
        if exc.status == 503:
            raise
        item.refuse(exc, renames)
    except DBAPIError as exc:
        refusal = item_refusal(exc)
        item.refuse(refusal, renames)


def item_refusal(exc: DBAPIError) -> AppError:
    """How the database's refusal of one item's writes reads to the caller; raises instead
    (the batch fails) when the database could not go on at all."""
    if unavailability(exc) is not None:
        raise exc
    refusal = integrity_problem(exc)
    if refusal.status == 503:
        raise exc
    return refusal
