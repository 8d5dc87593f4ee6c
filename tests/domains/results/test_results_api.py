"""Results through the API: numbered announcements of a round's outcome and of the final
results, the public objection window, reviewing objections (dismiss, uphold, promote the next
ranked), decreeing the results (the awards), the awards' use by later editions' entry rules,
and what the public sees of the results before and after the decree."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx

from app.core import dates
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.enums import (
    CompetitionScope,
    CompetitionStatus,
    HubStatus,
    Role,
    RoundKind,
    SubmissionStatus,
)
from app.models.results import Announcement
from app.models.submissions import Submission
from tests.conftest import HubFactory
from tests.domains.evaluation.conftest import EvalWorld, Headers

ANONYMOUS: Headers = {}
CONTACT = "pelapor.rahasia@example.com"
REASON = "Inovasi ini belum diterapkan selama dua tahun di lapangan."
NOTE = "Terbukti dari dokumen pendukung yang diverifikasi ulang."
NUMBER = re.compile(r"^B/(\d+)/PP\.00\.05/(\d{4})$")
# Round 1: dosen_a's and dosen_b's values per entry (ranked in this order).
ROUND1 = [(90, 88), (85, 83), (80, 78), (70, 72), (60, 62)]
# Round 2 (1..5), by round-1 index: the third of round 1 wins.
ROUND2 = {2: (5, 5), 0: (4, 4), 1: (3, 4)}


# --- helpers --------------------------------------------------------------------------------


def problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The problem body, after checking its status, media type and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class Edition:
    """The evaluated entries, by their round-1 rank (index 0: rank 1)."""

    entries: list[Submission]

    @property
    def winner(self) -> Submission:
        """The top_5 (round 2's first): round 1's third."""
        return self.entries[2]

    @property
    def advanced(self) -> list[Submission]:
        return self.entries[:3]


async def evaluate(ew: EvalWorld, through: str = "round2") -> Edition:
    """Five entries scored by dosen_a and dosen_b in round 1 and the round closed (three
    advance with top_45); then (`scored2`) the three scored in round 2, and (`round2`) round 2
    closed (the winner top_5, the other two eliminated keeping top_45)."""
    institutions = [ew.surabaya, ew.medan, ew.ministry, ew.surabaya, ew.medan]
    entries = [await ew.entry(institution) for institution in institutions]
    dosen_a, dosen_b = ew.evaluators["dosen_a"], ew.evaluators["dosen_b"]
    for entry, (a, b) in zip(entries, ROUND1, strict=True):
        await ew.scored(ew.round1, entry, dosen_a, a)
        await ew.scored(ew.round1, entry, dosen_b, b)
    ok(await ew.close(ew.round1))
    if through == "round1":
        return Edition(entries)
    for index, (a, b) in ROUND2.items():
        await ew.scored(ew.round2, entries[index], dosen_a, a)
        await ew.scored(ew.round2, entries[index], dosen_b, b)
    if through == "scored2":
        return Edition(entries)
    ok(await ew.close(ew.round2))
    return Edition(entries)


async def announce(
    ew: EvalWorld,
    kind: str,
    round_: CompetitionRound | None = None,
    headers: Headers | None = None,
    **body: Any,
) -> httpx.Response:
    payload: dict[str, Any] = {"kind": kind, "title": f"Pengumuman {kind} KIPP Uji 2026", **body}
    if round_ is not None:
        payload["round_id"] = str(round_.id)
    return await ew.client.post(
        f"/v1/competitions/{ew.competition.id}/announcements",
        json=payload,
        headers=ew.admin if headers is None else headers,
    )


async def announced(
    ew: EvalWorld, kind: str, round_: CompetitionRound | None = None, **body: Any
) -> dict[str, Any]:
    result: dict[str, Any] = ok(await announce(ew, kind, round_, **body), 201)
    return result


async def get_announcement(
    ew: EvalWorld, announcement_id: str, headers: Headers | None = None
) -> dict[str, Any]:
    result: dict[str, Any] = ok(
        await ew.client.get(
            f"/v1/announcements/{announcement_id}",
            headers=ANONYMOUS if headers is None else headers,
        )
    )
    return result


async def end_window(ew: EvalWorld, announcement_id: str) -> None:
    """Move the announcement's publication and objection window into the past."""
    announcement = await ew.session.get(Announcement, uuid.UUID(announcement_id))
    assert announcement is not None
    now = datetime.now(UTC)
    announcement.published_at = now - timedelta(days=7)
    announcement.objections_close_at = now - timedelta(minutes=1)
    await ew.session.flush()


async def file(
    ew: EvalWorld, announcement_id: str, entry: Submission, headers: Headers | None = None
) -> httpx.Response:
    return await ew.client.post(
        f"/v1/announcements/{announcement_id}/objections",
        json={
            "submission_id": str(entry.id),
            "filer_name": "Budi Santoso",
            "filer_contact": CONTACT,
            "reason": REASON,
        },
        headers=ANONYMOUS if headers is None else headers,
    )


async def filed(ew: EvalWorld, announcement_id: str, entry: Submission) -> dict[str, Any]:
    result: dict[str, Any] = ok(await file(ew, announcement_id, entry), 201)
    return result


async def review(
    ew: EvalWorld, objection_id: str, decision: str, headers: Headers | None = None, **body: Any
) -> httpx.Response:
    return await ew.client.post(
        f"/v1/objections/{objection_id}/review",
        json={"decision": decision, "note": NOTE, **body},
        headers=headers or ew.admin,
    )


async def decree(ew: EvalWorld, headers: Headers | None = None) -> httpx.Response:
    return await ew.client.post(
        f"/v1/competitions/{ew.competition.id}/transitions",
        json={"action": "publish_results"},
        headers=headers or ew.admin,
    )


async def submission(ew: EvalWorld, entry: Submission) -> dict[str, Any]:
    result: dict[str, Any] = ok(
        await ew.client.get(f"/v1/submissions/{entry.id}", headers=ew.admin)
    )
    return result


async def awards_of(ew: EvalWorld, **params: Any) -> list[dict[str, Any]]:
    page = ok(await ew.client.get("/v1/awards", params={"limit": 100, **params}))
    assert page["has_more"] is False
    items: list[dict[str, Any]] = page["items"]
    return items


async def audit_events(
    ew: EvalWorld, entity_id: Any, action: str | None = None
) -> list[dict[str, Any]]:
    """The entity's audit events, oldest first, as the secretariat reads them."""
    response = await ew.client.get(
        "/v1/audit-events",
        params={"entity_id": str(entity_id), "sort": "occurred_at", "limit": 100},
        headers=ew.admin,
    )
    items: list[dict[str, Any]] = ok(response)["items"]
    return [item for item in items if action is None or item["action"] == action]


async def set_competition(ew: EvalWorld, **values: Any) -> None:
    competition = await ew.session.get(Competition, ew.competition.id)
    assert competition is not None
    for key, value in values.items():
        setattr(competition, key, value)
    await ew.session.flush()


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [e["submission_id"] for e in entries]


def evaluator_traces(ew: EvalWorld) -> list[str]:
    return [text for user in ew.evaluators.values() for text in (user.name, str(user.id))]


async def ready_to_decree(ew: EvalWorld) -> tuple[Edition, dict[str, Any]]:
    """Everything evaluated, the final results announced and their window over."""
    edition = await evaluate(ew)
    final = await announced(ew, "final_results")
    await end_window(ew, final["id"])
    return edition, final


# --- 1. announcements -----------------------------------------------------------------------


async def test_a_round_outcome_announces_the_advanced_entries_by_rank(ew: EvalWorld) -> None:
    edition = await evaluate(ew, through="round1")

    # Round 2 is still open: neither its outcome nor the final results can be announced.
    problem(await announce(ew, "round_outcome", ew.round2), 409, "announcement.round_open")
    problem(await announce(ew, "final_results"), 409, "announcement.rounds_open")
    body = problem(await announce(ew, "round_outcome"), 422, "announcement.unknown_round")
    assert [e["pointer"] for e in body["errors"]] == ["/round_id"]
    body = problem(
        await announce(ew, "final_results", ew.round1), 422, "announcement.round_not_allowed"
    )
    assert [e["pointer"] for e in body["errors"]] == ["/round_id"]
    problem(await ew.client.get(f"/v1/announcements/{uuid.uuid4()}"), 404, "announcement.not_found")

    response = await announce(ew, "round_outcome", ew.round1)
    body = ok(response, 201)
    assert response.headers["Location"] == f"/v1/announcements/{body['id']}"
    assert body["kind"] == "round_outcome"
    assert body["round_id"] == str(ew.round1.id)
    assert body["competition_id"] == str(ew.competition.id)
    match = NUMBER.match(body["number"])
    assert match is not None, body["number"]
    published = datetime.fromisoformat(body["published_at"])
    assert int(match.group(2)) == published.astimezone(dates.WIB).year
    assert ids(body["entries"]) == [str(e.id) for e in edition.advanced]
    assert [e["rank"] for e in body["entries"]] == [1, 2, 3]
    assert {e["tier"] for e in body["entries"]} == {"top_45"}
    assert all(e["score"] is None and e["disqualified"] is False for e in body["entries"])
    first = body["entries"][0]
    assert first["institution_id"] == str(ew.surabaya.id)
    assert first["institution_name"] == ew.surabaya.name
    assert first["innovation_id"] == str(edition.entries[0].innovation_id)
    assert first["innovation_title"]

    # The window: 5 calendar days (WIB) after the day of publication, to that day's end.
    assert body["objection_days"] == 5
    assert body["objections_open"] is True
    closes = datetime.fromisoformat(body["objections_close_at"]).astimezone(dates.WIB)
    assert closes.date() == published.astimezone(dates.WIB).date() + timedelta(days=5)
    assert closes.time() == time(23, 59, 59, 999999)

    # An explicit number; the same number again (in any case) is a conflict.
    explicit = await announced(ew, "round_outcome", ew.round1, number="B/187/PP.00.05/2022")
    assert explicit["number"] == "B/187/PP.00.05/2022"
    for again in ("B/187/PP.00.05/2022", "b/187/pp.00.05/2022"):
        problem(
            await announce(ew, "round_outcome", ew.round1, number=again),
            409,
            "announcement.duplicate_number",
        )
    # The next automatic number is the year's next.
    following = await announced(ew, "round_outcome", ew.round1)
    next_match = NUMBER.match(following["number"])
    assert next_match is not None
    assert int(next_match.group(1)) == int(match.group(1)) + 1
    assert next_match.group(2) == match.group(2)

    events = await audit_events(ew, body["id"], action="publish")
    assert len(events) == 1


async def test_announcing_is_for_whoever_runs_the_edition(ew: EvalWorld) -> None:
    await evaluate(ew, through="round1")
    local = await ew.auth(Role.local_admin, institution_id=ew.surabaya.id)
    problem(await announce(ew, "round_outcome", ew.round1, ANONYMOUS), 401, "auth.required")
    problem(await announce(ew, "round_outcome", ew.round1, local), 403, "auth.role_forbidden")
    evaluator = ew.headers(ew.evaluators["dosen_a"])
    problem(await announce(ew, "round_outcome", ew.round1, evaluator), 403, "auth.role_forbidden")


async def test_the_final_results_list_the_tiered_entries_top_5_first(ew: EvalWorld) -> None:
    edition = await evaluate(ew)
    e = edition.entries
    round_outcome = await announced(ew, "round_outcome", ew.round1)
    final = await announced(ew, "final_results")
    assert final["round_id"] is None
    # The winner (round 2's first) first, then the top_45 by their round-1 rank; the entries
    # eliminated in round 1 hold no tier and are not listed.
    assert ids(final["entries"]) == [str(e[2].id), str(e[0].id), str(e[1].id)]
    assert [x["tier"] for x in final["entries"]] == ["top_5", "top_45", "top_45"]
    assert [x["rank"] for x in final["entries"]] == [1, 1, 2]

    # Anyone reads them, without scores (the edition does not publish them) and without any
    # trace of the evaluators.
    public = await get_announcement(ew, final["id"])
    assert ids(public["entries"]) == ids(final["entries"])
    assert all(x["score"] is None for x in public["entries"])
    listing = ok(
        await ew.client.get(f"/v1/competitions/{ew.competition.id}/announcements", headers={})
    )
    assert {a["id"] for a in listing["items"]} == {final["id"], round_outcome["id"]}
    texts = [
        (await ew.client.get(f"/v1/announcements/{final['id']}")).text,
        (await ew.client.get(f"/v1/announcements/{round_outcome['id']}")).text,
        (await ew.client.get(f"/v1/competitions/{ew.competition.id}/announcements")).text,
    ]
    for text in texts:
        for trace in evaluator_traces(ew):
            assert trace not in text
        assert "evaluator" not in text

    # Where the edition publishes scores, they are shown: each the entry's score in the round
    # that decided it.
    await set_competition(ew, publish_scores=True)
    scores1 = {x["submission_id"]: x["score"] for x in (await ew.ranking(ew.round1))["entries"]}
    scores2 = {x["submission_id"]: x["score"] for x in (await ew.ranking(ew.round2))["entries"]}
    public = await get_announcement(ew, final["id"])
    shown = {x["submission_id"]: x["score"] for x in public["entries"]}
    assert shown == {
        str(e[2].id): scores2[str(e[2].id)],
        str(e[0].id): scores1[str(e[0].id)],
        str(e[1].id): scores1[str(e[1].id)],
    }
    assert all(isinstance(score, float) for score in shown.values())
    outcome = await get_announcement(ew, round_outcome["id"])
    assert [x["score"] for x in outcome["entries"]] == [scores1[str(x.id)] for x in e[:3]]
    text = (await ew.client.get(f"/v1/announcements/{final['id']}")).text
    for trace in evaluator_traces(ew):
        assert trace not in text


# --- 2. the objection window ------------------------------------------------------------------


async def test_anyone_objects_during_the_window_and_nobody_after_it(ew: EvalWorld) -> None:
    edition = await evaluate(ew, through="round1")
    outcome = await announced(ew, "round_outcome", ew.round1)

    response = await file(ew, outcome["id"], edition.entries[1])
    receipt = ok(response, 201)
    assert response.headers["Location"] == f"/v1/objections/{receipt['id']}"
    assert set(receipt) == {"id", "announcement_id", "submission_id", "status", "created_at"}
    assert receipt["status"] == "filed"
    assert receipt["submission_id"] == str(edition.entries[1].id)
    assert CONTACT not in response.text
    # The trail keeps the filer's contact out.
    events = await audit_events(ew, receipt["id"], action="file")
    assert len(events) == 1
    assert CONTACT not in str(events)

    # An entry the announcement does not list (round 1's fourth was eliminated).
    body = problem(
        await file(ew, outcome["id"], edition.entries[3]), 422, "objection.not_announced"
    )
    assert [e["pointer"] for e in body["errors"]] == ["/submission_id"]

    # After the window.
    await end_window(ew, outcome["id"])
    assert (await get_announcement(ew, outcome["id"]))["objections_open"] is False
    body = problem(
        await file(ew, outcome["id"], edition.entries[0]), 409, "objection.window_closed"
    )
    assert "objections_close_at" in body

    # An announcement with no window at all.
    closed = await announced(ew, "round_outcome", ew.round1, objection_days=0)
    assert closed["objection_days"] == 0
    assert closed["objections_open"] is False
    assert closed["objections_close_at"] == closed["published_at"]
    problem(await file(ew, closed["id"], edition.entries[0]), 409, "objection.window_closed")

    listed = ok(
        await ew.client.get(f"/v1/announcements/{outcome['id']}/objections", headers=ew.admin)
    )
    assert [o["id"] for o in listed["items"]] == [receipt["id"]]


async def test_objections_and_their_filers_contacts_are_the_organisers_only(
    ew: EvalWorld, make_hub: HubFactory
) -> None:
    edition = await evaluate(ew, through="round1")
    outcome = await announced(ew, "round_outcome", ew.round1)
    receipt = await filed(ew, outcome["id"], edition.entries[0])
    url = f"/v1/announcements/{outcome['id']}/objections"

    listed = ok(await ew.client.get(url, headers=ew.admin))
    (item,) = listed["items"]
    assert item["id"] == receipt["id"]
    assert item["filer_name"] == "Budi Santoso"
    assert item["filer_contact"] == CONTACT
    assert item["reason"] == REASON
    assert item["status"] == "filed"
    assert item["review_note"] is None
    assert item["reviewed_at"] is None

    response = await ew.client.get(f"/v1/objections/{receipt['id']}", headers=ew.admin)
    one = ok(response)
    assert one["filer_contact"] == CONTACT
    assert response.headers["ETag"] == f'"{one["version"]}"'

    local = await ew.auth(Role.local_admin, institution_id=ew.surabaya.id)
    evaluator = ew.headers(ew.evaluators["dosen_a"])
    operator = await ew.auth(Role.unit_operator, unit_id=ew.units[ew.surabaya.id].id)
    hub = await make_hub(status=HubStatus.active)
    hub_admin = await ew.auth(Role.hub_admin, hub_id=hub.id)

    problem(await ew.client.get(url), 401, "auth.required")
    problem(await ew.client.get(url, headers=local), 403, "auth.role_forbidden")
    problem(await ew.client.get(url, headers=evaluator), 403, "auth.role_forbidden")
    # A hub admin of another hub sees the national edition but does not run it.
    problem(await ew.client.get(url, headers=hub_admin), 403, "competition.out_of_scope")

    one_url = f"/v1/objections/{receipt['id']}"
    problem(await ew.client.get(one_url), 401, "auth.required")
    for headers in (local, evaluator, operator):
        problem(await ew.client.get(one_url, headers=headers), 403, "auth.role_forbidden")
    problem(await ew.client.get(one_url, headers=hub_admin), 404, "objection.not_found")
    problem(await review(ew, receipt["id"], "dismissed", hub_admin), 404, "objection.not_found")
    problem(await review(ew, receipt["id"], "dismissed", local), 403, "auth.role_forbidden")
    problem(
        await ew.client.get(f"/v1/objections/{uuid.uuid4()}", headers=ew.admin),
        404,
        "objection.not_found",
    )


# --- 3. reviewing objections ------------------------------------------------------------------


async def test_dismissing_leaves_the_entry_and_the_decision_is_final(ew: EvalWorld) -> None:
    edition = await evaluate(ew)
    final = await announced(ew, "final_results")
    receipt = await filed(ew, final["id"], edition.winner)

    # Only an upheld objection frees a place to promote into.
    body = problem(
        await review(ew, receipt["id"], "dismissed", promote_next=True),
        422,
        "objection.promote_when_upheld",
    )
    assert [e["pointer"] for e in body["errors"]] == ["/promote_next"]

    current = ok(await ew.client.get(f"/v1/objections/{receipt['id']}", headers=ew.admin))
    stale = {**ew.admin, "If-Match": f'"{current["version"] + 1}"'}
    problem(await review(ew, receipt["id"], "dismissed", stale), 412, "objection.version_mismatch")

    response = await review(
        ew, receipt["id"], "dismissed", {**ew.admin, "If-Match": f'"{current["version"]}"'}
    )
    decided = ok(response)
    assert decided["status"] == "dismissed"
    assert decided["review_note"] == NOTE
    assert decided["reviewed_at"] is not None
    assert decided["promoted_submission_id"] is None
    assert response.headers["ETag"] == f'"{decided["version"]}"'
    winner = await submission(ew, edition.winner)
    assert winner["status"] == "finalist"
    assert winner["final_tier"] == "top_5"
    assert winner["disqualification_reason"] is None

    for decision in ("dismissed", "upheld"):
        body = problem(await review(ew, receipt["id"], decision), 409, "objection.reviewed")
        assert body["current_status"] == "dismissed"
    assert (await submission(ew, edition.winner))["status"] == "finalist"


async def test_upholding_on_the_final_results_disqualifies_the_entry(ew: EvalWorld) -> None:
    edition = await evaluate(ew)
    final = await announced(ew, "final_results")
    target = edition.entries[0]  # top_45, eliminated in round 2
    receipt = await filed(ew, final["id"], target)

    decided = ok(await review(ew, receipt["id"], "upheld"))
    assert decided["status"] == "upheld"
    assert decided["review_note"] == NOTE
    assert decided["promoted_submission_id"] is None
    entry = await submission(ew, target)
    assert entry["status"] == "disqualified"
    assert entry["disqualification_reason"] == NOTE
    assert entry["final_tier"] is None

    # The announcement keeps the entry and marks it.
    public = await get_announcement(ew, final["id"])
    assert ids(public["entries"]) == ids(final["entries"])
    marks = {x["submission_id"]: x["disqualified"] for x in public["entries"]}
    assert marks == {
        str(edition.winner.id): False,
        str(target.id): True,
        str(edition.entries[1].id): False,
    }

    events = await audit_events(ew, target.id, action="disqualify")
    assert len(events) == 1
    assert events[0]["changes"]["status"] == {"before": "eliminated", "after": "disqualified"}
    reviewed = await audit_events(ew, receipt["id"], action="review")
    assert reviewed[0]["changes"]["reason"]["after"] == NOTE
    problem(await review(ew, receipt["id"], "upheld"), 409, "objection.reviewed")


async def test_upholding_with_promote_next_advances_the_best_eliminated_entry(
    ew: EvalWorld,
) -> None:
    edition = await evaluate(ew, through="round1")
    e = edition.entries
    outcome = await announced(ew, "round_outcome", ew.round1)
    receipt = await filed(ew, outcome["id"], e[1])

    decided = ok(await review(ew, receipt["id"], "upheld", promote_next=True))
    assert decided["status"] == "upheld"
    assert decided["promoted_submission_id"] == str(e[3].id)

    dropped = await submission(ew, e[1])
    assert dropped["status"] == "disqualified"
    assert dropped["final_tier"] is None
    promoted = await submission(ew, e[3])
    assert promoted["status"] == "screened_in"
    assert promoted["round_id"] == str(ew.round2.id)
    assert promoted["final_tier"] == "top_45"
    assert (await submission(ew, e[4]))["status"] == "eliminated"
    outcomes = {x["submission_id"]: x["outcome"] for x in (await ew.ranking(ew.round1))["entries"]}
    assert outcomes[str(e[3].id)] == "advanced"
    assert outcomes[str(e[4].id)] == "eliminated"
    assert len(await audit_events(ew, e[3].id, action="promote")) == 1

    # Round 2 now evaluates the promoted entry in the disqualified one's place.
    round2 = await ew.ranking(ew.round2)
    in_round2 = {x["submission_id"] for x in round2["entries"]}
    assert in_round2 == {str(e[0].id), str(e[2].id), str(e[3].id)}
    # The announcement is a snapshot: it marks the disqualified entry, and lists no one new.
    public = await get_announcement(ew, outcome["id"])
    assert ids(public["entries"]) == [str(x.id) for x in e[:3]]
    assert [x["disqualified"] for x in public["entries"]] == [False, True, False]

    # Once round 2 is closed, nobody can be promoted into it any more.
    dosen_a = ew.evaluators["dosen_a"]
    for entry, value in ((e[0], 4), (e[2], 5), (e[3], 3)):
        await ew.scored(ew.round2, entry, dosen_a, value)
    ok(await ew.close(ew.round2))
    late = await filed(ew, outcome["id"], e[0])
    problem(
        await review(ew, late["id"], "upheld", promote_next=True),
        409,
        "objection.too_late_to_promote",
    )
    # Refused as a whole: the objection is undecided, the entry untouched.
    one = ok(await ew.client.get(f"/v1/objections/{late['id']}", headers=ew.admin))
    assert one["status"] == "filed"
    kept = await submission(ew, e[0])
    assert kept["status"] == "eliminated"
    assert kept["final_tier"] == "top_45"


# --- 4. the decree ----------------------------------------------------------------------------


async def test_the_decree_waits_for_the_rounds_the_windows_and_the_objections(
    ew: EvalWorld,
) -> None:
    edition = await evaluate(ew, through="scored2")
    outcome = await announced(ew, "round_outcome", ew.round1)

    body = problem(await decree(ew), 409, "competition.results_not_ready")
    assert body["problems"] == [
        {
            "code": "competition.rounds_open",
            "message": "Rounds still open: 2 (Presentasi dan Wawancara).",
        },
        {
            "code": "competition.objection_window_open",
            "message": "An announcement's objection window is still open.",
        },
    ]
    ok(await ew.close(ew.round2))
    objection = await filed(ew, outcome["id"], edition.entries[0])
    await end_window(ew, outcome["id"])
    body = problem(await decree(ew), 409, "competition.results_not_ready")
    assert body["problems"] == [
        {"code": "competition.objections_pending", "message": "1 objections are not decided."},
        {
            "code": "competition.final_results_missing",
            "message": "The final results have not been announced.",
        },
    ]
    ok(await review(ew, objection["id"], "dismissed"))
    body = problem(await decree(ew), 409, "competition.results_not_ready")
    assert body["problems"] == [
        {
            "code": "competition.final_results_missing",
            "message": "The final results have not been announced.",
        }
    ]
    final = await announced(ew, "final_results")
    body = problem(await decree(ew), 409, "competition.results_not_ready")
    assert body["problems"] == [
        {
            "code": "competition.objection_window_open",
            "message": "An announcement's objection window is still open.",
        }
    ]
    competition = ok(await ew.client.get(f"/v1/competitions/{ew.competition.id}"))
    assert competition["status"] == "evaluation"
    assert await awards_of(ew, competition_id=str(ew.competition.id)) == []

    await end_window(ew, final["id"])
    decreed = ok(await decree(ew))
    assert decreed["status"] == "results_published"


async def test_the_decree_awards_every_tiered_entry_but_the_disqualified(
    ew: EvalWorld,
) -> None:
    edition = await evaluate(ew)
    e = edition.entries
    final = await announced(ew, "final_results")
    objection = await filed(ew, final["id"], e[1])
    ok(await review(ew, objection["id"], "upheld"))
    await end_window(ew, final["id"])

    local = await ew.auth(Role.local_admin, institution_id=ew.ministry.id)
    problem(await decree(ew, local), 403, "auth.role_forbidden")
    decreed = ok(await decree(ew))
    assert decreed["status"] == "results_published"

    awards = await awards_of(ew, competition_id=str(ew.competition.id))
    by_entry = {a["submission_id"]: a for a in awards}
    assert set(by_entry) == {str(e[2].id), str(e[0].id)}  # e[1] was disqualified
    for entry, tier, label in ((e[2], "top_5", "Top 5"), (e[0], "top_45", "Top 45")):
        award = by_entry[str(entry.id)]
        assert award["tier"] == tier
        assert award["year"] == 2026
        assert award["title"] == f"{label} KIPP Uji 2026"
        assert award["competition_id"] == str(ew.competition.id)
        assert award["innovation_id"] == str(entry.innovation_id)
        assert award["institution_id"] == str(entry.institution_id)
        one = ok(await ew.client.get(f"/v1/awards/{award['id']}"))
        assert one == award
    assert await awards_of(ew, competition_id=str(ew.competition.id), tier="top_5") == [
        by_entry[str(e[2].id)]
    ]
    assert await awards_of(ew, innovation_id=str(e[1].innovation_id)) == []

    # The results no longer change; and they are decreed once.
    late = ok(await ew.client.get(f"/v1/announcements/{final['id']}/objections", headers=ew.admin))
    assert late["items"][0]["status"] == "upheld"
    problem(await decree(ew), 409, "competition.invalid_transition")
    assert len(await awards_of(ew, competition_id=str(ew.competition.id))) == 2
    body = problem(await announce(ew, "final_results"), 409, "announcement.not_in_evaluation")
    assert body["competition_status"] == "results_published"
    # The announcements stay public, the disqualified entry marked.
    public = await get_announcement(ew, final["id"])
    assert [x["disqualified"] for x in public["entries"]] == [False, False, True]


async def test_an_objection_decided_after_the_decree_is_refused(ew: EvalWorld) -> None:
    """The decree needs every objection decided, so the edition is moved past it in the
    database to reach the review's own guard."""
    edition = await evaluate(ew)
    final = await announced(ew, "final_results")
    objection = await filed(ew, final["id"], edition.entries[0])
    await set_competition(ew, status=CompetitionStatus.results_published)
    problem(await review(ew, objection["id"], "upheld"), 409, "objection.results_decreed")
    assert (await submission(ew, edition.entries[0]))["status"] == "eliminated"


# --- 5. awards on innovations, and eligibility -------------------------------------------------


async def later_edition(ew: EvalWorld, ineligible: list[str]) -> dict[str, Any]:
    """A 2027 edition open for registration whose general group bars `ineligible` tiers."""
    now = datetime.now(UTC)
    competition = Competition(
        code=f"KIPP-{uuid.uuid4().hex[:8].upper()}",
        name="KIPP Uji 2027",
        year=2027,
        scope=CompetitionScope.national,
        organiser_institution_id=ew.kemenpan.id,
        legal_basis=[],
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=now + timedelta(days=30),
        status=CompetitionStatus.registration_open,
    )
    ew.session.add(competition)
    await ew.session.flush()
    group = CompetitionGroup(
        competition_id=competition.id,
        code="umum",
        name="Umum",
        min_implementation_months=0,
        ineligible_award_tiers=ineligible,
        requires_source_innovation=False,
        source_award_tiers=[],
    )
    category = CompetitionCategory(competition_id=competition.id, code="digital", name="Digital")
    round_ = CompetitionRound(
        competition_id=competition.id,
        position=1,
        kind=RoundKind.desk_evaluation,
        name="Evaluasi Proposal",
    )
    ew.session.add_all([group, category, round_])
    await ew.session.flush()
    criterion = RoundCriterion(
        competition_id=competition.id,
        round_id=round_.id,
        group_id=group.id,
        position=1,
        name="Proposal",
        weight=100,
        min_score=0,
        max_score=100,
    )
    ew.session.add(criterion)
    await ew.session.flush()
    return {
        "competition_id": str(competition.id),
        "group_id": str(group.id),
        "category_id": str(category.id),
        "answers": [{"criterion_id": str(criterion.id), "text": "Jawaban proposal."}],
    }


async def enter_and_submit(
    ew: EvalWorld, edition: dict[str, Any], entry: Submission
) -> httpx.Response:
    """As a unit operator of the entry's unit: a draft of its innovation, then `submit`."""
    operator = await ew.auth(Role.unit_operator, unit_id=entry.unit_id)
    draft = ok(
        await ew.client.post(
            "/v1/submissions",
            json={**edition, "innovation_id": str(entry.innovation_id)},
            headers=operator,
        ),
        201,
    )
    return await ew.client.post(
        f"/v1/submissions/{draft['id']}/transitions", json={"action": "submit"}, headers=operator
    )


async def test_an_innovation_lists_its_awards_and_later_editions_read_them(
    ew: EvalWorld,
) -> None:
    edition, _ = await ready_to_decree(ew)
    ok(await decree(ew))
    winner = edition.winner
    url = f"/v1/innovations/{winner.innovation_id}/awards"
    (award,) = ok(await ew.client.get(url))["items"]
    assert award["tier"] == "top_5"
    assert award["submission_id"] == str(winner.id)

    # A historic award, recorded by the secretariat, joins the history (newest year first).
    historic = {
        "innovation_id": str(winner.innovation_id),
        "tier": "top_99",
        "year": 2019,
        "title": "Top 99 KIPP 2019",
    }
    local = await ew.auth(Role.local_admin, institution_id=ew.ministry.id)
    response = await ew.client.post("/v1/awards", json=historic, headers=local)
    problem(response, 403, "auth.role_forbidden")
    problem(await ew.client.post("/v1/awards", json=historic), 401, "auth.required")
    response = await ew.client.post("/v1/awards", json=historic, headers=ew.admin)
    created = ok(response, 201)
    assert response.headers["Location"] == f"/v1/awards/{created['id']}"
    assert created["competition_id"] is None
    assert created["submission_id"] is None
    assert created["institution_id"] == str(ew.ministry.id)
    assert created["tier"] == "top_99"
    body = problem(
        await ew.client.post(
            "/v1/awards", json={**historic, "innovation_id": str(uuid.uuid4())}, headers=ew.admin
        ),
        422,
        "award.unknown_innovation",
    )
    assert [e["pointer"] for e in body["errors"]] == ["/innovation_id"]
    history = ok(await ew.client.get(url))["items"]
    assert [a["id"] for a in history] == [award["id"], created["id"]]

    # A draft innovation's awards are not public.
    draft = await ew.make_innovation(ew.units[ew.ministry.id])
    ok(
        await ew.client.post(
            "/v1/awards", json={**historic, "innovation_id": str(draft.id)}, headers=ew.admin
        ),
        201,
    )
    draft_url = f"/v1/innovations/{draft.id}/awards"
    problem(await ew.client.get(draft_url), 404, "innovation.not_found")
    assert len(ok(await ew.client.get(draft_url, headers=ew.admin))["items"]) == 1
    response = await ew.client.get(f"/v1/innovations/{uuid.uuid4()}/awards")
    problem(response, 404, "innovation.not_found")

    # A later edition that bars top_5 winners refuses the winner, and takes a top_45.
    later = await later_edition(ew, ["top_5"])
    body = problem(
        await enter_and_submit(ew, later, winner), 409, "submission.ineligible_prior_award"
    )
    assert "submission.ineligible_prior_award" in [p["code"] for p in body["problems"]]
    response = await enter_and_submit(ew, later, edition.entries[0])
    assert ok(response)["status"] == "awaiting_local_admin"


# --- 6. what the public sees of the results -----------------------------------------------------


async def test_the_public_sees_the_evaluated_entries_only_once_decreed(ew: EvalWorld) -> None:
    edition, _ = await ready_to_decree(ew)
    url = f"/v1/submissions/{edition.winner.id}"
    problem(await ew.client.get(url), 404, "submission.not_found")
    ok(await decree(ew))

    response = await ew.client.get(url)
    body = ok(response)
    assert body["status"] == "finalist"
    assert body["final_tier"] == "top_5"
    assert not [key for key in body if "score" in key or "evaluat" in key]
    for trace in evaluator_traces(ew):
        assert trace not in response.text
    # Round 2's eliminated entries keep their top_45; round 1's hold none.
    top_45 = ok(await ew.client.get(f"/v1/submissions/{edition.entries[0].id}"))
    assert top_45["status"] == "eliminated"
    assert top_45["final_tier"] == "top_45"
    out = ok(await ew.client.get(f"/v1/submissions/{edition.entries[4].id}"))
    assert out["final_tier"] is None


# --- numbering, and a disqualified entry's open assignments -----------------------------------


async def test_the_automatic_number_skips_a_number_given_by_hand(ew: EvalWorld) -> None:
    await evaluate(ew, through="round1")
    year = datetime.now(dates.WIB).year
    await announced(ew, "round_outcome", ew.round1, number=f"B/2/PP.00.05/{year}")
    body = ok(await announce(ew, "round_outcome", ew.round1), 201)
    assert body["number"] != f"B/2/PP.00.05/{year}"


async def test_a_disqualified_entrys_unscored_assignment_does_not_hold_up_the_close(
    ew: EvalWorld,
) -> None:
    kept = await ew.entry(ew.surabaya)
    dropped = await ew.entry(ew.ministry)
    await ew.scored(ew.round1, kept, ew.evaluators["dosen_a"], 80)
    await ew.assigned(ew.round1, dropped, ew.evaluators["dosen_b"])  # never scored
    stored = await ew.session.get(Submission, dropped.id)
    assert stored is not None
    stored.status = SubmissionStatus.disqualified
    stored.disqualification_reason = "Keberatan diterima."
    await ew.session.flush()
    closed = await ew.close(ew.round1)
    assert closed.status_code == 200, closed.text
    assert (closed.json()["advanced"], closed.json()["eliminated"]) == (1, 0)
