"""People's accounts: `/v1/users`. Creating within the hierarchy (nobody grants wider than their
own), scope fields per role, duplicate emails, listing in scope, and editing with If-Match."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.accounts import ApiKey, User
from app.models.enums import Role
from app.models.institutions import Institution, Unit
from tests.conftest import (
    TEST_PASSWORD,
    HubFactory,
    InstitutionFactory,
    UnitFactory,
    UserFactory,
    bearer_for,
)
from tests.domains import assert_problem
from tests.fixtures.etag import if_match as with_current_etag

PASSWORD = "a long enough passphrase"
HUB_ID = uuid.UUID(int=42)
NOT_ALLOWED = "user.scope_not_allowed"


@pytest.fixture(autouse=True)
async def _hub(make_hub: HubFactory) -> None:
    """The hub HUB_ID names (accounts may only name a hub that exists)."""
    await make_hub(id=HUB_ID)


@pytest.fixture
async def other_institution(make_institution: InstitutionFactory) -> Institution:
    return await make_institution()


@pytest.fixture
async def other_unit(make_unit: UnitFactory, other_institution: Institution) -> Unit:
    return await make_unit(other_institution)


@pytest.fixture
async def local_admin_user(make_user: UserFactory, institution: Institution) -> User:
    return await make_user(Role.local_admin, institution_id=institution.id)


@pytest.fixture
def local_admin(settings: Settings, local_admin_user: User) -> dict[str, str]:
    """A local admin signed in as a person (an access token, not an API key)."""
    return bearer_for(settings, local_admin_user)


def _email(tag: str = "user") -> str:
    return f"{tag}.{uuid.uuid4().hex[:10]}@example.go.id"


def _jsonable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in body.items()}


async def _create(
    client: httpx.AsyncClient, headers: dict[str, str], role: str, **fields: Any
) -> httpx.Response:
    body = {"email": _email(role), "name": "Rina Siregar", "role": role, "password": PASSWORD}
    body.update(fields)
    return await client.post("/v1/users", json=_jsonable(body), headers=headers)


async def _created(
    client: httpx.AsyncClient, headers: dict[str, str], role: str, **fields: Any
) -> dict[str, Any]:
    response = await _create(client, headers, role, **fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _patch(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    user_id: uuid.UUID | str,
    body: dict[str, Any],
    if_match: str | None = None,
) -> httpx.Response:
    extra = {"If-Match": if_match} if if_match is not None else {}
    return await client.patch(
        f"/v1/users/{user_id}",
        json=_jsonable(body),
        headers=await with_current_etag(client, f"/v1/users/{user_id}", {**headers, **extra}),
    )


async def _list(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get("/v1/users", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


def _scope_for(role: str, institution: Institution, unit: Unit) -> dict[str, Any]:
    return {
        "secretariat_admin": {},
        "local_admin": {"institution_id": institution.id},
        "unit_operator": {"unit_id": unit.id},
        "evaluator": {},
        "hub_admin": {"hub_id": HUB_ID},
    }[role]


# --- creating as the secretariat -------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["secretariat_admin", "local_admin", "unit_operator", "evaluator", "hub_admin"]
)
async def test_secretariat_creates_each_person_role(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    institution: Institution,
    unit: Unit,
    role: str,
) -> None:
    response = await _create(client, admin, role, **_scope_for(role, institution, unit))
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/users/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert body["role"] == role
    assert body["is_active"] is True
    assert body["version"] == 1
    institution_scoped = role in ("local_admin", "unit_operator")
    assert body["institution_id"] == (str(institution.id) if institution_scoped else None)
    assert body["unit_id"] == (str(unit.id) if role == "unit_operator" else None)
    assert body["hub_id"] == (str(HUB_ID) if role == "hub_admin" else None)
    assert not {"password", "password_hash"} & set(body)
    assert PASSWORD not in response.text
    assert "argon2" not in response.text


async def test_created_user_can_sign_in_with_its_password(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = await _created(client, admin, "evaluator")
    response = await client.post(
        "/v1/auth/token", json={"email": user["email"], "password": PASSWORD}
    )
    assert response.status_code == 200, response.text


async def test_evaluator_may_belong_to_an_institution(
    client: httpx.AsyncClient, admin: dict[str, str], institution: Institution
) -> None:
    user = await _created(client, admin, "evaluator", institution_id=institution.id)
    assert user["institution_id"] == str(institution.id)


async def test_email_is_stored_in_lower_case(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    user = await _created(client, admin, "evaluator", email="Rina.Siregar@PemkoMedan.go.id")
    assert user["email"] == "rina.siregar@pemkomedan.go.id"


async def test_creator_key_is_recorded(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    key_id = (await client.get("/v1/me", headers=admin)).json()["id"]
    user = await _created(client, admin, "evaluator")
    stored = await session.get(User, uuid.UUID(user["id"]))
    assert stored is not None
    assert str(stored.created_by_api_key_id) == key_id
    assert stored.created_by_user_id is None


# --- creating as a local admin ---------------------------------------------------------------


async def test_local_admin_creates_a_unit_operator_in_its_institution(
    client: httpx.AsyncClient,
    session: AsyncSession,
    local_admin: dict[str, str],
    local_admin_user: User,
    institution: Institution,
    unit: Unit,
) -> None:
    user = await _created(client, local_admin, "unit_operator", unit_id=unit.id)
    assert user["institution_id"] == str(institution.id)
    assert user["unit_id"] == str(unit.id)
    stored = await session.get(User, uuid.UUID(user["id"]))
    assert stored is not None
    assert stored.created_by_user_id == local_admin_user.id
    assert stored.created_by_api_key_id is None


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("secretariat_admin", {}),
        ("local_admin", {"institution_id": "own"}),
        ("evaluator", {}),
        ("evaluator", {"institution_id": "own"}),
        ("hub_admin", {"hub_id": HUB_ID}),
    ],
)
async def test_local_admin_may_not_grant_a_role_other_than_unit_operator(
    client: httpx.AsyncClient,
    session: AsyncSession,
    local_admin: dict[str, str],
    institution: Institution,
    role: str,
    scope: dict[str, Any],
) -> None:
    fields = {k: institution.id if v == "own" else v for k, v in scope.items()}
    before = await _count_users(session)
    response = await _create(client, local_admin, role, **fields)
    assert_problem(response, 403, "user.grant_forbidden")
    assert await _count_users(session) == before


async def test_local_admin_may_not_create_an_operator_in_another_institutions_unit(
    client: httpx.AsyncClient, local_admin: dict[str, str], other_unit: Unit
) -> None:
    response = await _create(client, local_admin, "unit_operator", unit_id=other_unit.id)
    assert_problem(response, 403, "user.grant_forbidden")


async def test_local_admin_naming_the_other_institution_of_a_foreign_unit_is_403(
    client: httpx.AsyncClient,
    local_admin: dict[str, str],
    other_institution: Institution,
    other_unit: Unit,
) -> None:
    response = await _create(
        client,
        local_admin,
        "unit_operator",
        unit_id=other_unit.id,
        institution_id=other_institution.id,
    )
    assert_problem(response, 403, "user.grant_forbidden")


async def test_local_admin_naming_another_institution_for_its_own_unit_is_422(
    client: httpx.AsyncClient,
    local_admin: dict[str, str],
    unit: Unit,
    other_institution: Institution,
) -> None:
    """The unit and the institution disagree: the scope is checked before the grant."""
    response = await _create(
        client, local_admin, "unit_operator", unit_id=unit.id, institution_id=other_institution.id
    )
    assert_problem(response, 422, "user.scope_mismatch", pointer="/institution_id")


async def test_local_admin_may_not_create_a_local_admin_of_another_institution(
    client: httpx.AsyncClient, local_admin: dict[str, str], other_institution: Institution
) -> None:
    response = await _create(
        client, local_admin, "local_admin", institution_id=other_institution.id
    )
    assert_problem(response, 403, "user.grant_forbidden")


async def test_local_admin_token_may_not_issue_a_secretariat_admin_key(
    client: httpx.AsyncClient, session: AsyncSession, local_admin: dict[str, str]
) -> None:
    before = await session.scalar(select(func.count()).select_from(ApiKey))
    response = await client.post(
        "/v1/api-keys", json={"name": "Kunci", "role": "secretariat_admin"}, headers=local_admin
    )
    assert_problem(response, 403, "api_key.grant_forbidden")
    assert await session.scalar(select(func.count()).select_from(ApiKey)) == before


async def test_local_admin_token_may_not_issue_a_key_for_another_institution(
    client: httpx.AsyncClient, local_admin: dict[str, str], other_institution: Institution
) -> None:
    response = await client.post(
        "/v1/api-keys",
        json={
            "name": "Kunci",
            "role": "regional_system",
            "institution_id": str(other_institution.id),
        },
        headers=local_admin,
    )
    assert_problem(response, 403, "api_key.grant_forbidden")


async def test_local_admin_token_issues_a_key_recorded_as_its_own(
    client: httpx.AsyncClient,
    session: AsyncSession,
    local_admin: dict[str, str],
    local_admin_user: User,
    institution: Institution,
) -> None:
    response = await client.post(
        "/v1/api-keys",
        json={"name": "Kunci", "role": "regional_system", "institution_id": str(institution.id)},
        headers=local_admin,
    )
    assert response.status_code == 201, response.text
    key = await session.get(ApiKey, uuid.UUID(response.json()["id"]))
    assert key is not None
    assert key.created_by_user_id == local_admin_user.id


@pytest.mark.parametrize("role", [Role.unit_operator, Role.evaluator, Role.hub_admin])
async def test_roles_without_account_rights_may_not_create_accounts(
    client: httpx.AsyncClient,
    settings: Settings,
    make_user: UserFactory,
    unit: Unit,
    role: Role,
) -> None:
    scope = {Role.unit_operator: {"unit_id": unit.id}, Role.hub_admin: {"hub_id": HUB_ID}}
    person = await make_user(role, **scope.get(role, {}))
    response = await _create(client, bearer_for(settings, person), "unit_operator", unit_id=unit.id)
    assert_problem(response, 403, "auth.role_forbidden")


# --- fields and scope ------------------------------------------------------------------------


async def test_regional_system_is_not_a_person_role(
    client: httpx.AsyncClient, admin: dict[str, str], institution: Institution
) -> None:
    response = await _create(client, admin, "regional_system", institution_id=institution.id)
    assert_problem(response, 422, "validation_failed", pointer="/role")


@pytest.mark.parametrize(
    ("role", "fields", "code", "pointer"),
    [
        ("unit_operator", {}, "user.unit_required", "/unit_id"),
        ("hub_admin", {}, "user.hub_required", "/hub_id"),
        ("local_admin", {}, "user.institution_required", "/institution_id"),
        ("secretariat_admin", {"institution_id": "own"}, NOT_ALLOWED, "/institution_id"),
        ("secretariat_admin", {"hub_id": HUB_ID}, NOT_ALLOWED, "/hub_id"),
        ("local_admin", {"institution_id": "own", "unit_id": "unit"}, NOT_ALLOWED, "/unit_id"),
        ("evaluator", {"hub_id": HUB_ID}, NOT_ALLOWED, "/hub_id"),
    ],
)
async def test_scope_fields_must_fit_the_role(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    institution: Institution,
    unit: Unit,
    role: str,
    fields: dict[str, Any],
    code: str,
    pointer: str,
) -> None:
    values = {"own": institution.id, "unit": unit.id}
    fields = {k: values.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}
    response = await _create(client, admin, role, **fields)
    assert_problem(response, 422, code, pointer=pointer)


async def test_unknown_unit_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await _create(client, admin, "unit_operator", unit_id=uuid.uuid4())
    assert_problem(response, 422, "user.unit_not_found", pointer="/unit_id")


async def test_unknown_institution_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await _create(client, admin, "local_admin", institution_id=uuid.uuid4())
    assert_problem(response, 422, "user.institution_not_found", pointer="/institution_id")


@pytest.mark.parametrize(
    ("field", "value"),
    [("password", "too short"), ("email", "not-an-email"), ("name", "R")],
)
async def test_invalid_fields_are_422(
    client: httpx.AsyncClient, admin: dict[str, str], field: str, value: str
) -> None:
    response = await _create(client, admin, "evaluator", **{field: value})
    assert_problem(response, 422, "validation_failed", pointer=f"/{field}")


async def test_duplicate_email_in_another_case_is_409(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], make_user: UserFactory
) -> None:
    existing = await make_user(Role.evaluator, email=f"Rina.{uuid.uuid4().hex[:6]}@Example.GO.ID")
    before = await _count_users(session)
    response = await _create(client, admin, "evaluator", email=existing.email.lower())
    assert_problem(response, 409, "user.duplicate_email", pointer="/email")
    assert await _count_users(session) == before


async def test_duplicate_email_through_the_api_is_409(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    email = _email("dup")
    await _created(client, admin, "evaluator", email=email)
    response = await _create(client, admin, "hub_admin", email=email.upper(), hub_id=HUB_ID)
    assert_problem(response, 409, "user.duplicate_email")


# --- listing and reading ---------------------------------------------------------------------


@pytest.fixture
async def two_institutions_of_people(
    make_user: UserFactory,
    institution: Institution,
    unit: Unit,
    other_institution: Institution,
    other_unit: Unit,
) -> dict[str, User]:
    """Accounts in both institutions, plus a national evaluator, all named with one tag."""
    tag = uuid.uuid4().hex[:8]
    return {
        "operator": await make_user(Role.unit_operator, unit_id=unit.id, name=f"Ana {tag}"),
        "peer": await make_user(
            Role.local_admin, institution_id=institution.id, name=f"Budi {tag}"
        ),
        "foreign_operator": await make_user(
            Role.unit_operator, unit_id=other_unit.id, name=f"Citra {tag}"
        ),
        "foreign_admin": await make_user(
            Role.local_admin, institution_id=other_institution.id, name=f"Dewi {tag}"
        ),
        "evaluator": await make_user(Role.evaluator, name=f"Eko {tag}", is_active=False),
    }


def _ids(page: dict[str, Any]) -> set[str]:
    return {item["id"] for item in page["items"]}


async def test_secretariat_lists_every_account(
    client: httpx.AsyncClient, admin: dict[str, str], two_institutions_of_people: dict[str, User]
) -> None:
    page = await _list(client, admin, limit=100)
    assert {str(u.id) for u in two_institutions_of_people.values()} <= _ids(page)


async def test_local_admin_lists_only_its_institutions_accounts(
    client: httpx.AsyncClient,
    local_admin: dict[str, str],
    local_admin_user: User,
    institution: Institution,
    two_institutions_of_people: dict[str, User],
) -> None:
    people = two_institutions_of_people
    page = await _list(client, local_admin, limit=100)
    assert _ids(page) == {
        str(local_admin_user.id),
        str(people["operator"].id),
        str(people["peer"].id),
    }
    assert {item["institution_id"] for item in page["items"]} == {str(institution.id)}


async def test_local_admin_filtering_on_another_institution_gets_nothing(
    client: httpx.AsyncClient,
    local_admin: dict[str, str],
    other_institution: Institution,
    two_institutions_of_people: dict[str, User],
) -> None:
    page = await _list(
        client, local_admin, institution_id=str(other_institution.id), include_total="true"
    )
    assert page["items"] == []
    assert page["total"] == 0
    assert page["has_more"] is False


async def test_list_never_shows_password_hashes(
    client: httpx.AsyncClient, admin: dict[str, str], two_institutions_of_people: dict[str, User]
) -> None:
    response = await client.get("/v1/users", params={"limit": 100}, headers=admin)
    assert all(
        "password_hash" not in item and "password" not in item for item in response.json()["items"]
    )
    assert "$argon2" not in response.text


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"role": "local_admin"}, {"peer", "foreign_admin"}),
        ({"role": ["local_admin", "evaluator"]}, {"peer", "foreign_admin", "evaluator"}),
        ({"is_active": "false"}, {"evaluator"}),
        ({"q": "citra"}, {"foreign_operator"}),
        ({"unit_id": "unit"}, {"operator"}),
        ({"institution_id": "other"}, {"foreign_operator", "foreign_admin"}),
    ],
)
async def test_list_filters(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    unit: Unit,
    other_institution: Institution,
    two_institutions_of_people: dict[str, User],
    params: dict[str, Any],
    expected: set[str],
) -> None:
    people = two_institutions_of_people
    tag = people["operator"].name.split()[1]
    values = {"unit": str(unit.id), "other": str(other_institution.id)}
    query = {k: values.get(v, v) if isinstance(v, str) else v for k, v in params.items()}
    # Narrowed to this test's people by their shared tag, unless q is the filter under test.
    query.setdefault("q", tag)
    if params.get("q"):
        query["q"] = f"{params['q']} {tag}"
    page = await _list(client, admin, limit=100, **query)
    assert _ids(page) == {str(people[name].id) for name in expected}


async def test_q_matches_the_email_too(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    marker = uuid.uuid4().hex[:10]
    user = await make_user(Role.evaluator, email=f"kepala.{marker}@example.go.id")
    page = await _list(client, admin, q=marker)
    assert _ids(page) == {str(user.id)}


@pytest.mark.parametrize("wildcard", ["%", "_"])
async def test_q_takes_sql_wildcards_literally(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory, wildcard: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    literal = await make_user(Role.evaluator, name=f"Persen {wildcard} {tag}")
    await make_user(Role.evaluator, name=f"Persen x {tag}")
    page = await _list(client, admin, q=f"Persen {wildcard} {tag}")
    assert _ids(page) == {str(literal.id)}


async def test_list_pages_through_every_match_once_in_name_order(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    tag = uuid.uuid4().hex[:8]
    names = [f"{letter} {tag}" for letter in "EDCBA"]
    for name in names:
        await make_user(Role.evaluator, name=name)
    seen: list[str] = []
    params: dict[str, Any] = {"q": tag, "limit": 2}
    pages = 0
    while True:
        page = await _list(client, admin, **params)
        pages += 1
        seen += [item["name"] for item in page["items"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        params["cursor"] = page["next_cursor"]
    assert seen == sorted(names)
    assert pages == 3


async def test_list_sorted_by_name_descending(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    tag = uuid.uuid4().hex[:8]
    for letter in "BCA":
        await make_user(Role.evaluator, name=f"{letter} {tag}")
    page = await _list(client, admin, q=tag, sort="-name")
    assert [item["name"] for item in page["items"]] == [f"{x} {tag}" for x in "CBA"]


async def test_cursor_from_another_filter_is_400(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    tag = uuid.uuid4().hex[:8]
    for letter in "ABC":
        await make_user(Role.evaluator, name=f"{letter} {tag}")
    cursor = (await _list(client, admin, q=tag, limit=1))["next_cursor"]
    response = await client.get("/v1/users", params={"q": "other", "cursor": cursor}, headers=admin)
    assert_problem(response, 400, "cursor.mismatch")


async def test_get_returns_the_account_with_its_etag(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    response = await client.get(f"/v1/users/{user.id}", headers=admin)
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert response.headers["ETag"] == f'"{user.version}"'
    again = await client.get(
        f"/v1/users/{user.id}", headers={**admin, "If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


async def test_local_admin_reads_an_account_of_its_institution(
    client: httpx.AsyncClient, local_admin: dict[str, str], make_user: UserFactory, unit: Unit
) -> None:
    operator = await make_user(Role.unit_operator, unit_id=unit.id)
    response = await client.get(f"/v1/users/{operator.id}", headers=local_admin)
    assert response.status_code == 200


@pytest.mark.parametrize("whom", ["foreign_operator", "foreign_admin", "evaluator"])
async def test_local_admin_gets_404_for_accounts_outside_its_institution(
    client: httpx.AsyncClient,
    local_admin: dict[str, str],
    two_institutions_of_people: dict[str, User],
    whom: str,
) -> None:
    user = two_institutions_of_people[whom]
    response = await client.get(f"/v1/users/{user.id}", headers=local_admin)
    assert_problem(response, 404, "user.not_found")


async def test_unknown_user_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get(f"/v1/users/{uuid.uuid4()}", headers=admin)
    assert_problem(response, 404, "user.not_found")


# --- editing ---------------------------------------------------------------------------------


async def test_rename_with_the_current_etag(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    etag = (await client.get(f"/v1/users/{user.id}", headers=admin)).headers["ETag"]
    response = await _patch(client, admin, user.id, {"name": "Rina Siregar"}, if_match=etag)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Rina Siregar"
    assert response.json()["version"] == user.version + 1
    assert response.headers["ETag"] == f'"{user.version + 1}"'
    stored = await session.scalar(select(User.name).where(User.id == user.id))
    assert stored == "Rina Siregar"


async def test_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator, name="Nama Lama")
    stale = f'"{user.version}"'
    assert (await _patch(client, admin, user.id, {"name": "Nama Kedua"}, stale)).status_code == 200
    response = await _patch(client, admin, user.id, {"name": "Nama Ketiga"}, if_match=stale)
    body = assert_problem(response, 412, "user.version_mismatch")
    assert body["current_version"] == user.version + 1
    stored = await session.scalar(select(User.name).where(User.id == user.id))
    assert stored == "Nama Kedua"


async def test_local_admin_edits_its_unit_operator(
    client: httpx.AsyncClient, local_admin: dict[str, str], make_user: UserFactory, unit: Unit
) -> None:
    operator = await make_user(Role.unit_operator, unit_id=unit.id)
    response = await _patch(client, local_admin, operator.id, {"name": "Operator Baru"})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Operator Baru"


async def test_local_admin_may_not_edit_a_peer_local_admin(
    client: httpx.AsyncClient,
    local_admin: dict[str, str],
    make_user: UserFactory,
    institution: Institution,
) -> None:
    peer = await make_user(Role.local_admin, institution_id=institution.id)
    response = await _patch(client, local_admin, peer.id, {"is_active": False})
    assert_problem(response, 403, "user.manage_forbidden")


async def test_local_admin_may_not_edit_itself_through_users(
    client: httpx.AsyncClient, local_admin: dict[str, str], local_admin_user: User
) -> None:
    response = await _patch(client, local_admin, local_admin_user.id, {"name": "Saya Sendiri"})
    assert_problem(response, 403, "user.manage_forbidden")


async def test_local_admin_editing_another_institutions_account_is_404(
    client: httpx.AsyncClient, local_admin: dict[str, str], make_user: UserFactory, other_unit: Unit
) -> None:
    foreign = await make_user(Role.unit_operator, unit_id=other_unit.id)
    response = await _patch(client, local_admin, foreign.id, {"name": "Bukan Milikmu"})
    assert_problem(response, 404, "user.not_found")


async def test_nobody_disables_their_own_account(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory
) -> None:
    me = await make_user(Role.secretariat_admin)
    response = await _patch(client, bearer_for(settings, me), me.id, {"is_active": False})
    assert_problem(response, 409, "user.self_deactivation")


async def test_disabling_an_account_shows_in_the_list_filter(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    response = await _patch(client, admin, user.id, {"is_active": False})
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    page = await _list(client, admin, q=user.email, is_active="false")
    assert _ids(page) == {str(user.id)}


async def test_moving_a_unit_operator_within_its_institution(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_user: UserFactory,
    make_unit: UnitFactory,
    institution: Institution,
    unit: Unit,
) -> None:
    operator = await make_user(Role.unit_operator, unit_id=unit.id)
    sister = await make_unit(institution)
    response = await _patch(client, admin, operator.id, {"unit_id": sister.id})
    assert response.status_code == 200, response.text
    assert response.json()["unit_id"] == str(sister.id)


async def test_moving_a_unit_operator_to_another_institutions_unit_is_422(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_user: UserFactory,
    unit: Unit,
    other_unit: Unit,
) -> None:
    operator = await make_user(Role.unit_operator, unit_id=unit.id)
    response = await _patch(client, admin, operator.id, {"unit_id": other_unit.id})
    assert_problem(response, 422, "user.unit_not_found", pointer="/unit_id")


async def test_changing_email_to_a_taken_one_is_409(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    taken = await make_user(Role.evaluator)
    user = await make_user(Role.evaluator)
    response = await _patch(client, admin, user.id, {"email": taken.email.upper()})
    assert_problem(response, 409, "user.duplicate_email")


async def test_null_name_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    response = await _patch(client, admin, user.id, {"name": None})
    assert_problem(response, 422, "user.name_required", pointer="/name")


async def test_role_cannot_be_changed_by_patch(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    response = await _patch(client, admin, user.id, {"role": "secretariat_admin"})
    assert_problem(response, 422, "validation_failed", pointer="/role")


async def test_admin_password_reset_ends_the_users_tokens(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    signed_in = await client.post(
        "/v1/auth/token", json={"email": user.email, "password": TEST_PASSWORD}
    )
    live = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert (await client.get("/v1/me", headers=live)).status_code == 200
    response = await _patch(client, admin, user.id, {"password": "reset by the secretariat"})
    assert response.status_code == 200, response.text
    assert "reset by the secretariat" not in response.text
    assert_problem(await client.get("/v1/me", headers=live), 401, "auth.invalid_credentials")
    new = await client.post(
        "/v1/auth/token", json={"email": user.email, "password": "reset by the secretariat"}
    )
    assert new.status_code == 200, new.text
