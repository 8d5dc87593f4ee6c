"""A submission's life through the API: the draft (create, patch with If-Match, delete), every
step of the machine allowed and refused, who may take each step, the audit trail of each step,
and the drafts that expire when registration closes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.models.enums import CompetitionStatus, Role, SubmissionStatus
from app.models.submissions import Submission
from tests.domains import assert_problem
from tests.domains.submissions.conftest import PATH, World, forbidden

S = CompetitionStatus
ACTIONS = ("submit", "approve", "return", "withdraw", "screen")
# What each status allows.
ALLOWED: dict[str, set[str]] = {
    "draft": {"submit"},
    "awaiting_local_admin": {"approve", "return", "withdraw"},
    "returned": {"submit", "withdraw"},
    "submitted": {"withdraw", "screen"},
    "screened_in": {"withdraw"},
    "screened_out": set(),
    "withdrawn": set(),
    "expired": set(),
}
STEP_BODIES: dict[str, dict[str, Any]] = {
    "submit": {},
    "approve": {},
    "return": {"reason": "Lengkapi bukti dukung."},
    "withdraw": {"reason": "Tidak jadi ikut."},
    "screen": {"outcome": "in"},
}


def recent(value: str | None) -> bool:
    if value is None:
        return False
    moment = datetime.fromisoformat(value)
    return abs(datetime.now(UTC) - moment) < timedelta(minutes=1)


async def submission_event(w: World, response: httpx.Response, action: str) -> Any:
    """The one submission event the request wrote, with this action."""
    events = [e for e in await w.events(response) if e.entity_type == "submission"]
    assert len(events) == 1, [(e.action, e.entity_type) for e in events]
    (event,) = events
    assert event.action == action
    assert event.institution_id == w.medan.id
    return event


def actor(w: World, action: str) -> dict[str, str]:
    """A caller allowed to take `action` on Medan's national entries."""
    return {
        "submit": w.operator,
        "approve": w.local,
        "return": w.local,
        "withdraw": w.operator,
        "screen": w.admin,
    }[action]


async def at_status(w: World, status: str) -> dict[str, Any]:
    """A Medan entry in the open KIPP edition at `status` (expired: in another edition whose
    registration was closed)."""
    if status != "expired":
        return await w.at(status)
    edition = await w.edition()
    draft = await w.draft(await w.innovation(), edition=edition)
    response = await w.client.post(
        f"/v1/competitions/{edition.id}/transitions",
        json={"action": "close_registration"},
        headers=w.admin,
    )
    assert response.status_code == 200, response.text
    got: dict[str, Any] = (await w.get(draft["id"])).json()
    assert got["status"] == "expired"
    return got


# --- the draft ------------------------------------------------------------------------------


async def test_an_operator_creates_a_draft(w: World) -> None:
    response = await w.create()
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["ETag"] == '"1"'
    expected = {
        "competition_id": str(w.kipp.id),
        "group_id": str(w.kipp.umum.id),
        "category_id": str(w.kipp.category.id),
        "innovation_id": str(w.inov.id),
        "innovation_title": "SIKULIN",
        "institution_id": str(w.medan.id),
        "unit_id": str(w.medan_unit.id),
        "source_innovation_id": None,
        "status": "draft",
        "round_id": None,
        "sent_at": None,
        "submitted_at": None,
        "screened_at": None,
        "screening_outcome": None,
        "version": 1,
    }
    assert {k: body[k] for k in expected} == expected
    # Answers come back in the criteria's order.
    assert body["answers"] == w.kipp.answers()
    row = await w.row(body["id"])
    assert (row.status, row.institution_id, row.unit_id) == (
        SubmissionStatus.draft,
        w.medan.id,
        w.medan_unit.id,
    )
    assert len(await w.answers_of(body["id"])) == 8
    event = await submission_event(w, response, "create")
    assert event.entity_id == body["id"]


async def test_a_local_admin_creates_a_draft_for_another_unit_of_its_institution(
    w: World,
) -> None:
    innovation = await w.innovation(w.medan_unit2)
    body = await w.draft(innovation, w.local, answers=[])
    assert (body["unit_id"], body["answers"]) == (str(w.medan_unit2.id), [])


@pytest.mark.parametrize("caller", ["other_unit_operator", "other_local_admin"])
async def test_an_innovation_the_caller_does_not_own_is_403(w: World, caller: str) -> None:
    headers = {"other_unit_operator": w.operator2, "other_local_admin": w.local_sby}[caller]
    response = await w.create(w.inov, headers)
    assert_problem(response, 403, "submission.out_of_scope")
    assert await w.count() == 0
    assert await w.events(response) == []


async def test_an_unknown_innovation_is_422(w: World) -> None:
    response = await w.create(w.inov, w.operator, innovation_id=str(uuid.uuid4()))
    assert_problem(response, 422, "submission.innovation_not_found", pointer="/innovation_id")
    assert await w.count() == 0
    assert await w.events(response) == []


@pytest.mark.parametrize("role", ["secretariat", "hub_admin", "evaluator", "regional_system"])
async def test_roles_that_do_not_enter_innovations_cannot_create(w: World, role: str) -> None:
    headers = {
        "secretariat": w.admin,
        "hub_admin": w.hub_admin_sumut,
        "evaluator": w.evaluator,
        "regional_system": w.regional,
    }[role]
    forbidden(await w.create(w.inov, headers))
    assert await w.count() == 0


async def test_an_anonymous_caller_cannot_create(w: World) -> None:
    response = await w.client.post(PATH, json={})
    assert_problem(response, 401, "auth.required")


async def test_patch_with_the_get_etag_replaces_the_answers_and_the_category(w: World) -> None:
    digital = await w.category(w.kipp.competition, "digital")
    draft = await w.draft()
    tag = await w.etag(draft["id"])
    assert tag == '"1"'
    first_two = w.kipp.answers()[:2]
    first_two[0]["text"] = "Ringkasan baru."
    response = await w.client.patch(
        f"{PATH}/{draft['id']}",
        json={"category_id": str(digital.id), "answers": first_two},
        headers={**w.operator, "If-Match": tag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["category_id"], body["version"]) == (str(digital.id), 2)
    assert response.headers["ETag"] == '"2"'
    assert body["answers"] == first_two
    stored = await w.answers_of(draft["id"])
    assert stored == {a["criterion_id"]: a["text"] for a in first_two}
    assert (await w.row(draft["id"])).category_id == digital.id
    event = await submission_event(w, response, "update")
    assert event.entity_id == draft["id"]


async def test_patch_with_a_stale_etag_is_412_and_changes_nothing(w: World) -> None:
    draft = await w.draft()
    response = await w.client.patch(
        f"{PATH}/{draft['id']}", json={"answers": []}, headers={**w.operator, "If-Match": '"7"'}
    )
    problem = assert_problem(response, 412, "submission.version_mismatch")
    assert problem["current_version"] == 1
    assert len(await w.answers_of(draft["id"])) == 8
    assert (await w.row(draft["id"])).version == 1


@pytest.mark.parametrize("caller", ["other_unit_operator", "other_local_admin"])
async def test_another_units_operator_or_institution_cannot_patch(w: World, caller: str) -> None:
    draft = await w.draft()
    headers = w.operator2 if caller == "other_unit_operator" else w.local_sby
    response = await w.client.patch(
        f"{PATH}/{draft['id']}", json={"answers": []}, headers={**headers, "If-Match": '"1"'}
    )
    if caller == "other_unit_operator":  # same institution: it may read the entry
        forbidden(response)
    else:
        assert_problem(response, 404, "submission.not_found")
    assert len(await w.answers_of(draft["id"])) == 8


async def test_a_draft_is_deleted(w: World) -> None:
    draft = await w.draft()
    response = await w.client.delete(
        f"{PATH}/{draft['id']}", headers={**w.operator, "If-Match": '"1"'}
    )
    assert response.status_code == 204, response.text
    assert await w.stored(Submission, draft["id"]) is None
    assert_problem(await w.get(draft["id"]), 404, "submission.not_found")
    event = await submission_event(w, response, "delete")
    assert event.entity_id == draft["id"]
    # The innovation's place in the edition is free again.
    assert (await w.create()).status_code == 201


async def test_deleting_with_a_stale_etag_is_412(w: World) -> None:
    draft = await w.draft()
    response = await w.client.delete(
        f"{PATH}/{draft['id']}", headers={**w.operator, "If-Match": '"2"'}
    )
    assert_problem(response, 412, "submission.version_mismatch")
    assert await w.stored(Submission, draft["id"]) is not None


@pytest.mark.parametrize("status", ["awaiting_local_admin", "returned", "submitted", "withdrawn"])
async def test_only_a_draft_is_deleted(w: World, status: str) -> None:
    entry = await w.at(status, w.inov)
    tag = f'"{entry["version"]}"'
    response = await w.client.delete(f"{PATH}/{entry['id']}", headers={**w.local, "If-Match": tag})
    assert_problem(response, 409, "submission.not_draft")
    row = await w.row(entry["id"])
    assert (row.status.value, row.version) == (status, entry["version"])
    assert await w.events(response) == []


# --- the steps ------------------------------------------------------------------------------


async def test_submit_sends_the_draft_to_the_local_admin(w: World) -> None:
    draft = await w.draft()
    response = await w.step(draft["id"], "submit", w.operator)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["round_id"], body["version"]) == ("awaiting_local_admin", None, 2)
    assert recent(body["sent_at"])
    assert body["submitted_at"] is None
    assert response.headers["ETag"] == '"2"'
    row = await w.row(draft["id"])
    assert (row.status, row.sent_at is not None) == (SubmissionStatus.awaiting_local_admin, True)
    event = await submission_event(w, response, "submit")
    assert event.changes["status"] == {"before": "draft", "after": "awaiting_local_admin"}


async def test_a_local_admin_may_send_its_own_draft_too(w: World) -> None:
    draft = await w.draft()
    body = await w.ok(draft["id"], "submit", w.local)
    assert body["status"] == "awaiting_local_admin"


async def test_approve_submits_the_entry_into_the_first_round(w: World) -> None:
    entry = await w.at("awaiting_local_admin", w.inov)
    response = await w.step(entry["id"], "approve", w.local)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["round_id"]) == ("submitted", str(w.kipp.round1.id))
    assert recent(body["submitted_at"])
    row = await w.row(entry["id"])
    assert (row.status, row.round_id) == (SubmissionStatus.submitted, w.kipp.round1.id)
    event = await submission_event(w, response, "approve")
    assert event.changes["status"] == {"before": "awaiting_local_admin", "after": "submitted"}


async def test_return_keeps_the_reason_and_the_entry_goes_back_round(w: World) -> None:
    entry = await w.at("awaiting_local_admin", w.inov)
    response = await w.step(entry["id"], "return", w.local, reason="Lengkapi bukti dukung.")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["return_reason"]) == ("returned", "Lengkapi bukti dukung.")
    event = await submission_event(w, response, "return")
    assert event.changes["status"] == {"before": "awaiting_local_admin", "after": "returned"}
    again = await w.ok(entry["id"], "submit", w.operator)
    assert again["status"] == "awaiting_local_admin"
    approved = await w.ok(entry["id"], "approve", w.local)
    assert approved["status"] == "submitted"


@pytest.mark.parametrize("body", [{}, {"reason": None}])
async def test_return_needs_a_reason(w: World, body: dict[str, Any]) -> None:
    entry = await w.at("awaiting_local_admin", w.inov)
    response = await w.step(entry["id"], "return", w.local, **body)
    assert_problem(response, 422, "submission.reason_required")
    row = await w.row(entry["id"])
    assert (row.status, row.version) == (SubmissionStatus.awaiting_local_admin, 2)
    assert await w.events(response) == []


@pytest.mark.parametrize(
    ("status", "who"),
    [
        ("awaiting_local_admin", "operator"),
        ("returned", "local"),
        ("submitted", "local"),
        ("screened_in", "operator"),
    ],
)
async def test_withdraw_from_every_status_that_allows_it(w: World, status: str, who: str) -> None:
    entry = await w.at(status, w.inov)
    headers = w.operator if who == "operator" else w.local
    response = await w.step(entry["id"], "withdraw", headers, reason="Fokus ke tahun depan.")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["withdrawal_reason"]) == ("withdrawn", "Fokus ke tahun depan.")
    assert recent(body["withdrawn_at"])
    row = await w.row(entry["id"])
    assert (row.status, row.withdrawn_at is not None) == (SubmissionStatus.withdrawn, True)
    event = await submission_event(w, response, "withdraw")
    assert event.changes["status"] == {"before": status, "after": "withdrawn"}
    # A withdrawn entry frees the innovation's place.
    assert (await w.create()).status_code == 201


async def test_withdraw_needs_no_reason(w: World) -> None:
    entry = await w.at("submitted", w.inov)
    body = await w.ok(entry["id"], "withdraw", w.operator)
    assert (body["status"], body["withdrawal_reason"]) == ("withdrawn", None)


@pytest.mark.parametrize("edition_status", [S.results_published, S.closed, S.cancelled])
async def test_withdraw_is_refused_once_results_are_published(
    w: World, edition_status: CompetitionStatus
) -> None:
    entry = await w.at("screened_in", w.inov)
    await w.set_status(w.kipp, edition_status)
    response = await w.step(entry["id"], "withdraw", w.operator)
    code = (
        "submission.competition_cancelled"
        if edition_status is S.cancelled
        else "submission.results_published"
    )
    assert_problem(response, 409, code)
    row = await w.row(entry["id"])
    assert (row.status, row.version) == (SubmissionStatus.screened_in, entry["version"])
    assert await w.events(response) == []


async def test_screen_in(w: World) -> None:
    entry = await w.at("submitted", w.inov)
    response = await w.step(entry["id"], "screen", w.admin, outcome="in", reason="Lengkap.")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["screening_outcome"], body["screening_reason"]) == (
        "screened_in",
        "in",
        None,
    )
    assert body["screening_note"] == "Lengkap."
    assert recent(body["screened_at"])
    event = await submission_event(w, response, "screen")
    assert event.changes["status"] == {"before": "submitted", "after": "screened_in"}


async def test_screen_out_keeps_the_reason_and_the_note(w: World) -> None:
    entry = await w.at("submitted", w.inov)
    body = await w.ok(
        entry["id"],
        "screen",
        w.admin,
        outcome="out",
        screening_reason="duplicate_title",
        reason="Sama dengan proposal Dinas Kominfo.",
    )
    assert (body["status"], body["screening_outcome"], body["screening_reason"]) == (
        "screened_out",
        "out",
        "duplicate_title",
    )
    assert body["screening_note"] == "Sama dengan proposal Dinas Kominfo."
    row = await w.row(entry["id"])
    assert (row.status, row.screening_reason.value if row.screening_reason else None) == (
        SubmissionStatus.screened_out,
        "duplicate_title",
    )


async def test_screen_out_needs_a_screening_reason(w: World) -> None:
    entry = await w.at("submitted", w.inov)
    response = await w.step(entry["id"], "screen", w.admin, outcome="out", reason="Kurang.")
    assert_problem(response, 422, "submission.screening_reason_required")
    row = await w.row(entry["id"])
    assert (row.status, row.screened_at) == (SubmissionStatus.submitted, None)


async def test_screening_goes_on_after_registration_closes(w: World) -> None:
    entry = await w.at("submitted", w.inov)
    await w.set_status(w.kipp, S.registration_closed)
    body = await w.ok(entry["id"], "screen", w.admin, outcome="in")
    assert body["status"] == "screened_in"


@pytest.mark.parametrize("edition_status", [S.evaluation, S.results_published])
async def test_screening_is_closed_once_evaluation_starts(
    w: World, edition_status: CompetitionStatus
) -> None:
    entry = await w.at("submitted", w.inov)
    await w.set_status(w.kipp, edition_status)
    response = await w.step(entry["id"], "screen", w.admin, outcome="in")
    assert_problem(response, 409, "submission.screening_closed")
    assert (await w.row(entry["id"])).status is SubmissionStatus.submitted


@pytest.mark.parametrize("status", list(ALLOWED))
async def test_a_step_the_status_does_not_allow_is_409(w: World, status: str) -> None:
    entry = await at_status(w, status)
    for action in (a for a in ACTIONS if a not in ALLOWED[status]):
        response = await w.step(entry["id"], action, actor(w, action), **STEP_BODIES[action])
        problem = assert_problem(response, 409, "submission.invalid_transition")
        assert problem["current_status"] == status
        assert set(problem["allowed_actions"]) == ALLOWED[status], action
        row = await w.row(entry["id"])
        assert (row.status.value, row.version) == (status, entry["version"])
        assert await w.events(response) == []


async def test_a_step_with_a_stale_if_match_is_412(w: World) -> None:
    draft = await w.draft()
    response = await w.client.post(
        f"{PATH}/{draft['id']}/transitions",
        json={"action": "submit"},
        headers={**w.operator, "If-Match": '"5"'},
    )
    assert_problem(response, 412, "submission.version_mismatch")
    assert (await w.row(draft["id"])).status is SubmissionStatus.draft


async def test_an_unknown_action_is_422(w: World) -> None:
    draft = await w.draft()
    response = await w.client.post(
        f"{PATH}/{draft['id']}/transitions", json={"action": "publish"}, headers=w.operator
    )
    assert_problem(response, 422, "validation_failed")


# --- who ------------------------------------------------------------------------------------

# (action, the status it starts from) -> callers refused: 403 for those who may read the entry
# but not take the step, 404 for those who may not read it.
REFUSED: dict[tuple[str, str], dict[str, int]] = {
    ("submit", "draft"): {
        "operator2": 403,
        "regional": 403,
        "admin": 403,
        "operator_sby": 404,
        "local_sby": 404,
        "hub_admin_sumut": 404,
        "evaluator": 403,  # the policy admits no evaluator to any step
    },
    ("approve", "awaiting_local_admin"): {
        "operator": 403,
        "operator2": 403,
        "regional": 403,
        "admin": 403,
        "local_sby": 404,
    },
    ("return", "awaiting_local_admin"): {"operator": 403, "admin": 403, "local_sby": 404},
    ("withdraw", "submitted"): {"admin": 403, "operator2": 403, "local_sby": 404},
    ("screen", "submitted"): {
        "local": 403,
        "operator": 403,
        "hub_admin_sumut": 404,
        "evaluator": 403,
        "operator_sby": 404,
    },
}


@pytest.mark.parametrize(("action", "status"), list(REFUSED))
async def test_who_may_not_take_a_step(w: World, action: str, status: str) -> None:
    entry = await w.at(status, w.inov)
    for caller, expected in REFUSED[action, status].items():
        headers: dict[str, str] = getattr(w, caller)
        response = await w.step(entry["id"], action, headers, **STEP_BODIES[action])
        assert response.status_code == expected, (caller, response.text)
        if expected == 404:
            assert_problem(response, 404, "submission.not_found")
        elif caller in ("regional", "evaluator"):  # roles that never take a step
            assert_problem(response, 403, "auth.role_forbidden")
        else:  # a person who sees the entry but may not take this step
            assert_problem(response, 403, "submission.out_of_scope")
        row = await w.row(entry["id"])
        assert (row.status.value, row.version) == (status, entry["version"])
        assert await w.events(response) == []


async def test_the_hub_admin_runs_its_provincial_edition(w: World) -> None:
    edition = await w.edition(hub=w.hub_sumut)
    entry = await w.move(await w.draft(w.inov, edition=edition), "submitted")
    other_hub = await w.auth(Role.hub_admin, hub_id=w.hub_jatim.id)
    response = await w.step(entry["id"], "screen", other_hub, outcome="in")
    assert_problem(response, 404, "submission.not_found")
    response = await w.step(entry["id"], "screen", w.hub_admin_sumut, outcome="in")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "screened_in"
    await submission_event(w, response, "screen")


async def test_the_secretariat_may_screen_a_provincial_edition_too(w: World) -> None:
    edition = await w.edition(hub=w.hub_sumut)
    entry = await w.move(await w.draft(w.inov, edition=edition), "submitted")
    body = await w.ok(entry["id"], "screen", w.admin, outcome="out", screening_reason="other")
    assert body["status"] == "screened_out"


# --- the audit trail ------------------------------------------------------------------------


async def test_every_step_leaves_one_event_with_its_reason(w: World) -> None:
    draft = await w.draft()
    walk = [
        ("submit", w.operator, {}, "draft", "awaiting_local_admin"),
        ("return", w.local, {"reason": "Perbaiki."}, "awaiting_local_admin", "returned"),
        ("submit", w.local, {}, "returned", "awaiting_local_admin"),
        ("approve", w.local, {}, "awaiting_local_admin", "submitted"),
        ("screen", w.admin, {"outcome": "in"}, "submitted", "screened_in"),
        ("withdraw", w.operator, {"reason": "Mundur."}, "screened_in", "withdrawn"),
    ]
    for version, (action, headers, body, before, after) in enumerate(walk, start=2):
        response = await w.step(draft["id"], action, headers, **body)
        assert response.status_code == 200, f"{action}: {response.text}"
        assert response.json()["version"] == version
        event = await submission_event(w, response, action)
        assert event.entity_id == draft["id"]
        assert event.changes["status"] == {"before": before, "after": after}
        if "reason" in body:
            assert body["reason"] in str(event.changes)


# --- expiry ---------------------------------------------------------------------------------


async def test_closing_registration_expires_what_never_reached_the_secretariat(
    w: World,
) -> None:
    edition = w.kipp
    entries = {status: await w.at(status) for status in ALLOWED if status != "expired"}
    response = await w.client.post(
        f"/v1/competitions/{edition.id}/transitions",
        json={"action": "close_registration"},
        headers=w.admin,
    )
    assert response.status_code == 200, response.text
    expiring = {"draft", "returned", "awaiting_local_admin"}
    for status, entry in entries.items():
        row = await w.row(entry["id"])
        if status in expiring:
            assert row.status is SubmissionStatus.expired, status
            assert row.expired_at is not None
        else:
            assert (row.status.value, row.expired_at) == (status, None)
    got = (await w.get(entries["draft"]["id"])).json()
    assert (got["status"], recent(got["expired_at"])) == ("expired", True)
    expired = [e for e in await w.events(response) if e.entity_type == "submission"]
    assert sorted(e.entity_id for e in expired) == sorted(entries[s]["id"] for s in expiring)
    assert {e.action for e in expired} == {"expire"}
    assert [e.action for e in await w.events(response) if e.entity_type == "competition"] == [
        "close_registration"
    ]


async def test_closing_registration_leaves_other_editions_alone(w: World) -> None:
    other = await w.edition()
    draft = await w.draft(w.inov, edition=other)
    response = await w.client.post(
        f"/v1/competitions/{w.kipp.id}/transitions",
        json={"action": "close_registration"},
        headers=w.admin,
    )
    assert response.status_code == 200, response.text
    assert (await w.row(draft["id"])).status is SubmissionStatus.draft


# --- the step's fields, and what may still change -------------------------------------------


@pytest.mark.parametrize(
    ("action", "body", "code"),
    [
        ("screen", {}, "submission.outcome_required"),
        ("screen", {"outcome": "in", "screening_reason": "other"},
         "submission.screening_reason_not_allowed"),
        ("withdraw", {"outcome": "in"}, "submission.screening_fields"),
        ("withdraw", {"screening_reason": "other"}, "submission.screening_fields"),
    ],
)  # fmt: skip
async def test_the_screening_fields_belong_to_the_screen_step(
    w: World, action: str, body: dict[str, Any], code: str
) -> None:
    entry = await w.at("submitted", w.inov)
    response = await w.step(entry["id"], action, actor(w, action), **body)
    assert_problem(response, 422, code)
    row = await w.row(entry["id"])
    assert (row.status, row.version, row.screened_at) == (
        SubmissionStatus.submitted,
        entry["version"],
        None,
    )
    assert await w.events(response) == []


async def test_a_returned_entry_is_edited_but_a_sent_one_is_not(w: World) -> None:
    entry = await w.at("awaiting_local_admin", w.inov)
    tag = await w.etag(entry["id"])
    response = await w.client.patch(
        f"{PATH}/{entry['id']}", json={"answers": []}, headers={**w.operator, "If-Match": tag}
    )
    assert_problem(response, 409, "submission.not_editable")
    assert len(await w.answers_of(entry["id"])) == 8
    returned = await w.ok(entry["id"], "return", w.local, reason="Perbaiki kebaruan.")
    changed = w.kipp.answers()
    changed[2]["text"] = "Kebaruan yang diperjelas."
    response = await w.client.patch(
        f"{PATH}/{entry['id']}",
        json={"answers": changed},
        headers={**w.operator, "If-Match": f'"{returned["version"]}"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "returned"
    stored = await w.answers_of(entry["id"])
    assert stored[changed[2]["criterion_id"]] == "Kebaruan yang diperjelas."


async def test_a_cancelled_editions_entries_are_not_withdrawn(w: World) -> None:
    entry = await w.at("submitted")
    await w.set_status(w.kipp, CompetitionStatus.cancelled)
    response = await w.step(entry["id"], "withdraw", w.operator)
    problem = assert_problem(response, 409, "submission.competition_cancelled")
    assert problem["competition_status"] == "cancelled"
