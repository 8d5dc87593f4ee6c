from __future__ import annotations

import uuid

from pydantic_core import to_jsonable_python
from sqlalchemy import Select, exists, func, select

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.audit import service as audit
from app.domains.hub_activities.schemas import HubActivityFilter, HubActivitySort
from app.domains.regions.repository import escape_like, within
from app.models.enums import HubActivityStatus
from app.models.hubs import HubActivity, HubActivityInnovation, HubActivityParticipant
from app.models.innovations import Innovation
from app.models.institutions import Institution

ACTIVITY_SORTS = {
    HubActivitySort.activity_date: SortKey((HubActivity.activity_date, HubActivity.id)),
    HubActivitySort.activity_date_desc: SortKey(
        (HubActivity.activity_date, HubActivity.id), descending=True
    ),
    HubActivitySort.created_at: SortKey((HubActivity.created_at, HubActivity.id)),
    HubActivitySort.created_at_desc: SortKey(
        (HubActivity.created_at, HubActivity.id), descending=True
    ),
}


def snapshot(activity: HubActivity) -> audit.Snapshot:
    """The activity as the audit trail keeps it: its row and its two lists."""
    return {
        **audit.snapshot(activity),
        "participant_institution_ids": to_jsonable_python(activity.participant_institution_ids),
        "innovation_ids": to_jsonable_python(activity.innovation_ids),
    }


class HubActivityRepository(RepositoryBase[HubActivity]):
    model = HubActivity

    @staticmethod
    def touch(activity: HubActivity) -> None:
        """Mark the activity's row changed (its lists live in their own tables): the UPDATE
        sets `updated_at` to the transaction's time and moves its version."""
        activity.updated_at = func.now()

    async def of_hub(self, hub_id: uuid.UUID) -> list[HubActivity]:
        found = await self.session.scalars(select(HubActivity).where(HubActivity.hub_id == hub_id))
        return list(found)

    async def missing_institutions(self, ids: list[uuid.UUID]) -> list[uuid.UUID]:
        """Those of `ids` no institution has, in the order given."""
        found = set(
            await self.session.scalars(select(Institution.id).where(Institution.id.in_(ids)))
        )
        return [i for i in ids if i not in found]

    async def innovation_statuses(self, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
        rows = await self.session.execute(
            select(Innovation.id, Innovation.status).where(Innovation.id.in_(ids))
        )
        return {row.id: row.status for row in rows}

    async def list(
        self,
        hub_id: uuid.UUID,
        filters: HubActivityFilter,
        drafts_too: bool,
        sort: HubActivitySort,
        page: PageRequest,
    ) -> PageResult[HubActivity]:
        stmt: Select[HubActivity] = select(HubActivity).where(HubActivity.hub_id == hub_id)
        if not drafts_too:
            stmt = stmt.where(HubActivity.status == HubActivityStatus.published)
        if filters.status:
            stmt = stmt.where(HubActivity.status.in_(filters.status))
        if filters.kind:
            stmt = stmt.where(HubActivity.kind.in_(filters.kind))
        if filters.date_from is not None:
            stmt = stmt.where(HubActivity.activity_date >= filters.date_from)
        if filters.date_to is not None:
            stmt = stmt.where(HubActivity.activity_date <= filters.date_to)
        if filters.region:
            stmt = stmt.where(within(HubActivity.region_code, filters.region))
        if filters.institution_id is not None:
            stmt = stmt.where(
                exists().where(
                    HubActivityParticipant.activity_id == HubActivity.id,
                    HubActivityParticipant.institution_id == filters.institution_id,
                )
            )
        if filters.innovation_id is not None:
            stmt = stmt.where(
                exists().where(
                    HubActivityInnovation.activity_id == HubActivity.id,
                    HubActivityInnovation.innovation_id == filters.innovation_id,
                )
            )
        if filters.q:
            stmt = stmt.where(HubActivity.title.ilike(f"%{escape_like(filters.q)}%", escape="\\"))
        seen = "all" if drafts_too else "published"
        scope = f"hub_activities:{hub_id}:{seen}:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, ACTIVITY_SORTS[sort], page, scope)
