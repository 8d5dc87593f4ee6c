"""Every list's free-text `q` (app/core/query.py, `SearchText`): an empty search box lists
everything, whether it sends `q=` or only spaces, and surrounding spaces never change what
a search finds."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.models.enums import InnovationStatus
from app.models.hubs import Hub
from app.models.institutions import Unit
from tests.conftest import InnovationFactory

# Every operation taking `q`, with the path it is called on (filled below).
SEARCHED = {
    "/v1/regions",
    "/v1/institutions",
    "/v1/institutions/{institution_id}/units",
    "/v1/hubs",
    "/v1/hubs/{hub_id}/activities",
    "/v1/users",
    "/v1/innovations",
    "/v1/innovations/facets",
    "/v1/innovations/export",
    "/v1/stats/overview",
    "/v1/stats/innovations",
}


def test_the_test_covers_every_operation_taking_q(app: FastAPI) -> None:
    taking_q = {
        path
        for path, operations in app.openapi()["paths"].items()
        for operation in operations.values()
        if any(p["name"] == "q" for p in operation.get("parameters", []))
    }
    assert taking_q == SEARCHED


def _listed(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("text/csv"):
        return response.text
    body = response.json()
    return body.get("items", body)


@pytest.mark.parametrize("path", sorted(SEARCHED))
async def test_an_empty_or_blank_q_lists_everything(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    unit: Unit,
    hub: Hub,
    make_innovation: InnovationFactory,
    path: str,
) -> None:
    await make_innovation(unit, InnovationStatus.published, title="SIKULIN")
    url = path.format(institution_id=unit.institution_id, hub_id=hub.id)
    url += "?group_by=year&" if path == "/v1/stats/innovations" else "?"
    everything = _listed(await client.get(url, headers=admin))
    for blank in ("", "  ", "%20%20", "%09"):
        response = await client.get(f"{url}q={blank}", headers=admin)
        assert _listed(response) == everything, (blank, response.text)


async def test_surrounding_spaces_do_not_change_a_search(
    client: httpx.AsyncClient, unit: Unit, make_innovation: InnovationFactory
) -> None:
    await make_innovation(unit, InnovationStatus.published, title="SIKULIN")
    for url, word in (("/v1/regions?q={}", "medan"), ("/v1/innovations?q={}", "sikulin")):
        plain = _listed(await client.get(url.format(word)))
        assert plain
        assert _listed(await client.get(url.format(f"%20{word}%20"))) == plain


async def test_a_search_too_long_is_still_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/regions", params={"q": "x" * 101})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["parameter"] == "q"
