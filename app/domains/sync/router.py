from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import idempotency
from app.core.openapi import problems
from app.core.pagination import PageDep
from app.core.policies import PolicyRoute
from app.core.security import CurrentPrincipal, Principal
from app.core.texts import checks_its_own_text
from app.db.session import SessionDep
from app.domains.sync import service
from app.domains.sync.schemas import (
    HubActivitySyncBatch,
    InnovationSyncBatch,
    MixedSyncBatch,
    RawItem,
    ReplicationSyncBatch,
    SyncBatchResult,
    SyncChangePage,
    SyncResource,
    SyncRunPage,
    UnitSyncBatch,
)

router = APIRouter(tags=["sync"], route_class=PolicyRoute)


@router.get("/sync/changes", responses=problems(400, 410))
async def list_sync_changes(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    cursor: Annotated[
        str | None,
        Query(
            max_length=2048,
            description="`next_cursor` of the last page read, as given (opaque and signed: "
            "an altered cursor, or one another list handed out, is a 400 "
            "`sync.invalid_cursor`); without it the feed starts from the beginning (every "
            "record's latest change, and recent deletions).",
        ),
    ] = None,
    resources: Annotated[
        list[SyncResource] | None,
        Query(description="Only these resources (repeat the parameter); all by default."),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=service.MAX_FEED_LIMIT, description="Changes per page.")
    ] = service.DEFAULT_FEED_LIMIT,
) -> SyncChangePage:
    """Every create, update and delete of the units, innovations, replications and hub
    activities the caller may read (its own institution's and all public records), in commit
    order. Following `next_cursor` until `has_more` is false yields each change once, even
    while other transactions commit out of order; a record the caller may no longer read (or
    that was deleted) is a tombstone (`operation: delete`). A cursor older than the retention
    window is a 410: read again from the beginning. See docs/sync.md."""
    return await service.list_changes(
        session, principal, cursor, resources, limit, request.app.state.cursor_signer
    )


_BATCH_NOTE = (
    " Authenticated as a `regional_system` key of one institution: every record written is "
    "that institution's, and an item naming another institution's record is `invalid` "
    "(`sync.out_of_scope`). Items are validated one by one: a bad item is reported with its "
    "index, external_id, code and JSON pointers and the others apply. An external_id repeated "
    "in the batch is applied once (the later items are `invalid`). A batch holds at most "
    "SYNC_BATCH_MAX_ITEMS items (default 1,000; more is a 422). Send an `Idempotency-Key` to "
    "retry safely. Each batch is recorded as a run (`GET /v1/sync/runs`); an attempt that "
    "fails as a whole (a 5xx: rolled back, nothing applied) is recorded too, as `failed`. "
    "See docs/sync.md."
)


async def _push(
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
    resource: SyncResource | None,
    items: list[RawItem],
    idempotency_key: str | None,
) -> SyncBatchResult:
    result, replayed = await service.push_batch(
        session, principal, request.app.state.settings, resource, items, idempotency_key
    )
    if replayed:
        response.headers[idempotency.REPLAYED_HEADER] = "true"
    return result


@router.post("/sync/units/batch", responses=problems(409, 413, 422))
@checks_its_own_text  # an item that holds one fails alone
async def push_unit_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    batch: UnitSyncBatch,
    idempotency_key: idempotency.IdempotencyKeyHeader = None,
) -> SyncBatchResult:
    """Create or update units of the caller's institution by their `external_id`; a unit may
    name its parent by the parent's `external_id` (an item of the same batch, or one pushed
    before)."""
    return await _push(
        request, response, session, principal, SyncResource.units, batch.items, idempotency_key
    )


push_unit_batch.__doc__ = (push_unit_batch.__doc__ or "") + _BATCH_NOTE


@router.post("/sync/innovations/batch", responses=problems(409, 413, 422))
@checks_its_own_text  # an item that holds one fails alone
async def push_innovation_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    batch: InnovationSyncBatch,
    idempotency_key: idempotency.IdempotencyKeyHeader = None,
) -> SyncBatchResult:
    """Create or update innovations of the caller's institution by their `external_id`, each
    written whole; `status` publishes or archives in the same write (publishing needs what
    `POST .../publish` needs). The owning unit is named by `unit_id` or by the unit's
    `external_id`."""
    return await _push(
        request,
        response,
        session,
        principal,
        SyncResource.innovations,
        batch.items,
        idempotency_key,
    )


push_innovation_batch.__doc__ = (push_innovation_batch.__doc__ or "") + _BATCH_NOTE


@router.post("/sync/replications/batch", responses=problems(409, 413, 422))
@checks_its_own_text  # an item that holds one fails alone
async def push_replication_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    batch: ReplicationSyncBatch,
    idempotency_key: idempotency.IdempotencyKeyHeader = None,
) -> SyncBatchResult:
    """Create or update replications the caller's institution adopts, by their
    `external_id`: a new one is a request (as `POST /v1/replications`) for one of its units,
    named by `adopter_unit_id` or the unit's `external_id`; an existing one gets its plan
    (scope, adaptation, facilitator, documents, replica) written whole. The source and the
    adopter unit are fixed once it exists, and the steps are taken on
    `POST /v1/replications/{replication_id}/transitions`."""
    return await _push(
        request,
        response,
        session,
        principal,
        SyncResource.replications,
        batch.items,
        idempotency_key,
    )


push_replication_batch.__doc__ = (push_replication_batch.__doc__ or "") + _BATCH_NOTE


@router.post("/sync/hub-activities/batch", responses=problems(409, 413, 422))
@checks_its_own_text  # an item that holds one fails alone
async def push_hub_activity_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    batch: HubActivitySyncBatch,
    idempotency_key: idempotency.IdempotencyKeyHeader = None,
) -> SyncBatchResult:
    """Create or update activities of the hubs the caller's institution hosts, by their
    `external_id`, each written whole (participants and innovations shown replaced whole);
    `status` publishes or takes back to draft in the same write. The hub is fixed once the
    activity exists."""
    return await _push(
        request,
        response,
        session,
        principal,
        SyncResource.hub_activities,
        batch.items,
        idempotency_key,
    )


push_hub_activity_batch.__doc__ = (push_hub_activity_batch.__doc__ or "") + _BATCH_NOTE


@router.post("/sync/batch", responses=problems(409, 413, 422))
@checks_its_own_text  # an item that holds one fails alone
async def push_mixed_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    batch: MixedSyncBatch,
    idempotency_key: idempotency.IdempotencyKeyHeader = None,
) -> SyncBatchResult:
    """Items of several resources in one batch, each naming its `resource`: units are applied
    first, then innovations, replications and hub activities, so an item can name a record of
    the same batch by its `external_id` (an innovation its unit, a replication its adopter unit
    and its replica). Results are listed in the order sent."""
    return await _push(request, response, session, principal, None, batch.items, idempotency_key)


push_mixed_batch.__doc__ = (push_mixed_batch.__doc__ or "") + _BATCH_NOTE


@router.get("/sync/runs", responses=problems(400))
async def list_sync_runs(
    session: SessionDep,
    principal: CurrentPrincipal,
    page: PageDep,
    institution_id: Annotated[
        uuid.UUID | None,
        Query(description="The secretariat: only this institution's runs."),
    ] = None,
) -> SyncRunPage:
    """The batches pushed, newest first: who pushed, when, how long it took, the counts, the
    items that failed, and the outcome (`applied`, or `failed` for an attempt rolled back
    whole, with its error's code). An institution's caller sees its own institution's runs."""
    result = await service.list_runs(session, principal, institution_id, page)
    return SyncRunPage.model_validate(result, from_attributes=True)
