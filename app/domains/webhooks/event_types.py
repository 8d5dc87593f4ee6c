"""The event types a webhook may subscribe to: every workflow event kind of notifications
(`submission.returned`, ...) and the record changes of the sync feed's resources
(`record.units`, `record.innovations`, `record.replications`, `record.hub-activities`)."""

from __future__ import annotations

from app.domains.notifications import kinds

RECORD_RESOURCES = ("units", "innovations", "replications", "hub-activities")
RECORD_TYPES = tuple(f"record.{resource}" for resource in RECORD_RESOURCES)

# What a record change's payload calls its record, and where the API reads it.
SUBJECT_TYPES = {
    "units": "unit",
    "innovations": "innovation",
    "replications": "replication",
    "hub-activities": "hub_activity",
}


def all_types() -> tuple[str, ...]:
    """Read at call time: the notifications table may gain kinds after this import."""
    return (*sorted(kinds.KINDS), *RECORD_TYPES)


def is_known(name: str) -> bool:
    return name in RECORD_TYPES or name in kinds.KINDS
