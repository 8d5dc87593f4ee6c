"""The worker's side of webhooks: what becomes a delivery, and how it goes out.

- Workflow events: `notifications.dispatch` calls `on_event` (a `dispatch.HOOKS` hook) in its
  transaction, so an event's deliveries are written exactly when the event is.
- Record changes: `webhooks.feed` (every 10 s) reads the sync change log from its cursor,
  only below the reading snapshot's xmin as `GET /v1/sync/changes` does (docs/sync.md), so a
  change whose transaction commits late is read on a later run, never skipped; the deliveries
  and the cursor's move commit together.
- `webhooks.deliver` sends one endpoint's pending deliveries, oldest first, one at a time: a
  later delivery waits while an earlier one is retried, so an endpoint gets its events in order.

A delivery is signed per Standard Webhooks 1.0; only a 2xx is success (a redirect is a failure,
not followed); 410 disables the endpoint; 429, 502 and 504 wait at least their `Retry-After`;
an attempt lasts at most WEBHOOKS_TIMEOUT_SECONDS; retries after 5 s, 5 min, 30 min, 2 h, 5 h,
10 h, 14 h, 20 h and 24 h (+0-10% jitter); a delivery failing its tenth attempt disables the
endpoint, and its owner is told (`webhook.disabled`, email and in-app).

The receivers are called with no transaction id held (reads and an advisory lock only), and the
attempts are written after them: a worker that dies mid-run leaves its deliveries pending, and
the job (its lease lapsed) sends them again with the same `webhook-id`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import random
import ssl
import time
import uuid
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from app.core import dates
from app.core.config import Settings
from app.domains.audit import service as audit
from app.domains.jobs.kinds import JobContext, JobKind, register
from app.domains.jobs.schedules import Schedule, schedule
from app.domains.jobs.service import enqueue
from app.domains.notifications import audience, dispatch, events
from app.domains.webhooks import signing, targets
from app.domains.webhooks.repository import DeliveryRepository, FeedRepository, WebhookRepository
from app.models.notifications import NotificationEvent
from app.models.webhooks import Webhook, WebhookAttempt, WebhookDelivery

DELIVER = "webhooks.deliver"
FEED = "webhooks.feed"
DISABLED_KIND = "webhook.disabled"

# Seconds before attempt n + 1 after attempt n failed (Standard Webhooks' schedule, ~3 days).
RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
RETRY_AFTER_STATUSES = frozenset({429, 502, 504})
MAX_RETRY_AFTER_SECONDS = 86400
BODY_CHARS = 2048
# A run delivers at most this many of an endpoint's deliveries, for about this long; then it
# queues the next run (other endpoints get their turn).
RUN_DELIVERIES = 50
RUN_SECONDS = 10.0
FEED_PAGE = 1000
FEED_EVERY = timedelta(seconds=10)
USER_AGENT = "Inovasi-Webhooks/1.0"


def retry_delay(attempt: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt after attempt `attempt` failed: the schedule's, plus up
    to 10% jitter, and never less than the receiver's Retry-After."""
    base = RETRY_SCHEDULE[min(attempt, len(RETRY_SCHEDULE)) - 1]
    delay = base * (1 + random.uniform(0, 0.1))  # noqa: S311 - jitter, not a secret
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
    return delay


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now).total_seconds(), 0.0)


# --- what becomes a delivery ------------------------------------------------------------------


def _event_payload(settings: Settings, event: NotificationEvent) -> dict[str, Any]:
    return {
        "type": event.kind,
        "timestamp": dates.jsonable(event.occurred_at),
        "data": {
            "subject_type": event.subject_type,
            "subject_id": str(event.subject_id),
            "institution_id": str(event.institution_id) if event.institution_id else None,
            "link": dispatch.link_of(settings, event.kind, event.subject_id),
        },
    }


async def _institution_told(
    repo: WebhookRepository, event: NotificationEvent, institution_id: uuid.UUID
) -> bool:
    """Whether the event's audience names the institution's people by their institution's
    scope (its local admins, or operators of one of its units): an institution's endpoint is
    told only what its institution is told. An event for one person (an evaluator's
    assignment, an account's password) is not the institution's."""
    units: list[uuid.UUID] = []
    for part in event.audience:
        if part.get("role") == "local_admin" and part.get("institution") == str(institution_id):
            return True
        if part.get("role") == "unit_operator" and part.get("unit"):
            units.append(uuid.UUID(part["unit"]))
    return await repo.units_of(units, institution_id)


async def on_event(ctx: JobContext, event: NotificationEvent) -> None:
    """A workflow event's deliveries: to each active endpoint subscribed to its kind whose
    scope it is in (every event for an endpoint of no institution, the secretariat's; an
    institution's event its institution is told of for the institution's endpoints)."""
    repo = WebhookRepository(ctx.session)
    endpoints = await repo.subscribed(event.kind)
    if not endpoints:
        return
    told: dict[uuid.UUID, bool] = {}
    chosen = []
    for webhook in endpoints:
        if webhook.institution_id is None:
            chosen.append(webhook)
        elif event.institution_id is not None and webhook.institution_id == event.institution_id:
            if webhook.institution_id not in told:
                told[webhook.institution_id] = await _institution_told(
                    repo, event, webhook.institution_id
                )
            if told[webhook.institution_id]:
                chosen.append(webhook)
    payload = _event_payload(ctx.settings, event)
    rows = [
        {
            "id": uuid.uuid4(),
            "webhook_id": webhook.id,
            "message_id": f"evt_{event.id}",
            "event_type": event.kind,
            "payload": payload,
        }
        for webhook in chosen
    ]
    for webhook_id in await DeliveryRepository(ctx.session).add_many(rows):
        await queue_run(ctx, webhook_id)


async def queue_run(
    ctx: JobContext | Any, webhook_id: uuid.UUID, at: datetime | None = None
) -> None:
    session = ctx.session if isinstance(ctx, JobContext) else ctx
    await enqueue(session, DELIVER, {"webhook_id": str(webhook_id)}, run_at=at)


async def feed(ctx: JobContext, _: dict[str, Any]) -> None:
    """Turn the record changes after the cursor into deliveries and move the cursor (runs are
    one at a time: the cursor row is locked)."""
    repo = FeedRepository(ctx.session)
    after = await repo.cursor_for_update()
    read = await repo.read(after, FEED_PAGE)
    if read.last is not None:
        for webhook_id in await repo.deliveries_for(after, read.last):
            await queue_run(ctx, webhook_id)
    # Past the changes read; at the end, up to the horizon (every transaction below the
    # snapshot's xmin has ended: nothing can appear before it later).
    moved = read.last or after
    if read.count < FEED_PAGE:
        moved = max(moved, (read.safe_below - 1, 2**63 - 1))
    else:
        await enqueue(ctx.session, FEED)  # more to read: at once
    if moved != after:
        await repo.move(*moved)


# --- delivering -------------------------------------------------------------------------------


@dataclass
class Outcome:
    attempted_at: datetime
    status_code: int | None
    duration_ms: int
    body: str | None
    error: str | None
    retry_after: float | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _body(delivery: WebhookDelivery) -> str:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)


def _secrets(settings: Settings, webhook: Webhook, now: datetime) -> list[str]:
    found = [signing.decrypt(settings.secret_key, webhook.secret_encrypted)]
    if (
        webhook.previous_secret_encrypted is not None
        and webhook.previous_secret_expires_at is not None
        and webhook.previous_secret_expires_at > now
    ):
        found.append(signing.decrypt(settings.secret_key, webhook.previous_secret_encrypted))
    return found


async def send(
    client: httpx.AsyncClient, settings: Settings, webhook: Webhook, delivery: WebhookDelivery
) -> Outcome:
    """One attempt: resolve and check the target, sign, POST, read the first 2 kB."""
    started = dates.now()
    clock = time.monotonic()
    status: int | None = None
    text: str | None = None
    error: str | None = None
    retry_after: float | None = None
    try:
        target = await targets.resolve(webhook.url, settings)
        body = _body(delivery)
        headers = {
            "host": target.host_header,
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            # The answer is read raw, its first 2 kB only: nothing to decompress (a small
            # compressed answer could expand to a large one).
            "accept-encoding": "identity",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(started.timestamp())),
            "webhook-signature": signing.signature(
                _secrets(settings, webhook, started), delivery.message_id, started, body
            ),
        }
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        async with asyncio.timeout(settings.webhooks_timeout_seconds):
            async with client.stream(
                "POST",
                target.connect_url,
                content=body.encode(),
                headers=headers,
                extensions=extensions,
            ) as response:
                status = response.status_code
                received = b""
                async for chunk in response.aiter_raw():
                    received += chunk
                    if len(received) >= BODY_CHARS:
                        break
                text = received[:BODY_CHARS].decode("utf-8", "replace")
                if 300 <= status < 400:
                    error = (
                        f"a redirect ({status} to {response.headers.get('location', '?')}) is "
                        "a failure and is not followed"
                    )
                elif status in RETRY_AFTER_STATUSES:
                    retry_after = parse_retry_after(response.headers.get("retry-after"), started)
    except targets.TargetRefused as exc:
        error = f"{exc.code}: {exc.message}"
    except signing.SecretUnreadable:
        error = (
            "webhook.secret_unreadable: the stored secret does not decrypt under this "
            "SECRET_KEY; rotate the secret"
        )
    except TimeoutError:
        error = f"timeout: no complete answer within {settings.webhooks_timeout_seconds:g} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return Outcome(
        attempted_at=started,
        status_code=status,
        duration_ms=int((time.monotonic() - clock) * 1000),
        body=text,
        error=error[:2000] if error else None,
        retry_after=retry_after,
    )


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context per process: building one (loading the CA bundle) costs tens of ms."""
    return ssl.create_default_context()


def client(settings: Settings) -> httpx.AsyncClient:
    # No proxy from the environment (the target is checked, not a proxy), no redirects.
    return httpx.AsyncClient(
        trust_env=False,
        follow_redirects=False,
        verify=_tls(),
        timeout=httpx.Timeout(settings.webhooks_timeout_seconds),
    )


# Each endpoint has a client of its own in each event loop (a worker's), kept for its next run
# so its connection is reused (a new connection cost about as much as the request itself in
# bench/webhooks.py). One client per endpoint, never shared: its pool is keyed by the address
# connected to, and two names on one address each need their own TLS session. At most
# KEEP_CLIENTS are kept, the least recently used closed first.
KEEP_CLIENTS = 256
_CLIENTS: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, OrderedDict[uuid.UUID, tuple[tuple[str, float], httpx.AsyncClient]]
] = weakref.WeakKeyDictionary()
_CLOSING: set[asyncio.Task[None]] = set()


def _close_later(old: httpx.AsyncClient) -> None:
    task = asyncio.get_running_loop().create_task(old.aclose())
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


def client_of(settings: Settings, webhook: Webhook) -> httpx.AsyncClient:
    """The endpoint's client in this event loop (a new one when its URL changed)."""
    clients = _CLIENTS.setdefault(asyncio.get_running_loop(), OrderedDict())
    key = (webhook.url, settings.webhooks_timeout_seconds)
    found = clients.get(webhook.id)
    if found is not None and found[0] == key and not found[1].is_closed:
        clients.move_to_end(webhook.id)
        return found[1]
    if found is not None:
        _close_later(found[1])
    made = clients[webhook.id] = (key, client(settings))
    while len(clients) > KEEP_CLIENTS:
        _, (_, old) = clients.popitem(last=False)
        _close_later(old)
    return made[1]


def owner_audience(webhook: Webhook) -> list[dict[str, str]]:
    """Who hears that the endpoint stopped: its person, or for a key the local admins of its
    institution (the secretariat for a key of no institution)."""
    if webhook.owner_user_id is not None:
        return [audience.person(webhook.owner_user_id)]
    if webhook.institution_id is not None:
        return [audience.local_admins(webhook.institution_id)]
    return [audience.secretariat()]


async def disable(ctx: JobContext | Any, webhook: Webhook, reason: str) -> None:
    """Stop the endpoint (its pending deliveries wait for it to be enabled again) and tell its
    owner."""
    session = ctx.session if isinstance(ctx, JobContext) else ctx
    before = {"status": webhook.status, "disabled_reason": webhook.disabled_reason}
    webhook.status = "disabled"
    webhook.disabled_reason = reason
    webhook.disabled_at = dates.now()
    await session.flush()
    await audit.record(
        session,
        None,
        "disable",
        "webhook",
        webhook.id,
        institution_id=webhook.institution_id,
        before=before,
        after={"status": webhook.status, "disabled_reason": reason},
    )
    await events.emit(
        session,
        DISABLED_KIND,
        "webhook",
        webhook.id,
        audience=owner_audience(webhook),
        institution_id=webhook.institution_id,
        data={"url": webhook.url, "reason": reason},
    )


async def deliver(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Send the endpoint's due pending deliveries, oldest first, stopping at the first failure
    (it is retried before anything later goes)."""
    session = ctx.session
    settings = ctx.settings
    webhook_id = uuid.UUID(payload["webhook_id"])
    deliveries = DeliveryRepository(session)
    await deliveries.serialise(webhook_id)
    repo = WebhookRepository(session)
    webhook = await repo.get(webhook_id)
    if webhook is None or webhook.status != "active":
        return
    if not await repo.owner_active(webhook):
        await disable(ctx, webhook, "owner_revoked")
        return
    queue = await deliveries.pending(webhook_id, RUN_DELIVERIES)
    results: list[tuple[WebhookDelivery, Outcome]] = []
    deadline = time.monotonic() + RUN_SECONDS
    http = client_of(settings, webhook)
    for delivery, due in queue:
        if not due:
            break  # the oldest waits for its retry, queued for then
        outcome = await send(http, settings, webhook, delivery)
        results.append((delivery, outcome))
        if not outcome.succeeded or time.monotonic() > deadline:
            break
    # Written after every receiver answered: no transaction id was held while waiting.
    for delivery, outcome in results:
        delivery.attempts += 1
        delivery.last_attempt_at = outcome.attempted_at
        deliveries.add_attempt(
            WebhookAttempt(
                delivery_id=delivery.id,
                attempt=delivery.attempts,
                attempted_at=outcome.attempted_at,
                status_code=outcome.status_code,
                duration_ms=outcome.duration_ms,
                response_body=outcome.body,
                error=outcome.error,
                succeeded=outcome.succeeded,
            )
        )
        if outcome.succeeded:
            delivery.status = "succeeded"
            delivery.finished_at = dates.now()
    await session.flush()
    if not results:
        return
    last, outcome = results[-1]
    if outcome.succeeded:
        if len(queue) > len(results):
            await queue_run(ctx, webhook_id)  # more are pending: another turn
        return
    if outcome.status_code == 410:
        last.status = "failed"
        last.finished_at = dates.now()
        await disable(ctx, webhook, "gone")
    elif last.attempts >= MAX_ATTEMPTS:
        last.status = "failed"
        last.finished_at = dates.now()
        await disable(ctx, webhook, "failing")
    else:
        at = dates.now() + timedelta(seconds=retry_delay(last.attempts, outcome.retry_after))
        last.next_attempt_at = at
        await queue_run(ctx, webhook_id, at)
    await session.flush()


dispatch.HOOKS.append(on_event)
DELIVER_KIND = register(JobKind(DELIVER, deliver, max_attempts=5, timeout_seconds=120))
FEED_KIND = register(JobKind(FEED, feed, timeout_seconds=300))
schedule(Schedule("webhooks-feed", FEED, FEED_EVERY))
