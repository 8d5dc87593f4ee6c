"""Every /v1 route declares one access policy, and the policies hold for every operation."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.openapi import RouteInfo, iter_api_routes
from app.core.policies import ANONYMOUS_WRITES
from app.core.security import Access, Scope
from app.domains.accounts.credentials import hash_api_key
from app.models.accounts import ApiKey
from app.models.enums import Role
from app.models.hubs import Hub
from tests.conftest import KeyFactory

_PATH_PARAM = re.compile(r"\{(\w+)\}")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _policies(dependant: Dependant) -> set[int]:
    """Ids of every distinct Access instance in a route's dependency tree."""
    found: set[int] = set()
    for dep in dependant.dependencies:
        if isinstance(dep.call, Access):
            found.add(id(dep.call))
        found |= _policies(dep)
    return found


def routes_without_exactly_one_policy(app: FastAPI) -> list[str]:
    """Every /v1 route with no access policy, or more than one: the one its route class
    applies (`PolicyRoute.policy`) and any it depends on (`Access.dep()`)."""
    wrong = []
    for rc in routing.iter_route_contexts(app.routes):
        if not isinstance(rc.original_route, routing.APIRoute):
            continue
        path = rc.path_format or ""
        policies = _policies(rc.dependant)
        applied = getattr(rc.original_route, "policy", None)
        if applied is not None:
            policies.add(id(applied))
        if path.startswith("/v1/") and len(policies) != 1:
            wrong.append(f"{sorted(rc.methods or ())} {path}")
    return wrong


def _v1_routes(app: FastAPI) -> list[RouteInfo]:
    routes = [r for r in iter_api_routes(app) if r.path.startswith("/v1/")]
    assert routes
    return routes


def _protected(app: FastAPI) -> list[RouteInfo]:
    return [r for r in _v1_routes(app) if r.policy is not None and not r.policy.anonymous]


def _concrete(path: str) -> str:
    return _PATH_PARAM.sub(
        lambda m: "12" if m.group(1) == "code" else str(uuid.uuid4()),
        path,
    )


async def _call(
    client: httpx.AsyncClient, route: RouteInfo, headers: dict[str, str] | None = None
) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if route.method in _BODY_METHODS:
        kwargs["json"] = {}
    return await client.request(route.method, _concrete(route.path), **kwargs)


async def _status_of_every_protected_operation(
    client: httpx.AsyncClient, app: FastAPI, headers: dict[str, str] | None = None
) -> dict[str, tuple[int, str | None]]:
    seen = {}
    for route in _protected(app):
        response = await _call(client, route, headers)
        code = response.json().get("code") if response.content else None
        seen[f"{route.method} {route.path}"] = (response.status_code, code)
    return seen


# --- the route table -------------------------------------------------------------------------


def test_every_v1_route_has_exactly_one_access_policy(app: FastAPI) -> None:
    assert routes_without_exactly_one_policy(app) == []
    assert all(r.policy is not None for r in _v1_routes(app))


def test_policy_check_flags_a_route_without_a_policy(app: FastAPI) -> None:
    async def list_secrets() -> list[str]:
        return []

    app.add_api_route("/v1/secrets", list_secrets)
    assert routes_without_exactly_one_policy(app) == ["['GET'] /v1/secrets"]


def test_policy_check_flags_a_route_with_two_policies(app: FastAPI) -> None:
    async def list_secrets() -> list[str]:
        return []

    app.add_api_route(
        "/v1/secrets",
        list_secrets,
        dependencies=[
            Access(anonymous=True).dep(),
            Access({Role.evaluator: Scope.everything}).dep(),
        ],
    )
    assert routes_without_exactly_one_policy(app) == ["['GET'] /v1/secrets"]


def test_only_reads_are_open_to_anonymous_callers(app: FastAPI) -> None:
    open_writes = [
        f"{r.method} {r.path}"
        for r in _v1_routes(app)
        if r.policy is not None
        and r.policy.anonymous
        and r.method not in {"GET", "HEAD"}
        and r.name not in ANONYMOUS_WRITES
    ]
    assert open_writes == []
    assert {r.name for r in _v1_routes(app)} >= ANONYMOUS_WRITES


def test_every_policy_names_at_least_one_role_or_is_anonymous(app: FastAPI) -> None:
    empty = [
        f"{r.method} {r.path}"
        for r in _v1_routes(app)
        if r.policy is not None and not r.policy.anonymous and not r.policy.roles
    ]
    assert empty == []


# --- authentication, for every protected operation -------------------------------------------


async def test_anonymous_call_to_any_protected_operation_is_401(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    seen = await _status_of_every_protected_operation(client, app)
    assert seen
    assert {op: s for op, s in seen.items() if s != (401, "auth.required")} == {}


async def test_garbage_token_on_any_protected_operation_is_401(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    headers = {"Authorization": "Bearer inv_not-a-real-key"}
    seen = await _status_of_every_protected_operation(client, app, headers)
    assert {op: s for op, s in seen.items() if s != (401, "auth.invalid_credentials")} == {}


async def test_malformed_authorization_header_on_any_protected_operation_is_401(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    seen = await _status_of_every_protected_operation(client, app, {"Authorization": "Basic xyz"})
    assert {op: s for op, s in seen.items() if s != (401, "auth.malformed")} == {}


async def test_malformed_authorization_header_is_a_401_problem(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/v1/me", headers={"Authorization": "Basic xyz"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_request"'
    assert response.json()["code"] == "auth.malformed"


async def test_401_asks_for_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "auth.required"


async def test_garbage_token_on_a_public_operation_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/v1/institutions", headers={"Authorization": "Bearer inv_not-a-real-key"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "auth.invalid_credentials"


async def test_public_operation_answers_anonymous_callers(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/regions/12")
    assert response.status_code == 200


# --- keys that stopped working ---------------------------------------------------------------


async def _set_key(session: AsyncSession, headers: dict[str, str], **values: Any) -> None:
    secret = headers["Authorization"].removeprefix("Bearer ")
    await session.execute(
        update(ApiKey).where(ApiKey.secret_hash == hash_api_key(secret)).values(**values)
    )
    await session.commit()


async def test_valid_key_is_accepted(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/v1/me", headers=admin)
    assert response.status_code == 200


async def test_revoked_key_is_401(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    await _set_key(session, admin, revoked_at=datetime.now(UTC) - timedelta(seconds=1))
    response = await client.get("/v1/me", headers=admin)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.invalid_credentials"


async def test_expired_key_is_401(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    await _set_key(session, admin, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    response = await client.get("/v1/me", headers=admin)
    assert response.status_code == 401
    assert response.json()["code"] == "auth.token_expired"


async def test_key_before_its_expiry_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    await _set_key(session, admin, expires_at=datetime.now(UTC) + timedelta(minutes=5))
    response = await client.get("/v1/me", headers=admin)
    assert response.status_code == 200


# --- authorization ---------------------------------------------------------------------------


async def test_role_outside_the_policy_is_403(client: httpx.AsyncClient, auth: KeyFactory) -> None:
    evaluator = await auth(Role.evaluator)
    response = await client.post(
        "/v1/institutions",
        json={"name": "Kementerian Baru", "kind": "kementerian"},
        headers=evaluator,
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "auth.role_forbidden"


async def test_roles_outside_every_policy_are_403(
    client: httpx.AsyncClient, app: FastAPI, auth: KeyFactory, hub: Hub
) -> None:
    hub_admin = await auth(Role.hub_admin, hub_id=hub.id)
    seen = {}
    for route in _protected(app):
        assert route.policy is not None
        if Role.hub_admin in route.policy.roles:
            continue
        response = await _call(client, route, hub_admin)
        seen[f"{route.method} {route.path}"] = (response.status_code, response.json()["code"])
    assert seen
    assert {op: s for op, s in seen.items() if s != (403, "auth.role_forbidden")} == {}
