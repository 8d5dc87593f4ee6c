"""An entry's steps tell the people who may see it: the local admin when a unit sends it, the
unit when it is returned (with the reason), both when it is submitted and screened; in each
person's language, by email (a real SMTP server) and in the app, as their preferences say;
nobody outside the entry's institution, and nothing for a step that failed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.core.config import Settings
from app.models.accounts import User
from app.models.enums import Role
from app.models.notifications import EmailMessage, Notification
from tests.conftest import UserFactory, bearer_for
from tests.domains.submissions.conftest import World
from tests.fixtures.outbox import queued, run_queued
from tests.fixtures.smtp import SmtpSink

PORTAL = "https://portal.inovasi.test"


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpSink) -> Settings:
    return settings.model_copy(
        update={
            "email_backend": "smtp",
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "public_base_url": PORTAL,
            "mail_from": "Inovasi <no-reply@inovasi.test>",
        }
    )


async def _people(w: World, make_user: UserFactory) -> dict[str, User]:
    return {
        "admin": await make_user(
            Role.local_admin, institution_id=w.medan.id, name="Admin Medan", language="en"
        ),
        "operator": await make_user(
            Role.unit_operator, unit_id=w.medan_unit.id, name="Operator Medan"
        ),
        "other_unit": await make_user(Role.unit_operator, unit_id=w.medan_unit2.id),
        "surabaya": await make_user(Role.local_admin, institution_id=w.surabaya.id),
    }


async def _notifications(w: World, user: User) -> list[Notification]:
    rows = await w.session.scalars(select(Notification).where(Notification.user_id == user.id))
    return list(rows)


async def test_each_step_tells_the_entrys_people_in_their_language(
    w: World, make_user: UserFactory, mail_settings: Settings, smtp: SmtpSink
) -> None:
    people = await _people(w, make_user)
    entry = await w.draft(w.inov)
    sid = entry["id"]

    await w.ok(sid, "submit", w.operator)
    await run_queued(w.session, mail_settings)
    # the local admin (English) is asked to approve; nobody else hears of it
    [mail] = smtp.to(people["admin"].email)
    assert mail.subject == f"Entry awaiting your approval: {w.inov.title}"
    assert mail.message["Content-Language"] == "en"
    assert mail.message["From"] == "Inovasi <no-reply@inovasi.test>"
    assert f"{PORTAL}/submissions/{sid}" in mail.part("plain")
    assert f'href="{PORTAL}/submissions/{sid}"' in mail.part("html")
    assert "Sekretariat DPRD Kota Medan" in mail.part("plain")
    assert [r.recipients for r in smtp.received] == [[people["admin"].email]]
    [note] = await _notifications(w, people["admin"])
    assert note.kind == "submission.awaiting_approval"
    assert note.language == "en"
    assert note.link == f"{PORTAL}/submissions/{sid}"
    logged = (
        await w.session.scalars(select(EmailMessage).where(EmailMessage.event_id.is_not(None)))
    ).all()
    assert [(m.recipient, m.status, m.language) for m in logged] == [
        (people["admin"].email, "sent", "en")
    ]
    assert logged[0].provider_response is not None
    assert "queued as" in logged[0].provider_response

    smtp.clear()
    await w.ok(sid, "return", w.local, reason="Lengkapi bukti dukung anggaran.")
    await run_queued(w.session, mail_settings)
    # the unit's operator (Indonesian, the default) gets the reason; the other unit does not
    [mail] = smtp.to(people["operator"].email)
    assert mail.subject == f"Usulan dikembalikan untuk diperbaiki: {w.inov.title}"
    assert mail.message["Content-Language"] == "id"
    assert "Alasan: Lengkapi bukti dukung anggaran." in mail.part("plain")
    assert "Yth. Operator Medan," in mail.part("plain")
    assert {tuple(r.recipients) for r in smtp.received} == {(people["operator"].email,)}

    smtp.clear()
    await w.ok(sid, "submit", w.operator)
    await w.ok(sid, "approve", w.local)
    await w.ok(sid, "screen", w.admin, outcome="out", screening_reason="incomplete")
    await run_queued(w.session, mail_settings)
    subjects = sorted((r.recipients[0], r.subject) for r in smtp.received)
    title = w.inov.title
    assert subjects == sorted(
        [
            (people["admin"].email, f"Entry awaiting your approval: {title}"),
            (people["admin"].email, f"Entry submitted: {title}"),
            (people["operator"].email, f"Usulan telah diajukan: {title}"),
            (people["admin"].email, f"Screening result: {title}"),
            (people["operator"].email, f"Hasil seleksi administrasi: {title}"),
        ]
    )
    for person in ("other_unit", "surabaya"):
        assert smtp.to(people[person].email) == []
        assert await _notifications(w, people[person]) == []


async def test_a_step_that_fails_tells_nobody(w: World, make_user: UserFactory) -> None:
    await _people(w, make_user)
    entry = await w.draft(w.inov)
    before = len(await queued(w.session, "notifications.dispatch"))
    refused = await w.step(entry["id"], "approve", w.local)  # a draft is not approved
    assert refused.status_code == 409
    assert len(await queued(w.session, "notifications.dispatch")) == before


async def test_preferences_turn_email_off_but_not_the_app(
    w: World, make_user: UserFactory, mail_settings: Settings, smtp: SmtpSink, settings: Settings
) -> None:
    people = await _people(w, make_user)
    operator = bearer_for(settings, people["operator"])
    chosen = await w.client.put(
        "/v1/me/notification-preferences",
        json={"kinds": [{"kind": "submission.returned", "email": False, "in_app": True}]},
        headers=operator,
    )
    assert chosen.status_code == 200, chosen.text
    entry = await w.draft(w.inov)
    await w.ok(entry["id"], "submit", w.operator)
    await w.ok(entry["id"], "return", w.local, reason="Perbaiki.")
    await run_queued(w.session, mail_settings)
    assert smtp.to(people["operator"].email) == []
    [note] = await _notifications(w, people["operator"])
    assert note.kind == "submission.returned"
    listed = await w.client.get("/v1/notifications", headers=operator)
    assert listed.status_code == 200
    body: dict[str, Any] = listed.json()
    assert body["unread_count"] == 1
    assert body["items"][0]["title"] == f"Usulan dikembalikan untuk diperbaiki: {w.inov.title}"
    assert "Alasan: Perbaiki." in body["items"][0]["body"]


async def test_a_transient_smtp_refusal_is_retried_and_a_permanent_one_is_not(
    w: World, make_user: UserFactory, mail_settings: Settings, smtp: SmtpSink
) -> None:
    people = await _people(w, make_user)
    entry = await w.draft(w.inov)
    await w.ok(entry["id"], "submit", w.operator)
    await run_queued(w.session, mail_settings, kinds=("notifications.dispatch",))
    smtp.fail_next("451 4.3.0 try again later")
    with pytest.raises(Exception, match="451"):
        await run_queued(w.session, mail_settings, kinds=("email.send",))
    [pending] = (await w.session.scalars(select(EmailMessage))).all()
    assert pending.status == "pending"
    # the retry (the job runs again) sends it, once
    await run_queued(w.session, mail_settings, kinds=("email.send",))
    assert len(smtp.to(people["admin"].email)) == 1
    await w.session.refresh(pending)
    assert pending.status == "sent"

    other = await w.draft(await w.innovation())
    await w.ok(other["id"], "submit", w.operator)
    await run_queued(w.session, mail_settings, kinds=("notifications.dispatch",))
    smtp.fail_next("550 5.1.1 no such mailbox")
    await run_queued(w.session, mail_settings, kinds=("email.send",))  # not raised: final
    failed = (
        await w.session.scalars(select(EmailMessage).where(EmailMessage.status == "failed"))
    ).all()
    assert len(failed) == 1
    assert failed[0].last_error is not None
    assert "550" in failed[0].last_error
