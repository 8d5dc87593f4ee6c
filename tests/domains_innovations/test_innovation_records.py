"""Innovation records: every field's rules on create and PATCH, PATCH semantics, conditional
requests, the audit trail of writes, and the category vocabulary."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import InnovationStatus, InstitutionKind, Role
from app.models.innovations import Innovation, InnovationCategory
from app.models.institutions import Institution, Unit
from tests.conftest import (
    COMPLETE_SECTIONS,
    InnovationFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
)
from tests.domains import assert_problem

K = InstitutionKind
WIB = timezone(timedelta(hours=7))


def today() -> date:
    return datetime.now(WIB).date()


@pytest.fixture
async def medan(make_institution: InstitutionFactory) -> Institution:
    return await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")


@pytest.fixture
async def malang(make_institution: InstitutionFactory) -> Institution:
    return await make_institution(name="Pemerintah Kota Malang", kind=K.pemkot, region_code="35.73")


@pytest.fixture
async def dprd(make_unit: UnitFactory, medan: Institution) -> Unit:
    return await make_unit(medan, name="Sekretariat DPRD Kota Medan")


def new_body(unit: Unit, **overrides: Any) -> dict[str, Any]:
    """A minimal valid create body for `unit`."""
    body: dict[str, Any] = {
        "unit_id": str(unit.id),
        "title": "SIKULIN",
        "year_started": 2021,
        "is_digital": True,
        "stage": "penerapan",
    }
    body.update(overrides)
    return body


async def post(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return await client.post("/v1/innovations", json=body, headers=headers)


async def patch(
    client: httpx.AsyncClient,
    innovation: Innovation | str,
    headers: dict[str, str],
    body: dict[str, Any],
    **extra_headers: str,
) -> httpx.Response:
    innovation_id = innovation.id if isinstance(innovation, Innovation) else innovation
    return await client.patch(
        f"/v1/innovations/{innovation_id}", json=body, headers={**headers, **extra_headers}
    )


async def stored(session: AsyncSession, innovation_id: uuid.UUID | str) -> dict[str, Any] | None:
    """The stored innovation, read with a plain SELECT (not through the identity map)."""
    result = await session.execute(
        select(*Innovation.__table__.c).where(Innovation.id == uuid.UUID(str(innovation_id)))
    )
    found = result.one_or_none()
    return dict(found._mapping) if found is not None else None


async def count_innovations(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Innovation)) or 0)


async def audit_actions(
    client: httpx.AsyncClient, admin: dict[str, str], innovation_id: uuid.UUID | str
) -> list[str]:
    response = await client.get(
        "/v1/audit-events",
        params={"entity_type": "innovation", "entity_id": str(innovation_id), "limit": 100},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    return [event["action"] for event in sorted(response.json()["items"], key=lambda e: e["id"])]


# --- field validation, on create and on PATCH -----------------------------------------------

REGULATION = {"type": "peraturan_daerah", "number": "5/2021", "date": "2021-06-01"}
BUDGET_LINE = {"year": 2021, "source": "apbd", "amount": 150_000_000}
LINK = {"kind": "website", "url": "https://sikulin.medan.go.id"}

# (field values sent, the pointer of the error): refused by the schema on create and PATCH.
INVALID_FIELDS = {
    "title too short": ({"title": "S"}, "/title"),
    "title too long": ({"title": "S" * 201}, "/title"),
    "title blank after trimming": ({"title": "   "}, "/title"),
    "expansion too short": ({"acronym_expansion": "S"}, "/acronym_expansion"),
    "expansion too long": ({"acronym_expansion": "S" * 301}, "/acronym_expansion"),
    "year before 1945": ({"year_started": 1944}, "/year_started"),
    "year not a number": ({"year_started": "dua ribu"}, "/year_started"),
    "date not a date": ({"implemented_date": "01/07/2021"}, "/implemented_date"),
    "is_digital not a boolean": ({"is_digital": "maybe"}, "/is_digital"),
    "unknown stage": ({"stage": "pilot"}, "/stage"),
    "sdg 0": ({"sdgs": [0]}, "/sdgs/0"),
    "sdg 18": ({"sdgs": [3, 18]}, "/sdgs/1"),
    "sdg repeated": ({"sdgs": [3, 3]}, "/sdgs"),
    "category code malformed": ({"category_codes": ["Kesehatan"]}, "/category_codes/0"),
    "category code repeated": ({"category_codes": ["kesehatan", "kesehatan"]}, "/category_codes"),
    "section too long": ({"sections": {"summary": "x" * 20_001}}, "/sections/summary"),
    "unknown section": ({"sections": {"rangkuman": "Ringkas."}}, "/sections/rangkuman"),
    "regulation type": ({"regulations": [{**REGULATION, "type": "perda"}]}, "/regulations/0/type"),
    "regulation number empty": (
        {"regulations": [{**REGULATION, "number": ""}]},
        "/regulations/0/number",
    ),
    "regulation date invalid": (
        {"regulations": [{**REGULATION, "date": "2021-02-30"}]},
        "/regulations/0/date",
    ),
    "regulation without date": (
        {"regulations": [{"type": "keputusan", "number": "1"}]},
        "/regulations/0/date",
    ),
    "budget amount negative": (
        {"budget_lines": [{**BUDGET_LINE, "amount": -1}]},
        "/budget_lines/0/amount",
    ),
    "budget source unknown": (
        {"budget_lines": [{**BUDGET_LINE, "source": "hibah"}]},
        "/budget_lines/0/source",
    ),
    "javascript link": ({"links": [{**LINK, "url": "javascript:alert(1)"}]}, "/links/0/url"),
    "ftp link": ({"links": [{**LINK, "url": "ftp://files.medan.go.id/a.pdf"}]}, "/links/0/url"),
    "unknown link kind": ({"links": [{**LINK, "kind": "podcast"}]}, "/links/0/kind"),
    "sustainability status": ({"sustainability_status": "dormant"}, "/sustainability_status"),
    "unknown top-level field": ({"rating": 5}, "/rating"),
    "institution_id is not an input": ({"institution_id": str(uuid.uuid4())}, "/institution_id"),
}


@pytest.mark.parametrize("method", ["create", "patch"])
@pytest.mark.parametrize(("fields", "pointer"), INVALID_FIELDS.values(), ids=INVALID_FIELDS.keys())
async def test_invalid_field_is_422_and_nothing_written(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
    method: str,
    fields: dict[str, Any],
    pointer: str,
) -> None:
    innovation = await make_innovation(dprd)
    before = await stored(session, innovation.id)
    if method == "create":
        response = await post(client, admin, new_body(dprd, **fields))
    else:
        response = await patch(client, innovation, admin, fields)
    assert_problem(response, 422, "validation_failed", pointer=pointer)
    assert await count_innovations(session) == 1
    assert await stored(session, innovation.id) == before


@pytest.mark.parametrize("field", ["unit_id", "title", "year_started", "is_digital", "stage"])
async def test_create_without_a_required_field_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], dprd: Unit, field: str
) -> None:
    body = new_body(dprd)
    del body[field]
    assert_problem(await post(client, admin, body), 422, "validation_failed", pointer=f"/{field}")
    assert await count_innovations(session) == 0


@pytest.mark.parametrize("field", ["unit_id", "title", "year_started", "is_digital", "stage", "sdgs"])
async def test_patch_may_not_null_a_required_field(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
    field: str,
) -> None:
    innovation = await make_innovation(dprd)
    response = await patch(client, innovation, admin, {field: None})
    assert_problem(response, 422, "innovation.field_required", pointer=f"/{field}")
    assert (await stored(session, innovation.id) or {})["version"] == 1


# Rules checked against today's date, the vocabulary and other fields: `innovation.invalid`.
def rule_breaking_fields() -> dict[str, tuple[dict[str, Any], str]]:
    now = today()
    return {
        "year in the future": ({"year_started": now.year + 1}, "/year_started"),
        "implemented in the future": (
            {"year_started": now.year, "implemented_date": str(now + timedelta(days=1))},
            "/implemented_date",
        ),
        "implemented before the start": (
            {"year_started": 2021, "implemented_date": "2020-12-31"},
            "/implemented_date",
        ),
        "unknown category": ({"category_codes": ["antariksa"]}, "/category_codes/0"),
        "second category unknown": (
            {"category_codes": ["kesehatan", "antariksa"]},
            "/category_codes/1",
        ),
    }


@pytest.mark.parametrize("method", ["create", "patch"])
@pytest.mark.parametrize("case", list(rule_breaking_fields()))
async def test_field_breaking_a_catalogue_rule_is_422_innovation_invalid(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
    method: str,
    case: str,
) -> None:
    fields, pointer = rule_breaking_fields()[case]
    innovation = await make_innovation(dprd)
    before = await stored(session, innovation.id)
    if method == "create":
        response = await post(client, admin, new_body(dprd, **fields))
    else:
        response = await patch(client, innovation, admin, fields)
    assert_problem(response, 422, "innovation.invalid", pointer=pointer)
    assert await count_innovations(session) == 1
    assert await stored(session, innovation.id) == before


async def test_patch_of_year_started_is_checked_against_the_stored_implemented_date(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
) -> None:
    innovation = await make_innovation(dprd, year_started=2021, implemented_date=date(2021, 7, 1))
    response = await patch(client, innovation, admin, {"year_started": 2022})
    assert_problem(response, 422, "innovation.invalid", pointer="/implemented_date")
    assert (await stored(session, innovation.id) or {})["year_started"] == 2021


async def test_create_accepts_the_boundaries(
    client: httpx.AsyncClient, admin: dict[str, str], dprd: Unit
) -> None:
    body = new_body(
        dprd,
        title="SI",
        year_started=today().year,
        implemented_date=str(today()),
        sdgs=[1, 17],
        budget_lines=[{**BUDGET_LINE, "amount": 0}],
        links=[{**LINK, "url": "http://sikulin.medan.go.id/a"}],
    )
    response = await post(client, admin, body)
    assert response.status_code == 201, response.text
    assert response.json()["sdgs"] == [1, 17]


async def test_create_writes_a_draft_of_the_unit_s_institution(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    dprd: Unit,
) -> None:
    body = new_body(
        dprd,
        title="  SIKULIN  ",
        acronym_expansion="Sistem Layanan Kunjungan Online",
        implemented_date="2021-07-01",
        sdgs=[16, 9],
        category_codes=["legislatif"],
        sections={"summary": " Kunjungan daring. ", "novelty": "", "resources": None},
        regulations=[REGULATION],
        budget_lines=[BUDGET_LINE],
        links=[LINK],
        sustainability_status="running",
        source_system="SIPINTER",
        external_id="INV-001",
    )
    response = await post(client, admin, body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/innovations/{created['id']}"
    assert created["status"] == "draft"
    assert created["published_at"] is None
    assert created["version"] == 1
    assert created["institution_id"] == str(medan.id)
    assert created["institution_name"] == "Pemerintah Kota Medan"
    assert created["unit_name"] == "Sekretariat DPRD Kota Medan"
    assert created["title"] == "SIKULIN"
    assert created["links"] == [{**LINK, "url": "https://sikulin.medan.go.id/", "title": None}]
    row = await stored(session, created["id"])
    assert row is not None
    assert (row["institution_id"], row["unit_id"], row["status"]) == (
        medan.id,
        dprd.id,
        InnovationStatus.draft,
    )
    assert row["sections"] == {"summary": "Kunjungan daring."}
    assert row["sdgs"] == [16, 9]
    assert row["category_codes"] == ["legislatif"]
    assert row["regulations"] == [{**REGULATION, "title": None, "url": None}]
    assert row["budget_lines"] == [{**BUDGET_LINE, "description": None}]
    assert (row["source_system"], row["external_id"]) == ("SIPINTER", "INV-001")


async def test_create_into_a_unit_that_does_not_exist_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], dprd: Unit
) -> None:
    body = {**new_body(dprd), "unit_id": str(uuid.uuid4())}
    assert_problem(
        await post(client, admin, body), 422, "innovation.unit_not_found", pointer="/unit_id"
    )
    assert await count_innovations(session) == 0


async def test_external_id_repeated_in_one_institution_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    dprd: Unit,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> None:
    await make_innovation(dprd, external_id="INV-001")
    other_unit = await make_unit(medan, name="Dinas Kesehatan")
    response = await post(client, admin, new_body(other_unit, external_id="INV-001"))
    assert_problem(response, 409, "innovation.duplicate_external_id")
    assert await count_innovations(session) == 1


async def test_external_id_may_repeat_across_institutions(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    malang: Institution,
    dprd: Unit,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> None:
    await make_innovation(dprd, external_id="INV-001")
    school = await make_unit(malang, name="SMP Negeri 10 Kota Malang")
    response = await post(client, admin, new_body(school, external_id="INV-001"))
    assert response.status_code == 201, response.text


async def test_patch_to_an_external_id_in_use_is_409_and_nothing_changes(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
) -> None:
    await make_innovation(dprd, external_id="INV-001")
    other = await make_innovation(dprd, external_id="INV-002")
    response = await patch(client, other, admin, {"external_id": "INV-001"})
    assert_problem(response, 409, "innovation.duplicate_external_id")
    assert (await stored(session, other.id) or {})["external_id"] == "INV-002"


async def test_patch_to_a_unit_that_does_not_exist_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
) -> None:
    innovation = await make_innovation(dprd)
    response = await patch(client, innovation, admin, {"unit_id": str(uuid.uuid4())})
    assert_problem(response, 422, "innovation.unit_not_found", pointer="/unit_id")
    assert (await stored(session, innovation.id) or {})["unit_id"] == dprd.id


# --- PATCH semantics ------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent_and_bumps_the_version(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
) -> None:
    innovation = await make_innovation(dprd, title="SIKULIN", sdgs=[16], external_id="INV-1")
    before = await stored(session, innovation.id)
    assert before is not None
    response = await patch(client, innovation, admin, {"title": "E-RESES", "stage": "uji_coba"})
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    assert response.json()["version"] == 2
    after = await stored(session, innovation.id)
    assert after is not None
    derived = {"updated_at", "search_vector", "search_title"}
    changed = {key for key in before if key not in derived and before[key] != after[key]}
    assert changed == {"title", "stage", "version"}
    assert (after["title"], after["stage"].value) == ("E-RESES", "uji_coba")


async def test_patch_sections_replaces_only_the_sections_it_names(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
) -> None:
    innovation = await make_innovation(dprd)
    body = {"sections": {"novelty": "Kebaruan baru.", "adaptability": "Butuh jaringan internet."}}
    response = await patch(client, innovation, admin, body)
    assert response.status_code == 200, response.text
    expected = {**COMPLETE_SECTIONS, **body["sections"]}
    assert response.json()["sections"] == {
        **dict.fromkeys(("resources", "sustainability_strategy")),
        **expected,
    }
    assert (await stored(session, innovation.id) or {})["sections"] == expected


@pytest.mark.parametrize("empty", ["", "   ", None])
async def test_patch_removes_a_section_set_empty(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
    empty: str | None,
) -> None:
    innovation = await make_innovation(dprd)
    response = await patch(client, innovation, admin, {"sections": {"novelty": empty}})
    assert response.status_code == 200, response.text
    expected = {k: v for k, v in COMPLETE_SECTIONS.items() if k != "novelty"}
    assert (await stored(session, innovation.id) or {})["sections"] == expected


async def test_patch_clears_optional_fields_sent_as_null(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
) -> None:
    innovation = await make_innovation(
        dprd, acronym_expansion="Sistem Layanan", category_codes=["legislatif"], links=[LINK]
    )
    body = {"acronym_expansion": None, "category_codes": None, "links": None}
    response = await patch(client, innovation, admin, body)
    assert response.status_code == 200, response.text
    row = await stored(session, innovation.id) or {}
    assert (row["acronym_expansion"], row["category_codes"], row["links"]) == (None, [], [])


async def test_patch_with_a_stale_if_match_is_412_and_nothing_changes(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    dprd: Unit,
    make_innovation: InnovationFactory,
) -> None:
    innovation = await make_innovation(dprd, title="SIKULIN")
    assert (await patch(client, innovation, admin, {"title": "SIKULIN 2"})).status_code == 200
    response = await patch(client, innovation, admin, {"title": "LAMA"}, **{"If-Match": '"1"'})
    body = assert_problem(response, 412, "innovation.version_mismatch")
    assert body["current_version"] == 2
    row = await stored(session, innovation.id) or {}
    assert (row["title"], row["version"]) == ("SIKULIN 2", 2)
    assert await audit_actions(client, admin, innovation.id) == ["update"]


async def test_patch_with_the_current_if_match_applies(
    client: httpx.AsyncClient, admin: dict[str, str], dprd: Unit, make_innovation: InnovationFactory
) -> None:
    innovation = await make_innovation(dprd)
    response = await patch(client, innovation, admin, {"title": "VTT"}, **{"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "VTT"


async def test_get_returns_an_etag_and_if_none_match_gives_304(
    client: httpx.AsyncClient, admin: dict[str, str], dprd: Unit, make_innovation: InnovationFactory
) -> None:
    innovation = await make_innovation(dprd)
    url = f"/v1/innovations/{innovation.id}"
    response = await client.get(url, headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"1"'
    cached = await client.get(url, headers={**admin, "If-None-Match": '"1"'})
    assert cached.status_code == 304
    assert cached.headers["ETag"] == '"1"'
    assert cached.content == b""
    stale = await client.get(url, headers={**admin, "If-None-Match": '"0"'})
    assert stale.status_code == 200


async def test_unit_operator_may_not_move_an_innovation_to_another_unit(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    medan: Institution,
    dprd: Unit,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> None:
    innovation = await make_innovation(dprd)
    other_unit = await make_unit(medan, name="Dinas Kesehatan")
    operator = await auth(Role.unit_operator, unit_id=dprd.id)
    response = await patch(client, innovation, operator, {"unit_id": str(other_unit.id)})
    assert_problem(response, 403, "innovation.out_of_scope")
    assert (await stored(session, innovation.id) or {})["unit_id"] == dprd.id


async def test_local_admin_may_not_move_an_innovation_to_another_institution(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    medan: Institution,
    malang: Institution,
    dprd: Unit,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> None:
    innovation = await make_innovation(dprd)
    school = await make_unit(malang, name="SMP Negeri 10 Kota Malang")
    local_admin = await auth(Role.local_admin, institution_id=medan.id)
    response = await patch(client, innovation, local_admin, {"unit_id": str(school.id)})
    assert_problem(response, 403, "innovation.out_of_scope")
    assert (await stored(session, innovation.id) or {})["unit_id"] == dprd.id


async def test_local_admin_moves_an_innovation_between_its_units(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    medan: Institution,
    dprd: Unit,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> None:
    innovation = await make_innovation(dprd)
    other_unit = await make_unit(medan, name="Dinas Kesehatan")
    local_admin = await auth(Role.local_admin, institution_id=medan.id)
    response = await patch(client, innovation, local_admin, {"unit_id": str(other_unit.id)})
    assert response.status_code == 200, response.text
    assert response.json()["unit_name"] == "Dinas Kesehatan"
    assert (await stored(session, innovation.id) or {})["unit_id"] == other_unit.id


async def test_moving_to_another_institution_s_unit_moves_the_institution_too(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    malang: Institution,
    dprd: Unit,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> None:
    innovation = await make_innovation(dprd)
    school = await make_unit(malang, name="SMP Negeri 10 Kota Malang")
    response = await patch(client, innovation, admin, {"unit_id": str(school.id)})
    assert response.status_code == 200, response.text
    assert response.json()["institution_id"] == str(malang.id)
    row = await stored(session, innovation.id) or {}
    assert (row["institution_id"], row["unit_id"]) == (malang.id, school.id)


# --- the audit trail ------------------------------------------------------------------------


async def test_every_write_appends_one_audit_event(
    client: httpx.AsyncClient, admin: dict[str, str], medan: Institution, dprd: Unit
) -> None:
    body = new_body(dprd, implemented_date="2021-07-01", sdgs=[16], sections=COMPLETE_SECTIONS)
    created = await post(client, admin, body)
    assert created.status_code == 201, created.text
    innovation_id = created.json()["id"]
    url = f"/v1/innovations/{innovation_id}"
    assert (await patch(client, innovation_id, admin, {"title": "E-SAKIP"})).status_code == 200
    assert (await client.post(f"{url}/publish", headers=admin)).status_code == 200
    assert (await client.post(f"{url}/archive", headers=admin)).status_code == 200
    response = await client.get(
        "/v1/audit-events",
        params={"entity_type": "innovation", "entity_id": innovation_id},
        headers=admin,
    )
    events = sorted(response.json()["items"], key=lambda e: e["id"])
    assert [e["action"] for e in events] == ["create", "update", "publish", "archive"]
    assert {e["institution_id"] for e in events} == {str(medan.id)}
    assert events[1]["changes"]["title"] == {"before": "SIKULIN", "after": "E-SAKIP"}
    assert events[2]["changes"]["status"] == {"before": "draft", "after": "published"}


async def test_delete_appends_a_delete_event(
    client: httpx.AsyncClient, admin: dict[str, str], dprd: Unit, make_innovation: InnovationFactory
) -> None:
    innovation = await make_innovation(dprd)
    assert (
        await client.delete(f"/v1/innovations/{innovation.id}", headers=admin)
    ).status_code == 204
    assert await audit_actions(client, admin, innovation.id) == ["delete"]


# --- the category vocabulary ----------------------------------------------------------------


async def test_categories_are_listed_publicly_page_by_page(client: httpx.AsyncClient) -> None:
    first = await client.get("/v1/innovation-categories", params={"limit": 10})
    assert first.status_code == 200, first.text
    assert first.json()["has_more"] is True
    second = await client.get(
        "/v1/innovation-categories", params={"limit": 10, "cursor": first.json()["next_cursor"]}
    )
    assert second.status_code == 200, second.text
    codes = [c["code"] for c in first.json()["items"] + second.json()["items"]]
    assert len(codes) == len(set(codes)) >= 15
    assert codes == sorted(codes)
    assert {"kesehatan", "pendidikan", "legislatif"} <= set(codes)


async def test_category_is_read_publicly_with_an_etag(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/innovation-categories/kesehatan")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Kesehatan"
    assert response.headers["ETag"] == f'"{response.json()["version"]}"'
    missing = await client.get("/v1/innovation-categories/antariksa")
    assert_problem(missing, 404, "innovation_category.not_found")


async def test_secretariat_adds_a_category(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    body = {"code": "kearsipan", "name": "Kearsipan", "description": "Archives."}
    response = await client.post("/v1/innovation-categories", json=body, headers=admin)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == "/v1/innovation-categories/kearsipan"
    assert response.json()["version"] == 1
    category = await session.scalar(
        select(InnovationCategory.name).where(InnovationCategory.code == "kearsipan")
    )
    assert category == "Kearsipan"


async def test_category_with_a_code_in_use_is_409(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"code": "kesehatan", "name": "Kesehatan Lagi"}
    response = await client.post("/v1/innovation-categories", json=body, headers=admin)
    assert_problem(response, 409, "innovation_category.duplicate_code")


async def test_category_code_must_be_lower_snake_case(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body = {"code": "Ke Sehatan", "name": "Kesehatan"}
    response = await client.post("/v1/innovation-categories", json=body, headers=admin)
    assert_problem(response, 422, "validation_failed", pointer="/code")


async def test_only_the_secretariat_adds_categories(
    client: httpx.AsyncClient, auth: KeyFactory, medan: Institution
) -> None:
    body = {"code": "kearsipan", "name": "Kearsipan"}
    local_admin = await auth(Role.local_admin, institution_id=medan.id)
    forbidden = await client.post("/v1/innovation-categories", json=body, headers=local_admin)
    assert_problem(forbidden, 403, "auth.role_forbidden")
    anonymous = await client.post("/v1/innovation-categories", json=body)
    assert_problem(anonymous, 401, "auth.required")


async def test_secretariat_renames_a_category(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    url = "/v1/innovation-categories/sosial"
    version = (await client.get(url)).json()["version"]
    response = await client.patch(
        url, json={"name": "Perlindungan dan Jaminan Sosial"}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == version + 1
    assert response.json()["description"] == "Social protection and welfare."
    name = await session.scalar(
        select(InnovationCategory.name).where(InnovationCategory.code == "sosial")
    )
    assert name == "Perlindungan dan Jaminan Sosial"
    stale = await client.patch(
        url, json={"name": "Sosial"}, headers={**admin, "If-Match": f'"{version}"'}
    )
    assert_problem(stale, 412, "innovation_category.version_mismatch")
    cleared = await client.patch(url, json={"name": None}, headers=admin)
    assert_problem(cleared, 422, "innovation_category.name_required", pointer="/name")
