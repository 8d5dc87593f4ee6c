"""Finding what to replicate: GET /v1/innovations/{innovation_id}/similar on the demo data
(the Malang schools' inclusion programmes and the Medan council's services)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import Role
from app.seed.demo import load_demo
from app.seed.ids import demo_id
from tests.conftest import KeyFactory
from tests.domains.replications.conftest import World


def innovation(title: str) -> str:
    return str(demo_id("innovation", title))


@pytest.fixture
async def demo(session: AsyncSession) -> int:
    return await load_demo(session)


async def similar(
    client: httpx.AsyncClient, title: str, headers: dict[str, str] | None = None, **params: int
) -> list[dict[str, object]]:
    response = await client.get(
        f"/v1/innovations/{innovation(title)}/similar", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["innovation_id"] == innovation(title)
    items: list[dict[str, object]] = body["items"]
    return items


async def test_the_replicas_of_an_inclusion_programme_are_most_alike_it(
    client: httpx.AsyncClient, demo: int
) -> None:
    items = await similar(client, "Jarik Ma'Siti")
    assert [i["title"] for i in items[:2]] == ["NASI TIGA BERAS", "SIMBA ASIA"]
    assert all(i["status"] == "published" for i in items)
    assert innovation("Jarik Ma'Siti") not in {i["id"] for i in items}


async def test_an_awarded_and_replicated_source_comes_first_for_its_replica(
    client: httpx.AsyncClient, demo: int
) -> None:
    items = await similar(client, "NASI TIGA BERAS")
    first = items[0]
    assert first["title"] == "Jarik Ma'Siti"
    assert first["similarity"]["awarded"] is True  # type: ignore[index]
    # SMPN 13 and SMPN 2 implemented it: one adopter institution, Pemerintah Kota Malang.
    assert first["similarity"]["proven_replications"] == 1  # type: ignore[index]
    scores = [i["similarity"]["score"] for i in items]  # type: ignore[index]
    assert scores == sorted(scores, reverse=True)


async def test_the_callers_own_institution_is_left_out(
    client: httpx.AsyncClient, demo: int, auth: KeyFactory
) -> None:
    malang = demo_id("institution", "Pemerintah Kota Malang")
    headers = await auth(Role.local_admin, institution_id=malang)
    items = await similar(client, "Jarik Ma'Siti", headers)
    assert {i["institution_id"] for i in items}.isdisjoint({str(malang)})


async def test_the_limit_bounds_the_list(client: httpx.AsyncClient, demo: int) -> None:
    assert len(await similar(client, "SIKULIN", limit=3)) == 3
    response = await client.get(
        f"/v1/innovations/{innovation('SIKULIN')}/similar", params={"limit": 51}
    )
    assert response.status_code == 422


async def test_a_draft_or_unknown_innovation_is_a_404_for_the_public(
    client: httpx.AsyncClient, demo: int
) -> None:
    for innovation_id in (innovation("E-Kuesioner"), str(uuid.uuid4())):
        response = await client.get(f"/v1/innovations/{innovation_id}/similar")
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "innovation.not_found"


# --- the catalogue's `similar_to` filter -----------------------------------------------------


async def test_similar_to_lists_the_most_alike_first_page_by_page(
    client: httpx.AsyncClient, demo: int
) -> None:
    expected = [i["id"] for i in await similar(client, "Jarik Ma'Siti", limit=50)]
    seen: list[str] = []
    params: dict[str, str | int] = {"similar_to": innovation("Jarik Ma'Siti"), "limit": 2}
    while True:
        response = await client.get("/v1/innovations", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["id"] for item in body["items"]]
        if not body["has_more"]:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == expected
    assert seen[:2] == [innovation("NASI TIGA BERAS"), innovation("SIMBA ASIA")]


async def test_similar_to_combines_with_the_other_filters_facets_and_export(
    client: httpx.AsyncClient, demo: int
) -> None:
    params = {"similar_to": innovation("SIKULIN"), "is_digital": "true", "include_total": "true"}
    listed = (await client.get("/v1/innovations", params={**params, "limit": 100})).json()
    assert listed["items"]
    assert all(item["is_digital"] for item in listed["items"])
    assert innovation("SIKULIN") not in {item["id"] for item in listed["items"]}
    facets = (await client.get("/v1/innovations/facets", params=params)).json()
    assert facets["total"] == listed["total"] == len(listed["items"])
    export = await client.get("/v1/innovations/export", params=params)
    assert export.status_code == 200, export.text
    exported = [line.split(",")[0] for line in export.text.splitlines()[1:]]
    assert exported == [item["id"] for item in listed["items"]]


async def test_similar_to_an_innovation_the_caller_cannot_read_is_a_422(
    client: httpx.AsyncClient, demo: int
) -> None:
    for innovation_id in (innovation("E-Kuesioner"), str(uuid.uuid4())):
        response = await client.get("/v1/innovations", params={"similar_to": innovation_id})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "innovation.similar_to_not_found"


async def test_similarity_reads_the_title_before_a_long_summary(
    client: httpx.AsyncClient, w: World
) -> None:
    # A summary of many distinct words sorting before the title's: the title still counts.
    summary = " ".join(f"aaa{i:03d}" for i in range(80))
    source = await w.innovation(
        w.malang_a, title="ZYXWAR", sections={"summary": summary}, category_codes=["pendidikan"]
    )
    twin = await w.innovation(w.sby_unit, title="ZYXWAR Surabaya", category_codes=["kesehatan"])
    response = await client.get(f"/v1/innovations/{source.id}/similar")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items[0]["id"] == str(twin.id)
    assert items[0]["similarity"]["text_score"] == 1.0


async def test_a_perfect_match_scores_exactly_one_and_every_score_is_rounded(
    client: httpx.AsyncClient, w: World
) -> None:
    # 0.6 * 1 + 0.3 * 1 + 0.1 * 1 is 0.9999999999999999 in floating point.
    source = await w.innovation(
        w.malang_a, title="QWERTAL", category_codes=["pendidikan"], sdgs=[4]
    )
    twin = await w.innovation(w.sby_unit, title="QWERTAL", category_codes=["pendidikan"], sdgs=[4])
    third = await w.innovation(
        w.sby_unit, title="Lain", category_codes=["pendidikan", "kesehatan", "sosial"], sdgs=[4, 5]
    )
    response = await client.get(f"/v1/innovations/{source.id}/similar")
    assert response.status_code == 200, response.text
    items = {i["id"]: i["similarity"] for i in response.json()["items"]}
    assert items[str(twin.id)]["score"] == 1.0
    assert (items[str(third.id)]["category_score"], items[str(third.id)]["sdg_score"]) == (
        0.3333,
        0.5,
    )
    for similarity in items.values():
        for part in ("score", "text_score", "category_score", "sdg_score"):
            assert round(similarity[part], 4) == similarity[part]
