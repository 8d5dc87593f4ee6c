"""Results tell exactly those who may see them: an announcement its round's entrants (local
admins and unit operators of every entry the round evaluated, whatever the outcome), never a
score; an objection whoever runs the edition (the filer's contact stays out); an upheld
objection the disqualified entry's people (the filer unnamed); the decree's awards the winners'
institutions and units."""

from __future__ import annotations

import uuid

from app.domains.notifications import audience
from app.domains.results.objections import organisers
from app.models.accounts import User
from app.models.competitions import Competition
from app.models.enums import Role
from tests.domains.evaluation.conftest import EvalWorld
from tests.domains.results.test_results_api import (
    CONTACT,
    NOTE,
    announced,
    decree,
    evaluate,
    filed,
    ok,
    ready_to_decree,
    review,
)
from tests.fixtures.notified import dispatched, notes, told


async def _people(ew: EvalWorld) -> dict[str, User]:
    make = ew.make_user
    return {
        "surabaya": await make(Role.local_admin, institution_id=ew.surabaya.id),
        "medan": await make(Role.local_admin, institution_id=ew.medan.id),
        "medan_unit": await make(Role.unit_operator, unit_id=ew.units[ew.medan.id].id),
        "ministry": await make(Role.local_admin, institution_id=ew.ministry.id),
        "sumut": await make(Role.local_admin, institution_id=ew.sumut.id),
        "secretariat": await make(Role.secretariat_admin),
    }


async def test_an_announcement_tells_its_rounds_entrants_without_scores(ew: EvalWorld) -> None:
    people = await _people(ew)
    await evaluate(ew, through="round1")
    announcement = await announced(ew, "round_outcome", ew.round1)
    counts = await told(ew.session, ew.settings, "results.announced")
    entrants = ("surabaya", "medan", "medan_unit", "ministry")
    assert counts == {people[name].id: 1 for name in entrants}
    [note] = await notes(ew.session, "results.announced", people["medan"].id)
    assert note.title == "Pengumuman hasil: Evaluasi Proposal KIPP Uji 2026"
    assert "Sanggahan dapat diajukan sampai" in note.body
    assert note.link is not None
    assert note.link.endswith(f"/announcements/{announcement['id']}")
    [event] = await dispatched(ew.session, "results.announced")
    assert set(event.data) == {"announcement", "objections_close_at", "competition", "round"}
    for entry in announcement["entries"]:
        assert entry["score"] is None or str(entry["score"]) not in note.body


async def test_an_objection_tells_the_organiser_and_an_upheld_one_the_entry(
    ew: EvalWorld,
) -> None:
    people = await _people(ew)
    edition = await evaluate(ew, through="round1")
    announcement = await announced(ew, "round_outcome", ew.round1)
    target = edition.advanced[1]  # Medan's
    objection = await filed(ew, announcement["id"], target)
    assert await told(ew.session, ew.settings, "objection.filed") == {people["secretariat"].id: 1}
    [note] = await notes(ew.session, "objection.filed", people["secretariat"].id)
    assert "Budi Santoso" in note.body
    assert CONTACT not in note.body

    ok(await review(ew, objection["id"], "upheld"))
    counts = await told(ew.session, ew.settings, "objection.upheld")
    assert counts == {people["medan"].id: 1, people["medan_unit"].id: 1}
    [note] = await notes(ew.session, "objection.upheld", people["medan_unit"].id)
    assert f"Alasan: {NOTE}" in note.body
    assert "Budi Santoso" not in note.body
    assert CONTACT not in note.body
    assert note.link is not None
    assert note.link.endswith(f"/submissions/{target.id}")

    # a dismissed objection stays the organiser's
    other = await filed(ew, announcement["id"], edition.advanced[0])
    ok(await review(ew, other["id"], "dismissed"))
    assert await told(ew.session, ew.settings, "objection.upheld") == counts


def test_a_provincial_editions_objections_go_to_its_hub() -> None:
    hub_id = uuid.uuid4()
    assert organisers(Competition(hub_id=hub_id)) == audience.hub_admins(hub_id)
    assert organisers(Competition(hub_id=None)) == audience.secretariat()


async def test_the_decree_tells_each_winner(ew: EvalWorld) -> None:
    people = await _people(ew)
    edition, _ = await ready_to_decree(ew)
    ok(await decree(ew))
    counts = await told(ew.session, ew.settings, "award.granted")
    # the three that advanced from round 1 hold a tier: Surabaya's, Medan's, the ministry's
    assert [e.institution_id for e in edition.advanced] == [
        ew.surabaya.id,
        ew.medan.id,
        ew.ministry.id,
    ]
    assert counts == {
        people[name].id: 1 for name in ("surabaya", "medan", "medan_unit", "ministry")
    }
    [note] = await notes(ew.session, "award.granted", people["ministry"].id)
    assert note.title.endswith("meraih Top 5")
