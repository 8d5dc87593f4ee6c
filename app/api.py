"""Every domain router, mounted under /v1."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.utils import get_value_or_default

from app.domains.accounts.router import router as accounts_router
from app.domains.audit.router import router as audit_router
from app.domains.competitions.router import router as competitions_router
from app.domains.documents.router import router as documents_router
from app.domains.evaluation.router import router as evaluation_router
from app.domains.hub_activities.router import router as hub_activities_router
from app.domains.hubs.router import router as hubs_router
from app.domains.innovations.router import router as innovations_router
from app.domains.institutions.router import router as institutions_router
from app.domains.jobs.router import router as jobs_router
from app.domains.maturity.router import router as maturity_router
from app.domains.notifications.router import router as notifications_router
from app.domains.regions.router import router as regions_router
from app.domains.replications.router import router as replications_router
from app.domains.results.router import router as results_router
from app.domains.stats.router import router as stats_router
from app.domains.submissions.router import router as submissions_router
from app.domains.sync.router import router as sync_router
from app.domains.webhooks.router import router as webhooks_router

API_PREFIX = "/v1"
# The router tries routes in order, a few microseconds each: the public catalogue, by far the
# busiest, comes first (about 0.15 ms less per catalogue request, bench/README.md).
ROUTERS: tuple[APIRouter, ...] = (
    innovations_router,
    accounts_router,
    regions_router,
    institutions_router,
    hubs_router,
    hub_activities_router,
    maturity_router,
    competitions_router,
    submissions_router,
    evaluation_router,
    results_router,
    replications_router,
    stats_router,
    sync_router,
    audit_router,
    jobs_router,
    notifications_router,
    documents_router,
    webhooks_router,
)


def include_api(app: FastAPI) -> None:
    """Every domain route under /v1, each a route of the app's own router.

    FastAPI 0.163 keeps an included router as one route that matches a request twice (once to
    select it, once again to dispatch) through several layers, a sizeable share of a fast
    request's cost (bench/README.md). Each route is therefore added to the app as
    `include_router` did before: the same arguments, the /v1 prefix and the app's operation
    ids. `make openapi-check` holds the OpenAPI document to `openapi.json`.
    """
    before = len(app.router.routes)
    for router in ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"{route!r} is not an API route")
            _add(app, route)
    # Ahead of the documentation routes FastAPI added first: routes are tried in order.
    routes = app.router.routes
    routes[:] = routes[before:] + routes[:before]


def _add(app: FastAPI, route: APIRoute) -> None:
    app.router.add_api_route(
        API_PREFIX + route.path,
        route.endpoint,
        response_model=route.response_model,
        status_code=route.status_code,
        tags=route.tags,
        dependencies=route.dependencies,
        summary=route.summary,
        description=route.description,
        response_description=route.response_description,
        responses=route.responses,
        deprecated=route.deprecated,
        methods=route.methods,
        operation_id=route.operation_id,
        response_model_include=route.response_model_include,
        response_model_exclude=route.response_model_exclude,
        response_model_by_alias=route.response_model_by_alias,
        response_model_exclude_unset=route.response_model_exclude_unset,
        response_model_exclude_defaults=route.response_model_exclude_defaults,
        response_model_exclude_none=route.response_model_exclude_none,
        include_in_schema=route.include_in_schema,
        response_class=route.response_class,
        name=route.name,
        route_class_override=type(route),
        callbacks=route.callbacks,
        openapi_extra=route.openapi_extra,
        generate_unique_id_function=get_value_or_default(
            route.generate_unique_id_function, app.router.generate_unique_id_function
        ),
        strict_content_type=route.strict_content_type,
    )
