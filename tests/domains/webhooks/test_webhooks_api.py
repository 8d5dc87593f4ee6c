"""/v1/webhooks: a secret shown once and kept encrypted, never in the audit trail; event
types checked; each owner's reach; If-Match on writes; URLs checked for SSRF when written."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.domains.webhooks import signing
from app.models.audit import AuditEvent
from app.models.enums import Role
from app.models.webhooks import Webhook
from tests.conftest import AppFactory, InstitutionFactory, KeyFactory, client_for
from tests.domains import assert_problem

URL = "https://sipinter.medan.go.id/hooks/inovasi"


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> httpx.Response:
    body.setdefault("url", URL)
    body.setdefault("event_types", ["record.innovations", "submission.returned"])
    return await client.post("/v1/webhooks", json=body, headers=headers)


async def test_the_secret_is_shown_once_and_kept_encrypted(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    auth: KeyFactory,
    make_institution: InstitutionFactory,
) -> None:
    a = await make_institution()
    key = await auth(Role.regional_system, institution_id=a.id)
    response = await _create(client, key, description="SIPINTER")
    assert response.status_code == 201, response.text
    shown = response.json()
    secret = shown["secret"]
    assert secret.startswith("whsec_")
    assert response.headers["Location"] == f"/v1/webhooks/{shown['id']}"
    assert response.headers["ETag"] == '"1"'
    assert shown["institution_id"] == str(a.id)
    assert shown["status"] == "active"
    got = await client.get(f"/v1/webhooks/{shown['id']}", headers=key)
    assert got.status_code == 200
    assert "secret" not in got.json()
    assert secret not in got.text
    row = await session.get(Webhook, uuid.UUID(shown["id"]))
    assert row is not None
    assert secret not in row.secret_encrypted
    assert signing.decrypt(settings.secret_key, row.secret_encrypted) == secret
    events = await session.scalars(select(AuditEvent).where(AuditEvent.entity_id == shown["id"]))
    trail = [str(event.changes) for event in events]
    assert len(trail) == 1
    assert secret not in trail[0]
    assert row.secret_encrypted not in trail[0]
    assert "secret_encrypted" not in trail[0]


async def test_unknown_event_types_are_422_with_a_pointer(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await _create(client, admin, event_types=["record.innovations", "record.nothing"])
    body = assert_problem(response, 422, "webhook.unknown_event_type")
    assert [e["pointer"] for e in body["errors"]] == ["/event_types/1"]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.org/hook", "webhook.invalid_url"),
        ("https://user:pass@example.org/hook", "webhook.invalid_url"),
        ("/relative", "webhook.invalid_url"),
        ("https://example.org:99999/", "webhook.invalid_url"),
    ],
)
async def test_a_url_that_is_no_target_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], url: str, code: str
) -> None:
    assert_problem(await _create(client, admin, url=url), 422, code, pointer="/url")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:192.168.0.1]/hook",
        "https://100.64.0.1/hook",
        "https://localhost/hook",
        "https://224.0.0.1/hook",
    ],
)
async def test_a_private_literal_target_is_refused_when_they_are_not_allowed(
    make_app: AppFactory, admin: dict[str, str], url: str
) -> None:
    async with client_for(make_app(webhooks_allow_private_targets=False)) as strict:
        response = await _create(strict, admin, url=url)
        assert_problem(response, 422, "webhook.target_not_public", pointer="/url")
        assert (await _create(strict, admin, url=URL)).status_code == 201


async def test_production_requires_https_and_refuses_private_targets(
    make_app: AppFactory, admin: dict[str, str]
) -> None:
    app = make_app(environment="production", secret_key="s" * 48)
    async with client_for(app) as production:
        assert_problem(
            await _create(production, admin, url="http://example.org/hook"),
            422,
            "webhook.https_required",
        )
        assert_problem(
            await _create(production, admin, url="https://192.168.1.10/hook"),
            422,
            "webhook.target_not_public",
        )


async def test_a_webhook_is_reached_by_its_key_and_its_institutions_admins_only(
    client: httpx.AsyncClient, auth: KeyFactory, make_institution: InstitutionFactory
) -> None:
    a = await make_institution()
    b = await make_institution()
    owner = await auth(Role.regional_system, institution_id=a.id)
    other_key = await auth(Role.regional_system, institution_id=a.id)
    admin_a = await auth(Role.local_admin, institution_id=a.id)
    admin_b = await auth(Role.local_admin, institution_id=b.id)
    secretariat = await auth(Role.secretariat_admin)
    created = (await _create(client, owner)).json()
    path = f"/v1/webhooks/{created['id']}"
    for headers in (owner, admin_a, secretariat):
        assert (await client.get(path, headers=headers)).status_code == 200
    for headers in (other_key, admin_b):
        assert_problem(await client.get(path, headers=headers), 404, "webhook.not_found")
        listed = await client.get("/v1/webhooks", headers=headers)
        assert created["id"] not in {item["id"] for item in listed.json()["items"]}
    operator = await auth(Role.evaluator)
    assert_problem(await client.get(path, headers=operator), 403, "auth.role_forbidden")


async def test_the_secretariat_may_subscribe_to_every_institution(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await _create(client, admin)
    assert response.status_code == 201, response.text
    assert response.json()["institution_id"] is None


async def test_writes_need_the_current_version(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    created = (await _create(client, admin)).json()
    path = f"/v1/webhooks/{created['id']}"
    assert_problem(
        await client.patch(path, json={"status": "disabled"}, headers=admin),
        428,
        "precondition_required",
    )
    assert_problem(
        await client.patch(path, json={"status": "disabled"}, headers={**admin, "If-Match": '"7"'}),
        412,
        "webhook.version_mismatch",
    )
    changed = await client.patch(
        path,
        json={"status": "disabled", "event_types": ["record.units"]},
        headers={**admin, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["status"] == "disabled"
    assert body["disabled_reason"].startswith("disabled by ")
    assert body["event_types"] == ["record.units"]
    assert changed.headers["ETag"] == '"2"'
    assert_problem(
        await client.patch(path, json={"url": None}, headers={**admin, "If-Match": '"2"'}),
        422,
        "webhook.url_required",
    )
    assert_problem(await client.delete(path, headers=admin), 428, "precondition_required")
    gone = await client.delete(path, headers={**admin, "If-Match": '"2"'})
    assert gone.status_code == 204
    assert_problem(await client.get(path, headers=admin), 404, "webhook.not_found")
