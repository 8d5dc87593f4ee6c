from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import IfMatchDep, IfMatchRequiredDep, IfNoneMatchDep, versioned
from app.core.openapi import not_modified, problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal, MaybePrincipal, Principal
from app.db.session import SessionDep
from app.domains.regions.schemas import REGION_CODE_PATTERN
from app.domains.replications import service
from app.domains.replications.schemas import (
    Lineage,
    ReplicationCreate,
    ReplicationFilter,
    ReplicationPage,
    ReplicationRead,
    ReplicationSort,
    ReplicationTransition,
    ReplicationUpdate,
    SimilarInnovations,
)
from app.models.enums import ReplicationStatus
from app.models.replications import Replication

router = APIRouter(tags=["replications"], route_class=PolicyRoute)


async def _read(
    session: AsyncSession,
    principal: Principal | None,
    replication: Replication,
    response: Response,
) -> ReplicationRead:
    """The replication as the caller sees it, with its ETag."""
    shown = await service.read_model(session, principal, replication)
    return versioned(response, replication, shown)


@router.get("/replications", responses=problems(400))
async def list_replications(
    session: SessionDep,
    principal: MaybePrincipal,
    page: PageDep,
    source_innovation_id: uuid.UUID | None = None,
    replica_innovation_id: uuid.UUID | None = None,
    institution_id: Annotated[
        uuid.UUID | None, Query(description="On either side (source or adopter).")
    ] = None,
    adopter_institution_id: uuid.UUID | None = None,
    source_institution_id: uuid.UUID | None = None,
    adopter_unit_id: uuid.UUID | None = None,
    facilitator_hub_id: uuid.UUID | None = None,
    status_: Annotated[
        list[ReplicationStatus] | None, Query(alias="status", description="Any of these.")
    ] = None,
    region: Annotated[
        str | None,
        Query(
            max_length=13,
            pattern=REGION_CODE_PATTERN,
            description="The adopter institution's region: a province matches everything "
            "inside it.",
        ),
    ] = None,
    sort: ReplicationSort = ReplicationSort.created_at_desc,
) -> ReplicationPage:
    """List the replications within the caller's reach (everyone sees the approved
    replications of published innovations)."""
    filters = ReplicationFilter(
        source_innovation_id=source_innovation_id,
        replica_innovation_id=replica_innovation_id,
        institution_id=institution_id,
        adopter_institution_id=adopter_institution_id,
        source_institution_id=source_institution_id,
        adopter_unit_id=adopter_unit_id,
        facilitator_hub_id=facilitator_hub_id,
        status=status_ or [],
        region=region,
    )
    result, shown = await service.list_replications(session, principal, filters, sort, page)
    return ReplicationPage(
        items=shown,
        next_cursor=result.next_cursor,
        has_more=result.has_more,
        total=result.total,
    )


@router.post("/replications", status_code=status.HTTP_201_CREATED, responses=problems(403, 409))
async def create_replication(
    session: SessionDep, principal: CurrentPrincipal, body: ReplicationCreate, response: Response
) -> ReplicationRead:
    """Request to replicate a published innovation in one of the caller's units (the source's
    owner approves or rejects it)."""
    replication = await service.create_replication(session, principal, body)
    response.headers["Location"] = f"/v1/replications/{replication.id}"
    return await _read(session, principal, replication, response)


@router.get("/replications/{replication_id:uuid}", responses={**problems(404), **not_modified()})
async def get_replication(
    session: SessionDep,
    principal: MaybePrincipal,
    replication_id: uuid.UUID,
    response: Response,
    cond: IfNoneMatchDep,
) -> ReplicationRead:
    """Get one replication."""
    replication = await service.get_replication(session, principal, replication_id)
    cond.check_not_modified(replication.version)
    return await _read(session, principal, replication, response)


@router.patch("/replications/{replication_id:uuid}", responses=problems(403, 404, 409, 412))
async def update_replication(
    session: SessionDep,
    principal: CurrentPrincipal,
    replication_id: uuid.UUID,
    body: ReplicationUpdate,
    response: Response,
    cond: IfMatchRequiredDep,
) -> ReplicationRead:
    """Change a replication's plan, facilitator, documents or replica (the adopter side, until
    it is rejected or discontinued)."""
    replication = await service.update_replication(session, principal, replication_id, body, cond)
    return await _read(session, principal, replication, response)


@router.delete(
    "/replications/{replication_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(403, 404, 409, 412),
)
async def delete_replication(
    session: SessionDep,
    principal: CurrentPrincipal,
    replication_id: uuid.UUID,
    cond: IfMatchRequiredDep,
) -> None:
    """Delete a request not yet answered; later a replication is discontinued (409)."""
    await service.delete_replication(session, principal, replication_id, cond)


@router.post(
    "/replications/{replication_id:uuid}/transitions", responses=problems(403, 404, 409, 412)
)
async def transition_replication(
    session: SessionDep,
    principal: CurrentPrincipal,
    replication_id: uuid.UUID,
    body: ReplicationTransition,
    response: Response,
    cond: IfMatchDep,
) -> ReplicationRead:
    """Move a replication one step: the source side `approve`s or `reject`s (with a reason) a
    request; either side records `sign_agreement`; the adopter side `start_implementation`,
    `complete_implementation` and `evaluate` (with benefit measures); either side may
    `discontinue` (with a reason). `date` is the step's date (default today in WIB)."""
    replication = await service.transition_replication(
        session, principal, replication_id, body, cond
    )
    return await _read(session, principal, replication, response)


@router.get(
    "/innovations/{innovation_id:uuid}/lineage", tags=["innovations"], responses=problems(404)
)
async def get_innovation_lineage(
    session: SessionDep, principal: MaybePrincipal, innovation_id: uuid.UUID
) -> Lineage:
    """Where an innovation came from (up to the original) and every replication of it and of
    its replicas, with depth, adopters and states, as far as the caller may see them."""
    return await service.lineage(session, principal, innovation_id)


@router.get(
    "/innovations/{innovation_id:uuid}/similar", tags=["innovations"], responses=problems(404)
)
async def list_similar_innovations(
    session: SessionDep,
    principal: MaybePrincipal,
    innovation_id: uuid.UUID,
    limit: Annotated[int, Query(ge=1, le=50, description="How many, 1 to 50.")] = 10,
) -> SimilarInnovations:
    """Published innovations most alike this one in text, categories and SDGs, boosted by
    proven replications and awards, leaving out the caller's own institution's: what an
    adopter might copy (README: "How similarity is computed")."""
    return await service.similar_innovations(session, principal, innovation_id, limit)
