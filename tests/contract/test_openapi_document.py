"""The OpenAPI document as client generators read it (openapi-typescript, openapi-python-client):
names, optional members, request bodies, declared errors, servers and security.

Reads the document of one app built once; the few requests are answered without a database
(the app's engine points at a closed port)."""

from __future__ import annotations

import ast
import asyncio
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.core import errors
from app.core.config import PROJECT_ROOT
from app.main import create_app
from tests.conftest import make_settings

_NO_DATABASE = make_url("postgresql+asyncpg://nobody@127.0.0.1:1/nothing")
APP = create_app(
    make_settings(_NO_DATABASE, readyz_timeout_seconds=2), engine=create_async_engine(_NO_DATABASE)
)
DOC: dict[str, Any] = APP.openapi()
SCHEMAS: dict[str, Any] = DOC["components"]["schemas"]
REF = "#/components/schemas/"


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=APP, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


def _nullable(schema: Any) -> bool:
    """Whether `null` is among the schema's types, at any depth."""
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "null" or (isinstance(kind, list) and "null" in kind):
            return True
        return any(_nullable(value) for value in schema.values())
    if isinstance(schema, list):
        return any(_nullable(value) for value in schema)
    return False


# --- optional members ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Problem", "ProblemFieldError", "BrokenRule"])
def test_a_problems_optional_members_are_optional_not_nullable(name: str) -> None:
    schema = SCHEMAS[name]
    required = set(schema["required"])
    optional = set(schema["properties"]) - required
    assert optional, name
    for member in optional:
        declared = schema["properties"][member]
        assert "default" not in declared, f"{name}.{member} has a default"
        assert not _nullable(declared), f"{name}.{member} is nullable"
    assert "additionalProperties" not in schema


def test_a_problem_has_its_fixed_members_required() -> None:
    assert set(SCHEMAS["Problem"]["required"]) == {"type", "title", "status", "code"}
    problem = SCHEMAS["Problem"]["properties"]
    for member in ("errors", "problems", "current_status", "allowed_actions", "detail"):
        assert member in problem


def _declared(body: dict[str, Any], schema: str) -> None:
    properties = SCHEMAS[schema]["properties"]
    assert set(body) <= set(properties), set(body) - set(properties)
    assert None not in body.values(), body


def test_a_problem_without_errors_leaves_them_out() -> None:
    for response in (call("GET", "/v1/no-such-route"), call("GET", "/v1/me")):
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        _declared(body, "Problem")
        for member in ("errors", "problems", "current_status", "allowed_actions"):
            assert member not in body


def test_field_errors_leave_out_the_location_they_do_not_have() -> None:
    body = call("POST", "/v1/auth/token", json={}).json()
    _declared(body, "Problem")
    assert [error["pointer"] for error in body["errors"]] == ["/email", "/password"]
    for error in body["errors"]:
        _declared(error, "ProblemFieldError")
        assert "parameter" not in error
    body = call("GET", "/v1/regions", params={"limit": 0}).json()
    (error,) = body["errors"]
    _declared(error, "ProblemFieldError")
    assert error["parameter"] == "limit"
    assert "pointer" not in error


def _error_classes() -> set[str]:
    found: set[str] = set()
    todo: list[type] = [errors.AppError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def _literal_keys(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Dict):
        return {key.value for key in node.keys if isinstance(key, ast.Constant)}
    return set()


def test_every_extension_member_the_code_adds_to_a_problem_is_declared() -> None:
    classes = _error_classes()
    problem = set(SCHEMAS["Problem"]["properties"])
    rule = set(SCHEMAS["BrokenRule"]["properties"])
    seen: set[str] = set()
    for source in sorted((PROJECT_ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            where = f"{source.relative_to(PROJECT_ROOT)}:{node.lineno}"
            if name in classes:
                for keyword in node.keywords:
                    if keyword.arg == "extra":
                        keys = _literal_keys(keyword.value)
                        assert keys <= problem, (where, keys - problem)
                        seen |= keys
            elif name == "Broken":  # an entry rule: in `problems`, and at the top when first
                for arg in node.args[4:]:
                    keys = _literal_keys(arg)
                    assert keys <= problem & rule, (where, keys - (problem & rule))
                    seen |= keys
    assert {"current_status", "problems", "replication_id", "cap"} <= seen


# --- names ---------------------------------------------------------------------------------


def test_component_names_are_chosen_and_unique_with_titles_to_match() -> None:
    for name, schema in SCHEMAS.items():
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", name), name
        assert schema.get("title") == name, (name, schema.get("title"))
    titles = Counter(schema.get("title") for schema in SCHEMAS.values())
    assert [title for title, count in titles.items() if count > 1] == []
    assert "app__" not in json.dumps(DOC)


def test_the_two_kinds_of_answer_have_names_of_their_own() -> None:
    assignment = SCHEMAS["AssignmentRead"]["properties"]["answers"]["items"]
    assessment = SCHEMAS["AssessmentRead"]["properties"]["answers"]["items"]
    assert assignment == {"$ref": REF + "SubmissionAnswerRead"}
    assert assessment == {"$ref": REF + "AssessmentAnswerRead"}


# --- request bodies ------------------------------------------------------------------------


def test_every_request_body_is_a_named_component() -> None:
    for path, method, operation in operations():
        for media, content in operation.get("requestBody", {}).get("content", {}).items():
            schema = content["schema"]
            assert set(schema) == {"$ref"}, (method, path, media, schema)
            assert schema["$ref"].removeprefix(REF) in SCHEMAS


def test_the_token_request_names_its_json_and_form_bodies() -> None:
    body = DOC["paths"]["/v1/auth/token"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"] == {
        "application/json": {"schema": {"$ref": REF + "TokenRequest"}},
        "application/x-www-form-urlencoded": {"schema": {"$ref": REF + "PasswordGrantForm"}},
    }
    assert set(SCHEMAS["TokenRequest"]["required"]) == {"email", "password"}
    assert set(SCHEMAS["PasswordGrantForm"]["required"]) == {"username", "password"}


def test_the_optional_leave_body_is_the_component_itself() -> None:
    body = DOC["paths"]["/v1/hubs/{hub_id}/members/{member_id}/leave"]["post"]["requestBody"]
    assert body.get("required", False) is False
    assert body["content"]["application/json"]["schema"] == {"$ref": REF + "HubMemberLeave"}


def test_a_problems_rules_have_their_own_schema() -> None:
    problems = SCHEMAS["Problem"]["properties"]["problems"]
    assert problems == {**problems, "type": "array", "items": {"$ref": REF + "BrokenRule"}}
    rule = SCHEMAS["BrokenRule"]
    assert set(rule["required"]) == {"code", "message"}
    assert {"round_id", "group_id", "weight_sum", "missing", "cap", "taken"} <= set(
        rule["properties"]
    )


@pytest.mark.parametrize("resource", ["Unit", "Innovation", "Replication", "HubActivity"])
def test_a_sync_batch_references_its_item_schema(resource: str) -> None:
    items = SCHEMAS[f"{resource}SyncBatch"]["properties"]["items"]
    assert items["items"] == {"$ref": f"{REF}{resource}SyncItem"}


def test_a_mixed_batch_references_the_tagged_item_schemas() -> None:
    variants = SCHEMAS["MixedSyncBatch"]["properties"]["items"]["items"]["oneOf"]
    assert variants == [
        {"$ref": f"{REF}{resource}SyncItemTagged"}
        for resource in ("Unit", "Innovation", "Replication", "HubActivity")
    ]


def _inline_copies(schema: Any, top: bool) -> Iterator[str]:
    if isinstance(schema, dict):
        if not top and "properties" in schema and schema.get("title") in SCHEMAS:
            yield schema["title"]
        for value in schema.values():
            yield from _inline_copies(value, False)
    elif isinstance(schema, list):
        for value in schema:
            yield from _inline_copies(value, False)


def test_no_component_copies_another_inline() -> None:
    copies = {name: list(_inline_copies(schema, True)) for name, schema in SCHEMAS.items()}
    assert {name: found for name, found in copies.items() if found} == {}


# --- declared errors -----------------------------------------------------------------------


def _problem_response(operation: dict[str, Any], status: str) -> dict[str, Any]:
    response: dict[str, Any] = operation["responses"][status]
    assert response["content"] == {
        "application/problem+json": {"schema": {"$ref": REF + "Problem"}}
    }
    return response


def test_every_operation_that_reads_the_database_declares_503_and_429() -> None:
    checked = 0
    for path, _, operation in operations():
        if path in ("/livez", "/readyz"):
            continue
        unavailable = _problem_response(operation, "503")
        assert "database.unavailable" in unavailable["description"]
        assert "database.busy" in unavailable["description"]
        assert "Retry-After" in unavailable["headers"]
        limited = _problem_response(operation, "429")
        assert limited["headers"]["Retry-After"]["required"] is True
        checked += 1
    assert checked > 100


def test_every_401_declares_its_bearer_challenge() -> None:
    checked = 0
    for _, _, operation in operations():
        if "401" in operation["responses"]:
            header = _problem_response(operation, "401")["headers"]["WWW-Authenticate"]
            assert header["required"] is True
            checked += 1
    assert checked > 100


def test_the_probes_declare_what_they_can_answer() -> None:
    liveness = DOC["paths"]["/livez"]["get"]["responses"]
    assert "503" not in liveness
    assert "429" not in liveness
    readiness = DOC["paths"]["/readyz"]["get"]
    assert "429" not in readiness["responses"]
    _problem_response(readiness, "503")


@pytest.mark.parametrize("path", ["/v1/regions", "/v1/innovations", "/v1/institutions"])
def test_an_operation_answers_its_declared_503_when_the_database_cannot_be_reached(
    path: str,
) -> None:
    response = call("GET", path)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["code"] == "database.unavailable"
    _declared(body, "Problem")


def test_an_os_error_from_elsewhere_is_still_a_500() -> None:
    async def broken() -> None:
        raise FileNotFoundError("not the database")

    app = create_app(make_settings(_NO_DATABASE), engine=create_async_engine(_NO_DATABASE))
    app.add_api_route("/broken", broken)

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/broken")

    response = asyncio.run(send())
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"


def test_the_probes_answer_as_declared_without_a_database() -> None:
    assert call("GET", "/livez").status_code == 200
    response = call("GET", "/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "database.unavailable"


# --- servers and security ------------------------------------------------------------------


def test_the_document_names_the_service_itself_as_its_server() -> None:
    assert DOC["servers"][0]["url"] == "/"
    assert all("://" not in server["url"] for server in DOC["servers"])


def test_anonymous_operations_make_the_credential_optional() -> None:
    anonymous = [
        (path, operation)
        for path, _, operation in operations()
        if operation.get("x-access", {}).get("anonymous")
    ]
    assert len(anonymous) > 20
    for path, operation in anonymous:
        assert {} in operation["security"], path
        assert {"bearerAuth": []} in operation["security"], path


def test_operations_that_need_a_key_require_one() -> None:
    signed_in = [
        (path, operation)
        for path, _, operation in operations()
        if "x-access" in operation and not operation["x-access"]["anonymous"]
    ]
    assert len(signed_in) > 50
    for path, operation in signed_in:
        assert {} not in operation["security"], path
        assert operation["security"] == [{"bearerAuth": []}, {"passwordLogin": []}], path
    assert "security" not in DOC
    assert "security" not in DOC["paths"]["/livez"]["get"]
    for path in ("/v1/me", "/v1/api-keys"):
        assert {} not in DOC["paths"][path]["get"]["security"]
