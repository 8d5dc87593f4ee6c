"""Replications in the database: reads within a caller's reach, the write rules' lookups, and
the lineage tree (recursive, bounded, cycle-safe)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    all_,
    and_,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import UUID, array

from app.core.pagination import PageRequest, filters_fingerprint
from app.db.repository import PageResult, RepositoryBase, SortKey, keyset_page
from app.domains.regions.repository import within
from app.domains.replications.schemas import ReplicationFilter, ReplicationSort
from app.models.enums import InnovationStatus, ReplicationStatus
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from app.models.replications import ENDED, Replication

SORTS = {
    ReplicationSort.created_at: SortKey((Replication.created_at, Replication.id)),
    ReplicationSort.created_at_desc: SortKey(
        (Replication.created_at, Replication.id), descending=True
    ),
}
# The lineage's bounds: levels each way, and nodes in all.
LINEAGE_DEPTH = 10
LINEAGE_NODES = 500
# A transaction-scoped advisory lock serialising replica links (two concurrent links could
# otherwise close a cycle that neither sees): the key is arbitrary but fixed.
LINEAGE_LOCK_KEY = 0x5245504C  # "REPL"

_PUBLISHED_SOURCES = select(Innovation.id).where(Innovation.status == InnovationStatus.published)


@dataclass(frozen=True)
class ReplicationVisibility:
    """Which replications a caller sees: everything (the secretariat); those whose source or
    adopter institution is its own (unit operators, local admins, regional systems); those its
    hub facilitates (a hub admin); and, like everyone, the approved replications of published
    innovations."""

    everything: bool = False
    institution_id: uuid.UUID | None = None
    hub_id: uuid.UUID | None = None

    def admits(self, replication: Replication, source_published: bool) -> bool:
        return (
            self.everything
            or self.inside(replication)
            or (replication.approved_date is not None and source_published)
        )

    def inside(self, replication: Replication) -> bool:
        """The caller sees the replication as one of its sides or its facilitator does."""
        return (
            self.everything
            or (
                self.institution_id is not None
                and self.institution_id
                in (replication.source_institution_id, replication.adopter_institution_id)
            )
            or (self.hub_id is not None and replication.facilitator_hub_id == self.hub_id)
        )

    def condition(self) -> ColumnElement[bool] | None:
        if self.everything:
            return None
        visible: list[ColumnElement[bool]] = [
            and_(
                Replication.approved_date.is_not(None),
                Replication.source_innovation_id.in_(_PUBLISHED_SOURCES),
            )
        ]
        if self.institution_id is not None:
            visible.append(Replication.source_institution_id == self.institution_id)
            visible.append(Replication.adopter_institution_id == self.institution_id)
        if self.hub_id is not None:
            visible.append(Replication.facilitator_hub_id == self.hub_id)
        return or_(*visible)


@dataclass(frozen=True)
class InnovationBrief:
    title: str
    status: InnovationStatus
    institution_id: uuid.UUID
    unit_id: uuid.UUID


class ReplicationRepository(RepositoryBase[Replication]):
    model = Replication

    async def page(
        self,
        filters: ReplicationFilter,
        visibility: ReplicationVisibility,
        sort: ReplicationSort,
        page: PageRequest,
    ) -> PageResult[Replication]:
        stmt: Select[Any] = select(Replication)
        visible = visibility.condition()
        if visible is not None:
            stmt = stmt.where(visible)
        for column, value in (
            (Replication.source_innovation_id, filters.source_innovation_id),
            (Replication.replica_innovation_id, filters.replica_innovation_id),
            (Replication.adopter_institution_id, filters.adopter_institution_id),
            (Replication.source_institution_id, filters.source_institution_id),
            (Replication.adopter_unit_id, filters.adopter_unit_id),
            (Replication.facilitator_hub_id, filters.facilitator_hub_id),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if filters.institution_id is not None:
            stmt = stmt.where(
                or_(
                    Replication.source_institution_id == filters.institution_id,
                    Replication.adopter_institution_id == filters.institution_id,
                )
            )
        if filters.status:
            stmt = stmt.where(Replication.status.in_(filters.status))
        if filters.region:
            stmt = stmt.where(
                Replication.adopter_institution_id.in_(
                    select(Institution.id).where(within(Institution.region_code, filters.region))
                )
            )
        scope = f"replications:{sort.value}:{filters_fingerprint(filters)}"
        return await keyset_page(self.session, stmt, SORTS[sort], page, scope)

    async def briefs(
        self, innovation_ids: Iterable[uuid.UUID | None]
    ) -> dict[uuid.UUID, InnovationBrief]:
        """Title, status and owner of each innovation named."""
        ids = list({i for i in innovation_ids if i is not None})
        if not ids:
            return {}
        rows = await self.session.execute(
            select(
                Innovation.id,
                Innovation.title,
                Innovation.status,
                Innovation.institution_id,
                Innovation.unit_id,
            ).where(Innovation.id.in_(ids))
        )
        return {r.id: InnovationBrief(r.title, r.status, r.institution_id, r.unit_id) for r in rows}

    async def holder(
        self, source_id: uuid.UUID, adopter_unit_id: uuid.UUID, exclude: uuid.UUID | None
    ) -> uuid.UUID | None:
        """The replication of `source_id` by the unit that holds its place, if any."""
        stmt = select(Replication.id).where(
            Replication.source_innovation_id == source_id,
            Replication.adopter_unit_id == adopter_unit_id,
            Replication.status.not_in(ENDED),
        )
        if exclude is not None:
            stmt = stmt.where(Replication.id != exclude)
        return await self.session.scalar(stmt.limit(1))

    async def replica_holder(
        self, replica_id: uuid.UUID, exclude: uuid.UUID | None
    ) -> uuid.UUID | None:
        stmt = select(Replication.id).where(Replication.replica_innovation_id == replica_id)
        if exclude is not None:
            stmt = stmt.where(Replication.id != exclude)
        return await self.session.scalar(stmt.limit(1))

    async def lock_lineage(self) -> None:
        await self.session.execute(select(func.pg_advisory_xact_lock(LINEAGE_LOCK_KEY)))

    async def lineage_of(self, innovation_id: uuid.UUID) -> set[uuid.UUID]:
        """The innovation and every innovation it descends from through replicas (every
        replication, seen or not: this guards the tree)."""
        up = select(literal(innovation_id, UUID(as_uuid=True)).label("id")).cte(
            "up", recursive=True
        )
        step = select(Replication.source_innovation_id).join(
            up, Replication.replica_innovation_id == up.c.id
        )
        up = up.union(step)
        return set((await self.session.scalars(select(up.c.id))).all())

    async def lineage(
        self, innovation_id: uuid.UUID, visibility: ReplicationVisibility
    ) -> list[RowMapping]:
        """The replications around an innovation as the caller sees them, with depth: one
        recursive query up (to the original) and down (replications of it and its replicas),
        one level over the bound so the caller learns it was truncated, cycle-safe by path."""
        visible = visibility.condition()
        seen: list[ColumnElement[bool]] = [] if visible is None else [visible]
        start = literal(innovation_id, UUID(as_uuid=True))

        up = (
            select(
                Replication.id.label("replication_id"),
                Replication.source_innovation_id.label("next_id"),
                literal(-1).label("depth"),
                array([start, Replication.source_innovation_id]).label("path"),
            )
            .where(Replication.replica_innovation_id == start, *seen)
            .cte("up", recursive=True)
        )
        up = up.union_all(
            select(
                Replication.id,
                Replication.source_innovation_id,
                up.c.depth - 1,
                func.array_append(up.c.path, Replication.source_innovation_id),
            )
            .join(up, Replication.replica_innovation_id == up.c.next_id)
            .where(
                up.c.depth > -(LINEAGE_DEPTH + 1),
                Replication.source_innovation_id != all_(up.c.path),
                *seen,
            )
        )
        down = (
            select(
                Replication.id.label("replication_id"),
                Replication.replica_innovation_id.label("next_id"),
                literal(1).label("depth"),
                array([start, Replication.replica_innovation_id]).label("path"),
            )
            .where(Replication.source_innovation_id == start, *seen)
            .cte("down", recursive=True)
        )
        down = down.union_all(
            select(
                Replication.id,
                Replication.replica_innovation_id,
                down.c.depth + 1,
                func.array_append(down.c.path, Replication.replica_innovation_id),
            )
            .join(down, Replication.source_innovation_id == down.c.next_id)
            .where(
                down.c.depth < LINEAGE_DEPTH + 1,
                or_(
                    Replication.replica_innovation_id.is_(None),
                    Replication.replica_innovation_id != all_(down.c.path),
                ),
                *seen,
            )
        )
        nodes = (
            select(up.c.replication_id, up.c.depth)
            .union_all(select(down.c.replication_id, down.c.depth))
            .subquery("nodes")
        )
        source = Innovation.__table__.alias("source")
        replica = Innovation.__table__.alias("replica")
        stmt = (
            select(
                nodes.c.replication_id,
                nodes.c.depth,
                Replication.source_innovation_id,
                source.c.title.label("source_innovation_title"),
                Replication.replica_innovation_id,
                replica.c.title.label("replica_innovation_title"),
                replica.c.status.label("replica_status"),
                replica.c.institution_id.label("replica_institution_id"),
                replica.c.unit_id.label("replica_unit_id"),
                Replication.adopter_institution_id,
                Institution.name.label("adopter_institution_name"),
                Replication.adopter_unit_id,
                Unit.name.label("adopter_unit_name"),
                Institution.region_code,
                Replication.status,
                Replication.scope,
                Replication.requested_date,
                Replication.implemented_date,
            )
            .select_from(nodes)
            .join(Replication, Replication.id == nodes.c.replication_id)
            .join(source, source.c.id == Replication.source_innovation_id)
            .outerjoin(replica, replica.c.id == Replication.replica_innovation_id)
            .join(Institution, Institution.id == Replication.adopter_institution_id)
            .join(Unit, Unit.id == Replication.adopter_unit_id)
            .order_by(
                (nodes.c.depth > 0).asc(),
                nodes.c.depth.asc(),
                Replication.requested_date.asc(),
                Replication.id.asc(),
            )
            .limit(LINEAGE_NODES + LINEAGE_DEPTH + 2)
        )
        return list((await self.session.execute(stmt)).mappings().all())

    async def implemented_before(self, day: date) -> list[Replication]:
        """The replications implemented on or before `day` and not evaluated (nor ended)."""
        rows = await self.session.scalars(
            select(Replication)
            .where(
                Replication.status == ReplicationStatus.implemented,
                Replication.implemented_date <= day,
            )
            .order_by(Replication.implemented_date, Replication.id)
        )
        return list(rows)
