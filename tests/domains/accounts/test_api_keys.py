"""API keys: issuing within the issuer's reach, secrets shown once and stored as digests,
listing in scope, revoking; and `/v1/me`."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.models.accounts import ApiKey
from app.models.enums import Role
from app.models.institutions import Institution, Unit
from tests.conftest import HubFactory, InstitutionFactory, KeyFactory, UnitFactory

HUB_ID = uuid.UUID(int=7)


@pytest.fixture(autouse=True)
async def _hub(make_hub: HubFactory) -> None:
    """The hub HUB_ID names (keys may only name a hub that exists)."""
    await make_hub(id=HUB_ID)


@pytest.fixture
async def institution(make_institution: InstitutionFactory) -> Institution:
    return await make_institution(name=f"Kementerian Pendayagunaan Uji {uuid.uuid4().hex[:6]}")


@pytest.fixture
async def unit(make_unit: UnitFactory, institution: Institution) -> Unit:
    return await make_unit(institution, name="Biro Umum")


@pytest.fixture
async def other_institution(make_institution: InstitutionFactory) -> Institution:
    return await make_institution(name=f"Kementerian Lain {uuid.uuid4().hex[:6]}")


@pytest.fixture
async def local_admin(auth: KeyFactory, institution: Institution) -> dict[str, str]:
    return await auth(Role.local_admin, institution_id=institution.id)


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], **body: Any
) -> httpx.Response:
    payload = {"name": "Kunci uji", **body}
    return await client.post(
        "/v1/api-keys",
        json={k: str(v) if isinstance(v, uuid.UUID | datetime) else v for k, v in payload.items()},
        headers=headers,
    )


async def _created(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> Any:
    response = await _create(client, headers, **body)
    assert response.status_code == 201, response.text
    return response.json()


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def _scope_for(role: Role, institution: Institution, unit: Unit) -> dict[str, Any]:
    return {
        Role.secretariat_admin: {},
        Role.local_admin: {"institution_id": institution.id},
        Role.unit_operator: {"unit_id": unit.id},
        Role.evaluator: {},
        Role.hub_admin: {"hub_id": HUB_ID},
        Role.regional_system: {"institution_id": institution.id},
    }[role]


# --- issuing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
async def test_secretariat_admin_issues_a_key_for_each_role(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    institution: Institution,
    unit: Unit,
    role: Role,
) -> None:
    scope = _scope_for(role, institution, unit)
    key = await _created(client, admin, role=role.value, **scope)
    assert key["role"] == role.value
    institution_scoped = {Role.local_admin, Role.regional_system, Role.unit_operator}
    assert key["institution_id"] == (str(institution.id) if role in institution_scoped else None)
    assert key["unit_id"] == (str(unit.id) if role is Role.unit_operator else None)
    assert key["hub_id"] == (str(HUB_ID) if role is Role.hub_admin else None)
    assert key["revoked_at"] is None
    assert key["expires_at"] is None


async def test_unit_operator_key_takes_its_units_institution(
    client: httpx.AsyncClient, admin: dict[str, str], institution: Institution, unit: Unit
) -> None:
    key = await _created(client, admin, role="unit_operator", unit_id=unit.id)
    assert key["institution_id"] == str(institution.id)


async def test_created_key_shows_its_secret_once(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = await _created(client, admin, role="evaluator")
    secret = key["secret"]
    assert secret.startswith("inv_")
    assert key["prefix"] == secret[: len(key["prefix"])]
    assert len(key["prefix"]) < len(secret)


async def test_secrets_are_long_and_unique(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    secrets = {(await _created(client, admin, role="evaluator"))["secret"] for _ in range(5)}
    assert len(secrets) == 5
    # 128 random bits need at least 22 URL-safe base64 characters after the prefix.
    assert all(len(s.removeprefix("inv_")) >= 22 for s in secrets)


async def test_get_never_shows_the_secret(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    key = await _created(client, admin, role="evaluator")
    response = await client.get(f"/v1/api-keys/{key['id']}", headers=admin)
    assert response.status_code == 200
    assert "secret" not in response.json()
    assert key["secret"] not in response.text
    assert response.json()["prefix"] == key["prefix"]


async def test_list_never_shows_secrets(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    key = await _created(client, admin, role="evaluator")
    response = await client.get("/v1/api-keys", params={"limit": "100"}, headers=admin)
    assert response.status_code == 200
    items = response.json()["items"]
    assert key["id"] in {i["id"] for i in items}
    assert all("secret" not in i and "secret_hash" not in i for i in items)
    assert key["secret"] not in response.text


async def test_database_stores_only_the_sha256_digest(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    key = await _created(client, admin, role="evaluator")
    secret: str = key["secret"]
    stored = await session.scalar(
        select(ApiKey.secret_hash).where(ApiKey.id == uuid.UUID(key["id"]))
    )
    assert isinstance(stored, bytes)
    assert len(stored) == 32
    assert stored == hashlib.sha256(secret.encode()).digest()


async def test_secret_appears_in_no_column(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    key = await _created(client, admin, role="evaluator")
    secret: str = key["secret"]
    row = (
        await session.execute(
            text("SELECT *, api_keys::text AS whole_row FROM api_keys WHERE id = :id"),
            {"id": uuid.UUID(key["id"])},
        )
    ).one()
    for column, value in row._mapping.items():
        assert secret not in str(value), column
        if isinstance(value, bytes):
            assert secret.encode() not in value, column


async def test_new_key_works_and_me_shows_role_and_scope(
    client: httpx.AsyncClient, admin: dict[str, str], institution: Institution, unit: Unit
) -> None:
    key = await _created(client, admin, role="unit_operator", unit_id=unit.id, name="Operator")
    response = await client.get("/v1/me", headers=_bearer(key["secret"]))
    assert response.status_code == 200
    assert response.json() == {
        "kind": "api_key",
        "id": key["id"],
        "email": None,
        "role": "unit_operator",
        "name": "Operator",
        "institution_id": str(institution.id),
        "unit_id": str(unit.id),
        "hub_id": None,
    }


async def test_key_with_future_expiry_works(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    expires = datetime.now(UTC) + timedelta(days=30)
    key = await _created(client, admin, role="evaluator", expires_at=expires.isoformat())
    assert datetime.fromisoformat(key["expires_at"]) == expires
    response = await client.get("/v1/me", headers=_bearer(key["secret"]))
    assert response.status_code == 200


async def test_key_past_its_expiry_is_401_token_expired(
    client: httpx.AsyncClient, admin: dict[str, str], session: AsyncSession
) -> None:
    key = await _created(client, admin, role="evaluator", expires_at=_soon())
    await session.execute(
        text("UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = :id"),
        {"id": key["id"]},
    )
    response = await client.get("/v1/me", headers=_bearer(key["secret"]))
    _problem(response, 401, "auth.token_expired")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def _soon() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


async def test_using_a_key_records_its_last_use(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    # The use is written on its own connection, outside the request's transaction, so this key
    # must be committed for real (and is deleted again).
    async with AsyncSession(engine, expire_on_commit=False) as own, own.begin():
        issued = await issue_api_key(own, None, ApiKeyCreate(name="last use", role=Role.evaluator))
    try:
        assert issued.key.last_used_at is None
        before = datetime.now(UTC)
        response = await client.get("/v1/me", headers=_bearer(issued.secret))
        assert response.status_code == 200
        async with engine.connect() as conn:
            last_used = await conn.scalar(
                select(ApiKey.last_used_at).where(ApiKey.id == issued.key.id)
            )
        assert last_used is not None
        assert last_used >= before - timedelta(seconds=1)
    finally:
        async with engine.begin() as conn:
            await conn.execute(delete(ApiKey).where(ApiKey.id == issued.key.id))


# --- scope validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"role": "local_admin"}, "api_key.institution_required", "/institution_id"),
        ({"role": "regional_system"}, "api_key.institution_required", "/institution_id"),
        ({"role": "unit_operator"}, "api_key.unit_required", "/unit_id"),
        ({"role": "hub_admin"}, "api_key.hub_required", "/hub_id"),
    ],
)
async def test_missing_scope_is_a_422(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    body: dict[str, str],
    code: str,
    pointer: str,
) -> None:
    problem = _problem(await _create(client, admin, **body), 422, code)
    assert [e["pointer"] for e in problem["errors"]] == [pointer]


@pytest.mark.parametrize(
    ("role", "field"),
    [
        ("secretariat_admin", "institution_id"),
        ("secretariat_admin", "hub_id"),
        ("local_admin", "unit_id"),
        ("hub_admin", "institution_id"),
        ("evaluator", "unit_id"),
    ],
)
async def test_scope_the_role_does_not_have_is_a_422(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    institution: Institution,
    unit: Unit,
    role: str,
    field: str,
) -> None:
    values = {"institution_id": institution.id, "unit_id": unit.id, "hub_id": uuid.uuid4()}
    extra = {"institution_id": institution.id} if role == "local_admin" else {}
    if role == "hub_admin":
        extra = {"hub_id": uuid.uuid4()}
    response = await _create(client, admin, role=role, **{**extra, field: values[field]})
    problem = _problem(response, 422, "api_key.scope_not_allowed")
    assert problem["errors"][0]["pointer"] == f"/{field}"


async def test_expiry_in_the_past_is_a_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    past = datetime.now(UTC) - timedelta(minutes=1)
    response = await _create(client, admin, role="evaluator", expires_at=past.isoformat())
    problem = _problem(response, 422, "api_key.expiry_past")
    assert problem["errors"][0]["pointer"] == "/expires_at"


async def test_expiry_without_time_zone_is_a_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await _create(client, admin, role="evaluator", expires_at="2099-01-01T00:00:00")
    problem = _problem(response, 422, "validation_failed")
    assert problem["errors"][0]["pointer"] == "/expires_at"


async def test_unknown_institution_is_a_422(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await _create(client, admin, role="local_admin", institution_id=uuid.uuid4())
    problem = _problem(response, 422, "api_key.institution_not_found")
    assert problem["errors"][0]["pointer"] == "/institution_id"


async def test_unknown_unit_is_a_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await _create(client, admin, role="unit_operator", unit_id=uuid.uuid4())
    _problem(response, 422, "api_key.unit_not_found")


async def test_unit_of_another_institution_is_a_422(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    unit: Unit,
    other_institution: Institution,
) -> None:
    response = await _create(
        client, admin, role="unit_operator", unit_id=unit.id, institution_id=other_institution.id
    )
    _problem(response, 422, "api_key.scope_mismatch")


async def test_failed_issue_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    before = await session.scalar(text("SELECT count(*) FROM api_keys"))
    await _create(client, admin, role="local_admin", institution_id=uuid.uuid4())
    after = await session.scalar(text("SELECT count(*) FROM api_keys"))
    assert after == before


# --- what a local admin may issue ------------------------------------------------------------


async def test_local_admin_issues_unit_operator_key_for_own_unit(
    client: httpx.AsyncClient, local_admin: dict[str, str], institution: Institution, unit: Unit
) -> None:
    key = await _created(client, local_admin, role="unit_operator", unit_id=unit.id)
    assert key["institution_id"] == str(institution.id)
    assert key["unit_id"] == str(unit.id)


async def test_local_admin_issues_regional_system_key_for_own_institution(
    client: httpx.AsyncClient, local_admin: dict[str, str], institution: Institution
) -> None:
    key = await _created(client, local_admin, role="regional_system", institution_id=institution.id)
    assert key["institution_id"] == str(institution.id)


async def test_local_admin_may_not_issue_a_secretariat_admin_key(
    client: httpx.AsyncClient, local_admin: dict[str, str]
) -> None:
    response = await _create(client, local_admin, role="secretariat_admin")
    _problem(response, 403, "api_key.grant_forbidden")


async def test_local_admin_may_not_issue_a_local_admin_key(
    client: httpx.AsyncClient, local_admin: dict[str, str], institution: Institution
) -> None:
    response = await _create(client, local_admin, role="local_admin", institution_id=institution.id)
    _problem(response, 403, "api_key.grant_forbidden")


async def test_local_admin_may_not_issue_a_key_for_another_institution(
    client: httpx.AsyncClient, local_admin: dict[str, str], other_institution: Institution
) -> None:
    response = await _create(
        client, local_admin, role="regional_system", institution_id=other_institution.id
    )
    _problem(response, 403, "api_key.grant_forbidden")


async def test_local_admin_may_not_issue_a_key_for_another_institutions_unit(
    client: httpx.AsyncClient,
    local_admin: dict[str, str],
    make_unit: UnitFactory,
    other_institution: Institution,
) -> None:
    foreign_unit = await make_unit(other_institution)
    response = await _create(client, local_admin, role="unit_operator", unit_id=foreign_unit.id)
    _problem(response, 403, "api_key.grant_forbidden")


async def test_forbidden_grant_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession, local_admin: dict[str, str]
) -> None:
    before = await session.scalar(text("SELECT count(*) FROM api_keys"))
    await _create(client, local_admin, role="secretariat_admin")
    after = await session.scalar(text("SELECT count(*) FROM api_keys"))
    assert after == before


# --- listing and reading in scope ------------------------------------------------------------


async def test_local_admin_lists_only_its_institutions_keys(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    local_admin: dict[str, str],
    institution: Institution,
    other_institution: Institution,
) -> None:
    own = await _created(client, admin, role="regional_system", institution_id=institution.id)
    foreign = await _created(
        client, admin, role="regional_system", institution_id=other_institution.id
    )
    response = await client.get("/v1/api-keys", params={"limit": "100"}, headers=local_admin)
    assert response.status_code == 200
    items = response.json()["items"]
    ids = {i["id"] for i in items}
    assert own["id"] in ids
    assert foreign["id"] not in ids
    assert {i["institution_id"] for i in items} == {str(institution.id)}


async def test_local_admin_filtering_on_another_institution_gets_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    local_admin: dict[str, str],
    other_institution: Institution,
) -> None:
    await _created(client, admin, role="regional_system", institution_id=other_institution.id)
    response = await client.get(
        "/v1/api-keys",
        params={"institution_id": str(other_institution.id), "include_total": "true"},
        headers=local_admin,
    )
    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["total"] == 0


async def test_local_admin_gets_404_for_another_institutions_key(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    local_admin: dict[str, str],
    other_institution: Institution,
) -> None:
    foreign = await _created(
        client, admin, role="regional_system", institution_id=other_institution.id
    )
    response = await client.get(f"/v1/api-keys/{foreign['id']}", headers=local_admin)
    _problem(response, 404, "api_key.not_found")


async def test_local_admin_reads_its_institutions_key(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    local_admin: dict[str, str],
    institution: Institution,
) -> None:
    own = await _created(client, admin, role="regional_system", institution_id=institution.id)
    response = await client.get(f"/v1/api-keys/{own['id']}", headers=local_admin)
    assert response.status_code == 200
    assert response.json()["id"] == own["id"]


@pytest.mark.parametrize("role", ["local_admin", "evaluator"])
async def test_local_admin_does_not_see_keys_it_could_not_issue(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    local_admin: dict[str, str],
    institution: Institution,
    role: str,
) -> None:
    peer = await _created(client, admin, role=role, institution_id=institution.id)
    listed = await client.get("/v1/api-keys", params={"limit": "100"}, headers=local_admin)
    assert peer["id"] not in {i["id"] for i in listed.json()["items"]}
    assert {i["role"] for i in listed.json()["items"]} <= {"unit_operator", "regional_system"}
    response = await client.get(f"/v1/api-keys/{peer['id']}", headers=local_admin)
    _problem(response, 404, "api_key.not_found")


async def test_local_admin_may_not_revoke_a_peer_local_admins_key(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    local_admin: dict[str, str],
    institution: Institution,
) -> None:
    peer = await _created(client, admin, role="local_admin", institution_id=institution.id)
    response = await client.delete(f"/v1/api-keys/{peer['id']}", headers=local_admin)
    _problem(response, 404, "api_key.not_found")
    assert (await client.get("/v1/me", headers=_bearer(peer["secret"]))).status_code == 200


async def test_local_admin_filtering_on_a_role_it_cannot_see_gets_nothing(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    local_admin: dict[str, str],
    institution: Institution,
) -> None:
    await _created(client, admin, role="local_admin", institution_id=institution.id)
    response = await client.get("/v1/api-keys", params={"role": "local_admin"}, headers=local_admin)
    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_unknown_key_id_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get(f"/v1/api-keys/{uuid.uuid4()}", headers=admin)
    _problem(response, 404, "api_key.not_found")


async def test_list_filters_by_role(
    client: httpx.AsyncClient, admin: dict[str, str], institution: Institution
) -> None:
    await _created(client, admin, role="regional_system", institution_id=institution.id)
    await _created(client, admin, role="local_admin", institution_id=institution.id)
    response = await client.get(
        "/v1/api-keys",
        params={"institution_id": str(institution.id), "role": "local_admin"},
        headers=admin,
    )
    assert [i["role"] for i in response.json()["items"]] == ["local_admin"]


@pytest.mark.parametrize("role", [Role.unit_operator, Role.evaluator, Role.regional_system])
async def test_other_roles_may_not_manage_keys(
    client: httpx.AsyncClient,
    auth: KeyFactory,
    institution: Institution,
    unit: Unit,
    role: Role,
) -> None:
    headers = await auth(role, **_scope_for(role, institution, unit))
    _problem(await client.get("/v1/api-keys", headers=headers), 403, "auth.role_forbidden")
    _problem(await _create(client, headers, role="evaluator"), 403, "auth.role_forbidden")


# --- revoking --------------------------------------------------------------------------------


async def test_revoke_is_204_and_the_key_stops_working(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = await _created(client, admin, role="evaluator")
    assert (await client.get("/v1/me", headers=_bearer(key["secret"]))).status_code == 200
    response = await client.delete(f"/v1/api-keys/{key['id']}", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    refused = await client.get("/v1/me", headers=_bearer(key["secret"]))
    _problem(refused, 401, "auth.invalid_credentials")


async def test_revoked_key_shows_when_it_was_revoked(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = await _created(client, admin, role="evaluator")
    await client.delete(f"/v1/api-keys/{key['id']}", headers=admin)
    response = await client.get(f"/v1/api-keys/{key['id']}", headers=admin)
    assert response.json()["revoked_at"] is not None
    listed = await client.get("/v1/api-keys", params={"revoked": "true"}, headers=admin)
    assert key["id"] in {i["id"] for i in listed.json()["items"]}


async def test_revoking_twice_is_204_and_keeps_the_first_time(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    key = await _created(client, admin, role="evaluator")
    await client.delete(f"/v1/api-keys/{key['id']}", headers=admin)
    first = (await client.get(f"/v1/api-keys/{key['id']}", headers=admin)).json()["revoked_at"]
    response = await client.delete(f"/v1/api-keys/{key['id']}", headers=admin)
    assert response.status_code == 204
    again = (await client.get(f"/v1/api-keys/{key['id']}", headers=admin)).json()["revoked_at"]
    assert again == first


async def test_local_admin_revokes_its_institutions_key(
    client: httpx.AsyncClient,
    local_admin: dict[str, str],
    institution: Institution,
) -> None:
    key = await _created(client, local_admin, role="regional_system", institution_id=institution.id)
    response = await client.delete(f"/v1/api-keys/{key['id']}", headers=local_admin)
    assert response.status_code == 204


async def test_local_admin_may_not_revoke_another_institutions_key(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    local_admin: dict[str, str],
    other_institution: Institution,
) -> None:
    foreign = await _created(
        client, admin, role="regional_system", institution_id=other_institution.id
    )
    response = await client.delete(f"/v1/api-keys/{foreign['id']}", headers=local_admin)
    _problem(response, 404, "api_key.not_found")
    revoked_at = await session.scalar(
        select(ApiKey.revoked_at).where(ApiKey.id == uuid.UUID(foreign["id"]))
    )
    assert revoked_at is None


async def test_revoking_an_unknown_key_is_404(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.delete(f"/v1/api-keys/{uuid.uuid4()}", headers=admin)
    _problem(response, 404, "api_key.not_found")


# --- /v1/me ----------------------------------------------------------------------------------


async def test_me_for_the_secretariat_admin_has_no_scope(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = (await client.get("/v1/me", headers=admin)).json()
    assert body["role"] == "secretariat_admin"
    assert (body["institution_id"], body["unit_id"], body["hub_id"]) == (None, None, None)


async def test_me_for_a_local_admin_shows_its_institution(
    client: httpx.AsyncClient, local_admin: dict[str, str], institution: Institution
) -> None:
    body = (await client.get("/v1/me", headers=local_admin)).json()
    assert body["role"] == "local_admin"
    assert body["institution_id"] == str(institution.id)
