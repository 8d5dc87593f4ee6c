"""The changes feed: who is shown which change, cursors, tombstones and compaction
(docs/sync.md)."""

from __future__ import annotations

import contextlib
import logging
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import idempotency
from app.core.config import Settings
from app.core.errors import (
    AppError,
    BadRequest,
    Forbidden,
    Gone,
    integrity_problem,
    unavailability,
)
from app.core.pagination import FEED_CURSOR, CursorSigner, InvalidCursor, PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.hub_activities.schemas import HubActivityRead
from app.domains.innovations import service as innovations
from app.domains.innovations.repository import InnovationRepository
from app.domains.innovations.schemas import InnovationRead
from app.domains.institutions.schemas import UnitRead
from app.domains.replications import service as replications
from app.domains.replications.repository import ReplicationRepository
from app.domains.replications.schemas import ReplicationRead
from app.domains.sync import batch
from app.domains.sync.repository import (
    START,
    ChangeRow,
    FeedPosition,
    SyncChangeRepository,
    SyncRecordRepository,
    SyncRunRepository,
)
from app.domains.sync.schemas import (
    ChangeOperation,
    RawItem,
    SyncBatchResult,
    SyncChangePage,
    SyncChangeRead,
    SyncResource,
)
from app.models.enums import PUBLIC_HUB_STATUSES, HubActivityStatus, InnovationStatus, Role
from app.models.sync import SyncRun

logger = logging.getLogger(__name__)

DEFAULT_FEED_LIMIT = 100
MAX_FEED_LIMIT = 1000

_BIGINT_MAX = 2**63 - 1
# The sealed payload of a feed cursor: xid, position, generation (bigints), resources (a bit
# mask of SyncResource, in its order).
_CURSOR = struct.Struct(">qqqB")
_ALL_RESOURCES = tuple(SyncResource)


def resource_mask(resources: Sequence[SyncResource]) -> int:
    return sum(1 << _ALL_RESOURCES.index(resource) for resource in set(resources))


# --- cursors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a reader stands, the compaction generation it read under, and the resources it
    reads. A reader that started from the beginning after a compaction read the compacted
    log whole, so its position may lie before what that compaction removed; only a later
    compaction can take changes it has not seen. A position is only good for the resources it
    was reached with: it may lie past changes of others."""

    at: FeedPosition
    generation: int
    resources: int  # a bit mask of SyncResource, in its order


def encode_cursor(cursor: Cursor, signer: CursorSigner) -> str:
    """The cursor sealed for the feed (app.core.pagination): opaque, and refused if altered,
    so a reader cannot invent a position or a compaction generation (and dodge the 410)."""
    payload = _CURSOR.pack(cursor.at.xid, cursor.at.position, cursor.generation, cursor.resources)
    return signer.seal(FEED_CURSOR, payload)


def decode_cursor(cursor: str, signer: CursorSigner) -> Cursor:
    """A cursor this feed handed out; anything else (a list's cursor too) is a 400."""
    try:
        xid, position, generation, resources = _CURSOR.unpack(signer.unseal(FEED_CURSOR, cursor))
    except (InvalidCursor, struct.error) as exc:
        raise _bad_cursor() from exc
    # Sealed by this feed, so in range; checked all the same (a leaked key must not make a 500).
    if min(xid, position, generation) < 0 or not 0 < resources < 1 << len(_ALL_RESOURCES):
        raise _bad_cursor()
    return Cursor(FeedPosition(xid, position), generation, resources)


def _bad_cursor() -> BadRequest:
    return BadRequest(
        "sync.invalid_cursor",
        "The cursor is not one this feed handed out; start again without a cursor.",
    )


# --- who is shown what ----------------------------------------------------------------------


def _institution(principal: Principal) -> uuid.UUID | None:
    """The institution whose own records the caller is shown beside public ones."""
    if principal.role in (Role.regional_system, Role.local_admin):
        return principal.institution_id
    return None


# A record as the feed shows it: as its read endpoint does.
SyncRecord = UnitRead | InnovationRead | ReplicationRead | HubActivityRead


async def _units(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, SyncRecord]:
    # Units are public records.
    found = await SyncRecordRepository(session).units(ids)
    return {unit.id: UnitRead.model_validate(unit) for unit in found}


async def _innovations(
    session: AsyncSession, principal: Principal, ids: list[uuid.UUID]
) -> dict[uuid.UUID, SyncRecord]:
    visibility = innovations.visibility_for(principal)
    rows = await InnovationRepository(session).read_many(ids)
    return {
        row["id"]: InnovationRead.model_validate(dict(row))
        for row in rows
        if visibility.admits(row["status"], row["institution_id"], row["unit_id"])
    }


async def _replications(
    session: AsyncSession, principal: Principal, ids: list[uuid.UUID]
) -> dict[uuid.UUID, SyncRecord]:
    visibility = replications.visibility_for(principal)
    found = await SyncRecordRepository(session).replications(ids)
    briefs = await ReplicationRepository(session).briefs(
        i for r in found for i in (r.source_innovation_id, r.replica_innovation_id)
    )
    shown: dict[uuid.UUID, SyncRecord] = {}
    for replication in found:
        source = briefs.get(replication.source_innovation_id)
        published = source is not None and source.status is InnovationStatus.published
        if visibility.admits(replication, published):
            shown[replication.id] = ReplicationRead.model_validate(
                replications.shown_model(principal, replication, briefs)
            )
    return shown


async def _hub_activities(
    session: AsyncSession, principal: Principal, ids: list[uuid.UUID]
) -> dict[uuid.UUID, SyncRecord]:
    rows = await SyncRecordRepository(session).hub_activities(ids)
    own = _institution(principal)
    shown: dict[uuid.UUID, SyncRecord] = {}
    for activity, hub in rows:
        readable = (
            principal.is_secretariat
            # A hub's host institution keeps its activities (drafts too) in step.
            or (own is not None and hub.host_institution_id == own)
            or (principal.role is Role.hub_admin and principal.hub_id == hub.id)
            or (
                activity.status is HubActivityStatus.published and hub.status in PUBLIC_HUB_STATUSES
            )
        )
        if readable:
            shown[activity.id] = HubActivityRead.model_validate(activity)
    return shown


async def _records(
    session: AsyncSession, principal: Principal, rows: Sequence[ChangeRow]
) -> dict[tuple[str, uuid.UUID], SyncRecord]:
    """The records of these changes that exist and the caller may read, read now."""
    wanted: dict[str, list[uuid.UUID]] = {}
    for row in rows:
        if row.operation == ChangeOperation.upsert:
            wanted.setdefault(row.resource, []).append(row.record_id)
    found: dict[tuple[str, uuid.UUID], SyncRecord] = {}
    for resource, ids in wanted.items():
        unique = list(dict.fromkeys(ids))
        if resource == SyncResource.units:
            shown = await _units(session, unique)
        elif resource == SyncResource.innovations:
            shown = await _innovations(session, principal, unique)
        elif resource == SyncResource.replications:
            shown = await _replications(session, principal, unique)
        else:
            shown = await _hub_activities(session, principal, unique)
        found.update(((resource, key), value) for key, value in shown.items())
    return found


# --- the feed -------------------------------------------------------------------------------


async def list_changes(
    session: AsyncSession,
    principal: Principal,
    cursor: str | None,
    resources: Sequence[SyncResource] | None,
    limit: int,
    signer: CursorSigner,
) -> SyncChangePage:
    """The changes after `cursor` (from the beginning without one) the caller may be shown."""
    wanted = list(dict.fromkeys(resources or _ALL_RESOURCES))
    mask = resource_mask(wanted)
    given = decode_cursor(cursor, signer) if cursor is not None else None
    if given is not None and mask & ~given.resources:
        # Narrower is fine; a resource the cursor was not reached with may have changes behind
        # it that the reader never saw.
        named = [r.value for r in _ALL_RESOURCES if given.resources & resource_mask([r])]
        raise BadRequest(
            "sync.cursor_resources_mismatch",
            "This cursor was handed out for the resources "
            + ", ".join(named)
            + ": read on with those (or fewer), or start again without a cursor to add others "
            "(changes of theirs may lie behind the cursor).",
        )
    own = _institution(principal)
    page = await SyncChangeRepository(session).page(
        given.at if given is not None else START,
        [r.value for r in wanted],
        own,
        principal.is_secretariat,
        limit + 1,
    )
    horizon = page.horizon
    if given is None:
        given = Cursor(START, horizon.generation, mask)
    if given.generation < horizon.generation and given.at < horizon.newest_removed:
        raise Gone(
            "sync.cursor_expired",
            "Changes after this cursor have been compacted away (older than the retention "
            "window): resynchronise in full by reading the feed again without a cursor.",
        )
    has_more = len(page.rows) > limit
    rows = page.rows[:limit]
    records = await _records(session, principal, rows)
    items = []
    for row in rows:
        record = records.get((row.resource, row.record_id))
        items.append(
            SyncChangeRead(
                resource=SyncResource(row.resource),
                id=row.record_id,
                external_id=(
                    row.external_id
                    if own is not None and row.external_institution_id == own
                    else None
                ),
                version=row.version,
                operation=ChangeOperation.upsert if record is not None else ChangeOperation.delete,
                changed_at=row.changed_at,
                record=record,
            )
        )
    at = rows[-1].at if rows else given.at
    if not has_more:
        # Nothing more to show below the snapshot's xmin: every change the feed shows later
        # sorts after (xmin - 1, the largest position), so the cursor moves there, past the
        # changes others made that this caller is not shown (it need not scan them again).
        at = max(at, FeedPosition(page.safe_below - 1, _BIGINT_MAX))
    return SyncChangePage(
        items=items,
        next_cursor=encode_cursor(Cursor(at, horizon.generation, mask), signer),
        has_more=has_more,
    )


# --- compaction -----------------------------------------------------------------------------


async def compact(session: AsyncSession, retention: timedelta) -> int:
    """Remove, among changes older than `retention`, the tombstones and the changes a later
    change of the same record supersedes; a cursor handed out before and positioned before
    them then gets a 410. The
    newest change of every live record stays: reading from the beginning still yields every
    record. Returns how many changes were removed."""
    cutoff = datetime.now(UTC) - retention
    return await SyncChangeRepository(session).compact(cutoff)


# --- batches --------------------------------------------------------------------------------


async def push_batch(
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    resource: SyncResource | None,
    items: Sequence[RawItem],
    idempotency_key: str | None,
) -> tuple[SyncBatchResult, bool]:
    """Apply a batch (see `app.domains.sync.batch`), or replay the response an earlier
    request with the same `Idempotency-Key` got. Returns the result and whether it is a
    replay."""
    batch.check_size(items, settings.sync_batch_max_items)
    claimed: idempotency.Claim | None = None
    if idempotency_key is not None:
        operation = f"POST /v1/sync/{resource.value if resource else ''}/batch".replace("//", "/")
        outcome = await idempotency.claim(
            session, principal, idempotency_key, operation, {"items": list(items)}
        )
        if isinstance(outcome, idempotency.Replay):
            return SyncBatchResult.model_validate(outcome.body), True
        claimed = outcome
    attempt = batch.Attempt(principal, resource, len(items), idempotency_key)
    try:
        result = await batch.push(session, attempt, items)
        if claimed is not None:
            await idempotency.remember(
                session,
                claimed,
                200,
                result.model_dump(mode="json"),
                timedelta(hours=settings.idempotency_ttl_hours),
            )
        # The batch's writes, its run and its key commit together, here: a commit that fails
        # is a failed attempt too.
        await session.commit()
    except Exception as exc:
        await _record_failure(session, attempt, exc)
        raise
    return result, False


def _failure_code(exc: Exception) -> str:
    """The problem code the response to this error carries (app.core.errors' handlers)."""
    if isinstance(exc, AppError):
        return exc.code
    unavailable = unavailability(exc)
    if unavailable is not None:
        return unavailable.code
    if isinstance(exc, DBAPIError):
        return integrity_problem(exc).code
    if isinstance(exc, PoolTimeout):
        return "database.busy"
    return "internal_error"


async def _record_failure(session: AsyncSession, attempt: batch.Attempt, exc: Exception) -> None:
    """Roll the failed attempt back, then record its run in a transaction of its own, so that
    `GET /v1/sync/runs` shows it (a run that cannot be recorded is logged, and the attempt's own
    error is the one answered)."""
    code = _failure_code(exc)
    if code == "database.busy":
        # No connection was free: waiting for one again to record the run would double the
        # caller's wait for its 503.
        with contextlib.suppress(Exception):
            await session.rollback()
        logger.warning("a sync batch found every connection busy; its run is not recorded")
        return
    try:
        await session.rollback()
        run = batch.failed_run(attempt, code)
        if run is None:
            return
        SyncRunRepository(session).add(run)
        await session.commit()
    except Exception as error:
        if unavailability(error) is None:
            logger.exception("the failed sync batch's run could not be recorded")
        else:  # the database is still away: the batch's own 503 says so
            logger.warning("the failed sync batch's run could not be recorded: database away")
        with contextlib.suppress(Exception):
            await session.rollback()


async def list_runs(
    session: AsyncSession,
    principal: Principal,
    institution_id: uuid.UUID | None,
    page: PageRequest,
) -> PageResult[SyncRun]:
    """The batches pushed, newest first: an institution's caller sees its own institution's."""
    own = _institution(principal)
    if own is not None:
        if institution_id is not None and institution_id != own:
            raise Forbidden(
                "sync.out_of_scope", "An institution's caller sees its own institution's runs."
            )
        institution_id = own
    return await SyncRunRepository(session).page(institution_id, page)
