"""An edition's structure: groups (with their entry rules), categories, rounds in order and
their weighted criteria per group. Edited while the edition is a draft (If-Match, ETags, one
audit event a write), frozen once registration opens, read as the edition is."""

from __future__ import annotations

import uuid
from datetime import timedelta
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
from app.models.enums import CompetitionStatus
from app.models.hubs import Hub
from tests.domains import assert_problem
from tests.domains.competitions.conftest import PAST_DRAFT, World, now
from tests.fixtures.etag import conditional_request, if_match

S = CompetitionStatus


async def post(w: World, path: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return await w.client.post(path, json=body, headers=headers or w.admin)


async def patch(w: World, path: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return await w.client.patch(
        path, json=body, headers=await if_match(w.client, path, headers or w.admin)
    )


def items(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def one_event(w: World, response: httpx.Response, action: str, entity: str) -> Any:
    (event,) = await w.events(response)
    assert (event.action, event.entity_type) == (action, entity)
    return event


# --- groups ---------------------------------------------------------------------------------


async def test_a_group_is_created_with_its_rules(w: World) -> None:
    draft = await w.competition(S.draft)
    response = await post(
        w,
        f"/v1/competitions/{draft.id}/groups",
        code="Umum",
        name="Kelompok Umum",
        description="Inovasi yang telah diterapkan paling singkat dua tahun.",
        min_implementation_months=24,
        max_submissions_per_institution=10,
        ineligible_award_tiers=["TOP_45", "top_99"],
    )
    assert response.status_code == 201, response.text
    group = response.json()
    assert response.headers["Location"] == f"/v1/competitions/{draft.id}/groups/{group['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (group["code"], group["competition_id"], group["version"]) == ("umum", str(draft.id), 1)
    assert (group["min_implementation_months"], group["max_submissions_per_institution"]) == (
        24,
        10,
    )
    assert group["ineligible_award_tiers"] == ["top_45", "top_99"]
    assert (group["requires_source_innovation"], group["source_award_tiers"]) == (False, [])
    stored = await w.stored(CompetitionGroup, group["id"])
    assert stored is not None
    assert stored.ineligible_award_tiers == ["top_45", "top_99"]
    event = await one_event(w, response, "create", "competition_group")
    assert event.entity_id == group["id"]
    assert event.institution_id == w.kemenpan.id
    assert event.changes["code"] == {"before": None, "after": "umum"}


async def test_a_group_has_no_cap_and_no_age_unless_told(w: World) -> None:
    draft = await w.competition(S.draft)
    response = await post(w, f"/v1/competitions/{draft.id}/groups", code="khusus", name="Khusus")
    assert response.status_code == 201, response.text
    group = response.json()
    assert (group["min_implementation_months"], group["max_submissions_per_institution"]) == (
        0,
        None,
    )
    assert (group["ineligible_award_tiers"], group["description"]) == ([], None)


async def test_a_replication_group_names_the_awards_its_sources_need(w: World) -> None:
    draft = await w.competition(S.draft)
    response = await post(
        w,
        f"/v1/competitions/{draft.id}/groups",
        code="replikasi",
        name="Kelompok Replikasi",
        min_implementation_months=12,
        max_submissions_per_institution=5,
        requires_source_innovation=True,
        source_award_tiers=["top_45", "top_99"],
    )
    assert response.status_code == 201, response.text
    group = response.json()
    assert (group["requires_source_innovation"], group["source_award_tiers"]) == (
        True,
        ["top_45", "top_99"],
    )


async def test_source_award_tiers_belong_to_a_replication_group(w: World) -> None:
    draft = await w.competition(S.draft)
    response = await post(
        w,
        f"/v1/competitions/{draft.id}/groups",
        code="umum",
        name="Kelompok Umum",
        source_award_tiers=["top_45"],
    )
    assert_problem(
        response, 422, "group.source_tiers_without_replication", pointer="/source_award_tiers"
    )
    # Nor can a replication group with source tiers stop being one.
    group = await w.group(
        draft, "replikasi", requires_source_innovation=True, source_award_tiers=["top_45"]
    )
    path = f"/v1/competitions/{draft.id}/groups/{group.id}"
    response = await patch(w, path, requires_source_innovation=False)
    assert_problem(
        response, 422, "group.source_tiers_without_replication", pointer="/source_award_tiers"
    )
    response = await patch(w, path, requires_source_innovation=False, source_award_tiers=[])
    assert response.status_code == 200, response.text
    assert response.json()["requires_source_innovation"] is False


async def test_a_duplicate_group_code_is_409(w: World) -> None:
    draft = await w.competition(S.draft)
    await w.group(draft, "umum")
    response = await post(w, f"/v1/competitions/{draft.id}/groups", code="UMUM", name="Lagi")
    assert_problem(response, 409, "group.duplicate_code", pointer="/code")
    assert await w.events(response) == []
    other = await w.group(draft, "replikasi")
    response = await patch(w, f"/v1/competitions/{draft.id}/groups/{other.id}", code="umum")
    assert_problem(response, 409, "group.duplicate_code", pointer="/code")
    # Another edition may use the code.
    another = await w.competition(S.draft)
    response = await post(w, f"/v1/competitions/{another.id}/groups", code="umum", name="Umum")
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("field", "value", "pointer"),
    [
        ("code", "kelompok umum", "/code"),
        ("code", "1umum", "/code"),
        ("code", "u" * 31, "/code"),
        ("min_implementation_months", -1, "/min_implementation_months"),
        ("min_implementation_months", 241, "/min_implementation_months"),
        ("max_submissions_per_institution", 0, "/max_submissions_per_institution"),
        ("ineligible_award_tiers", ["top 45"], "/ineligible_award_tiers/0"),
        ("weight", 10, "/weight"),
    ],
)
async def test_an_invalid_group_is_422(w: World, field: str, value: Any, pointer: str) -> None:
    draft = await w.competition(S.draft)
    body = {"code": "umum", "name": "Kelompok Umum", field: value}
    response = await w.client.post(
        f"/v1/competitions/{draft.id}/groups", json=body, headers=w.admin
    )
    assert_problem(response, 422, "validation_failed", pointer=pointer)


async def test_groups_are_listed_by_code_and_read_with_an_etag(w: World) -> None:
    draft = await w.competition(S.draft)
    for code in ("umum", "khusus", "replikasi", "keberlanjutan"):
        await w.group(draft, code)
    listed = items(await w.client.get(f"/v1/competitions/{draft.id}/groups", headers=w.admin))
    assert [g["code"] for g in listed] == ["keberlanjutan", "khusus", "replikasi", "umum"]
    path = f"/v1/competitions/{draft.id}/groups/{listed[0]['id']}"
    response = await w.client.get(path, headers=w.admin)
    assert response.status_code == 200, response.text
    assert (response.json()["code"], response.headers["ETag"]) == ("keberlanjutan", '"1"')
    cached = await w.client.get(path, headers={**w.admin, "If-None-Match": '"1"'})
    assert cached.status_code == 304


async def test_a_group_is_read_through_its_own_edition_only(w: World) -> None:
    draft = await w.competition(S.draft)
    other = await w.competition(S.draft)
    group = await w.group(draft)
    response = await w.client.get(f"/v1/competitions/{other.id}/groups/{group.id}", headers=w.admin)
    assert_problem(response, 404, "group.not_found")
    response = await patch(w, f"/v1/competitions/{other.id}/groups/{group.id}", name="Lain")
    assert_problem(response, 404, "group.not_found")
    response = await w.client.delete(
        f"/v1/competitions/{other.id}/groups/{group.id}",
        headers=await if_match(w.client, f"/v1/competitions/{other.id}/groups/{group.id}", w.admin),
    )
    assert_problem(response, 404, "group.not_found")
    response = await w.client.get(
        f"/v1/competitions/{draft.id}/groups/{uuid.uuid4()}", headers=w.admin
    )
    assert_problem(response, 404, "group.not_found")


async def test_a_group_is_changed_with_if_match(w: World) -> None:
    draft = await w.competition(S.draft)
    group = await w.group(draft, "umum", min_implementation_months=24)
    path = f"/v1/competitions/{draft.id}/groups/{group.id}"
    stale = await patch(w, path, {**w.admin, "If-Match": '"2"'}, min_implementation_months=12)
    problem = assert_problem(stale, 412, "group.version_mismatch")
    assert problem["current_version"] == 1
    response = await patch(
        w, path, {**w.admin, "If-Match": '"1"'}, min_implementation_months=12, name="Umum 2024"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["min_implementation_months"], body["name"], body["version"]) == (
        12,
        "Umum 2024",
        2,
    )
    assert response.headers["ETag"] == '"2"'
    event = await one_event(w, response, "update", "competition_group")
    assert event.changes["min_implementation_months"] == {"before": 24, "after": 12}
    # The cap can be lifted; the rules cannot be removed.
    response = await patch(w, path, max_submissions_per_institution=None)
    assert response.status_code == 200, response.text
    assert response.json()["max_submissions_per_institution"] is None
    response = await patch(w, path, ineligible_award_tiers=None)
    assert_problem(response, 422, "group.field_required", pointer="/ineligible_award_tiers")


async def test_a_group_is_deleted_with_its_criteria(w: World) -> None:
    draft = await w.competition(S.draft)
    group = await w.group(draft)
    round_ = await w.round(draft)
    criterion = await w.criterion(round_, group, 100)
    path = f"/v1/competitions/{draft.id}/groups/{group.id}"
    stale = await w.client.delete(path, headers={**w.admin, "If-Match": '"9"'})
    assert_problem(stale, 412, "group.version_mismatch")
    response = await w.client.delete(path, headers={**w.admin, "If-Match": '"1"'})
    assert response.status_code == 204, response.text
    assert await w.stored(CompetitionGroup, group.id) is None
    assert await w.stored(RoundCriterion, criterion.id) is None
    assert await w.stored(CompetitionRound, round_.id) is not None
    event = await one_event(w, response, "delete", "competition_group")
    assert event.entity_id == str(group.id)
    assert event.changes["code"] == {"before": "umum", "after": None}


# --- categories -----------------------------------------------------------------------------


async def test_categories_are_created_listed_changed_and_deleted(w: World) -> None:
    draft = await w.competition(S.draft)
    base = f"/v1/competitions/{draft.id}/categories"
    created = await post(w, base, code="Digital", name="Transformasi Digital")
    assert created.status_code == 201, created.text
    category = created.json()
    assert (category["code"], category["competition_id"]) == ("digital", str(draft.id))
    assert created.headers["Location"] == f"{base}/{category['id']}"
    assert created.headers["ETag"] == '"1"'
    await one_event(w, created, "create", "competition_category")
    await w.category(draft, "ekonomi")
    assert [c["code"] for c in items(await w.client.get(base, headers=w.admin))] == [
        "digital",
        "ekonomi",
    ]
    path = f"{base}/{category['id']}"
    got = await w.client.get(path, headers=w.admin)
    assert (got.status_code, got.headers["ETag"]) == (200, '"1"')
    assert (
        await w.client.get(path, headers={**w.admin, "If-None-Match": '"1"'})
    ).status_code == 304

    stale = await patch(w, path, {**w.admin, "If-Match": '"0"'}, name="Digitalisasi")
    assert_problem(stale, 412, "category.version_mismatch")
    changed = await patch(w, path, {**w.admin, "If-Match": '"1"'}, name="Digitalisasi Layanan")
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["version"]) == ("Digitalisasi Layanan", 2)
    event = await one_event(w, changed, "update", "competition_category")
    assert event.changes["name"] == {
        "before": "Transformasi Digital",
        "after": "Digitalisasi Layanan",
    }
    assert_problem(await patch(w, path, name=None), 422, "category.field_required", pointer="/name")

    deleted = await w.client.delete(path, headers={**w.admin, "If-Match": '"2"'})
    assert deleted.status_code == 204, deleted.text
    await one_event(w, deleted, "delete", "competition_category")
    assert await w.stored(CompetitionCategory, category["id"]) is None
    assert_problem(await w.client.get(path, headers=w.admin), 404, "category.not_found")


async def test_a_duplicate_category_code_is_409(w: World) -> None:
    draft = await w.competition(S.draft)
    await w.category(draft, "digital")
    response = await post(
        w, f"/v1/competitions/{draft.id}/categories", code="digital", name="Digital Lagi"
    )
    assert_problem(response, 409, "category.duplicate_code", pointer="/code")


async def test_a_category_is_read_through_its_own_edition_only(w: World) -> None:
    draft = await w.competition(S.draft)
    other = await w.competition(S.draft)
    category = await w.category(draft)
    response = await w.client.get(
        f"/v1/competitions/{other.id}/categories/{category.id}", headers=w.admin
    )
    assert_problem(response, 404, "category.not_found")


# --- rounds ---------------------------------------------------------------------------------


async def test_rounds_go_after_the_last_unless_placed(w: World) -> None:
    draft = await w.competition(S.draft)
    base = f"/v1/competitions/{draft.id}/rounds"
    first = await post(w, base, kind="administrative_screening", name="Seleksi Administrasi")
    assert first.status_code == 201, first.text
    assert first.json()["position"] == 1
    assert first.headers["Location"] == f"/v1/rounds/{first.json()['id']}"
    assert first.headers["ETag"] == '"1"'
    await one_event(w, first, "create", "competition_round")
    second = await post(w, base, kind="desk_evaluation", name="Evaluasi Proposal")
    assert second.json()["position"] == 2
    placed = await post(w, base, kind="interview", name="Wawancara", position=5)
    assert placed.json()["position"] == 5
    after = await post(w, base, kind="field_verification", name="Verifikasi Lapangan")
    assert after.json()["position"] == 6
    listed = items(await w.client.get(base, headers=w.admin))
    assert [(r["position"], r["kind"]) for r in listed] == [
        (1, "administrative_screening"),
        (2, "desk_evaluation"),
        (5, "interview"),
        (6, "field_verification"),
    ]


async def test_a_round_keeps_its_window_quota_and_passing_grade(w: World) -> None:
    draft = await w.competition(S.draft)
    response = await post(
        w,
        f"/v1/competitions/{draft.id}/rounds",
        kind="panel_review",
        name="Penilaian Tim Panel Independen",
        opens_at="2025-06-02T08:00:00+07:00",
        closes_at="2025-06-20T17:00:00+07:00",
        advance_quota=45,
        passing_grade=85,
    )
    assert response.status_code == 201, response.text
    got = await w.client.get(f"/v1/rounds/{response.json()['id']}", headers=w.admin)
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["kind"], body["advance_quota"], body["passing_grade"]) == ("panel_review", 45, 85)
    assert body["closes_at"] is not None
    assert got.headers["ETag"] == '"1"'
    assert (
        await w.client.get(f"/v1/rounds/{body['id']}", headers={**w.admin, "If-None-Match": '"1"'})
    ).status_code == 304


async def test_a_round_closes_after_it_opens(w: World) -> None:
    draft = await w.competition(S.draft)
    response = await post(
        w,
        f"/v1/competitions/{draft.id}/rounds",
        kind="interview",
        name="Wawancara",
        opens_at="2025-06-20T08:00:00+07:00",
        closes_at="2025-06-20T08:00:00+07:00",
    )
    assert_problem(response, 422, "round.window_order", pointer="/closes_at")
    round_ = await w.round(draft, 1, opens_at=now(), closes_at=None)
    response = await patch(w, f"/v1/rounds/{round_.id}", closes_at="2020-01-01T00:00:00Z")
    assert_problem(response, 422, "round.window_order", pointer="/closes_at")


async def test_a_duplicate_round_position_is_409(w: World) -> None:
    draft = await w.competition(S.draft)
    await w.round(draft, 1)
    second = await w.round(draft, 2)
    response = await post(
        w, f"/v1/competitions/{draft.id}/rounds", kind="interview", name="Wawancara", position=1
    )
    assert_problem(response, 409, "round.duplicate_position", pointer="/position")
    assert await w.events(response) == []
    response = await patch(w, f"/v1/rounds/{second.id}", position=1)
    assert_problem(response, 409, "round.duplicate_position", pointer="/position")
    # Another edition has its own positions.
    another = await w.competition(S.draft)
    response = await post(
        w, f"/v1/competitions/{another.id}/rounds", kind="interview", name="Wawancara", position=1
    )
    assert response.status_code == 201, response.text


async def test_an_edition_has_at_most_twenty_rounds(w: World) -> None:
    draft = await w.competition(S.draft)
    await w.round(draft, 20)
    response = await post(w, f"/v1/competitions/{draft.id}/rounds", kind="interview", name="Akhir")
    assert_problem(response, 422, "round.too_many", pointer="/position")
    response = await post(
        w, f"/v1/competitions/{draft.id}/rounds", kind="interview", name="Akhir", position=21
    )
    assert_problem(response, 422, "validation_failed", pointer="/position")


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "seminar"), ("advance_quota", 0), ("passing_grade", 101), ("passing_grade", -1),
     ("position", 0), ("opens_at", "2025-06-20T08:00:00")],
)  # fmt: skip
async def test_an_invalid_round_is_422(w: World, field: str, value: Any) -> None:
    draft = await w.competition(S.draft)
    body = {"kind": "interview", "name": "Wawancara", field: value}
    response = await w.client.post(
        f"/v1/competitions/{draft.id}/rounds", json=body, headers=w.admin
    )
    assert_problem(response, 422, "validation_failed", pointer=f"/{field}")


async def test_a_round_is_changed_with_if_match_and_deleted_with_its_criteria(w: World) -> None:
    draft = await w.competition(S.draft)
    group = await w.group(draft)
    round_ = await w.round(draft, 1, name="Evaluasi Proposal")
    criterion = await w.criterion(round_, group, 100)
    path = f"/v1/rounds/{round_.id}"
    stale = await patch(w, path, {**w.admin, "If-Match": '"2"'}, advance_quota=99)
    assert_problem(stale, 412, "round.version_mismatch")
    changed = await patch(w, path, {**w.admin, "If-Match": '"1"'}, advance_quota=99, position=3)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["advance_quota"], changed.json()["position"]) == (99, 3)
    assert changed.headers["ETag"] == '"2"'
    event = await one_event(w, changed, "update", "competition_round")
    assert event.changes["position"] == {"before": 1, "after": 3}
    assert_problem(await patch(w, path, kind=None), 422, "round.field_required", pointer="/kind")

    stale = await w.client.delete(path, headers={**w.admin, "If-Match": '"1"'})
    assert_problem(stale, 412, "round.version_mismatch")
    deleted = await w.client.delete(path, headers={**w.admin, "If-Match": '"2"'})
    assert deleted.status_code == 204, deleted.text
    await one_event(w, deleted, "delete", "competition_round")
    assert await w.stored(CompetitionRound, round_.id) is None
    assert await w.stored(RoundCriterion, criterion.id) is None
    assert await w.stored(CompetitionGroup, group.id) is not None
    assert_problem(await w.client.get(path, headers=w.admin), 404, "round.not_found")


async def test_an_unknown_round_is_404(w: World) -> None:
    for response in (
        await w.client.get(f"/v1/rounds/{uuid.uuid4()}", headers=w.admin),
        await patch(w, f"/v1/rounds/{uuid.uuid4()}", name="Tahap"),
        await w.client.get(f"/v1/rounds/{uuid.uuid4()}/criteria", headers=w.admin),
    ):
        assert_problem(response, 404, "round.not_found")


# --- criteria -------------------------------------------------------------------------------


async def test_a_criterion_is_created_for_a_group_of_the_round(w: World) -> None:
    draft = await w.competition(S.draft)
    group = await w.group(draft)
    round_ = await w.round(draft)
    response = await post(
        w,
        f"/v1/rounds/{round_.id}/criteria",
        group_id=str(group.id),
        name="Signifikansi dan Dampak",
        guidance="Perubahan yang dirasakan penerima layanan, dengan bukti.",
        weight=30,
        min_score=1,
        max_score=10,
    )
    assert response.status_code == 201, response.text
    criterion = response.json()
    assert response.headers["Location"] == f"/v1/rounds/{round_.id}/criteria/{criterion['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (criterion["round_id"], criterion["group_id"], criterion["position"]) == (
        str(round_.id),
        str(group.id),
        1,
    )
    assert (criterion["weight"], criterion["min_score"], criterion["max_score"]) == (30, 1, 10)
    stored = await w.stored(RoundCriterion, criterion["id"])
    assert stored is not None
    assert stored.competition_id == draft.id
    event = await one_event(w, response, "create", "round_criterion")
    assert event.entity_id == criterion["id"]
    assert event.institution_id == w.kemenpan.id


async def test_criteria_go_after_the_last_of_their_round_and_group(w: World) -> None:
    draft = await w.competition(S.draft)
    umum = await w.group(draft, "umum")
    replikasi = await w.group(draft, "replikasi")
    round_ = await w.round(draft)
    path = f"/v1/rounds/{round_.id}/criteria"

    async def add(group: CompetitionGroup, name: str, **body: Any) -> int:
        response = await post(w, path, group_id=str(group.id), name=name, weight=10, **body)
        assert response.status_code == 201, response.text
        position: int = response.json()["position"]
        return position

    assert await add(umum, "Kebaruan") == 1
    assert await add(umum, "Implementasi") == 2
    assert await add(replikasi, "Kesesuaian") == 1
    assert await add(umum, "Keberlanjutan", position=7) == 7
    assert await add(umum, "Sumber Daya") == 8
    # Default scores: 0 to 100.
    listed = items(await w.client.get(path, params={"group_id": str(umum.id)}, headers=w.admin))
    assert [(c["position"], c["name"]) for c in listed] == [
        (1, "Kebaruan"),
        (2, "Implementasi"),
        (7, "Keberlanjutan"),
        (8, "Sumber Daya"),
    ]
    assert {(c["min_score"], c["max_score"]) for c in listed} == {(0, 100)}
    everything = items(await w.client.get(path, params={"limit": 100}, headers=w.admin))
    assert len(everything) == 5


async def test_a_criterion_for_a_group_of_another_edition_is_422(w: World) -> None:
    draft = await w.competition(S.draft)
    other = await w.competition(S.draft)
    foreign = await w.group(other)
    round_ = await w.round(draft)
    for group_id in (foreign.id, uuid.uuid4()):
        response = await post(
            w, f"/v1/rounds/{round_.id}/criteria", group_id=str(group_id), name="Dampak", weight=30
        )
        assert_problem(response, 422, "criterion.group_not_found", pointer="/group_id")
        assert await w.events(response) == []


@pytest.mark.parametrize(("min_score", "max_score"), [(50, 50), (60, 40), (0, 0)])
async def test_the_score_range_must_be_open(w: World, min_score: int, max_score: int) -> None:
    draft = await w.competition(S.draft)
    group = await w.group(draft)
    round_ = await w.round(draft)
    response = await post(
        w,
        f"/v1/rounds/{round_.id}/criteria",
        group_id=str(group.id),
        name="Dampak",
        weight=30,
        min_score=min_score,
        max_score=max_score,
    )
    assert_problem(response, 422, "criterion.score_range", pointer="/max_score")


async def test_a_criterion_change_keeps_the_score_range_open(w: World) -> None:
    draft = await w.competition(S.draft)
    group = await w.group(draft)
    round_ = await w.round(draft)
    criterion = await w.criterion(round_, group, 30, min_score=0, max_score=10)
    path = f"/v1/rounds/{round_.id}/criteria/{criterion.id}"
    assert_problem(await patch(w, path, min_score=10), 422, "criterion.score_range")
    assert_problem(await patch(w, path, max_score=0), 422, "criterion.score_range")
    response = await patch(w, path, min_score=10, max_score=20)
    assert response.status_code == 200, response.text


async def test_a_duplicate_criterion_name_is_409_whatever_its_case(w: World) -> None:
    draft = await w.competition(S.draft)
    umum = await w.group(draft, "umum")
    replikasi = await w.group(draft, "replikasi")
    round_ = await w.round(draft)
    await w.criterion(round_, umum, 30, name="Kebaruan")
    path = f"/v1/rounds/{round_.id}/criteria"
    response = await post(w, path, group_id=str(umum.id), name="KEBARUAN", weight=10)
    assert_problem(response, 409, "criterion.duplicate_name", pointer="/name")
    # The same name for another group is fine.
    response = await post(w, path, group_id=str(replikasi.id), name="Kebaruan", weight=10)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("weight", -1), ("weight", 101), ("position", 0), ("position", 101), ("max_score", 1001),
     ("min_score", -1), ("group_id", "umum")],
)  # fmt: skip
async def test_an_invalid_criterion_is_422(w: World, field: str, value: Any) -> None:
    draft = await w.competition(S.draft)
    group = await w.group(draft)
    round_ = await w.round(draft)
    body = {"group_id": str(group.id), "name": "Dampak", "weight": 30, field: value}
    response = await w.client.post(f"/v1/rounds/{round_.id}/criteria", json=body, headers=w.admin)
    assert_problem(response, 422, "validation_failed", pointer=f"/{field}")


async def test_a_criterion_is_read_changed_and_deleted_with_if_match(w: World) -> None:
    draft = await w.competition(S.draft)
    group = await w.group(draft)
    round_ = await w.round(draft)
    criterion = await w.criterion(round_, group, 25, name="Kebaruan")
    path = f"/v1/rounds/{round_.id}/criteria/{criterion.id}"
    got = await w.client.get(path, headers=w.admin)
    assert (got.status_code, got.headers["ETag"], got.json()["weight"]) == (200, '"1"', 25)
    assert (
        await w.client.get(path, headers={**w.admin, "If-None-Match": '"1"'})
    ).status_code == 304

    stale = await patch(w, path, {**w.admin, "If-Match": '"3"'}, weight=15)
    assert_problem(stale, 412, "criterion.version_mismatch")
    changed = await patch(w, path, {**w.admin, "If-Match": '"1"'}, weight=15, guidance="Baru.")
    assert changed.status_code == 200, changed.text
    assert (changed.json()["weight"], changed.json()["version"]) == (15, 2)
    event = await one_event(w, changed, "update", "round_criterion")
    assert event.changes["weight"] == {"before": 25, "after": 15}
    assert_problem(
        await patch(w, path, weight=None), 422, "criterion.field_required", pointer="/weight"
    )

    deleted = await w.client.delete(path, headers={**w.admin, "If-Match": '"2"'})
    assert deleted.status_code == 204, deleted.text
    await one_event(w, deleted, "delete", "round_criterion")
    assert await w.stored(RoundCriterion, criterion.id) is None
    assert_problem(await w.client.get(path, headers=w.admin), 404, "criterion.not_found")


async def test_a_criterion_is_read_through_its_own_round_only(w: World) -> None:
    draft = await w.competition(S.draft)
    group = await w.group(draft)
    round_ = await w.round(draft, 1)
    other_round = await w.round(draft, 2)
    criterion = await w.criterion(round_, group, 25)
    path = f"/v1/rounds/{other_round.id}/criteria/{criterion.id}"
    assert_problem(await w.client.get(path, headers=w.admin), 404, "criterion.not_found")
    assert_problem(await patch(w, path, weight=30), 404, "criterion.not_found")
    response = await w.client.delete(path, headers=await if_match(w.client, path, w.admin))
    assert_problem(response, 404, "criterion.not_found")


# --- frozen once the draft is over ----------------------------------------------------------


async def frozen_edition(
    w: World, status: CompetitionStatus, hub: Hub | None = None
) -> dict[str, Any]:
    """An edition at `status` (national, or provincial with a hub) with one of each part: the
    targets of every structural write and read."""
    competition = await w.competition(status, hub)
    group = await w.group(competition, "umum")
    category = await w.category(competition)
    round_ = await w.round(competition, 1)
    criterion = await w.criterion(round_, group, 100)
    return {"c": competition, "g": group, "k": category, "r": round_, "x": criterion}


def structural_writes(
    p: dict[str, Any],
) -> list[tuple[str, str, dict[str, Any] | None]]:
    c, g, k, r, x = p["c"].id, p["g"].id, p["k"].id, p["r"].id, p["x"].id
    return [
        ("POST", f"/v1/competitions/{c}/groups", {"code": "replikasi", "name": "Replikasi"}),
        ("PATCH", f"/v1/competitions/{c}/groups/{g}", {"name": "Umum Baru"}),
        ("DELETE", f"/v1/competitions/{c}/groups/{g}", None),
        ("POST", f"/v1/competitions/{c}/categories", {"code": "ekonomi", "name": "Ekonomi"}),
        ("PATCH", f"/v1/competitions/{c}/categories/{k}", {"name": "Digital Baru"}),
        ("DELETE", f"/v1/competitions/{c}/categories/{k}", None),
        ("POST", f"/v1/competitions/{c}/rounds", {"kind": "interview", "name": "Wawancara"}),
        ("PATCH", f"/v1/rounds/{r}", {"advance_quota": 45}),
        ("DELETE", f"/v1/rounds/{r}", None),
        ("POST", f"/v1/rounds/{r}/criteria", {"group_id": str(g), "name": "Baru", "weight": 0}),
        ("PATCH", f"/v1/rounds/{r}/criteria/{x}", {"weight": 90}),
        ("DELETE", f"/v1/rounds/{r}/criteria/{x}", None),
    ]


@pytest.mark.parametrize("status", PAST_DRAFT)
async def test_the_structure_is_frozen_once_registration_opens(
    w: World, status: CompetitionStatus
) -> None:
    parts = await frozen_edition(w, status)
    for method, path, body in structural_writes(parts):
        response = await conditional_request(w.client, method, path, json=body, headers=w.admin)
        # A closed or cancelled edition no longer changes at all; the others keep their profile.
        code = (
            "competition.final"
            if status in (S.closed, S.cancelled)
            else "competition.structure_frozen"
        )
        problem = assert_problem(response, 409, code)
        assert problem["current_status"] == status.value, f"{method} {path}"
        assert await w.events(response) == []
    for model, key in (
        (CompetitionGroup, "g"),
        (CompetitionCategory, "k"),
        (CompetitionRound, "r"),
        (RoundCriterion, "x"),
    ):
        stored = await w.stored(model, parts[key].id)
        assert stored is not None
        assert stored.version == 1


async def test_opening_registration_freezes_what_the_draft_allowed(w: World) -> None:
    draft = await w.competition(
        S.draft,
        registration_opens_at=now() - timedelta(days=1),
        registration_closes_at=now() + timedelta(days=30),
    )
    group, category, round_ = await w.kipp_2023(draft)
    criterion = await w.session.scalar(
        select(RoundCriterion).where(
            RoundCriterion.round_id == round_.id, RoundCriterion.position == 1
        )
    )
    parts = {"c": draft, "g": group, "k": category, "r": round_, "x": criterion}
    for method, path, body in structural_writes(parts)[:1]:
        # While a draft, the writes go through (one of them, to keep the structure complete).
        response = await conditional_request(w.client, method, path, json=body, headers=w.admin)
        assert response.status_code == 201, response.text
        await w.client.delete(
            f"{path}/{response.json()['id']}",
            headers=await if_match(w.client, f"{path}/{response.json()['id']}", w.admin),
        )
    opened = await w.client.post(
        f"/v1/competitions/{draft.id}/transitions",
        json={"action": "open_registration"},
        headers=w.admin,
    )
    assert opened.status_code == 200, opened.text
    for method, path, body in structural_writes(parts):
        response = await conditional_request(w.client, method, path, json=body, headers=w.admin)
        assert_problem(response, 409, "competition.structure_frozen")


# --- the structure is read as its edition is ------------------------------------------------


def structure_reads(p: dict[str, Any]) -> list[str]:
    c, g, k, r, x = p["c"].id, p["g"].id, p["k"].id, p["r"].id, p["x"].id
    return [
        f"/v1/competitions/{c}/groups",
        f"/v1/competitions/{c}/groups/{g}",
        f"/v1/competitions/{c}/categories",
        f"/v1/competitions/{c}/categories/{k}",
        f"/v1/competitions/{c}/rounds",
        f"/v1/rounds/{r}",
        f"/v1/rounds/{r}/criteria",
        f"/v1/rounds/{r}/criteria/{x}",
    ]


async def test_a_drafts_structure_is_hidden_like_the_draft(w: World) -> None:
    national = await frozen_edition(w, S.draft)
    provincial = await frozen_edition(w, S.draft, w.hub_sumut)
    others = [{}, await w.hub_admin(w.hub_jatim), *(await w.callers()).values()]
    for path in structure_reads(national):
        assert (await w.client.get(path, headers=w.admin)).status_code == 200, path
        assert (await w.client.get(path, headers=await w.hub_admin())).status_code == 404, path
        for headers in others:
            assert (await w.client.get(path, headers=headers)).status_code == 404, path
    for path in structure_reads(provincial):
        assert (await w.client.get(path, headers=w.admin)).status_code == 200, path
        assert (await w.client.get(path, headers=await w.hub_admin())).status_code == 200, path
        for headers in others:
            assert (await w.client.get(path, headers=headers)).status_code == 404, path


@pytest.mark.parametrize("status", PAST_DRAFT)
async def test_the_structure_of_an_edition_past_its_draft_is_public(
    w: World, status: CompetitionStatus
) -> None:
    parts = await frozen_edition(w, status)
    reads = structure_reads(parts)
    for path in reads:
        response = await w.client.get(path)
        assert response.status_code == 200, f"{path}: {response.text}"
        if "items" in response.json():
            assert len(response.json()["items"]) == 1, path
        else:
            assert response.headers["ETag"] == '"1"'


async def test_the_public_lists_criteria_by_group(w: World) -> None:
    competition: Competition = await w.competition(S.registration_open)
    umum = await w.group(competition, "umum")
    replikasi = await w.group(competition, "replikasi")
    round_ = await w.round(competition)
    await w.criterion(round_, umum, 60, position=1, name="Dampak")
    await w.criterion(round_, umum, 40, position=2, name="Kebaruan")
    await w.criterion(round_, replikasi, 100, position=1, name="Kesesuaian")
    path = f"/v1/rounds/{round_.id}/criteria"
    only = items(await w.client.get(path, params={"group_id": str(replikasi.id)}))
    assert [c["name"] for c in only] == ["Kesesuaian"]
    umum_only = items(await w.client.get(path, params={"group_id": str(umum.id)}))
    assert [c["name"] for c in umum_only] == ["Dampak", "Kebaruan"]
    assert items(await w.client.get(path, params={"group_id": str(uuid.uuid4())})) == []
