"""A person's in-app notifications: their own only, newest first with the unread count, a
cheap 304 for a poll with If-Modified-Since (even across changes in the same second), read
one or all; and the preferences: language, kinds on or off, security messages always on."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.domains.notifications import audience, events
from app.models.accounts import User
from app.models.enums import Role
from tests.conftest import UserFactory, bearer_for
from tests.fixtures.outbox import run_queued

PATH = "/v1/notifications"
PREFS = "/v1/me/notification-preferences"


async def _tell(session: AsyncSession, settings: Settings, user: User, reason: str) -> None:
    await events.emit(
        session,
        "submission.returned",
        "submission",
        uuid.uuid4(),
        audience=[audience.person(user.id)],
        data={"reason": reason},
        refs={"innovation": None, "competition": None},
    )
    await run_queued(session, settings, kinds=("notifications.dispatch",))


async def test_a_person_lists_reads_and_polls_their_own(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, make_user: UserFactory
) -> None:
    anna = await make_user(Role.evaluator, name="Anna")
    budi = await make_user(Role.evaluator, name="Budi")
    anna_h, budi_h = bearer_for(settings, anna), bearer_for(settings, budi)

    empty = await client.get(PATH, headers=anna_h)
    assert empty.status_code == 200
    assert empty.json()["items"] == []
    assert empty.json()["unread_count"] == 0

    for n in range(3):
        await _tell(session, settings, anna, f"alasan {n}")
    await _tell(session, settings, budi, "untuk Budi")

    listed = await client.get(PATH, headers=anna_h, params={"limit": 2})
    assert listed.status_code == 200
    body = listed.json()
    assert body["unread_count"] == 3
    assert body["has_more"] is True
    assert [item["body"].splitlines()[-1] for item in body["items"]] == [
        "Perbaiki usulan lalu kirim kembali."
    ] * 2
    assert all("untuk Budi" not in item["body"] for item in body["items"])
    rest = await client.get(PATH, headers=anna_h, params={"cursor": body["next_cursor"]})
    assert len(rest.json()["items"]) == 1
    assert rest.json()["has_more"] is False

    # the poll: unchanged -> 304 from one row; a change in the same second is still seen
    last_modified = listed.headers["Last-Modified"]
    poll = await client.get(PATH, headers={**anna_h, "If-Modified-Since": last_modified})
    assert poll.status_code == 304
    assert poll.headers["Last-Modified"] == last_modified
    first = body["items"][0]["id"]
    read = await client.post(f"{PATH}/{first}/read", headers=anna_h)
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    changed = await client.get(PATH, headers={**anna_h, "If-Modified-Since": last_modified})
    assert changed.status_code == 200
    assert changed.json()["unread_count"] == 2
    assert changed.headers["Last-Modified"] != last_modified
    unread = await client.get(PATH, headers=anna_h, params={"unread": "true"})
    assert first not in {item["id"] for item in unread.json()["items"]}
    # an unreadable date is ignored
    garbled = await client.get(PATH, headers={**anna_h, "If-Modified-Since": "yesterday"})
    assert garbled.status_code == 200

    # someone else's notification is as absent as one that never was
    budi_item = (await client.get(PATH, headers=budi_h)).json()["items"][0]["id"]
    assert (await client.post(f"{PATH}/{budi_item}/read", headers=anna_h)).status_code == 404
    missing = await client.post(f"{PATH}/{uuid.uuid4()}/read", headers=anna_h)
    assert missing.status_code == 404
    assert missing.json()["code"] == "notification.not_found"

    marked = await client.post(f"{PATH}/read-all", headers=anna_h)
    assert marked.json() == {"marked": 2}
    assert (await client.post(f"{PATH}/read-all", headers=anna_h)).json() == {"marked": 0}
    assert (await client.get(PATH, headers=budi_h)).json()["unread_count"] == 1


async def test_a_poll_from_before_any_notification_is_answered(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, make_user: UserFactory
) -> None:
    anna = await make_user(Role.evaluator)
    headers = bearer_for(settings, anna)
    since = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    await _tell(session, settings, anna, "baru")
    fresh = await client.get(PATH, headers={**headers, "If-Modified-Since": since})
    assert fresh.status_code == 200
    assert fresh.json()["unread_count"] == 1


async def test_an_api_key_has_no_notifications(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    refused = await client.get(PATH, headers=admin)
    assert refused.status_code == 403
    assert refused.json()["code"] == "notifications.people_only"
    assert (await client.get(PATH)).status_code == 401


async def test_preferences(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, make_user: UserFactory
) -> None:
    person = await make_user(Role.evaluator)
    headers = bearer_for(settings, person)
    shown = await client.get(PREFS, headers=headers)
    assert shown.status_code == 200
    body = shown.json()
    assert body["language"] == settings.default_language
    kinds = {item["kind"]: item for item in body["kinds"]}
    assert kinds["submission.returned"] == {
        "kind": "submission.returned",
        "email": True,
        "in_app": True,
        "essential": False,
        "description": kinds["submission.returned"]["description"],
    }
    assert kinds["account.password_changed"]["essential"] is True

    chosen = await client.put(
        PREFS,
        json={
            "language": "en",
            "kinds": [{"kind": "assignment.created", "email": False, "in_app": True}],
        },
        headers=headers,
    )
    assert chosen.status_code == 200, chosen.text
    kinds = {item["kind"]: item for item in chosen.json()["kinds"]}
    assert chosen.json()["language"] == "en"
    assert (kinds["assignment.created"]["email"], kinds["assignment.created"]["in_app"]) == (
        False,
        True,
    )
    stored = await session.get(User, person.id, populate_existing=True)
    assert stored is not None
    assert stored.language == "en"
    # PUT replaces: what is not listed goes back to on
    again = await client.put(PREFS, json={"kinds": []}, headers=headers)
    kinds = {item["kind"]: item for item in again.json()["kinds"]}
    assert kinds["assignment.created"]["email"] is True
    assert again.json()["language"] == settings.default_language

    for payload, code, pointer in (
        (
            {"kinds": [{"kind": "account.password_changed", "email": False, "in_app": True}]},
            "notification_preferences.essential",
            "/kinds/0",
        ),
        (
            {"kinds": [{"kind": "no.such_kind", "email": False, "in_app": True}]},
            "notification_preferences.unknown_kind",
            "/kinds/0/kind",
        ),
        (
            {
                "kinds": [
                    {"kind": "assignment.created", "email": False, "in_app": True},
                    {"kind": "assignment.created", "email": True, "in_app": False},
                ]
            },
            "notification_preferences.duplicate_kind",
            "/kinds/1/kind",
        ),
    ):
        refused = await client.put(PREFS, json=payload, headers=headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == code
        assert refused.json()["errors"][0]["pointer"] == pointer
    wrong = await client.put(PREFS, json={"language": "fr"}, headers=headers)
    assert wrong.status_code == 422
