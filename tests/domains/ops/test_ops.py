"""Health, readiness, metrics, offline docs and CORS."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import Settings
from app.main import create_app
from tests.conftest import make_settings

FRONTEND = "https://app.example.go.id"


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.fixture
async def cors_client(database_url: URL, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(database_url, cors_origins=FRONTEND), engine=engine)
    async with _client(app) as client:
        yield client


@pytest.fixture
async def unreachable_db_client(database_url: URL) -> AsyncIterator[httpx.AsyncClient]:
    dead = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/x")
    app = create_app(make_settings(database_url), engine=dead)
    async with _client(app) as client:
        yield client
    await dead.dispose()


# --- health ----------------------------------------------------------------------------------


async def test_livez_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_livez_does_not_need_the_database(
    unreachable_db_client: httpx.AsyncClient,
) -> None:
    response = await unreachable_db_client.get("/livez")
    assert response.status_code == 200


async def test_readyz_is_ok_when_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_a_503_problem_when_the_database_is_unreachable(
    unreachable_db_client: httpx.AsyncClient,
) -> None:
    response = await unreachable_db_client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "database.unavailable"
    assert body["request_id"] == response.headers["x-request-id"]


# --- metrics ---------------------------------------------------------------------------------
#
# Each app registers its metrics in a registry of its own (app.core.metrics).


@pytest.fixture
async def metrics_client(
    settings: Settings, engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(create_app(settings, engine=engine)) as client:
        yield client


async def test_metrics_is_prometheus_text(metrics_client: httpx.AsyncClient) -> None:
    await metrics_client.get("/livez")
    response = await metrics_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE http_requests_total counter" in response.text


async def test_metrics_count_requests_by_route_template(
    metrics_client: httpx.AsyncClient,
) -> None:
    institution_id = uuid.uuid4()
    await metrics_client.get(f"/v1/institutions/{institution_id}")
    text = (await metrics_client.get("/metrics")).text
    assert re.search(
        r'^http_requests_total\{handler="/v1/institutions/\{institution_id\}",'
        r'method="GET",status="404"\} 1\.0$',
        text,
        re.MULTILINE,
    ), text
    assert str(institution_id) not in text


async def test_metrics_record_latency_by_route_template(
    metrics_client: httpx.AsyncClient,
) -> None:
    await metrics_client.get("/v1/regions/12")
    text = (await metrics_client.get("/metrics")).text
    assert re.search(
        r'^http_request_duration_seconds_count\{handler="/v1/regions/\{code\}",method="GET"\} '
        r"1\.0$",
        text,
        re.MULTILINE,
    ), text


async def test_metrics_count_unmatched_paths_as_none(metrics_client: httpx.AsyncClient) -> None:
    await metrics_client.get("/no/such/path/12345")
    text = (await metrics_client.get("/metrics")).text
    assert re.search(
        r'^http_requests_total\{handler="none",method="GET",status="404"\} 1\.0$',
        text,
        re.MULTILINE,
    ), text
    assert "12345" not in text


async def test_metrics_do_not_count_themselves(metrics_client: httpx.AsyncClient) -> None:
    await metrics_client.get("/metrics")
    text = (await metrics_client.get("/metrics")).text
    assert 'handler="/metrics"' not in text


async def test_metrics_of_a_second_app_in_the_process_are_recorded(
    settings: Settings, engine: AsyncEngine
) -> None:
    async with _client(create_app(settings, engine=engine)) as first:
        await first.get("/livez")
    async with _client(create_app(settings, engine=engine)) as second:
        await second.get("/v1/regions/12")
        text = (await second.get("/metrics")).text
    assert 'handler="/v1/regions/{code}"' in text


# --- docs ------------------------------------------------------------------------------------


async def test_docs_load_only_local_assets(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "cdn" not in html.lower()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets)
    assert any(a.endswith(".css") for a in assets)
    external = [a for a in assets if not a.startswith("/") or a.startswith("//")]
    assert external == []


async def test_docs_assets_are_served(client: httpx.AsyncClient) -> None:
    html = (await client.get("/docs")).text
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        response = await client.get(asset)
        assert response.status_code == 200, asset
        assert response.content, asset


async def test_openapi_document_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.1")


# --- CORS ------------------------------------------------------------------------------------


async def test_cors_preflight_from_configured_origin_is_allowed(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.options(
        "/v1/institutions",
        headers={
            "Origin": FRONTEND,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type, If-Match",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == FRONTEND
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "if-match"} <= {h.strip() for h in allowed.split(",")}


async def test_cors_response_exposes_etag_request_id_and_retry_after(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.get("/livez", headers={"Origin": FRONTEND})
    assert response.headers["access-control-allow-origin"] == FRONTEND
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "x-request-id", "retry-after"} <= exposed


async def test_cors_other_origin_is_not_allowed(cors_client: httpx.AsyncClient) -> None:
    preflight = await cors_client.options(
        "/v1/institutions",
        headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    simple = await cors_client.get("/livez", headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_is_off_without_configured_origins(client: httpx.AsyncClient) -> None:
    response = await client.get("/livez", headers={"Origin": FRONTEND})
    assert "access-control-allow-origin" not in response.headers
