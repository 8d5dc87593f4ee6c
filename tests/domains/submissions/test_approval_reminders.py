"""The approvals reminder (`reminders.approvals`, hourly): before registration closes, the
local admins of each institution with entries still waiting for them are reminded 72 h and
24 h before, with how many wait; once per institution and window whatever the ticks; nobody
whose entries are all approved, nor another institution's people."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.core import dates
from app.core.config import Settings
from app.domains.jobs import builtin
from app.domains.jobs.kinds import JobContext
from app.models.competitions import Competition
from app.models.enums import Role
from tests.conftest import UserFactory
from tests.domains.submissions.conftest import World
from tests.fixtures.notified import notes, told


async def test_local_admins_with_entries_waiting_are_reminded_once_per_window(
    w: World, make_user: UserFactory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    medan = await make_user(Role.local_admin, institution_id=w.medan.id, language="en")
    surabaya = await make_user(Role.local_admin, institution_id=w.surabaya.id)
    operator = await make_user(Role.unit_operator, unit_id=w.medan_unit.id)
    for innovation in (w.inov, await w.innovation()):
        entry = await w.draft(innovation)
        await w.ok(entry["id"], "submit", w.operator)
    sby = await w.draft(w.inov_sby, headers=w.operator_sby)
    await w.ok(sby["id"], "submit", w.operator_sby)
    await w.ok(sby["id"], "approve", w.local_sby)  # nothing waits in Surabaya
    await told(w.session, settings, "submission.awaiting_approval")  # the steps' own

    closes_at = dates.now().replace(microsecond=0) + timedelta(days=10)
    await w.session.execute(
        update(Competition)
        .where(Competition.id == w.kipp.id)
        .values(registration_closes_at=closes_at)
    )
    await w.session.flush()

    async def tick(before_close: timedelta) -> None:
        monkeypatch.setattr(dates, "now", lambda: closes_at - before_close)
        job = builtin.REMIND_APPROVALS
        await job.handler(JobContext(w.session, settings, uuid.uuid4(), 1), {})

    for hours in (80, 70, 50, 23, 2):
        await tick(timedelta(hours=hours))
    monkeypatch.undo()
    counts = await told(w.session, settings, "submission.approval_reminder")
    assert counts == {medan.id: 2}
    first, last = await notes(w.session, "submission.approval_reminder", medan.id)
    assert first.title == "Reminder: 2 entries await your approval (KIPP Uji)"
    wib = closes_at.astimezone(dates.WIB).strftime("%Y-%m-%d %H:%M WIB")
    assert f"Registration closes {wib}" in first.body
    assert first.link is not None
    assert first.link.endswith(f"/competitions/{w.kipp.id}")
    assert last.title == first.title
    for outsider in (surabaya, operator):
        assert await notes(w.session, "submission.approval_reminder", outsider.id) == []
