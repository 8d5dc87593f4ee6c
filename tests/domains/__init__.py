"""Tests of the domain endpoints, plus the helper the domain test modules share."""

from __future__ import annotations

from typing import Any

import httpx


def assert_problem(
    response: httpx.Response, status: int, code: str, *, pointer: str | None = None
) -> dict[str, Any]:
    """The response is a problem+json with this status and code (and a field error at pointer)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:inovasi:problem:{code}"
    if pointer is not None:
        assert pointer in [error.get("pointer") for error in body["errors"]], body
    return body
