"""An objection upheld with `promote_next` publishes an amended announcement (*pengumuman
perubahan*): it names the promoted entry in the disqualified one's place, links to the
announcement it amends and opens its own objection window, so that anyone may object to the
promoted entry as they could to the entries first announced; the decree waits for that window
too (docs/evaluation.md, "Objections")."""

from __future__ import annotations

from typing import Any

import httpx

from app.models.submissions import Submission
from tests.domains.evaluation.conftest import EvalWorld
from tests.domains.results.test_results_api import (
    ANONYMOUS,
    NOTE,
    NUMBER,
    announced,
    audit_events,
    awards_of,
    decree,
    end_window,
    evaluate,
    file,
    filed,
    get_announcement,
    ids,
    ok,
    problem,
    submission,
)


async def review(ew: EvalWorld, objection_id: str, decision: str, **body: Any) -> httpx.Response:
    """The organiser's decision, sent with If-Match: the objection's ETag."""
    current = await ew.client.get(f"/v1/objections/{objection_id}", headers=ew.admin)
    assert current.status_code == 200, current.text
    return await ew.client.post(
        f"/v1/objections/{objection_id}/review",
        json={"decision": decision, "note": NOTE, **body},
        headers={**ew.admin, "If-Match": current.headers["ETag"]},
    )


async def upheld_promoting(
    ew: EvalWorld, announcement_id: str, entry: Submission, **body: Any
) -> dict[str, Any]:
    receipt = await filed(ew, announcement_id, entry)
    decided: dict[str, Any] = ok(
        await review(ew, receipt["id"], "upheld", promote_next=True, **body)
    )
    return decided


async def test_a_promotion_is_announced_in_an_amended_announcement(ew: EvalWorld) -> None:
    e = (await evaluate(ew, through="round1")).entries
    outcome = await announced(ew, "round_outcome", ew.round1)

    decided = await upheld_promoting(ew, outcome["id"], e[1])
    assert decided["promoted_submission_id"] == str(e[3].id)
    amendment_id = decided["amendment_announcement_id"]
    assert amendment_id is not None

    # Anyone reads it: the promoted entry, in place of the disqualified one, with its rank and
    # the round's tier; its own window, as long as the amended announcement's.
    amendment = await get_announcement(ew, amendment_id)
    assert amendment["amends_announcement_id"] == outcome["id"]
    assert (amendment["kind"], amendment["round_id"]) == ("round_outcome", str(ew.round1.id))
    assert ids(amendment["entries"]) == [str(e[3].id)]
    (entry,) = amendment["entries"]
    assert entry["replaces_submission_id"] == str(e[1].id)
    assert (entry["rank"], entry["tier"], entry["disqualified"]) == (4, "top_45", False)
    assert entry["innovation_id"] == str(e[3].innovation_id)
    assert amendment["objection_days"] == outcome["objection_days"] == 5
    assert amendment["objections_open"] is True
    assert NUMBER.match(amendment["number"]) is not None
    assert amendment["number"] != outcome["number"]
    assert amendment["title"] == (
        f"Perubahan atas Pengumuman Nomor {outcome['number']}: {outcome['title']}"
    )
    assert amendment["amended_by"] == []

    # The amended announcement stays a snapshot and points to its amendment.
    original = await get_announcement(ew, outcome["id"])
    assert original["amended_by"] == [amendment_id]
    assert original["amends_announcement_id"] is None
    assert ids(original["entries"]) == [str(x.id) for x in e[:3]]
    assert all(x["replaces_submission_id"] is None for x in original["entries"])
    listing = ok(
        await ew.client.get(f"/v1/competitions/{ew.competition.id}/announcements", headers={})
    )
    assert {a["id"] for a in listing["items"]} == {outcome["id"], amendment_id}
    assert len(await audit_events(ew, amendment_id, action="publish")) == 1

    # Anyone may object to the promoted entry now; the amendment lists nobody else.
    receipt = ok(await file(ew, amendment_id, e[3]), 201)
    assert receipt["announcement_id"] == amendment_id
    problem(await file(ew, amendment_id, e[0]), 422, "objection.not_announced")


async def test_an_objection_to_a_promoted_entry_can_promote_the_next_one(ew: EvalWorld) -> None:
    e = (await evaluate(ew, through="round1")).entries
    outcome = await announced(ew, "round_outcome", ew.round1)
    first = await upheld_promoting(ew, outcome["id"], e[1])

    second = await upheld_promoting(ew, first["amendment_announcement_id"], e[3])
    assert second["promoted_submission_id"] == str(e[4].id)
    amendment = await get_announcement(ew, second["amendment_announcement_id"])
    assert amendment["amends_announcement_id"] == first["amendment_announcement_id"]
    assert [(x["submission_id"], x["replaces_submission_id"]) for x in amendment["entries"]] == [
        (str(e[4].id), str(e[3].id))
    ]
    assert (await submission(ew, e[3]))["status"] == "disqualified"
    assert (await submission(ew, e[4]))["round_id"] == str(ew.round2.id)


async def test_the_decree_waits_for_the_amended_announcements_window(ew: EvalWorld) -> None:
    e = (await evaluate(ew)).entries
    final = await announced(ew, "final_results")
    winner = e[2]  # round 2's first, top_5

    decided = await upheld_promoting(ew, final["id"], winner)
    # Round 2 decided the winner's place: its best eliminated entry is promoted to top_5.
    assert decided["promoted_submission_id"] == str(e[0].id)
    promoted = await submission(ew, e[0])
    assert (promoted["status"], promoted["final_tier"]) == ("finalist", "top_5")
    amendment = await get_announcement(ew, decided["amendment_announcement_id"])
    assert amendment["kind"] == "final_results"
    assert amendment["round_id"] is None
    assert [(x["submission_id"], x["tier"]) for x in amendment["entries"]] == [
        (str(e[0].id), "top_5")
    ]

    await end_window(ew, final["id"])
    body = problem(await decree(ew), 409, "competition.results_not_ready")
    assert body["problems"] == [
        {
            "code": "competition.objection_window_open",
            "message": "An announcement's objection window is still open.",
        }
    ]
    objection = await filed(ew, amendment["id"], e[0])
    await end_window(ew, amendment["id"])
    body = problem(await decree(ew), 409, "competition.results_not_ready")
    assert body["problems"] == [
        {"code": "competition.objections_pending", "message": "1 objections are not decided."}
    ]
    ok(await review(ew, objection["id"], "dismissed"))
    ok(await decree(ew))
    tiers = {a["submission_id"]: a["tier"] for a in await awards_of(ew)}
    assert tiers == {str(e[0].id): "top_5", str(e[1].id): "top_45"}


async def test_the_organiser_may_number_title_and_time_the_amendment(ew: EvalWorld) -> None:
    e = (await evaluate(ew, through="round1")).entries
    outcome = await announced(ew, "round_outcome", ew.round1, number="B/187/PP.00.05/2026")

    # A number already taken is refused before anything changes.
    receipt = await filed(ew, outcome["id"], e[1])
    taken = {"number": "b/187/pp.00.05/2026"}
    problem(
        await review(ew, receipt["id"], "upheld", promote_next=True, amendment=taken),
        409,
        "announcement.duplicate_number",
    )
    assert (
        ok(await ew.client.get(f"/v1/objections/{receipt['id']}", headers=ew.admin))["status"]
        == "filed"
    )
    assert (await submission(ew, e[1]))["status"] == "screened_in"  # still in round 2

    chosen = {
        "number": "B/262/PP.00.05/2026",
        "title": "Pengumuman Perubahan Hasil Evaluasi Proposal KIPP Uji 2026",
        "body": "Entri pengganti ditetapkan setelah keberatan diterima.",
        "objection_days": 3,
    }
    decided = ok(await review(ew, receipt["id"], "upheld", promote_next=True, amendment=chosen))
    amendment = await get_announcement(ew, decided["amendment_announcement_id"])
    assert {key: amendment[key] for key in chosen} == chosen
    assert amendment["objections_open"] is True


async def test_an_amendment_needs_a_promotion(ew: EvalWorld) -> None:
    e = (await evaluate(ew, through="round1")).entries
    outcome = await announced(ew, "round_outcome", ew.round1)
    receipt = await filed(ew, outcome["id"], e[1])
    body = problem(
        await review(ew, receipt["id"], "upheld", amendment={"objection_days": 3}),
        422,
        "objection.amendment_without_promotion",
    )
    assert [x["pointer"] for x in body["errors"]] == ["/amendment"]

    # Upheld without a promotion: the entry is disqualified (marked on the announcement), and
    # no amended announcement is published, since nobody new is announced.
    decided = ok(await review(ew, receipt["id"], "upheld"))
    assert decided["amendment_announcement_id"] is None
    original = await get_announcement(ew, outcome["id"], ANONYMOUS)
    assert original["amended_by"] == []
    listing = ok(
        await ew.client.get(f"/v1/competitions/{ew.competition.id}/announcements", headers={})
    )
    assert [a["id"] for a in listing["items"]] == [outcome["id"]]
