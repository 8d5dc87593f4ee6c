"""The catalogue list reads its query as one model (app/core/query.py): it must accept and
refuse exactly what FastAPI's own parameter solving does. The facets route shares the
filters and is still solved by FastAPI, so each refusal is compared with it."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import pytest
from fastapi import Query

from app.core.query import QueryParameters
from app.domains.innovations.router import _LIST_QUERY

BAD_QUERIES = [
    "q=",
    "q=" + "x" * 201,
    "year_from=1900",
    "year_to=abc",
    "region=3x",
    "institution_id=nope",
    "unit_id=1",
    "institution_kind=planet",
    "is_digital=maybe",
    "stage=finished",
    "sdg=0",
    "sdg=3&sdg=18",
    "sdg=" + "&sdg=".join(["1"] * 18),
    "category=Not A Code",
    "has_award=2",
    "award_tier=TOP",
    "award_year=1999",
    "replicated=x",
    "similar_to=zz",
    "status=gone",
    "year_from=1900&sdg=40&stage=x",
]


def _errors(body: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(body["errors"], key=lambda e: (e.get("parameter") or "", e["message"]))


@pytest.mark.parametrize("query", BAD_QUERIES)
async def test_the_list_refuses_what_fastapi_refuses_with_the_same_errors(
    client: httpx.AsyncClient, query: str
) -> None:
    listed = await client.get(f"/v1/innovations?{query}")
    faceted = await client.get(f"/v1/innovations/facets?{query}")
    assert listed.status_code == 422, listed.text
    assert faceted.status_code == 422, faceted.text
    assert listed.headers["content-type"] == "application/problem+json"
    assert _errors(listed.json()) == _errors(faceted.json())
    assert all(e["location"] == "query" for e in listed.json()["errors"])


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "greater than or equal to 1"),
        ("limit=101", "less than or equal to 100"),
        ("limit=x", "valid integer"),
        ("include_total=perhaps", "valid boolean"),
        ("sort=sideways", "Input should be"),
        ("cursor=" + "c" * 2049, "at most 2048"),
    ],
)
async def test_the_list_refuses_bad_page_and_sort_parameters(
    client: httpx.AsyncClient, query: str, message: str
) -> None:
    response = await client.get(f"/v1/innovations?{query}")
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["parameter"] == query.split("=")[0]
    assert message in error["message"]


async def test_the_list_reads_repeated_values_unknown_names_and_the_last_single_value(
    client: httpx.AsyncClient,
) -> None:
    ok = await client.get(
        "/v1/innovations?sdg=3&sdg=16&stage=penerapan&stage=uji_coba&whatever=1"
        "&limit=5&limit=2&is_digital=true&status=published"
    )
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["items"]) <= 2


def test_the_runtime_model_reads_every_documented_parameter() -> None:
    documented = {p["name"] for p in _LIST_QUERY.documented}
    assert documented == set(_LIST_QUERY.aliases)
    assert _LIST_QUERY.sequences == {
        "institution_kind",
        "stage",
        "sdg",
        "category",
        "award_tier",
        "award_year",
        "status",
    }


def test_a_parameter_declared_twice_is_refused() -> None:

    async def one(x: Annotated[int | None, Query()] = None) -> None: ...

    with pytest.raises(ValueError, match="declared twice"):
        QueryParameters("Twice", [one, one], one)
