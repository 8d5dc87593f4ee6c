"""The audit trail over HTTP: `GET /v1/audit-events`. Writes made through the API are listed
with who, what, when and the fields before and after; filters, time ranges, scope, cursors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.accounts import User
from app.models.audit import AuditEvent
from app.models.enums import Role
from app.models.hubs import Hub
from app.models.institutions import Institution, Unit
from tests.conftest import (
    TEST_PASSWORD,
    InstitutionFactory,
    KeyFactory,
    UserFactory,
    bearer_for,
)
from tests.domains import assert_problem
from tests.fixtures.etag import if_match

PASSWORD = "a long enough passphrase"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def other_institution(make_institution: InstitutionFactory) -> Institution:
    return await make_institution()


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _events(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    response = await client.get("/v1/audit-events", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _create_user(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    role: str = "evaluator",
    *,
    request_id: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "email": f"audit.{uuid.uuid4().hex[:10]}@example.go.id",
        "name": "Rina Siregar",
        "role": role,
        "password": PASSWORD,
        **{k: str(v) for k, v in fields.items()},
    }
    extra = {"X-Request-ID": request_id} if request_id else {}
    response = await client.post("/v1/users", json=body, headers={**headers, **extra})
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


async def _rename(
    client: httpx.AsyncClient, headers: dict[str, str], user_id: str, name: str
) -> None:
    response = await client.patch(
        f"/v1/users/{user_id}",
        json={"name": name},
        headers=await if_match(client, f"/v1/users/{user_id}", headers),
    )
    assert response.status_code == 200, response.text


async def _add_event(
    session: AsyncSession, entity_id: str, occurred_at: datetime, **fields: Any
) -> AuditEvent:
    """An event written straight to the table, at a chosen time (the API's events all carry
    the test transaction's start time)."""
    values: dict[str, Any] = {
        "actor_kind": "system",
        "actor_name": "system",
        "action": "update",
        "entity_type": "institution",
        "entity_id": entity_id,
        "changes": {"name": {"before": "a", "after": "b"}},
        "occurred_at": occurred_at,
    }
    values.update(fields)
    event = AuditEvent(**values)
    session.add(event)
    await session.flush()
    return event


async def _three_events(session: AsyncSession) -> str:
    """Three events of one new entity, a minute apart from T0; returns the entity id."""
    entity_id = str(uuid.uuid4())
    for minute in range(3):
        await _add_event(session, entity_id, T0 + timedelta(minutes=minute))
    return entity_id


async def _key_id(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    key_id: str = (await client.get("/v1/me", headers=headers)).json()["id"]
    return key_id


# --- what an event says ----------------------------------------------------------------------


async def test_a_create_through_the_api_is_listed_with_actor_entity_and_request_id(
    client: httpx.AsyncClient, admin: dict[str, str], institution: Institution
) -> None:
    request_id = f"audit-create-{uuid.uuid4().hex}"
    user = await _create_user(
        client, admin, "local_admin", request_id=request_id, institution_id=institution.id
    )
    (event,) = await _events(client, admin, entity_type="user", entity_id=user["id"])
    assert event["actor_kind"] == "api_key"
    assert event["actor_id"] == await _key_id(client, admin)
    assert event["actor_role"] == "secretariat_admin"
    assert event["actor_name"] == "test secretariat_admin"
    assert event["actor_email"] is None
    assert event["action"] == "create"
    assert event["entity_type"] == "user"
    assert event["entity_id"] == user["id"]
    assert event["institution_id"] == str(institution.id)
    assert event["request_id"] == request_id
    changes = event["changes"]
    assert changes["email"] == {"before": None, "after": user["email"]}
    assert changes["role"] == {"before": None, "after": "local_admin"}
    assert changes["institution_id"] == {"before": None, "after": str(institution.id)}
    assert "updated_at" not in changes
    assert datetime.fromisoformat(event["occurred_at"]).tzinfo is not None


async def test_an_update_records_before_and_after_of_the_changed_fields_only(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = await _create_user(client, admin)
    await _rename(client, admin, user["id"], "Rina Siregar-Lubis")
    (event,) = await _events(client, admin, entity_id=user["id"], action="update")
    assert event["changes"]["name"] == {"before": "Rina Siregar", "after": "Rina Siregar-Lubis"}
    assert event["changes"]["version"] == {"before": 1, "after": 2}
    assert set(event["changes"]) == {"name", "version"}


async def test_a_person_acting_is_named_by_its_name_with_its_email_beside(
    client: httpx.AsyncClient,
    settings: Settings,
    make_user: UserFactory,
    institution: Institution,
    unit: Unit,
) -> None:
    local_admin = await make_user(
        Role.local_admin, institution_id=institution.id, name="Sri Wahyuni Nasution"
    )
    headers = bearer_for(settings, local_admin)
    created = await _create_user(client, headers, "unit_operator", unit_id=unit.id)
    (event,) = await _events(client, headers, entity_id=created["id"])
    assert event["actor_kind"] == "user"
    assert event["actor_id"] == str(local_admin.id)
    assert event["actor_role"] == "local_admin"
    assert event["actor_name"] == "Sri Wahyuni Nasution"
    assert event["actor_email"] == local_admin.email


async def test_a_sign_in_is_recorded_as_a_login_by_the_person(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    response = await client.post(
        "/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    (event,) = await _events(client, admin, entity_id=str(user.id))
    assert event["action"] == "login"
    assert event["actor_id"] == str(user.id)
    assert set(event["changes"]) == {"last_login_at"}


async def test_a_failed_write_records_nothing(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    response = await client.patch(
        f"/v1/users/{user.id}", json={"name": "Baru"}, headers={**admin, "If-Match": '"99"'}
    )
    assert response.status_code == 412
    assert await _events(client, admin, entity_id=str(user.id)) == []


# --- filters ---------------------------------------------------------------------------------


async def test_filter_by_entity(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    first = await _create_user(client, admin)
    second = await _create_user(client, admin)
    await _rename(client, admin, second["id"], "Nama Lain")
    events = await _events(client, admin, entity_type="user", entity_id=second["id"])
    assert sorted(e["action"] for e in events) == ["create", "update"]
    assert {e["entity_id"] for e in events} == {second["id"]}
    assert await _events(client, admin, entity_type="api_key", entity_id=first["id"]) == []


async def test_filter_by_actor(
    client: httpx.AsyncClient, admin: dict[str, str], auth: KeyFactory
) -> None:
    other_admin = await auth(Role.secretariat_admin)
    mine = await _create_user(client, admin)
    theirs = await _create_user(client, other_admin)
    events = await _events(client, admin, actor_id=await _key_id(client, other_admin), limit=100)
    assert theirs["id"] in {e["entity_id"] for e in events}
    assert mine["id"] not in {e["entity_id"] for e in events}


async def test_filter_by_action(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    user = await _create_user(client, admin)
    await _rename(client, admin, user["id"], "Nama Baru")
    updates = await _events(client, admin, entity_id=user["id"], action="update")
    assert [e["action"] for e in updates] == ["update"]
    both = await _events(client, admin, entity_id=user["id"], action=["create", "update"])
    assert sorted(e["action"] for e in both) == ["create", "update"]


async def test_filter_by_request_id(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    request_id = f"audit-filter-{uuid.uuid4().hex}"
    user = await _create_user(client, admin, request_id=request_id)
    await _create_user(client, admin)
    events = await _events(client, admin, request_id=request_id)
    assert [e["entity_id"] for e in events] == [user["id"]]


async def test_unknown_entity_type_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get(
        "/v1/audit-events", params={"entity_type": "password"}, headers=admin
    )
    assert_problem(response, 422, "validation_failed")


# --- time ranges -----------------------------------------------------------------------------


@pytest.fixture
async def timeline(session: AsyncSession) -> tuple[str, list[AuditEvent]]:
    """Four events of one entity, an hour apart from T0."""
    entity_id = str(uuid.uuid4())
    events = [await _add_event(session, entity_id, T0 + timedelta(hours=h)) for h in range(4)]
    return entity_id, events


async def test_time_range_includes_its_start_and_excludes_its_end(
    client: httpx.AsyncClient, admin: dict[str, str], timeline: tuple[str, list[AuditEvent]]
) -> None:
    entity_id, events = timeline
    found = await _events(
        client,
        admin,
        entity_id=entity_id,
        occurred_from=_rfc3339(events[1].occurred_at),
        occurred_to=_rfc3339(events[3].occurred_at),
    )
    assert [e["id"] for e in found] == [events[2].id, events[1].id]


async def test_open_ended_time_ranges(
    client: httpx.AsyncClient, admin: dict[str, str], timeline: tuple[str, list[AuditEvent]]
) -> None:
    entity_id, events = timeline
    since = await _events(
        client, admin, entity_id=entity_id, occurred_from=_rfc3339(events[2].occurred_at)
    )
    assert {e["id"] for e in since} == {events[2].id, events[3].id}
    until = await _events(
        client, admin, entity_id=entity_id, occurred_to=_rfc3339(events[2].occurred_at)
    )
    assert {e["id"] for e in until} == {events[0].id, events[1].id}


async def test_time_range_in_another_offset_means_the_same_instant(
    client: httpx.AsyncClient, admin: dict[str, str], timeline: tuple[str, list[AuditEvent]]
) -> None:
    entity_id, events = timeline
    jakarta = events[1].occurred_at.astimezone(UTC) + timedelta(hours=7)
    found = await _events(
        client,
        admin,
        entity_id=entity_id,
        occurred_from=jakarta.strftime("%Y-%m-%dT%H:%M:%S+07:00"),
        occurred_to=_rfc3339(events[2].occurred_at),
    )
    assert [e["id"] for e in found] == [events[1].id]


async def test_empty_time_range_is_an_empty_list(
    client: httpx.AsyncClient, admin: dict[str, str], timeline: tuple[str, list[AuditEvent]]
) -> None:
    entity_id, events = timeline
    moment = _rfc3339(events[1].occurred_at)
    found = await _events(
        client, admin, entity_id=entity_id, occurred_from=moment, occurred_to=moment
    )
    assert found == []


async def test_inverted_time_range_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get(
        "/v1/audit-events",
        params={"occurred_from": _rfc3339(T0 + timedelta(hours=1)), "occurred_to": _rfc3339(T0)},
        headers=admin,
    )
    assert_problem(response, 422, "audit.time_range_inverted")


@pytest.mark.parametrize(
    "value", ["0.5", "1767225600", "2026-01-01", "2026-01-01T00:00:00", "yesterday"]
)
@pytest.mark.parametrize("parameter", ["occurred_from", "occurred_to"])
async def test_time_that_is_not_rfc3339_with_a_zone_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], parameter: str, value: str
) -> None:
    response = await client.get("/v1/audit-events", params={parameter: value}, headers=admin)
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["location"], e["parameter"]) for e in body["errors"]] == [("query", parameter)]


# --- who may read ----------------------------------------------------------------------------


async def test_local_admin_sees_only_its_institutions_events(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    auth: KeyFactory,
    institution: Institution,
    other_institution: Institution,
) -> None:
    ours = await _create_user(client, admin, "local_admin", institution_id=institution.id)
    theirs = await _create_user(client, admin, "local_admin", institution_id=other_institution.id)
    national = await _create_user(client, admin, "evaluator")
    local_admin = await auth(Role.local_admin, institution_id=institution.id)
    events = await _events(client, local_admin, limit=100)
    assert ours["id"] in {e["entity_id"] for e in events}
    assert {e["institution_id"] for e in events} == {str(institution.id)}
    for hidden in (theirs, national):
        assert await _events(client, local_admin, entity_id=hidden["id"]) == []


async def test_secretariat_sees_every_institutions_events(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    institution: Institution,
    other_institution: Institution,
) -> None:
    ours = await _create_user(client, admin, "local_admin", institution_id=institution.id)
    theirs = await _create_user(client, admin, "local_admin", institution_id=other_institution.id)
    events = await _events(client, admin, entity_type="user", limit=100)
    assert {ours["id"], theirs["id"]} <= {e["entity_id"] for e in events}


@pytest.mark.parametrize("role", [Role.unit_operator, Role.evaluator, Role.hub_admin])
async def test_roles_without_audit_rights_get_403(
    client: httpx.AsyncClient,
    settings: Settings,
    make_user: UserFactory,
    unit: Unit,
    hub: Hub,
    role: Role,
) -> None:
    scope = {Role.unit_operator: {"unit_id": unit.id}, Role.hub_admin: {"hub_id": hub.id}}
    person: User = await make_user(role, **scope.get(role, {}))
    response = await client.get("/v1/audit-events", headers=bearer_for(settings, person))
    assert_problem(response, 403, "auth.role_forbidden")


async def test_anonymous_callers_get_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/audit-events"), 401, "auth.required")


# --- pages -----------------------------------------------------------------------------------


async def _walk(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> tuple[list[int], int]:
    """Every event id across the pages, in order, and how many pages it took."""
    ids: list[int] = []
    pages = 0
    while True:
        response = await client.get("/v1/audit-events", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        ids += [e["id"] for e in body["items"]]
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return ids, pages
        params["cursor"] = body["next_cursor"]


async def test_pages_follow_cursors_newest_first(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    entity_id = str(uuid.uuid4())
    events = [await _add_event(session, entity_id, T0 + timedelta(minutes=m)) for m in range(5)]
    ids, pages = await _walk(client, admin, entity_id=entity_id, limit=2)
    assert ids == [e.id for e in reversed(events)]
    assert pages == 3


async def test_pages_oldest_first_with_events_at_the_same_instant(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    entity_id = str(uuid.uuid4())
    events = [await _add_event(session, entity_id, T0) for _ in range(5)]
    ids, _ = await _walk(client, admin, entity_id=entity_id, limit=2, sort="occurred_at")
    assert ids == sorted(e.id for e in events)


async def test_total_on_request(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    entity_id = await _three_events(session)
    response = await client.get(
        "/v1/audit-events",
        params={"entity_id": entity_id, "limit": 1, "include_total": "true"},
        headers=admin,
    )
    assert response.json()["total"] == 3
    assert response.json()["has_more"] is True


async def test_altered_cursor_is_400(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    entity_id = await _three_events(session)
    first = await client.get(
        "/v1/audit-events", params={"entity_id": entity_id, "limit": 1}, headers=admin
    )
    cursor = first.json()["next_cursor"]
    altered = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    response = await client.get(
        "/v1/audit-events",
        params={"entity_id": entity_id, "limit": 1, "cursor": altered},
        headers=admin,
    )
    assert_problem(response, 400, "cursor.invalid")


async def test_cursor_of_another_filter_is_400(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    entity_id = await _three_events(session)
    first = await client.get(
        "/v1/audit-events", params={"entity_id": entity_id, "limit": 1}, headers=admin
    )
    response = await client.get(
        "/v1/audit-events",
        params={"entity_id": str(uuid.uuid4()), "cursor": first.json()["next_cursor"]},
        headers=admin,
    )
    assert_problem(response, 400, "cursor.mismatch")
