"""A batch as pushed (the attempt) and its run: the items parsed, applied kind by kind in
dependency order, counted, and recorded as a run in the batch's transaction; and the run of an
attempt that failed as a whole."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asgi_correlation_id import correlation_id
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Forbidden, Unprocessable
from app.core.security import Principal
from app.domains.sync.batch.hub_activities import apply_hub_activities
from app.domains.sync.batch.innovations import apply_innovations
from app.domains.sync.batch.items import SUPPORTED, Batch, Item, mark_duplicates, parse
from app.domains.sync.batch.replications import apply_replications
from app.domains.sync.batch.units import apply_units
from app.domains.sync.repository import SyncBatchRepository, SyncRunRepository
from app.domains.sync.schemas import (
    RawItem,
    SyncBatchResult,
    SyncItemStatus,
    SyncResource,
    SyncTotals,
)
from app.models.sync import SyncRun

_APPLY: dict[SyncResource, Callable[[Batch, list[Item]], Awaitable[None]]] = {
    SyncResource.units: apply_units,
    SyncResource.innovations: apply_innovations,
    SyncResource.replications: apply_replications,
    SyncResource.hub_activities: apply_hub_activities,
}


def check_size(items: Sequence[RawItem], cap: int) -> None:
    if len(items) > cap:
        raise Unprocessable(
            "sync.batch_too_large",
            f"A batch holds at most {cap} items; this one has {len(items)}. Split it.",
        )


def _institution(principal: Principal) -> uuid.UUID:
    if principal.institution_id is None:  # the policy admits institution-scoped callers only
        raise Forbidden("sync.no_institution", "Only an institution's system pushes batches.")
    return principal.institution_id


@dataclass(frozen=True)
class Attempt:
    """A batch as pushed: by whom, of what, when it started (wall clock and a monotonic one)."""

    principal: Principal
    resource: SyncResource | None
    received: int
    idempotency_key: str | None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: float = field(default_factory=time.perf_counter)

    def run(
        self,
        institution_id: uuid.UUID,
        totals: SyncTotals,
        *,
        failures: list[dict[str, Any]],
        outcome: str,
        error_code: str | None = None,
    ) -> SyncRun:
        """The attempt's run as it stands now (its duration ends here); `failures` are the
        results of the items not applied, as JSON."""
        return SyncRun(
            id=uuid.uuid4(),
            institution_id=institution_id,
            caller_kind=self.principal.kind,
            caller_id=self.principal.id,
            caller_name=self.principal.email or self.principal.name,
            resource=self.resource.value if self.resource is not None else "mixed",
            idempotency_key=self.idempotency_key,
            request_id=correlation_id.get(),
            started_at=self.started,
            duration_ms=round((time.perf_counter() - self.clock) * 1000),
            **totals.model_dump(),
            failures=failures,
            outcome=outcome,
            error_code=error_code,
        )


def failed_run(attempt: Attempt, error_code: str) -> SyncRun | None:
    """The run of an attempt that failed as a whole (nothing of it applied), or None for a
    caller of no institution (refused before anything began)."""
    if attempt.principal.institution_id is None:
        return None
    nothing = SyncTotals(
        received=attempt.received, created=0, updated=0, unchanged=0, conflict=0, invalid=0
    )
    return attempt.run(
        attempt.principal.institution_id,
        nothing,
        failures=[],
        outcome="failed",
        error_code=error_code,
    )


async def push(
    session: AsyncSession, attempt: Attempt, raw_items: Sequence[RawItem]
) -> SyncBatchResult:
    """Apply a batch of one resource (`attempt.resource`), or of several (None: each item names
    its own), and record it as an applied run, in the batch's transaction."""
    principal, resource = attempt.principal, attempt.resource
    institution_id = _institution(principal)
    repository = SyncBatchRepository(session)
    # One batch of an institution at a time: its items' lookups and writes see each other.
    await repository.serialise(institution_id)
    items = [parse(index, raw, resource) for index, raw in enumerate(raw_items)]
    mark_duplicates(items)
    batch = Batch(session, principal, institution_id, repository)
    for kind in SUPPORTED:
        of_kind = [item for item in items if item.resource is kind]
        if of_kind:
            await _APPLY[kind](batch, of_kind)
    results = [item.result for item in items if item.result is not None]
    assert len(results) == len(items), "every item is reported"
    counts = dict.fromkeys(SyncItemStatus, 0)
    for result in results:
        counts[result.status] += 1
    totals = SyncTotals(
        received=len(items),
        created=counts[SyncItemStatus.created],
        updated=counts[SyncItemStatus.updated],
        unchanged=counts[SyncItemStatus.unchanged],
        conflict=counts[SyncItemStatus.conflict],
        invalid=counts[SyncItemStatus.invalid],
    )
    failures = [
        result.model_dump(mode="json", exclude_none=True)
        for result in results
        if result.status in (SyncItemStatus.conflict, SyncItemStatus.invalid)
    ]
    run = attempt.run(institution_id, totals, failures=failures, outcome="applied")
    SyncRunRepository(session).add(run)
    await session.flush()
    return SyncBatchResult(run_id=run.id, items=results, totals=totals)
