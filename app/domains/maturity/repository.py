from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select
from sqlalchemy.orm import raiseload

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.maturity.schemas import (
    AssessmentFilter,
    AssessmentSort,
    MaturityInstrumentFilter,
    MaturityInstrumentSort,
)
from app.models.enums import AssessmentStatus, MaturityInstrumentStatus
from app.models.maturity import MaturityAssessment, MaturityInstrument

INSTRUMENT_SORTS = {
    MaturityInstrumentSort.code: SortKey(
        (MaturityInstrument.code, MaturityInstrument.revision, MaturityInstrument.id)
    ),
    MaturityInstrumentSort.created_at: SortKey(
        (MaturityInstrument.created_at, MaturityInstrument.id)
    ),
    MaturityInstrumentSort.created_at_desc: SortKey(
        (MaturityInstrument.created_at, MaturityInstrument.id), descending=True
    ),
}
ASSESSMENT_SORTS = {
    AssessmentSort.period_year: SortKey((MaturityAssessment.period_year, MaturityAssessment.id)),
    AssessmentSort.period_year_desc: SortKey(
        (MaturityAssessment.period_year, MaturityAssessment.id), descending=True
    ),
}


class InstrumentRepository(RepositoryBase[MaturityInstrument]):
    model = MaturityInstrument

    async def last_revision(self, code: str) -> int:
        found = await self.session.scalar(
            select(func.max(MaturityInstrument.revision)).where(MaturityInstrument.code == code)
        )
        return found or 0

    async def published(self, code: str, *, for_update: bool = False) -> MaturityInstrument | None:
        stmt = select(MaturityInstrument).where(
            MaturityInstrument.code == code,
            MaturityInstrument.status == MaturityInstrumentStatus.published,
        )
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def list(
        self,
        filters: MaturityInstrumentFilter,
        drafts_too: bool,
        sort: MaturityInstrumentSort,
        page: PageRequest,
    ) -> PageResult[MaturityInstrument]:
        stmt: Select[MaturityInstrument] = select(MaturityInstrument)
        if not drafts_too:
            stmt = stmt.where(MaturityInstrument.status != MaturityInstrumentStatus.draft)
        if filters.code:
            stmt = stmt.where(MaturityInstrument.code == filters.code)
        if filters.status:
            stmt = stmt.where(MaturityInstrument.status.in_(filters.status))
        seen = "all" if drafts_too else "public"
        scope = f"maturity_instruments:{seen}:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, INSTRUMENT_SORTS[sort], page, scope)


class AssessmentRepository(RepositoryBase[MaturityAssessment]):
    model = MaturityAssessment

    @staticmethod
    def touch(assessment: MaturityAssessment) -> None:
        """Mark the assessment's row changed (its answers live in their own table): the UPDATE
        sets `updated_at` to the transaction's time and moves its version."""
        assessment.updated_at = func.now()

    async def list(
        self,
        hub_id: uuid.UUID,
        filters: AssessmentFilter,
        verified_only: bool,
        sort: AssessmentSort,
        page: PageRequest,
    ) -> PageResult[MaturityAssessment]:
        # A list shows summaries: the answers are not loaded.
        stmt: Select[MaturityAssessment] = (
            select(MaturityAssessment)
            .where(MaturityAssessment.hub_id == hub_id)
            .options(raiseload(MaturityAssessment.answers))
        )
        if verified_only:
            stmt = stmt.where(MaturityAssessment.status == AssessmentStatus.verified)
        if filters.status:
            stmt = stmt.where(MaturityAssessment.status.in_(filters.status))
        if filters.period_year is not None:
            stmt = stmt.where(MaturityAssessment.period_year == filters.period_year)
        seen = "verified" if verified_only else "all"
        scope = f"maturity_assessments:{hub_id}:{seen}:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, ASSESSMENT_SORTS[sort], page, scope)
