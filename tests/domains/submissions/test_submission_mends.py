"""What a review of the first cut found: the window's opening, the entered innovation and the
source checked again when an entry is sent, what the public does not see of an entry, a
cancelled edition's entries, and deleting an entered innovation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.models.enums import CompetitionStatus, InnovationStatus
from tests.domains import assert_problem
from tests.domains.submissions.conftest import World, codes
from tests.domains.submissions.test_submission_rules import refused_step
from tests.fixtures.etag import if_match

S = CompetitionStatus


async def test_an_entry_is_not_sent_before_the_window_opens(
    w: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await w.draft()
    opens = w.kipp.competition.registration_opens_at
    assert opens is not None
    monkeypatch.setattr("app.core.dates.now", lambda: opens - timedelta(seconds=1))
    await refused_step(w, entry, "submit", w.operator, 409, "submission.registration_not_yet_open")
    monkeypatch.setattr("app.core.dates.now", lambda: opens)
    assert (await w.ok(entry["id"], "submit", w.operator))["status"] == "awaiting_local_admin"


async def test_a_draft_innovation_is_entered_but_sent_only_once_published(w: World) -> None:
    innovation = await w.innovation(status=InnovationStatus.draft)
    entry = await w.draft(innovation)
    await refused_step(w, entry, "submit", w.operator, 409, "submission.innovation_not_published")
    published = await w.client.post(f"/v1/innovations/{innovation.id}/publish", headers=w.operator)
    assert published.status_code == 200, published.text
    assert (await w.ok(entry["id"], "submit", w.operator))["status"] == "awaiting_local_admin"


async def test_an_innovation_archived_after_sending_is_refused_at_approval(w: World) -> None:
    innovation = await w.innovation()
    entry = await w.at("awaiting_local_admin", innovation)
    await w.set_innovation(innovation, status=InnovationStatus.archived)
    await refused_step(w, entry, "approve", w.local, 409, "submission.innovation_not_published")


async def test_a_source_unpublished_after_the_draft_is_refused_when_sent(w: World) -> None:
    source = await w.innovation(w.surabaya_unit, title="SUMBER REPLIKASI")
    await w.award(source, "top_45", 2022)
    entry = await w.draft(
        group=w.kipp.replikasi,
        source_innovation_id=str(source.id),
        answers=w.kipp.answers(w.kipp.replikasi),
    )
    await w.set_innovation(source, status=InnovationStatus.archived)
    problem = await refused_step(w, entry, "submit", w.operator, 422, "submission.source_invalid")
    assert "submission.source_not_awarded" not in codes(problem)


async def test_the_public_does_not_see_what_the_institution_and_organiser_wrote(
    w: World,
) -> None:
    entry = await w.at("submitted")
    await w.ok(entry["id"], "screen", w.admin, outcome="in", reason="Lengkap dan tepat waktu.")
    await w.set_status(w.kipp, S.results_published)
    inside = (await w.get(entry["id"], w.local)).json()
    assert inside["screening_note"] == "Lengkap dan tepat waktu."
    for headers in ({}, w.evaluator, w.local_sby):
        shown = (await w.get(entry["id"], headers)).json()
        assert shown["status"] == "screened_in"
        assert shown["screening_note"] is None
        listed: list[dict[str, Any]] = (
            await w.client.get("/v1/submissions", headers=headers)
        ).json()["items"]
        assert [(i["id"], i["screening_note"]) for i in listed] == [(entry["id"], None)]
    listed = (await w.client.get("/v1/submissions", headers=w.admin)).json()["items"]
    assert [i["screening_note"] for i in listed if i["id"] == entry["id"]] == [
        "Lengkap dan tepat waktu."
    ]


async def test_a_cancelled_editions_entries_are_not_withdrawn(w: World) -> None:
    entry = await w.at("submitted")
    await w.set_status(w.kipp, S.cancelled)
    response = await w.step(entry["id"], "withdraw", w.operator)
    problem = assert_problem(response, 409, "submission.competition_cancelled")
    assert problem["competition_status"] == "cancelled"


async def test_an_entered_draft_innovation_is_not_deleted(w: World) -> None:
    innovation = await w.innovation(status=InnovationStatus.draft)
    await w.draft(innovation)
    response = await w.client.delete(
        f"/v1/innovations/{innovation.id}",
        headers=await if_match(w.client, f"/v1/innovations/{innovation.id}", w.operator),
    )
    assert_problem(response, 409, "innovation.entered")
