"""A membership's start and end tell the hub's admins (but the one who made the change) and
the member: its institution's local admins, and a member unit's operators. A candidate hub is
not public: its members are not told of it."""

from __future__ import annotations

from app.core.config import Settings
from app.models.enums import HubStatus, Role
from tests.conftest import UserFactory, bearer_for
from tests.domains.hubs.conftest import World, today
from tests.fixtures.notified import notes, told


async def test_joining_and_leaving_tell_the_member_and_the_hub(
    w: World, make_user: UserFactory, settings: Settings
) -> None:
    hub = await w.hub()  # North Sumatra's, active
    hub_admin = await make_user(Role.hub_admin, hub_id=hub.id, name="Admin JIPP Sumut")
    colleague = await make_user(Role.hub_admin, hub_id=hub.id)
    medan = await make_user(Role.local_admin, institution_id=w.medan.id)
    deli = await make_user(Role.local_admin, institution_id=w.deli_serdang.id)
    other_hub = await make_user(Role.hub_admin, hub_id=(await w.hub(w.jatim)).id)

    added = await w.client.post(
        f"/v1/hubs/{hub.id}/members",
        json={"institution_id": str(w.medan.id)},
        headers=bearer_for(settings, hub_admin),
    )
    assert added.status_code == 201, added.text
    counts = await told(w.session, settings, "hub_membership.added")
    assert counts == {colleague.id: 1, medan.id: 1}
    [note] = await notes(w.session, "hub_membership.added", medan.id)
    assert note.title == f"Anggota baru jaringan {hub.name}: Pemerintah Kota Medan"
    assert f"sejak {today().isoformat()}" in note.body

    left = await w.client.post(
        f"/v1/hubs/{hub.id}/members/{added.json()['id']}/leave", json={}, headers=w.admin
    )
    assert left.status_code == 200, left.text
    counts = await told(w.session, settings, "hub_membership.ended")
    assert counts == {hub_admin.id: 1, colleague.id: 1, medan.id: 1}
    for outsider in (deli, other_hub):
        assert await notes(w.session, "hub_membership.added", outsider.id) == []
        assert await notes(w.session, "hub_membership.ended", outsider.id) == []


async def test_a_member_unit_tells_its_operators_and_its_institution(
    w: World, make_user: UserFactory, settings: Settings
) -> None:
    hub = await w.hub()
    bureau = await make_user(Role.unit_operator, unit_id=w.sumut_bureau.id)
    province = await make_user(Role.local_admin, institution_id=w.sumut.id)
    added = await w.client.post(
        f"/v1/hubs/{hub.id}/members", json={"unit_id": str(w.sumut_bureau.id)}, headers=w.admin
    )
    assert added.status_code == 201, added.text
    counts = await told(w.session, settings, "hub_membership.added")
    assert counts == {bureau.id: 1, province.id: 1}


async def test_a_candidate_hubs_members_are_not_told(
    w: World, make_user: UserFactory, settings: Settings
) -> None:
    hub = await w.hub(status=HubStatus.candidate)
    hub_admin = await make_user(Role.hub_admin, hub_id=hub.id)
    medan = await make_user(Role.local_admin, institution_id=w.medan.id)
    added = await w.client.post(
        f"/v1/hubs/{hub.id}/members", json={"institution_id": str(w.medan.id)}, headers=w.admin
    )
    assert added.status_code == 201, added.text
    counts = await told(w.session, settings, "hub_membership.added")
    assert counts == {hub_admin.id: 1}
    assert medan.id not in counts
