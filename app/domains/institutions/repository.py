from __future__ import annotations

import uuid

from sqlalchemy import Select, exists, or_, select, update

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.institutions.schemas import (
    InstitutionFilter,
    InstitutionSort,
    UnitFilter,
    UnitSort,
)
from app.domains.regions.repository import escape_like, within
from app.models.institutions import Institution, Unit

INSTITUTION_SORTS = {
    InstitutionSort.name: SortKey((Institution.name, Institution.id)),
    InstitutionSort.name_desc: SortKey((Institution.name, Institution.id), descending=True),
    InstitutionSort.created_at: SortKey((Institution.created_at, Institution.id)),
    InstitutionSort.created_at_desc: SortKey(
        (Institution.created_at, Institution.id), descending=True
    ),
}
UNIT_SORTS = {
    UnitSort.name: SortKey((Unit.name, Unit.id)),
    UnitSort.name_desc: SortKey((Unit.name, Unit.id), descending=True),
    UnitSort.created_at: SortKey((Unit.created_at, Unit.id)),
    UnitSort.created_at_desc: SortKey((Unit.created_at, Unit.id), descending=True),
}


class InstitutionRepository(RepositoryBase[Institution]):
    model = Institution

    async def owns_bumd(self, institution_id: uuid.UUID) -> bool:
        stmt = select(exists().where(Institution.owner_institution_id == institution_id))
        return bool(await self.session.scalar(stmt))

    async def has_units(self, institution_id: uuid.UUID) -> bool:
        stmt = select(exists().where(Unit.institution_id == institution_id))
        return bool(await self.session.scalar(stmt))

    async def has_units_outside(self, institution_id: uuid.UUID, region_code: str) -> bool:
        """Whether any of the institution's units sits outside `region_code`."""
        stmt = select(
            exists().where(
                Unit.institution_id == institution_id,
                Unit.region_code.is_not(None),
                Unit.region_code != region_code,
                Unit.region_code.not_like(escape_like(region_code) + ".%", escape="\\"),
            )
        )
        return bool(await self.session.scalar(stmt))

    async def move_owned_bumds(self, owner_id: uuid.UUID, region_code: str | None) -> None:
        """Put every bumd of `owner_id` on `region_code`, bumping their versions."""
        await self.session.execute(
            update(Institution)
            .where(
                Institution.owner_institution_id == owner_id,
                Institution.region_code.is_distinct_from(region_code),
            )
            .values(region_code=region_code, version=Institution.version + 1)
            .execution_options(synchronize_session=False)
        )

    async def list(
        self, filters: InstitutionFilter, sort: InstitutionSort, page: PageRequest
    ) -> PageResult[Institution]:
        stmt: Select[Institution] = select(Institution)
        if filters.kind:
            stmt = stmt.where(Institution.kind.in_(filters.kind))
        if filters.region:
            stmt = stmt.where(within(Institution.region_code, filters.region))
        if filters.owner_institution_id:
            stmt = stmt.where(Institution.owner_institution_id == filters.owner_institution_id)
        if filters.q:
            pattern = f"%{escape_like(filters.q)}%"
            stmt = stmt.where(
                or_(
                    Institution.name.ilike(pattern, escape="\\"),
                    Institution.short_name.ilike(pattern, escape="\\"),
                )
            )
        scope = f"institutions:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, INSTITUTION_SORTS[sort], page, scope)


class UnitRepository(RepositoryBase[Unit]):
    model = Unit

    async def has_sub_units(self, unit_id: uuid.UUID) -> bool:
        stmt = select(exists().where(Unit.parent_unit_id == unit_id))
        return bool(await self.session.scalar(stmt))

    async def is_ancestor_or_self(self, candidate_id: uuid.UUID, of_unit_id: uuid.UUID) -> bool:
        """Whether `candidate_id` is `of_unit_id` or one of its ancestors (walks up the tree)."""
        up = (
            select(Unit.id, Unit.parent_unit_id)
            .where(Unit.id == of_unit_id)
            .cte("up", recursive=True)
        )
        up = up.union(select(Unit.id, Unit.parent_unit_id).join(up, Unit.id == up.c.parent_unit_id))
        stmt = select(exists().where(up.c.id == candidate_id))
        return bool(await self.session.scalar(stmt))

    async def list(
        self, institution_id: uuid.UUID, filters: UnitFilter, sort: UnitSort, page: PageRequest
    ) -> PageResult[Unit]:
        stmt: Select[Unit] = select(Unit).where(Unit.institution_id == institution_id)
        if filters.parent_unit_id is not None:
            stmt = stmt.where(Unit.parent_unit_id == filters.parent_unit_id)
        if filters.top_level is True:
            stmt = stmt.where(Unit.parent_unit_id.is_(None))
        elif filters.top_level is False:
            stmt = stmt.where(Unit.parent_unit_id.is_not(None))
        if filters.q:
            stmt = stmt.where(Unit.name.ilike(f"%{escape_like(filters.q)}%", escape="\\"))
        scope = f"units:{institution_id}:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, UNIT_SORTS[sort], page, scope)
