from __future__ import annotations

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import QueryableAttribute

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.regions.schemas import RegionFilter, RegionSort
from app.models.regions import Region

# A region code column: a model's attribute (`Institution.region_code`) or an expression.
RegionCodeColumn = QueryableAttribute[str | None] | ColumnElement[str] | ColumnElement[str | None]


def within(column: RegionCodeColumn, code: str) -> ColumnElement[bool]:
    """The region `code` or any region under it: a province takes its regencies and cities,
    a regency its districts (codes nest as `35`, `35.73`, `35.73.01`)."""
    return or_(column == code, column.startswith(code + ".", autoescape=True))


SORTS = {
    RegionSort.code: SortKey((Region.code,)),
    RegionSort.code_desc: SortKey((Region.code,), descending=True),
    RegionSort.name: SortKey((Region.name, Region.code)),
    RegionSort.name_desc: SortKey((Region.name, Region.code), descending=True),
}


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class RegionRepository(RepositoryBase[Region]):
    model = Region

    async def list(
        self, filters: RegionFilter, sort: RegionSort, page: PageRequest
    ) -> PageResult[Region]:
        stmt: Select[Region] = select(Region)
        if filters.level is not None:
            stmt = stmt.where(Region.level == filters.level)
        if filters.parent_code is not None:
            stmt = stmt.where(Region.parent_code == filters.parent_code)
        if filters.q:
            stmt = stmt.where(Region.name.ilike(f"%{escape_like(filters.q)}%", escape="\\"))
        scope = f"regions:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, SORTS[sort], page, scope)
