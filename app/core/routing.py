"""Which methods a path supports, across every router (for the `Allow` header of a 405)."""

from __future__ import annotations

import re

from fastapi import FastAPI, routing

_PARAM = re.compile(r"\{[^}/]+\}")


def _compile(path_format: str) -> re.Pattern[str]:
    parts = _PARAM.split(path_format)
    return re.compile("^" + "[^/]+".join(re.escape(p) for p in parts) + "$")


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "route_methods", None
    )
    if table is None:
        table = [
            (rc.path_regex or _compile(rc.path_format or ""), frozenset(rc.methods or ()))
            for rc in routing.iter_route_contexts(app.routes)
            if isinstance(rc.original_route, routing.APIRoute)
        ]
        app.state.route_methods = table
    methods: set[str] = set()
    for pattern, route_methods in table:
        if pattern.match(path):
            methods |= route_methods
    return sorted(methods)
