"""An evaluator is told of each entry it is assigned (by hand or handed over; auto-assignment:
one message with the number), and reminded before a round closes while it has entries left to
score, 48 h and 24 h before, once each; nobody else hears of assignments (not the entrants,
not the evaluator who had it before, not the other evaluators)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core import dates
from app.domains.evaluation.reminders import remind_closing_rounds
from app.models.competitions import CompetitionRound
from app.models.enums import Role, RoundStatus
from app.models.notifications import NotificationEvent
from tests.domains.evaluation.conftest import EvalWorld
from tests.fixtures.notified import dispatched, notes, told


async def test_the_assigned_evaluator_alone_is_told(ew: EvalWorld) -> None:
    entrant_admin = await ew.make_user(Role.local_admin, institution_id=ew.surabaya.id)
    dosen_a, dosen_b = ew.evaluators["dosen_a"], ew.evaluators["dosen_b"]
    entry = await ew.entry(ew.surabaya, title="SIKULIN Uji")
    assignment = await ew.assigned(ew.round1, entry, dosen_a)
    assert await told(ew.session, ew.settings, "assignment.created") == {dosen_a.id: 1}
    [note] = await notes(ew.session, "assignment.created", dosen_a.id)
    assert note.title == "Penugasan penilaian baru: SIKULIN Uji"
    assert "Evaluasi Proposal" in note.body
    assert note.link is not None
    assert note.link.endswith(f"/assignments/{assignment['id']}")

    handed = await ew.client.post(
        f"/v1/assignments/{assignment['id']}/reassign",
        json={"evaluator_id": str(dosen_b.id)},
        headers=ew.admin,
    )
    assert handed.status_code == 201, handed.text
    counts = await told(ew.session, ew.settings, "assignment.created")
    assert counts == {dosen_a.id: 1, dosen_b.id: 1}
    [note] = await notes(ew.session, "assignment.created", dosen_b.id)
    # the evaluator who had it is not named to the new one
    assert dosen_a.name not in note.body
    assert note.link is not None
    assert note.link.endswith(f"/assignments/{handed.json()['id']}")
    assert await notes(ew.session, "assignment.created", entrant_admin.id) == []


async def test_auto_assignment_tells_each_evaluator_once_with_its_count(ew: EvalWorld) -> None:
    for institution in (ew.surabaya, ew.medan, ew.ministry):
        await ew.entry(institution)
    panel = [ew.evaluators[name] for name in ("dosen_a", "dosen_b", "sumut")]
    response = await ew.client.post(
        f"/v1/rounds/{ew.round1.id}/assignments/auto-assign",
        json={"evaluator_ids": [str(e.id) for e in panel], "evaluators_per_submission": 2},
        headers=ew.admin,
    )
    assert response.status_code == 201, response.text
    loads = {load["evaluator_id"]: load["assignments"] for load in response.json()["loads"]}
    counts = await told(ew.session, ew.settings, "assignment.auto_assigned")
    given = {e.id: loads[str(e.id)] for e in panel if loads[str(e.id)]}
    assert set(counts) == set(given)
    assert set(counts.values()) == {1}
    for evaluator in panel:
        for note in await notes(ew.session, "assignment.auto_assigned", evaluator.id):
            assert f"{given[evaluator.id]} usulan" in note.body
    assert await told(ew.session, ew.settings, "assignment.created") == {}


async def _set_closes_at(ew: EvalWorld, closes_at: datetime) -> None:
    round_ = await ew.session.get(CompetitionRound, ew.round1.id)
    assert round_ is not None
    round_.closes_at = closes_at
    await ew.session.flush()


async def test_evaluators_with_work_left_are_reminded_once_per_window(
    ew: EvalWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    dosen_a, dosen_b = ew.evaluators["dosen_a"], ew.evaluators["dosen_b"]
    first, second = await ew.entry(ew.surabaya), await ew.entry(ew.medan)
    await ew.assigned(ew.round1, first, dosen_a)
    await ew.assigned(ew.round1, second, dosen_a)
    await ew.scored(ew.round1, first, dosen_b, 80)  # dosen_b has nothing left
    closes_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
    await _set_closes_at(ew, closes_at)

    async def tick(before_close: timedelta) -> int:
        monkeypatch.setattr(dates, "now", lambda: closes_at - before_close)
        return await remind_closing_rounds(ew.session)

    assert await tick(timedelta(hours=49)) == 0  # not yet
    assert await tick(timedelta(hours=47)) == 1
    assert await tick(timedelta(hours=30)) == 0  # the same window, another tick
    monkeypatch.undo()
    assert await told(ew.session, ew.settings, "round.closing_soon") == {dosen_a.id: 1}
    [note] = await notes(ew.session, "round.closing_soon", dosen_a.id)
    wib = closes_at.astimezone(dates.WIB).strftime("%Y-%m-%d %H:%M WIB")
    assert f"ditutup {wib}" in note.body
    assert "Masih ada 2 usulan" in note.body

    assert await tick(timedelta(hours=23)) == 1  # the last day
    assert await tick(timedelta(hours=1)) == 0
    monkeypatch.undo()
    assert await told(ew.session, ew.settings, "round.closing_soon") == {dosen_a.id: 2}
    # the events carry no more than the message shows
    events = await dispatched(ew.session, "round.closing_soon")
    assert [set(e.data) for e in events] == [{"unscored", "closes_at", "competition", "round"}] * 2
    assert all(e.audience == [{"user": str(dosen_a.id)}] for e in events)


async def test_a_round_past_its_close_or_closed_reminds_nobody(
    ew: EvalWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = await ew.entry(ew.surabaya)
    await ew.assigned(ew.round1, entry, ew.evaluators["dosen_a"])
    closes_at = datetime.now(UTC) + timedelta(hours=10)
    await _set_closes_at(ew, closes_at)
    monkeypatch.setattr(dates, "now", lambda: closes_at + timedelta(minutes=1))
    assert await remind_closing_rounds(ew.session) == 0
    monkeypatch.undo()
    round_ = await ew.session.get(CompetitionRound, ew.round1.id)
    assert round_ is not None
    round_.status = RoundStatus.closed
    round_.closed_at = datetime.now(UTC)
    await ew.session.flush()
    assert await remind_closing_rounds(ew.session) == 0
    found = await ew.session.scalars(
        select(NotificationEvent.id).where(NotificationEvent.kind == "round.closing_soon")
    )
    assert list(found) == []
