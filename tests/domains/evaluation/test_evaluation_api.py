"""Evaluation through the API: conflicts of interest, auto-assignment, scoring, privacy,
reassignment, the ranking's tie-break and closing a round (quota, passing grade, force)."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from app.models.accounts import User
from app.models.competitions import Competition, CompetitionRound
from app.models.enums import CompetitionStatus, Role
from app.models.hubs import Hub
from app.models.submissions import Submission
from tests.domains.evaluation.conftest import EvalWorld, Headers
from tests.fixtures.etag import if_match

REASON = "Penilai berhalangan karena tugas dinas luar negeri."


# --- helpers --------------------------------------------------------------------------------


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem body, after checking its status, media type and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def pointers(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(error["pointer"], error["code"]) for error in body.get("errors") or []]


async def list_assignments(
    ew: EvalWorld, round_: CompetitionRound, headers: Headers | None = None, **params: Any
) -> list[dict[str, Any]]:
    """Every assignment of the round the caller sees, following the cursors (limit=100)."""
    items: list[dict[str, Any]] = []
    query: dict[str, Any] = {"limit": 100, **params}
    while True:
        response = await ew.client.get(
            f"/v1/rounds/{round_.id}/assignments", params=query, headers=headers or ew.admin
        )
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        if not page["has_more"]:
            return items
        query["cursor"] = page["next_cursor"]


async def auto_assign(
    ew: EvalWorld, round_: CompetitionRound, evaluators: Sequence[User | uuid.UUID], n: int
) -> httpx.Response:
    ids = [str(e.id if isinstance(e, User) else e) for e in evaluators]
    return await ew.client.post(
        f"/v1/rounds/{round_.id}/assignments/auto-assign",
        json={"evaluator_ids": ids, "evaluators_per_submission": n},
        headers=ew.admin,
    )


async def get_assignment(ew: EvalWorld, assignment_id: Any, headers: Headers) -> httpx.Response:
    return await ew.client.get(f"/v1/assignments/{assignment_id}", headers=headers)


async def reassign(
    ew: EvalWorld, assignment: dict[str, Any], evaluator: User, **body: Any
) -> httpx.Response:
    return await ew.client.post(
        f"/v1/assignments/{assignment['id']}/reassign",
        json={"evaluator_id": str(evaluator.id), **body},
        headers=ew.admin,
    )


async def audit_events(
    ew: EvalWorld, entity_id: Any, action: str | None = None
) -> list[dict[str, Any]]:
    """The entity's audit events, oldest first, as the secretariat reads them (filtered by
    action here: the list's `action` filter does not know the evaluation's actions)."""
    response = await ew.client.get(
        "/v1/audit-events",
        params={"entity_id": str(entity_id), "sort": "occurred_at", "limit": 100},
        headers=ew.admin,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return [item for item in items if action is None or item["action"] == action]


async def submission(ew: EvalWorld, entry: Submission) -> dict[str, Any]:
    response = await ew.client.get(f"/v1/submissions/{entry.id}", headers=ew.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def conflict(evaluator: User, entry: Submission, ew: EvalWorld) -> bool:
    """The world's conflicts: the sumut evaluator with Medan's entries (same province), the
    ministry evaluator with the ministry's entries (same institution)."""
    return (evaluator.id == ew.evaluators["sumut"].id and entry.institution_id == ew.medan.id) or (
        evaluator.id == ew.evaluators["ministry"].id and entry.institution_id == ew.ministry.id
    )


# --- 1. conflicts of interest by hand -------------------------------------------------------


async def test_conflicts_of_interest_are_refused_when_assigning_by_hand(ew: EvalWorld) -> None:
    medan = await ew.entry(ew.medan)
    ministry_entry = await ew.entry(ew.ministry)
    surabaya = await ew.entry(ew.surabaya)
    sumut, ministry = ew.evaluators["sumut"], ew.evaluators["ministry"]

    body = problem(await ew.assign(ew.round1, medan, sumut), 409, "assignment.conflict_of_interest")
    assert body["conflict"] == "same_region"
    body = problem(
        await ew.assign(ew.round1, ministry_entry, ministry),
        409,
        "assignment.conflict_of_interest",
    )
    assert body["conflict"] == "same_institution"
    # The regional rule is about regional governments' entries: a ministry's entry is fine for
    # the province's evaluator, and so is another province's city.
    assignment = await ew.assigned(ew.round1, ministry_entry, sumut)
    assert assignment["evaluator_id"] == str(sumut.id)
    assert assignment["status"] == "assigned"
    await ew.assigned(ew.round1, surabaya, sumut)
    await ew.assigned(ew.round1, medan, ministry)
    # The same evaluator twice on one entry.
    problem(await ew.assign(ew.round1, ministry_entry, sumut), 409, "assignment.duplicate")

    # Recusal: only with a reason; then never again for this entry.
    url = f"/v1/assignments/{assignment['id']}/recuse"
    problem(await ew.client.post(url, json={}, headers=ew.headers(sumut)), 422, "validation_failed")
    response = await ew.client.post(url, json={"reason": REASON}, headers=ew.headers(sumut))
    assert response.status_code == 200, response.text
    recused = response.json()
    assert recused["status"] == "recused"
    assert recused["end_reason"] == REASON
    assert recused["ended_at"] is not None
    body = problem(
        await ew.assign(ew.round1, ministry_entry, sumut), 409, "assignment.conflict_of_interest"
    )
    assert body["conflict"] == "declared"
    # Recusing twice is over: the assignment ended.
    response = await ew.client.post(url, json={"reason": REASON}, headers=ew.headers(sumut))
    problem(response, 409, "assignment.ended")
    # Auto-assignment respects the declaration too.
    response = await auto_assign(ew, ew.round1, [sumut, ew.evaluators["dosen_a"]], 2)
    body = problem(response, 409, "assignment.not_enough_evaluators")
    assert str(ministry_entry.id) in {item["submission_id"] for item in body["entries"]}


async def test_assigning_refuses_what_is_not_an_entry_or_not_an_evaluator(
    ew: EvalWorld,
) -> None:
    entry = await ew.entry(ew.surabaya)
    in_round2 = await ew.entry(ew.surabaya, round_=ew.round2)
    body = problem(
        await ew.assign(ew.round1, in_round2, ew.evaluators["dosen_a"]),
        422,
        "assignment.not_in_round",
    )
    assert ("/submission_id", "assignment.not_in_round") in pointers(body)
    local_admin = await ew.make_user(Role.local_admin, institution_id=ew.surabaya.id)
    body = problem(
        await ew.assign(ew.round1, entry, local_admin), 422, "assignment.not_an_evaluator"
    )
    assert ("/evaluator_id", "assignment.not_an_evaluator") in pointers(body)


# --- 2. auto-assignment ---------------------------------------------------------------------


async def test_auto_assign_gives_every_entry_n_evaluators_without_conflicts(
    ew: EvalWorld,
) -> None:
    entries = [
        *[await ew.entry(ew.medan) for _ in range(3)],
        *[await ew.entry(ew.surabaya) for _ in range(2)],
        *[await ew.entry(ew.ministry) for _ in range(2)],
    ]
    panel = [ew.evaluators[name] for name in ("sumut", "ministry", "dosen_a", "dosen_b")]
    response = await auto_assign(ew, ew.round1, panel, 2)
    assert response.status_code == 201, response.text
    result = response.json()
    assert len(result["created"]) == 2 * len(entries)

    assignments = await list_assignments(ew, ew.round1)
    assert len(assignments) == 2 * len(entries)
    by_entry: dict[str, list[str]] = defaultdict(list)
    for item in assignments:
        assert item["status"] == "assigned"
        by_entry[item["submission_id"]].append(item["evaluator_id"])
    evaluators = {str(e.id): e for e in panel}
    for entry in entries:
        chosen = by_entry[str(entry.id)]
        assert len(chosen) == 2
        assert len(set(chosen)) == 2
        for evaluator_id in chosen:
            assert not conflict(evaluators[evaluator_id], entry, ew), (entry, evaluator_id)
    loads = Counter(item["evaluator_id"] for item in assignments)
    assert {load["evaluator_id"]: load["assignments"] for load in result["loads"]} == {
        str(e.id): loads[str(e.id)] for e in panel
    }

    # Again: every entry already has its evaluators; nothing is created, so 200, not 201.
    response = await auto_assign(ew, ew.round1, panel, 2)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == []
    assert {load["evaluator_id"]: load["assignments"] for load in response.json()["loads"]} == {
        str(e.id): loads[str(e.id)] for e in panel
    }
    assert len(await list_assignments(ew, ew.round1)) == 2 * len(entries)
    # Audited on the round: one event per call naming the assignments it made.
    events = await audit_events(ew, ew.round1.id, action="auto_assign")
    assert [e["entity_type"] for e in events] == ["competition_round"] * 2
    made = [item["id"] for item in events[0]["changes"]["assignments"]["to"]]
    assert sorted(made) == sorted(a["id"] for a in result["created"])
    assert events[1]["changes"]["assignments"]["to"] == []


async def test_auto_assign_balances_loads_when_nothing_conflicts(ew: EvalWorld) -> None:
    entries = [await ew.entry(institution) for institution in (ew.medan, ew.surabaya) * 3]
    entries.append(await ew.entry(ew.ministry))
    panel = [
        ew.evaluators["dosen_a"],
        ew.evaluators["dosen_b"],
        await ew.evaluator("dosen_c"),
        await ew.evaluator("dosen_d"),
    ]
    # One entry already has an evaluator: loads count it, and the entry only needs one more.
    await ew.assigned(ew.round1, entries[0], panel[0])
    response = await auto_assign(ew, ew.round1, panel, 2)
    assert response.status_code == 201, response.text
    assert len(response.json()["created"]) == 2 * len(entries) - 1

    assignments = await list_assignments(ew, ew.round1)
    per_entry = Counter(item["submission_id"] for item in assignments)
    assert per_entry == {str(entry.id): 2 for entry in entries}
    assert all(
        len({a["evaluator_id"] for a in assignments if a["submission_id"] == str(entry.id)}) == 2
        for entry in entries
    )
    loads = Counter(item["evaluator_id"] for item in assignments)
    counts = [loads[str(e.id)] for e in panel]
    assert sum(counts) == 14
    assert max(counts) - min(counts) <= 1, counts
    assert {load["evaluator_id"]: load["assignments"] for load in response.json()["loads"]} == {
        str(e.id): loads[str(e.id)] for e in panel
    }


async def test_auto_assign_is_all_or_nothing(ew: EvalWorld) -> None:
    medan = await ew.entry(ew.medan)
    await ew.entry(ew.surabaya)
    await ew.entry(ew.ministry)
    panel = [ew.evaluators[name] for name in ("sumut", "ministry", "dosen_a", "dosen_b")]
    # Medan's entry has only three eligible evaluators (sumut is of its province).
    body = problem(
        await auto_assign(ew, ew.round1, panel, 4), 409, "assignment.not_enough_evaluators"
    )
    short = {item["submission_id"]: item["eligible"] for item in body["entries"]}
    assert short[str(medan.id)] == 3
    assert await list_assignments(ew, ew.round1) == []


async def test_auto_assign_refuses_what_is_not_an_evaluator(ew: EvalWorld) -> None:
    await ew.entry(ew.surabaya)
    local_admin = await ew.make_user(Role.local_admin, institution_id=ew.surabaya.id)
    response = await auto_assign(ew, ew.round1, [ew.evaluators["dosen_a"], local_admin], 1)
    body = problem(response, 422, "assignment.not_an_evaluator")
    assert ("/evaluator_ids/1", "assignment.not_an_evaluator") in pointers(body)
    response = await auto_assign(ew, ew.round1, [uuid.uuid4(), ew.evaluators["dosen_a"]], 1)
    body = problem(response, 422, "assignment.not_an_evaluator")
    assert ("/evaluator_ids/0", "assignment.not_an_evaluator") in pointers(body)
    assert await list_assignments(ew, ew.round1) == []


# --- 3. scores ------------------------------------------------------------------------------


async def test_scores_are_checked_against_the_round_criteria(ew: EvalWorld) -> None:
    entry = await ew.entry(ew.surabaya)
    final_entry = await ew.entry(ew.surabaya, round_=ew.round2)
    dosen_a = ew.evaluators["dosen_a"]
    assignment = await ew.assigned(ew.round1, entry, dosen_a)

    values: list[int | Decimal] = [50] * len(ew.criteria1)
    values[3] = Decimal("100.01")
    body = problem(
        await ew.score(assignment, dosen_a, ew.sheet(ew.round1, values), submit=False),
        422,
        "score.out_of_range",
    )
    assert pointers(body) == [("/scores/3/score", "score.out_of_range")]

    final = await ew.assigned(ew.round2, final_entry, dosen_a)
    for index, value in ((0, 0), (1, 6)):
        values = [3, 3]
        values[index] = value
        body = problem(
            await ew.score(final, dosen_a, ew.sheet(ew.round2, values), submit=False),
            422,
            "score.out_of_range",
        )
        assert pointers(body) == [(f"/scores/{index}/score", "score.out_of_range")]
    # The bounds themselves are fine.
    response = await ew.score(final, dosen_a, ew.sheet(ew.round2, [1, 5]))
    assert response.status_code == 200, response.text

    # A criterion of another round, and one scored twice.
    sheet = ew.sheet(ew.round1, 50)
    stranger = {"criterion_id": str(ew.criteria2[0].id), "score": "3"}
    body = problem(
        await ew.score(assignment, dosen_a, [*sheet, stranger], submit=False),
        422,
        "score.unknown_criterion",
    )
    assert pointers(body) == [(f"/scores/{len(sheet)}/criterion_id", "score.unknown_criterion")]
    body = problem(
        await ew.score(assignment, dosen_a, [*sheet, sheet[0]], submit=False),
        422,
        "score.duplicate",
    )
    assert pointers(body) == [(f"/scores/{len(sheet)}/criterion_id", "score.duplicate")]
    # Nothing was stored by the refused sheets.
    response = await get_assignment(ew, assignment["id"], ew.headers(dosen_a))
    assert response.json()["scores"] == []


async def test_only_the_assigned_evaluator_scores_and_a_submitted_sheet_is_final(
    ew: EvalWorld,
) -> None:
    entry = await ew.entry(ew.surabaya)
    dosen_a, dosen_b = ew.evaluators["dosen_a"], ew.evaluators["dosen_b"]
    assignment = await ew.assigned(ew.round1, entry, dosen_a)
    await ew.assigned(ew.round1, entry, dosen_b)
    sheet = ew.sheet(ew.round1, 70)

    problem(await ew.score(assignment, dosen_b, sheet), 404, "assignment.not_found")
    response = await ew.client.put(
        f"/v1/assignments/{assignment['id']}/scores",
        json={"scores": sheet, "submit": True},
        headers=await if_match(ew.client, f"/v1/assignments/{assignment['id']}/scores", ew.admin),
    )
    problem(response, 403, "auth.role_forbidden")

    body = problem(await ew.score(assignment, dosen_a, sheet[:-1]), 422, "score.incomplete")
    assert ("/scores", "score.incomplete") in pointers(body)

    # A draft is edited as often as needed.
    response = await ew.score(assignment, dosen_a, sheet[:3], submit=False)
    assert response.status_code == 200, response.text
    draft = response.json()
    assert draft["status"] == "assigned"
    assert draft["submitted_at"] is None
    assert len(draft["scores"]) == 3
    response = await ew.score(
        assignment, dosen_a, ew.sheet(ew.round1, 65), submit=False, comment="Cukup baik."
    )
    assert response.status_code == 200, response.text
    draft = response.json()
    assert [s["score"] for s in draft["scores"]] == [65.0] * len(ew.criteria1)
    assert draft["comment"] == "Cukup baik."
    assert draft["version"] > assignment["version"]

    response = await ew.score(assignment, dosen_a, sheet)
    assert response.status_code == 200, response.text
    submitted = response.json()
    assert submitted["status"] == "submitted"
    assert submitted["submitted_at"] is not None
    assert [s["score"] for s in submitted["scores"]] == [70.0] * len(ew.criteria1)

    problem(await ew.score(assignment, dosen_a, sheet), 409, "assignment.submitted")
    problem(await ew.score(assignment, dosen_a, sheet, submit=False), 409, "assignment.submitted")

    events = await audit_events(ew, assignment["id"])
    assert [(e["action"], e["entity_type"]) for e in events] == [
        ("assign", "assignment"),
        ("score", "assignment"),
        ("score", "assignment"),
        ("submit", "assignment"),
    ]
    last = events[-1]["changes"]
    assert last["status"] == {"before": "assigned", "after": "submitted"}
    assert Decimal(last["scores"]["to"][str(ew.criteria1[0].id)]["score"]) == 70
    assert Decimal(last["scores"]["from"][str(ew.criteria1[0].id)]["score"]) == 65
    assert events[1]["actor_id"] == str(dosen_a.id)


# --- 4. privacy -----------------------------------------------------------------------------


async def test_evaluators_see_only_their_own_assignments_and_never_the_ranking(
    ew: EvalWorld, hub: Hub
) -> None:
    entry = await ew.entry(ew.surabaya)
    other = await ew.entry(ew.medan)
    dosen_a, dosen_b = ew.evaluators["dosen_a"], ew.evaluators["dosen_b"]
    mine = await ew.scored(ew.round1, entry, dosen_a, 80)
    theirs = await ew.assigned(ew.round1, other, dosen_b)
    await ew.assigned(ew.round1, entry, dosen_b)

    problem(await get_assignment(ew, mine["id"], ew.headers(dosen_b)), 404, "assignment.not_found")
    response = await get_assignment(ew, mine["id"], ew.headers(dosen_a))
    assert response.status_code == 200, response.text
    assert len(response.json()["scores"]) == len(ew.criteria1)
    assert len(response.json()["answers"]) == len(ew.criteria1)
    response = await get_assignment(ew, theirs["id"], ew.admin)
    assert response.status_code == 200, response.text

    listed = await list_assignments(ew, ew.round1, ew.headers(dosen_b))
    assert len(listed) == 2
    assert {item["evaluator_id"] for item in listed} == {str(dosen_b.id)}
    listed = await list_assignments(
        ew, ew.round1, ew.headers(dosen_b), evaluator_id=str(dosen_b.id)
    )
    assert len(listed) == 2
    response = await ew.client.get(
        f"/v1/rounds/{ew.round1.id}/assignments",
        params={"evaluator_id": str(dosen_a.id)},
        headers=ew.headers(dosen_b),
    )
    problem(response, 403, "assignment.others_hidden")
    assert len(await list_assignments(ew, ew.round1)) == 3

    url = f"/v1/rounds/{ew.round1.id}/ranking"
    problem(await ew.client.get(url, headers=ew.headers(dosen_a)), 403, "auth.role_forbidden")
    local_admin = await ew.auth(Role.local_admin, institution_id=ew.surabaya.id)
    problem(await ew.client.get(url, headers=local_admin), 403, "auth.role_forbidden")
    problem(await ew.client.get(url), 401, "auth.required")
    # A hub's admin runs its hub's provincial editions, not the national one.
    hub_admin = await ew.auth(Role.hub_admin, hub_id=hub.id)
    problem(await ew.client.get(url, headers=hub_admin), 403, "competition.out_of_scope")
    problem(
        await ew.assign(ew.round1, other, dosen_a, headers=hub_admin),
        403,
        "competition.out_of_scope",
    )

    # The public does not see an entry while its edition is evaluated.
    response = await ew.client.get(f"/v1/submissions/{entry.id}")
    assert response.status_code == 404, response.text


# --- 5. reassignment ------------------------------------------------------------------------


async def test_reassignment_needs_a_reason_once_scoring_started(ew: EvalWorld) -> None:
    entry = await ew.entry(ew.surabaya)
    dosen_a, dosen_b = ew.evaluators["dosen_a"], ew.evaluators["dosen_b"]
    ministry = ew.evaluators["ministry"]
    first = await ew.assigned(ew.round1, entry, dosen_a)

    # Nothing scored yet: no reason needed.
    response = await reassign(ew, first, dosen_b)
    assert response.status_code == 201, response.text
    second = response.json()
    assert second["id"] != first["id"]
    assert second["evaluator_id"] == str(dosen_b.id)
    assert second["status"] == "assigned"
    assert response.headers["location"] == f"/v1/assignments/{second['id']}"
    old = (await get_assignment(ew, first["id"], ew.admin)).json()
    assert old["status"] == "replaced"
    assert old["replaced_by_id"] == second["id"]
    assert old["end_reason"] is None
    # The replaced evaluator no longer scores it.
    problem(await ew.score(first, dosen_a, ew.sheet(ew.round1, 50)), 409, "assignment.ended")

    # A draft score is a start: a reason is required.
    response = await ew.score(second, dosen_b, ew.sheet(ew.round1, 40)[:2], submit=False)
    assert response.status_code == 200, response.text
    body = problem(await reassign(ew, second, ministry), 422, "assignment.reason_required")
    assert ("/reason", "assignment.reason_required") in pointers(body)
    assert (await get_assignment(ew, second["id"], ew.admin)).json()["status"] == "assigned"

    response = await reassign(ew, second, ministry, reason=REASON)
    assert response.status_code == 201, response.text
    third = response.json()
    assert third["evaluator_id"] == str(ministry.id)
    old = (await get_assignment(ew, second["id"], ew.admin)).json()
    assert old["status"] == "replaced"
    assert old["end_reason"] == REASON
    assert old["replaced_by_id"] == third["id"]
    assert len(old["scores"]) == 2  # kept for the record

    events = await audit_events(ew, second["id"], action="reassign")
    assert len(events) == 1
    assert events[0]["entity_type"] == "assignment"
    assert events[0]["changes"]["reason"] == {"before": None, "after": REASON}
    assert events[0]["changes"]["status"] == {"before": "assigned", "after": "replaced"}

    # Only the active evaluation counts in the ranking.
    response = await ew.score(third, ministry, ew.sheet(ew.round1, 90))
    assert response.status_code == 200, response.text
    ranking = await ew.ranking(ew.round1)
    [item] = ranking["entries"]
    assert [e["evaluator_id"] for e in item["evaluations"]] == [str(ministry.id)]
    assert item["score"] == 90.0


async def test_a_submitted_assignment_is_reassigned_only_with_a_reason(ew: EvalWorld) -> None:
    entry = await ew.entry(ew.surabaya)
    dosen_a, dosen_b = ew.evaluators["dosen_a"], ew.evaluators["dosen_b"]
    done = await ew.scored(ew.round1, entry, dosen_a, 75)
    problem(await reassign(ew, done, dosen_b), 422, "assignment.reason_required")
    problem(await reassign(ew, done, dosen_a, reason=REASON), 422, "assignment.same_evaluator")
    response = await reassign(ew, done, dosen_b, reason=REASON)
    assert response.status_code == 201, response.text
    old = (await get_assignment(ew, done["id"], ew.admin)).json()
    assert old["status"] == "replaced"
    assert old["submitted_at"] is None
    ranking = await ew.ranking(ew.round1)
    assert ranking["entries"][0]["score"] is None
    assert ranking["entries"][0]["pending_evaluations"] == 1


# --- 6. ranking -----------------------------------------------------------------------------


async def test_ranking_breaks_ties_by_spread_then_submission_time_then_id(ew: EvalWorld) -> None:
    t0 = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
    dosen_a, dosen_b = ew.evaluators["dosen_a"], ew.evaluators["dosen_b"]
    top = await ew.entry(ew.surabaya, submitted_at=t0 + timedelta(hours=9))
    wide = await ew.entry(ew.surabaya, submitted_at=t0)  # 70 and 90: mean 80, spread 20
    early = await ew.entry(ew.medan, submitted_at=t0 + timedelta(hours=1))
    middle = await ew.entry(ew.ministry, submitted_at=t0 + timedelta(hours=2))
    late = await ew.entry(ew.surabaya, submitted_at=t0 + timedelta(hours=3))
    twins = [await ew.entry(ew.medan, submitted_at=t0 + timedelta(hours=4)) for _ in range(2)]
    split = await ew.entry(ew.surabaya, submitted_at=t0)  # 60 and 100: spread 40
    unscored = await ew.entry(ew.surabaya, submitted_at=t0 - timedelta(days=1))
    await ew.assigned(ew.round1, unscored, dosen_a)
    plan = {
        top: (95, 95),
        wide: (70, 90),
        early: (80, 80),
        middle: (80, 80),
        late: (80, 80),
        twins[0]: (80, 80),
        twins[1]: (80, 80),
        split: (60, 100),
    }
    for entry, (a, b) in plan.items():
        await ew.scored(ew.round1, entry, dosen_a, a)
        await ew.scored(ew.round1, entry, dosen_b, b)

    first = await ew.client.get(f"/v1/rounds/{ew.round1.id}/ranking", headers=ew.admin)
    assert first.status_code == 200, first.text
    ranking = first.json()
    low, high = sorted(twins, key=lambda s: s.id)
    expected = [top, early, middle, late, low, high, wide, split, unscored]
    assert [item["submission_id"] for item in ranking["entries"]] == [str(e.id) for e in expected]
    assert [item["rank"] for item in ranking["entries"]] == list(range(1, 10))
    by_id = {item["submission_id"]: item for item in ranking["entries"]}
    assert by_id[str(wide.id)]["score"] == 80.0
    assert by_id[str(wide.id)]["spread"] == 20.0
    assert by_id[str(wide.id)]["flagged"] is False  # the threshold itself is no disagreement
    assert by_id[str(split.id)]["spread"] == 40.0
    assert by_id[str(split.id)]["flagged"] is True
    assert by_id[str(early.id)]["flagged"] is False
    assert by_id[str(unscored.id)]["score"] is None
    assert by_id[str(unscored.id)]["pending_evaluations"] == 1
    assert sorted(e["total"] for e in by_id[str(split.id)]["evaluations"]) == [60.0, 100.0]
    assert [item["advances"] for item in ranking["entries"]] == [True] * 3 + [False] * 6
    assert ranking["spread_threshold"] == 20.0
    assert ranking["advance_quota"] == 3
    assert all(item["outcome"] is None for item in ranking["entries"])

    for _ in range(2):
        again = await ew.client.get(f"/v1/rounds/{ew.round1.id}/ranking", headers=ew.admin)
        assert again.status_code == 200, again.text
        assert again.content == first.content


# --- 7. closing -----------------------------------------------------------------------------


async def test_closing_with_unscored_assignments_needs_force_and_a_reason(ew: EvalWorld) -> None:
    scored = await ew.entry(ew.surabaya)
    pending = await ew.entry(ew.medan)
    unassigned = await ew.entry(ew.ministry)
    dosen_a = ew.evaluators["dosen_a"]
    await ew.scored(ew.round1, scored, dosen_a, 80)
    draft = await ew.assigned(ew.round1, pending, dosen_a)

    body = problem(await ew.close(ew.round1), 409, "round.unscored")
    assert body["unscored_assignments"] == [draft["id"]]
    assert body["unassigned_submissions"] == [str(unassigned.id)]
    body = problem(await ew.close(ew.round1, force=True), 422, "round.reason_required")
    assert ("/reason", "round.reason_required") in pointers(body)
    response = await ew.client.get(f"/v1/rounds/{ew.round1.id}", headers=ew.admin)
    assert response.json()["status"] == "open"

    response = await ew.close(ew.round1, force=True, reason=REASON)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == "closed"
    assert result["advanced"] == 1
    assert result["eliminated"] == 2
    assert result["next_round_id"] == str(ew.round2.id)
    response = await ew.client.get(f"/v1/rounds/{ew.round1.id}", headers=ew.admin)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"
    assert response.json()["close_reason"] == REASON
    assert response.json()["closed_at"] is not None

    # A closed round no longer changes.
    problem(await ew.score(draft, dosen_a, ew.sheet(ew.round1, 70)), 409, "round.closed")
    problem(await ew.assign(ew.round1, pending, ew.evaluators["dosen_b"]), 409, "round.closed")
    problem(await ew.close(ew.round1), 409, "round.closed")

    ranking = await ew.ranking(ew.round1)
    outcomes = {item["submission_id"]: item["outcome"] for item in ranking["entries"]}
    assert outcomes == {
        str(scored.id): "advanced",
        str(pending.id): "eliminated",
        str(unassigned.id): "eliminated",
    }
    assert ranking["status"] == "closed"


async def test_rounds_close_in_order(ew: EvalWorld) -> None:
    entry = await ew.entry(ew.surabaya, round_=ew.round2)
    await ew.scored(ew.round2, entry, ew.evaluators["dosen_a"], 4)
    problem(await ew.close(ew.round2), 409, "round.earlier_open")
    response = await ew.client.get(f"/v1/rounds/{ew.round2.id}", headers=ew.admin)
    assert response.json()["status"] == "open"


async def test_closing_advances_the_quota_and_eliminates_the_rest(ew: EvalWorld) -> None:
    dosen_a = ew.evaluators["dosen_a"]
    values = {ew.surabaya: 90, ew.medan: 85, ew.ministry: 80}
    entries = [await ew.entry(institution) for institution in values]
    entries += [await ew.entry(ew.surabaya), await ew.entry(ew.medan)]
    for entry, value in zip(entries, [90, 85, 80, 70, 60], strict=True):
        await ew.scored(ew.round1, entry, dosen_a, value)

    response = await ew.close(ew.round1)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["advanced"], result["eliminated"]) == (3, 2)
    assert result["next_round_id"] == str(ew.round2.id)
    response = await ew.client.get(f"/v1/rounds/{ew.round1.id}", headers=ew.admin)
    assert response.json()["close_reason"] is None

    for entry in entries[:3]:
        body = await submission(ew, entry)
        assert body["round_id"] == str(ew.round2.id)
        assert body["status"] == "screened_in"
        assert body["final_tier"] == "top_45"
    for entry in entries[3:]:
        body = await submission(ew, entry)
        assert body["status"] == "eliminated"
        assert body["round_id"] == str(ew.round1.id)
        assert body["final_tier"] is None

    ranking = await ew.ranking(ew.round1)
    assert [item["submission_id"] for item in ranking["entries"]] == [str(e.id) for e in entries]
    assert [item["outcome"] for item in ranking["entries"]] == ["advanced"] * 3 + ["eliminated"] * 2
    assert [item["advances"] for item in ranking["entries"]] == [True] * 3 + [False] * 2
    # Round 2 now holds the advancing entries and evaluates them.
    final = await ew.ranking(ew.round2)
    assert {item["submission_id"] for item in final["entries"]} == {str(e.id) for e in entries[:3]}
    await ew.assigned(ew.round2, entries[0], dosen_a)
    problem(await ew.assign(ew.round2, entries[3], dosen_a), 422, "assignment.not_in_round")
    events = await audit_events(ew, entries[0].id, action="advance")
    assert len(events) == 1
    assert events[0]["changes"]["round_id"] == {
        "before": str(ew.round1.id),
        "after": str(ew.round2.id),
    }


async def test_closing_with_a_passing_grade_advances_those_who_reach_it(ew: EvalWorld) -> None:
    round1 = await ew.session.get(CompetitionRound, ew.round1.id)
    assert round1 is not None
    round1.passing_grade = Decimal(75)
    round1.advance_quota = None
    await ew.session.flush()
    dosen_a = ew.evaluators["dosen_a"]
    values = [Decimal(90), Decimal(80), Decimal("75.5"), Decimal(75), Decimal("74.99"), Decimal(50)]
    entries = [await ew.entry(ew.surabaya) for _ in values]
    for entry, value in zip(entries, values, strict=True):
        await ew.scored(ew.round1, entry, dosen_a, value)

    ranking = await ew.ranking(ew.round1)
    assert ranking["passing_grade"] == 75.0
    assert ranking["advance_quota"] is None
    assert [item["advances"] for item in ranking["entries"]] == [True] * 4 + [False] * 2

    response = await ew.close(ew.round1)
    assert response.status_code == 200, response.text
    assert (response.json()["advanced"], response.json()["eliminated"]) == (4, 2)
    for entry in entries[:4]:
        body = await submission(ew, entry)
        assert body["round_id"] == str(ew.round2.id)
        assert body["final_tier"] == "top_45"
    for entry in entries[4:]:
        assert (await submission(ew, entry))["status"] == "eliminated"


# --- 8. the edition's status ----------------------------------------------------------------


async def test_nothing_is_evaluated_outside_the_evaluation_period(ew: EvalWorld) -> None:
    entry = await ew.entry(ew.surabaya)
    dosen_a = ew.evaluators["dosen_a"]
    assignment = await ew.assigned(ew.round1, entry, dosen_a)
    competition = await ew.session.get(Competition, ew.competition.id)
    assert competition is not None
    competition.status = CompetitionStatus.registration_closed
    await ew.session.flush()

    body = problem(
        await ew.assign(ew.round1, entry, ew.evaluators["dosen_b"]),
        409,
        "evaluation.not_in_evaluation",
    )
    assert body["competition_status"] == "registration_closed"
    problem(
        await auto_assign(ew, ew.round1, [ew.evaluators["dosen_b"]], 1),
        409,
        "evaluation.not_in_evaluation",
    )
    problem(
        await ew.score(assignment, dosen_a, ew.sheet(ew.round1, 70)),
        409,
        "evaluation.not_in_evaluation",
    )
    problem(
        await ew.close(ew.round1, force=True, reason=REASON), 409, "evaluation.not_in_evaluation"
    )


# --- the audit trail ------------------------------------------------------------------------


async def test_the_audit_list_filters_by_the_evaluation_events(ew: EvalWorld) -> None:
    entry = await ew.entry(ew.surabaya)
    dosen_a = ew.evaluators["dosen_a"]
    assignment = await ew.scored(ew.round1, entry, dosen_a, 80)
    response = await reassign(ew, assignment, ew.evaluators["dosen_b"], reason=REASON)
    assert response.status_code == 201, response.text
    expected = {
        (("entity_type", "assignment"),): ["assign", "submit", "reassign"],
        (("action", "assign"),): ["assign"],
        (("action", "submit"),): ["submit"],
        (("action", "reassign"),): ["reassign"],
        (("action", "score"), ("action", "recuse")): [],
    }
    for params, actions in expected.items():
        response = await ew.client.get(
            "/v1/audit-events",
            params=[("entity_id", assignment["id"]), ("sort", "occurred_at"), *params],
            headers=ew.admin,
        )
        assert response.status_code == 200, (params, response.text)
        assert [e["action"] for e in response.json()["items"]] == actions, params


# --- the audit trail of an unchanged sheet ---------------------------------------------------


async def test_an_unchanged_sheet_records_no_score_change(ew: EvalWorld) -> None:
    entry = await ew.entry(ew.surabaya)
    dosen_a = ew.evaluators["dosen_a"]
    assignment = await ew.assigned(ew.round1, entry, dosen_a)
    sheet = ew.sheet(ew.round1, 65)
    for _ in range(2):
        response = await ew.score(assignment, dosen_a, sheet, submit=False)
        assert response.status_code == 200, response.text
    events = await audit_events(ew, assignment["id"], action="score")
    assert len(events) == 2
    assert "scores" in events[0]["changes"]
    assert "scores" not in events[1]["changes"], events[1]["changes"]["scores"]
