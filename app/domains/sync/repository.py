"""Every statement of the sync domain, built once at import: the change log's reads and its
compaction (Core), the records the feed shows, the runs, and the reads and writes of a batch
(the innovations' as Core executemany, the hot path of bench/sync.py)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Integer,
    Row,
    String,
    Table,
    Uuid,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.core.pagination import PageRequest
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.models.hubs import Hub, HubActivity
from app.models.innovations import Innovation, InnovationCategory
from app.models.institutions import Unit
from app.models.replications import Replication
from app.models.sync import SyncChange, SyncHorizon, SyncRun


@dataclass(frozen=True, order=True)
class FeedPosition:
    """Where a change sits in the feed: its transaction's id, then its log position."""

    xid: int
    position: int


START = FeedPosition(0, 0)

# Every transaction with an id below the reading snapshot's xmin has ended: a change that
# becomes visible later has a larger transaction id, so it sorts after any cursor handed out.
_SAFE_BELOW: ColumnElement[int] = literal_column(
    "(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint", type_=BigInteger()
)
# A transaction that wrote sees its own changes (the feed's requests write nothing; tests read
# their own writes in one transaction). Null when it has no id.
_OWN_XID: ColumnElement[int] = literal_column(
    "(pg_current_xact_id_if_assigned()::text)::bigint", type_=BigInteger()
)

_ROWS = (
    select(
        SyncChange.xid,
        SyncChange.position,
        SyncChange.resource,
        SyncChange.record_id,
        SyncChange.operation,
        SyncChange.version,
        SyncChange.external_id,
        SyncChange.external_institution_id,
        SyncChange.changed_at,
    )
    .where(
        tuple_(SyncChange.xid, SyncChange.position)
        > tuple_(
            bindparam("after_xid", type_=BigInteger()),
            bindparam("after_position", type_=BigInteger()),
        ),
        or_(SyncChange.xid < _SAFE_BELOW, SyncChange.xid == _OWN_XID),
        SyncChange.resource == any_(bindparam("resources", type_=ARRAY(String()))),
        or_(
            bindparam("everything", type_=Boolean()),
            bindparam("institution_id", type_=Uuid()) == any_(SyncChange.institution_ids),
            SyncChange.public_before,
            SyncChange.public_after,
        ),
    )
    .order_by(SyncChange.xid, SyncChange.position)
    .limit(bindparam("limit", type_=Integer()))
    .subquery("page")
)
_ONE = select(literal_column("1").label("one")).subquery("one")
# The page, the compaction horizon and the snapshot's xmin in one statement, so in one
# snapshot: a compaction that commits between two reads cannot go unnoticed.
_PAGE = (
    select(
        _SAFE_BELOW.label("safe_below"),
        SyncHorizon.xid.label("horizon_xid"),
        SyncHorizon.position.label("horizon_position"),
        SyncHorizon.generation.label("horizon_generation"),
        *_ROWS.c,
    )
    .select_from(_ONE)
    .outerjoin(SyncHorizon, SyncHorizon.id == 1)
    .outerjoin(_ROWS, true())
    .order_by(_ROWS.c.xid, _ROWS.c.position)
)

# Removes, among changes older than the cutoff, the tombstones and the changes a later change
# of the same record supersedes, and moves the horizon (service.compact says why).
_COMPACT = text(
    """
WITH removed AS (
    DELETE FROM sync_changes c
    WHERE c.changed_at < :cutoff
        AND (
            c.xid < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
            OR c.xid = (pg_current_xact_id_if_assigned()::text)::bigint
        )
        AND (
            c.operation = 'delete'
            OR EXISTS (
                SELECT FROM sync_changes n
                WHERE n.resource = c.resource AND n.record_id = c.record_id
                    AND (n.xid, n.position) > (c.xid, c.position)
            )
        )
    RETURNING c.xid, c.position
), newest AS (
    SELECT xid, position FROM removed ORDER BY xid DESC, position DESC LIMIT 1
), horizon AS (
    -- Every compaction that removed something is a new generation, whether or not its newest
    -- removed change is newer than the last one's: it may have removed changes a reader that
    -- started after the last compaction has not read yet.
    INSERT INTO sync_horizon (id, xid, position, generation, compacted_at)
    SELECT 1, xid, position, 1, now() FROM newest
    ON CONFLICT (id) DO UPDATE
        SET xid = CASE
                WHEN (excluded.xid, excluded.position) > (sync_horizon.xid, sync_horizon.position)
                THEN excluded.xid ELSE sync_horizon.xid END,
            position = CASE
                WHEN (excluded.xid, excluded.position) > (sync_horizon.xid, sync_horizon.position)
                THEN excluded.position ELSE sync_horizon.position END,
            generation = sync_horizon.generation + 1,
            compacted_at = excluded.compacted_at
)
SELECT count(*) FROM removed
"""
)


@dataclass(frozen=True)
class Horizon:
    """The newest change compaction removed, and the number of compactions that removed any."""

    newest_removed: FeedPosition
    generation: int


NO_HORIZON = Horizon(START, 0)


@dataclass(frozen=True)
class ChangeRow:
    at: FeedPosition
    resource: str
    record_id: uuid.UUID
    operation: str
    version: int
    external_id: str | None
    external_institution_id: uuid.UUID | None
    changed_at: datetime


@dataclass(frozen=True)
class FeedPage:
    """What one read of the log saw, all in one snapshot."""

    rows: list[ChangeRow]
    horizon: Horizon
    # Every transaction with an id below this had ended when the page was read: no change the
    # feed shows later can sort before (safe_below - 1, the largest position).
    safe_below: int


class SyncChangeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def page(
        self,
        after: FeedPosition,
        resources: Sequence[str],
        institution_id: uuid.UUID | None,
        everything: bool,
        limit: int,
    ) -> FeedPage:
        """Up to `limit` changes after `after` that the caller may be shown, in feed order, and
        the horizon and xmin of the snapshot they were read in."""
        result = list(
            await self.session.execute(
                _PAGE,
                {
                    "after_xid": after.xid,
                    "after_position": after.position,
                    "resources": list(resources),
                    "everything": everything,
                    "institution_id": institution_id,
                    "limit": limit,
                },
            )
        )
        first = result[0]  # the statement yields one row even when the page is empty
        horizon = (
            NO_HORIZON
            if first.horizon_xid is None
            else Horizon(
                FeedPosition(first.horizon_xid, first.horizon_position), first.horizon_generation
            )
        )
        rows = [
            ChangeRow(
                at=FeedPosition(row.xid, row.position),
                resource=row.resource,
                record_id=row.record_id,
                operation=row.operation,
                version=row.version,
                external_id=row.external_id,
                external_institution_id=row.external_institution_id,
                changed_at=row.changed_at,
            )
            for row in result
            if row.xid is not None
        ]
        return FeedPage(rows, horizon, first.safe_below)

    async def compact(self, cutoff: datetime) -> int:
        """Remove the superseded changes and tombstones older than `cutoff`, moving the
        horizon (a new generation when any went); returns how many went."""
        removed: int = (await self.session.execute(_COMPACT, {"cutoff": cutoff})).scalar_one()
        return removed


# --- the records the feed shows -------------------------------------------------------------

_UNITS = select(Unit).where(Unit.id.in_(bindparam("ids", type_=Unit.id.type, expanding=True)))
_REPLICATIONS = select(Replication).where(
    Replication.id.in_(bindparam("ids", type_=Replication.id.type, expanding=True))
)
_HUB_ACTIVITIES = (
    select(HubActivity, Hub)
    .join(Hub, Hub.id == HubActivity.hub_id)
    .where(HubActivity.id.in_(bindparam("ids", type_=HubActivity.id.type, expanding=True)))
)


class SyncRecordRepository:
    """The records of changes, by id, read now (the innovations' are read by theirs)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def units(self, ids: Sequence[uuid.UUID]) -> list[Unit]:
        return list(await self.session.scalars(_UNITS, {"ids": list(ids)}))

    async def replications(self, ids: Sequence[uuid.UUID]) -> list[Replication]:
        return list(await self.session.scalars(_REPLICATIONS, {"ids": list(ids)}))

    async def hub_activities(self, ids: Sequence[uuid.UUID]) -> list[tuple[HubActivity, Hub]]:
        """Each activity with its hub (who may read an activity depends on its hub)."""
        rows = await self.session.execute(_HUB_ACTIVITIES, {"ids": list(ids)})
        return [(activity, hub) for activity, hub in rows]


# --- runs -----------------------------------------------------------------------------------

_RUNS_NEWEST_FIRST = SortKey((SyncRun.started_at, SyncRun.id), descending=True)


class SyncRunRepository(RepositoryBase[SyncRun]):
    model = SyncRun

    async def page(
        self, institution_id: uuid.UUID | None, page: PageRequest
    ) -> PageResult[SyncRun]:
        """The runs, newest first: one institution's, or (None) every institution's."""
        stmt = select(SyncRun)
        if institution_id is not None:
            stmt = stmt.where(SyncRun.institution_id == institution_id)
        scope = f"sync-runs:{institution_id}"
        return await keyset_page(self.session, stmt, _RUNS_NEWEST_FIRST, page, scope)


# --- batches --------------------------------------------------------------------------------

# One batch of an institution at a time (the lock is the transaction's).
_SERIALISE = text("SELECT pg_advisory_xact_lock(hashtextextended(:lock_key, 0))")

_UNITS_BY_EXTERNAL_ID = select(Unit).where(
    Unit.institution_id == bindparam("institution_id", type_=Unit.institution_id.type),
    Unit.external_id.in_(bindparam("external_ids", type_=Unit.external_id.type, expanding=True)),
)
_UNIT_IDS_BY_EXTERNAL_ID = select(Unit.external_id, Unit.id).where(
    Unit.institution_id == bindparam("institution_id", type_=Unit.institution_id.type),
    Unit.external_id.in_(bindparam("external_ids", type_=Unit.external_id.type, expanding=True)),
)
_UNIT_INSTITUTIONS = select(Unit.id, Unit.institution_id).where(
    Unit.id.in_(bindparam("ids", type_=Unit.id.type, expanding=True))
)
_CATEGORY_CODES = select(InnovationCategory.code)

_INNOVATIONS = cast(Table, Innovation.__table__)
# The columns an innovation item writes (besides the status and its dates).
INNOVATION_WRITTEN = (
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
_INNOVATIONS_FOR_UPDATE = (
    select(
        *[
            _INNOVATIONS.c[name]
            for name in (
                "id",
                "version",
                "external_id",
                "status",
                "published_at",
                "archived_at",
                *INNOVATION_WRITTEN,
            )
        ]
    )
    .where(
        _INNOVATIONS.c.institution_id
        == bindparam("institution_id", type_=_INNOVATIONS.c.institution_id.type),
        _INNOVATIONS.c.external_id.in_(
            bindparam("external_ids", type_=_INNOVATIONS.c.external_id.type, expanding=True)
        ),
    )
    .with_for_update()
)
_INSERT_INNOVATIONS = insert(_INNOVATIONS)
_UPDATE_INNOVATIONS = (
    update(_INNOVATIONS)
    .where(_INNOVATIONS.c.id == bindparam("b_id"))
    .values(
        {
            **{name: bindparam(f"b_{name}") for name in INNOVATION_WRITTEN},
            "status": bindparam("b_status"),
            "published_at": bindparam("b_published_at"),
            "archived_at": bindparam("b_archived_at"),
            "version": _INNOVATIONS.c.version + 1,
            "updated_at": func.now(),
        }
    )
)
_INNOVATION_IDS_BY_EXTERNAL_ID = select(Innovation.external_id, Innovation.id).where(
    Innovation.institution_id == bindparam("institution_id", type_=Innovation.institution_id.type),
    Innovation.external_id.in_(
        bindparam("external_ids", type_=Innovation.external_id.type, expanding=True)
    ),
)
_REPLICATIONS_FOR_UPDATE = (
    select(Replication)
    .where(
        Replication.external_institution_id
        == bindparam("institution_id", type_=Replication.external_institution_id.type),
        Replication.external_id.in_(
            bindparam("external_ids", type_=Replication.external_id.type, expanding=True)
        ),
    )
    .with_for_update()
)
_HUBS = select(Hub).where(Hub.id.in_(bindparam("ids", type_=Hub.id.type, expanding=True)))
_HUB_ACTIVITIES_FOR_UPDATE = (
    select(HubActivity)
    .where(
        HubActivity.external_institution_id
        == bindparam("institution_id", type_=HubActivity.external_institution_id.type),
        HubActivity.external_id.in_(
            bindparam("external_ids", type_=HubActivity.external_id.type, expanding=True)
        ),
    )
    .with_for_update(of=HubActivity)
)


class SyncBatchRepository:
    """What a batch reads and writes besides the services' own: its lock, the records its
    items name by external_id (locked when they are written), and the innovations' bulk
    writes."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def serialise(self, institution_id: uuid.UUID) -> None:
        """Wait for the institution's other batches to end (the lock ends with the
        transaction): a batch's lookups and writes see each other."""
        await self.session.execute(_SERIALISE, {"lock_key": f"sync:{institution_id}"})

    def add(self, record: Unit | Replication | HubActivity) -> None:
        self.session.add(record)

    async def unit(self, unit_id: uuid.UUID) -> Unit | None:
        return await self.session.get(Unit, unit_id)

    async def units_by_external_id(
        self, institution_id: uuid.UUID, external_ids: Collection[str]
    ) -> list[Unit]:
        return list(
            await self.session.scalars(
                _UNITS_BY_EXTERNAL_ID,
                {"institution_id": institution_id, "external_ids": list(external_ids)},
            )
        )

    async def unit_ids_by_external_id(
        self, institution_id: uuid.UUID, external_ids: Collection[str]
    ) -> dict[str, uuid.UUID]:
        found = await self.session.execute(
            _UNIT_IDS_BY_EXTERNAL_ID,
            {"institution_id": institution_id, "external_ids": list(external_ids)},
        )
        return {external: unit_id for external, unit_id in found if external}

    async def unit_institutions(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """The institution of each of these units that exists."""
        found = await self.session.execute(_UNIT_INSTITUTIONS, {"ids": list(ids)})
        return {row.id: row.institution_id for row in found}

    async def category_codes(self) -> set[str]:
        return set(await self.session.scalars(_CATEGORY_CODES))

    async def innovations_for_update(
        self, institution_id: uuid.UUID, external_ids: Collection[str]
    ) -> dict[str, Row[Any]]:
        """The institution's innovations with these external_ids, locked, by external_id: the
        columns an item writes, and its id, version, status and the status's dates."""
        rows = await self.session.execute(
            _INNOVATIONS_FOR_UPDATE,
            {"institution_id": institution_id, "external_ids": list(external_ids)},
        )
        return {row.external_id: row for row in rows}

    async def write_innovations(
        self, creates: Sequence[dict[str, object]], updates: Sequence[dict[str, object]]
    ) -> None:
        """Insert the new innovations and update the others, each kind in one executemany (the
        update's parameters are the columns prefixed `b_`, and `b_id`)."""
        if creates:
            await self.session.execute(_INSERT_INNOVATIONS, creates)
        if updates:
            await self.session.execute(_UPDATE_INNOVATIONS, updates)

    async def innovation_ids_by_external_id(
        self, institution_id: uuid.UUID, external_ids: Collection[str]
    ) -> dict[str, uuid.UUID]:
        if not external_ids:
            return {}
        found = await self.session.execute(
            _INNOVATION_IDS_BY_EXTERNAL_ID,
            {"institution_id": institution_id, "external_ids": list(external_ids)},
        )
        return {external: record_id for external, record_id in found if external is not None}

    async def replications_for_update(
        self, institution_id: uuid.UUID, external_ids: Collection[str]
    ) -> list[Replication]:
        """The replications the institution pushed with these external_ids, locked."""
        return list(
            await self.session.scalars(
                _REPLICATIONS_FOR_UPDATE,
                {"institution_id": institution_id, "external_ids": list(external_ids)},
            )
        )

    async def hubs(self, ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Hub]:
        return {hub.id: hub for hub in await self.session.scalars(_HUBS, {"ids": list(ids)})}

    def touch(self, activity: HubActivity) -> None:
        """Have the activity's row written with the next flush, stamped with the
        transaction's time (its version moves too)."""
        activity.updated_at = func.now()

    async def hub_activities_for_update(
        self, institution_id: uuid.UUID, external_ids: Collection[str]
    ) -> list[HubActivity]:
        """The hub activities the institution pushed with these external_ids, locked."""
        return list(
            await self.session.scalars(
                _HUB_ACTIVITIES_FOR_UPDATE,
                {"institution_id": institution_id, "external_ids": list(external_ids)},
            )
        )
