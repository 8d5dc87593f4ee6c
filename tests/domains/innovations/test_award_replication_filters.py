"""The catalogue's filters on awards and replications, on the demo data (DOMAIN.md section 5):
Kota Malang's Emas Hitam di Balik Tumpukan Sampah (Top 25, 2015), SEPASAR PEDAS (Top 45, 2020),
Si Ikan Nila (Top 45, 2021) and Jarik Ma'Siti (Top 45, 2023), whose replicas NASI TIGA BERAS and
SIMBA ASIA were Top 5 of the 2024 replication group; Demi Sepeda Bagus, Top 45 of 2022 through
the demo's decreed KIPP 2022. Jarik Ma'Siti was implemented by the Malang schools; E-Disposisi
was implemented at the East Java bureau before it was discontinued (it still counts)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.seed.demo import load_demo

Params = dict[str, str | list[str]]
DEMI = (
    "Demi Sepeda Bagus: Sebuah Model Layanan Publik Berkebutuhan Khusus melalui PKBM, Inklusi "
    "Sosial, Pendidikan Keluarga, Kolaborasi Stakeholder dan Pembelajaran Berdiferensiasi"
)
TOP_45 = {"SEPASAR PEDAS", "Si Ikan Nila", DEMI, "Jarik Ma'Siti"}
TOP_5_2024 = {"NASI TIGA BERAS", "SIMBA ASIA"}
AWARDED = {"Emas Hitam di Balik Tumpukan Sampah"} | TOP_45 | TOP_5_2024


@pytest.fixture
async def demo(session: AsyncSession) -> int:
    return await load_demo(session)


async def titles(client: httpx.AsyncClient, params: Params) -> set[str]:
    response = await client.get("/v1/innovations", params={**params, "limit": 100})
    assert response.status_code == 200, response.text
    assert not response.json()["has_more"]
    return {item["title"] for item in response.json()["items"]}


async def test_has_award_keeps_the_awarded_and_false_the_others(
    client: httpx.AsyncClient, demo: int
) -> None:
    assert await titles(client, {"has_award": "true"}) == AWARDED
    everything = await titles(client, {})
    assert await titles(client, {"has_award": "false"}) == everything - AWARDED


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"award_tier": "top_45"}, TOP_45),
        ({"award_tier": ["top_5", "top_45", "top_25"]}, AWARDED),
        ({"award_tier": "top_5"}, TOP_5_2024),
        ({"award_tier": "top_99"}, set()),
        ({"award_year": "2023"}, {"Jarik Ma'Siti"}),
        ({"award_year": "2022"}, {DEMI}),
        ({"award_tier": "top_45", "award_year": "2022"}, {DEMI}),
        ({"award_tier": "top_5", "award_year": "2023"}, set()),
    ],
)
async def test_award_tier_and_year_match_one_award(
    client: httpx.AsyncClient, demo: int, params: Params, expected: set[str]
) -> None:
    assert await titles(client, params) == expected


async def test_replicated_means_an_adopter_reached_implementation(
    client: httpx.AsyncClient, demo: int
) -> None:
    # SIKULIN's replication only has its agreement signed, Demi Sepeda Bagus's is a request,
    # "DPRD Menyapa"'s was rejected: none of them counts.
    assert await titles(client, {"replicated": "true"}) == {"Jarik Ma'Siti", "E-Disposisi"}
    not_replicated = await titles(client, {"replicated": "false"})
    assert {"SIKULIN", DEMI, 'Layanan Kehumasan "DPRD Menyapa"'} <= not_replicated
    assert not_replicated.isdisjoint({"Jarik Ma'Siti", "E-Disposisi"})


async def test_facets_and_statistics_take_the_same_filters(
    client: httpx.AsyncClient, demo: int
) -> None:
    params: Params = {"replicated": "true", "has_award": "true"}
    listed = await client.get("/v1/innovations", params={**params, "include_total": "true"})
    facets = await client.get("/v1/innovations/facets", params=params)
    overview = await client.get("/v1/stats/overview", params=params)
    assert listed.json()["total"] == facets.json()["total"] == 1
    assert overview.json()["published_innovations"] == 1


async def test_a_malformed_award_filter_is_a_422(client: httpx.AsyncClient, demo: int) -> None:
    for params in ({"award_tier": "Top 45"}, {"award_year": "1999"}, {"replicated": "maybe"}):
        response = await client.get("/v1/innovations", params=params)
        assert response.status_code == 422, response.text
