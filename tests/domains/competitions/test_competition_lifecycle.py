"""The edition's status machine: draft -> registration_open -> registration_closed -> evaluation
-> results_published -> closed, cancelled (with a reason) from any state before results; 409
for a wrong step; registration opens only on a complete structure (every problem named), and
the readiness check says the same before anyone tries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.models.competitions import Competition
from app.models.enums import CompetitionStatus
from tests.domains import assert_problem
from tests.domains.competitions.conftest import KIPP_2023_UMUM, World, close_rounds, now

S = CompetitionStatus
# Each forward step: the status it leaves and the status it reaches.
FORWARD = {
    "open_registration": (S.draft, S.registration_open),
    "close_registration": (S.registration_open, S.registration_closed),
    "start_evaluation": (S.registration_closed, S.evaluation),
    "publish_results": (S.evaluation, S.results_published),
    "close": (S.results_published, S.closed),
}
CANCELLABLE = (S.draft, S.registration_open, S.registration_closed, S.evaluation)
ACTIONS = (*FORWARD, "cancel")


def allowed(status: CompetitionStatus) -> list[str]:
    """The actions a status allows, in the machine's order."""
    found = [action for action, (source, _) in FORWARD.items() if source is status]
    return found + (["cancel"] if status in CANCELLABLE else [])


def is_legal(status: CompetitionStatus, action: str) -> bool:
    return action in allowed(status)


async def step(
    w: World, competition: Competition, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    return await w.client.post(
        f"/v1/competitions/{competition.id}/transitions", json=body, headers=headers or w.admin
    )


async def readiness(
    w: World, competition: Competition, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await w.client.get(
        f"/v1/competitions/{competition.id}/readiness", headers=headers or w.admin
    )


async def competition_at(w: World, status: CompetitionStatus) -> Competition:
    """An edition at `status`; a draft with a structure registration can open with."""
    return await w.ready() if status is S.draft else await w.competition(status)


# --- the legal steps ------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(FORWARD))
async def test_each_forward_step_moves_the_edition(w: World, action: str) -> None:
    source, target = FORWARD[action]
    competition = await competition_at(w, source)
    response = await step(w, competition, action=action)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["version"]) == (target.value, 2)
    assert response.headers["ETag"] == '"2"'
    stored = await w.stored(Competition, competition.id)
    assert stored is not None
    assert (stored.status, stored.version) == (target, 2)
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        action,
        "competition",
        str(competition.id),
    )
    assert event.changes["status"] == {"before": source.value, "after": target.value}
    assert event.institution_id == w.kemenpan.id
    assert "reason" not in event.changes


async def test_a_step_keeps_its_reason_in_the_trail(w: World) -> None:
    competition = await w.competition(S.registration_open)
    response = await step(
        w, competition, action="close_registration", reason="Batas waktu pendaftaran berakhir."
    )
    assert response.status_code == 200, response.text
    assert response.json()["cancellation_reason"] is None
    (event,) = await w.events(response)
    assert event.changes["reason"] == {"before": None, "after": "Batas waktu pendaftaran berakhir."}


@pytest.mark.parametrize("source", CANCELLABLE)
async def test_an_edition_is_cancelled_with_a_reason_before_results(
    w: World, source: CompetitionStatus
) -> None:
    competition = await w.competition(source)
    before = datetime.now(UTC)
    reason = "KIPP 2024 diganti pemantauan keberlanjutan inovasi."
    response = await step(w, competition, action="cancel", reason=reason)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["cancellation_reason"], body["version"]) == (
        "cancelled",
        reason,
        2,
    )
    cancelled_at = datetime.fromisoformat(body["cancelled_at"])
    assert before - timedelta(seconds=5) <= cancelled_at <= datetime.now(UTC) + timedelta(seconds=5)
    stored = await w.stored(Competition, competition.id)
    assert stored is not None
    assert (stored.status, stored.cancellation_reason) == (S.cancelled, reason)
    assert stored.cancelled_at is not None
    (event,) = await w.events(response)
    assert event.action == "cancel"
    assert event.changes["status"] == {"before": source.value, "after": "cancelled"}
    assert event.changes["cancellation_reason"] == {"before": None, "after": reason}
    assert event.changes["reason"] == {"before": None, "after": reason}


@pytest.mark.parametrize("body", [{}, {"reason": None}])
async def test_cancelling_needs_a_reason(w: World, body: dict[str, Any]) -> None:
    competition = await w.competition(S.registration_open)
    response = await step(w, competition, action="cancel", **body)
    assert_problem(response, 422, "competition.reason_required", pointer="/reason")
    stored = await w.stored(Competition, competition.id)
    assert stored is not None
    assert (stored.status, stored.version) == (S.registration_open, 1)
    assert await w.events(response) == []


async def test_a_blank_reason_is_no_reason(w: World) -> None:
    competition = await w.competition(S.draft)
    response = await step(w, competition, action="cancel", reason="   ")
    assert_problem(response, 422, "validation_failed", pointer="/reason")


@pytest.mark.parametrize("status", [S.results_published, S.closed, S.cancelled])
async def test_an_edition_with_results_or_final_is_not_cancelled(
    w: World, status: CompetitionStatus
) -> None:
    competition = await w.competition(status)
    response = await step(w, competition, action="cancel", reason="Terlambat.")
    problem = assert_problem(response, 409, "competition.invalid_transition")
    assert problem["current_status"] == status.value
    assert "cancel" not in problem["allowed_actions"]


async def test_an_edition_walks_the_whole_machine(w: World) -> None:
    competition = await w.ready()
    for action in FORWARD:
        if action == "publish_results":
            refused = await step(w, competition, action=action)
            problem = assert_problem(refused, 409, "competition.results_not_ready")
            assert problem["problems"][0]["code"] == "competition.rounds_open"
            assert "Rounds still open" in problem["problems"][0]["message"]
            await close_rounds(w, competition, w.admin)
        response = await step(w, competition, action=action)
        assert response.status_code == 200, f"{action}: {response.text}"
    body = response.json()
    assert (body["status"], body["version"]) == ("closed", 6)


# --- the wrong steps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "action"),
    [(source, action) for source in S for action in ACTIONS if not is_legal(source, action)],
)
async def test_a_wrong_step_is_409_naming_the_status_and_the_allowed_actions(
    w: World, source: CompetitionStatus, action: str
) -> None:
    competition = await competition_at(w, source)
    response = await step(w, competition, action=action, reason="Uji langkah yang salah.")
    problem = assert_problem(response, 409, "competition.invalid_transition")
    assert problem["current_status"] == source.value
    assert problem["allowed_actions"] == allowed(source)
    assert f"the competition is {source.value}" in problem["detail"]
    if not allowed(source):
        assert "final" in problem["detail"]
    stored = await w.stored(Competition, competition.id)
    assert stored is not None
    assert (stored.status, stored.version) == (source, 1)
    assert await w.events(response) == []


@pytest.mark.parametrize("body", [{}, {"action": "reopen"}, {"action": "open_registration",
                                                            "colour": "merah"}])  # fmt: skip
async def test_an_unknown_or_missing_action_is_422(w: World, body: dict[str, Any]) -> None:
    competition = await w.ready()
    response = await w.client.post(
        f"/v1/competitions/{competition.id}/transitions", json=body, headers=w.admin
    )
    assert_problem(response, 422, "validation_failed")


async def test_a_step_with_a_stale_if_match_is_412(w: World) -> None:
    competition = await w.competition(S.registration_open)
    response = await step(
        w, competition, {**w.admin, "If-Match": '"4"'}, action="close_registration"
    )
    assert_problem(response, 412, "competition.version_mismatch")
    fresh = await step(w, competition, {**w.admin, "If-Match": '"1"'}, action="close_registration")
    assert fresh.status_code == 200, fresh.text


async def test_a_step_on_an_unknown_edition_is_404(w: World) -> None:
    response = await w.client.post(
        f"/v1/competitions/{uuid.uuid4()}/transitions",
        json={"action": "close"},
        headers=w.admin,
    )
    assert_problem(response, 404, "competition.not_found")


# --- opening registration needs a complete structure ---------------------------------------


def codes(problems: list[dict[str, Any]]) -> list[str]:
    return [p["code"] for p in problems]


def weight_problems(problems: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [
        (p["round_id"], p["group_id"], p["weight_sum"])
        for p in problems
        if p["code"] == "competition.weights_not_100"
    ]


async def refused(w: World, competition: Competition) -> list[dict[str, Any]]:
    """Try to open registration: 409 not_ready, the edition still a draft, nothing recorded;
    the problems it named."""
    response = await step(w, competition, action="open_registration")
    problem = assert_problem(response, 409, "competition.not_ready")
    stored = await w.stored(Competition, competition.id)
    assert stored is not None
    assert (stored.status, stored.version) == (S.draft, competition.version)
    assert await w.events(response) == []
    problems: list[dict[str, Any]] = problem["problems"]
    for entry in problems:
        assert entry["message"] in problem["detail"]
    return problems


async def ready_check(w: World, competition: Competition) -> dict[str, Any]:
    response = await readiness(w, competition)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_empty_draft_names_every_missing_part(w: World) -> None:
    draft = await w.competition(S.draft)
    problems = await refused(w, draft)
    assert codes(problems) == [
        "competition.registration_window_missing",
        "competition.no_groups",
        "competition.no_categories",
        "competition.no_rounds",
    ]
    check = await ready_check(w, draft)
    assert check["ready"] is False
    assert codes(check["problems"]) == codes(problems)


@pytest.mark.parametrize("missing", ["registration_opens_at", "registration_closes_at"])
async def test_a_half_set_window_is_missing(w: World, missing: str) -> None:
    draft = await w.ready(**{missing: None})
    assert codes(await refused(w, draft)) == ["competition.registration_window_missing"]


async def test_a_deadline_that_has_passed_is_named(w: World) -> None:
    draft = await w.ready(
        registration_opens_at=datetime(2023, 1, 9, tzinfo=UTC),
        registration_closes_at=datetime(2023, 3, 31, 16, 59, 59, tzinfo=UTC),
    )
    assert codes(await refused(w, draft)) == ["competition.registration_deadline_passed"]
    check = await ready_check(w, draft)
    assert codes(check["problems"]) == ["competition.registration_deadline_passed"]


async def test_a_draft_without_groups_categories_or_rounds_names_each(w: World) -> None:
    window = {
        "registration_opens_at": now() - timedelta(days=1),
        "registration_closes_at": now() + timedelta(days=30),
    }
    no_groups = await w.competition(S.draft, **window)
    await w.category(no_groups)
    await w.round(no_groups)
    no_categories = await w.competition(S.draft, **window)
    group = await w.group(no_categories)
    round_ = await w.round(no_categories)
    await w.criterion(round_, group, 100)
    no_rounds = await w.competition(S.draft, **window)
    await w.group(no_rounds)
    await w.category(no_rounds)
    assert codes(await refused(w, no_groups)) == ["competition.no_groups"]
    assert codes(await refused(w, no_categories)) == ["competition.no_categories"]
    assert codes(await refused(w, no_rounds)) == ["competition.no_rounds"]


async def test_every_round_and_group_whose_weights_miss_100_is_named(w: World) -> None:
    draft = await w.competition(
        S.draft,
        registration_opens_at=now() - timedelta(days=1),
        registration_closes_at=now() + timedelta(days=30),
    )
    umum = await w.group(draft, "umum")
    replikasi = await w.group(
        draft, "replikasi", requires_source_innovation=True, source_award_tiers=["top_45"]
    )
    await w.category(draft)
    desk = await w.round(draft, 1, name="Evaluasi Proposal")
    interview = await w.round(draft, 2, name="Wawancara", advance_quota=45)
    for position, (name, weight) in enumerate(KIPP_2023_UMUM, start=1):
        await w.criterion(desk, umum, weight, name=name, position=position)
    await w.criterion(desk, replikasi, 60, name="Kesesuaian", position=1)
    await w.criterion(desk, replikasi, 30, name="Dampak", position=2)
    await w.criterion(interview, umum, 70, name="Presentasi", position=1)
    await w.criterion(interview, umum, 40, name="Tanya Jawab", position=2)

    problems = await refused(w, draft)
    assert set(codes(problems)) == {"competition.weights_not_100"}
    # By round position, then group code; a pair without criteria sums to 0.
    assert weight_problems(problems) == [
        (str(desk.id), str(replikasi.id), 90),
        (str(interview.id), str(replikasi.id), 0),
        (str(interview.id), str(umum.id), 110),
    ]
    messages = [p["message"] for p in problems]
    assert "Round 1 (Evaluasi Proposal), group replikasi: weights sum to 90" in messages[0]
    assert "has no criteria" in messages[1]
    check = await ready_check(w, draft)
    assert check["ready"] is False
    assert weight_problems(check["problems"]) == weight_problems(problems)
    assert [p["message"] for p in check["problems"]] == messages


async def test_readiness_lists_the_same_problems_as_the_refusal(w: World) -> None:
    draft = await w.competition(S.draft)  # no window
    group = await w.group(draft)
    round_ = await w.round(draft)
    await w.criterion(round_, group, 50)
    problems = await refused(w, draft)
    check = await ready_check(w, draft)
    assert codes(problems) == [
        "competition.registration_window_missing",
        "competition.no_categories",
        "competition.weights_not_100",
    ]
    assert codes(check["problems"]) == codes(problems)
    assert weight_problems(check["problems"]) == weight_problems(problems)
    assert weight_problems(problems) == [(str(round_.id), str(group.id), 50)]
    # Problems not about a round and group name none.
    window = check["problems"][0]
    assert (window["round_id"], window["group_id"], window["weight_sum"]) == (None, None, None)


async def test_the_kipp_2023_general_group_opens_registration(w: World) -> None:
    draft = await w.ready()
    check = await ready_check(w, draft)
    assert check == {"ready": True, "problems": []}
    response = await step(w, draft, action="open_registration")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "registration_open"


async def test_a_criterion_may_weigh_nothing(w: World) -> None:
    draft = await w.ready()
    assert sum(weight for _, weight in KIPP_2023_UMUM) == 100
    assert min(weight for _, weight in KIPP_2023_UMUM) == 0
    assert (await ready_check(w, draft))["ready"] is True


async def test_kipp_2023_is_built_through_the_api_and_opens(w: World) -> None:
    """The secretariat sets up KIPP 2023's general group end to end and opens registration."""
    client, admin = w.client, w.admin
    created = await client.post(
        "/v1/competitions",
        headers=admin,
        json={
            "code": "KIPP-2023",
            "name": "Kompetisi Inovasi Pelayanan Publik 2023",
            "year": 2023,
            "organiser_institution_id": str(w.kemenpan.id),
            "registration_opens_at": (now() - timedelta(days=1)).isoformat(),
            "registration_closes_at": (now() + timedelta(days=60)).isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    group = await client.post(
        f"/v1/competitions/{cid}/groups",
        headers=admin,
        json={"code": "umum", "name": "Kelompok Umum", "min_implementation_months": 24,
              "max_submissions_per_institution": 10, "ineligible_award_tiers": ["top_45"]},
    )  # fmt: skip
    assert group.status_code == 201, group.text
    category = await client.post(
        f"/v1/competitions/{cid}/categories",
        headers=admin,
        json={"code": "pelayanan_publik", "name": "Pelayanan Publik"},
    )
    assert category.status_code == 201, category.text
    round_ = await client.post(
        f"/v1/competitions/{cid}/rounds",
        headers=admin,
        json={"kind": "desk_evaluation", "name": "Evaluasi Proposal", "advance_quota": 99},
    )
    assert round_.status_code == 201, round_.text
    rid = round_.json()["id"]
    assert round_.json()["position"] == 1
    not_yet = await client.get(f"/v1/competitions/{cid}/readiness", headers=admin)
    assert codes(not_yet.json()["problems"]) == ["competition.weights_not_100"]
    for name, weight in KIPP_2023_UMUM:
        criterion = await client.post(
            f"/v1/rounds/{rid}/criteria",
            headers=admin,
            json={"group_id": group.json()["id"], "name": name, "weight": weight},
        )
        assert criterion.status_code == 201, criterion.text
    listed = await client.get(f"/v1/rounds/{rid}/criteria", params={"limit": 100})
    assert listed.status_code == 404  # still a draft: not public
    listed = await client.get(f"/v1/rounds/{rid}/criteria", params={"limit": 100}, headers=admin)
    items = listed.json()["items"]
    assert [(c["position"], c["name"], c["weight"]) for c in items] == [
        (position, name, weight) for position, (name, weight) in enumerate(KIPP_2023_UMUM, start=1)
    ]
    ready = await client.get(f"/v1/competitions/{cid}/readiness", headers=admin)
    assert ready.json() == {"ready": True, "problems": []}
    opened = await client.post(
        f"/v1/competitions/{cid}/transitions",
        headers={**admin, "If-Match": created.headers["ETag"]},
        json={"action": "open_registration"},
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "registration_open"
    # Now the public sees the edition and its structure.
    assert (await client.get(f"/v1/competitions/{cid}")).status_code == 200
    public = await client.get(f"/v1/rounds/{rid}/criteria", params={"limit": 100})
    assert len(public.json()["items"]) == len(KIPP_2023_UMUM)


# --- who reads the readiness ----------------------------------------------------------------


async def test_readiness_is_for_those_who_run_the_edition(w: World) -> None:
    national = await w.competition(S.draft)
    provincial = await w.ready(w.hub_sumut)
    assert (await readiness(w, provincial, await w.hub_admin(w.hub_sumut))).json()["ready"]
    assert_problem(
        await readiness(w, provincial, await w.hub_admin(w.hub_jatim)), 404, "competition.not_found"
    )
    assert_problem(
        await readiness(w, national, await w.hub_admin(w.hub_sumut)), 404, "competition.not_found"
    )
    public = await w.competition(S.registration_open)
    assert_problem(
        await readiness(w, public, await w.hub_admin(w.hub_sumut)), 403, "competition.out_of_scope"
    )
    for headers in (await w.callers()).values():
        assert_problem(await readiness(w, public, headers), 403, "auth.role_forbidden")
    response = await w.client.get(f"/v1/competitions/{public.id}/readiness")
    assert_problem(response, 401, "auth.required")


async def test_readiness_records_nothing(w: World) -> None:
    draft = await w.ready()
    response = await readiness(w, draft)
    assert response.status_code == 200, response.text
    assert await w.events(response) == []
