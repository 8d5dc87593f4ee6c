"""Application factory: settings, engine, middleware, error handlers, routers, OpenAPI."""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm.exc import StaleDataError
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from app import models  # noqa: F401 - registers every table
from app.api import include_api
from app.core.concurrency import NotModified
from app.core.config import Settings, get_settings
from app.core.errors import install_error_handlers, problem_response
from app.core.logging import configure_logging
from app.core.metrics import Metrics, MetricsRoute, NamedMount, NamedRoute
from app.core.middleware import (
    AccessLogMiddleware,
    BodyGuardMiddleware,
    TraceIds,
    UnhandledErrorMiddleware,
)
from app.core.openapi import build_openapi
from app.core.pagination import CursorSigner
from app.core.ratelimit import build_rate_limiter
from app.core.security import install_credentials
from app.core.shared_results import SharedResults
from app.core.shutdown import Drain
from app.core.telemetry import install_tracing
from app.db.reads import PoolReader
from app.db.replica import build_replica
from app.db.session import (
    create_engine,
    create_key_read_engine,
    create_read_sessionmaker,
    create_sessionmaker,
    warn_of_statement_timeout,
)
from app.db.url import resolve_database_url
from app.domains.accounts.credentials import Credentials
from app.domains.ops.router import router as ops_router

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

DESCRIPTION = """\
Indonesia's public-service innovation programme: the innovation catalogue, the KIPP
competition, the JIPP hubs and replication.

Errors are `application/problem+json` (RFC 9457) with a stable `code`. Lists return
`{items, next_cursor, has_more}`; follow `next_cursor`. Mutable records carry a `version`,
sent as `ETag`; send it back in `If-Match` when changing them.
"""


def _operation_id(route: APIRoute) -> str:
    return route.name


# The documentation page, served with its own copy of Swagger UI (fastapi-offline's assets),
# never a CDN. Its two pages are module functions that read the app from the request, and plain
# Starlette routes: fastapi_offline's `FastAPIOffline` defines them as closures over each app
# and registers them as API routes, whose callables FastAPI keeps in module-level `lru_cache`s
# (fastapi/dependencies/models.py, 4,096 entries each), so every app ever built stayed alive:
# about 21k objects an app, the slow final collection of a test run.
DOCS_URL = "/docs"
DOCS_ASSETS_URL = "/static-offline-docs"
_DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


async def _swagger_ui(request: Request) -> HTMLResponse:
    app: FastAPI = request.app
    root = request.scope.get("root_path", "")
    return get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=app.title + " - Swagger UI",
        oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
        swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
        swagger_ui_parameters=app.swagger_ui_parameters,
    )


async def _swagger_ui_redirect(_: Request) -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def _add_docs(app: FastAPI) -> None:
    # Named routes and mount: their requests are counted under their own templates, not
    # under `handler="none"` with the unmatched paths.
    assets = StaticFiles(directory=_DOCS_ASSETS)
    app.router.routes.append(NamedMount(DOCS_ASSETS_URL, assets, name="static-offline-docs"))
    app.router.routes.append(NamedRoute(DOCS_URL, _swagger_ui, include_in_schema=False))
    assert app.swagger_ui_oauth2_redirect_url is not None
    app.router.routes.append(
        NamedRoute(
            app.swagger_ui_oauth2_redirect_url, _swagger_ui_redirect, include_in_schema=False
        )
    )


def attach_database(
    app: FastAPI, engine: AsyncEngine, key_read_engine: AsyncEngine | None = None
) -> None:
    """The engine of sessions, and the one of the hot reads by key (the same one if None)."""
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.read_sessionmaker = create_read_sessionmaker(engine)
    app.state.reader = PoolReader(key_read_engine or engine)


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned: list[AsyncEngine] = []
        if getattr(app.state, "engine", None) is None:
            url = resolve_database_url(settings.database_url, settings.embedded_pg_dir)
            owned = [create_engine(url, settings), create_key_read_engine(url, settings)]
            attach_database(app, *owned)
            app.state.replica = build_replica(settings)
            if settings.database_pgbouncer:
                await warn_of_statement_timeout(owned[0], settings)
            # Everything built so far (modules, the app, its routes and schemas) lives as long
            # as the process: out of the collector's sight, a full collection takes 5 ms
            # instead of 130 ms, and under load they had taken a fifth of a list request's CPU
            # (bench/README.md). Only a process that owns its engines (the served app): tests
            # build many apps in one process and must not freeze them.
            gc.collect()
            gc.freeze()
            # The served process: follow the server's SIGTERM for the shutdown grace.
            app.state.drain.watch_signals()
        logger.info("service started", extra={"environment": settings.environment.value})
        try:
            yield
            await app.state.rate_limiter.aclose()
        finally:
            for owned_engine in owned:
                await owned_engine.dispose()
            if owned and app.state.replica is not None:
                await app.state.replica.dispose()

    app = FastAPI(
        title="Inovasi",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        # The service reports through Prometheus metrics and structured logs. FastAPI's native
        # OpenTelemetry support would otherwise look for configured providers (environment
        # lookups) on every request: 3% of a get by id (bench/README.md).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,
        redoc_url=None,
        swagger_ui_parameters={"persistAuthorization": True},
        openapi_tags=[
            {"name": "ops", "description": "Health and metrics."},
            {"name": "identity", "description": "Sign-in, the caller, accounts and API keys."},
            {"name": "regions", "description": "Kemendagri provinces, regencies and cities."},
            {"name": "institutions", "description": "Institutions and their service units."},
            {
                "name": "innovations",
                "description": "The innovation catalogue: records, lifecycle, search, facets, "
                "export and the category vocabulary.",
            },
            {"name": "hubs", "description": "JIPP hubs, the regional innovation network."},
            {
                "name": "competitions",
                "description": "Competition editions (KIPP) and their rules, groups, categories, "
                "rounds and weighted criteria.",
            },
            {
                "name": "submissions",
                "description": "Entries of an edition: the institution's proposals, the local "
                "admin's approval, the organiser's screening and the entry rules.",
            },
            {
                "name": "evaluation",
                "description": "Rounds evaluated: assignments with conflicts of interest "
                "excluded, evaluators' scores, the ranking and closing a round.",
            },
            {
                "name": "results",
                "description": "Numbered announcements, public objections and awards.",
            },
            {"name": "stats", "description": "Public statistics over published records."},
            {"name": "audit", "description": "The audit trail of every write."},
            {
                "name": "jobs",
                "description": "Background jobs run by `inovasi worker`: their status, "
                "attempts and last error; the secretariat retries the dead ones.",
            },
            {
                "name": "webhooks",
                "description": "Endpoints of machine clients told of workflow events and "
                "record changes, signed per Standard Webhooks 1.0; their deliveries and "
                "attempts.",
            },
        ],
    )
    _add_docs(app)
    app.state.settings = settings
    app.state.replica = None
    app.state.cursor_signer = CursorSigner(settings.secret_key.encode())
    app.state.public_facets = SharedResults[str, Any](settings.public_facets_cache_seconds)
    app.state.rate_limiter = build_rate_limiter(settings, lambda: app.state.engine)
    app.state.drain = Drain(settings.shutdown_grace_seconds)
    install_credentials(app, Credentials(settings))
    if engine is not None:
        attach_database(app, engine)

    install_error_handlers(app)

    async def _not_modified(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, NotModified)
        return Response(status_code=304, headers=exc.headers)

    async def _stale(request: Request, _: Exception) -> Response:
        return problem_response(
            request,
            412,
            "version_conflict",
            "The record was changed by another request; fetch it again and retry.",
        )

    app.add_exception_handler(NotModified, _not_modified)
    app.add_exception_handler(StaleDataError, _stale)

    # The API first: routes are matched in order, and the catalogue's are the busiest.
    include_api(app)
    app.include_router(ops_router)

    app.state.metrics = Metrics()
    app.router.routes.append(MetricsRoute())

    # Outermost last: request id first, so every log line and error carries it.
    app.add_middleware(UnhandledErrorMiddleware, drain=app.state.drain)
    app.add_middleware(
        BodyGuardMiddleware,
        max_bytes=settings.max_body_bytes,
        larger={"/v1/sync/": settings.sync_max_body_bytes},
        # Uploads are streamed to storage by their route, which checks their limits.
        streamed={"/v1/documents": settings.documents_max_bytes},
    )
    app.state.trace_ids = TraceIds()
    app.add_middleware(
        AccessLogMiddleware, metrics=app.state.metrics, trace_ids=app.state.trace_ids
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "If-None-Match",
            "Idempotency-Key",
            "X-Request-ID",
        ],
        expose_headers=["ETag", "X-Request-ID", "Retry-After", "Location"],
    )
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name="X-Request-ID",
        validator=lambda value: bool(_REQUEST_ID.match(value)),
    )

    def openapi() -> dict[str, Any]:
        return build_openapi(app)

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_factory() -> FastAPI:
    """Entry point for `uvicorn --factory app.main:app_factory` (run in each worker process)."""
    app = create_app()
    install_tracing(app)
    return app
