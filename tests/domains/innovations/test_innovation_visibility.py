"""Who sees and who writes which innovation: drafts and archived records never leak outside
their scope through the list, a read, search, facets, statistics or the CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.enums import InnovationStatus, InstitutionKind, Role
from app.models.hubs import Hub
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from tests.conftest import (
    InnovationFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
    UserFactory,
    bearer_for,
)
from tests.domains import assert_problem
from tests.fixtures.etag import conditional_request, if_match

Headers = dict[str, str]

# The records of the world, by title: (owner unit, status, year started, digital, SDG).
RECORDS = {
    "SIKULIN": ("dprd", InnovationStatus.published, 2019, True, 16),
    "MAJATOKI": ("dprd", InnovationStatus.draft, 2021, False, 6),
    "RINDU": ("dprd", InnovationStatus.archived, 2018, True, 4),
    "ESAKIP": ("dinkes", InnovationStatus.draft, 2021, True, 3),
    "SIMBA": ("smp", InnovationStatus.draft, 2021, True, 4),
    "JARIK": ("smp", InnovationStatus.published, 2020, False, 4),
}
PUBLIC = {"SIKULIN", "JARIK"}
MEDAN = PUBLIC | {"MAJATOKI", "RINDU", "ESAKIP"}
VISIBLE = {
    "anonymous": PUBLIC,
    "evaluator": PUBLIC,
    "hub_admin": PUBLIC,
    "operator_dprd": PUBLIC | {"MAJATOKI", "RINDU"},
    "operator_dinkes": PUBLIC | {"ESAKIP"},
    "local_admin_medan": MEDAN,
    "local_admin_malang": PUBLIC | {"SIMBA"},
    "regional_system_medan": MEDAN,
    "regional_system_malang": PUBLIC | {"SIMBA"},
    "secretariat": set(RECORDS),
}
CALLERS = list(VISIBLE)


@dataclass
class World:
    """Pemkot Medan (DPRD secretariat, health office), Pemkot Malang (a school), their
    innovations, and a caller of every kind."""

    client: httpx.AsyncClient
    session: AsyncSession
    medan: Institution
    malang: Institution
    units: dict[str, Unit]
    records: dict[str, Innovation]
    callers: dict[str, Headers]

    def url(self, title: str, action: str = "") -> str:
        return f"/v1/innovations/{self.records[title].id}{action}"

    async def titles(self, path: str, caller: str, **params: Any) -> set[str]:
        response = await self.client.get(
            path, params={"limit": 100, **params}, headers=self.callers[caller]
        )
        assert response.status_code == 200, response.text
        return {item["title"] for item in response.json()["items"]}

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(Innovation)) or 0)

    async def status_of(self, title: str) -> InnovationStatus | None:
        return await self.session.scalar(
            select(Innovation.status).where(Innovation.id == self.records[title].id)
        )


@pytest.fixture
async def w(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    admin: Headers,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
    hub: Hub,
) -> World:
    kota = InstitutionKind.pemkot
    medan = await make_institution(name="Pemerintah Kota Medan", kind=kota, region_code="12.71")
    malang = await make_institution(name="Pemerintah Kota Malang", kind=kota, region_code="35.73")
    units = {
        "dprd": await make_unit(medan, name="Sekretariat DPRD Kota Medan"),
        "dinkes": await make_unit(medan, name="Dinas Kesehatan Kota Medan"),
        "smp": await make_unit(malang, name="SMP Negeri 10 Kota Malang"),
    }
    records = {
        title: await make_innovation(
            units[unit], status=status, title=title, year_started=year, is_digital=digital,
            sdgs=[sdg],
        )
        for title, (unit, status, year, digital, sdg) in RECORDS.items()
    }  # fmt: skip
    callers = {
        "anonymous": {},
        "evaluator": await auth(Role.evaluator),
        "hub_admin": await auth(Role.hub_admin, hub_id=hub.id),
        "operator_dprd": await auth(Role.unit_operator, unit_id=units["dprd"].id),
        "operator_dinkes": await auth(Role.unit_operator, unit_id=units["dinkes"].id),
        "local_admin_medan": await auth(Role.local_admin, institution_id=medan.id),
        "local_admin_malang": await auth(Role.local_admin, institution_id=malang.id),
        "regional_system_medan": await auth(Role.regional_system, institution_id=medan.id),
        "regional_system_malang": await auth(Role.regional_system, institution_id=malang.id),
        "secretariat": admin,
    }
    return World(client, session, medan, malang, units, records, callers)


# --- reads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", CALLERS)
async def test_list_shows_published_innovations_and_the_caller_s_own_scope(
    w: World, caller: str
) -> None:
    assert await w.titles("/v1/innovations", caller) == VISIBLE[caller]
    response = await w.client.get(
        "/v1/innovations", params={"include_total": "true"}, headers=w.callers[caller]
    )
    assert response.json()["total"] == len(VISIBLE[caller])


@pytest.mark.parametrize("caller", CALLERS)
async def test_get_of_a_record_outside_the_scope_is_404(w: World, caller: str) -> None:
    for title in RECORDS:
        response = await w.client.get(w.url(title), headers=w.callers[caller])
        if title in VISIBLE[caller]:
            assert response.status_code == 200, (title, response.text)
            assert response.json()["title"] == title
        else:
            assert_problem(response, 404, "innovation.not_found")
            # A conditional GET does not reveal that the record exists either.
            cached = {**w.callers[caller], "If-None-Match": '"1"'}
            assert (await w.client.get(w.url(title), headers=cached)).status_code == 404


@pytest.mark.parametrize("caller", CALLERS)
async def test_search_finds_only_what_the_caller_may_see(w: World, caller: str) -> None:
    for title in RECORDS:
        found = await w.titles("/v1/innovations", caller, q=title.lower())
        assert (title in found) is (title in VISIBLE[caller]), title
        assert found <= VISIBLE[caller]


@pytest.mark.parametrize("caller", CALLERS)
async def test_facets_count_only_what_the_caller_may_see(w: World, caller: str) -> None:
    response = await w.client.get("/v1/innovations/facets", headers=w.callers[caller])
    assert response.status_code == 200, response.text
    facets = response.json()
    visible = VISIBLE[caller]
    assert facets["total"] == len(visible)
    by_status = {f["value"]: f["count"] for f in facets["status"]}
    expected = {s.value: sum(RECORDS[t][1] is s for t in visible) for s in InnovationStatus}
    assert by_status == {status: n for status, n in expected.items() if n}
    sdgs = {f["value"]: f["count"] for f in facets["sdg"]}
    assert sum(sdgs.values()) == len(visible)
    assert set(sdgs) == {str(RECORDS[t][4]) for t in visible}


@pytest.mark.parametrize("caller", CALLERS)
async def test_export_holds_only_what_the_caller_may_see(w: World, caller: str) -> None:
    response = await w.client.get("/v1/innovations/export", headers=w.callers[caller])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["title"] for row in rows} == VISIBLE[caller]
    assert len(rows) == len(VISIBLE[caller])


@pytest.mark.parametrize("caller", ["anonymous", "local_admin_medan", "secretariat"])
async def test_overview_counts_published_innovations_only_whoever_asks(
    w: World, caller: str
) -> None:
    response = await w.client.get("/v1/stats/overview", headers=w.callers[caller])
    assert response.status_code == 200, response.text
    overview = response.json()
    assert overview["published_innovations"] == 2
    assert overview["institutions"] == 2
    assert (overview["digital_innovations"], overview["digital_share"]) == (1, 0.5)
    assert overview["by_stage"] == [{"key": "penerapan", "label": None, "count": 2}]


@pytest.mark.parametrize("caller", ["anonymous", "regional_system_medan", "secretariat"])
@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("year", {"2019": 1, "2020": 1}),
        ("sdg", {"4": 1, "16": 1}),
        ("province", {"12": 1, "35": 1}),
        ("institution_kind", {"pemkot": 2}),
    ],
)
async def test_innovation_stats_count_published_innovations_only_whoever_asks(
    w: World, caller: str, group_by: str, expected: dict[str, int]
) -> None:
    response = await w.client.get(
        "/v1/stats/innovations", params={"group_by": group_by}, headers=w.callers[caller]
    )
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["total"] == 2
    assert {item["key"]: item["count"] for item in stats["items"]} == expected


@pytest.mark.parametrize("caller", ["anonymous", "evaluator", "hub_admin"])
@pytest.mark.parametrize("status", ["draft", "archived"])
async def test_asking_for_drafts_or_archived_records_without_a_scope_gives_nothing(
    w: World, caller: str, status: str
) -> None:
    assert await w.titles("/v1/innovations", caller, status=status) == set()


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("operator_dprd", {"MAJATOKI"}),
        ("operator_dinkes", {"ESAKIP"}),
        ("local_admin_medan", {"MAJATOKI", "ESAKIP"}),
        ("regional_system_malang", {"SIMBA"}),
        ("secretariat", {"MAJATOKI", "ESAKIP", "SIMBA"}),
    ],
)
async def test_status_filter_gives_the_drafts_of_the_caller_s_scope(
    w: World, caller: str, expected: set[str]
) -> None:
    assert await w.titles("/v1/innovations", caller, status="draft") == expected


async def test_a_signed_in_unit_operator_sees_its_unit_s_drafts(
    w: World, make_user: UserFactory, settings: Settings
) -> None:
    user = await make_user(Role.unit_operator, unit_id=w.units["dprd"].id)
    w.callers["person"] = bearer_for(settings, user)
    assert await w.titles("/v1/innovations", "person") == VISIBLE["operator_dprd"]
    response = await w.client.get(w.url("ESAKIP"), headers=w.callers["person"])
    assert_problem(response, 404, "innovation.not_found")


# --- writes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "title"),
    [
        ("operator_dprd", "MAJATOKI"),
        ("operator_dprd", "SIKULIN"),
        ("local_admin_medan", "ESAKIP"),
        ("local_admin_medan", "SIKULIN"),
        ("secretariat", "SIMBA"),
        ("secretariat", "SIKULIN"),
    ],
)
async def test_writer_changes_an_innovation_in_its_scope(w: World, caller: str, title: str) -> None:
    response = await w.client.patch(
        w.url(title),
        json={"acronym_expansion": "Diubah"},
        headers=await if_match(w.client, w.url(title), w.callers[caller]),
    )
    assert response.status_code == 200, response.text
    stored = await w.session.scalar(
        select(Innovation.acronym_expansion).where(Innovation.id == w.records[title].id)
    )
    assert stored == "Diubah"


@pytest.mark.parametrize(
    ("caller", "title", "status", "code"),
    [
        ("operator_dinkes", "MAJATOKI", 404, "innovation.not_found"),
        ("operator_dinkes", "RINDU", 404, "innovation.not_found"),
        ("operator_dinkes", "SIKULIN", 403, "innovation.out_of_scope"),
        ("local_admin_malang", "ESAKIP", 404, "innovation.not_found"),
        ("local_admin_malang", "SIKULIN", 403, "innovation.out_of_scope"),
        ("local_admin_medan", "JARIK", 403, "innovation.out_of_scope"),
    ],
)
@pytest.mark.parametrize("action", ["patch", "publish", "archive", "delete"])
async def test_writer_outside_the_scope_gets_404_for_a_draft_and_403_for_a_published_one(
    w: World, caller: str, title: str, status: int, code: str, action: str
) -> None:
    headers = w.callers[caller]
    if action == "patch":
        response = await w.client.patch(
            w.url(title),
            json={"title": "X1"},
            headers=await if_match(w.client, w.url(title), headers),
        )
    elif action == "delete":
        response = await w.client.delete(
            w.url(title), headers=await if_match(w.client, w.url(title), headers)
        )
    else:
        response = await w.client.post(w.url(title, f"/{action}"), headers=headers)
    assert_problem(response, status, code)
    assert await w.status_of(title) is RECORDS[title][1]
    assert await w.count() == len(RECORDS)


def create_body(unit: Unit) -> dict[str, Any]:
    return {
        "unit_id": str(unit.id),
        "title": "SIMASDU",
        "year_started": 2022,
        "is_digital": True,
        "stage": "uji_coba",
    }


@pytest.mark.parametrize(
    ("caller", "unit"),
    [
        ("operator_dprd", "dprd"),
        ("local_admin_medan", "dinkes"),
        ("secretariat", "smp"),
    ],
)
async def test_writer_creates_an_innovation_in_its_scope(w: World, caller: str, unit: str) -> None:
    response = await w.client.post(
        "/v1/innovations", json=create_body(w.units[unit]), headers=w.callers[caller]
    )
    assert response.status_code == 201, response.text
    assert response.json()["unit_id"] == str(w.units[unit].id)
    assert await w.count() == len(RECORDS) + 1


@pytest.mark.parametrize(
    ("caller", "unit"),
    [
        ("operator_dprd", "dinkes"),
        ("operator_dprd", "smp"),
        ("local_admin_malang", "dprd"),
        ("local_admin_medan", "smp"),
    ],
)
async def test_creating_in_a_unit_outside_the_scope_is_403(
    w: World, caller: str, unit: str
) -> None:
    response = await w.client.post(
        "/v1/innovations", json=create_body(w.units[unit]), headers=w.callers[caller]
    )
    assert_problem(response, 403, "innovation.out_of_scope")
    assert await w.count() == len(RECORDS)


def write_requests(w: World) -> dict[str, tuple[str, str, dict[str, Any] | None]]:
    """One request of each innovation write: (method, url, body)."""
    return {
        "create": ("POST", "/v1/innovations", create_body(w.units["dprd"])),
        "update": ("PATCH", w.url("MAJATOKI"), {"title": "X1"}),
        "publish": ("POST", w.url("MAJATOKI", "/publish"), None),
        "archive": ("POST", w.url("SIKULIN", "/archive"), None),
        "delete": ("DELETE", w.url("MAJATOKI"), None),
    }


@pytest.mark.parametrize("caller", ["evaluator", "hub_admin", "regional_system_medan", "anonymous"])
@pytest.mark.parametrize("write", ["create", "update", "publish", "archive", "delete"])
async def test_roles_that_do_not_write_innovations_are_refused(
    w: World, caller: str, write: str
) -> None:
    method, url, body = write_requests(w)[write]
    response = await conditional_request(
        w.client, method, url, json=body, headers=w.callers[caller]
    )
    if caller == "anonymous":
        assert_problem(response, 401, "auth.required")
    else:
        assert_problem(response, 403, "auth.role_forbidden")
    assert await w.count() == len(RECORDS)
    assert await w.status_of("MAJATOKI") is InnovationStatus.draft
    assert await w.status_of("SIKULIN") is InnovationStatus.published
