"""Competition editions: creating them (who may, for which scope and hub), reading and listing
with who-sees-what, editing the profile as the edition moves on, deleting drafts, ETags."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.enums import CompetitionScope, CompetitionStatus, HubStatus
from tests.domains import assert_problem
from tests.domains.competitions.conftest import FINAL, LIVE, PAST_DRAFT, World, at, now
from tests.fixtures.etag import if_match

S = CompetitionStatus
LEGAL_BASIS = ["Peraturan Menteri PANRB Nomor 91 Tahun 2021"]


def national(w: World, **overrides: Any) -> dict[str, Any]:
    return {
        "code": "KIPP-2023",
        "name": "Kompetisi Inovasi Pelayanan Publik 2023",
        "year": 2023,
        "scope": "national",
        "organiser_institution_id": str(w.kemenpan.id),
        **overrides,
    }


def provincial(**overrides: Any) -> dict[str, Any]:
    return {
        "code": "KIPD-SUMUT-2024",
        "name": "Kompetisi Inovasi Pelayanan Publik Provinsi Sumatera Utara 2024",
        "year": 2024,
        "scope": "provincial",
        **overrides,
    }


async def create(
    w: World, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return await w.client.post("/v1/competitions", json=body, headers=headers or w.admin)


async def patch(
    w: World, competition: Competition, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    return await w.client.patch(
        f"/v1/competitions/{competition.id}",
        json=body,
        headers=await if_match(w.client, f"/v1/competitions/{competition.id}", headers or w.admin),
    )


async def count_competitions(w: World) -> int:
    response = await w.client.get("/v1/competitions?limit=100&include_total=true", headers=w.admin)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


# --- creating: the secretariat's national and monitoring editions ---------------------------


async def test_the_secretariat_creates_a_national_edition_as_a_draft(w: World) -> None:
    opens, closes = "2023-01-09T00:00:00+07:00", "2023-03-31T23:59:59+07:00"
    body = national(
        w,
        theme="Inovasi Pelayanan Publik Berdampak untuk Indonesia Maju",
        legal_basis=LEGAL_BASIS,
        registration_opens_at=opens,
        registration_closes_at=closes,
        sdg_required=False,
    )
    response = await create(w, body)
    assert response.status_code == 201, response.text
    c = response.json()
    assert response.headers["Location"] == f"/v1/competitions/{c['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (c["code"], c["status"], c["scope"], c["hub_id"], c["version"]) == (
        "KIPP-2023",
        "draft",
        "national",
        None,
        1,
    )
    assert c["organiser_institution_id"] == str(w.kemenpan.id)
    assert (c["legal_basis"], c["sdg_required"], c["year"]) == (LEGAL_BASIS, False, 2023)
    assert at(c["registration_opens_at"]) == datetime.fromisoformat(opens)
    assert at(c["registration_closes_at"]) == datetime.fromisoformat(closes)
    assert (c["cancellation_reason"], c["cancelled_at"]) == (None, None)
    stored = await w.stored(Competition, c["id"])
    assert stored is not None
    assert (stored.status, stored.code, stored.scope) == (
        S.draft,
        "KIPP-2023",
        CompetitionScope.national,
    )
    assert stored.registration_closes_at == datetime.fromisoformat(closes)
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == ("create", "competition", c["id"])
    assert event.institution_id == w.kemenpan.id
    assert event.changes["status"] == {"before": None, "after": "draft"}
    assert event.changes["code"] == {"before": None, "after": "KIPP-2023"}


async def test_the_secretariat_creates_a_monitoring_edition(w: World) -> None:
    body = national(w, code="PKRI-2024", name="Pemantauan Keberlanjutan Inovasi 2024",
                    year=2024, scope="monitoring")  # fmt: skip
    response = await create(w, body)
    assert response.status_code == 201, response.text
    assert (response.json()["scope"], response.json()["hub_id"]) == ("monitoring", None)


async def test_an_edition_is_national_and_needs_an_sdg_unless_told(w: World) -> None:
    body = national(w)
    del body["scope"]
    response = await create(w, body)
    assert response.status_code == 201, response.text
    c = response.json()
    assert (c["scope"], c["sdg_required"], c["legal_basis"], c["theme"]) == (
        "national",
        True,
        [],
        None,
    )
    assert (c["registration_opens_at"], c["registration_closes_at"]) == (None, None)


@pytest.mark.parametrize("scope", ["national", "monitoring"])
async def test_a_national_or_monitoring_edition_names_its_organiser(w: World, scope: str) -> None:
    body = national(w, scope=scope)
    del body["organiser_institution_id"]
    assert_problem(
        await create(w, body),
        422,
        "competition.organiser_required",
        pointer="/organiser_institution_id",
    )


async def test_an_unknown_organiser_is_422(w: World) -> None:
    body = national(w, organiser_institution_id=str(uuid.uuid4()))
    assert_problem(
        await create(w, body),
        422,
        "competition.organiser_not_found",
        pointer="/organiser_institution_id",
    )


@pytest.mark.parametrize("scope", ["national", "monitoring"])
async def test_a_national_or_monitoring_edition_is_run_by_no_hub(w: World, scope: str) -> None:
    body = national(w, scope=scope, hub_id=str(w.hub_sumut.id))
    assert_problem(await create(w, body), 422, "competition.hub_not_allowed", pointer="/hub_id")
    assert await count_competitions(w) == 0


# --- creating: a hub's provincial edition ---------------------------------------------------


async def test_a_hub_admin_creates_a_provincial_edition_for_its_own_hub(w: World) -> None:
    response = await create(w, provincial(), await w.hub_admin())
    assert response.status_code == 201, response.text
    c = response.json()
    assert (c["scope"], c["status"], c["code"]) == ("provincial", "draft", "KIPD-SUMUT-2024")
    assert c["hub_id"] == str(w.hub_sumut.id)
    # The organiser defaults to the hub's host.
    assert c["organiser_institution_id"] == str(w.sumut.id)
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.actor_kind, event.actor_role) == (
        "create",
        "competition",
        "api_key",
        "hub_admin",
    )
    assert event.institution_id == w.sumut.id


async def test_a_hub_admin_may_name_its_own_hub_and_its_host(w: World) -> None:
    body = provincial(hub_id=str(w.hub_sumut.id), organiser_institution_id=str(w.sumut.id))
    response = await create(w, body, await w.hub_admin())
    assert response.status_code == 201, response.text
    assert response.json()["hub_id"] == str(w.hub_sumut.id)


async def test_a_provincial_edition_is_organised_by_its_hubs_host(w: World) -> None:
    body = provincial(organiser_institution_id=str(w.kemenpan.id))
    assert_problem(
        await create(w, body, await w.hub_admin()),
        422,
        "competition.organiser_not_hub_host",
        pointer="/organiser_institution_id",
    )


async def test_the_secretariat_creates_a_provincial_edition_for_a_named_hub(w: World) -> None:
    body = provincial(code="KIPD-JATIM-2024", hub_id=str(w.hub_jatim.id))
    response = await create(w, body)
    assert response.status_code == 201, response.text
    c = response.json()
    assert (c["hub_id"], c["organiser_institution_id"]) == (str(w.hub_jatim.id), str(w.jatim.id))


async def test_the_secretariat_names_the_hub_of_a_provincial_edition(w: World) -> None:
    assert_problem(
        await create(w, provincial()), 422, "competition.hub_required", pointer="/hub_id"
    )


async def test_a_hub_admin_cannot_create_for_another_hub(w: World) -> None:
    body = provincial(hub_id=str(w.hub_jatim.id))
    response = await create(w, body, await w.hub_admin(w.hub_sumut))
    assert_problem(response, 403, "competition.out_of_scope")
    assert await w.events(response) == []
    assert await count_competitions(w) == 0


@pytest.mark.parametrize(
    "status", [HubStatus.candidate, HubStatus.committed, HubStatus.designated, HubStatus.inactive]
)
async def test_a_hub_that_is_not_active_runs_no_competition(w: World, status: HubStatus) -> None:
    hub = await w.make_hub(w.sumut, status)
    response = await create(w, provincial(), await w.hub_admin(hub))
    assert_problem(response, 422, "competition.hub_not_active", pointer="/hub_id")
    # Nor does the secretariat create one for it.
    response = await create(w, provincial(hub_id=str(hub.id)))
    assert_problem(response, 422, "competition.hub_not_active", pointer="/hub_id")
    assert await count_competitions(w) == 0


async def test_a_central_hub_runs_no_provincial_competition(w: World) -> None:
    response = await create(w, provincial(), await w.hub_admin(w.central_hub))
    assert_problem(response, 422, "competition.hub_not_active", pointer="/hub_id")
    response = await create(w, provincial(hub_id=str(w.central_hub.id)))
    assert_problem(response, 422, "competition.hub_not_active", pointer="/hub_id")


async def test_an_unknown_hub_is_422(w: World) -> None:
    response = await create(w, provincial(hub_id=str(uuid.uuid4())))
    assert_problem(response, 422, "competition.hub_not_active", pointer="/hub_id")


@pytest.mark.parametrize("scope", ["national", "monitoring"])
async def test_a_hub_admin_creates_no_national_or_monitoring_edition(w: World, scope: str) -> None:
    response = await create(w, national(w, scope=scope), await w.hub_admin())
    assert_problem(response, 403, "competition.scope_forbidden")
    assert await count_competitions(w) == 0


@pytest.mark.parametrize("role", ["local_admin", "unit_operator", "evaluator", "regional_system"])
async def test_other_roles_create_no_edition(w: World, role: str) -> None:
    headers = (await w.callers())[role]
    for body in (national(w), provincial(hub_id=str(w.hub_sumut.id))):
        assert_problem(await create(w, body, headers), 403, "auth.role_forbidden")


async def test_an_anonymous_caller_creates_no_edition(w: World) -> None:
    response = await w.client.post("/v1/competitions", json=national(w))
    assert_problem(response, 401, "auth.required")


# --- codes, windows, validation -------------------------------------------------------------


async def test_codes_are_upper_cased(w: World) -> None:
    response = await create(w, national(w, code=" kipp-2023 "))
    assert response.status_code == 201, response.text
    assert response.json()["code"] == "KIPP-2023"


@pytest.mark.parametrize("second", ["KIPP-2023", "kipp-2023", "Kipp-2023"])
async def test_a_duplicate_code_is_409_whatever_its_case(w: World, second: str) -> None:
    assert (await create(w, national(w, code="KIPP-2023"))).status_code == 201
    response = await create(w, national(w, code=second, name="Lain"))
    assert_problem(response, 409, "competition.duplicate_code", pointer="/code")
    assert await w.events(response) == []


async def test_the_database_compares_codes_whatever_their_case(w: World) -> None:
    await w.competition(code="Kipd-Sumut-2025")
    response = await create(w, national(w, code="KIPD-SUMUT-2025"))
    assert_problem(response, 409, "competition.duplicate_code", pointer="/code")


async def test_the_same_code_is_free_once_the_draft_is_deleted(w: World) -> None:
    first = await create(w, national(w))
    deleted = await w.client.delete(
        f"/v1/competitions/{first.json()['id']}",
        headers=await if_match(w.client, f"/v1/competitions/{first.json()['id']}", w.admin),
    )
    assert deleted.status_code == 204, deleted.text
    assert (await create(w, national(w))).status_code == 201


@pytest.mark.parametrize("closes", ["2023-01-08T23:00:00+07:00", "2023-01-09T00:00:00+07:00",
                                    "2023-01-08T17:00:00Z"])  # fmt: skip
async def test_a_window_that_closes_before_it_opens_is_422(w: World, closes: str) -> None:
    body = national(
        w, registration_opens_at="2023-01-09T00:00:00+07:00", registration_closes_at=closes
    )
    response = await create(w, body)
    assert_problem(response, 422, "competition.window_order", pointer="/registration_closes_at")


@pytest.mark.parametrize(
    ("field", "value", "pointer"),
    [
        ("code", "KIPP 2023", "/code"),
        ("code", "2023-KIPP", "/code"),
        ("code", "KIPP--2023", "/code"),
        ("code", "K" * 41, "/code"),
        ("name", "K", "/name"),
        ("year", 1999, "/year"),
        ("year", 2101, "/year"),
        ("scope", "regional", "/scope"),
        ("registration_closes_at", "2023-03-31T23:59:59", "/registration_closes_at"),
        ("legal_basis", ["PP"], "/legal_basis/0"),
        ("colour", "merah", "/colour"),
    ],
)
async def test_an_invalid_edition_is_422(w: World, field: str, value: Any, pointer: str) -> None:
    response = await create(w, national(w, **{field: value}))
    assert_problem(response, 422, "validation_failed", pointer=pointer)


# --- who sees what --------------------------------------------------------------------------


async def get(w: World, competition: Competition, headers: dict[str, str] | None = None) -> int:
    response = await w.client.get(f"/v1/competitions/{competition.id}", headers=headers or {})
    if response.status_code == 404:
        assert_problem(response, 404, "competition.not_found")
    return response.status_code


async def test_a_national_draft_is_the_secretariats_alone(w: World) -> None:
    draft = await w.competition(S.draft)
    assert await get(w, draft, w.admin) == 200
    assert await get(w, draft) == 404
    assert await get(w, draft, await w.hub_admin()) == 404
    for headers in (await w.callers()).values():
        assert await get(w, draft, headers) == 404


async def test_a_provincial_draft_is_seen_by_its_own_hubs_admins(w: World) -> None:
    draft = await w.competition(S.draft, w.hub_sumut)
    assert await get(w, draft, await w.hub_admin(w.hub_sumut)) == 200
    assert await get(w, draft, w.admin) == 200
    assert await get(w, draft, await w.hub_admin(w.hub_jatim)) == 404
    assert await get(w, draft) == 404
    for headers in (await w.callers()).values():
        assert await get(w, draft, headers) == 404


@pytest.mark.parametrize("status", PAST_DRAFT)
async def test_an_edition_past_its_draft_is_public(w: World, status: CompetitionStatus) -> None:
    for competition in (await w.competition(status), await w.competition(status, w.hub_sumut)):
        assert await get(w, competition) == 200
        assert await get(w, competition, await w.hub_admin(w.hub_jatim)) == 200
        for headers in (await w.callers()).values():
            assert await get(w, competition, headers) == 200


async def test_an_unknown_edition_is_404(w: World) -> None:
    response = await w.client.get(f"/v1/competitions/{uuid.uuid4()}", headers=w.admin)
    assert_problem(response, 404, "competition.not_found")


async def test_get_sends_an_etag_and_honours_if_none_match(w: World) -> None:
    competition = await w.competition(S.registration_open)
    response = await w.client.get(f"/v1/competitions/{competition.id}")
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"1"'
    body = response.json()
    assert (body["id"], body["status"], body["version"]) == (
        str(competition.id),
        "registration_open",
        1,
    )
    cached = await w.client.get(
        f"/v1/competitions/{competition.id}", headers={"If-None-Match": '"1"'}
    )
    assert cached.status_code == 304
    assert cached.headers["ETag"] == '"1"'
    stale = await w.client.get(
        f"/v1/competitions/{competition.id}", headers={"If-None-Match": '"7"'}
    )
    assert stale.status_code == 200


async def listed(w: World, headers: dict[str, str] | None = None, **params: Any) -> list[str]:
    response = await w.client.get(
        "/v1/competitions", params={"limit": 100, **params}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_the_list_shows_each_caller_what_it_may_see(w: World) -> None:
    national_draft = await w.competition(S.draft)
    national_open = await w.competition(S.registration_open)
    sumut_draft = await w.competition(S.draft, w.hub_sumut)
    sumut_evaluation = await w.competition(S.evaluation, w.hub_sumut)
    jatim_draft = await w.competition(S.draft, w.hub_jatim)
    public = {str(national_open.id), str(sumut_evaluation.id)}
    assert set(await listed(w)) == public
    for headers in (await w.callers()).values():
        assert set(await listed(w, headers)) == public
    assert set(await listed(w, await w.hub_admin(w.hub_sumut))) == public | {str(sumut_draft.id)}
    assert set(await listed(w, await w.hub_admin(w.hub_jatim))) == public | {str(jatim_draft.id)}
    assert set(await listed(w, w.admin)) == public | {
        str(national_draft.id),
        str(sumut_draft.id),
        str(jatim_draft.id),
    }
    # Asking for drafts does not widen the reach.
    assert await listed(w, status="draft") == []
    assert await listed(w, await w.hub_admin(w.hub_jatim), status="draft") == [str(jatim_draft.id)]


async def test_the_list_filters_by_year_scope_status_and_hub(w: World) -> None:
    kipp_2023 = await w.competition(S.closed, year=2023)
    pkri_2024 = await w.competition(S.cancelled, year=2024, scope=CompetitionScope.monitoring)
    sumut_2024 = await w.competition(S.evaluation, w.hub_sumut, year=2024)
    jatim_2025 = await w.competition(S.registration_open, w.hub_jatim, year=2025)
    assert await listed(w, year=2024, sort="year") in (
        [str(pkri_2024.id), str(sumut_2024.id)],
        [str(sumut_2024.id), str(pkri_2024.id)],
    )
    assert await listed(w, scope="monitoring") == [str(pkri_2024.id)]
    assert set(await listed(w, scope=["national", "monitoring"])) == {
        str(kipp_2023.id),
        str(pkri_2024.id),
    }
    assert set(await listed(w, status=["closed", "registration_open"])) == {
        str(kipp_2023.id),
        str(jatim_2025.id),
    }
    assert await listed(w, hub_id=str(w.hub_sumut.id)) == [str(sumut_2024.id)]
    # Newest year first unless told.
    ordered = await listed(w)
    assert ordered[0] == str(jatim_2025.id)
    assert ordered[-1] == str(kipp_2023.id)
    assert (await listed(w, sort="year"))[0] == str(kipp_2023.id)


@pytest.mark.parametrize(("param", "value"), [("status", "open"), ("scope", "regional"),
                                              ("year", "1999"), ("sort", "name")])  # fmt: skip
async def test_an_invalid_list_filter_is_422(w: World, param: str, value: str) -> None:
    response = await w.client.get("/v1/competitions", params={param: value})
    assert response.status_code == 422, response.text


async def test_the_list_pages_with_a_cursor(w: World) -> None:
    made = {str((await w.competition(S.registration_open, year=2020 + i)).id) for i in range(3)}
    first = await w.client.get("/v1/competitions", params={"limit": 2})
    assert first.status_code == 200, first.text
    page = first.json()
    assert (len(page["items"]), page["has_more"]) == (2, True)
    second = await w.client.get(
        "/v1/competitions", params={"limit": 2, "cursor": page["next_cursor"]}
    )
    rest = second.json()
    assert rest["has_more"] is False
    assert {i["id"] for i in page["items"] + rest["items"]} == made


# --- editing --------------------------------------------------------------------------------


async def test_a_draft_changes_anything(w: World) -> None:
    draft = await w.competition(S.draft, year=2023)
    closes = (now() + timedelta(days=60)).replace(microsecond=0)
    response = await patch(
        w,
        draft,
        name="KIPP 2024",
        year=2024,
        theme="Inovasi Berdampak",
        legal_basis=LEGAL_BASIS,
        registration_opens_at=now().replace(microsecond=0).isoformat(),
        registration_closes_at=closes.isoformat(),
        sdg_required=False,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["year"], body["theme"], body["sdg_required"]) == (
        "KIPP 2024",
        2024,
        "Inovasi Berdampak",
        False,
    )
    assert (body["legal_basis"], at(body["registration_closes_at"])) == (LEGAL_BASIS, closes)
    assert (body["version"], response.headers["ETag"]) == (2, '"2"')
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "update",
        "competition",
        str(draft.id),
    )
    assert event.changes["year"] == {"before": 2023, "after": 2024}
    assert event.changes["version"] == {"before": 1, "after": 2}
    assert event.institution_id == w.kemenpan.id


async def test_a_change_with_a_stale_if_match_is_412(w: World) -> None:
    draft = await w.competition(S.draft)
    response = await patch(w, draft, {**w.admin, "If-Match": '"3"'}, name="KIPP Baru")
    problem = assert_problem(response, 412, "competition.version_mismatch")
    assert problem["current_version"] == 1
    assert await w.events(response) == []
    fresh = await patch(w, draft, {**w.admin, "If-Match": '"1"'}, name="KIPP Baru")
    assert fresh.status_code == 200, fresh.text


async def test_a_draft_window_must_close_after_it_opens(w: World) -> None:
    draft = await w.competition(
        S.draft,
        registration_opens_at=now() + timedelta(days=10),
        registration_closes_at=now() + timedelta(days=40),
    )
    response = await patch(w, draft, registration_closes_at=(now() + timedelta(days=5)).isoformat())
    assert_problem(response, 422, "competition.window_order", pointer="/registration_closes_at")
    response = await patch(w, draft, registration_opens_at=(now() + timedelta(days=50)).isoformat())
    assert_problem(response, 422, "competition.window_order", pointer="/registration_closes_at")


@pytest.mark.parametrize("field", ["name", "year", "legal_basis", "sdg_required"])
async def test_a_required_field_cannot_be_removed(w: World, field: str) -> None:
    draft = await w.competition(S.draft)
    response = await patch(w, draft, **{field: None})
    assert_problem(response, 422, "competition.field_required", pointer=f"/{field}")


async def test_the_theme_can_be_removed(w: World) -> None:
    draft = await w.competition(S.draft, theme="Tema Lama")
    response = await patch(w, draft, theme=None)
    assert response.status_code == 200, response.text
    assert response.json()["theme"] is None


@pytest.mark.parametrize("status", LIVE)
async def test_the_profile_changes_after_the_draft(w: World, status: CompetitionStatus) -> None:
    competition = await w.competition(status)
    response = await patch(
        w, competition, name="KIPP 2026 (revisi)", theme="Tema Baru", legal_basis=LEGAL_BASIS
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["theme"], body["legal_basis"], body["status"]) == (
        "KIPP 2026 (revisi)",
        "Tema Baru",
        LEGAL_BASIS,
        status.value,
    )
    (event,) = await w.events(response)
    assert event.action == "update"
    assert set(event.changes) == {"name", "theme", "legal_basis", "version"}


@pytest.mark.parametrize("status", LIVE)
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("year", 2027),
        ("sdg_required", False),
        ("registration_opens_at", "2026-01-01T00:00:00+07:00"),
    ],
)
async def test_the_rules_are_frozen_after_the_draft(
    w: World, status: CompetitionStatus, field: str, value: Any
) -> None:
    competition = await w.competition(status)
    response = await patch(w, competition, name="Nama Baru", **{field: value})
    problem = assert_problem(response, 409, "competition.structure_frozen")
    assert problem["current_status"] == status.value
    assert field in problem["detail"]
    stored = await w.stored(Competition, competition.id)
    assert stored is not None
    assert (stored.name, stored.version) == (competition.name, 1)
    assert await w.events(response) == []


async def test_the_deadline_moves_while_registration_is_open(w: World) -> None:
    competition = await w.competition(S.registration_open)
    later = (now() + timedelta(days=45)).replace(microsecond=0)
    response = await patch(w, competition, registration_closes_at=later.isoformat())
    assert response.status_code == 200, response.text
    assert at(response.json()["registration_closes_at"]) == later
    (event,) = await w.events(response)
    assert event.changes["registration_closes_at"]["after"] is not None
    # Earlier too, as long as it is still ahead.
    sooner = (now() + timedelta(hours=2)).replace(microsecond=0)
    response = await patch(w, competition, registration_closes_at=sooner.isoformat())
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("when", [timedelta(hours=-1), timedelta(days=-400)])
async def test_the_deadline_does_not_move_into_the_past(w: World, when: timedelta) -> None:
    competition = await w.competition(S.registration_open)
    response = await patch(w, competition, registration_closes_at=(now() + when).isoformat())
    assert_problem(response, 422, "competition.deadline_in_past", pointer="/registration_closes_at")
    response = await patch(w, competition, registration_closes_at=None)
    assert_problem(response, 422, "competition.deadline_in_past", pointer="/registration_closes_at")


@pytest.mark.parametrize("status", [S.registration_closed, S.evaluation, S.results_published])
async def test_the_deadline_is_frozen_once_registration_has_closed(
    w: World, status: CompetitionStatus
) -> None:
    competition = await w.competition(status)
    later = now() + timedelta(days=45)
    response = await patch(w, competition, registration_closes_at=later.isoformat())
    problem = assert_problem(response, 409, "competition.structure_frozen")
    assert problem["current_status"] == status.value


@pytest.mark.parametrize("status", FINAL)
@pytest.mark.parametrize(
    "body",
    [
        {"name": "Nama Baru"},
        {"theme": "Tema Baru"},
        {"legal_basis": LEGAL_BASIS},
        {"year": 2030},
        {"registration_closes_at": "2100-01-01T00:00:00Z"},
    ],
)
async def test_a_closed_or_cancelled_edition_no_longer_changes(
    w: World, status: CompetitionStatus, body: dict[str, Any]
) -> None:
    competition = await w.competition(status)
    response = await patch(w, competition, **body)
    problem = assert_problem(response, 409, "competition.final")
    assert problem["current_status"] == status.value
    assert await w.events(response) == []


async def test_a_hub_admin_edits_its_own_hubs_edition(w: World) -> None:
    competition = await w.competition(S.evaluation, w.hub_sumut)
    response = await patch(w, competition, await w.hub_admin(), theme="Tema Sumut")
    assert response.status_code == 200, response.text
    (event,) = await w.events(response)
    assert (event.actor_role, event.institution_id) == ("hub_admin", w.sumut.id)


# --- deleting -------------------------------------------------------------------------------


async def test_a_draft_is_deleted_with_its_structure(w: World) -> None:
    draft = await w.competition(S.draft)
    group, category, round_ = await w.kipp_2023(draft)
    response = await w.client.delete(
        f"/v1/competitions/{draft.id}",
        headers=await if_match(w.client, f"/v1/competitions/{draft.id}", w.admin),
    )
    assert response.status_code == 204, response.text
    assert await w.stored(Competition, draft.id) is None
    assert await w.stored(CompetitionGroup, group.id) is None
    assert await w.stored(CompetitionCategory, category.id) is None
    assert await w.stored(CompetitionRound, round_.id) is None
    criteria = await w.session.scalars(
        select(RoundCriterion.id).where(RoundCriterion.round_id == round_.id)
    )
    assert list(criteria) == []
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "delete",
        "competition",
        str(draft.id),
    )
    assert event.changes["status"] == {"before": "draft", "after": None}
    assert (await w.client.get(f"/v1/competitions/{draft.id}", headers=w.admin)).status_code == 404


async def test_a_hub_admin_deletes_its_own_hubs_draft(w: World) -> None:
    draft = await w.competition(S.draft, w.hub_sumut)
    response = await w.client.delete(
        f"/v1/competitions/{draft.id}",
        headers=await if_match(w.client, f"/v1/competitions/{draft.id}", await w.hub_admin()),
    )
    assert response.status_code == 204, response.text
    assert await w.stored(Competition, draft.id) is None


@pytest.mark.parametrize("status", PAST_DRAFT)
async def test_only_a_draft_is_deleted(w: World, status: CompetitionStatus) -> None:
    competition = await w.competition(status)
    response = await w.client.delete(
        f"/v1/competitions/{competition.id}",
        headers=await if_match(w.client, f"/v1/competitions/{competition.id}", w.admin),
    )
    problem = assert_problem(response, 409, "competition.not_draft")
    assert problem["current_status"] == status.value
    assert await w.stored(Competition, competition.id) is not None
    assert await w.events(response) == []


async def test_a_delete_with_a_stale_if_match_is_412(w: World) -> None:
    draft = await w.competition(S.draft)
    response = await w.client.delete(
        f"/v1/competitions/{draft.id}", headers={**w.admin, "If-Match": '"2"'}
    )
    assert_problem(response, 412, "competition.version_mismatch")
    assert await w.stored(Competition, draft.id) is not None
    response = await w.client.delete(
        f"/v1/competitions/{draft.id}", headers={**w.admin, "If-Match": '"1"'}
    )
    assert response.status_code == 204, response.text


@pytest.mark.parametrize("body", [{}, {"name": "KIPP Uji"}])
async def test_a_patch_that_changes_nothing_leaves_no_event(w: World, body: dict[str, Any]) -> None:
    competition = await w.competition(S.draft, name="KIPP Uji")
    response = await patch(w, competition, **body)
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 1
    assert await w.events(response) == []
