"""The sync wire format: the changes feed (docs/sync.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from app.domains.hub_activities.schemas import HubActivityRead
from app.domains.innovations.schemas import InnovationRead
from app.domains.institutions.schemas import UnitRead
from app.domains.replications.schemas import ReplicationRead


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
    changed_at: datetime
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
