"""Signing in: `POST /v1/auth/token` (JSON or the OAuth 2 password form), access tokens that
expire, resist tampering and rotate keys, password changes and disabled accounts that end
live tokens, and login throttling over HTTP."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.tokens import issue_access_token, password_epoch
from app.models.accounts import User
from app.models.enums import Role
from app.models.institutions import Institution, Unit
from tests.conftest import (
    TEST_PASSWORD,
    AppFactory,
    KeyFactory,
    UserFactory,
    bearer_for,
    client_for,
)
from tests.domains import assert_problem
from tests.fixtures.etag import if_match

NEW_PASSWORD = "a brand new passphrase 2026"
OLD_KEY = ("old", "old-signing-key-0123456789abcdef0123456789")
NEW_KEY = ("new", "new-signing-key-0123456789abcdef0123456789")


@pytest.fixture
async def operator(make_user: UserFactory, unit: Unit) -> User:
    return await make_user(Role.unit_operator, unit_id=unit.id)


async def _sign_in(
    client: httpx.AsyncClient, email: str, password: str = TEST_PASSWORD
) -> httpx.Response:
    return await client.post("/v1/auth/token", json={"email": email, "password": password})


async def _bearer(client: httpx.AsyncClient, email: str, password: str = TEST_PASSWORD) -> Any:
    """Sign in and return the Authorization headers for the token."""
    response = await _sign_in(client, email, password)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def _me(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get("/v1/me", headers=headers)


def _header(token: str) -> dict[str, Any]:
    return dict(jwt.get_unverified_header(token))


def _unverified_claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# --- signing in -------------------------------------------------------------------------------


async def test_sign_in_with_json_gives_a_bearer_token_for_me(
    client: httpx.AsyncClient, operator: User, institution: Institution, unit: Unit
) -> None:
    response = await _sign_in(client, operator.email)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    me = await _me(client, {"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {
        "kind": "user",
        "id": str(operator.id),
        "email": operator.email,
        "role": "unit_operator",
        "name": operator.name,
        "institution_id": str(institution.id),
        "unit_id": str(unit.id),
        "hub_id": None,
    }


async def test_sign_in_with_the_oauth2_password_form(
    client: httpx.AsyncClient, operator: User
) -> None:
    response = await client.post(
        "/v1/auth/token",
        data={"username": operator.email, "password": TEST_PASSWORD, "grant_type": "password"},
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    me = await _me(client, {"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["kind"] == "user"
    assert me.json()["email"] == operator.email


async def test_sign_in_ignores_the_case_of_the_email(
    client: httpx.AsyncClient, operator: User
) -> None:
    response = await _sign_in(client, operator.email.upper())
    assert response.status_code == 200, response.text


async def test_expires_in_matches_the_configured_lifetime(
    client: httpx.AsyncClient, settings: Settings, operator: User
) -> None:
    body = (await _sign_in(client, operator.email)).json()
    assert body["expires_in"] == settings.access_token_ttl_seconds
    claims = _unverified_claims(body["access_token"])
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds


async def test_expires_in_follows_a_changed_setting(make_app: AppFactory, operator: User) -> None:
    async with client_for(make_app(access_token_ttl_seconds=300)) as client:
        body = (await _sign_in(client, operator.email)).json()
    assert body["expires_in"] == 300
    claims = _unverified_claims(body["access_token"])
    assert claims["exp"] - claims["iat"] == 300


async def test_sign_in_records_the_last_login(
    client: httpx.AsyncClient, session: AsyncSession, operator: User
) -> None:
    assert operator.last_login_at is None
    await _bearer(client, operator.email)
    stored = await session.get(User, operator.id, populate_existing=True)
    assert stored is not None
    assert stored.last_login_at is not None


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "disabled account"])
async def test_failed_sign_ins_all_get_the_same_401(
    client: httpx.AsyncClient, make_user: UserFactory, case: str
) -> None:
    active = await make_user(Role.evaluator)
    disabled = await make_user(Role.evaluator, is_active=False)
    email, password = {
        "wrong password": (active.email, "not the password at all"),
        "unknown email": (f"nobody.{uuid.uuid4().hex[:8]}@example.go.id", TEST_PASSWORD),
        "disabled account": (disabled.email, TEST_PASSWORD),
    }[case]
    reference = await _sign_in(client, active.email, "another wrong password")
    response = await _sign_in(client, email, password)
    body = assert_problem(response, 401, "auth.invalid_credentials")
    expected = reference.json()
    for field in ("type", "title", "status", "detail", "code", "instance"):
        assert body[field] == expected[field], field
    assert set(body) == set(expected)
    assert response.headers["WWW-Authenticate"] == reference.headers["WWW-Authenticate"]


# --- tokens that must not work ----------------------------------------------------------------


async def test_token_past_its_expiry_is_401(
    client: httpx.AsyncClient, settings: Settings, operator: User
) -> None:
    issued_at = datetime.now(UTC) - timedelta(seconds=settings.access_token_ttl_seconds + 60)
    token = issue_access_token(settings, operator.id, operator.password_changed_at, issued_at)
    response = await _me(client, {"Authorization": f"Bearer {token.token}"})
    assert_problem(response, 401, "auth.token_expired")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


async def test_an_expired_forgery_is_invalid_not_expired(
    client: httpx.AsyncClient, settings: Settings, operator: User
) -> None:
    """Only a token the service signed learns that it expired: an expired token signed with
    another key is just invalid."""
    issued_at = datetime.now(UTC) - timedelta(seconds=settings.access_token_ttl_seconds + 60)
    claims = _claims(settings, operator, iat=issued_at, nbf=issued_at, exp=issued_at)
    token = _sign(claims, "an-unconfigured-key-0123456789abcdef012345", settings.signing_keys[0][0])
    response = await _me(client, {"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, "auth.invalid_credentials")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


async def test_token_near_the_end_of_its_lifetime_still_works(
    client: httpx.AsyncClient, settings: Settings, operator: User
) -> None:
    issued_at = datetime.now(UTC) - timedelta(seconds=settings.access_token_ttl_seconds - 60)
    token = issue_access_token(settings, operator.id, operator.password_changed_at, issued_at)
    response = await _me(client, {"Authorization": f"Bearer {token.token}"})
    assert response.status_code == 200


def _claims(settings: Settings, user: User, **changes: Any) -> dict[str, Any]:
    """The claims `issue_access_token` would write, with `changes` applied."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user.id),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": uuid.uuid4().hex,
        "pwe": password_epoch(user.password_changed_at),
    }
    claims.update(changes)
    return claims


def _sign(claims: dict[str, Any], secret: str, kid: str) -> str:
    return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})


def _replace_payload(token: str, **changes: Any) -> str:
    """The token with claims changed in its payload and its original signature kept."""
    header, _, signature = token.split(".")
    claims = _unverified_claims(token)
    claims.update(changes)
    return f"{header}.{_b64(claims)}.{signature}"


def _forge(case: str, settings: Settings, user: User, other: User) -> str:
    kid, secret = settings.signing_keys[0]
    valid = _sign(_claims(settings, user), secret, kid)
    if case == "hand-built and valid (control)":
        return valid
    if case == "payload altered to another user":
        return _replace_payload(valid, sub=str(other.id))
    if case == "payload altered to a later expiry":
        return _replace_payload(valid, exp=int(datetime.now(UTC).timestamp()) + 86_400)
    if case == "signature altered":
        header, payload, signature = valid.split(".")
        middle = len(signature) // 2
        flipped = "A" if signature[middle] != "A" else "B"
        return f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"
    if case == "alg none":
        claims = json.loads(
            json.dumps(_claims(settings, user), default=lambda d: int(d.timestamp()))
        )
        return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(claims)}."
    if case == "alg HS512 with the right key":
        return jwt.encode(_claims(settings, user), secret, algorithm="HS512", headers={"kid": kid})
    if case == "unknown kid":
        return _sign(_claims(settings, user), secret, "someone-elses-key")
    if case == "no kid":
        return jwt.encode(_claims(settings, user), secret, algorithm="HS256")
    if case == "wrong issuer":
        return _sign(_claims(settings, user, iss="somebody-else"), secret, kid)
    if case == "wrong audience":
        return _sign(_claims(settings, user, aud="another-api"), secret, kid)
    if case == "signed with a key that is not configured":
        return _sign(_claims(settings, user), "an-unconfigured-key-0123456789abcdef012345", kid)
    if case == "subject is not a user":
        return _sign(_claims(settings, user, sub=str(uuid.uuid4())), secret, kid)
    if case == "garbage":
        return "this-is-not-a-jwt"
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "payload altered to another user",
        "payload altered to a later expiry",
        "signature altered",
        "alg none",
        "alg HS512 with the right key",
        "unknown kid",
        "no kid",
        "wrong issuer",
        "wrong audience",
        "signed with a key that is not configured",
        "subject is not a user",
        "garbage",
    ],
)
async def test_tampered_token_is_401(
    client: httpx.AsyncClient,
    settings: Settings,
    make_user: UserFactory,
    operator: User,
    case: str,
) -> None:
    other = await make_user(Role.secretariat_admin)
    token = _forge(case, settings, operator, other)
    response = await _me(client, {"Authorization": f"Bearer {token}"})
    assert_problem(response, 401, "auth.invalid_credentials")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


async def test_hand_built_token_with_the_right_key_works(
    client: httpx.AsyncClient, settings: Settings, make_user: UserFactory, operator: User
) -> None:
    """The control for the tampering cases: the forging helpers build tokens the service
    accepts when nothing is wrong with them."""
    other = await make_user(Role.secretariat_admin)
    token = _forge("hand-built and valid (control)", settings, operator, other)
    response = await _me(client, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == str(operator.id)


# --- key rotation -----------------------------------------------------------------------------


async def test_token_signed_by_the_old_key_works_while_the_old_key_is_listed(
    make_app: AppFactory, operator: User
) -> None:
    async with client_for(make_app(jwt_signing_keys=[OLD_KEY])) as client:
        old_token = await _bearer(client, operator.email)
    assert _header(old_token["Authorization"].split()[1])["kid"] == "old"
    async with client_for(make_app(jwt_signing_keys=[NEW_KEY, OLD_KEY])) as client:
        assert (await _me(client, old_token)).status_code == 200
        new_token = await _bearer(client, operator.email)
        assert _header(new_token["Authorization"].split()[1])["kid"] == "new"
        assert (await _me(client, new_token)).status_code == 200


async def test_token_signed_by_the_old_key_is_refused_once_the_key_is_dropped(
    make_app: AppFactory, operator: User
) -> None:
    async with client_for(make_app(jwt_signing_keys=[OLD_KEY])) as client:
        old_token = await _bearer(client, operator.email)
    async with client_for(make_app(jwt_signing_keys=[NEW_KEY, OLD_KEY])) as client:
        new_token = await _bearer(client, operator.email)
    async with client_for(make_app(jwt_signing_keys=[NEW_KEY])) as client:
        assert_problem(await _me(client, old_token), 401, "auth.invalid_credentials")
        assert (await _me(client, new_token)).status_code == 200


# --- password changes and disabled accounts --------------------------------------------------


async def _change_password(
    client: httpx.AsyncClient, headers: dict[str, str], current: str, new: str
) -> httpx.Response:
    return await client.put(
        "/v1/me/password",
        json={"current_password": current, "new_password": new},
        headers=headers,
    )


async def test_changing_your_password_ends_the_tokens_issued_before(
    client: httpx.AsyncClient, settings: Settings, operator: User
) -> None:
    signed_in = await _bearer(client, operator.email)
    issued_directly = bearer_for(settings, operator)
    response = await _change_password(client, signed_in, TEST_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 204, response.text
    assert_problem(await _me(client, signed_in), 401, "auth.invalid_credentials")
    assert_problem(await _me(client, issued_directly), 401, "auth.invalid_credentials")


async def test_after_a_password_change_only_the_new_password_signs_in(
    client: httpx.AsyncClient, operator: User
) -> None:
    signed_in = await _bearer(client, operator.email)
    assert (await _change_password(client, signed_in, TEST_PASSWORD, NEW_PASSWORD)).is_success
    assert_problem(await _sign_in(client, operator.email), 401, "auth.invalid_credentials")
    fresh = await _bearer(client, operator.email, NEW_PASSWORD)
    me = await _me(client, fresh)
    assert me.status_code == 200
    assert me.json()["id"] == str(operator.id)


async def test_wrong_current_password_is_422_and_changes_nothing(
    client: httpx.AsyncClient, operator: User
) -> None:
    signed_in = await _bearer(client, operator.email)
    response = await _change_password(client, signed_in, "not my password", NEW_PASSWORD)
    assert_problem(response, 422, "user.wrong_password", pointer="/current_password")
    assert (await _me(client, signed_in)).status_code == 200
    assert (await _sign_in(client, operator.email)).status_code == 200


async def test_too_short_new_password_is_422(client: httpx.AsyncClient, operator: User) -> None:
    signed_in = await _bearer(client, operator.email)
    response = await _change_password(client, signed_in, TEST_PASSWORD, "short")
    assert_problem(response, 422, "validation_failed", pointer="/new_password")


async def test_an_api_key_has_no_password_to_change(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await _change_password(client, admin, TEST_PASSWORD, NEW_PASSWORD)
    assert_problem(response, 403, "auth.not_a_person")


async def test_disabling_an_account_ends_its_live_token_on_the_next_request(
    client: httpx.AsyncClient, admin: dict[str, str], operator: User
) -> None:
    live = await _bearer(client, operator.email)
    assert (await _me(client, live)).status_code == 200
    response = await client.patch(
        f"/v1/users/{operator.id}",
        json={"is_active": False},
        headers=await if_match(client, f"/v1/users/{operator.id}", admin),
    )
    assert response.status_code == 200, response.text
    assert_problem(await _me(client, live), 401, "auth.invalid_credentials")


async def test_a_disabled_account_signs_in_again_once_enabled(
    client: httpx.AsyncClient, admin: dict[str, str], make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator, is_active=False)
    assert_problem(await _sign_in(client, user.email), 401, "auth.invalid_credentials")
    response = await client.patch(
        f"/v1/users/{user.id}",
        json={"is_active": True},
        headers=await if_match(client, f"/v1/users/{user.id}", admin),
    )
    assert response.status_code == 200, response.text
    assert (await _sign_in(client, user.email)).status_code == 200


# --- login throttling ----------------------------------------------------------------------


def _assert_throttled(response: httpx.Response, window: int) -> None:
    assert_problem(response, 429, "auth.too_many_failures")
    # Until the oldest failure's step (a fifteenth of the window) is a whole window old.
    assert 1 <= int(response.headers["Retry-After"]) <= window + window // 15


async def test_account_is_throttled_after_its_failures_even_with_the_right_password(
    make_app: AppFactory, make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    other = await make_user(Role.evaluator)
    app = make_app(login_max_failures_per_account=3, login_failure_window_seconds=600)
    async with client_for(app) as client:
        for _ in range(3):
            response = await _sign_in(client, user.email, "wrong password, again")
            assert_problem(response, 401, "auth.invalid_credentials")
        _assert_throttled(await _sign_in(client, user.email), 600)
        _assert_throttled(await _sign_in(client, user.email.upper()), 600)
        assert (await _sign_in(client, other.email)).status_code == 200


async def test_wrong_current_passwords_count_as_failed_sign_ins(
    make_app: AppFactory, make_user: UserFactory, settings: Settings
) -> None:
    """A stolen token cannot guess the password through PUT /v1/me/password faster than
    through the sign-in form."""
    user = await make_user(Role.evaluator)
    app = make_app(login_max_failures_per_account=2, login_failure_window_seconds=600)
    headers = bearer_for(settings, user)
    wrong = {"current_password": "not the password", "new_password": "a brand new password"}
    async with client_for(app) as client:
        for _ in range(2):
            response = await client.put("/v1/me/password", json=wrong, headers=headers)
            assert_problem(response, 422, "user.wrong_password", pointer="/current_password")
        right = {**wrong, "current_password": TEST_PASSWORD}
        _assert_throttled(await client.put("/v1/me/password", json=right, headers=headers), 600)
        _assert_throttled(await _sign_in(client, user.email), 600)


async def test_address_is_throttled_after_its_failures(
    make_app: AppFactory, make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    app = make_app(
        login_max_failures_per_address=3,
        login_max_failures_per_account=10,
        login_failure_window_seconds=600,
    )
    async with client_for(app, "10.1.2.3") as client, client_for(app, "10.3.2.1") as elsewhere:
        for _ in range(3):
            unknown = f"guess.{uuid.uuid4().hex[:8]}@example.go.id"
            assert_problem(await _sign_in(client, unknown), 401, "auth.invalid_credentials")
        _assert_throttled(await _sign_in(client, user.email), 600)
        assert (await _sign_in(elsewhere, user.email)).status_code == 200


async def test_successful_sign_ins_do_not_count_as_failures(
    make_app: AppFactory, make_user: UserFactory
) -> None:
    user = await make_user(Role.evaluator)
    async with client_for(make_app(login_max_failures_per_account=2)) as client:
        for _ in range(4):
            assert (await _sign_in(client, user.email)).status_code == 200


# --- the request itself ---------------------------------------------------------------------


async def test_openapi_offers_the_oauth2_password_flow(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    scheme = document["components"]["securitySchemes"]["passwordLogin"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["password"]["tokenUrl"] == "/v1/auth/token"
    token_body = document["paths"]["/v1/auth/token"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(token_body)
    assert {"passwordLogin": []} in document["paths"]["/v1/me"]["get"]["security"]


async def test_form_with_another_grant_type_is_400(
    client: httpx.AsyncClient, operator: User
) -> None:
    response = await client.post(
        "/v1/auth/token",
        data={
            "username": operator.email,
            "password": TEST_PASSWORD,
            "grant_type": "client_credentials",
        },
    )
    assert_problem(response, 400, "auth.unsupported_grant_type")


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/token",
        content=b'{"email": "someone@example.go.id", "password": ',
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 400, "request.malformed_json")


async def test_missing_fields_are_422_with_pointers(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/auth/token", json={})
    body = assert_problem(response, 422, "validation_failed")
    assert {e["pointer"] for e in body["errors"]} == {"/email", "/password"}


async def test_form_without_a_password_is_422(client: httpx.AsyncClient, operator: User) -> None:
    response = await client.post("/v1/auth/token", data={"username": operator.email})
    assert_problem(response, 422, "validation_failed", pointer="/password")


async def test_form_without_a_username_points_at_the_username(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/v1/auth/token", data={"password": TEST_PASSWORD})
    body = assert_problem(response, 422, "validation_failed", pointer="/username")
    assert [e["code"] for e in body["errors"]] == ["missing"]


async def test_empty_body_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/auth/token", content=b"", headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422, "validation_failed")


async def test_unknown_json_field_is_422(client: httpx.AsyncClient, operator: User) -> None:
    response = await client.post(
        "/v1/auth/token",
        json={"email": operator.email, "password": TEST_PASSWORD, "remember_me": True},
    )
    assert_problem(response, 422, "validation_failed", pointer="/remember_me")


async def test_sign_in_with_an_api_key_sent_along_still_signs_in(
    client: httpx.AsyncClient, auth: KeyFactory, operator: User
) -> None:
    """The token endpoint is anonymous: a valid credential sent with it changes nothing."""
    headers = await auth(Role.evaluator)
    response = await client.post(
        "/v1/auth/token",
        json={"email": operator.email, "password": TEST_PASSWORD},
        headers=headers,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        ("Bearer {key}", 200, None),
        ("bearer {key}", 200, None),  # the scheme is case-insensitive
        ("Bearer  {key} ", 200, None),  # space around the credential is not part of it
        ("Basic {key}", 401, "auth.malformed"),
        ("Bearer", 401, "auth.malformed"),
        ("Bearer    ", 401, "auth.malformed"),
        ("{key}", 401, "auth.malformed"),
        ("Bearer inv_not-a-key", 401, "auth.invalid_credentials"),
    ],
)
async def test_the_authorization_header_is_read_as_a_bearer_credential(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    header: str,
    status: int,
    code: str | None,
) -> None:
    key = admin["Authorization"].removeprefix("Bearer ")
    response = await client.get("/v1/me", headers={"Authorization": header.format(key=key)})
    if code is None:
        assert response.status_code == status, response.text
        assert response.json()["role"] == "secretariat_admin"
    else:
        assert_problem(response, status, code)
        error = "invalid_request" if code == "auth.malformed" else "invalid_token"
        assert response.headers["WWW-Authenticate"] == f'Bearer error="{error}"'


async def test_an_empty_authorization_header_is_an_anonymous_caller(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/v1/regions", headers={"Authorization": ""})).status_code == 200
    assert_problem(await client.get("/v1/me", headers={"Authorization": ""}), 401, "auth.required")
