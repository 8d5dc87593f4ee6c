from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import LargeBinary, Select, Uuid, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.reads import CompiledRead, Reader
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.accounts.schemas import ApiKeyFilter, ApiKeySort, UserFilter, UserSort
from app.domains.regions.repository import escape_like
from app.models.accounts import ApiKey, User

SORTS = {
    ApiKeySort.created_at: SortKey((ApiKey.created_at, ApiKey.id)),
    ApiKeySort.created_at_desc: SortKey((ApiKey.created_at, ApiKey.id), descending=True),
}
USER_SORTS = {
    UserSort.name: SortKey((User.name, User.id)),
    UserSort.name_desc: SortKey((User.name, User.id), descending=True),
    UserSort.created_at: SortKey((User.created_at, User.id)),
    UserSort.created_at_desc: SortKey((User.created_at, User.id), descending=True),
}


# Authentication runs on every signed-in request: its two lookups are compiled once and run
# on the driver (app/db/reads.py), without a session.
_CALLER_COLUMNS = ("id", "role", "name", "institution_id", "unit_id", "hub_id")
KEY_BY_HASH = CompiledRead(
    select(
        *(getattr(ApiKey, c) for c in _CALLER_COLUMNS),
        ApiKey.revoked_at,
        ApiKey.expires_at,
        ApiKey.last_used_at,
    ).where(ApiKey.secret_hash == bindparam("secret_hash", type_=LargeBinary()))
)
USER_FOR_TOKEN = CompiledRead(
    select(
        *(getattr(User, c) for c in _CALLER_COLUMNS),
        User.email,
        User.is_active,
        User.password_changed_at,
    ).where(User.id == bindparam("user_id", type_=Uuid()))
)


async def key_for_caller(reader: Reader, secret_hash: bytes) -> Mapping[str, Any] | None:
    return await reader.one(KEY_BY_HASH, secret_hash=secret_hash)


async def user_for_caller(reader: Reader, user_id: uuid.UUID) -> Mapping[str, Any] | None:
    return await reader.one(USER_FOR_TOKEN, user_id=user_id)


async def touch_last_used(
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


class ApiKeyRepository(RepositoryBase[ApiKey]):
    model = ApiKey

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

    async def expiring(self, now: datetime, until: datetime) -> Sequence[ApiKey]:
        """The keys not revoked that expire after `now` and by `until`."""
        rows = await self.session.scalars(
            select(ApiKey)
            .where(
                ApiKey.revoked_at.is_(None),
                ApiKey.expires_at > now,
                ApiKey.expires_at <= until,
            )
            .order_by(ApiKey.expires_at, ApiKey.id)
        )
        return list(rows)


class UserRepository(RepositoryBase[User]):
    model = User

    async def get_by_email(self, email: str) -> User | None:
        stmt = select(User).where(func.lower(User.email) == email.strip().lower())
        return (await self.session.scalars(stmt)).one_or_none()

    async def record_login(self, user_id: uuid.UUID, now: datetime) -> None:
        """Set `last_login_at` without bumping the version: signing in is not an edit."""
        await self.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(last_login_at=now)
            .execution_options(synchronize_session=False)
        )

    async def list(
        self, filters: UserFilter, sort: UserSort, page: PageRequest
    ) -> PageResult[User]:
        stmt: Select[User] = select(User)
        if filters.role:
            stmt = stmt.where(User.role.in_(filters.role))
        if filters.institution_id is not None:
            stmt = stmt.where(User.institution_id == filters.institution_id)
        if filters.unit_id is not None:
            stmt = stmt.where(User.unit_id == filters.unit_id)
        if filters.is_active is not None:
            stmt = stmt.where(User.is_active.is_(filters.is_active))
        if filters.q:
            pattern = f"%{escape_like(filters.q)}%"
            stmt = stmt.where(
                or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\"))
            )
        scope = f"users:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, USER_SORTS[sort], page, scope)
