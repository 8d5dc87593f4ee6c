from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.pagination import PageRequest
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.models.documents import Document

_NEWEST_FIRST = SortKey((Document.created_at, Document.id), descending=True)


class DocumentRepository(RepositoryBase[Document]):
    model = Document

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)

    async def used_bytes(self, institution_id: uuid.UUID) -> int:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(Document.size_bytes), 0)).where(
                Document.institution_id == institution_id
            )
        )
        return int(total or 0)

    async def of_record(
        self, record_type: str, record_id: uuid.UUID, *, include_private: bool, page: PageRequest
    ) -> PageResult[Document]:
        stmt: Select[Document] = select(Document).where(
            Document.record_type == record_type, Document.record_id == record_id
        )
        if not include_private:
            stmt = stmt.where(Document.private.is_(False))
        scope = f"documents:{record_type}:{record_id}:{include_private}"
        return await keyset_page(self.session, stmt, _NEWEST_FIRST, page, scope)
