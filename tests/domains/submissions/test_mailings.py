"""Organiser mail: the secretariat writes to an edition's entrants, previews it as one of them
will read it, and sends it (a real SMTP server gets one message per person, each in their
language); a hub's admins write only to their own hub's audiences; a mailing goes once."""

from __future__ import annotations

import pytest

from app.core.config import Settings
from app.models.enums import Role
from tests.conftest import UserFactory
from tests.domains.submissions.conftest import World
from tests.fixtures.outbox import run_queued
from tests.fixtures.smtp import SmtpSink

PATH = "/v1/mailings"
BODY = "Yth. {{ name }},\n\nTahap wawancara dimulai pekan depan.\n\nSalam,\nSekretariat KIPP"


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "email_backend": "smtp",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "none",
        }
    )


async def test_the_secretariat_writes_to_an_editions_entrants(
    w: World, make_user: UserFactory, mail_settings: Settings, smtp: SmtpSink
) -> None:
    admin = await make_user(
        Role.local_admin, institution_id=w.medan.id, name="Admin Medan", language="en"
    )
    operator = await make_user(Role.unit_operator, unit_id=w.medan_unit.id, name="Operator")
    await make_user(Role.local_admin, institution_id=w.medan.id, is_active=False)
    outsider = await make_user(Role.local_admin, institution_id=w.surabaya.id)
    await w.at("submitted", w.inov)
    await w.draft(w.inov_sby, headers=w.operator_sby)  # a draft is not an entrant
    audience = {"kind": "edition_entrants", "competition_id": str(w.kipp.id)}

    bad = await w.client.post(
        PATH,
        json={"subject": "Hai {{ nama }}", "body": BODY, "audience": audience},
        headers=w.admin,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "mailing.unknown_placeholder"
    assert bad.json()["errors"][0]["pointer"] == "/subject"

    created = await w.client.post(
        PATH,
        json={"subject": "Jadwal wawancara, {{ name }}", "body": BODY, "audience": audience},
        headers=w.admin,
    )
    assert created.status_code == 201, created.text
    mailing = created.json()
    assert mailing["recipients"] == 2
    assert mailing["sent_at"] is None
    mid = mailing["id"]

    preview = await w.client.get(
        f"{PATH}/{mid}/preview", params={"recipient_id": str(admin.id)}, headers=w.admin
    )
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert shown["subject"] == "Jadwal wawancara, Admin Medan"
    assert shown["language"] == "en"
    assert "Yth. Admin Medan," in shown["text"]
    assert "Choose your notifications" in shown["text"]  # the English layout
    not_one = await w.client.get(
        f"{PATH}/{mid}/preview", params={"recipient_id": str(outsider.id)}, headers=w.admin
    )
    assert not_one.status_code == 422
    assert not_one.json()["code"] == "mailing.not_a_recipient"

    sent = await w.client.post(f"{PATH}/{mid}/send", headers=w.admin)
    assert sent.status_code == 200, sent.text
    assert sent.json()["sent_at"] is not None
    await run_queued(w.session, mail_settings, kinds=("email.send",))
    assert sorted(r.recipients[0] for r in smtp.received) == sorted([admin.email, operator.email])
    [to_operator] = smtp.to(operator.email)
    assert to_operator.subject == "Jadwal wawancara, Operator"
    assert to_operator.message["Content-Language"] == "id"
    assert "Tahap wawancara dimulai pekan depan." in to_operator.part("plain")

    log = await w.client.get("/v1/email-messages", params={"mailing_id": mid}, headers=w.admin)
    assert log.status_code == 200
    assert sorted((m["recipient"], m["status"], m["language"]) for m in log.json()["items"]) == (
        sorted([(admin.email, "sent", "en"), (operator.email, "sent", "id")])
    )
    again = await w.client.post(f"{PATH}/{mid}/send", headers=w.admin)
    assert again.status_code == 409
    assert again.json()["code"] == "mailing.already_sent"


async def test_a_hub_admin_writes_only_to_its_own_hubs_audiences(w: World) -> None:
    national = {"kind": "edition_entrants", "competition_id": str(w.kipp.id)}
    refused = await w.client.post(
        PATH,
        json={"subject": "Info", "body": "Isi.", "audience": national},
        headers=w.hub_admin_sumut,
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "mailing.out_of_scope"
    other_hub = {"kind": "hub_members", "hub_id": str(w.hub_jatim.id)}
    refused = await w.client.post(
        PATH,
        json={"subject": "Info", "body": "Isi.", "audience": other_hub},
        headers=w.hub_admin_sumut,
    )
    assert refused.status_code == 403
    own = {"kind": "hub_members", "hub_id": str(w.hub_sumut.id)}
    created = await w.client.post(
        PATH,
        json={"subject": "Klinik inovasi", "body": "Isi.", "audience": own},
        headers=w.hub_admin_sumut,
    )
    assert created.status_code == 201, created.text
    empty = await w.client.post(f"{PATH}/{created.json()['id']}/send", headers=w.hub_admin_sumut)
    assert empty.status_code == 409  # no member institution has a local admin here
    assert empty.json()["code"] == "mailing.no_recipients"
    # the secretariat's mailings are not the hub's to see
    theirs = await w.client.post(
        PATH,
        json={"subject": "Info", "body": "Isi.", "audience": national},
        headers=w.admin,
    )
    hidden = await w.client.get(f"{PATH}/{theirs.json()['id']}", headers=w.hub_admin_sumut)
    assert hidden.status_code == 404
    listed = await w.client.get(PATH, headers=w.hub_admin_sumut)
    assert [m["id"] for m in listed.json()["items"]] == [created.json()["id"]]
    log = await w.client.get("/v1/email-messages", headers=w.hub_admin_sumut)
    assert log.status_code == 403
