"""The secretariat's verdict on a maturity assessment tells the hub's admins, whose record it
is: verified (with the year and total) or returned (with the reason); no other hub's."""

from __future__ import annotations

from app.core.config import Settings
from app.models.enums import Role
from tests.conftest import UserFactory
from tests.domains.maturity.test_maturity import Setup, s
from tests.fixtures.notified import notes, told

__all__ = ["s"]


async def test_the_verdict_tells_the_hubs_admins(
    s: Setup, make_user: UserFactory, settings: Settings
) -> None:
    w = s.w
    hub_admin = await make_user(Role.hub_admin, hub_id=s.hub.id)
    other_hub = await make_user(Role.hub_admin, hub_id=(await w.hub(w.jatim)).id)
    sumut = await make_user(Role.local_admin, institution_id=w.sumut.id)

    await s.returned(2024)
    assert await told(w.session, settings, "maturity.returned") == {hub_admin.id: 1}
    [note] = await notes(w.session, "maturity.returned", hub_admin.id)
    assert "2024" in note.title
    assert "Alasan: Lengkapi bukti diseminasi." in note.body

    await s.verified(2025)
    assert await told(w.session, settings, "maturity.verified") == {hub_admin.id: 1}
    [note] = await notes(w.session, "maturity.verified", hub_admin.id)
    assert "Nilai akhir: 56.51." in note.body
    for outsider in (other_hub, sumut):
        assert await notes(w.session, "maturity.verified", outsider.id) == []
        assert await notes(w.session, "maturity.returned", outsider.id) == []
