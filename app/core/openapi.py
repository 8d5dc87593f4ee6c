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
from pydantic import BaseModel

from app.core.concurrency import if_match_required_header
from app.core.errors import PROBLEM_MEDIA_TYPE, Problem, ProblemFieldError
from app.core.security import Access

_COMPONENTS = "#/components/schemas/"
_PROBLEM_REF = {"$ref": _COMPONENTS + "Problem"}

# A relative URL: the API is at the address the document was fetched from, whatever the load
# balancer, host name or port in front of it (FastAPI puts a proxy's `root_path` first).
DEFAULT_SERVERS = [
    {"url": "/", "description": "This service, where this document was fetched from."}
]

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
    429: "Too many requests (`rate_limit.exceeded`) or failed sign-ins; retry after "
    "`Retry-After` seconds.",
    500: "Unexpected error.",
    503: "Unavailable for now: the database cannot be reached, is "
    "starting or stopping, or the connection was lost (`database.unavailable`, "
    "`Retry-After: 1`), every connection is busy (`database.busy`, `Retry-After`), it took too "
    "long to answer (`database.timeout`), or the instance is stopping "
    "(`service.shutting_down`, `Retry-After: 1`). Retry after `Retry-After` with backoff (a "
    "write with the same `Idempotency-Key`).",
}

_RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "schema": {"type": "integer", "minimum": 1},
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The bearer challenge (RFC 6750): `Bearer`, or `Bearer "
            'error="invalid_token"` for a bad, revoked or expired credential, `Bearer '
            'error="invalid_request"` for a malformed header.',
            "schema": {"type": "string"},
            "required": True,
        }
    },
    429: {"Retry-After": {**_RETRY_AFTER, "required": True}},
    503: {"Retry-After": _RETRY_AFTER},
}


def problem_response_spec(status: int, description: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "description": description or _DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
        "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM_REF}},
    }
    if status in _HEADERS:
        spec["headers"] = _HEADERS[status]
    return spec


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Declare the errors a route can return beyond those every route gets."""
    return {status: problem_response_spec(status) for status in statuses}


def not_modified() -> dict[int | str, dict[str, Any]]:
    return {304: {"description": "Not modified: the `If-None-Match` ETag is current."}}


_NAMED_MODELS: dict[str, type[BaseModel]] = {}


def component(model: type[BaseModel]) -> dict[str, str]:
    """A reference to `model` as a named component, for a schema written by hand (a request
    body the route reads itself): the document then names it, as it names FastAPI's."""
    known = _NAMED_MODELS.setdefault(model.__name__, model)
    if known is not model:
        raise RuntimeError(f"two models are named {model.__name__}")
    return {"$ref": _COMPONENTS + model.__name__}


def _add_components(schemas: dict[str, Any], models: list[type[BaseModel]]) -> None:
    for model in models:
        schema = model.model_json_schema(ref_template=_COMPONENTS + "{model}")
        for name, sub in {**schema.pop("$defs", {}), model.__name__: schema}.items():
            if schemas.setdefault(name, sub) != sub:
                raise RuntimeError(f"two different schemas are named {name}")


def _named_bodies(operation: dict[str, Any]) -> None:
    """An optional body (`X | None = None`) is the component itself, not `anyOf [X, null]`
    under a made-up title: the body may be left out (`required` is false) but, when sent, is X."""
    for media in operation.get("requestBody", {}).get("content", {}).values():
        schema = media.get("schema", {})
        variants = schema.get("anyOf", [])
        refs = [v for v in variants if "$ref" in v]
        if len(variants) == 2 and len(refs) == 1 and {"type": "null"} in variants:
            media["schema"] = refs[0]


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
        servers=app.servers or DEFAULT_SERVERS,
    )
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _add_components(schemas, [Problem, ProblemFieldError, *_NAMED_MODELS.values()])
    components["schemas"] = dict(sorted(schemas.items()))
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
            _named_bodies(operation)
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
            # Every operation with a policy reads the database (the caller's key or account, or
            # its records) and is rate-limited; /livez and /readyz have none (app/domains/ops).
            responses.setdefault("429", problem_response_spec(429))
            responses.setdefault("503", problem_response_spec(503))
            operation["description"] = (
                (operation.get("description") or operation.get("summary") or "").rstrip()
                + "\n\n"
                + policy.describe()
            ).strip()
            if policy.anonymous:
                # `{}`: anonymous calls are allowed; a credential, when sent, is used.
                operation["security"] = [{"bearerAuth": []}, {"passwordLogin": []}, {}]
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
