"""The catalogue list: every filter alone and combined, every sort with its cursors, totals,
facets that agree with the list, and the CSV export that equals the list."""

from __future__ import annotations

import base64
import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.domains.innovations.export import COLUMNS
from app.models.enums import InnovationStage, InnovationStatus, InstitutionKind
from app.models.innovations import Innovation, InnovationCategory
from app.models.institutions import Institution, Unit
from tests.conftest import COMPLETE_SECTIONS, InnovationFactory, InstitutionFactory, UnitFactory
from tests.domains import assert_problem

Headers = dict[str, str]
Params = dict[str, Any]
Kind = InstitutionKind
Stage = InnovationStage
T0 = datetime(2024, 1, 1, tzinfo=UTC)

# key: (institution, title, year, digital, stage, sdgs, categories, created day, status)
SPECS: dict[str, tuple[str, str, int, bool, Stage, list[int], list[str], int, str]] = {
    "a": ("medan", "ALPHA", 2019, True, Stage.penerapan, [16], ["legislatif"], 1, "published"),
    "b": ("medan", "BRAVO", 2021, False, Stage.uji_coba, [3, 16], ["kesehatan", "tata_kelola"], 2,
          "published"),
    "c": ("deli", "CHARLIE", 2021, True, Stage.inisiatif, [11], ["lingkungan_hidup"], 3,
          "published"),
    "d": ("deli", "DELTA", 2022, False, Stage.penerapan, [4, 10], ["pendidikan"], 3, "published"),
    "e": ("malang", "ECHO", 2020, True, Stage.penerapan, [4], ["pendidikan", "kesetaraan_gender"],
          5, "published"),
    "f": ("malang2", "FOXTROT", 2022, True, Stage.uji_coba, [16], [], 6, "published"),
    "g": ("kemen", "ALPHA", 2023, False, Stage.inisiatif, [1, 16], ["tata_kelola"], 7, "published"),
    "h": ("sumut", "HOTEL", 2021, True, Stage.penerapan, [16], ["pengaduan_publik"], 8,
          "published"),
    "i": ("medan", "INDIA", 2021, True, Stage.penerapan, [16], ["legislatif"], 9, "draft"),
    "j": ("deli", "JULIET", 2020, False, Stage.inisiatif, [11], ["lingkungan_hidup"], 10,
          "archived"),
}  # fmt: skip
PUBLIC = "abcdefgh"


@dataclass
class Catalogue:
    client: httpx.AsyncClient
    admin: Headers
    institutions: dict[str, Institution]
    units: dict[str, Unit]
    records: dict[str, Innovation]

    def ids(self, keys: str) -> list[str]:
        """The ids of these records, newest first (the default order)."""
        chosen = [self.records[k] for k in keys]
        chosen.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return [str(r.id) for r in chosen]

    def key_of(self, record_id: str) -> str:
        return next(k for k, r in self.records.items() if str(r.id) == record_id)

    async def get(self, path: str, params: Params, headers: Headers | None = None) -> Any:
        response = await self.client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def walk(self, params: Params, headers: Headers | None = None) -> list[str]:
        """Every id of the list, page after page, checking each page's envelope."""
        ids: list[str] = []
        cursor: str | None = None
        for _ in range(100):
            page = {**params, **({"cursor": cursor} if cursor else {})}
            body = await self.get("/v1/innovations", page, headers)
            ids += [item["id"] for item in body["items"]]
            cursor = body["next_cursor"]
            assert body["has_more"] is (cursor is not None)
            if cursor is None:
                return ids
        raise AssertionError("the cursors never ended")

    async def total(self, params: Params, headers: Headers | None = None) -> int:
        body = await self.get("/v1/innovations", {**params, "include_total": "true"}, headers)
        return int(body["total"])

    async def export(self, params: Params, headers: Headers | None = None) -> list[dict[str, str]]:
        response = await self.client.get("/v1/innovations/export", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return list(csv.DictReader(io.StringIO(response.text)))


@pytest.fixture
async def cat(
    client: httpx.AsyncClient,
    admin: Headers,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> Catalogue:
    institutions = {
        "medan": await make_institution("Pemkot Medan Uji", Kind.pemkot, "12.71"),
        "deli": await make_institution("Pemkab Deli Serdang Uji", Kind.pemkab, "12.07"),
        "malang": await make_institution("Pemkot Malang Uji", Kind.pemkot, "35.73"),
        "kemen": await make_institution("Kementerian Uji Katalog", Kind.kementerian, None),
        "sumut": await make_institution("Pemprov Sumut Uji", Kind.pemprov, "12"),
    }
    units = {name: await make_unit(inst, f"Unit {name}") for name, inst in institutions.items()}
    units["malang2"] = await make_unit(institutions["malang"], "Unit malang kedua")
    records = {}
    for key, (unit, title, year, digital, stage, sdgs, cats, day, status) in SPECS.items():
        records[key] = await make_innovation(
            units[unit],
            InnovationStatus(status),
            title=title,
            year_started=year,
            implemented_date=date(year, 7, 1),
            is_digital=digital,
            stage=stage,
            sdgs=sdgs,
            category_codes=cats,
            created_at=T0 + timedelta(days=day),
            sections={**COMPLETE_SECTIONS, "summary": f"Ringkasan {title} layanan daring."},
        )
    return Catalogue(client, admin, institutions, units, records)


# --- filters --------------------------------------------------------------------------------

FILTERS: list[tuple[Params, str]] = [
    ({}, PUBLIC),
    ({"year_from": 2021}, "bcdfgh"),
    ({"year_to": 2020}, "ae"),
    ({"year_from": 2021, "year_to": 2021}, "bch"),
    ({"region": "12"}, "abcdh"),
    ({"region": "12.71"}, "ab"),
    ({"region": "12.07"}, "cd"),
    ({"region": "35"}, "ef"),
    ({"region": "35.73"}, "ef"),
    ({"region": "12.72"}, ""),
    ({"institution_kind": "pemkot"}, "abef"),
    ({"institution_kind": ["pemkab", "kementerian"]}, "cdg"),
    ({"is_digital": "true"}, "acefh"),
    ({"is_digital": "false"}, "bdg"),
    ({"stage": "uji_coba"}, "bf"),
    ({"stage": ["inisiatif", "uji_coba"]}, "bcfg"),
    ({"sdg": 16}, "abfgh"),
    ({"sdg": [4, 11]}, "cde"),
    ({"category": "pendidikan"}, "de"),
    ({"category": ["tata_kelola", "legislatif"]}, "abg"),
    ({"status": "published"}, PUBLIC),
    ({"status": ["draft", "archived"]}, ""),
    ({"region": "12", "is_digital": "true"}, "ach"),
    ({"institution_kind": "pemkot", "year_from": 2021, "sdg": 16}, "bf"),
    ({"region": "12", "stage": "penerapan", "category": ["legislatif", "pendidikan"]}, "ad"),
    ({"year_from": 2020, "year_to": 2022, "is_digital": "false", "sdg": [4, 3]}, "bd"),
    ({"region": "35", "institution_kind": "pemkab"}, ""),
]


@pytest.mark.parametrize(("params", "keys"), FILTERS)
async def test_filter_returns_exactly_the_matching_published_records(
    cat: Catalogue, params: Params, keys: str
) -> None:
    assert await cat.walk({**params, "limit": 100}) == cat.ids(keys)


async def test_institution_and_unit_filters(cat: Catalogue) -> None:
    medan, malang = cat.institutions["medan"].id, cat.institutions["malang"].id
    assert await cat.walk({"institution_id": str(medan)}) == cat.ids("ab")
    assert await cat.walk({"institution_id": str(malang)}) == cat.ids("ef")
    assert await cat.walk({"unit_id": str(cat.units["malang2"].id)}) == cat.ids("f")
    assert await cat.walk({"institution_id": str(uuid.uuid4())}) == []


@pytest.mark.parametrize(
    ("params", "keys"),
    [
        ({}, "abcdefghij"),
        ({"status": "draft"}, "i"),
        ({"status": "archived"}, "j"),
        ({"status": ["draft", "archived"], "region": "12.07"}, "j"),
        ({"status": ["published", "draft"], "institution_kind": "pemkot", "sdg": 16}, "abfi"),
    ],
)
async def test_secretariat_filters_by_status(cat: Catalogue, params: Params, keys: str) -> None:
    assert await cat.walk({**params, "limit": 100}, cat.admin) == cat.ids(keys)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"region": "1"}, "validation_failed"),
        ({"region": "12.7"}, "validation_failed"),
        ({"region": "12."}, "validation_failed"),
        ({"region": "12%"}, "validation_failed"),
        ({"sdg": 18}, "validation_failed"),
        ({"category": "Bad-Code"}, "validation_failed"),
        ({"stage": "selesai"}, "validation_failed"),
        ({"sort": "-relevance"}, "validation_failed"),
        ({"year_from": 2022, "year_to": 2021}, "innovation.year_range_inverted"),
        ({"sort": "relevance"}, "innovation.relevance_needs_q"),
    ],
)
@pytest.mark.parametrize("path", ["/v1/innovations", "/v1/innovations/export"])
async def test_invalid_filter_is_refused(
    client: httpx.AsyncClient, path: str, params: Params, code: str
) -> None:
    assert_problem(await client.get(path, params=params), 422, code)


async def test_inverted_year_range_is_refused_by_facets(client: httpx.AsyncClient) -> None:
    params = {"year_from": 2022, "year_to": 2021}
    response = await client.get("/v1/innovations/facets", params=params)
    assert_problem(response, 422, "innovation.year_range_inverted")


# --- sorts and cursors ----------------------------------------------------------------------

SORT_KEYS = {
    "-created_at": (lambda r: (r.created_at, r.id), True),
    "created_at": (lambda r: (r.created_at, r.id), False),
    "title": (lambda r: (r.title, r.id), False),
    "-title": (lambda r: (r.title, r.id), True),
    "year_started": (lambda r: (r.year_started, r.id), False),
    "-year_started": (lambda r: (r.year_started, r.id), True),
}


@pytest.mark.parametrize("sort", list(SORT_KEYS))
@pytest.mark.parametrize("limit", [2, 100])
async def test_sort_orders_records_with_ties_broken_by_id(
    cat: Catalogue, sort: str, limit: int
) -> None:
    key, descending = SORT_KEYS[sort]
    expected = sorted((cat.records[k] for k in PUBLIC), key=key, reverse=descending)
    walked = await cat.walk({"sort": sort, "limit": limit})
    assert walked == [str(r.id) for r in expected]
    assert len(set(walked)) == len(PUBLIC)


async def test_default_sort_is_newest_first(cat: Catalogue) -> None:
    assert await cat.walk({}) == await cat.walk({"sort": "-created_at", "limit": 3})


async def test_cursor_walk_under_a_filter_visits_each_record_once(cat: Catalogue) -> None:
    assert await cat.walk({"region": "12", "sort": "title", "limit": 2}) == [
        str(r.id) for r in sorted((cat.records[k] for k in "abcdh"), key=lambda r: (r.title, r.id))
    ]


async def first_cursor(cat: Catalogue, params: Params, headers: Headers | None = None) -> str:
    body = await cat.get("/v1/innovations", {**params, "limit": 2}, headers)
    assert body["next_cursor"]
    return str(body["next_cursor"])


@pytest.mark.parametrize(
    "other",
    [
        {"is_digital": "false"},
        {"is_digital": "true", "sort": "title"},
        {"is_digital": "true", "region": "12"},
        {"is_digital": "true", "sdg": 16},
        {},
    ],
)
async def test_cursor_of_another_filter_set_or_sort_is_a_mismatch(
    cat: Catalogue, other: Params
) -> None:
    cursor = await first_cursor(cat, {"is_digital": "true"})
    response = await cat.client.get("/v1/innovations", params={**other, "cursor": cursor})
    assert_problem(response, 400, "cursor.mismatch")


async def test_cursor_of_the_public_list_is_a_mismatch_for_the_secretariat(cat: Catalogue) -> None:
    cursor = await first_cursor(cat, {})
    response = await cat.client.get("/v1/innovations", params={"cursor": cursor}, headers=cat.admin)
    assert_problem(response, 400, "cursor.mismatch")


def tampered(cursor: str) -> list[str]:
    """The values changed with the tag kept, a character of the tag changed, the payload
    without its tag, and garbage."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    version, payload, tag = raw[:1], raw[1:-16], raw[-16:]
    forged = payload.replace(b'"v":["', b'"v":["0')
    assert forged != payload

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    flipped = cursor[:-5] + ("A" if cursor[-5] != "A" else "B") + cursor[-4:]
    return [b64(version + forged + tag), flipped, b64(version + payload), "not-a-cursor", "."]


async def test_tampered_cursor_is_refused(cat: Catalogue) -> None:
    cursor = await first_cursor(cat, {})
    for bad in tampered(cursor):
        response = await cat.client.get("/v1/innovations", params={"cursor": bad})
        assert response.status_code == 400, bad
        assert_problem(response, 400, "cursor.invalid")


@pytest.mark.parametrize(
    "params", [{}, {"region": "12"}, {"sdg": [4, 16], "sort": "year_started"}, {"q": "daring"}]
)
async def test_total_equals_the_items_across_all_pages(cat: Catalogue, params: Params) -> None:
    ids: list[str] = []
    cursor: str | None = None
    totals: set[int] = set()
    while True:
        page = {**params, "limit": 2, "include_total": "true"}
        body = await cat.get("/v1/innovations", {**page, **({"cursor": cursor} if cursor else {})})
        ids += [item["id"] for item in body["items"]]
        totals.add(body["total"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert totals == {len(ids)}
    assert len(set(ids)) == len(ids)


async def test_total_is_absent_unless_asked(cat: Catalogue) -> None:
    assert (await cat.get("/v1/innovations", {}))["total"] is None


# --- facets ---------------------------------------------------------------------------------


def pairs(facet: list[dict[str, Any]]) -> dict[str, int]:
    return {entry["value"]: entry["count"] for entry in facet}


async def test_facets_count_each_value_by_hand(cat: Catalogue) -> None:
    facets = await cat.get("/v1/innovations/facets", {})
    assert facets["total"] == 8
    assert pairs(facets["status"]) == {"published": 8}
    assert pairs(facets["stage"]) == {"penerapan": 4, "uji_coba": 2, "inisiatif": 2}
    assert pairs(facets["is_digital"]) == {"true": 5, "false": 3}
    assert pairs(facets["institution_kind"]) == {
        "pemkot": 4, "pemkab": 2, "kementerian": 1, "pemprov": 1
    }  # fmt: skip
    # The ministry has no province: the province counts leave it out.
    assert pairs(facets["province"]) == {"12": 5, "35": 2}
    assert pairs(facets["year_started"]) == {"2021": 3, "2022": 2, "2019": 1, "2020": 1, "2023": 1}
    # BRAVO (SDGs 3 and 16) and DELTA (4 and 10) count once under each of their goals.
    assert pairs(facets["sdg"]) == {"16": 5, "4": 2, "1": 1, "3": 1, "10": 1, "11": 1}
    assert pairs(facets["category"]) == {
        "pendidikan": 2, "tata_kelola": 2, "legislatif": 1, "kesehatan": 1,
        "lingkungan_hidup": 1, "kesetaraan_gender": 1, "pengaduan_publik": 1,
    }  # fmt: skip
    for name in ("stage", "institution_kind", "year_started", "sdg", "category"):
        counts = [entry["count"] for entry in facets[name]]
        assert counts == sorted(counts, reverse=True), name


async def test_facet_labels_name_provinces_and_categories(
    cat: Catalogue, session: AsyncSession
) -> None:
    facets = await cat.get("/v1/innovations/facets", {})
    assert {e["value"]: e["label"] for e in facets["province"]} == {
        "12": "Sumatera Utara",
        "35": "Jawa Timur",
    }
    for entry in facets["category"]:
        category = await session.get(InnovationCategory, entry["value"])
        assert category is not None
        assert entry["label"] == category.name
    labelled = {e["value"]: e["label"] for e in facets["category"]}
    assert labelled["pengaduan_publik"] == "Pengaduan dan Partisipasi Publik"
    assert all(e["label"] is None for e in facets["stage"] + facets["sdg"])


async def test_secretariat_facets_count_every_status(cat: Catalogue) -> None:
    facets = await cat.get("/v1/innovations/facets", {}, cat.admin)
    assert facets["total"] == 10
    assert pairs(facets["status"]) == {"published": 8, "draft": 1, "archived": 1}


FACET_FILTER: dict[str, Callable[[str], Params]] = {
    "status": lambda v: {"status": v},
    "stage": lambda v: {"stage": v},
    "is_digital": lambda v: {"is_digital": v},
    "institution_kind": lambda v: {"institution_kind": v},
    "province": lambda v: {"region": v},
    "year_started": lambda v: {"year_from": v, "year_to": v},
    "sdg": lambda v: {"sdg": v},
    "category": lambda v: {"category": v},
}


@pytest.mark.parametrize("as_secretariat", [False, True])
@pytest.mark.parametrize(
    "base",
    [
        {},
        {"region": "12"},
        {"is_digital": "true"},
        {"sdg": [4, 16], "year_from": 2020},
        {"q": "daring"},
        {"category": "pendidikan", "institution_kind": "pemkot"},
    ],
)
async def test_facets_agree_with_the_list(
    cat: Catalogue, base: Params, as_secretariat: bool
) -> None:
    headers = cat.admin if as_secretariat else None
    facets = await cat.get("/v1/innovations/facets", base, headers)
    assert facets["total"] == await cat.total(base, headers)
    for name, narrow in FACET_FILTER.items():
        for entry in facets[name]:
            narrowed = {**base, **narrow(entry["value"])}
            assert entry["count"] == await cat.total(narrowed, headers), (name, entry)


async def test_facets_of_an_empty_result_are_empty(cat: Catalogue) -> None:
    facets = await cat.get("/v1/innovations/facets", {"region": "35", "is_digital": "false"})
    assert facets["total"] == 0
    assert all(facets[name] == [] for name in FACET_FILTER)


# --- export ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "as_secretariat"),
    [
        ({}, False),
        ({"region": "12", "sort": "title"}, False),
        ({"is_digital": "true", "sort": "-year_started"}, False),
        ({"sdg": [16, 4], "sort": "created_at"}, False),
        ({"q": "daring"}, False),
        ({"q": "bravo"}, False),
        ({"stage": ["inisiatif", "penerapan"], "sort": "-title"}, True),
        ({"status": ["draft", "archived"], "sort": "year_started"}, True),
    ],
)
async def test_export_lists_the_same_records_in_the_same_order(
    cat: Catalogue, params: Params, as_secretariat: bool
) -> None:
    headers = cat.admin if as_secretariat else None
    listed = await cat.walk({**params, "limit": 3}, headers)
    assert listed
    assert [row["id"] for row in await cat.export(params, headers)] == listed


async def test_export_is_a_csv_file_with_the_documented_header(cat: Catalogue) -> None:
    response = await cat.client.get("/v1/innovations/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    header = next(csv.reader(io.StringIO(response.text)))
    assert tuple(header) == COLUMNS


async def test_export_writes_each_value_as_documented(cat: Catalogue) -> None:
    rows = {row["id"]: row for row in await cat.export({})}
    bravo = rows[str(cat.records["b"].id)]
    expected = {
        "title": "BRAVO", "sdgs": "3;16", "category_codes": "kesehatan;tata_kelola",
        "is_digital": "false", "stage": "uji_coba", "status": "published",
        "institution_kind": "pemkot", "region_code": "12.71",
    }  # fmt: skip
    assert {name: bravo[name] for name in expected} == expected
    assert (bravo["institution_name"], bravo["unit_name"]) == ("Pemkot Medan Uji", "Unit medan")
    assert (bravo["year_started"], bravo["implemented_date"]) == ("2021", "2021-07-01")
    assert datetime.fromisoformat(bravo["created_at"]) == cat.records["b"].created_at
    assert bravo["summary"] == "Ringkasan BRAVO layanan daring."
    assert rows[str(cat.records["a"].id)]["is_digital"] == "true"
    assert rows[str(cat.records["g"].id)]["region_code"] == ""  # a ministry has no region
    assert rows[str(cat.records["f"].id)]["category_codes"] == ""


async def test_export_prefixes_formula_cells_with_an_apostrophe(
    cat: Catalogue, make_innovation: InnovationFactory
) -> None:
    published, medan = InnovationStatus.published, cat.units["medan"]
    sections = {**COMPLETE_SECTIONS, "summary": "@SUM(1+1)"}
    risky = await make_innovation(
        medan, published, title='=HYPERLINK("http://x.example")', acronym_expansion="+62 812"
    )
    minus = await make_innovation(medan, published, title="-2+3+cmd|'!A0", sections=sections)
    safe = await make_innovation(medan, published, title="AMAN", acronym_expansion="A-B =C")
    rows = {row["id"]: row for row in await cat.export({})}
    assert rows[str(risky.id)]["title"] == '\'=HYPERLINK("http://x.example")'
    assert rows[str(risky.id)]["acronym_expansion"] == "'+62 812"
    assert rows[str(minus.id)]["title"] == "'-2+3+cmd|'!A0"
    assert rows[str(minus.id)]["summary"] == "'@SUM(1+1)"
    assert (rows[str(safe.id)]["title"], rows[str(safe.id)]["acronym_expansion"]) == (
        "AMAN", "A-B =C"
    )  # fmt: skip


async def test_export_with_no_match_is_just_the_header(cat: Catalogue) -> None:
    response = await cat.client.get("/v1/innovations/export", params={"region": "35.07"})
    assert response.status_code == 200
    assert response.text == ",".join(COLUMNS) + "\r\n"


async def test_export_of_hundreds_of_rows_is_complete(
    cat: Catalogue, session: AsyncSession
) -> None:
    """More rows than one chunk of the stream (500): every row arrives once, in list order."""
    unit = cat.units["deli"]
    records = [
        Innovation(
            institution_id=unit.institution_id,
            unit_id=unit.id,
            title=f"MASSAL {n:04d}",
            year_started=2020 + n % 4,
            implemented_date=date(2023, 1, 1),
            is_digital=n % 2 == 0,
            stage=Stage.penerapan,
            sdgs=[n % 17 + 1],
            sections=dict(COMPLETE_SECTIONS),
            status=InnovationStatus.published,
            published_at=T0,
        )
        for n in range(520)
    ]
    session.add_all(records)
    await session.flush()
    params = {"institution_id": str(unit.institution_id)}
    rows = await cat.export(params)
    expected = {str(r.id) for r in records} | {str(cat.records[k].id) for k in "cd"}
    assert len(rows) == len(expected)
    assert {row["id"] for row in rows} == expected
    assert [row["id"] for row in rows] == await cat.walk({**params, "limit": 100})
    by_title = await cat.export({**params, "sort": "title"})
    assert [row["title"] for row in by_title][2:] == [f"MASSAL {n:04d}" for n in range(520)]


async def test_export_refuses_a_nul_in_q_like_the_list(cat: Catalogue) -> None:
    listed = await cat.client.get("/v1/innovations", params={"q": "daring\x00"})
    assert_problem(listed, 422, "validation_failed")
    response = await cat.client.get("/v1/innovations/export", params={"q": "daring\x00"})
    assert response.status_code == 422, (response.status_code, response.text)
