"""The change log's reads (Core, statements built once) and its compaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Integer,
    String,
    Uuid,
    any_,
    bindparam,
    literal_column,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.models.sync import SyncChange, SyncHorizon


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
