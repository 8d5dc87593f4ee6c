"""Units: /v1/institutions/{id}/units and /v1/units/{id}: trees, scope, names, regions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import InstitutionKind, Role
from app.models.institutions import Institution, Unit
from tests.conftest import InstitutionFactory, KeyFactory, UnitFactory
from tests.domains import assert_problem
from tests.fixtures.etag import if_match

K = InstitutionKind


@pytest.fixture
async def medan(make_institution: InstitutionFactory) -> Institution:
    return await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")


@pytest.fixture
async def malang(make_institution: InstitutionFactory) -> Institution:
    return await make_institution(name="Pemerintah Kota Malang", kind=K.pemkot, region_code="35.73")


async def count_units(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Unit)) or 0)


async def row(session: AsyncSession, unit_id: uuid.UUID | str) -> dict[str, Any] | None:
    """The stored unit, read with a plain SELECT (not through the identity map)."""
    result = await session.execute(
        select(
            Unit.institution_id, Unit.parent_unit_id, Unit.name, Unit.region_code, Unit.version
        ).where(Unit.id == uuid.UUID(str(unit_id)))
    )
    found = result.one_or_none()
    return dict(found._mapping) if found is not None else None


async def post_unit(
    client: httpx.AsyncClient,
    institution: Institution | uuid.UUID,
    headers: dict[str, str],
    **body: Any,
) -> httpx.Response:
    institution_id = institution.id if isinstance(institution, Institution) else institution
    return await client.post(f"/v1/institutions/{institution_id}/units", json=body, headers=headers)


async def patch_unit(
    client: httpx.AsyncClient, unit: Unit, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.patch(
        f"/v1/units/{unit.id}",
        json=body,
        headers=await if_match(client, f"/v1/units/{unit.id}", headers),
    )


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


# --- create ---------------------------------------------------------------------------------


async def test_secretariat_creates_a_top_level_unit(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], medan: Institution
) -> None:
    response = await post_unit(client, medan, admin, name="Sekretariat DPRD Kota Medan")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["institution_id"] == str(medan.id)
    assert body["parent_unit_id"] is None
    assert body["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/units/{body['id']}"
    assert await row(session, body["id"]) == {
        "institution_id": medan.id,
        "parent_unit_id": None,
        "name": "Sekretariat DPRD Kota Medan",
        "region_code": None,
        "version": 1,
    }


async def test_secretariat_creates_a_nested_unit(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    office = await make_unit(medan, name="Dinas Pendidikan")
    response = await post_unit(
        client, medan, admin, name="SMP Negeri 1 Medan", parent_unit_id=str(office.id)
    )
    assert response.status_code == 201, response.text
    stored = await row(session, response.json()["id"])
    assert stored is not None
    assert stored["parent_unit_id"] == office.id


async def test_local_admin_creates_a_unit_in_its_own_institution(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    local_admin = await auth(Role.local_admin, institution_id=medan.id)
    office = await make_unit(medan, name="Dinas Kesehatan")
    response = await post_unit(
        client, medan, local_admin, name="Puskesmas Padang Bulan", parent_unit_id=str(office.id)
    )
    assert response.status_code == 201, response.text
    stored = await row(session, response.json()["id"])
    assert stored is not None
    assert (stored["institution_id"], stored["parent_unit_id"]) == (medan.id, office.id)


async def test_local_admin_of_another_institution_is_403_and_nothing_written(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    medan: Institution,
    malang: Institution,
) -> None:
    malang_admin = await auth(Role.local_admin, institution_id=malang.id)
    response = await post_unit(client, medan, malang_admin, name="Unit Titipan")
    assert_problem(response, 403, "unit.out_of_scope")
    assert await count_units(session) == 0


async def test_unit_operator_may_not_create_units(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    unit = await make_unit(medan, name="Sekretariat DPRD Kota Medan")
    operator = await auth(Role.unit_operator, unit_id=unit.id)
    response = await post_unit(client, medan, operator, name="Sub Bagian Umum")
    assert_problem(response, 403, "auth.role_forbidden")
    assert await count_units(session) == 1


async def test_anonymous_may_not_create_units(
    client: httpx.AsyncClient, session: AsyncSession, medan: Institution
) -> None:
    response = await post_unit(client, medan, {}, name="Unit Liar")
    assert_problem(response, 401, "auth.required")
    assert await count_units(session) == 0


async def test_create_in_unknown_institution_is_404(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    response = await post_unit(client, uuid.uuid4(), admin, name="Unit Yatim")
    assert_problem(response, 404, "institution.not_found")
    assert await count_units(session) == 0


async def test_parent_from_another_institution_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    malang: Institution,
    make_unit: UnitFactory,
) -> None:
    foreign = await make_unit(malang, name="Dinas Pendidikan Kota Malang")
    response = await post_unit(
        client, medan, admin, name="SMP Negeri 1 Medan", parent_unit_id=str(foreign.id)
    )
    assert_problem(response, 422, "unit.parent_other_institution", pointer="/parent_unit_id")
    assert await count_units(session) == 1


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        pytest.param(
            {"name": "SMP Negeri 1 Medan", "parent_unit_id": "random"},
            "unit.parent_not_found",
            "/parent_unit_id",
            id="unknown-parent",
        ),
        pytest.param(
            {"name": "Kantor Perwakilan", "region_code": "35.73"},
            "unit.region_outside_institution",
            "/region_code",
            id="region-outside-the-institutions-region",
        ),
        pytest.param(
            {"name": "Kantor Perwakilan", "region_code": "12.07"},
            "unit.region_outside_institution",
            "/region_code",
            id="neighbouring-regency-outside-a-city",
        ),
        pytest.param(
            {"name": "Kantor Antah", "region_code": "12.71.99"},
            "unit.region_not_found",
            "/region_code",
            id="unknown-region",
        ),
        pytest.param(
            {"name": "Dinas Pendidikan", "institution_id": "random"},
            "validation_failed",
            "/institution_id",
            id="unknown-field",
        ),
    ],
)
async def test_create_refused_with_a_pointer_and_nothing_written(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    body: dict[str, Any],
    code: str,
    pointer: str,
) -> None:
    # "random": an id nothing has (a fresh one each run).
    sent = {k: str(uuid.uuid4()) if v == "random" else v for k, v in body.items()}
    response = await post_unit(client, medan, admin, **sent)
    assert_problem(response, 422, code, pointer=pointer)
    assert await count_units(session) == 0


async def test_region_inside_the_institutions_province_is_accepted(
    client: httpx.AsyncClient, admin: dict[str, str], make_institution: InstitutionFactory
) -> None:
    province = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara", kind=K.pemprov, region_code="12"
    )
    response = await post_unit(
        client, province, admin, name="UPT Samsat Medan Utara", region_code="12.71"
    )
    assert response.status_code == 201, response.text
    assert response.json()["region_code"] == "12.71"


async def test_national_institution_unit_may_sit_in_any_region(
    client: httpx.AsyncClient, admin: dict[str, str], make_institution: InstitutionFactory
) -> None:
    ministry = await make_institution(name="Kementerian Agama", kind=K.kementerian)
    response = await post_unit(
        client, ministry, admin, name="Kantor Kementerian Agama Kota Malang", region_code="35.73"
    )
    assert response.status_code == 201, response.text


async def test_duplicate_sibling_name_ignoring_case_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    office = await make_unit(medan, name="Dinas Pendidikan")
    await make_unit(medan, name="SMP Negeri 1 Medan", parent=office)
    response = await post_unit(
        client, medan, admin, name="smp negeri 1 MEDAN", parent_unit_id=str(office.id)
    )
    assert_problem(response, 409, "unit.duplicate_name", pointer="/name")
    assert await count_units(session) == 2


async def test_duplicate_top_level_name_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    await make_unit(medan, name="Sekretariat DPRD Kota Medan")
    response = await post_unit(client, medan, admin, name="SEKRETARIAT DPRD KOTA MEDAN")
    assert_problem(response, 409, "unit.duplicate_name", pointer="/name")
    assert await count_units(session) == 1


async def test_same_name_under_a_different_parent_is_allowed(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    education = await make_unit(medan, name="Dinas Pendidikan")
    health = await make_unit(medan, name="Dinas Kesehatan")
    await make_unit(medan, name="Sub Bagian Umum", parent=education)
    response = await post_unit(
        client, medan, admin, name="Sub Bagian Umum", parent_unit_id=str(health.id)
    )
    assert response.status_code == 201, response.text


async def test_same_name_in_another_institution_is_allowed(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    medan: Institution,
    malang: Institution,
    make_unit: UnitFactory,
) -> None:
    await make_unit(medan, name="Dinas Pendidikan")
    response = await post_unit(client, malang, admin, name="Dinas Pendidikan")
    assert response.status_code == 201, response.text


# --- read -----------------------------------------------------------------------------------


async def test_get_unit_with_etag_then_304_with_it(
    client: httpx.AsyncClient, medan: Institution, make_unit: UnitFactory
) -> None:
    unit = await make_unit(medan, name="Sekretariat DPRD Kota Medan")
    response = await client.get(f"/v1/units/{unit.id}")
    assert response.status_code == 200
    assert response.json()["name"] == "Sekretariat DPRD Kota Medan"
    assert response.headers["ETag"] == '"1"'
    again = await client.get(f"/v1/units/{unit.id}", headers={"If-None-Match": '"1"'})
    assert again.status_code == 304
    assert again.content == b""


async def test_get_unknown_unit_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"/v1/units/{uuid.uuid4()}"), 404, "unit.not_found")


# --- update: names and scope ----------------------------------------------------------------


async def test_rename_with_current_if_match_bumps_version(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    unit = await make_unit(medan, name="Sekwan")
    response = await patch_unit(
        client, unit, {**admin, "If-Match": '"1"'}, name="Sekretariat DPRD Kota Medan"
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert response.headers["ETag"] == '"2"'
    stored = await row(session, unit.id)
    assert stored is not None
    assert (stored["name"], stored["version"]) == ("Sekretariat DPRD Kota Medan", 2)


async def test_local_admin_renames_a_unit_of_its_institution(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    local_admin = await auth(Role.local_admin, institution_id=medan.id)
    unit = await make_unit(medan, name="Sekwan")
    response = await patch_unit(client, unit, local_admin, name="Sekretariat DPRD")
    assert response.status_code == 200, response.text
    stored = await row(session, unit.id)
    assert stored is not None
    assert stored["name"] == "Sekretariat DPRD"


async def test_patch_with_stale_if_match_is_412_and_unit_unchanged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    unit = await make_unit(medan, name="Sekwan")
    assert (await patch_unit(client, unit, admin, name="Sekretariat DPRD")).status_code == 200
    response = await patch_unit(client, unit, {**admin, "If-Match": '"1"'}, name="Sekwan Lama")
    body = assert_problem(response, 412, "unit.version_mismatch")
    assert body["current_version"] == 2
    stored = await row(session, unit.id)
    assert stored is not None
    assert (stored["name"], stored["version"]) == ("Sekretariat DPRD", 2)


async def test_local_admin_of_another_institution_may_not_patch(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    medan: Institution,
    malang: Institution,
    make_unit: UnitFactory,
) -> None:
    malang_admin = await auth(Role.local_admin, institution_id=malang.id)
    unit = await make_unit(medan, name="Sekwan")
    response = await patch_unit(client, unit, malang_admin, name="Diambil Alih")
    assert_problem(response, 403, "unit.out_of_scope")
    stored = await row(session, unit.id)
    assert stored is not None
    assert (stored["name"], stored["version"]) == ("Sekwan", 1)


async def test_rename_to_a_siblings_name_is_409_and_unit_unchanged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    await make_unit(medan, name="Dinas Pendidikan")
    unit = await make_unit(medan, name="Dinas Kesehatan")
    response = await patch_unit(client, unit, admin, name="dinas pendidikan")
    assert_problem(response, 409, "unit.duplicate_name", pointer="/name")
    stored = await row(session, unit.id)
    assert stored is not None
    assert (stored["name"], stored["version"]) == ("Dinas Kesehatan", 1)


async def test_region_outside_the_institution_on_patch_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    make_unit: UnitFactory,
) -> None:
    unit = await make_unit(medan, name="Dinas Pendidikan", region_code="12.71")
    response = await patch_unit(client, unit, admin, region_code="35.73")
    assert_problem(response, 422, "unit.region_outside_institution", pointer="/region_code")
    stored = await row(session, unit.id)
    assert stored is not None
    assert (stored["region_code"], stored["version"]) == ("12.71", 1)


# --- update: moves --------------------------------------------------------------------------


@pytest.fixture
async def tree(medan: Institution, make_unit: UnitFactory) -> dict[str, Unit]:
    """Dinas Pendidikan > Bidang SMP > SMP Negeri 1 Medan, and a sibling office."""
    office = await make_unit(medan, name="Dinas Pendidikan")
    division = await make_unit(medan, name="Bidang SMP", parent=office)
    school = await make_unit(medan, name="SMP Negeri 1 Medan", parent=division)
    health = await make_unit(medan, name="Dinas Kesehatan")
    return {"office": office, "division": division, "school": school, "health": health}


async def tree_rows(session: AsyncSession) -> dict[str, tuple[uuid.UUID | None, int]]:
    rows = await session.execute(select(Unit.name, Unit.parent_unit_id, Unit.version))
    return {name: (parent, version) for name, parent, version in rows}


@pytest.mark.parametrize(
    ("moved", "new_parent"),
    [
        pytest.param("office", "office", id="under-itself"),
        pytest.param("office", "school", id="under-its-own-grandchild"),
        pytest.param("office", "division", id="under-its-child"),
    ],
)
async def test_moving_a_unit_into_its_own_subtree_is_422_cycle(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    tree: dict[str, Unit],
    moved: str,
    new_parent: str,
) -> None:
    before = await tree_rows(session)
    response = await patch_unit(client, tree[moved], admin, parent_unit_id=str(tree[new_parent].id))
    assert_problem(response, 422, "unit.cycle", pointer="/parent_unit_id")
    assert await tree_rows(session) == before


async def test_moving_a_subtree_under_another_branch_works(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    tree: dict[str, Unit],
) -> None:
    response = await patch_unit(
        client, tree["division"], admin, parent_unit_id=str(tree["health"].id)
    )
    assert response.status_code == 200, response.text
    rows = await tree_rows(session)
    assert rows["Bidang SMP"] == (tree["health"].id, 2)
    assert rows["SMP Negeri 1 Medan"] == (tree["division"].id, 1)


async def test_parent_unit_id_null_moves_a_unit_to_the_top_level(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    tree: dict[str, Unit],
) -> None:
    response = await patch_unit(client, tree["school"], admin, parent_unit_id=None)
    assert response.status_code == 200, response.text
    assert response.json()["parent_unit_id"] is None
    assert (await tree_rows(session))["SMP Negeri 1 Medan"] == (None, 2)


async def test_patch_without_parent_unit_id_keeps_the_parent(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    tree: dict[str, Unit],
) -> None:
    response = await patch_unit(client, tree["school"], admin, name="SMP Negeri 1")
    assert response.status_code == 200, response.text
    assert (await tree_rows(session))["SMP Negeri 1"] == (tree["division"].id, 2)


async def test_moving_next_to_a_namesake_is_409_and_tree_unchanged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    medan: Institution,
    tree: dict[str, Unit],
    make_unit: UnitFactory,
) -> None:
    await make_unit(medan, name="smp negeri 1 medan", parent=tree["health"])
    before = await tree_rows(session)
    response = await patch_unit(
        client, tree["school"], admin, parent_unit_id=str(tree["health"].id)
    )
    assert_problem(response, 409, "unit.duplicate_name", pointer="/name")
    assert await tree_rows(session) == before


async def test_moving_under_a_unit_of_another_institution_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    malang: Institution,
    tree: dict[str, Unit],
    make_unit: UnitFactory,
) -> None:
    foreign = await make_unit(malang, name="Dinas Pendidikan Kota Malang")
    response = await patch_unit(client, tree["school"], admin, parent_unit_id=str(foreign.id))
    assert_problem(response, 422, "unit.parent_other_institution", pointer="/parent_unit_id")
    stored = await row(session, tree["school"].id)
    assert stored is not None
    assert (stored["parent_unit_id"], stored["version"]) == (tree["division"].id, 1)


async def test_moving_under_an_unknown_unit_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    tree: dict[str, Unit],
) -> None:
    response = await patch_unit(client, tree["school"], admin, parent_unit_id=str(uuid.uuid4()))
    assert_problem(response, 422, "unit.parent_not_found", pointer="/parent_unit_id")
    stored = await row(session, tree["school"].id)
    assert stored is not None
    assert stored["parent_unit_id"] == tree["division"].id


# --- delete ---------------------------------------------------------------------------------


async def test_delete_a_leaf_unit_is_204_then_get_is_404(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    tree: dict[str, Unit],
) -> None:
    school = tree["school"]
    response = await client.delete(f"/v1/units/{school.id}", headers={**admin, "If-Match": '"1"'})
    assert response.status_code == 204
    assert await row(session, school.id) is None
    assert_problem(await client.get(f"/v1/units/{school.id}"), 404, "unit.not_found")


async def test_delete_a_unit_with_sub_units_is_409_and_tree_unchanged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    tree: dict[str, Unit],
) -> None:
    before = await tree_rows(session)
    response = await client.delete(
        f"/v1/units/{tree['office'].id}",
        headers=await if_match(client, f"/v1/units/{tree['office'].id}", admin),
    )
    assert_problem(response, 409, "unit.has_sub_units")
    assert await tree_rows(session) == before


async def test_delete_with_stale_if_match_is_412_and_unit_stays(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    tree: dict[str, Unit],
) -> None:
    response = await client.delete(
        f"/v1/units/{tree['school'].id}", headers={**admin, "If-Match": '"2"'}
    )
    assert_problem(response, 412, "unit.version_mismatch")
    assert await row(session, tree["school"].id) is not None


async def test_local_admin_of_another_institution_may_not_delete(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    malang: Institution,
    tree: dict[str, Unit],
) -> None:
    malang_admin = await auth(Role.local_admin, institution_id=malang.id)
    response = await client.delete(
        f"/v1/units/{tree['school'].id}",
        headers=await if_match(client, f"/v1/units/{tree['school'].id}", malang_admin),
    )
    assert_problem(response, 403, "unit.out_of_scope")
    assert await row(session, tree["school"].id) is not None


async def test_delete_a_unit_an_operator_key_is_scoped_to_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    auth: KeyFactory,
    tree: dict[str, Unit],
) -> None:
    await auth(Role.unit_operator, unit_id=tree["school"].id)
    response = await client.delete(
        f"/v1/units/{tree['school'].id}",
        headers=await if_match(client, f"/v1/units/{tree['school'].id}", admin),
    )
    assert_problem(response, 409, "conflict.in_use")
    assert await row(session, tree["school"].id) is not None


# --- list -----------------------------------------------------------------------------------


async def test_list_shows_only_this_institutions_units(
    client: httpx.AsyncClient,
    malang: Institution,
    medan: Institution,
    tree: dict[str, Unit],
    make_unit: UnitFactory,
) -> None:
    await make_unit(malang, name="Dinas Pendidikan Kota Malang")
    response = await client.get(f"/v1/institutions/{medan.id}/units")
    assert names(response) == [
        "Bidang SMP",
        "Dinas Kesehatan",
        "Dinas Pendidikan",
        "SMP Negeri 1 Medan",
    ]


async def test_list_parent_unit_id_gives_direct_sub_units_only(
    client: httpx.AsyncClient, medan: Institution, tree: dict[str, Unit]
) -> None:
    response = await client.get(
        f"/v1/institutions/{medan.id}/units", params={"parent_unit_id": str(tree["office"].id)}
    )
    assert names(response) == ["Bidang SMP"]


async def test_list_top_level_true_gives_units_without_parent(
    client: httpx.AsyncClient, medan: Institution, tree: dict[str, Unit]
) -> None:
    response = await client.get(f"/v1/institutions/{medan.id}/units", params={"top_level": True})
    assert names(response) == ["Dinas Kesehatan", "Dinas Pendidikan"]


async def test_list_top_level_false_gives_sub_units(
    client: httpx.AsyncClient, medan: Institution, tree: dict[str, Unit]
) -> None:
    response = await client.get(f"/v1/institutions/{medan.id}/units", params={"top_level": False})
    assert names(response) == ["Bidang SMP", "SMP Negeri 1 Medan"]


async def test_list_q_matches_part_of_the_name_ignoring_case(
    client: httpx.AsyncClient, medan: Institution, tree: dict[str, Unit]
) -> None:
    response = await client.get(f"/v1/institutions/{medan.id}/units", params={"q": "DINAS"})
    assert names(response) == ["Dinas Kesehatan", "Dinas Pendidikan"]


async def test_list_sort_minus_name_with_total(
    client: httpx.AsyncClient, medan: Institution, tree: dict[str, Unit]
) -> None:
    response = await client.get(
        f"/v1/institutions/{medan.id}/units", params={"sort": "-name", "include_total": True}
    )
    assert names(response) == [
        "SMP Negeri 1 Medan",
        "Dinas Pendidikan",
        "Dinas Kesehatan",
        "Bidang SMP",
    ]
    assert response.json()["total"] == 4


async def test_list_pages_yield_every_unit_exactly_once(
    client: httpx.AsyncClient, medan: Institution, tree: dict[str, Unit]
) -> None:
    url = f"/v1/institutions/{medan.id}/units"
    first = await client.get(url, params={"limit": 3})
    assert first.json()["has_more"] is True
    second = await client.get(url, params={"limit": 3, "cursor": first.json()["next_cursor"]})
    assert second.json()["has_more"] is False
    assert second.json()["next_cursor"] is None
    ids = [item["id"] for item in first.json()["items"] + second.json()["items"]]
    assert sorted(ids) == sorted(str(unit.id) for unit in tree.values())


async def test_list_cursor_of_another_institution_is_400_cursor_mismatch(
    client: httpx.AsyncClient,
    medan: Institution,
    malang: Institution,
    tree: dict[str, Unit],
) -> None:
    first = await client.get(f"/v1/institutions/{medan.id}/units", params={"limit": 1})
    response = await client.get(
        f"/v1/institutions/{malang.id}/units",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
    )
    assert_problem(response, 400, "cursor.mismatch")


async def test_list_units_of_unknown_institution_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/institutions/{uuid.uuid4()}/units")
    assert_problem(response, 404, "institution.not_found")
