from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, SortKey, keyset_page
from app.domains.accounts.schemas import ApiKeyFilter, ApiKeySort
from app.models.accounts import ApiKey

SORTS = {
    ApiKeySort.created_at: SortKey((ApiKey.created_at, ApiKey.id)),
    ApiKeySort.created_at_desc: SortKey((ApiKey.created_at, ApiKey.id), descending=True),
}


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_hash(self, secret_hash: bytes) -> ApiKey | None:
        stmt = select(ApiKey).where(ApiKey.secret_hash == secret_hash)
        return (await self.session.scalars(stmt)).one_or_none()

    async def get(self, key_id: uuid.UUID) -> ApiKey | None:
        return await self.session.get(ApiKey, key_id)

    def add(self, key: ApiKey) -> None:
        self.session.add(key)

    async def touch_last_used(
        self,
        engine: AsyncEngine,
        key_id: uuid.UUID,
        last_used_at: datetime | None,
        now: datetime,
        resolution_seconds: int,
    ) -> None:
        """Record use outside the request's transaction, at most once per resolution window,
        so parallel requests with one key never queue on its row lock."""
        if last_used_at is not None and now - last_used_at < timedelta(seconds=resolution_seconds):
            return
        threshold = now - timedelta(seconds=resolution_seconds)
        async with engine.begin() as conn:
            await conn.execute(
                update(ApiKey)
                .where(
                    ApiKey.id == key_id,
                    or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < threshold),
                )
                .values(last_used_at=now)
            )

    async def list(
        self, filters: ApiKeyFilter, sort: ApiKeySort, page: PageRequest
    ) -> PageResult[ApiKey]:
        stmt: Select[ApiKey] = select(ApiKey)
        if filters.role:
            stmt = stmt.where(ApiKey.role.in_(filters.role))
        if filters.institution_id is not None:
            stmt = stmt.where(ApiKey.institution_id == filters.institution_id)
        if filters.revoked is True:
            stmt = stmt.where(ApiKey.revoked_at.is_not(None))
        elif filters.revoked is False:
            stmt = stmt.where(ApiKey.revoked_at.is_(None))
        scope = f"api-keys:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, SORTS[sort], page, scope)
