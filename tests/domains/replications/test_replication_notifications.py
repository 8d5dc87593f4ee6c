"""A replication's steps tell its sides as they see it: a request the source's side (its
institution's local admins and its unit's operators), the answer the adopter's side, the
signed agreement both sides and the facilitating hub; an implemented replication not evaluated
reminds the adopter's side 30, 60 and 90 days on, once each. Nobody else: not the source
institution's other units, not another hub, not the person who took the step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import dates
from app.core.config import Settings
from app.domains.replications.reminders import remind_evaluations
from app.models.accounts import User
from app.models.enums import Role
from tests.conftest import UserFactory, bearer_for
from tests.domains.replications.conftest import World
from tests.fixtures.notified import notes, told


async def _people(w: World, make_user: UserFactory) -> dict[str, User]:
    return {
        "malang": await make_user(Role.local_admin, institution_id=w.malang.id),
        "malang_a": await make_user(Role.unit_operator, unit_id=w.malang_a.id),
        "malang_b": await make_user(Role.unit_operator, unit_id=w.malang_b.id),
        "medan": await make_user(Role.local_admin, institution_id=w.medan.id),
        "medan_unit": await make_user(Role.unit_operator, unit_id=w.medan_unit.id),
        "medan_unit2": await make_user(Role.unit_operator, unit_id=w.medan_unit2.id),
        "surabaya": await make_user(Role.local_admin, institution_id=w.surabaya.id),
        "hub_jatim": await make_user(Role.hub_admin, hub_id=w.hub_jatim.id),
        "hub_sumut": await make_user(Role.hub_admin, hub_id=w.hub_sumut.id),
    }


def _ids(people: dict[str, User], *names: str) -> dict[object, int]:
    return {people[name].id: 1 for name in names}


async def test_each_step_tells_the_sides_that_see_it(
    w: World, make_user: UserFactory, settings: Settings
) -> None:
    people = await _people(w, make_user)
    replication = await w.request(facilitator="hub", facilitator_hub_id=str(w.hub_jatim.id))
    rid = replication["id"]
    counts = await told(w.session, settings, "replication.requested")
    assert counts == _ids(people, "malang", "malang_a")
    [note] = await notes(w.session, "replication.requested", people["malang"].id)
    assert note.title == "Permohonan replikasi: SAMBAT ONLINE"
    assert "Pemerintah Kota Medan" in note.body

    await w.ok(rid, "approve", bearer_for(settings, people["malang"]))
    counts = await told(w.session, settings, "replication.decided")
    assert counts == _ids(people, "medan", "medan_unit")

    # the adopter unit's operator signs: the others of both sides and the hub are told
    await w.ok(rid, "sign_agreement", bearer_for(settings, people["medan_unit"]))
    counts = await told(w.session, settings, "replication.agreement_signed")
    assert counts == _ids(people, "malang", "malang_a", "medan", "hub_jatim")


async def test_a_rejection_tells_the_adopter_why(
    w: World, make_user: UserFactory, settings: Settings
) -> None:
    people = await _people(w, make_user)
    replication = await w.request()
    await w.ok(replication["id"], "reject", w.local_malang, reason="Belum siap dibagikan.")
    counts = await told(w.session, settings, "replication.decided")
    assert counts == _ids(people, "medan", "medan_unit")
    [note] = await notes(w.session, "replication.decided", people["medan"].id)
    assert note.title == "Permohonan replikasi ditolak: SAMBAT ONLINE"
    assert "Alasan: Belum siap dibagikan." in note.body


async def test_an_evaluation_due_reminds_the_adopter_three_times_at_most(
    w: World, make_user: UserFactory, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = await _people(w, make_user)
    await w.at("implemented")
    today = dates.today_wib()

    async def on(days: int) -> int:
        monkeypatch.setattr(dates, "today_wib", lambda: today + timedelta(days=days))
        return await remind_evaluations(w.session)

    assert await on(29) == 0
    assert await on(30) == 1
    assert await on(31) == 0
    assert await on(65) == 1
    assert await on(200) == 1  # the third and last
    assert await on(260) == 0
    monkeypatch.undo()
    counts = await told(w.session, settings, "replication.evaluation_due")
    assert counts == {people["medan"].id: 3, people["medan_unit"].id: 3}
    [note, *_] = await notes(w.session, "replication.evaluation_due", people["medan"].id)
    assert f"pada {today.isoformat()}" in note.body
