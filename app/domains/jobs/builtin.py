"""The service's own job kinds and their schedules (times in WIB):

- `sync.compact`, daily at 02:00: what `inovasi sync-compact` does to the sync change log
  (superseded changes and tombstones older than `SYNC_RETENTION_DAYS`);
- `idempotency.expire`, hourly at :05: forget expired `Idempotency-Key`s;
- `competitions.close-registration`, every five minutes: an edition still open past its
  `registration_closes_at` closes registration (its entries never submitted expire);
- `jobs.prune`, daily at 03:00: delete succeeded jobs finished more than 7 days ago (dead ones
  stay until the secretariat retries them);
- `documents.sweep`, hourly at :15: remove the temporary files of uploads cut off over an hour
  ago (`DOCUMENTS_DIR/tmp`);
- the reminders (docs/notifications.md), each sent once per recipient and window whatever the
  ticks: `reminders.round-closing` hourly at :10 (evaluators with work left, 48 h and 24 h
  before a round closes), `reminders.approvals` hourly at :20 (local admins with entries
  awaiting approval, 72 h and 24 h before registration closes), `reminders.api-keys` and
  `reminders.replication-evaluations` daily at 08:00 (keys expiring in 14 and 3 days;
  replications implemented 30, 60 and 90 days ago and not evaluated);
- `webhooks.feed`, every 10 seconds, and `webhooks.deliver` (app/domains/webhooks/delivery.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.core.idempotency import purge_expired
from app.domains.accounts.reminders import remind_expiring_keys
from app.domains.competitions.service import close_registrations_past_deadline
from app.domains.documents.storage import store_for
from app.domains.evaluation.reminders import remind_closing_rounds
from app.domains.jobs.kinds import JobContext, JobKind, register
from app.domains.jobs.repository import JobRepository
from app.domains.jobs.schedules import Schedule, schedule
from app.domains.notifications import dispatch as _notifications  # noqa: F401 - its job kinds
from app.domains.replications.reminders import remind_evaluations
from app.domains.submissions.reminders import remind_approvals
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


async def _documents_sweep(ctx: JobContext, _: dict[str, Any]) -> None:
    store_for(ctx.settings).sweep(older_than_seconds=3600)


async def _remind_round_closing(ctx: JobContext, _: dict[str, Any]) -> None:
    await remind_closing_rounds(ctx.session)


async def _remind_approvals(ctx: JobContext, _: dict[str, Any]) -> None:
    await remind_approvals(ctx.session)


async def _remind_api_keys(ctx: JobContext, _: dict[str, Any]) -> None:
    await remind_expiring_keys(ctx.session)


async def _remind_replication_evaluations(ctx: JobContext, _: dict[str, Any]) -> None:
    await remind_evaluations(ctx.session)


SYNC_COMPACT = register(JobKind("sync.compact", _sync_compact, timeout_seconds=3600))
IDEMPOTENCY_EXPIRE = register(JobKind("idempotency.expire", _idempotency_expire))
JOBS_PRUNE = register(JobKind("jobs.prune", _jobs_prune))
CLOSE_REGISTRATION = register(JobKind("competitions.close-registration", _close_registrations))
DOCUMENTS_SWEEP = register(JobKind("documents.sweep", _documents_sweep))

schedule(Schedule("sync-compact", SYNC_COMPACT.name, timedelta(days=1), timedelta(hours=2)))
schedule(
    Schedule(
        "idempotency-expiry", IDEMPOTENCY_EXPIRE.name, timedelta(hours=1), timedelta(minutes=5)
    )
)
schedule(Schedule("jobs-prune", JOBS_PRUNE.name, timedelta(days=1), timedelta(hours=3)))
schedule(Schedule("registration-deadline", CLOSE_REGISTRATION.name, timedelta(minutes=5)))
schedule(
    Schedule("documents-sweep", DOCUMENTS_SWEEP.name, timedelta(hours=1), timedelta(minutes=15))
)

REMIND_ROUND_CLOSING = register(JobKind("reminders.round-closing", _remind_round_closing))
REMIND_APPROVALS = register(JobKind("reminders.approvals", _remind_approvals))
REMIND_API_KEYS = register(JobKind("reminders.api-keys", _remind_api_keys))
REMIND_REPLICATION_EVALUATIONS = register(
    JobKind("reminders.replication-evaluations", _remind_replication_evaluations)
)
schedule(
    Schedule(
        "round-closing-reminders",
        REMIND_ROUND_CLOSING.name,
        timedelta(hours=1),
        timedelta(minutes=10),
    )
)
schedule(
    Schedule("approval-reminders", REMIND_APPROVALS.name, timedelta(hours=1), timedelta(minutes=20))
)
schedule(Schedule("api-key-reminders", REMIND_API_KEYS.name, timedelta(days=1), timedelta(hours=8)))
schedule(
    Schedule(
        "replication-evaluation-reminders",
        REMIND_REPLICATION_EVALUATIONS.name,
        timedelta(days=1),
        timedelta(hours=8),
    )
)
