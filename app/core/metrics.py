"""Prometheus metrics: request counts and latency by route template, per app.

Written here rather than taken from prometheus-fastapi-instrumentator: that middleware matched
every request against the route table a second time (the router had just done it), built a
Request, a Response and an Info object per request, and kept its collectors process-wide, so a
second app in one process recorded nothing. Replacing it saved about 0.13 ms of CPU a request
(bench/README.md). Here the route template is read from the ASGI scope after the router has
matched, and each app has its own registry.
"""

from __future__ import annotations

import hmac
from collections.abc import MutableMapping
from typing import Any

from fastapi.routing import iter_route_contexts
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    gc_collector,
    generate_latest,
    platform_collector,
    process_collector,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount, Route
from starlette.types import Scope

from app.core.errors import problem_response

METRICS_PATH = "/metrics"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The service's collectors, registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        process_collector.ProcessCollector(registry=self.registry)
        platform_collector.PlatformCollector(registry=self.registry)
        gc_collector.GCCollector(registry=self.registry)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by method, route template and status.",
            ("method", "handler", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to the last byte of the response, by method and route template.",
            ("method", "handler"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "http_requests_inprogress",
            "Requests being served.",
            registry=self.registry,
        )

    def observe(self, method: str, handler: str, status: int, seconds: float) -> None:
        self.requests.labels(method, handler, str(status)).inc()
        self.latency.labels(method, handler).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_template(scope: MutableMapping[str, Any]) -> str | None:
    """The matched route's full path template (`/v1/regions/{code}`), None if nothing matched.

    The router leaves the matched route in the scope; the route knows only its path inside its
    own router, so the full template (with the prefixes of the routers it is included in) is
    looked up in a table built from the app's route tree, rebuilt when a route is missing.
    """
    route = scope.get("route")
    if route is None or "app" not in scope:
        return None
    state = scope["app"].state
    templates: dict[int, str] | None = getattr(state, "route_templates", None)
    template = templates.get(id(route)) if templates is not None else None
    if template is None:
        templates = {
            id(context.original_route): context.path_format
            for context in iter_route_contexts(scope["app"].router.routes)
            if context.path_format is not None
        }
        template = templates.setdefault(id(route), str(getattr(route, "path", "none")))
        state.route_templates = templates
    return template


class NamedRoute(Route):
    """A Starlette route that leaves itself in the scope as the matched route, as FastAPI's
    routes do (Starlette's do not): the access log and the request metrics then name its
    template instead of counting it under `handler="none"` with the unmatched paths."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


class NamedMount(Mount):
    """A mount (the documentation's static files) named like `NamedRoute`: every file under
    it is counted under the mount's path."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


class MetricsRoute(NamedRoute):
    """`GET /metrics`, outside the OpenAPI document; named, so the request metrics can leave
    it out by its template rather than count it under `handler="none"`."""

    def __init__(self) -> None:
        super().__init__(METRICS_PATH, metrics_endpoint, methods=["GET"], include_in_schema=False)


def _bearer_matches(request: Request, token: str) -> bool:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        credential.strip().encode(), token.encode()
    )


async def metrics_endpoint(request: Request) -> Response:
    """The Prometheus text; with `METRICS_TOKEN` set, only for `Authorization: Bearer <it>`."""
    token = request.app.state.settings.metrics_token.get_secret_value()
    if token and not _bearer_matches(request, token):
        return problem_response(
            request,
            401,
            "metrics.unauthorized",
            "The metrics need `Authorization: Bearer <METRICS_TOKEN>`.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    metrics: Metrics = request.app.state.metrics
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
