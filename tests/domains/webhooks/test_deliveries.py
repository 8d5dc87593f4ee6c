"""Deliveries to a real HTTP receiver, run as the worker runs them (in the test's transaction):
signed per Standard Webhooks (verified with the `standardwebhooks` package), only a 2xx is
success, retries on the schedule (Retry-After honoured), redirects not followed, 410 and
failing throughout disable the endpoint and tell its owner, an endpoint's events go out in
order, scope is the owner's, record changes come from the sync log, SSRF refused after DNS."""

from __future__ import annotations

import ipaddress
import socket
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import WebhookVerificationError

from app.core.config import Settings
from app.domains.jobs.service import enqueue
from app.domains.notifications import audience, events, kinds
from app.domains.webhooks import delivery, targets
from app.models.enums import InnovationStatus, Role
from app.models.institutions import Institution, Unit
from app.models.notifications import Notification
from app.models.webhooks import Webhook, WebhookAttempt, WebhookDelivery
from tests.conftest import (
    InnovationFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
    UserFactory,
)
from tests.domains import assert_problem
from tests.domains.webhooks.receiver import Receiver, Reply
from tests.fixtures.outbox import run_queued

KINDS = ("notifications.dispatch", "email.send", delivery.DELIVER, delivery.FEED)


@dataclass
class Endpoint:
    id: uuid.UUID
    path: str
    secret: str
    headers: dict[str, str]


@dataclass
class World:
    session: AsyncSession
    client: httpx.AsyncClient
    settings: Settings
    receiver: Receiver
    a: Institution
    b: Institution
    unit_a: Unit
    key_a: dict[str, str]
    key_b: dict[str, str]
    secretariat: dict[str, str]

    async def endpoint(
        self, types: list[str], headers: dict[str, str] | None = None, **body: Any
    ) -> Endpoint:
        path = f"/hook/{uuid.uuid4().hex[:10]}"
        headers = headers or self.key_a
        response = await self.client.post(
            "/v1/webhooks",
            json={"url": self.receiver.url(path), "event_types": types, **body},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        shown = response.json()
        return Endpoint(uuid.UUID(shown["id"]), path, shown["secret"], headers)

    async def event(
        self,
        kind: str = "submission.submitted",
        *,
        institution: Institution | None = None,
        parts: list[dict[str, str]] | None = None,
    ) -> uuid.UUID:
        institution = institution or self.a
        spec = kinds.get(kind)
        return await events.emit(
            self.session,
            kind,
            "submission",
            uuid.uuid4(),
            audience=parts if parts is not None else [audience.local_admins(institution.id)],
            institution_id=institution.id,
            data=dict.fromkeys(spec.fields, "x"),
            refs=dict.fromkeys(spec.refs),
        )

    async def run(self, settings: Settings | None = None) -> None:
        await run_queued(self.session, settings or self.settings, KINDS)

    async def run_feed(self) -> None:
        """The record-change feed's job, then what it queued."""
        await enqueue(self.session, delivery.FEED)
        await self.run()

    async def deliveries(self, endpoint: Endpoint) -> list[WebhookDelivery]:
        rows = await self.session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == endpoint.id)
            .order_by(WebhookDelivery.seq)
            .execution_options(populate_existing=True)
        )
        return list(rows)

    async def attempts(self, found: WebhookDelivery) -> list[WebhookAttempt]:
        rows = await self.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == found.id)
            .order_by(WebhookAttempt.attempt)
        )
        return list(rows)

    async def webhook(self, endpoint: Endpoint) -> Webhook:
        found = await self.session.get(Webhook, endpoint.id, populate_existing=True)
        assert found is not None
        return found

    async def due_now(self, endpoint: Endpoint) -> None:
        """Time passes: the endpoint's pending deliveries are due, and a run is queued."""
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == endpoint.id)
            .values(next_attempt_at=text("now() - interval '1 second'"))
        )
        await delivery.queue_run(self.session, endpoint.id)


@pytest.fixture
async def w(
    session: AsyncSession,
    client: httpx.AsyncClient,
    settings: Settings,
    receiver: Receiver,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    auth: KeyFactory,
) -> World:
    a = await make_institution("Pemerintah Kota Medan")
    b = await make_institution("Pemerintah Kota Malang")
    return World(
        session=session,
        client=client,
        settings=settings,
        receiver=receiver,
        a=a,
        b=b,
        unit_a=await make_unit(a),
        key_a=await auth(Role.regional_system, institution_id=a.id),
        key_b=await auth(Role.regional_system, institution_id=b.id),
        secretariat=await auth(Role.secretariat_admin),
    )


# --- signing and success -------------------------------------------------------------------


async def test_an_event_is_delivered_signed_with_a_small_payload(w: World) -> None:
    hook = await w.endpoint(["submission.submitted"])
    w.receiver.script(hook.path, Reply(200, body=b"x" * 5000))
    event_id = await w.event()
    await w.run()
    [received] = w.receiver.at(hook.path)
    payload = received.verify(hook.secret)
    assert payload["type"] == "submission.submitted"
    assert payload["data"]["institution_id"] == str(w.a.id)
    assert payload["data"]["subject_type"] == "submission"
    assert set(payload["data"]) == {"subject_type", "subject_id", "institution_id", "link"}
    assert payload["timestamp"].endswith("Z")
    assert received.message_id == f"evt_{event_id}"
    assert received.headers["content-type"] == "application/json"
    assert received.headers["host"] == f"127.0.0.1:{w.receiver.port}"
    with pytest.raises(WebhookVerificationError):
        received.verify("whsec_" + "QUJD" * 8)
    [found] = await w.deliveries(hook)
    assert found.status == "succeeded"
    [attempt] = await w.attempts(found)
    assert attempt.status_code == 200
    assert attempt.succeeded
    assert attempt.response_body == "x" * 2048


# --- failures and retries ------------------------------------------------------------------


async def test_a_5xx_is_retried_after_the_schedule_with_the_same_webhook_id(w: World) -> None:
    hook = await w.endpoint(["submission.submitted"])
    w.receiver.script(hook.path, Reply(500, body=b"sorry"))
    await w.event()
    await w.run()
    [found] = await w.deliveries(hook)
    assert found.status == "pending"
    assert found.attempts == 1
    [attempt] = await w.attempts(found)
    assert (attempt.status_code, attempt.succeeded, attempt.response_body) == (500, False, "sorry")
    wait = (found.next_attempt_at - attempt.attempted_at).total_seconds()
    assert 5 <= wait <= 5.5 + 1
    await w.due_now(hook)
    await w.run()
    first, second = w.receiver.at(hook.path)
    assert first.message_id == second.message_id
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"] or (
        first.headers["webhook-timestamp"] == second.headers["webhook-timestamp"]
    )
    second.verify(hook.secret)
    [found] = await w.deliveries(hook)
    assert (found.status, found.attempts) == ("succeeded", 2)


@pytest.mark.parametrize("status", [429, 502, 504])
async def test_429_502_and_504_wait_at_least_their_retry_after(w: World, status: int) -> None:
    hook = await w.endpoint(["submission.submitted"])
    w.receiver.script(hook.path, Reply(status, headers={"Retry-After": "120"}))
    await w.event()
    await w.run()
    [found] = await w.deliveries(hook)
    [attempt] = await w.attempts(found)
    assert found.status == "pending"
    assert (found.next_attempt_at - attempt.attempted_at).total_seconds() >= 120


async def test_a_redirect_is_a_failure_and_is_not_followed(w: World) -> None:
    hook = await w.endpoint(["submission.submitted"])
    elsewhere = f"/elsewhere/{uuid.uuid4().hex}"
    w.receiver.script(hook.path, Reply(307, headers={"Location": w.receiver.url(elsewhere)}))
    await w.event()
    await w.run()
    assert w.receiver.at(elsewhere) == []
    [found] = await w.deliveries(hook)
    [attempt] = await w.attempts(found)
    assert found.status == "pending"
    assert attempt.status_code == 307
    assert not attempt.succeeded
    assert attempt.error is not None
    assert "redirect" in attempt.error


async def test_410_disables_the_endpoint_at_once_and_tells_its_owner(
    w: World, make_user: UserFactory
) -> None:
    admin = await make_user(Role.local_admin, institution_id=w.a.id, language="en")
    hook = await w.endpoint(["submission.submitted"])
    w.receiver.script(hook.path, Reply(410))
    await w.event()
    await w.event()
    await w.run()
    assert len(w.receiver.at(hook.path)) == 1
    webhook = await w.webhook(hook)
    assert (webhook.status, webhook.disabled_reason) == ("disabled", "gone")
    first, second = await w.deliveries(hook)
    assert (first.status, second.status) == ("failed", "pending")
    [note] = await w.session.scalars(
        select(Notification).where(
            Notification.user_id == admin.id, Notification.kind == "webhook.disabled"
        )
    )
    assert note.kind == "webhook.disabled"
    assert "410" in note.body
    # enabled again, the waiting event goes out
    response = await w.client.patch(
        f"/v1/webhooks/{hook.id}",
        json={"status": "active"},
        headers={**hook.headers, "If-Match": f'"{webhook.version}"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["disabled_reason"] is None
    await w.run()
    assert len(w.receiver.at(hook.path)) == 2
    assert [d.status for d in await w.deliveries(hook)] == ["failed", "succeeded"]


async def test_an_endpoint_failing_every_attempt_is_disabled(
    w: World, make_user: UserFactory
) -> None:
    admin = await make_user(Role.local_admin, institution_id=w.a.id)
    hook = await w.endpoint(["submission.submitted"])
    await w.event()
    w.receiver.script(hook.path, *[Reply(503)] * delivery.MAX_ATTEMPTS)
    for _ in range(delivery.MAX_ATTEMPTS):
        await w.due_now(hook)
        await w.run()
    assert len(w.receiver.at(hook.path)) == delivery.MAX_ATTEMPTS
    [found] = await w.deliveries(hook)
    assert (found.status, found.attempts) == ("failed", delivery.MAX_ATTEMPTS)
    assert len(await w.attempts(found)) == delivery.MAX_ATTEMPTS
    webhook = await w.webhook(hook)
    assert (webhook.status, webhook.disabled_reason) == ("disabled", "failing")
    [note] = await w.session.scalars(
        select(Notification).where(
            Notification.user_id == admin.id, Notification.kind == "webhook.disabled"
        )
    )
    assert note.kind == "webhook.disabled"


def test_the_retry_schedule_spans_about_three_days_with_jitter() -> None:
    assert delivery.RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
    for attempt, base in enumerate(delivery.RETRY_SCHEDULE, start=1):
        delays = {delivery.retry_delay(attempt) for _ in range(20)}
        assert all(base <= d <= base * 1.1 for d in delays)
        assert len(delays) > 1
    assert delivery.retry_delay(1, retry_after=600) == 600
    assert delivery.retry_delay(1, retry_after=10**9) == delivery.MAX_RETRY_AFTER_SECONDS


async def test_a_later_event_waits_while_an_earlier_one_is_retried(w: World) -> None:
    hook = await w.endpoint(["submission.submitted"])
    w.receiver.script(hook.path, Reply(500))
    first = await w.event()
    await w.run()
    second = await w.event()
    await w.run()
    assert [r.message_id for r in w.receiver.at(hook.path)] == [f"evt_{first}"]
    await w.due_now(hook)
    await w.run()
    assert [r.message_id for r in w.receiver.at(hook.path)] == [
        f"evt_{first}",
        f"evt_{first}",
        f"evt_{second}",
    ]


# --- scope ---------------------------------------------------------------------------------


async def test_an_endpoint_receives_only_what_its_institution_is_told(w: World) -> None:
    ours = await w.endpoint(["submission.submitted", "assignment.created"])
    theirs = await w.endpoint(["submission.submitted"], w.key_b)
    everything = await w.endpoint(["submission.submitted", "assignment.created"], w.secretariat)
    told = await w.event()
    # an evaluator's assignment names a person, not the institution: not the institution's
    personal = await w.event("assignment.created", parts=[audience.person(uuid.uuid4())])
    await w.run()
    assert [r.message_id for r in w.receiver.at(ours.path)] == [f"evt_{told}"]
    assert w.receiver.at(theirs.path) == []
    assert sorted(r.message_id for r in w.receiver.at(everything.path)) == sorted(
        [f"evt_{told}", f"evt_{personal}"]
    )


async def test_an_event_told_to_a_unit_of_the_institution_is_the_institutions(w: World) -> None:
    ours = await w.endpoint(["submission.submitted"])
    told = await w.event(parts=[audience.unit_operators(w.unit_a.id)])
    await w.run()
    assert [r.message_id for r in w.receiver.at(ours.path)] == [f"evt_{told}"]


async def test_a_creation_outside_the_callers_institution_is_refused(w: World) -> None:
    response = await w.client.post(
        "/v1/webhooks",
        json={
            "url": w.receiver.url("/x"),
            "event_types": ["record.units"],
            "institution_id": str(w.b.id),
        },
        headers=w.key_a,
    )
    assert_problem(response, 403, "webhook.out_of_scope")


# --- record changes --------------------------------------------------------------------------


async def test_record_changes_become_deliveries_in_the_owners_scope(
    w: World, make_innovation: InnovationFactory
) -> None:
    ours = await w.endpoint(["record.innovations"])
    theirs = await w.endpoint(["record.innovations"], w.key_b)
    replications_only = await w.endpoint(["record.replications"], w.key_b)
    draft = await make_innovation(w.unit_a)
    published = await make_innovation(w.unit_a, status=InnovationStatus.published)
    await w.run_feed()
    shown = [r.verify(ours.secret) for r in w.receiver.at(ours.path)]
    assert [(p["data"]["subject_id"], p["data"]["operation"]) for p in shown] == [
        (str(draft.id), "upsert"),
        (str(published.id), "upsert"),
    ]
    assert shown[0]["type"] == "record.innovations"
    assert shown[0]["data"]["version"] == 1
    assert shown[0]["data"]["link"] == f"/v1/innovations/{draft.id}"
    assert shown[0]["data"]["institution_id"] == str(w.a.id)
    # another institution sees the public one only; an endpoint of other types nothing
    [public] = [r.verify(theirs.secret) for r in w.receiver.at(theirs.path)]
    assert public["data"]["subject_id"] == str(published.id)
    assert w.receiver.at(replications_only.path) == []
    # the feed's cursor moved: running it again delivers nothing twice
    await w.run_feed()
    assert len(w.receiver.at(ours.path)) == 2


# --- SSRF ------------------------------------------------------------------------------------


async def test_a_target_resolving_to_a_private_address_is_refused_at_delivery(w: World) -> None:
    # The machine's own name: not a literal address, so only DNS (here /etc/hosts) tells.
    name = socket.gethostname()
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        pytest.skip(f"this machine's name {name!r} does not resolve")
    if any(targets.is_public(ipaddress.ip_address(a)) for a in resolved):
        pytest.skip(f"{name!r} resolves to a public address here: {sorted(resolved)}")
    hook = await w.endpoint(["submission.submitted"])
    await w.session.execute(
        update(Webhook).where(Webhook.id == hook.id).values(url=w.receiver.url(hook.path, name))
    )
    await w.event()
    strict = w.settings.model_copy(update={"webhooks_allow_private_targets": False})
    await w.run(strict)
    assert w.receiver.at(hook.path) == []
    [found] = await w.deliveries(hook)
    [attempt] = await w.attempts(found)
    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("webhook.target_not_public")
    assert any(address in attempt.error for address in resolved)


# --- rotation --------------------------------------------------------------------------------


async def test_after_a_rotation_both_secrets_verify_until_the_overlap_ends(w: World) -> None:
    hook = await w.endpoint(["submission.submitted"])
    response = await w.client.post(
        f"/v1/webhooks/{hook.id}/rotate-secret",
        json={"previous_secret_valid_hours": 2},
        headers=hook.headers,
    )
    assert response.status_code == 200, response.text
    new_secret = response.json()["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != hook.secret
    await w.event()
    await w.run()
    [received] = w.receiver.at(hook.path)
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    received.verify(hook.secret)
    received.verify(new_secret)
    # the overlap ends: only the new secret signs
    await w.session.execute(
        update(Webhook)
        .where(Webhook.id == hook.id)
        .values(previous_secret_expires_at=text("now() - interval '1 second'"))
    )
    await w.event()
    await w.run()
    _, later = w.receiver.at(hook.path)
    later.verify(new_secret)
    with pytest.raises(WebhookVerificationError):
        later.verify(hook.secret)


# --- redelivery and owners ---------------------------------------------------------------------


async def test_a_redelivery_sends_the_same_webhook_id_again(w: World) -> None:
    hook = await w.endpoint(["submission.submitted"])
    await w.event()
    await w.run()
    [found] = await w.deliveries(hook)
    url = f"/v1/webhooks/{hook.id}/deliveries/{found.id}/redeliver"
    response = await w.client.post(url, headers=hook.headers)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "pending"
    assert_problem(await w.client.post(url, headers=hook.headers), 409, "webhook.delivery_pending")
    await w.run()
    first, again = w.receiver.at(hook.path)
    assert first.message_id == again.message_id
    listed = await w.client.get(f"/v1/webhooks/{hook.id}/deliveries", headers=hook.headers)
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert item["status"] == "succeeded"
    assert [a["status_code"] for a in item["attempt_log"]] == [204, 204]
    assert_problem(
        await w.client.post(
            f"/v1/webhooks/{hook.id}/deliveries/{uuid.uuid4()}/redeliver", headers=hook.headers
        ),
        404,
        "webhook.delivery_not_found",
    )


async def test_an_endpoint_whose_owner_key_was_revoked_stops(w: World) -> None:
    hook = await w.endpoint(["submission.submitted"])
    webhook = await w.webhook(hook)
    await w.session.execute(
        text("UPDATE api_keys SET revoked_at = now() WHERE id = :id"),
        {"id": webhook.owner_api_key_id},
    )
    await w.event()
    await w.run()
    assert w.receiver.at(hook.path) == []
    webhook = await w.webhook(hook)
    assert (webhook.status, webhook.disabled_reason) == ("disabled", "owner_revoked")
