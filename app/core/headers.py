"""A request header read straight from the ASGI scope, for the hottest paths.

Starlette's `Headers.get` looks a header up by raising and catching `KeyError` when it is
absent, the usual case for `Authorization` and `If-None-Match` on a public read, and that
costs a few percent of a fast request (bench/README.md). ASGI servers give header names in
lower case; the first of repeated headers wins, as with `Headers.get`.
"""

from __future__ import annotations

from starlette.requests import Request


def request_header(request: Request, name: bytes) -> str | None:
    """The value of header `name` (lower case bytes), or None when the request has none."""
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None
