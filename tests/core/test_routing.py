"""How the API's routes are mounted: flat on the app, busiest first (bench/README.md)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.requests import Request

from app.api import API_PREFIX, ROUTERS
from app.core.headers import request_header


def _request(headers: list[tuple[bytes, bytes]]) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_every_domain_route_is_a_route_of_the_app_itself(app: FastAPI) -> None:
    own = {
        (route.path, frozenset(route.methods or ())): route
        for route in app.router.routes
        if isinstance(route, APIRoute)
    }
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            mounted = own[(API_PREFIX + route.path, frozenset(route.methods or ()))]
            assert mounted.endpoint is route.endpoint
            assert type(mounted) is type(route)  # the access policy's route class
            assert mounted.unique_id == route.name  # the app's operation ids


def test_the_catalogue_get_is_tried_first_and_the_api_before_the_documentation(
    app: FastAPI,
) -> None:
    paths = [getattr(route, "path", None) for route in app.router.routes]
    assert paths[0] == "/v1/innovations/{innovation_id:uuid}"
    last_api = max(i for i, p in enumerate(paths) if p and p.startswith(API_PREFIX))
    assert last_api < paths.index("/openapi.json")
    assert last_api < paths.index("/docs")


def test_a_header_is_read_from_the_scope_as_starlette_reads_it() -> None:
    headers = [(b"authorization", b"Bearer a"), (b"if-none-match", b'"3"')]
    request = _request([*headers, (b"authorization", b"Bearer b")])
    assert request_header(request, b"authorization") == "Bearer a"  # the first one
    assert request_header(request, b"if-none-match") == request.headers.get("if-none-match")
    assert request_header(request, b"origin") is None
    assert request_header(_request([]), b"authorization") is None
