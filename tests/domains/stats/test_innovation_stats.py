"""/v1/stats: headline numbers and grouped counts of published innovations only, under the
catalogue's filters.

Every record here started in the 1990s, and every exact count is taken under YEARS (1990-1999),
so records other tests or the demo data might add can never change them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from app.models.enums import InnovationStage, InnovationStatus, InstitutionKind
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from tests.conftest import InnovationFactory, InstitutionFactory, UnitFactory
from tests.domains import assert_problem

Headers = dict[str, str]
Params = dict[str, Any]
YEARS: Params = {"year_from": 1990, "year_to": 1999}

# key: (institution, year, digital, stage, sdgs, categories, status)
SPECS: dict[str, tuple[str, int, bool, InnovationStage, list[int], list[str], str]] = {
    "p1": ("banda", 1991, True, InnovationStage.penerapan, [16], ["tata_kelola"], "published"),
    "p2": ("denpasar", 1993, False, InnovationStage.uji_coba, [3, 16], ["kesehatan"], "published"),
    "p3": (
        "aceh",
        1993,
        True,
        InnovationStage.penerapan,
        [4],
        ["pendidikan", "tata_kelola"],
        "published",
    ),
    "p4": (
        "denpasar",
        1992,
        True,
        InnovationStage.inisiatif,
        [11],
        ["lingkungan_hidup"],
        "published",
    ),
    "p5": ("kemen", 1995, True, InnovationStage.penerapan, [1, 16], ["tata_kelola"], "published"),
    "p6": (
        "jembrana",
        1994,
        False,
        InnovationStage.uji_coba,
        [10],
        ["pengaduan_publik"],
        "published",
    ),
    "p7": (
        "jembrana",
        1995,
        False,
        InnovationStage.inisiatif,
        [16, 17],
        ["pendidikan"],
        "published",
    ),
    # Never counted: drafts and archived records, including the only records of Sabang and
    # Badung, of SDGs 2 and 5 and of the kesetaraan_gender category.
    "d1": ("banda", 1991, True, InnovationStage.penerapan, [16], ["tata_kelola"], "draft"),
    "d2": ("kemen", 1995, True, InnovationStage.inisiatif, [5], ["kesetaraan_gender"], "draft"),
    "d3": ("sabang", 1993, False, InnovationStage.penerapan, [16], [], "draft"),
    "a1": ("jembrana", 1992, True, InnovationStage.penerapan, [16], ["tata_kelola"], "archived"),
    "a2": ("badung", 1994, False, InnovationStage.penerapan, [2], ["pendidikan"], "archived"),
}

# By hand, from SPECS: the seven published records p1-p7.
STAGES = [("penerapan", 3), ("inisiatif", 2), ("uji_coba", 2)]
EXPECTED_GROUPS: dict[str, list[tuple[str, str | None, int]]] = {
    "year": [("1991", None, 1), ("1992", None, 1), ("1993", None, 2), ("1994", None, 1),
             ("1995", None, 2)],
    "province": [("51", "Bali", 4), ("11", "Aceh", 2)],
    "institution_kind": [("pemkot", None, 3), ("pemkab", None, 2), ("kementerian", None, 1),
                         ("pemprov", None, 1)],
    "sdg": [("1", None, 1), ("3", None, 1), ("4", None, 1), ("10", None, 1), ("11", None, 1),
            ("16", None, 4), ("17", None, 1)],
    "category": [("tata_kelola", "Tata Kelola Pemerintahan", 3),
                 ("pendidikan", "Pendidikan", 2), ("kesehatan", "Kesehatan", 1),
                 ("lingkungan_hidup", "Lingkungan Hidup", 1),
                 ("pengaduan_publik", "Pengaduan dan Partisipasi Publik", 1)],
    "stage": [(value, None, count) for value, count in STAGES],
}  # fmt: skip


@dataclass
class World:
    client: httpx.AsyncClient
    admin: Headers
    institutions: dict[str, Institution]
    records: dict[str, Innovation]

    async def get(self, path: str, params: Params, headers: Headers | None = None) -> Any:
        response = await self.client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def overview(self, headers: Headers | None = None, **params: Any) -> Any:
        return await self.get("/v1/stats/overview", {**YEARS, **params}, headers)

    async def grouped(self, group_by: str, headers: Headers | None = None, **params: Any) -> Any:
        params = {**YEARS, **params, "group_by": group_by}
        return await self.get("/v1/stats/innovations", params, headers)


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    admin: Headers,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> World:
    institutions = {
        "aceh": await make_institution("Pemprov Aceh Uji", InstitutionKind.pemprov, "11"),
        "banda": await make_institution("Pemkot Banda Aceh Uji", InstitutionKind.pemkot, "11.71"),
        "sabang": await make_institution("Pemkot Sabang Uji", InstitutionKind.pemkot, "11.72"),
        "denpasar": await make_institution("Pemkot Denpasar Uji", InstitutionKind.pemkot, "51.71"),
        "jembrana": await make_institution("Pemkab Jembrana Uji", InstitutionKind.pemkab, "51.01"),
        "badung": await make_institution("Pemkab Badung Uji", InstitutionKind.pemkab, "51.03"),
        "kemen": await make_institution(
            "Kementerian Uji Statistik", InstitutionKind.kementerian, None
        ),
    }
    units: dict[str, Unit] = {k: await make_unit(v) for k, v in institutions.items()}
    records = {}
    for key, (owner, year, digital, stage, sdgs, cats, status) in SPECS.items():
        records[key] = await make_innovation(
            units[owner],
            InnovationStatus(status),
            title=f"STATISTIK {key.upper()}" if key != "p3" else "PINTU AIR",
            year_started=year,
            implemented_date=date(year, 6, 1),
            is_digital=digital,
            stage=stage,
            sdgs=sdgs,
            category_codes=cats,
        )
    return World(client, admin, institutions, records)


def items(body: dict[str, Any]) -> list[tuple[str, str | None, int]]:
    return [(item["key"], item["label"], item["count"]) for item in body["items"]]


def stages(body: dict[str, Any]) -> list[tuple[str, int]]:
    return [(item["key"], item["count"]) for item in body["by_stage"]]


# --- the overview ---------------------------------------------------------------------------


async def test_overview_counts_published_innovations_only(world: World) -> None:
    body = await world.overview()
    assert body["published_innovations"] == 7
    # Banda Aceh, Pemprov Aceh, Denpasar, Jembrana and the ministry; not Sabang (a draft only)
    # nor Badung (an archived record only).
    assert body["institutions"] == 5
    assert body["digital_innovations"] == 4
    assert body["digital_share"] == 0.5714  # 4/7 to four places
    assert stages(body) == STAGES


async def test_overview_ignores_drafts_and_archived_records_for_the_secretariat(
    world: World,
) -> None:
    public = await world.overview()
    assert await world.overview(world.admin) == public
    # The list's status filter is not a stats filter: it cannot let drafts in.
    assert await world.overview(world.admin, status="draft") == public


async def test_overview_counts_a_new_published_innovation_unfiltered(
    client: httpx.AsyncClient,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> None:
    before = (await client.get("/v1/stats/overview")).json()
    unit = await make_unit(
        await make_institution("Kementerian Uji Delta", InstitutionKind.kementerian, None)
    )
    await make_innovation(unit, InnovationStatus.published, is_digital=True)
    await make_innovation(unit, InnovationStatus.draft, is_digital=True)
    await make_innovation(unit, InnovationStatus.archived, is_digital=False)
    after = (await client.get("/v1/stats/overview")).json()
    assert after["published_innovations"] == before["published_innovations"] + 1
    assert after["digital_innovations"] == before["digital_innovations"] + 1
    assert after["institutions"] == before["institutions"] + 1


@pytest.mark.parametrize(
    ("params", "published", "institutions", "digital", "share", "by_stage"),
    [
        ({"region": "51"}, 4, 2, 1, 0.25, [("inisiatif", 2), ("uji_coba", 2)]),
        ({"region": "11"}, 2, 2, 2, 1.0, [("penerapan", 2)]),
        ({"region": "11.71"}, 1, 1, 1, 1.0, [("penerapan", 1)]),
        ({"institution_kind": "pemkot"}, 3, 2, 2, 0.6667, [
            ("inisiatif", 1), ("penerapan", 1), ("uji_coba", 1)]),
        ({"institution_kind": ["pemkab", "kementerian"]}, 3, 2, 1, 0.3333, [
            ("inisiatif", 1), ("penerapan", 1), ("uji_coba", 1)]),
        ({"year_from": 1993, "year_to": 1994}, 3, 3, 1, 0.3333, [
            ("uji_coba", 2), ("penerapan", 1)]),
        ({"sdg": 16}, 4, 4, 2, 0.5, [("penerapan", 2), ("inisiatif", 1), ("uji_coba", 1)]),
        ({"category": "pendidikan", "is_digital": "false"}, 1, 1, 0, 0.0, [("inisiatif", 1)]),
        ({"stage": "penerapan"}, 3, 3, 3, 1.0, [("penerapan", 3)]),
        ({"q": "pintu"}, 1, 1, 1, 1.0, [("penerapan", 1)]),
    ],
)  # fmt: skip
async def test_overview_applies_the_catalogue_filters(
    world: World,
    params: Params,
    published: int,
    institutions: int,
    digital: int,
    share: float,
    by_stage: list[tuple[str, int]],
) -> None:
    body = await world.overview(**params)
    assert (
        body["published_innovations"],
        body["institutions"],
        body["digital_innovations"],
        body["digital_share"],
        stages(body),
    ) == (published, institutions, digital, share, by_stage)


async def test_overview_of_an_empty_result_is_zeros(world: World) -> None:
    body = await world.overview(region="35.73")
    assert body == {
        "published_innovations": 0,
        "institutions": 0,
        "digital_innovations": 0,
        "digital_share": 0.0,
        "by_stage": [],
    }


async def test_overview_of_drafts_only_is_zeros(world: World) -> None:
    """Sabang has a draft and nothing else."""
    body = await world.overview(world.admin, institution_id=str(world.institutions["sabang"].id))
    assert body["published_innovations"] == 0
    assert body["institutions"] == 0
    assert body["digital_share"] == 0.0


# --- grouped counts -------------------------------------------------------------------------


@pytest.mark.parametrize("group_by", list(EXPECTED_GROUPS))
async def test_grouped_counts_by_each_dimension(world: World, group_by: str) -> None:
    body = await world.grouped(group_by)
    assert body["group_by"] == group_by
    assert body["total"] == 7
    assert items(body) == EXPECTED_GROUPS[group_by]


@pytest.mark.parametrize("group_by", list(EXPECTED_GROUPS))
async def test_grouped_counts_ignore_drafts_for_the_secretariat(
    world: World, group_by: str
) -> None:
    assert await world.grouped(group_by, world.admin) == await world.grouped(group_by)


async def test_province_groups_leave_out_national_institutions(world: World) -> None:
    body = await world.grouped("province", institution_kind=["pemkab", "kementerian"])
    assert body["total"] == 3
    assert items(body) == [("51", "Bali", 2)]


async def test_sdg_groups_count_an_innovation_once_per_goal(world: World) -> None:
    body = await world.grouped("sdg", sdg=16)
    assert body["total"] == 4
    assert items(body) == [("1", None, 1), ("3", None, 1), ("16", None, 4), ("17", None, 1)]


@pytest.mark.parametrize(
    ("group_by", "params", "total", "expected"),
    [
        ("year", {"region": "51"}, 4, [("1992", None, 1), ("1993", None, 1), ("1994", None, 1),
                                       ("1995", None, 1)]),
        ("year", {"year_from": 1993, "year_to": 1994}, 3, [("1993", None, 2), ("1994", None, 1)]),
        ("institution_kind", {"region": "11"}, 2, [("pemkot", None, 1), ("pemprov", None, 1)]),
        ("category", {"is_digital": "true"}, 4, [
            ("tata_kelola", "Tata Kelola Pemerintahan", 3),
            ("lingkungan_hidup", "Lingkungan Hidup", 1), ("pendidikan", "Pendidikan", 1)]),
        ("stage", {"institution_kind": "pemkab"}, 2, [
            ("inisiatif", None, 1), ("uji_coba", None, 1)]),
        ("province", {"category": ["kesehatan", "lingkungan_hidup"]}, 2, [("51", "Bali", 2)]),
    ],
)  # fmt: skip
async def test_grouped_counts_apply_the_catalogue_filters(
    world: World,
    group_by: str,
    params: Params,
    total: int,
    expected: list[tuple[str, str | None, int]],
) -> None:
    body = await world.grouped(group_by, **params)
    assert body["total"] == total
    assert items(body) == expected


@pytest.mark.parametrize("group_by", list(EXPECTED_GROUPS))
async def test_grouped_counts_of_an_empty_result_are_empty(world: World, group_by: str) -> None:
    body = await world.grouped(group_by, region="35.73")
    assert body == {"group_by": group_by, "total": 0, "items": []}


# --- refused requests -----------------------------------------------------------------------


@pytest.mark.parametrize("group_by", ["month", "status", "", "YEAR", "province_code"])
async def test_unknown_group_by_is_refused(client: httpx.AsyncClient, group_by: str) -> None:
    response = await client.get("/v1/stats/innovations", params={"group_by": group_by})
    assert_problem(response, 422, "validation_failed")


async def test_group_by_is_required(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/stats/innovations"), 422, "validation_failed")


@pytest.mark.parametrize(
    ("path", "base"),
    [("/v1/stats/overview", {}), ("/v1/stats/innovations", {"group_by": "year"})],
)
@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"year_from": 1999, "year_to": 1990}, "innovation.year_range_inverted"),
        ({"region": "5"}, "validation_failed"),
        ({"sdg": 0}, "validation_failed"),
        ({"institution_kind": "desa"}, "validation_failed"),
    ],
)
async def test_invalid_stats_filter_is_refused(
    client: httpx.AsyncClient, path: str, base: Params, params: Params, code: str
) -> None:
    assert_problem(await client.get(path, params={**base, **params}), 422, code)
