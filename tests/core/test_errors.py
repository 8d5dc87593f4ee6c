"""Every error is RFC 9457 problem+json with a stable code, and the OpenAPI document says so."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.session import SessionDep, create_engine
from app.main import create_app
from tests.conftest import make_settings

PROBLEM_FIELDS = {"type", "title", "status", "code", "request_id", "instance"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_FIELDS
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:inovasi:problem:{code}"
    assert body["title"]
    assert body["instance"] == response.request.url.path
    assert body["request_id"] == response.headers["x-request-id"]
    return body


@pytest.fixture
async def small_body_client(
    database_url: URL, engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url, max_body_bytes=2048), engine=engine)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


# --- routing ---------------------------------------------------------------------------------


async def test_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/no-such-thing")
    assert_problem(response, 404, "route.not_found")


async def test_wrong_method_is_a_405_problem_with_allow_header(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/livez")
    assert_problem(response, 405, "method.not_allowed")
    assert response.headers["allow"] == "GET"


async def test_405_allow_header_lists_every_method_of_the_path(
    client: httpx.AsyncClient,
) -> None:
    response = await client.put(f"/v1/institutions/{uuid.uuid4()}")
    assert_problem(response, 405, "method.not_allowed")
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed == {"GET", "PATCH", "DELETE"}


# --- request bodies --------------------------------------------------------------------------


async def test_malformed_json_body_is_a_400_problem(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/institutions",
        content=b'{"name": "Kementerian',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "request.malformed_json")


async def test_text_plain_body_is_a_415_problem(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/institutions",
        content=b"name=Kementerian",
        headers={**admin, "Content-Type": "text/plain"},
    )
    assert_problem(response, 415, "request.unsupported_media_type")


async def test_body_over_the_limit_with_content_length_is_a_413_problem(
    small_body_client: httpx.AsyncClient,
) -> None:
    response = await small_body_client.post("/v1/institutions", json={"name": "x" * 3000})
    assert "content-length" in response.request.headers
    assert_problem(response, 413, "request.too_large")


async def test_streamed_body_over_the_limit_is_a_413_problem(
    small_body_client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(5):
            yield b"x" * 1000
        yield b'"}'

    response = await small_body_client.post(
        "/v1/institutions", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "request.too_large")


async def test_body_under_the_limit_passes_the_size_guard(
    small_body_client: httpx.AsyncClient,
) -> None:
    response = await small_body_client.post("/v1/institutions", json={"name": "x" * 1500})
    # Past the guard, the anonymous caller meets the access policy.
    assert_problem(response, 401, "auth.required")


# --- validation ------------------------------------------------------------------------------


async def test_body_validation_error_points_at_the_field(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/api-keys", json={"role": "evaluator", "colour": "red"}, headers=admin
    )
    body = assert_problem(response, 422, "validation_failed")
    by_pointer = {e["pointer"]: e for e in body["errors"]}
    assert by_pointer["/name"]["location"] == "body"
    assert by_pointer["/name"]["code"] == "missing"
    assert by_pointer["/colour"]["code"] == "extra_forbidden"
    assert all(e["message"] for e in body["errors"])


async def test_query_validation_error_names_the_parameter(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/regions", params={"level": "9"})
    body = assert_problem(response, 422, "validation_failed")
    [error] = body["errors"]
    assert error["parameter"] == "level"
    assert error["location"] == "query"
    assert "pointer" not in error


async def test_bad_uuid_in_path_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/institutions/not-a-uuid")
    body = assert_problem(response, 422, "validation_failed")
    [error] = body["errors"]
    assert error["parameter"] == "institution_id"
    assert error["location"] == "path"


async def test_unhandled_error_is_a_500_problem_with_request_id_header(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/v1/explode", explode)
    response = await client.get("/v1/explode")
    body = assert_problem(response, 500, "internal_error")
    assert "boom" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]


async def test_unhandled_error_is_logged_once_with_the_request_id(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Called as a server calls it: the app answers the 500 and returns, instead of re-raising
    the error for the server to log it a second time (uvicorn's "Exception in ASGI
    application"), and its one log record carries the request id."""

    async def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/v1/explode", explode)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/explode",
        "raw_path": b"/v1/explode",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), (b"x-request-id", b"explode-1234567890")],
        "client": ("10.0.0.1", 4000),
        "server": ("test", 80),
        "state": {},
    }
    with caplog.at_level(logging.INFO):
        await app(scope, receive, send)  # does not raise
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 500
    headers = [(k.decode(), v.decode()) for k, v in start["headers"]]
    assert headers.count(("x-request-id", "explode-1234567890")) == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].exc_info is not None
    assert getattr(errors[0], "request_id", None) == "explode-1234567890"
    # The access log line still reports the request, with its status.
    access = [r for r in caplog.records if r.name == "inovasi.access"]
    assert len(access) == 1


# --- X-Request-ID ----------------------------------------------------------------------------


async def test_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    response = await client.get("/livez")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_request_id_is_echoed_when_valid(client: httpx.AsyncClient) -> None:
    response = await client.get("/livez", headers={"X-Request-ID": "sipinter-42.retry:1"})
    assert response.headers["x-request-id"] == "sipinter-42.retry:1"


@pytest.mark.parametrize("sent", ["has spaces in it", "a" * 500, "semi;colon"])
async def test_invalid_request_id_is_replaced(client: httpx.AsyncClient, sent: str) -> None:
    response = await client.get("/livez", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] != sent
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_problem_request_id_is_the_echoed_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/nowhere", headers={"X-Request-ID": "trace-abc-123"})
    body = assert_problem(response, 404, "route.not_found")
    assert body["request_id"] == "trace-abc-123"


# --- the OpenAPI document --------------------------------------------------------------------


@pytest.fixture
async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]


def test_openapi_has_no_framework_validation_schemas(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert "HTTPValidationError" not in str(openapi)


def test_openapi_422_responses_are_problems(openapi: dict[str, Any]) -> None:
    wrong = []
    for method, path, operation in _operations(openapi):
        declared = operation["responses"].get("422")
        if declared is None:
            continue
        content = declared.get("content", {})
        schema = content.get("application/problem+json", {}).get("schema")
        if list(content) != ["application/problem+json"] or schema != {
            "$ref": "#/components/schemas/Problem"
        }:
            wrong.append(f"{method} {path}")
    assert wrong == []


def test_openapi_operations_with_inputs_declare_422(openapi: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in _operations(openapi)
        if (operation.get("parameters") or "requestBody" in operation)
        and "422" not in operation["responses"]
    ]
    assert missing == []


def test_openapi_every_error_response_is_a_problem(openapi: dict[str, Any]) -> None:
    wrong = [
        f"{method} {path} {status}"
        for method, path, operation in _operations(openapi)
        for status, declared in operation["responses"].items()
        if int(status) >= 400 and "application/problem+json" not in declared.get("content", {})
    ]
    assert wrong == []


def test_openapi_v1_operations_declare_500(openapi: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in _operations(openapi)
        if path.startswith("/v1/") and "500" not in operation["responses"]
    ]
    assert missing == []


def test_openapi_protected_v1_operations_declare_401_and_403(openapi: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in _operations(openapi)
        if path.startswith("/v1/")
        and not operation["x-access"]["anonymous"]
        and not {"401", "403"} <= operation["responses"].keys()
    ]
    assert missing == []


def test_openapi_anonymous_v1_operations_declare_401_for_bad_credentials(
    openapi: dict[str, Any],
) -> None:
    # An anonymous-friendly operation still refuses an invalid bearer token with a 401.
    missing = [
        f"{method} {path}"
        for method, path, operation in _operations(openapi)
        if path.startswith("/v1/")
        and operation["x-access"]["anonymous"]
        and "401" not in operation["responses"]
    ]
    assert missing == []


def test_openapi_operation_ids_are_the_route_function_names(openapi: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(openapi)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)+", i) for i in ids), ids


async def test_an_exhausted_connection_pool_is_a_503_problem_with_retry_after(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    async def wait_for_a_connection() -> None:
        raise PoolTimeout("QueuePool limit of size 10 overflow 10 reached")

    app.add_api_route("/test/pool-timeout", wait_for_a_connection)
    response = await client.get("/test/pool-timeout")
    body = assert_problem(response, 503, "database.busy")
    assert response.headers["retry-after"] == "5"
    assert "QueuePool" not in body["detail"]


async def test_a_connection_the_server_closed_is_a_503_and_the_next_request_recovers(
    database_url: URL,
) -> None:
    """With the real unit of work and a pool of its own: the server ends every connection of
    the app (as a restart would); the request that meets a dead connection gets a 503 with
    Retry-After, and the pool's fresh connections serve the requests after it."""
    app_settings = make_settings(database_url, db_pool_size=1, db_max_overflow=0)
    engine = create_engine(database_url, app_settings)
    app = create_app(app_settings, engine=engine)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/v1/regions/12")).status_code == 200
            async with engine.connect() as conn:
                pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            other = create_engine(database_url, app_settings, null_pool=True)
            async with other.connect() as conn:
                await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            await other.dispose()
            lost = await client.get("/v1/regions/12")
            body = lost.json()
            assert lost.status_code == 503, body
            assert body["code"] == "database.unavailable"
            assert lost.headers["retry-after"] == "1"
            assert (await client.get("/v1/regions/12")).status_code == 200
    finally:
        await engine.dispose()


async def test_reads_run_without_a_transaction_and_writes_within_one(
    database_url: URL,
) -> None:
    """GET requests get an autocommit session (no BEGIN/COMMIT round trips); other methods a
    transaction committed after the endpoint returns."""
    app_settings = make_settings(database_url)
    engine = create_engine(database_url, app_settings)
    app = create_app(app_settings, engine=engine)
    seen: dict[str, bool] = {}

    async def probe(session: SessionDep) -> dict[str, bool]:
        assert isinstance(session, AsyncSession)
        conn = await session.connection()
        await conn.execute(text("SELECT 1"))
        raw = await conn.get_raw_connection()
        seen["in_transaction"] = raw.driver_connection.is_in_transaction()
        return seen

    app.add_api_route("/test/tx", probe, methods=["GET", "POST"])
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/test/tx")
            assert response.status_code == 200, response.text
            assert seen == {"in_transaction": False}
            await client.post("/test/tx")
            assert seen == {"in_transaction": True}
    finally:
        await engine.dispose()
