"""Innovation records: every field's rules on create and PATCH, PATCH semantics, conditional
requests, the audit trail of writes, and the category vocabulary."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
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
from tests.fixtures.etag import if_match

WIB = timezone(timedelta(hours=7))
Headers = dict[str, str]


def today() -> date:
    return datetime.now(WIB).date()


@dataclass
class World:
    """Pemkot Medan with its DPRD secretariat, Pemkot Malang, and helpers to call the API."""

    client: httpx.AsyncClient
    session: AsyncSession
    admin: Headers
    auth: KeyFactory
    make_unit: UnitFactory
    make_innovation: InnovationFactory
    medan: Institution
    malang: Institution
    dprd: Unit

    def body(self, unit: Unit | None = None, **overrides: Any) -> dict[str, Any]:
        """A minimal valid create body (for the DPRD secretariat unless told)."""
        return {
            "unit_id": str((unit or self.dprd).id),
            "title": "SIKULIN",
            "year_started": 2021,
            "is_digital": True,
            "stage": "penerapan",
            **overrides,
        }

    async def post(self, body: dict[str, Any], headers: Headers | None = None) -> httpx.Response:
        return await self.client.post("/v1/innovations", json=body, headers=headers or self.admin)

    async def patch(
        self, innovation: Innovation | str, body: dict[str, Any], headers: Headers | None = None
    ) -> httpx.Response:
        innovation_id = innovation.id if isinstance(innovation, Innovation) else innovation
        url = f"/v1/innovations/{innovation_id}"
        return await self.client.patch(
            url, json=body, headers=await if_match(self.client, url, headers or self.admin)
        )

    async def stored(self, innovation_id: uuid.UUID | str) -> dict[str, Any]:
        """The stored row, read with a plain SELECT ({} when it is gone)."""
        result = await self.session.execute(
            select(*Innovation.__table__.c).where(Innovation.id == uuid.UUID(str(innovation_id)))
        )
        found = result.one_or_none()
        return dict(found._mapping) if found is not None else {}

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Innovation)) or 0)

    async def audit_events(self, innovation_id: uuid.UUID | str) -> list[dict[str, Any]]:
        params = {"entity_type": "innovation", "entity_id": str(innovation_id), "limit": "100"}
        response = await self.client.get("/v1/audit-events", params=params, headers=self.admin)
        assert response.status_code == 200, response.text
        return sorted(response.json()["items"], key=lambda event: event["id"])


@pytest.fixture
async def w(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: Headers,
    auth: KeyFactory,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> World:
    kota = InstitutionKind.pemkot
    medan = await make_institution(name="Pemerintah Kota Medan", kind=kota, region_code="12.71")
    malang = await make_institution(name="Pemerintah Kota Malang", kind=kota, region_code="35.73")
    dprd = await make_unit(medan, name="Sekretariat DPRD Kota Medan")
    return World(client, session, admin, auth, make_unit, make_innovation, medan, malang, dprd)


@pytest.fixture
async def draft(w: World) -> Innovation:
    """A complete draft of the DPRD secretariat."""
    return await w.make_innovation(w.dprd, title="SIKULIN")


# --- field validation, on create and on PATCH -----------------------------------------------

REG = {"type": "peraturan_daerah", "number": "5/2021", "date": "2021-06-01"}
BUDGET = {"year": 2021, "source": "apbd", "amount": 150_000_000}
LINK = {"kind": "website", "url": "https://sikulin.medan.go.id"}

# (pointer of the error, field values sent): refused by the schema on create and on PATCH.
INVALID_FIELDS = [
    pytest.param("/title", {"title": "S"}, id="title too short"),
    pytest.param("/title", {"title": "S" * 201}, id="title too long"),
    pytest.param("/title", {"title": "   "}, id="title blank after trimming"),
    pytest.param("/acronym_expansion", {"acronym_expansion": "S"}, id="expansion too short"),
    pytest.param("/acronym_expansion", {"acronym_expansion": "S" * 301}, id="expansion too long"),
    pytest.param("/year_started", {"year_started": 1944}, id="year before 1945"),
    pytest.param("/year_started", {"year_started": "dua ribu"}, id="year not a number"),
    pytest.param("/implemented_date", {"implemented_date": "1/7/2021"}, id="date not a date"),
    pytest.param("/is_digital", {"is_digital": "maybe"}, id="is_digital not a boolean"),
    pytest.param("/stage", {"stage": "pilot"}, id="unknown stage"),
    pytest.param("/sdgs/0", {"sdgs": [0]}, id="sdg 0"),
    pytest.param("/sdgs/1", {"sdgs": [3, 18]}, id="sdg 18"),
    pytest.param("/sdgs", {"sdgs": [3, 3]}, id="sdg repeated"),
    pytest.param("/category_codes/0", {"category_codes": ["Sehat"]}, id="category malformed"),
    pytest.param("/category_codes", {"category_codes": ["sosial", "sosial"]}, id="category twice"),
    pytest.param("/sections/summary", {"sections": {"summary": "x" * 20_001}}, id="long section"),
    pytest.param("/sections/rangkuman", {"sections": {"rangkuman": "R"}}, id="unknown section"),
    pytest.param("/regulations/0/type", {"regulations": [{**REG, "type": "perda"}]}, id="reg type"),
    pytest.param("/regulations/0/number", {"regulations": [{**REG, "number": ""}]}, id="reg no"),
    pytest.param("/regulations/0/date", {"regulations": [{**REG, "date": "2021-02-30"}]}, id="rd"),
    pytest.param("/regulations/0/date", {"regulations": [{**REG, "date": None}]}, id="no date"),
    pytest.param("/budget_lines/0/amount", {"budget_lines": [{**BUDGET, "amount": -1}]}, id="-1"),
    pytest.param("/budget_lines/0/source", {"budget_lines": [{**BUDGET, "source": "x"}]}, id="src"),
    pytest.param("/links/0/url", {"links": [{**LINK, "url": "javascript:alert(1)"}]}, id="js"),
    pytest.param("/links/0/url", {"links": [{**LINK, "url": "ftp://medan.go.id/a"}]}, id="ftp"),
    pytest.param("/links/0/url", {"links": [{**LINK, "url": " JavaScript:x"}]}, id="js spaced"),
    pytest.param("/links/0/url", {"links": [{**LINK, "url": "/berkas/sk.pdf"}]}, id="relative"),
    pytest.param("/links/0/url", {"links": [{**LINK, "url": "https://"}]}, id="no host"),
    pytest.param("/links/0/kind", {"links": [{**LINK, "kind": "podcast"}]}, id="link kind"),
    pytest.param("/sustainability_status", {"sustainability_status": "dormant"}, id="status"),
    pytest.param("/rating", {"rating": 5}, id="unknown top-level field"),
    pytest.param("/institution_id", {"institution_id": str(uuid.uuid4())}, id="institution_id"),
]


@pytest.mark.parametrize("method", ["create", "patch"])
@pytest.mark.parametrize(("pointer", "fields"), INVALID_FIELDS)
async def test_invalid_field_is_422_and_nothing_written(
    w: World, draft: Innovation, method: str, pointer: str, fields: dict[str, Any]
) -> None:
    before = await w.stored(draft.id)
    if method == "create":
        response = await w.post(w.body(**fields))
    else:
        response = await w.patch(draft, fields)
    assert_problem(response, 422, "validation_failed", pointer=pointer)
    assert await w.count() == 1
    assert await w.stored(draft.id) == before


@pytest.mark.parametrize("field", ["unit_id", "title", "year_started", "is_digital", "stage"])
async def test_create_without_a_required_field_is_422(w: World, field: str) -> None:
    body = w.body()
    del body[field]
    assert_problem(await w.post(body), 422, "validation_failed", pointer=f"/{field}")
    assert await w.count() == 0


@pytest.mark.parametrize(
    "field", ["unit_id", "title", "year_started", "is_digital", "stage", "sdgs"]
)
async def test_patch_may_not_null_a_required_field(w: World, draft: Innovation, field: str) -> None:
    response = await w.patch(draft, {field: None})
    assert_problem(response, 422, "innovation.field_required", pointer=f"/{field}")
    assert (await w.stored(draft.id))["version"] == 1


def rule_breaking_fields() -> dict[str, tuple[str, dict[str, Any]]]:
    """Rules checked against today's (WIB) date, the vocabulary and other fields."""
    now = today()
    tomorrow = str(now + timedelta(days=1))
    return {
        "year in the future": ("/year_started", {"year_started": now.year + 1}),
        "implemented in the future": (
            "/implemented_date",
            {"year_started": now.year, "implemented_date": tomorrow},
        ),
        "implemented before the start": (
            "/implemented_date",
            {"year_started": 2021, "implemented_date": "2020-12-31"},
        ),
        "unknown category": ("/category_codes/0", {"category_codes": ["antariksa"]}),
        "second unknown": ("/category_codes/1", {"category_codes": ["kesehatan", "antariksa"]}),
    }


@pytest.mark.parametrize("method", ["create", "patch"])
@pytest.mark.parametrize("case", list(rule_breaking_fields()))
async def test_field_breaking_a_catalogue_rule_is_422_innovation_invalid(
    w: World, draft: Innovation, method: str, case: str
) -> None:
    pointer, fields = rule_breaking_fields()[case]
    before = await w.stored(draft.id)
    if method == "create":
        response = await w.post(w.body(**fields))
    else:
        response = await w.patch(draft, fields)
    assert_problem(response, 422, "innovation.invalid", pointer=pointer)
    assert await w.count() == 1
    assert await w.stored(draft.id) == before


async def test_patch_of_year_started_is_checked_against_the_stored_implemented_date(
    w: World, draft: Innovation
) -> None:
    assert draft.implemented_date == date(2021, 7, 1)
    response = await w.patch(draft, {"year_started": 2022})
    assert_problem(response, 422, "innovation.invalid", pointer="/implemented_date")
    assert (await w.stored(draft.id))["year_started"] == 2021


async def test_create_accepts_the_boundaries(w: World) -> None:
    body = w.body(
        title="SI",
        year_started=today().year,
        implemented_date=str(today()),
        sdgs=[1, 17],
        budget_lines=[{**BUDGET, "amount": 0}],
        links=[{**LINK, "url": "http://sikulin.medan.go.id/a"}],
    )
    response = await w.post(body)
    assert response.status_code == 201, response.text
    assert response.json()["sdgs"] == [1, 17]


async def test_create_writes_a_draft_of_the_unit_s_institution(w: World) -> None:
    body = w.body(
        title="  SIKULIN  ",
        acronym_expansion="Sistem Layanan Kunjungan Online",
        implemented_date="2021-07-01",
        sdgs=[16, 9],
        category_codes=["legislatif"],
        sections={"summary": " Kunjungan daring. ", "novelty": "", "resources": None},
        regulations=[REG],
        budget_lines=[BUDGET],
        links=[LINK],
        sustainability_status="running",
        source_system="SIPINTER",
        external_id="INV-001",
    )
    response = await w.post(body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/innovations/{created['id']}"
    assert (created["status"], created["published_at"], created["version"]) == ("draft", None, 1)
    assert created["institution_id"] == str(w.medan.id)
    assert created["institution_name"] == "Pemerintah Kota Medan"
    assert created["unit_name"] == "Sekretariat DPRD Kota Medan"
    assert created["title"] == "SIKULIN"
    assert created["links"] == [{**LINK, "title": None}]  # the URL kept as written
    row = await w.stored(created["id"])
    assert (row["institution_id"], row["unit_id"]) == (w.medan.id, w.dprd.id)
    assert row["status"] is InnovationStatus.draft
    assert row["sections"] == {"summary": "Kunjungan daring."}
    assert (row["sdgs"], row["category_codes"]) == ([16, 9], ["legislatif"])
    assert row["regulations"] == [{**REG, "title": None, "url": None}]
    assert row["budget_lines"] == [{**BUDGET, "description": None}]
    assert row["links"] == [{**LINK, "title": None}]
    assert (row["source_system"], row["external_id"]) == ("SIPINTER", "INV-001")


async def test_create_into_a_unit_that_does_not_exist_is_422(w: World) -> None:
    response = await w.post(w.body(unit_id=str(uuid.uuid4())))
    assert_problem(response, 422, "innovation.unit_not_found", pointer="/unit_id")
    assert await w.count() == 0


async def test_external_id_repeated_in_one_institution_is_409(w: World) -> None:
    await w.make_innovation(w.dprd, external_id="INV-001")
    health = await w.make_unit(w.medan, name="Dinas Kesehatan")
    response = await w.post(w.body(health, external_id="INV-001"))
    assert_problem(response, 409, "innovation.duplicate_external_id")
    assert await w.count() == 1


async def test_external_id_may_repeat_across_institutions(w: World) -> None:
    await w.make_innovation(w.dprd, external_id="INV-001")
    school = await w.make_unit(w.malang, name="SMP Negeri 10 Kota Malang")
    response = await w.post(w.body(school, external_id="INV-001"))
    assert response.status_code == 201, response.text


async def test_patch_to_an_external_id_in_use_is_409_and_nothing_changes(w: World) -> None:
    await w.make_innovation(w.dprd, external_id="INV-001")
    other = await w.make_innovation(w.dprd, external_id="INV-002")
    response = await w.patch(other, {"external_id": "INV-001"})
    assert_problem(response, 409, "innovation.duplicate_external_id")
    assert (await w.stored(other.id))["external_id"] == "INV-002"


async def test_patch_to_a_unit_that_does_not_exist_is_422(w: World, draft: Innovation) -> None:
    response = await w.patch(draft, {"unit_id": str(uuid.uuid4())})
    assert_problem(response, 422, "innovation.unit_not_found", pointer="/unit_id")
    assert (await w.stored(draft.id))["unit_id"] == w.dprd.id


# --- PATCH semantics ------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent_and_bumps_the_version(
    w: World, draft: Innovation
) -> None:
    before = await w.stored(draft.id)
    response = await w.patch(draft, {"title": "E-RESES", "stage": "uji_coba"})
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    assert response.json()["version"] == 2
    after = await w.stored(draft.id)
    derived = {"updated_at", "search_vector", "search_title"}
    changed = {key for key in before if key not in derived and before[key] != after[key]}
    assert changed == {"title", "stage", "version"}
    assert (after["title"], after["stage"].value) == ("E-RESES", "uji_coba")


async def test_patch_sections_replaces_only_the_sections_it_names(
    w: World, draft: Innovation
) -> None:
    sent = {"novelty": "Kebaruan baru.", "adaptability": "Butuh jaringan internet."}
    response = await w.patch(draft, {"sections": sent})
    assert response.status_code == 200, response.text
    expected = {**COMPLETE_SECTIONS, **sent}
    unwritten = dict.fromkeys(("resources", "sustainability_strategy"))
    assert response.json()["sections"] == {**unwritten, **expected}
    assert (await w.stored(draft.id))["sections"] == expected


@pytest.mark.parametrize("empty", ["", "   ", None])
async def test_patch_removes_a_section_set_empty(
    w: World, draft: Innovation, empty: str | None
) -> None:
    response = await w.patch(draft, {"sections": {"novelty": empty}})
    assert response.status_code == 200, response.text
    expected = {k: v for k, v in COMPLETE_SECTIONS.items() if k != "novelty"}
    assert (await w.stored(draft.id))["sections"] == expected


async def test_patch_clears_optional_fields_sent_as_null(w: World) -> None:
    innovation = await w.make_innovation(
        w.dprd, acronym_expansion="Sistem Layanan", category_codes=["legislatif"], links=[LINK]
    )
    response = await w.patch(
        innovation, {"acronym_expansion": None, "category_codes": None, "links": None}
    )
    assert response.status_code == 200, response.text
    row = await w.stored(innovation.id)
    assert (row["acronym_expansion"], row["category_codes"], row["links"]) == (None, [], [])


async def test_patch_with_a_stale_if_match_is_412_and_nothing_changes(
    w: World, draft: Innovation
) -> None:
    assert (await w.patch(draft, {"title": "SIKULIN 2"})).status_code == 200
    response = await w.patch(draft, {"title": "LAMA"}, {**w.admin, "If-Match": '"1"'})
    assert assert_problem(response, 412, "innovation.version_mismatch")["current_version"] == 2
    row = await w.stored(draft.id)
    assert (row["title"], row["version"]) == ("SIKULIN 2", 2)
    assert [event["action"] for event in await w.audit_events(draft.id)] == ["update"]


async def test_patch_with_the_current_if_match_applies(w: World, draft: Innovation) -> None:
    response = await w.patch(draft, {"title": "VTT"}, {**w.admin, "If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert (await w.stored(draft.id))["title"] == "VTT"


async def test_get_returns_an_etag_and_if_none_match_gives_304(w: World, draft: Innovation) -> None:
    url = f"/v1/innovations/{draft.id}"
    response = await w.client.get(url, headers=w.admin)
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"1"'
    cached = await w.client.get(url, headers={**w.admin, "If-None-Match": '"1"'})
    assert (cached.status_code, cached.headers["ETag"], cached.content) == (304, '"1"', b"")
    stale = await w.client.get(url, headers={**w.admin, "If-None-Match": '"0"'})
    assert stale.status_code == 200


async def test_unit_operator_may_not_move_an_innovation_to_another_unit(
    w: World, draft: Innovation
) -> None:
    health = await w.make_unit(w.medan, name="Dinas Kesehatan")
    operator = await w.auth(Role.unit_operator, unit_id=w.dprd.id)
    response = await w.patch(draft, {"unit_id": str(health.id)}, operator)
    assert_problem(response, 403, "innovation.out_of_scope")
    assert (await w.stored(draft.id))["unit_id"] == w.dprd.id


async def test_local_admin_may_not_move_an_innovation_to_another_institution(
    w: World, draft: Innovation
) -> None:
    school = await w.make_unit(w.malang, name="SMP Negeri 10 Kota Malang")
    local_admin = await w.auth(Role.local_admin, institution_id=w.medan.id)
    response = await w.patch(draft, {"unit_id": str(school.id)}, local_admin)
    assert_problem(response, 403, "innovation.out_of_scope")
    assert (await w.stored(draft.id))["unit_id"] == w.dprd.id


async def test_local_admin_moves_an_innovation_between_its_units(
    w: World, draft: Innovation
) -> None:
    health = await w.make_unit(w.medan, name="Dinas Kesehatan")
    local_admin = await w.auth(Role.local_admin, institution_id=w.medan.id)
    response = await w.patch(draft, {"unit_id": str(health.id)}, local_admin)
    assert response.status_code == 200, response.text
    assert response.json()["unit_name"] == "Dinas Kesehatan"
    assert (await w.stored(draft.id))["unit_id"] == health.id


async def test_moving_to_another_institution_s_unit_moves_the_institution_too(
    w: World, draft: Innovation
) -> None:
    school = await w.make_unit(w.malang, name="SMP Negeri 10 Kota Malang")
    response = await w.patch(draft, {"unit_id": str(school.id)})
    assert response.status_code == 200, response.text
    assert response.json()["institution_id"] == str(w.malang.id)
    row = await w.stored(draft.id)
    assert (row["institution_id"], row["unit_id"]) == (w.malang.id, school.id)


# --- the audit trail ------------------------------------------------------------------------


async def test_every_write_appends_one_audit_event(w: World) -> None:
    created = await w.post(
        w.body(implemented_date="2021-07-01", sdgs=[16], sections=COMPLETE_SECTIONS)
    )
    assert created.status_code == 201, created.text
    innovation_id = created.json()["id"]
    url = f"/v1/innovations/{innovation_id}"
    assert (await w.patch(innovation_id, {"title": "E-SAKIP"})).status_code == 200
    assert (await w.client.post(f"{url}/publish", headers=w.admin)).status_code == 200
    assert (await w.client.post(f"{url}/archive", headers=w.admin)).status_code == 200
    events = await w.audit_events(innovation_id)
    assert [e["action"] for e in events] == ["create", "update", "publish", "archive"]
    assert {e["institution_id"] for e in events} == {str(w.medan.id)}
    assert events[1]["changes"]["title"] == {"before": "SIKULIN", "after": "E-SAKIP"}
    assert events[2]["changes"]["status"] == {"before": "draft", "after": "published"}


async def test_delete_appends_a_delete_event(w: World, draft: Innovation) -> None:
    response = await w.client.delete(
        f"/v1/innovations/{draft.id}",
        headers=await if_match(w.client, f"/v1/innovations/{draft.id}", w.admin),
    )
    assert response.status_code == 204, response.text
    assert [event["action"] for event in await w.audit_events(draft.id)] == ["delete"]


# --- the category vocabulary ----------------------------------------------------------------

CATEGORIES = "/v1/innovation-categories"


async def test_categories_are_listed_publicly_page_by_page(client: httpx.AsyncClient) -> None:
    first = await client.get(CATEGORIES, params={"limit": 10})
    assert first.status_code == 200, first.text
    assert first.json()["has_more"] is True
    cursor = first.json()["next_cursor"]
    second = await client.get(CATEGORIES, params={"limit": 10, "cursor": cursor})
    assert second.status_code == 200, second.text
    codes = [c["code"] for c in first.json()["items"] + second.json()["items"]]
    assert len(codes) == len(set(codes)) >= 15
    assert codes == sorted(codes)
    assert {"kesehatan", "pendidikan", "legislatif"} <= set(codes)


async def test_category_is_read_publicly_with_an_etag(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{CATEGORIES}/kesehatan")
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Kesehatan"
    assert response.headers["ETag"] == f'"{response.json()["version"]}"'
    missing = await client.get(f"{CATEGORIES}/antariksa")
    assert_problem(missing, 404, "innovation_category.not_found")


async def test_secretariat_adds_a_category(w: World) -> None:
    body = {"code": "kearsipan", "name": "Kearsipan", "description": "Archives."}
    response = await w.client.post(CATEGORIES, json=body, headers=w.admin)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"{CATEGORIES}/kearsipan"
    assert response.json()["version"] == 1
    name = await w.session.scalar(
        select(InnovationCategory.name).where(InnovationCategory.code == "kearsipan")
    )
    assert name == "Kearsipan"
    used = await w.post(w.body(category_codes=["kearsipan"]))
    assert used.status_code == 201, used.text


async def test_category_with_a_code_in_use_is_409(w: World) -> None:
    body = {"code": "kesehatan", "name": "Kesehatan Lagi"}
    response = await w.client.post(CATEGORIES, json=body, headers=w.admin)
    assert_problem(response, 409, "innovation_category.duplicate_code")


async def test_category_code_must_be_lower_snake_case(w: World) -> None:
    body = {"code": "Ke Sehatan", "name": "Kesehatan"}
    response = await w.client.post(CATEGORIES, json=body, headers=w.admin)
    assert_problem(response, 422, "validation_failed", pointer="/code")


async def test_only_the_secretariat_adds_categories(w: World) -> None:
    body = {"code": "kearsipan", "name": "Kearsipan"}
    local_admin = await w.auth(Role.local_admin, institution_id=w.medan.id)
    forbidden = await w.client.post(CATEGORIES, json=body, headers=local_admin)
    assert_problem(forbidden, 403, "auth.role_forbidden")
    assert_problem(await w.client.post(CATEGORIES, json=body), 401, "auth.required")
    renamed = await w.client.patch(
        f"{CATEGORIES}/sosial",
        json={"name": "X"},
        headers=await if_match(w.client, f"{CATEGORIES}/sosial", local_admin),
    )
    assert_problem(renamed, 403, "auth.role_forbidden")


async def test_secretariat_renames_a_category(w: World) -> None:
    url = f"{CATEGORIES}/sosial"
    version = (await w.client.get(url)).json()["version"]
    response = await w.client.patch(
        url, json={"name": "Jaminan Sosial"}, headers=await if_match(w.client, url, w.admin)
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == version + 1
    assert response.json()["description"] == "Social protection and welfare."
    name = await w.session.scalar(
        select(InnovationCategory.name).where(InnovationCategory.code == "sosial")
    )
    assert name == "Jaminan Sosial"


async def test_category_patch_with_a_stale_if_match_is_412(w: World) -> None:
    url = f"{CATEGORIES}/sosial"
    version = (await w.client.get(url)).json()["version"]
    stale = {**w.admin, "If-Match": f'"{version + 1}"'}
    response = await w.client.patch(
        url, json={"name": "Sosial"}, headers=await if_match(w.client, url, stale)
    )
    assert_problem(response, 412, "innovation_category.version_mismatch")


async def test_category_name_cannot_be_removed(w: World) -> None:
    response = await w.client.patch(
        f"{CATEGORIES}/sosial",
        json={"name": None},
        headers=await if_match(w.client, f"{CATEGORIES}/sosial", w.admin),
    )
    assert_problem(response, 422, "innovation_category.name_required", pointer="/name")
