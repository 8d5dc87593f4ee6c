"""The service's own job kinds and their schedules (times in WIB):

- `sync.compact`, daily at 02:00: what `inovasi sync-compact` does to the sync change log
  (superseded changes and tombstones older than `SYNC_RETENTION_DAYS`);
- `idempotency.expire`, hourly at :05: forget expired `Idempotency-Key`s;
- `competitions.close-registration`, every five minutes: an edition still open past its
  `registration_closes_at` closes registration (its entries never submitted expire);
- `jobs.prune`, daily at 03:00: delete succeeded jobs finished more than 7 days ago (dead ones
  stay until the secretariat retries them);
- `webhooks.feed`, every 10 seconds, and `webhooks.deliver` (app/domains/webhooks/delivery.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.core.idempotency import purge_expired
from app.domains.competitions.service import close_registrations_past_deadline
from app.domains.jobs.kinds import JobContext, JobKind, register
from app.domains.jobs.repository import JobRepository
from app.domains.jobs.schedules import Schedule, schedule
from app.domains.notifications import dispatch as _notifications  # noqa: F401 - its job kinds
from app.domains.sync.service import compact
from app.domains.webhooks import delivery as _webhooks  # noqa: F401 - its job kinds, its hook

KEEP_SUCCEEDED_DAYS = 7


async def _sync_compact(ctx: JobContext, _: dict[str, Any]) -> None:
    await compact(ctx.session, timedelta(days=ctx.settings.sync_retention_days))


async def _idempotency_expire(ctx: JobContext, _: dict[str, Any]) -> None:
    await purge_expired(ctx.session)


async def _close_registrations(ctx: JobContext, _: dict[str, Any]) -> None:
    await close_registrations_past_deadline(ctx.session)


async def _jobs_prune(ctx: JobContext, _: dict[str, Any]) -> None:
    await JobRepository(ctx.session).prune(KEEP_SUCCEEDED_DAYS)


SYNC_COMPACT = register(JobKind("sync.compact", _sync_compact, timeout_seconds=3600))
IDEMPOTENCY_EXPIRE = register(JobKind("idempotency.expire", _idempotency_expire))
JOBS_PRUNE = register(JobKind("jobs.prune", _jobs_prune))
CLOSE_REGISTRATION = register(JobKind("competitions.close-registration", _close_registrations))

schedule(Schedule("sync-compact", SYNC_COMPACT.name, timedelta(days=1), timedelta(hours=2)))
schedule(
    Schedule(
        "idempotency-expiry", IDEMPOTENCY_EXPIRE.name, timedelta(hours=1), timedelta(minutes=5)
    )
)
schedule(Schedule("jobs-prune", JOBS_PRUNE.name, timedelta(days=1), timedelta(hours=3)))
schedule(Schedule("registration-deadline", CLOSE_REGISTRATION.name, timedelta(minutes=5)))
