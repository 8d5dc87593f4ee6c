"""GET /v1/regions and /v1/regions/{code}: the seeded Kemendagri provinces, regencies and cities."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import RegionType
from app.models.regions import Region
from tests.domains import assert_problem


async def all_pages(client: httpx.AsyncClient, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Follow `next_cursor` to the end; check the envelope of every page on the way."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        response = await client.get(
            "/v1/regions", params={**params, "cursor": cursor} if cursor else params
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        assert page["has_more"] == (page["next_cursor"] is not None)
        if not page["has_more"]:
            return items
        assert len(page["items"]) == params["limit"]
        cursor = page["next_cursor"]
    raise AssertionError("the cursor never reached the last page")


# --- the seed -------------------------------------------------------------------------------


async def test_seed_has_38_provinces_416_kabupaten_and_98_kota(session: AsyncSession) -> None:
    rows = await session.execute(select(Region.type, func.count()).group_by(Region.type))
    assert dict(rows.all()) == {
        RegionType.provinsi: 38,
        RegionType.kabupaten: 416,
        RegionType.kota: 98,
    }


async def test_seed_marks_second_segment_71_to_99_as_kota(session: AsyncSession) -> None:
    regencies = (
        await session.execute(select(Region.code, Region.type).where(Region.level == 2))
    ).all()
    assert len(regencies) == 514
    for code, type_ in regencies:
        expected = RegionType.kota if int(code.split(".")[1]) >= 71 else RegionType.kabupaten
        assert type_ is expected, code


async def test_level_1_total_is_38_provinces(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/regions", params={"level": 1, "include_total": True})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 38
    assert {item["level"] for item in body["items"]} == {1}
    assert {item["type"] for item in body["items"]} == {"provinsi"}
    assert {item["parent_code"] for item in body["items"]} == {None}


async def test_level_2_total_is_514_regencies_and_cities(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/regions", params={"level": 2, "include_total": True})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 514
    assert {item["level"] for item in body["items"]} == {2}


# --- filters --------------------------------------------------------------------------------


async def test_default_page_is_20_regions_in_code_order(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/regions")
    assert response.status_code == 200
    body = response.json()
    codes = [item["code"] for item in body["items"]]
    assert len(codes) == 20
    assert codes == sorted(codes)
    assert codes[0] == "11"
    assert body["has_more"] is True
    assert body["next_cursor"]
    assert body.get("total") is None


async def test_parent_code_lists_the_children_of_a_province(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    response = await client.get(
        "/v1/regions", params={"parent_code": "12", "limit": 100, "include_total": True}
    )
    assert response.status_code == 200
    body = response.json()
    expected = (
        await session.scalars(
            select(Region.code).where(Region.parent_code == "12").order_by(Region.code)
        )
    ).all()
    assert [item["code"] for item in body["items"]] == list(expected)
    assert body["total"] == len(expected) == 33
    assert "12.71" in expected
    assert "12.07" in expected


async def test_q_matches_part_of_the_name_case_insensitively(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/regions", params={"q": "MEDAN"})
    assert response.status_code == 200
    names = {item["code"]: item["name"] for item in response.json()["items"]}
    # "Kabupaten Sumedang" contains "medan" as well.
    assert names == {"12.71": "Kota Medan", "32.11": "Kabupaten Sumedang"}


async def test_q_treats_like_wildcards_literally(client: httpx.AsyncClient) -> None:
    for q in ("%", "_", "Kota%Medan"):
        response = await client.get("/v1/regions", params={"q": q})
        assert response.status_code == 200
        assert response.json()["items"] == [], q


async def test_filters_combine(client: httpx.AsyncClient, session: AsyncSession) -> None:
    response = await client.get(
        "/v1/regions", params={"level": 2, "parent_code": "35", "q": "kota", "limit": 100}
    )
    assert response.status_code == 200
    items = response.json()["items"]
    expected = (
        await session.scalars(
            select(Region.code)
            .where(Region.parent_code == "35", Region.type == RegionType.kota)
            .order_by(Region.code)
        )
    ).all()
    assert [item["code"] for item in items] == list(expected)
    assert "35.73" in expected
    assert {item["type"] for item in items} == {"kota"}


# --- one region -----------------------------------------------------------------------------


async def test_get_region_by_regency_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/regions/12.71")
    assert response.status_code == 200
    assert response.json() == {
        "code": "12.71",
        "name": "Kota Medan",
        "level": 2,
        "type": "kota",
        "parent_code": "12",
    }


async def test_get_region_by_province_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/regions/12")
    assert response.status_code == 200
    assert response.json() == {
        "code": "12",
        "name": "Sumatera Utara",
        "level": 1,
        "type": "provinsi",
        "parent_code": None,
    }


async def test_unknown_region_code_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/regions/12.99")
    body = assert_problem(response, 404, "region.not_found")
    assert body["instance"] == "/v1/regions/12.99"


# --- paging ---------------------------------------------------------------------------------


async def test_pages_by_code_yield_every_region_exactly_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    items = await all_pages(client, {"limit": 100})
    codes = [item["code"] for item in items]
    expected = (await session.scalars(select(Region.code).order_by(Region.code))).all()
    assert len(codes) == 552
    assert codes == list(expected)


async def test_pages_by_name_descending_yield_every_row_once_in_order(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    items = await all_pages(client, {"limit": 7, "level": 2, "parent_code": "12", "sort": "-name"})
    expected = (
        await session.scalars(
            select(Region.code)
            .where(Region.parent_code == "12")
            .order_by(Region.name.desc(), Region.code.desc())
        )
    ).all()
    assert [item["code"] for item in items] == list(expected)
    assert len(items) == 33


async def test_tampered_cursor_is_400_cursor_invalid(client: httpx.AsyncClient) -> None:
    cursor = (await client.get("/v1/regions", params={"limit": 5})).json()["next_cursor"]
    tampered = f"{cursor[:-2]}{'A' if cursor[-2] != 'A' else 'B'}{cursor[-1]}"
    response = await client.get("/v1/regions", params={"limit": 5, "cursor": tampered})
    assert_problem(response, 400, "cursor.invalid")


async def test_cursor_from_another_sort_is_400_cursor_mismatch(client: httpx.AsyncClient) -> None:
    cursor = (await client.get("/v1/regions", params={"limit": 5})).json()["next_cursor"]
    response = await client.get(
        "/v1/regions", params={"limit": 5, "sort": "name", "cursor": cursor}
    )
    assert_problem(response, 400, "cursor.mismatch")


async def test_cursor_from_another_filter_is_400_cursor_mismatch(client: httpx.AsyncClient) -> None:
    cursor = (await client.get("/v1/regions", params={"limit": 5, "level": 2})).json()[
        "next_cursor"
    ]
    response = await client.get("/v1/regions", params={"limit": 5, "level": 1, "cursor": cursor})
    assert_problem(response, 400, "cursor.mismatch")


# --- invalid parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        pytest.param({"sort": "population"}, "sort", id="unknown-sort"),
        pytest.param({"limit": 0}, "limit", id="limit-0"),
        pytest.param({"limit": 101}, "limit", id="limit-101"),
        pytest.param({"level": 3}, "level", id="level-3"),
        pytest.param({"parent_code": "12.7"}, "parent_code", id="malformed-parent-code"),
    ],
)
async def test_invalid_query_parameter_is_422_naming_it(
    client: httpx.AsyncClient, params: dict[str, Any], parameter: str
) -> None:
    response = await client.get("/v1/regions", params=params)
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["location"], e["parameter"]) for e in body["errors"]] == [("query", parameter)]
