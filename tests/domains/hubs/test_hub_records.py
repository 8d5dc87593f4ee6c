"""Hub records: creating (host kind, coordinating unit, contacts), reading and listing with
who-sees-what, editing the profile (hub admin vs secretariat), deleting candidates, ETags."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from app.models.enums import HubKind, HubStatus, Role
from app.models.hubs import Hub
from tests.domains import assert_problem
from tests.domains.hubs.conftest import World, today
from tests.fixtures.etag import if_match

S = HubStatus


def _body(w: World, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "JIPP Provinsi Sumatera Utara",
        "kind": "regional",
        "host_institution_id": str(w.sumut.id),
        **overrides,
    }


# --- create ---------------------------------------------------------------------------------


async def test_secretariat_creates_a_candidate_regional_hub_on_a_pemprov(w: World) -> None:
    body = _body(
        w,
        coordinating_unit_id=str(w.sumut_bureau.id),
        is_pilot=True,
        contacts=[{"name": "Sekretariat JIPP", "role": "Biro Organisasi", "phone": "+62 61 453"}],
    )
    response = await w.client.post("/v1/hubs", json=body, headers=w.admin)
    assert response.status_code == 201, response.text
    hub = response.json()
    assert response.headers["Location"] == f"/v1/hubs/{hub['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (hub["status"], hub["kind"], hub["is_pilot"]) == ("candidate", "regional", True)
    assert hub["candidate_date"] == today().isoformat()
    assert [hub[f] for f in ("committed_date", "designated_date", "designation_year")] == [None] * 3
    assert hub["coordinating_unit_id"] == str(w.sumut_bureau.id)
    assert hub["contacts"] == [
        {
            "name": "Sekretariat JIPP",
            "role": "Biro Organisasi",
            "email": None,
            "phone": "+62 61 453",
        }
    ]
    stored = await w.stored(Hub(id=uuid.UUID(hub["id"])))
    assert stored is not None
    assert stored.status is S.candidate
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == ("create", "hub", hub["id"])
    assert event.institution_id == w.sumut.id


async def test_secretariat_creates_a_central_hub_on_a_ministry(w: World) -> None:
    body = _body(
        w, name="JIPP Kementerian PANRB", kind="central", host_institution_id=str(w.kemenpan.id)
    )
    response = await w.client.post("/v1/hubs", json=body, headers=w.admin)
    assert response.status_code == 201, response.text
    assert response.json()["kind"] == "central"


@pytest.mark.parametrize(
    ("kind", "host", "message"),
    [
        ("regional", "medan", "A regional hub is hosted by a pemprov; Pemerintah Kota Medan is a "
         "pemkot."),
        ("regional", "kemenpan", "A regional hub is hosted by a pemprov; Kementerian "
         "Pendayagunaan Aparatur Negara dan Reformasi Birokrasi is a kementerian."),
        ("central", "sumut", "A central hub is hosted by a kementerian or lembaga; Pemerintah "
         "Provinsi Sumatera Utara is a pemprov."),
    ],
)  # fmt: skip
async def test_host_kind_must_fit_the_hub_kind(
    w: World, kind: str, host: str, message: str
) -> None:
    host_id = getattr(w, host).id
    response = await w.client.post(
        "/v1/hubs", json=_body(w, kind=kind, host_institution_id=str(host_id)), headers=w.admin
    )
    problem = assert_problem(
        response, 422, "hub.host_kind_mismatch", pointer="/host_institution_id"
    )
    assert problem["detail"] == message


async def test_unknown_host_is_422(w: World) -> None:
    response = await w.client.post(
        "/v1/hubs", json=_body(w, host_institution_id=str(uuid.uuid4())), headers=w.admin
    )
    assert_problem(response, 422, "hub.host_not_found", pointer="/host_institution_id")


async def test_coordinating_unit_must_be_the_hosts_own(w: World) -> None:
    response = await w.client.post(
        "/v1/hubs", json=_body(w, coordinating_unit_id=str(w.medan_dprd.id)), headers=w.admin
    )
    assert_problem(
        response, 422, "hub.coordinating_unit_not_of_host", pointer="/coordinating_unit_id"
    )


@pytest.mark.parametrize(
    ("contact", "pointer"),
    [
        ({"name": "Tanpa Kontak"}, "/contacts/0"),
        ({"name": "Surel Salah", "email": "bukan-surel"}, "/contacts/0/email"),
        ({"name": "Telepon Salah", "phone": "call me"}, "/contacts/0/phone"),
        ({"name": "X", "email": "a@b.id"}, "/contacts/0/name"),
        ({"name": "Lebih", "email": "a@b.id", "fax": "1"}, "/contacts/0/fax"),
    ],
)
async def test_invalid_contacts_are_422_with_a_pointer(
    w: World, contact: dict[str, str], pointer: str
) -> None:
    response = await w.client.post("/v1/hubs", json=_body(w, contacts=[contact]), headers=w.admin)
    assert_problem(response, 422, "validation_failed", pointer=pointer)


async def test_more_than_ten_contacts_is_422(w: World) -> None:
    contacts = [{"name": f"Kontak {i}", "email": f"k{i}@b.id"} for i in range(11)]
    response = await w.client.post("/v1/hubs", json=_body(w, contacts=contacts), headers=w.admin)
    assert_problem(response, 422, "validation_failed", pointer="/contacts")


async def test_a_new_hub_cannot_be_created_in_another_status(w: World) -> None:
    response = await w.client.post("/v1/hubs", json=_body(w, status="active"), headers=w.admin)
    assert_problem(response, 422, "validation_failed", pointer="/status")


async def test_candidate_date_in_the_future_is_422(w: World) -> None:
    response = await w.client.post(
        "/v1/hubs", json=_body(w, candidate_date="2100-01-01"), headers=w.admin
    )
    assert_problem(response, 422, "hub.date_in_future", pointer="/candidate_date")


async def test_duplicate_name_is_409(w: World) -> None:
    await w.hub(name="JIPP Provinsi Sumatera Utara")
    response = await w.client.post(
        "/v1/hubs", json=_body(w, name="jipp provinsi sumatera utara"), headers=w.admin
    )
    assert_problem(response, 409, "hub.duplicate_name", pointer="/name")


async def test_hub_admin_cannot_create_a_hub(w: World) -> None:
    own = await w.hub()
    response = await w.client.post("/v1/hubs", json=_body(w), headers=await w.hub_admin(own))
    assert_problem(response, 403, "auth.role_forbidden")


# --- who sees which hub ---------------------------------------------------------------------


@pytest.mark.parametrize("status", list(S))
async def test_the_public_sees_designated_active_and_inactive_hubs_only(
    w: World, status: HubStatus
) -> None:
    hub = await w.hub(status=status)
    public = status in (S.designated, S.active, S.inactive)
    got = await w.client.get(f"/v1/hubs/{hub.id}")
    if public:
        assert got.status_code == 200, got.text
        assert got.json()["status"] == status.value
    else:
        assert_problem(got, 404, "hub.not_found")
    listed = await w.client.get("/v1/hubs", params={"limit": 100})
    assert (str(hub.id) in {h["id"] for h in listed.json()["items"]}) is public


async def test_a_hub_admin_sees_its_own_candidate_hub_and_no_other(w: World) -> None:
    own = await w.hub(status=S.candidate)
    other = await w.hub(host=w.jatim, status=S.committed)
    headers = await w.hub_admin(own)
    assert (await w.client.get(f"/v1/hubs/{own.id}", headers=headers)).status_code == 200
    assert_problem(
        await w.client.get(f"/v1/hubs/{other.id}", headers=headers), 404, "hub.not_found"
    )
    listed = await w.client.get("/v1/hubs", params={"limit": 100}, headers=headers)
    ids = {h["id"] for h in listed.json()["items"]}
    assert str(own.id) in ids
    assert str(other.id) not in ids


async def test_other_roles_do_not_see_candidate_hubs(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    local_admin = await w.auth(Role.local_admin, institution_id=w.sumut.id)
    assert_problem(
        await w.client.get(f"/v1/hubs/{hub.id}", headers=local_admin), 404, "hub.not_found"
    )


async def test_the_secretariat_sees_every_hub(w: World) -> None:
    hubs = [await w.hub(status=status, host=w.jatim if status is S.active else None)
            for status in S]  # fmt: skip
    listed = await w.client.get("/v1/hubs", params={"limit": 100}, headers=w.admin)
    assert {str(h.id) for h in hubs} <= {h["id"] for h in listed.json()["items"]}


async def test_list_filters_by_kind_status_province_and_pilot(w: World) -> None:
    sumut = await w.hub(name="JIPP Sumut", is_pilot=False)
    jatim = await w.hub(host=w.jatim, name="JIPP Jatim", is_pilot=True)
    central = await w.hub(host=w.kemenpan, name="JIPP PANRB", kind=HubKind.central)
    old = await w.hub(host=w.jatim, status=S.inactive, name="JIPP Jatim Lama", is_pilot=True)

    async def names(**params: Any) -> set[str]:
        response = await w.client.get("/v1/hubs", params={"limit": 100, **params})
        assert response.status_code == 200, response.text
        mine = {sumut.name, jatim.name, central.name, old.name}
        return {h["name"] for h in response.json()["items"]} & mine

    assert await names(kind="central") == {"JIPP PANRB"}
    assert await names(kind="regional", status="active") == {"JIPP Sumut", "JIPP Jatim"}
    assert await names(province="35") == {"JIPP Jatim", "JIPP Jatim Lama"}
    assert await names(is_pilot="true", status=["active", "inactive"]) == {
        "JIPP Jatim",
        "JIPP Jatim Lama",
    }
    assert await names(q="sumut") == {"JIPP Sumut"}
    assert await names(host_institution_id=str(w.kemenpan.id)) == {"JIPP PANRB"}


async def test_province_filter_takes_a_province_code_only(w: World) -> None:
    response = await w.client.get("/v1/hubs", params={"province": "12.71"})
    assert_problem(response, 422, "validation_failed")


async def test_list_pages_with_a_signed_cursor(w: World) -> None:
    for name in ("JIPP A", "JIPP B", "JIPP C"):
        await w.hub(status=S.designated, name=name)
    first = await w.client.get("/v1/hubs", params={"limit": 2, "q": "JIPP ", "sort": "name"})
    body = first.json()
    assert [h["name"] for h in body["items"]] == ["JIPP A", "JIPP B"]
    assert body["has_more"] is True
    second = await w.client.get(
        "/v1/hubs",
        params={"limit": 2, "q": "JIPP ", "sort": "name", "cursor": body["next_cursor"]},
    )
    assert [h["name"] for h in second.json()["items"]] == ["JIPP C"]
    assert second.json()["has_more"] is False
    other_sort = await w.client.get(
        "/v1/hubs",
        params={"limit": 2, "q": "JIPP ", "sort": "-name", "cursor": body["next_cursor"]},
    )
    assert_problem(other_sort, 400, "cursor.mismatch")


# --- the profile ----------------------------------------------------------------------------


async def test_hub_admin_edits_its_own_hubs_profile(w: World) -> None:
    hub = await w.hub(status=S.committed)
    change = {
        "name": "JIPP Sumatera Utara",
        "coordinating_unit_id": str(w.sumut_bureau.id),
        "contacts": [{"name": "Admin JIPP", "email": "JIPP@SumutProv.go.id"}],
    }
    response = await w.client.patch(
        f"/v1/hubs/{hub.id}", json=change, headers={**await w.hub_admin(hub), "If-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["version"], body["status"]) == (
        "JIPP Sumatera Utara",
        2,
        "committed",
    )
    assert body["contacts"][0]["email"] == "jipp@sumutprov.go.id"
    assert response.headers["ETag"] == '"2"'
    (event,) = await w.events(response)
    assert event.action == "update"
    assert set(event.changes) == {"name", "coordinating_unit_id", "contacts", "version"}


@pytest.mark.parametrize(
    "change",
    [
        {"is_pilot": True},
        {"designation_decree_reference": "Keputusan Menteri PANRB Nomor 1"},
        {"designation_year": 2021},
    ],
)
async def test_hub_admin_cannot_change_the_pilot_flag_or_the_designation(
    w: World, change: dict[str, Any]
) -> None:
    hub = await w.hub()
    response = await w.client.patch(
        f"/v1/hubs/{hub.id}",
        json=change,
        headers=await if_match(w.client, f"/v1/hubs/{hub.id}", await w.hub_admin(hub)),
    )
    assert_problem(response, 403, "hub.field_forbidden")


async def test_nobody_changes_the_status_with_patch(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    response = await w.client.patch(
        f"/v1/hubs/{hub.id}",
        json={"status": "active"},
        headers=await if_match(w.client, f"/v1/hubs/{hub.id}", w.admin),
    )
    assert_problem(response, 422, "validation_failed", pointer="/status")


async def test_hub_admin_of_another_hub_gets_403_on_a_public_hub_and_404_on_a_candidate(
    w: World,
) -> None:
    own = await w.hub(host=w.jatim)
    public = await w.hub()
    candidate = await w.hub(status=S.candidate)
    headers = await w.hub_admin(own)
    response = await w.client.patch(
        f"/v1/hubs/{public.id}",
        json={"name": "X1"},
        headers=await if_match(w.client, f"/v1/hubs/{public.id}", headers),
    )
    assert_problem(response, 403, "hub.out_of_scope")
    response = await w.client.patch(
        f"/v1/hubs/{candidate.id}",
        json={"name": "X1"},
        headers=await if_match(w.client, f"/v1/hubs/{candidate.id}", headers),
    )
    assert_problem(response, 404, "hub.not_found")


async def test_secretariat_corrects_the_designation_of_a_designated_hub(w: World) -> None:
    hub = await w.hub(status=S.designated)
    change = {"designation_decree_reference": "Keputusan Menteri PANRB Nomor 94 Tahun 2020",
              "designation_year": 2020, "is_pilot": True}  # fmt: skip
    response = await w.client.patch(
        f"/v1/hubs/{hub.id}",
        json=change,
        headers=await if_match(w.client, f"/v1/hubs/{hub.id}", w.admin),
    )
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in change} == change


async def test_a_hub_not_yet_designated_has_no_designation_to_edit(w: World) -> None:
    hub = await w.hub(status=S.committed)
    response = await w.client.patch(
        f"/v1/hubs/{hub.id}",
        json={"designation_year": 2021},
        headers=await if_match(w.client, f"/v1/hubs/{hub.id}", w.admin),
    )
    assert_problem(response, 422, "hub.not_designated", pointer="/designation_year")


async def test_a_designated_hub_keeps_its_decree(w: World) -> None:
    hub = await w.hub(status=S.active)
    response = await w.client.patch(
        f"/v1/hubs/{hub.id}",
        json={"designation_decree_reference": None},
        headers=await if_match(w.client, f"/v1/hubs/{hub.id}", w.admin),
    )
    assert_problem(response, 422, "hub.field_required", pointer="/designation_decree_reference")


async def test_name_cannot_be_removed(w: World) -> None:
    hub = await w.hub()
    response = await w.client.patch(
        f"/v1/hubs/{hub.id}",
        json={"name": None},
        headers=await if_match(w.client, f"/v1/hubs/{hub.id}", w.admin),
    )
    assert_problem(response, 422, "hub.field_required", pointer="/name")


# --- ETags ----------------------------------------------------------------------------------


async def test_get_returns_the_etag_and_if_none_match_gives_304(w: World) -> None:
    hub = await w.hub()
    got = await w.client.get(f"/v1/hubs/{hub.id}")
    assert got.headers["ETag"] == '"1"'
    again = await w.client.get(f"/v1/hubs/{hub.id}", headers={"If-None-Match": '"1"'})
    assert again.status_code == 304


async def test_stale_if_match_is_412_and_changes_nothing(w: World) -> None:
    hub = await w.hub()
    response = await w.client.patch(
        f"/v1/hubs/{hub.id}", json={"name": "JIPP Baru"}, headers={**w.admin, "If-Match": '"7"'}
    )
    problem = assert_problem(response, 412, "hub.version_mismatch")
    assert problem["current_version"] == 1
    stored = await w.stored(hub)
    assert stored is not None
    assert (stored.name, stored.version) == (hub.name, 1)
    assert await w.events(response) == []


# --- delete ---------------------------------------------------------------------------------


async def test_secretariat_deletes_a_candidate_hub_with_its_members(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    added = await w.client.post(
        f"/v1/hubs/{hub.id}/members", json={"institution_id": str(w.medan.id)}, headers=w.admin
    )
    assert added.status_code == 201, added.text
    response = await w.client.delete(f"/v1/hubs/{hub.id}", headers={**w.admin, "If-Match": '"1"'})
    assert response.status_code == 204, response.text
    assert await w.stored(hub) is None
    gone = await w.client.get(f"/v1/hubs/{hub.id}/members/{added.json()['id']}", headers=w.admin)
    assert_problem(gone, 404, "hub.not_found")
    events = {(e.action, e.entity_type, e.entity_id) for e in await w.events(response)}
    assert events == {
        ("delete", "hub_member", added.json()["id"]),
        ("delete", "hub", str(hub.id)),
    }


@pytest.mark.parametrize("status", [S.committed, S.designated, S.active, S.inactive])
async def test_only_candidate_hubs_can_be_deleted(w: World, status: HubStatus) -> None:
    hub = await w.hub(status=status)
    response = await w.client.delete(
        f"/v1/hubs/{hub.id}", headers=await if_match(w.client, f"/v1/hubs/{hub.id}", w.admin)
    )
    problem = assert_problem(response, 409, "hub.not_a_candidate")
    assert problem["current_status"] == status.value
    assert await w.stored(hub) is not None


async def test_delete_with_a_stale_if_match_is_412(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    response = await w.client.delete(f"/v1/hubs/{hub.id}", headers={**w.admin, "If-Match": '"2"'})
    assert_problem(response, 412, "hub.version_mismatch")
    assert await w.stored(hub) is not None


async def test_a_hub_an_account_names_cannot_be_deleted(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    await w.hub_admin(hub)
    response = await w.client.delete(
        f"/v1/hubs/{hub.id}", headers=await if_match(w.client, f"/v1/hubs/{hub.id}", w.admin)
    )
    assert_problem(response, 409, "conflict.in_use")


async def test_an_account_cannot_name_a_hub_that_does_not_exist(w: World) -> None:
    response = await w.client.post(
        "/v1/api-keys",
        json={"name": "Kunci JIPP", "role": "hub_admin", "hub_id": str(uuid.uuid4())},
        headers=w.admin,
    )
    assert_problem(response, 422, "api_key.hub_not_found", pointer="/hub_id")
