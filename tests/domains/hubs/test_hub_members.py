"""Hub members: the geography rule (a regional hub takes its province's regencies and cities
and the province's own units, a central hub its own units), membership history (leaving keeps
the record, rejoining adds one) and who manages whose members."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models.enums import HubKind, HubStatus, Role
from app.models.hubs import Hub, HubMember
from tests.domains import assert_problem
from tests.domains.hubs.conftest import World, today

S = HubStatus


async def add(
    w: World, hub: Hub, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    body = {k: str(v) if isinstance(v, uuid.UUID | date) else v for k, v in body.items()}
    return await w.client.post(f"/v1/hubs/{hub.id}/members", json=body, headers=headers or w.admin)


async def leave(
    w: World, hub: Hub, member_id: str, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    return await w.client.post(
        f"/v1/hubs/{hub.id}/members/{member_id}/leave", json=body, headers=headers or w.admin
    )


async def rows(w: World, hub: Hub) -> list[tuple[uuid.UUID, uuid.UUID | None, date, date | None]]:
    """The hub's membership rows as stored: (institution, unit, joined, left), oldest first."""
    result = await w.session.execute(
        select(HubMember.institution_id, HubMember.unit_id, HubMember.joined_date,
               HubMember.left_date)
        .where(HubMember.hub_id == hub.id)
        .order_by(HubMember.joined_date, HubMember.created_at)
    )  # fmt: skip
    return [tuple(row) for row in result.all()]  # type: ignore[misc]


# --- geography ------------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["medan", "deli_serdang"])
async def test_a_regional_hub_takes_the_regencies_and_cities_of_its_province(
    w: World, member: str
) -> None:
    hub = await w.hub()
    institution = getattr(w, member)
    response = await add(w, hub, institution_id=institution.id, joined_date="2022-10-03")
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/hubs/{hub.id}/members/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (body["institution_id"], body["unit_id"]) == (str(institution.id), None)
    assert (body["joined_date"], body["left_date"]) == ("2022-10-03", None)
    assert await rows(w, hub) == [(institution.id, None, date(2022, 10, 3), None)]


async def test_a_regional_hub_takes_the_provinces_own_units(w: World) -> None:
    hub = await w.hub()
    response = await add(w, hub, unit_id=w.sumut_bureau.id)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["institution_id"], body["unit_id"]) == (str(w.sumut.id), str(w.sumut_bureau.id))
    assert body["joined_date"] == today().isoformat()


async def test_an_institution_of_another_province_is_422_naming_both_provinces(
    w: World,
) -> None:
    hub = await w.hub()
    response = await add(w, hub, institution_id=w.malang.id)
    problem = assert_problem(
        response, 422, "hub_member.outside_province", pointer="/institution_id"
    )
    assert problem["detail"] == (
        "Pemerintah Kota Malang lies in province 35 (Jawa Timur), not in the hub's province "
        "12 (Sumatera Utara)."
    )
    assert await rows(w, hub) == []


async def test_the_same_institution_joins_its_own_provinces_hub(w: World) -> None:
    jatim_hub = await w.hub(host=w.jatim)
    assert (await add(w, jatim_hub, institution_id=w.malang.id)).status_code == 201


@pytest.mark.parametrize(
    ("member", "kind"),
    [
        ("sumut", "pemprov"),
        ("jatim", "pemprov"),
        ("tirtanadi", "bumd"),
        ("kemenpan", "kementerian"),
    ],
)
async def test_a_regional_hub_takes_no_other_kind_of_institution(
    w: World, member: str, kind: str
) -> None:
    hub = await w.hub()
    response = await add(w, hub, institution_id=getattr(w, member).id)
    problem = assert_problem(
        response, 422, "hub_member.kind_not_allowed", pointer="/institution_id"
    )
    assert problem["detail"].endswith(f"is a {kind}.")


@pytest.mark.parametrize("unit", ["medan_dprd", "jatim_bureau"])
async def test_a_regional_hub_takes_no_unit_of_another_institution(w: World, unit: str) -> None:
    hub = await w.hub()
    response = await add(w, hub, unit_id=getattr(w, unit).id)
    problem = assert_problem(response, 422, "hub_member.unit_not_of_host", pointer="/unit_id")
    assert "the province's own units" in problem["detail"]


async def test_a_central_hub_takes_its_own_units(w: World) -> None:
    hub = await w.hub(host=w.kemenpan, kind=HubKind.central)
    response = await add(w, hub, unit_id=w.kemenpan_deputy.id)
    assert response.status_code == 201, response.text
    assert response.json()["institution_id"] == str(w.kemenpan.id)


@pytest.mark.parametrize("member", ["medan", "kemenpan"])
async def test_a_central_hub_takes_no_institution(w: World, member: str) -> None:
    hub = await w.hub(host=w.kemenpan, kind=HubKind.central)
    response = await add(w, hub, institution_id=getattr(w, member).id)
    assert_problem(response, 422, "hub_member.central_units_only", pointer="/institution_id")


async def test_a_central_hub_takes_no_unit_of_another_institution(w: World) -> None:
    hub = await w.hub(host=w.kemenpan, kind=HubKind.central)
    response = await add(w, hub, unit_id=w.medan_dprd.id)
    assert_problem(response, 422, "hub_member.unit_not_of_host", pointer="/unit_id")


@pytest.mark.parametrize("body", ["neither", "both"])
async def test_the_member_is_named_exactly_once(w: World, body: str) -> None:
    hub = await w.hub()
    named = (
        {} if body == "neither" else {"institution_id": w.medan.id, "unit_id": w.sumut_bureau.id}
    )
    response = await add(w, hub, **named)
    assert_problem(response, 422, "hub_member.member_unnamed", pointer="/institution_id")


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"institution_id": uuid.uuid4()}, "hub_member.institution_not_found", "/institution_id"),
        ({"unit_id": uuid.uuid4()}, "hub_member.unit_not_found", "/unit_id"),
        ({"joined_date": "2100-01-01"}, "hub_member.date_in_future", "/joined_date"),
    ],
)
async def test_invalid_members_are_422(
    w: World, body: dict[str, Any], code: str, pointer: str
) -> None:
    hub = await w.hub()
    if "joined_date" in body:
        body = {**body, "institution_id": w.medan.id}
    assert_problem(await add(w, hub, **body), 422, code, pointer=pointer)


# --- history --------------------------------------------------------------------------------


async def test_leaving_sets_left_date_and_keeps_the_record(w: World) -> None:
    hub = await w.hub()
    member = (await add(w, hub, institution_id=w.medan.id, joined_date="2022-10-03")).json()
    response = await leave(
        w, hub, member["id"], {**w.admin, "If-Match": '"1"'}, left_date="2024-12-31",
        reason="Bergabung dengan jaringan lain.",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert (response.json()["left_date"], response.json()["version"]) == ("2024-12-31", 2)
    got = await w.client.get(f"/v1/hubs/{hub.id}/members/{member['id']}")
    assert got.status_code == 200
    assert got.json()["left_date"] == "2024-12-31"
    assert await rows(w, hub) == [(w.medan.id, None, date(2022, 10, 3), date(2024, 12, 31))]
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "leave",
        "hub_member",
        member["id"],
    )
    assert event.changes["left_date"] == {"before": None, "after": "2024-12-31"}
    assert event.changes["reason"]["after"] == "Bergabung dengan jaringan lain."


async def test_leaving_without_a_body_leaves_today(w: World) -> None:
    hub = await w.hub()
    member = (await add(w, hub, institution_id=w.medan.id, joined_date="2022-10-03")).json()
    response = await w.client.post(
        f"/v1/hubs/{hub.id}/members/{member['id']}/leave", headers=w.admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["left_date"] == today().isoformat()


async def test_rejoining_adds_a_new_record_and_keeps_the_old_one(w: World) -> None:
    hub = await w.hub()
    first = (await add(w, hub, institution_id=w.medan.id, joined_date="2020-03-02")).json()
    assert (await leave(w, hub, first["id"], left_date="2021-06-30")).status_code == 200
    second = await add(w, hub, institution_id=w.medan.id, joined_date="2022-10-03")
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first["id"]
    assert await rows(w, hub) == [
        (w.medan.id, None, date(2020, 3, 2), date(2021, 6, 30)),
        (w.medan.id, None, date(2022, 10, 3), None),
    ]

    async def listed(**params: Any) -> list[str]:
        response = await w.client.get(f"/v1/hubs/{hub.id}/members", params=params)
        assert response.status_code == 200, response.text
        return [m["id"] for m in response.json()["items"]]

    assert await listed() == [first["id"], second.json()["id"]]
    assert await listed(current="true") == [second.json()["id"]]
    assert await listed(current="false") == [first["id"]]
    assert await listed(sort="-joined_date") == [second.json()["id"], first["id"]]
    assert await listed(institution_id=str(w.deli_serdang.id)) == []


async def test_a_member_cannot_join_twice_while_it_belongs(w: World) -> None:
    hub = await w.hub()
    first = await add(w, hub, unit_id=w.sumut_bureau.id)
    problem = assert_problem(
        await add(w, hub, unit_id=w.sumut_bureau.id), 409, "hub_member.already_member"
    )
    assert problem["member_id"] == first.json()["id"]


async def _insert(w: World, member: HubMember) -> None:
    async with w.session.begin_nested():
        w.session.add(member)
        await w.session.flush()


async def test_the_database_allows_one_open_membership_per_member(w: World) -> None:
    hub = await w.hub()
    for unit_id in (None, w.sumut_bureau.id):
        institution_id = w.medan.id if unit_id is None else w.sumut.id
        row = {"hub_id": hub.id, "institution_id": institution_id, "unit_id": unit_id}
        w.session.add(HubMember(**row, joined_date=date(2020, 1, 1), left_date=date(2020, 2, 1)))
        w.session.add(HubMember(**row, joined_date=date(2021, 1, 1)))
        await w.session.flush()
        with pytest.raises(IntegrityError, match="uq_hub_members_open"):
            await _insert(w, HubMember(**row, joined_date=date(2022, 1, 1)))


async def test_leaving_twice_is_409(w: World) -> None:
    hub = await w.hub()
    member = (await add(w, hub, institution_id=w.medan.id, joined_date="2022-10-03")).json()
    assert (await leave(w, hub, member["id"], left_date="2023-01-01")).status_code == 200
    assert_problem(await leave(w, hub, member["id"]), 409, "hub_member.already_left")


async def test_leaving_before_joining_is_422(w: World) -> None:
    hub = await w.hub()
    member = (await add(w, hub, institution_id=w.medan.id, joined_date="2022-10-03")).json()
    assert_problem(
        await leave(w, hub, member["id"], left_date="2022-10-02"),
        422,
        "hub_member.left_before_joined",
        pointer="/left_date",
    )


async def test_rejoining_before_the_last_leave_is_422(w: World) -> None:
    hub = await w.hub()
    member = (await add(w, hub, institution_id=w.medan.id, joined_date="2020-03-02")).json()
    assert (await leave(w, hub, member["id"], left_date="2021-06-30")).status_code == 200
    assert_problem(
        await add(w, hub, institution_id=w.medan.id, joined_date="2021-01-01"),
        422,
        "hub_member.joined_before_left",
        pointer="/joined_date",
    )


async def test_leaving_with_a_stale_if_match_is_412(w: World) -> None:
    hub = await w.hub()
    member = (await add(w, hub, institution_id=w.medan.id)).json()
    response = await leave(w, hub, member["id"], {**w.admin, "If-Match": '"2"'})
    assert_problem(response, 412, "hub_member.version_mismatch")
    got = await w.client.get(f"/v1/hubs/{hub.id}/members/{member['id']}")
    assert got.json()["left_date"] is None
    assert got.headers["ETag"] == '"1"'
    assert (
        await w.client.get(
            f"/v1/hubs/{hub.id}/members/{member['id']}", headers={"If-None-Match": '"1"'}
        )
    ).status_code == 304


async def test_an_inactive_hub_takes_no_new_members_but_members_may_leave(w: World) -> None:
    hub = await w.hub()
    member = (await add(w, hub, institution_id=w.medan.id, joined_date="2022-10-03")).json()
    w.session.expunge_all()
    stored = await w.session.get(Hub, hub.id)
    assert stored is not None
    stored.status, stored.inactivated_date = S.inactive, date(2025, 1, 2)
    await w.session.flush()
    problem = assert_problem(
        await add(w, hub, institution_id=w.deli_serdang.id), 409, "hub.inactive"
    )
    assert problem["current_status"] == "inactive"
    assert (await leave(w, hub, member["id"])).status_code == 200


async def test_adding_a_member_leaves_one_create_event(w: World) -> None:
    hub = await w.hub()
    response = await add(w, hub, institution_id=w.medan.id)
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "create",
        "hub_member",
        response.json()["id"],
    )
    assert event.institution_id == w.sumut.id


# --- who manages and who sees members -------------------------------------------------------


async def test_a_hub_admin_manages_its_own_hubs_members(w: World) -> None:
    hub = await w.hub(status=S.committed)
    headers = await w.hub_admin(hub)
    added = await add(w, hub, headers, institution_id=w.deli_serdang.id)
    assert added.status_code == 201, added.text
    left = await leave(w, hub, added.json()["id"], headers)
    assert left.status_code == 200, left.text


async def test_a_hub_admin_of_another_hub_gets_403_on_a_public_hub_and_404_on_a_candidate(
    w: World,
) -> None:
    other = await w.hub(host=w.jatim)
    headers = await w.hub_admin(other)
    public = await w.hub()
    member = (await add(w, public, institution_id=w.medan.id)).json()
    assert_problem(
        await add(w, public, headers, institution_id=w.deli_serdang.id), 403, "hub.out_of_scope"
    )
    assert_problem(await leave(w, public, member["id"], headers), 403, "hub.out_of_scope")
    candidate = await w.hub(status=S.candidate, name="JIPP Calon")
    assert_problem(
        await add(w, candidate, headers, institution_id=w.medan.id), 404, "hub.not_found"
    )


@pytest.mark.parametrize(
    "role", [Role.local_admin, Role.unit_operator, Role.evaluator, Role.regional_system]
)
async def test_other_roles_cannot_add_members(w: World, role: Role) -> None:
    hub = await w.hub()
    scope = (
        {"institution_id": w.medan.id} if role in (Role.local_admin, Role.regional_system) else {}
    )
    if role is Role.unit_operator:
        scope = {"unit_id": w.medan_dprd.id}
    response = await add(w, hub, await w.auth(role, **scope), institution_id=w.medan.id)
    assert_problem(response, 403, "auth.role_forbidden")


async def test_the_public_never_sees_the_members_of_a_candidate_hub(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    member = (await add(w, hub, institution_id=w.medan.id)).json()
    for path in (f"/v1/hubs/{hub.id}/members", f"/v1/hubs/{hub.id}/members/{member['id']}"):
        assert_problem(await w.client.get(path), 404, "hub.not_found")
        own = await w.client.get(path, headers=await w.hub_admin(hub))
        assert own.status_code == 200, own.text


async def test_a_member_record_is_found_only_under_its_own_hub(w: World) -> None:
    hub = await w.hub()
    other = await w.hub(host=w.jatim)
    member = (await add(w, hub, institution_id=w.medan.id)).json()
    response = await w.client.get(f"/v1/hubs/{other.id}/members/{member['id']}")
    assert_problem(response, 404, "hub_member.not_found")
    assert_problem(await leave(w, other, member["id"]), 404, "hub_member.not_found")
