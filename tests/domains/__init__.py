"""Tests of the domain endpoints, plus two helpers the domain test modules share."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession


def keep_arrangement_across_requests(client: httpx.AsyncClient, session: AsyncSession) -> None:
    """Release the test's savepoint before every request the client sends.

    The app shares the test's session, and a refused request rolls that session back: without
    this, the rollback would also undo whatever the test arranged (institutions, units, API
    keys) since the last commit. Committing only releases a savepoint; the test's outer
    transaction is still rolled back at the end. Expunging mirrors what a successful request
    does, so the test's objects stay readable (not expired) after a refused one.
    """

    async def release(_: httpx.Request) -> None:
        await session.commit()
        session.expunge_all()

    client.event_hooks["request"].append(release)


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
