"""Operability: `/metrics` left out of its own request metrics, its optional bearer token, and
the access log line's client address, caller, route template and W3C trace id."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.middleware import trace_id_of
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.models.enums import Role
from tests.conftest import AppFactory, UserFactory, bearer_for, client_for

TOKEN = "metrics-scrape-token-0123456789"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    lines = []
    for record in caplog.records:
        if record.name == "inovasi.access":
            assert isinstance(record.msg, dict), record.msg
            lines.append(record.msg)
    return lines


def _series(text: str, name: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(name + "{")]


# --- /metrics and its own requests ----------------------------------------------------------


async def test_metrics_scrapes_are_left_out_of_the_request_metrics(
    make_app: AppFactory,
) -> None:
    """Scraping is Prometheus's business (its `up` and `scrape_duration_seconds`); counted, the
    scrapes would land under `handler="none"` beside the unmatched paths and blur them.
    A new app: the run's shared one has counted other tests' unmatched paths."""
    async with client_for(make_app(metrics_token="")) as client:
        await client.get("/metrics")
        text = (await client.get("/metrics")).text
    handlers = {
        re.search(r'handler="([^"]*)"', line)[1]  # type: ignore[index]
        for name in ("http_requests_total", "http_request_duration_seconds_count")
        for line in _series(text, name)
    }
    assert "/metrics" not in handlers
    assert not [
        line for line in _series(text, "http_requests_total") if 'handler="none"' in line
    ], text


async def test_the_documentation_pages_and_files_are_counted_under_their_templates(
    make_app: AppFactory,
) -> None:
    """The offline docs (a Starlette mount of static files and two Starlette routes) were
    counted under `handler="none"`, with the unmatched paths; each now has its own template,
    and only a path nothing matches is "none"."""
    async with client_for(make_app(metrics_token="")) as client:
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/docs/oauth2-redirect")).status_code == 200
        asset = await client.get("/static-offline-docs/swagger-ui.css")
        assert asset.status_code == 200
        assert (await client.get("/static-offline-docs/missing.js")).status_code == 404
        assert (await client.get("/no/such/path")).status_code == 404
        text = (await client.get("/metrics")).text
    counted = {
        (re.search(r'handler="([^"]*)"', line)[1], re.search(r'status="([^"]*)"', line)[1])  # type: ignore[index]
        for line in _series(text, "http_requests_total")
    }
    assert ("/docs", "200") in counted
    assert ("/docs/oauth2-redirect", "200") in counted
    assert ("/static-offline-docs/{path}", "200") in counted
    assert ("/static-offline-docs/{path}", "404") in counted
    assert [c for c in counted if c[0] == "none"] == [("none", "404")]


async def test_the_access_log_names_the_metrics_route(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await client.get("/metrics")
    (line,) = _access_lines(caplog)
    assert line["route"] == "/metrics"
    assert line["status"] == 200


# --- METRICS_TOKEN --------------------------------------------------------------------------


@pytest.fixture
async def guarded(make_app: AppFactory) -> FastAPI:
    return make_app(metrics_token=TOKEN)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"],
)
async def test_a_guarded_metrics_refuses_a_scrape_without_the_token(
    guarded: FastAPI, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with client_for(guarded) as client:
        response = await client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["code"] == "metrics.unauthorized"
    assert body["request_id"] == response.headers["x-request-id"]
    assert "http_requests_total" not in response.text


async def test_a_guarded_metrics_answers_the_token(guarded: FastAPI) -> None:
    async with client_for(guarded) as client:
        await client.get("/livez")
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert 'http_requests_total{handler="/livez",method="GET",status="200"} 1.0' in response.text


async def test_metrics_are_open_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "# TYPE http_requests_total counter" in response.text


async def test_the_metrics_token_is_never_shown_or_logged(
    guarded: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    settings: Settings = guarded.state.settings
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())
    with caplog.at_level(logging.DEBUG):
        async with client_for(guarded) as client:
            await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
            await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert len(_access_lines(caplog)) == 2
    assert TOKEN not in caplog.text
    assert all(TOKEN not in str(record.msg) for record in caplog.records)


# --- the access log line --------------------------------------------------------------------


async def test_an_anonymous_access_line_has_client_route_and_no_caller(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    async with client_for(app, "203.0.113.7") as client:
        with caplog.at_level(logging.INFO):
            await client.get(f"/v1/innovations/{uuid.uuid4()}")
    (line,) = _access_lines(caplog)
    assert line["client"] == "203.0.113.7"
    assert line["route"] == "/v1/innovations/{innovation_id}"
    assert line["status"] == 404
    assert line["principal_kind"] is None
    assert line["principal_id"] is None
    assert line["trace_id"] is None


async def test_an_api_key_caller_is_on_the_access_line(
    client: httpx.AsyncClient, session: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    issued = await issue_api_key(
        session, None, ApiKeyCreate(name="log test", role=Role.secretariat_admin)
    )
    with caplog.at_level(logging.INFO):
        response = await client.get(
            "/v1/audit-events", headers={"Authorization": f"Bearer {issued.secret}"}
        )
    (line,) = _access_lines(caplog)
    assert line["principal_kind"] == "api_key"
    assert line["principal_id"] == str(issued.key.id)
    assert line["route"] == "/v1/audit-events"
    assert line["status"] == response.status_code
    assert issued.secret not in str(line)


async def test_a_signed_in_person_is_on_the_access_line(
    client: httpx.AsyncClient,
    settings: Settings,
    make_user: UserFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = await make_user(Role.secretariat_admin)
    with caplog.at_level(logging.INFO):
        response = await client.get("/v1/audit-events", headers=bearer_for(settings, user))
    assert response.status_code == 200
    (line,) = _access_lines(caplog)
    assert (line["principal_kind"], line["principal_id"]) == ("user", str(user.id))


async def test_a_refused_credential_leaves_the_caller_anonymous(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = await client.get(
            "/v1/audit-events", headers={"Authorization": "Bearer not-a-key"}
        )
    assert response.status_code == 401
    (line,) = _access_lines(caplog)
    assert line["principal_kind"] is None
    assert line["route"] == "/v1/audit-events"


# --- traceparent ----------------------------------------------------------------------------


async def test_a_valid_traceparent_puts_its_trace_id_on_the_access_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await client.get("/livez", headers={"traceparent": TRACEPARENT})
    (line,) = _access_lines(caplog)
    assert line["trace_id"] == TRACE_ID


async def test_the_trace_id_is_bound_for_the_requests_other_lines(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The request's own code sees it in the structlog context (so every line it logs carries
    it), and it is gone once the request is over."""

    async def context() -> dict[str, Any]:
        return dict(structlog.contextvars.get_contextvars())

    app.add_api_route("/test/trace-context", context)
    inside = (await client.get("/test/trace-context", headers={"traceparent": TRACEPARENT})).json()
    assert inside["trace_id"] == TRACE_ID
    assert "trace_id" not in structlog.contextvars.get_contextvars()
    without = (await client.get("/test/trace-context")).json()
    assert "trace_id" not in without


async def test_a_line_logged_inside_the_request_carries_the_trace_id(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def logs() -> None:
        structlog.get_logger("inovasi.test").warning("inside the request")

    app.add_api_route("/test/trace-log", logs)
    with caplog.at_level(logging.INFO):
        await client.get("/test/trace-log", headers={"traceparent": TRACEPARENT})
    (inside,) = [r.msg for r in caplog.records if r.name == "inovasi.test"]
    assert isinstance(inside, dict)
    assert inside["trace_id"] == TRACE_ID
    assert inside["request_id"]


@pytest.mark.parametrize(
    "header",
    [
        f"01-{TRACE_ID}-00f067aa0ba902b7-01",  # a version this service does not read
        f"00-{'0' * 32}-00f067aa0ba902b7-01",  # all-zero trace id
        f"00-{TRACE_ID}-{'0' * 16}-01",  # all-zero parent id
        f"00-{TRACE_ID.upper()}-00f067aa0ba902b7-01",  # upper-case hex
        f"00-{TRACE_ID[:-1]}-00f067aa0ba902b7-01",  # 31 hex digits
        f"00-{TRACE_ID}-00f067aa0ba902b-01",  # 15 hex digits
        f"00-{TRACE_ID}-00f067aa0ba902b7",  # no flags
        f"00-{TRACE_ID}-00f067aa0ba902b7-01-extra",
        "garbage",
    ],
)
async def test_an_invalid_traceparent_is_ignored(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, header: str
) -> None:
    with caplog.at_level(logging.INFO):
        response = await client.get("/livez", headers={"traceparent": header})
    assert response.status_code == 200
    (line,) = _access_lines(caplog)
    assert line["trace_id"] is None


def test_trace_id_of_reads_the_header_case_insensitively_named() -> None:
    # ASGI servers lower-case header names; the parser reads them as the scope gives them.
    scope: Any = {"headers": [(b"traceparent", TRACEPARENT.encode())]}
    assert trace_id_of(scope) == TRACE_ID
    assert trace_id_of({"headers": []}) is None  # type: ignore[typeddict-item]
