"""The OpenAPI document as a product: problem+json errors everywhere, readable operation ids,
and each operation's access policy written into it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi

from app.core.concurrency import if_match_required_header
from app.core.errors import PROBLEM_MEDIA_TYPE, Problem, ProblemFieldError
from app.core.security import Access

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

_DESCRIPTIONS = {
    400: "Bad request: malformed JSON, or an invalid or foreign cursor.",
    401: "Missing, malformed, unknown, expired or revoked credentials.",
    403: "Authenticated, but this role or scope may not do this.",
    404: "Not found, or outside the caller's scope.",
    409: "Conflicts with the current state (duplicate, in use, wrong state).",
    410: "The cursor is older than the feed keeps: resynchronise in full.",
    412: "The `If-Match` version is stale.",
    413: "The request body is larger than allowed.",
    415: "The request body is not `application/json`.",
    422: "The request is invalid; `errors` lists each problem with a JSON pointer.",
    428: "No `If-Match`: this write must name the version it is based on (its ETag).",
    429: "Too many requests or failed logins; retry after `Retry-After` seconds.",
    500: "Unexpected error.",
    503: "A dependency (the database) is unavailable.",
}


def problem_response_spec(status: int) -> dict[str, Any]:
    return {
        "description": _DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}},
    }


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declare the errors a route can return beyond those every route gets."""
    return {status: problem_response_spec(status) for status in statuses}


def not_modified() -> dict[int | str, dict[str, Any]]:
    return {304: {"description": "Not modified: the `If-None-Match` ETag is current."}}


def route_policy(dependant: Dependant) -> Access | None:
    """The access policy a route depends on (searched through its dependency tree), for a
    route outside the policy table (`Access.dep()`); `PolicyRoute`s carry theirs."""
    for dep in dependant.dependencies:
        if isinstance(dep.call, Access):
            return dep.call
        found = route_policy(dep)
        if found is not None:
            return found
    return None


def _depends_on(dependant: Dependant, call: Any) -> bool:
    return any(dep.call is call or _depends_on(dep, call) for dep in dependant.dependencies)


@dataclass(frozen=True)
class RouteInfo:
    path: str
    method: str
    name: str
    policy: Access | None
    include_in_schema: bool
    requires_if_match: bool = False


def iter_api_routes(app: FastAPI) -> Iterator[RouteInfo]:
    """Every API route with its access policy (walks nested routers)."""
    for rc in routing.iter_route_contexts(app.routes):
        if not isinstance(rc.original_route, routing.APIRoute):
            continue
        policy = getattr(rc.original_route, "policy", None) or route_policy(rc.dependant)
        for method in sorted(rc.methods or ()):
            yield RouteInfo(
                rc.path_format or "",
                method,
                rc.name or "",
                policy,
                rc.include_in_schema,
                _depends_on(rc.dependant, if_match_required_header),
            )


def _has_body(operation: dict[str, Any]) -> bool:
    return "requestBody" in operation


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    schemas["ProblemFieldError"] = ProblemFieldError.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    components["securitySchemes"] = {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (`inv_...`) or an access token from `/v1/auth/token`.",
        },
        "passwordLogin": {
            "type": "oauth2",
            "description": "Sign in with email (as `username`) and password; see the README "
            "for the demo accounts.",
            "flows": {"password": {"tokenUrl": "/v1/auth/token", "scopes": {}}},
        },
    }

    routes = list(iter_api_routes(app))
    policies = {(r.path, r.method.lower()): r.policy for r in routes}
    if_match_required = {(r.path, r.method.lower()) for r in routes if r.requires_if_match}

    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses: dict[str, Any] = operation["responses"]
            if "422" in responses or _has_body(operation) or operation.get("parameters"):
                responses["422"] = problem_response_spec(422)
            if _has_body(operation):
                for status in (400, 413, 415):
                    responses.setdefault(str(status), problem_response_spec(status))
            responses.setdefault("500", problem_response_spec(500))
            if (path, method) in if_match_required:
                # Optional to FastAPI, so that authorization answers first; required of clients.
                for parameter in operation.get("parameters", ()):
                    if parameter.get("in") == "header" and parameter["name"].lower() == "if-match":
                        parameter["required"] = True
                        parameter["schema"] = {"type": "string"}
                responses["428"] = problem_response_spec(428)
            policy = policies.get((path, method))
            if policy is None:
                continue
            operation["x-access"] = {
                "anonymous": policy.anonymous,
                "roles": {role.value: scope.value for role, scope in sorted(policy.rules.items())},
                "out_of_scope": policy.out_of_scope if policy.scoped else None,
            }
            responses.setdefault("429", problem_response_spec(429))
            operation["description"] = (
                (operation.get("description") or operation.get("summary") or "").rstrip()
                + "\n\n"
                + policy.describe()
            ).strip()
            if policy.anonymous:
                operation["security"] = [{}, {"bearerAuth": []}, {"passwordLogin": []}]
                # A credential is optional, but one that is sent must be valid.
                responses.setdefault("401", problem_response_spec(401))
            else:
                operation["security"] = [{"bearerAuth": []}, {"passwordLogin": []}]
                responses.setdefault("401", problem_response_spec(401))
                responses.setdefault("403", problem_response_spec(403))
            operation["responses"] = dict(
                sorted(responses.items(), key=lambda kv: (kv[0] != "default", kv[0]))
            )
    app.openapi_schema = schema
    return schema
