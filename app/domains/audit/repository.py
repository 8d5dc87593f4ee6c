from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, select
from sqlalchemy.dialects.postgresql import insert

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.audit.schemas import AuditEventFilter, AuditEventSort
from app.models.audit import AuditEvent

SORTS = {
    AuditEventSort.occurred_at: SortKey((AuditEvent.occurred_at, AuditEvent.id)),
    AuditEventSort.occurred_at_desc: SortKey(
        (AuditEvent.occurred_at, AuditEvent.id), descending=True
    ),
}
_INSERT = insert(cast(Table, AuditEvent.__table__))


class AuditEventRepository(RepositoryBase[AuditEvent]):
    model = AuditEvent

    async def list(
        self, filters: AuditEventFilter, sort: AuditEventSort, page: PageRequest
    ) -> PageResult[AuditEvent]:
        stmt: Select[AuditEvent] = select(AuditEvent)
        if filters.institution_id is not None:
            stmt = stmt.where(AuditEvent.institution_id == filters.institution_id)
        if filters.entity_type is not None:
            stmt = stmt.where(AuditEvent.entity_type == filters.entity_type)
        if filters.entity_id is not None:
            stmt = stmt.where(AuditEvent.entity_id == filters.entity_id)
        if filters.actor_id is not None:
            stmt = stmt.where(AuditEvent.actor_id == filters.actor_id)
        if filters.action:
            stmt = stmt.where(AuditEvent.action.in_(filters.action))
        if filters.request_id is not None:
            stmt = stmt.where(AuditEvent.request_id == filters.request_id)
        if filters.occurred_from is not None:
            stmt = stmt.where(AuditEvent.occurred_at >= filters.occurred_from)
        if filters.occurred_to is not None:
            stmt = stmt.where(AuditEvent.occurred_at < filters.occurred_to)
        scope = f"audit-events:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, SORTS[sort], page, scope)

    async def insert_many(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Insert these events' columns in one executemany (no ORM object per event)."""
        await self.session.execute(_INSERT, events)
