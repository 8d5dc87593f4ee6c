"""Every statement of webhooks: endpoints and their deliveries, the deliveries an event or a
batch of record changes becomes, an endpoint's queue, and the feed cursor."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ARRAY, Select, String, bindparam, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.webhooks.schemas import WebhookSort
from app.models.accounts import ApiKey, User
from app.models.institutions import Unit
from app.models.webhooks import DELIVERY_SEQ, Webhook, WebhookAttempt, WebhookDelivery

SORTS = {
    WebhookSort.created_at: SortKey((Webhook.created_at, Webhook.id)),
    WebhookSort.created_at_desc: SortKey((Webhook.created_at, Webhook.id), descending=True),
}
_DELIVERIES_NEWEST_FIRST = SortKey((WebhookDelivery.seq,), descending=True)

# One delivery run of an endpoint at a time: the lock is the transaction's, and it is an
# advisory lock (not a row lock) so the run holds no transaction id while it waits for
# receivers (a transaction id held open would hold back every reader of the sync feed).
_SERIALISE = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")

_CURSOR_FOR_UPDATE = text("SELECT xid, position FROM webhook_feed_cursor WHERE id = 1 FOR UPDATE")
_MOVE_CURSOR = text(
    "UPDATE webhook_feed_cursor SET xid = :xid, position = :position, updated_at = now() "
    "WHERE id = 1"
)

# The changes after the cursor that every reader may be shown (their transactions ended; or
# this transaction's own, which tests read), and the snapshot's xmin: as the sync feed reads.
_CHANGES = text(
    """
    SELECT s.safe_below, c.xid, c.position
      FROM (SELECT (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint AS safe_below) s
      LEFT JOIN LATERAL (
            SELECT xid, position FROM sync_changes
             WHERE (xid, position) > (:xid, :position)
               AND (xid < s.safe_below OR xid = (pg_current_xact_id_if_assigned()::text)::bigint)
             ORDER BY xid, position
             LIMIT :limit) c ON true
     ORDER BY c.xid, c.position
    """
)

# The deliveries a range of changes becomes: one per change and active endpoint subscribed to
# its resource, created before it, and in whose scope it is (the endpoint's institution's
# record, a public one before or after, or every record for an endpoint of no institution),
# exactly as the changes feed shows it. A change the endpoint can no longer read after it is
# a deletion for it (a tombstone, as in the feed).
_CHANGE_DELIVERIES = text(
    """
    INSERT INTO webhook_deliveries (id, webhook_id, message_id, event_type, payload)
    SELECT gen_random_uuid(), w.id, 'chg_' || c.xid || '_' || c.position, 'record.' || c.resource,
           jsonb_build_object(
               'type', 'record.' || c.resource,
               'timestamp', to_char(c.changed_at AT TIME ZONE 'UTC',
                                    'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'data', jsonb_build_object(
                   'subject_type', CASE c.resource WHEN 'units' THEN 'unit'
                                   WHEN 'innovations' THEN 'innovation'
                                   WHEN 'replications' THEN 'replication'
                                   ELSE 'hub_activity' END,
                   'subject_id', c.record_id,
                   'institution_id', c.institution_ids[1],
                   'version', c.version,
                   'operation', CASE
                       WHEN c.operation = 'delete' THEN 'delete'
                       WHEN w.institution_id IS NULL OR w.institution_id = ANY(c.institution_ids)
                            OR c.public_after THEN 'upsert'
                       ELSE 'delete' END,
                   'link', CASE c.resource
                       WHEN 'units' THEN '/v1/units/' || c.record_id
                       WHEN 'innovations' THEN '/v1/innovations/' || c.record_id
                       WHEN 'replications' THEN '/v1/replications/' || c.record_id
                       ELSE (SELECT '/v1/hubs/' || a.hub_id || '/activities/' || a.id
                               FROM hub_activities a WHERE a.id = c.record_id) END))
      FROM sync_changes c
      JOIN webhooks w
        ON w.status = 'active'
       AND w.event_types @> ARRAY['record.' || c.resource]::varchar[]
       AND w.created_at <= c.changed_at
       AND (w.institution_id IS NULL OR w.institution_id = ANY(c.institution_ids)
            OR c.public_before OR c.public_after)
     WHERE (c.xid, c.position) > (:after_xid, :after_position)
       AND (c.xid, c.position) <= (:last_xid, :last_position)
     ORDER BY c.xid, c.position, w.id
    ON CONFLICT (webhook_id, message_id) DO NOTHING
    RETURNING webhook_id
    """
)

# An endpoint's queue: its pending deliveries, oldest first, and whether each is due.
_PENDING = (
    select(WebhookDelivery, (WebhookDelivery.next_attempt_at <= func.now()).label("due"))
    .where(
        WebhookDelivery.webhook_id == bindparam("webhook_id"),
        WebhookDelivery.status == "pending",
    )
    .order_by(WebhookDelivery.seq)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True)
class FeedRead:
    """What one read of the change log saw: the last change read (None: none) and the
    snapshot's xmin."""

    last: tuple[int, int] | None
    count: int
    safe_below: int


class WebhookRepository(RepositoryBase[Webhook]):
    model = Webhook

    def _visible(
        self,
        stmt: Select[Any],
        owner_api_key_id: uuid.UUID | None,
        institution_id: uuid.UUID | None,
        everything: bool,
    ) -> Select[Any]:
        if everything:
            return stmt
        if owner_api_key_id is not None:
            return stmt.where(Webhook.owner_api_key_id == owner_api_key_id)
        return stmt.where(Webhook.institution_id == institution_id)

    async def page(
        self,
        *,
        everything: bool,
        owner_api_key_id: uuid.UUID | None,
        institution_id: uuid.UUID | None,
        status: Sequence[str],
        sort: WebhookSort,
        page: PageRequest,
    ) -> PageResult[Webhook]:
        stmt = self._visible(select(Webhook), owner_api_key_id, institution_id, everything)
        if status:
            stmt = stmt.where(Webhook.status.in_(list(status)))
        scope = (
            f"webhooks:{sort.value}:{everything}:{owner_api_key_id}:{institution_id}:"
            f"{','.join(sorted(status))}"
        )
        return await keyset_page(self.session, stmt, SORTS[sort], page, scope)

    async def owner_active(self, webhook: Webhook) -> bool:
        """Whether the endpoint's owner may still act: its key unrevoked and unexpired, or
        its person's account active."""
        if webhook.owner_api_key_id is not None:
            found = await self.session.scalar(
                select(ApiKey.id).where(
                    ApiKey.id == webhook.owner_api_key_id,
                    ApiKey.revoked_at.is_(None),
                    or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > func.now()),
                )
            )
        else:
            found = await self.session.scalar(
                select(User.id).where(User.id == webhook.owner_user_id, User.is_active.is_(True))
            )
        return found is not None

    async def subscribed(self, event_type: str) -> Sequence[Webhook]:
        """The active endpoints subscribed to the event type."""
        rows = await self.session.scalars(
            select(Webhook).where(
                Webhook.status == "active",
                Webhook.event_types.contains(
                    bindparam("types", [event_type], type_=ARRAY(String(60)))
                ),
            )
        )
        return rows.all()

    async def units_of(self, unit_ids: Sequence[uuid.UUID], institution_id: uuid.UUID) -> bool:
        """Whether any of the units is the institution's."""
        if not unit_ids:
            return False
        found = await self.session.scalar(
            select(Unit.id)
            .where(Unit.id.in_(list(unit_ids)), Unit.institution_id == institution_id)
            .limit(1)
        )
        return found is not None


class DeliveryRepository(RepositoryBase[WebhookDelivery]):
    model = WebhookDelivery

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
        """Insert the deliveries (one per endpoint and message: a repeat is skipped); the
        endpoints that got one."""
        if not rows:
            return []
        stmt = (
            insert(WebhookDelivery)
            .values(list(rows))
            .on_conflict_do_nothing(index_elements=["webhook_id", "message_id"])
            .returning(WebhookDelivery.webhook_id)
        )
        return list(dict.fromkeys(await self.session.scalars(stmt)))

    async def page(
        self, webhook_id: uuid.UUID, status: Sequence[str], page: PageRequest
    ) -> PageResult[WebhookDelivery]:
        stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
        if status:
            stmt = stmt.where(WebhookDelivery.status.in_(list(status)))
        scope = f"webhook-deliveries:{webhook_id}:{','.join(sorted(status))}"
        return await keyset_page(self.session, stmt, _DELIVERIES_NEWEST_FIRST, page, scope)

    async def get_of(
        self, webhook_id: uuid.UUID, delivery_id: uuid.UUID, *, for_update: bool = False
    ) -> WebhookDelivery | None:
        stmt = select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == webhook_id
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def attempts_of(
        self, delivery_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[WebhookAttempt]]:
        found: dict[uuid.UUID, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
        if not delivery_ids:
            return found
        rows = await self.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(delivery_ids)))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.attempt)
        )
        for row in rows:
            found[row.delivery_id].append(row)
        return found

    async def requeue(self, delivery: WebhookDelivery) -> None:
        """Make a finished delivery pending again, last in its endpoint's queue, due now by
        the database's clock (the one the queue compares with)."""
        delivery.status = "pending"
        delivery.attempts = 0
        delivery.seq = await self.next_seq()
        delivery.next_attempt_at = func.now()
        delivery.finished_at = None
        await self.session.flush()
        await self.session.refresh(delivery)

    async def next_seq(self) -> int:
        value = await self.session.scalar(select(DELIVERY_SEQ.next_value()))
        assert value is not None
        return int(value)

    async def serialise(self, webhook_id: uuid.UUID) -> None:
        await self.session.execute(_SERIALISE, {"key": f"webhook:{webhook_id}"})

    async def pending(
        self, webhook_id: uuid.UUID, limit: int
    ) -> list[tuple[WebhookDelivery, bool]]:
        rows = await self.session.execute(_PENDING, {"webhook_id": webhook_id, "limit": limit})
        return [(delivery, bool(due)) for delivery, due in rows]

    def add_attempt(self, attempt: WebhookAttempt) -> None:
        self.session.add(attempt)


class FeedRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def cursor_for_update(self) -> tuple[int, int]:
        """The cursor, locked: one feed run at a time."""
        row = (await self.session.execute(_CURSOR_FOR_UPDATE)).one()
        return int(row.xid), int(row.position)

    async def move(self, xid: int, position: int) -> None:
        await self.session.execute(_MOVE_CURSOR, {"xid": xid, "position": position})

    async def read(self, after: tuple[int, int], limit: int) -> FeedRead:
        rows = list(
            await self.session.execute(
                _CHANGES, {"xid": after[0], "position": after[1], "limit": limit}
            )
        )
        seen = [(int(r.xid), int(r.position)) for r in rows if r.xid is not None]
        return FeedRead(seen[-1] if seen else None, len(seen), int(rows[0].safe_below))

    async def deliveries_for(
        self, after: tuple[int, int], last: tuple[int, int]
    ) -> list[uuid.UUID]:
        """Write the deliveries the changes in (after, last] become; the endpoints that got
        one."""
        result = await self.session.execute(
            _CHANGE_DELIVERIES,
            {
                "after_xid": after[0],
                "after_position": after[1],
                "last_xid": last[0],
                "last_position": last[1],
            },
        )
        return list(dict.fromkeys(row.webhook_id for row in result))
