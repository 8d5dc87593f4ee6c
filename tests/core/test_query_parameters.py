"""The catalogue list reads its query as one model (app/core/query.py): it must accept and
refuse what FastAPI's own parameter solving does. The facets route shares the filters and
`status` and is still solved by FastAPI, so each of their refusals is compared with it; the
page and sort parameters, which facets lack, are checked on their own."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Query

from app.core.query import QueryParameters
from app.domains.innovations.router import _LIST_QUERY
from app.models.enums import InnovationStage as S
from app.models.enums import InnovationStatus
from app.models.institutions import Unit
from tests.conftest import InnovationFactory

BAD_QUERIES = [
    "q=   " + "x" * 201,
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
    unit: Unit,
    make_innovation: InnovationFactory,
) -> None:
    published = InnovationStatus.published
    for n in range(3):
        await make_innovation(unit, published, title=f"QPSDG{n}", sdgs=[3])
        await make_innovation(unit, published, title=f"QPSTAGE{n}", sdgs=[5], stage=S.uji_coba)
    await make_innovation(unit, published, title="QPOTHER", sdgs=[7], stage=S.inisiatif)
    base = f"/v1/innovations?institution_id={unit.institution_id}&whatever=1"
    every = await client.get(f"{base}&sdg=3&sdg=5&limit=100")
    assert every.status_code == 200, every.text
    assert len(every.json()["items"]) == 6  # both repeated values apply
    stages = await client.get(f"{base}&stage=penerapan&stage=uji_coba&limit=100")
    assert len(stages.json()["items"]) == 6
    last = await client.get(f"{base}&sdg=3&sdg=5&limit=50&limit=2")
    assert len(last.json()["items"]) == 2  # the last value of a single one, as FastAPI reads it
    first = await client.get(f"{base}&sdg=3&sdg=5&limit=2&limit=50")
    assert len(first.json()["items"]) == 6


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


def test_every_schema_the_documented_parameters_refer_to_is_in_the_document() -> None:
    """The copied parameters keep FastAPI's `$ref`s: each must resolve in the app's document."""
    document = json.loads((Path(__file__).parents[2] / "openapi.json").read_text())
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document)))
    assert refs <= set(document["components"]["schemas"])
    listed = json.dumps(document["paths"]["/v1/innovations"]["get"]["parameters"])
    assert "#/components/schemas/InnovationSort" in listed
