from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, or_, select

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.hubs.schemas import HubFilter, HubMemberFilter, HubMemberSort, HubSort
from app.domains.regions.repository import escape_like
from app.models.enums import PUBLIC_HUB_STATUSES, HubStatus
from app.models.hubs import Hub, HubMember
from app.models.institutions import Institution

HUB_SORTS = {
    HubSort.name: SortKey((Hub.name, Hub.id)),
    HubSort.name_desc: SortKey((Hub.name, Hub.id), descending=True),
    HubSort.created_at: SortKey((Hub.created_at, Hub.id)),
    HubSort.created_at_desc: SortKey((Hub.created_at, Hub.id), descending=True),
}
MEMBER_SORTS = {
    HubMemberSort.joined_date: SortKey((HubMember.joined_date, HubMember.id)),
    HubMemberSort.joined_date_desc: SortKey((HubMember.joined_date, HubMember.id), descending=True),
    HubMemberSort.created_at: SortKey((HubMember.created_at, HubMember.id)),
    HubMemberSort.created_at_desc: SortKey((HubMember.created_at, HubMember.id), descending=True),
}


@dataclass(frozen=True)
class HubVisibility:
    """Which hubs a caller sees: the public ones, plus everything (the secretariat) or its own
    hub whatever its status (a hub admin)."""

    everything: bool = False
    hub_id: uuid.UUID | None = None

    def admits(self, hub: Hub) -> bool:
        return self.everything or hub.status in PUBLIC_HUB_STATUSES or hub.id == self.hub_id


class HubRepository(RepositoryBase[Hub]):
    model = Hub

    async def active_hub_of_host(self, host_institution_id: uuid.UUID) -> Hub | None:
        return await self.session.scalar(
            select(Hub).where(
                Hub.host_institution_id == host_institution_id, Hub.status == HubStatus.active
            )
        )

    async def list(
        self, filters: HubFilter, visibility: HubVisibility, sort: HubSort, page: PageRequest
    ) -> PageResult[Hub]:
        stmt: Select[Hub] = select(Hub)
        if not visibility.everything:
            visible: ColumnElement[bool] = Hub.status.in_(PUBLIC_HUB_STATUSES)
            if visibility.hub_id is not None:
                visible = or_(visible, Hub.id == visibility.hub_id)
            stmt = stmt.where(visible)
        if filters.kind:
            stmt = stmt.where(Hub.kind.in_(filters.kind))
        if filters.status:
            stmt = stmt.where(Hub.status.in_(filters.status))
        if filters.province:
            # A regional hub's province is its host's region (a pemprov sits on a province).
            stmt = stmt.where(
                exists().where(
                    Institution.id == Hub.host_institution_id,
                    Institution.region_code == filters.province,
                )
            )
        if filters.is_pilot is not None:
            stmt = stmt.where(Hub.is_pilot.is_(filters.is_pilot))
        if filters.host_institution_id is not None:
            stmt = stmt.where(Hub.host_institution_id == filters.host_institution_id)
        if filters.q:
            stmt = stmt.where(Hub.name.ilike(f"%{escape_like(filters.q)}%", escape="\\"))
        # The visibility is part of the scope: a cursor only continues the list it came from.
        seen = "all" if visibility.everything else str(visibility.hub_id)
        scope = f"hubs:{seen}:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, HUB_SORTS[sort], page, scope)


class HubMemberRepository(RepositoryBase[HubMember]):
    model = HubMember

    async def history(
        self, hub_id: uuid.UUID, institution_id: uuid.UUID, unit_id: uuid.UUID | None
    ) -> Sequence[HubMember]:
        """Every membership, current and ended, of one member in the hub."""
        return (
            await self.session.scalars(
                select(HubMember).where(
                    HubMember.hub_id == hub_id,
                    HubMember.institution_id == institution_id,
                    HubMember.unit_id.is_(None)
                    if unit_id is None
                    else HubMember.unit_id == unit_id,
                )
            )
        ).all()

    async def of_hub(self, hub_id: uuid.UUID) -> Sequence[HubMember]:
        """Every membership row of the hub."""
        return (
            await self.session.scalars(select(HubMember).where(HubMember.hub_id == hub_id))
        ).all()

    async def list(
        self,
        hub_id: uuid.UUID,
        filters: HubMemberFilter,
        sort: HubMemberSort,
        page: PageRequest,
    ) -> PageResult[HubMember]:
        stmt: Select[HubMember] = select(HubMember).where(HubMember.hub_id == hub_id)
        if filters.current is True:
            stmt = stmt.where(HubMember.left_date.is_(None))
        elif filters.current is False:
            stmt = stmt.where(HubMember.left_date.is_not(None))
        if filters.institution_id is not None:
            stmt = stmt.where(HubMember.institution_id == filters.institution_id)
        scope = f"hub_members:{hub_id}:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, MEMBER_SORTS[sort], page, scope)
