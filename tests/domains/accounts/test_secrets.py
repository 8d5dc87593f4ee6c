"""Secrets stay secret: passwords, API key secrets and access tokens appear in no response body
(except the one response that hands each out), in no log line and in no audit event.

A journey through every account operation runs against the app with logging at DEBUG in JSON;
the tests then search what it produced for every secret the journey used.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.logging import configure_logging
from app.models.accounts import ApiKey, User
from app.models.institutions import Institution
from tests.fixtures.etag import if_match

FIRST_PASSWORD = "first-password-Xq7!kd93LmZ0"
SECOND_PASSWORD = "second-password-Rb4?pw61TnY8"
RESET_PASSWORD = "reset-password-Vf2#hs48QcW5"
REJECTED_PASSWORD = "rejected-password-Jm9$ua27EkP3"
WRONG_PASSWORD = "wrong-password-Gt6%ze15NbH4"
SECRET_KEY_NAMES = ("password_hash", "secret_hash")


class LogCapture:
    """Everything the app logs, as its own root handler renders it (JSON lines)."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    def text(self) -> str:
        return self.buffer.getvalue()


@pytest.fixture
def logs(app: FastAPI, settings: Settings) -> Iterator[LogCapture]:
    """The app's logging at its most talkative, its stdout handler writing into a buffer.

    Configured after the app (whose factory configures logging too); the handler and its
    formatter are the app's own, only the stream is swapped. Put back afterwards."""
    configure_logging("DEBUG", "json")
    (handler,) = logging.getLogger().handlers
    assert isinstance(handler, logging.StreamHandler)
    capture = LogCapture()
    handler.setStream(capture.buffer)
    yield capture
    configure_logging(settings.log_level, settings.log_format)


@dataclass
class Journey:
    """What the journey sent and got: every secret it used, and every response with the
    secrets that response may carry (its own token or key, nothing else)."""

    secrets: set[str] = field(default_factory=set)
    responses: list[tuple[httpx.Response, set[str]]] = field(default_factory=list)
    user_id: str = ""
    key_id: str = ""

    def keep(self, response: httpx.Response, *, may_show: str | None = None) -> httpx.Response:
        self.responses.append((response, {may_show} if may_show else set()))
        return response


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def _journey(
    client: httpx.AsyncClient, admin: dict[str, str], institution: Institution
) -> Journey:
    """Create, sign in, change passwords, issue, list and revoke keys, read the audit trail."""
    j = Journey()
    j.secrets |= {FIRST_PASSWORD, SECOND_PASSWORD, RESET_PASSWORD, REJECTED_PASSWORD}
    j.secrets.add(admin["Authorization"].removeprefix("Bearer "))
    email = f"admin.lokal.{uuid.uuid4().hex[:8]}@example.go.id"

    created = j.keep(
        await client.post(
            "/v1/users",
            json={
                "email": email,
                "name": "Admin Lokal",
                "role": "local_admin",
                "institution_id": str(institution.id),
                "password": FIRST_PASSWORD,
            },
            headers=admin,
        )
    )
    assert created.status_code == 201, created.text
    j.user_id = created.json()["id"]
    rejected = j.keep(
        await client.post(
            "/v1/users",
            json={
                "email": "not-an-email",
                "name": "X Y",
                "role": "evaluator",
                "password": REJECTED_PASSWORD,
            },
            headers=admin,
        )
    )
    assert rejected.status_code == 422

    signed_in = await client.post(
        "/v1/auth/token", json={"email": email, "password": FIRST_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    first_token = signed_in.json()["access_token"]
    j.keep(signed_in, may_show=first_token)
    form = await client.post(
        "/v1/auth/token",
        data={"username": email, "password": FIRST_PASSWORD, "grant_type": "password"},
    )
    assert form.status_code == 200, form.text
    j.keep(form, may_show=form.json()["access_token"])
    j.secrets |= {first_token, form.json()["access_token"]}

    assert j.keep(await client.get("/v1/me", headers=_bearer(first_token))).status_code == 200
    changed = j.keep(
        await client.put(
            "/v1/me/password",
            json={"current_password": FIRST_PASSWORD, "new_password": SECOND_PASSWORD},
            headers=_bearer(first_token),
        )
    )
    assert changed.status_code == 204, changed.text
    wrong_current = j.keep(
        await client.put(
            "/v1/me/password",
            json={"current_password": WRONG_PASSWORD, "new_password": REJECTED_PASSWORD},
            headers=_bearer(first_token),
        )
    )
    assert wrong_current.status_code == 401  # the token died with the old password
    second = await client.post("/v1/auth/token", json={"email": email, "password": SECOND_PASSWORD})
    assert second.status_code == 200, second.text
    token = second.json()["access_token"]
    j.keep(second, may_show=token)
    j.secrets.add(token)

    issued = await client.post(
        "/v1/api-keys",
        json={"name": "SIPINTER", "role": "regional_system", "institution_id": str(institution.id)},
        headers=_bearer(token),
    )
    assert issued.status_code == 201, issued.text
    j.keep(issued, may_show=issued.json()["secret"])
    j.secrets.add(issued.json()["secret"])
    j.key_id = issued.json()["id"]
    assert j.keep(await client.get("/v1/me", headers=_bearer(issued.json()["secret"]))).is_success

    for path in ("/v1/api-keys", f"/v1/api-keys/{j.key_id}", "/v1/users", f"/v1/users/{j.user_id}"):
        assert j.keep(await client.get(path, headers=_bearer(token))).status_code == 200
    assert j.keep(await client.get("/v1/users", params={"limit": 100}, headers=admin)).is_success
    reset = j.keep(
        await client.patch(
            f"/v1/users/{j.user_id}",
            json={"password": RESET_PASSWORD},
            headers=await if_match(client, f"/v1/users/{j.user_id}", admin),
        )
    )
    assert reset.status_code == 200, reset.text
    revoked = j.keep(await client.delete(f"/v1/api-keys/{j.key_id}", headers=admin))
    assert revoked.status_code == 204
    audit = j.keep(await client.get("/v1/audit-events", params={"limit": 100}, headers=admin))
    assert audit.status_code == 200
    assert len(audit.json()["items"]) >= 5
    return j


async def _stored_secrets(session: AsyncSession, journey: Journey) -> set[str]:
    """The stored forms of the secrets: the password hash and the key digest (as hex)."""
    user = await session.get(User, uuid.UUID(journey.user_id), populate_existing=True)
    key = await session.get(ApiKey, uuid.UUID(journey.key_id), populate_existing=True)
    assert user is not None
    assert key is not None
    return {user.password_hash, key.secret_hash.hex()}


@pytest.fixture
async def journey(
    client: httpx.AsyncClient, admin: dict[str, str], institution: Institution, logs: LogCapture
) -> Journey:
    return await _journey(client, admin, institution)


def _leaks(haystack: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in haystack)


# --- response bodies -------------------------------------------------------------------------


async def test_no_secret_in_any_response_but_the_one_that_hands_it_out(
    journey: Journey, session: AsyncSession
) -> None:
    stored = await _stored_secrets(session, journey)
    assert len(journey.responses) >= 15
    for response, may_show in journey.responses:
        where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
        assert _leaks(response.text, journey.secrets - may_show) == [], where
        assert _leaks(response.text, stored) == [], where
        assert "$argon2" not in response.text, where
        assert not any(f'"{name}"' in response.text for name in SECRET_KEY_NAMES), where
        for secret in may_show:
            assert secret in response.text, where  # the hand-out response does carry it


async def test_no_secret_in_the_audit_events_response(journey: Journey) -> None:
    audit = next(r for r, _ in journey.responses if r.request.url.path == "/v1/audit-events")
    items = audit.json()["items"]
    for item in items:
        assert not {"password", "password_hash", "secret", "secret_hash"} & set(item["changes"])
    password_events = [i for i in items if i["action"] in ("password_change", "update")]
    assert password_events  # the password changes were recorded, only without the password
    assert any("password_changed_at" in i["changes"] for i in password_events)


# --- logs ------------------------------------------------------------------------------------


async def test_no_secret_in_any_log_line(
    journey: Journey, session: AsyncSession, logs: LogCapture
) -> None:
    written = logs.text()
    # The capture really holds the access log: one line per request, naming its path.
    assert '"path": "/v1/auth/token"' in written
    assert '"path": "/v1/me/password"' in written
    assert f'"path": "/v1/users/{journey.user_id}"' in written
    assert written.count('"event": "request"') >= len(journey.responses)
    assert _leaks(written, journey.secrets) == []
    assert _leaks(written, await _stored_secrets(session, journey)) == []
    assert "$argon2" not in written


# --- the audit trail -------------------------------------------------------------------------


async def _audit_rows(session: AsyncSession) -> list[str]:
    rows = await session.execute(text("SELECT audit_events::text FROM audit_events"))
    return [row[0] for row in rows]


async def test_no_secret_in_any_audit_event(journey: Journey, session: AsyncSession) -> None:
    rows = await _audit_rows(session)
    mine = [row for row in rows if journey.user_id in row]
    assert len(mine) >= 5  # create, logins, password change, reset: the scan has material
    whole = "\n".join(rows)
    assert _leaks(whole, journey.secrets) == []
    assert _leaks(whole, await _stored_secrets(session, journey)) == []
    assert "$argon2" not in whole
    for name in SECRET_KEY_NAMES:
        assert name not in whole


async def test_audit_changes_have_no_secret_keys(journey: Journey, session: AsyncSession) -> None:
    keys = await session.scalars(
        text("SELECT DISTINCT jsonb_object_keys(changes) FROM audit_events")
    )
    found = set(keys)
    assert "password_changed_at" in found
    assert not {"password", "password_hash", "secret", "secret_hash"} & found


# --- a failed sign-in -----------------------------------------------------------------------


async def test_failed_sign_in_leaves_no_trace_of_the_password(
    client: httpx.AsyncClient, session: AsyncSession, journey: Journey, logs: LogCapture
) -> None:
    email = next(
        r.json()["email"]
        for r, _ in journey.responses
        if r.request.url.path == "/v1/users" and r.request.method == "POST" and r.status_code == 201
    )
    response = await client.post(
        "/v1/auth/token", json={"email": email, "password": WRONG_PASSWORD}
    )
    assert response.status_code == 401
    unknown = await client.post(
        "/v1/auth/token",
        data={"username": f"x.{uuid.uuid4().hex[:6]}@example.go.id", "password": WRONG_PASSWORD},
    )
    assert unknown.status_code == 401
    assert WRONG_PASSWORD not in response.text + unknown.text
    written = logs.text()
    assert written.count('"path": "/v1/auth/token"') >= 5
    assert WRONG_PASSWORD not in written
    assert WRONG_PASSWORD not in "\n".join(await _audit_rows(session))
