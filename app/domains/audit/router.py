from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.openapi import problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal
from app.db.session import SessionDep
from app.domains.audit import service
from app.domains.audit.schemas import (
    AuditAction,
    AuditEntityType,
    AuditEventFilter,
    AuditEventPage,
    AuditEventSort,
    Timestamp,
)

router = APIRouter(tags=["audit"], route_class=PolicyRoute)


@router.get("/audit-events", responses=problems(400))
async def list_audit_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    entity_type: AuditEntityType | None = None,
    entity_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    actor_id: uuid.UUID | None = None,
    action: Annotated[list[AuditAction] | None, Query(description="Any of these.")] = None,
    request_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    occurred_from: Annotated[
        Timestamp | None, Query(description="From this time on (inclusive).")
    ] = None,
    occurred_to: Annotated[Timestamp | None, Query(description="Before this time.")] = None,
    sort: AuditEventSort = AuditEventSort.occurred_at_desc,
) -> AuditEventPage:
    """List recorded writes: who changed what, when, and the fields before and after."""
    filters = AuditEventFilter(
        entity_type=entity_type,
        entity_id=entity_id,
        actor_id=actor_id,
        action=action or [],
        request_id=request_id,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    result = await service.list_audit_events(session, principal, filters, sort, page)
    return AuditEventPage.model_validate(result, from_attributes=True)
