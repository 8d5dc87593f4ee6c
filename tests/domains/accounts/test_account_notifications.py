"""Security messages reach the account's owner whatever their preferences: a new account
(by email too, in the default language), a changed password, even when the owner changed it
(the actor is told here, unlike every other event). An API key about to expire is announced,
14 days and 3 days before, to whoever may issue its successor: its institution's local admins
for the keys they issue, the secretariat for the others; once per key and window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.config import Settings
from app.domains.accounts.reminders import remind_expiring_keys
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.models.enums import Role
from app.models.institutions import Institution, Unit
from tests.conftest import TEST_PASSWORD, UserFactory, bearer_for
from tests.fixtures.etag import if_match
from tests.fixtures.notified import notes, told
from tests.fixtures.smtp import SmtpSink

PORTAL = "https://portal.inovasi.test"
NEW_PASSWORD = "a much longer passphrase 2026"


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "email_backend": "smtp",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "public_base_url": PORTAL,
        }
    )


async def test_a_new_account_is_told_by_email(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    institution: Institution,
    mail_settings: Settings,
    smtp: SmtpSink,
) -> None:
    response = await client.post(
        "/v1/users",
        json={
            "email": "rina.siregar@pemkomedan.go.id",
            "name": "Rina Siregar",
            "role": "local_admin",
            "institution_id": str(institution.id),
            "password": TEST_PASSWORD,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    counts = await told(session, mail_settings, "account.created")
    assert {str(k): v for k, v in counts.items()} == {response.json()["id"]: 1}
    [mail] = smtp.to("rina.siregar@pemkomedan.go.id")
    assert [r.recipients for r in smtp.received] == [["rina.siregar@pemkomedan.go.id"]]
    assert mail.subject == "Akun Inovasi Anda telah dibuat"
    assert "peran local_admin" in mail.part("plain")
    assert TEST_PASSWORD not in mail.part("plain")
    assert f"{PORTAL}/me" in mail.part("plain")


async def test_a_changed_password_is_told_to_its_owner_even_when_it_was_them(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    admin: dict[str, str],
    make_user: UserFactory,
    unit: Unit,
) -> None:
    person = await make_user(Role.unit_operator, unit_id=unit.id, name="Operator Uji")
    # a security message cannot be turned off
    off = await client.put(
        "/v1/me/notification-preferences",
        json={"kinds": [{"kind": "account.password_changed", "email": False, "in_app": False}]},
        headers=bearer_for(settings, person),
    )
    assert off.status_code == 422, off.text
    changed = await client.put(
        "/v1/me/password",
        json={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer_for(settings, person),
    )
    assert changed.status_code == 204, changed.text
    assert await told(session, settings, "account.password_changed") == {person.id: 1}

    path = f"/v1/users/{person.id}"
    reset = await client.patch(
        path, json={"password": TEST_PASSWORD}, headers=await if_match(client, path, admin)
    )
    assert reset.status_code == 200, reset.text
    assert await told(session, settings, "account.password_changed") == {person.id: 2}
    [note, _] = await notes(session, "account.password_changed", person.id)
    assert note.title == "Kata sandi akun Inovasi Anda telah diubah"


async def test_expiring_keys_are_announced_to_who_may_replace_them(
    session: AsyncSession,
    settings: Settings,
    make_user: UserFactory,
    institution: Institution,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = await make_user(Role.local_admin, institution_id=institution.id)
    secretariat = await make_user(Role.secretariat_admin)
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    regional = await issue_api_key(
        session,
        None,
        ApiKeyCreate(
            name="SIPD Kota",
            role=Role.regional_system,
            institution_id=institution.id,
            expires_at=expires,
        ),
    )
    await issue_api_key(
        session,
        None,
        ApiKeyCreate(name="Dasbor Sekretariat", role=Role.secretariat_admin, expires_at=expires),
    )
    await issue_api_key(  # never expires
        session, None, ApiKeyCreate(name="Tanpa Batas", role=Role.secretariat_admin)
    )

    async def at(before_expiry: timedelta) -> int:
        monkeypatch.setattr(dates, "now", lambda: expires - before_expiry)
        return await remind_expiring_keys(session)

    assert await at(timedelta(days=15)) == 0
    assert await at(timedelta(days=14)) == 2
    assert await at(timedelta(days=10)) == 0
    assert await at(timedelta(days=2)) == 2
    assert await at(timedelta(days=1)) == 0
    assert await at(-timedelta(days=1)) == 0  # expired
    monkeypatch.undo()
    counts = await told(session, settings, "api_key.expiring")
    assert counts == {local.id: 2, secretariat.id: 2}
    [note, _] = await notes(session, "api_key.expiring", local.id)
    assert "SIPD Kota" in note.title
    assert f"({regional.key.prefix}…)" in note.body
    assert regional.secret not in note.body
