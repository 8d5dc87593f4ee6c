"""/v1/institutions: kinds, regions and owners that must agree; versions; lists; who may write."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import InstitutionKind, Role
from app.models.institutions import Institution
from tests.conftest import InstitutionFactory, KeyFactory, UnitFactory
from tests.domains import assert_problem
from tests.fixtures.etag import if_match

K = InstitutionKind


async def count_institutions(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Institution)) or 0)


async def row(session: AsyncSession, institution_id: uuid.UUID | str) -> dict[str, Any] | None:
    """The stored institution, read with a plain SELECT (not through the identity map)."""
    result = await session.execute(
        select(
            Institution.name,
            Institution.short_name,
            Institution.kind,
            Institution.region_code,
            Institution.owner_institution_id,
            Institution.version,
        ).where(Institution.id == uuid.UUID(str(institution_id)))
    )
    found = result.one_or_none()
    return dict(found._mapping) if found is not None else None


async def post(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/v1/institutions", json=body, headers=headers)


async def assert_refused(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    body: dict[str, Any],
    status: int,
    code: str,
    pointer: str | None,
) -> None:
    """Creating `body` is refused with this problem, and no institution is written."""
    before = await count_institutions(session)
    response = await client.post("/v1/institutions", json=body, headers=admin)
    assert_problem(response, status, code, pointer=pointer)
    assert await count_institutions(session) == before


# --- create: each kind ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", [K.kementerian, K.lembaga, K.bumn])
async def test_create_national_institution_without_region(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], kind: K
) -> None:
    response = await post(
        client, admin, name=f"Nasional {kind.value}", short_name="NAS", kind=kind.value
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == kind.value
    assert body["region_code"] is None
    assert body["owner_institution_id"] is None
    assert body["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"/v1/institutions/{body['id']}"
    assert await row(session, body["id"]) == {
        "name": f"Nasional {kind.value}",
        "short_name": "NAS",
        "kind": kind,
        "region_code": None,
        "owner_institution_id": None,
        "version": 1,
    }


@pytest.mark.parametrize(
    ("name", "kind", "region_code"),
    [
        pytest.param("Pemerintah Provinsi Sumatera Utara", K.pemprov, "12", id="pemprov-province"),
        pytest.param("Pemerintah Kabupaten Deli Serdang", K.pemkab, "12.07", id="pemkab-kabupaten"),
        pytest.param("Pemerintah Kota Medan", K.pemkot, "12.71", id="pemkot-kota"),
    ],
)
async def test_create_local_government_on_its_level_of_region(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    name: str,
    kind: K,
    region_code: str,
) -> None:
    response = await post(client, admin, name=name, kind=kind.value, region_code=region_code)
    assert response.status_code == 201, response.text
    assert response.json()["region_code"] == region_code
    stored = await row(session, response.json()["id"])
    assert stored is not None
    assert (stored["kind"], stored["region_code"]) == (kind, region_code)


async def test_create_bumd_takes_its_owners_region(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    owner = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    response = await post(
        client,
        admin,
        name="Perumda Pasar Kota Medan",
        kind="bumd",
        owner_institution_id=str(owner.id),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["region_code"] == "12.71"
    assert body["owner_institution_id"] == str(owner.id)
    stored = await row(session, body["id"])
    assert stored is not None
    assert (stored["region_code"], stored["owner_institution_id"]) == ("12.71", owner.id)


async def test_create_bumd_may_repeat_its_owners_region(
    client: httpx.AsyncClient, admin: dict[str, str], make_institution: InstitutionFactory
) -> None:
    owner = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara", kind=K.pemprov, region_code="12"
    )
    response = await post(
        client,
        admin,
        name="Perumda Air Minum Tirtanadi",
        kind="bumd",
        owner_institution_id=str(owner.id),
        region_code="12",
    )
    assert response.status_code == 201, response.text
    assert response.json()["region_code"] == "12"


async def test_create_strips_surrounding_spaces_from_name(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await post(client, admin, name="  Badan Pusat Statistik  ", kind="lembaga")
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Badan Pusat Statistik"


# --- create: refusals -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {"name": "Pemerintah Kota Medan", "kind": "pemkot", "region_code": "12"},
            id="pemkot-on-province",
        ),
        pytest.param(
            {"name": "Pemerintah Kabupaten Medan", "kind": "pemkab", "region_code": "12.71"},
            id="pemkab-on-kota",
        ),
        pytest.param(
            {"name": "Pemerintah Kota Deli Serdang", "kind": "pemkot", "region_code": "12.07"},
            id="pemkot-on-kabupaten",
        ),
        pytest.param(
            {"name": "Pemerintah Provinsi Medan", "kind": "pemprov", "region_code": "12.71"},
            id="pemprov-on-regency",
        ),
    ],
)
async def test_local_government_on_another_level_of_region_is_region_mismatch(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], body: dict[str, Any]
) -> None:
    await assert_refused(
        client, session, admin, body, 422, "institution.region_mismatch", "/region_code"
    )


@pytest.mark.parametrize("kind", [K.kementerian, K.lembaga, K.bumn])
async def test_national_institution_with_region_is_region_not_allowed(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], kind: K
) -> None:
    body = {"name": "Kementerian Daerah", "kind": kind.value, "region_code": "12"}
    await assert_refused(
        client, session, admin, body, 422, "institution.region_not_allowed", "/region_code"
    )


@pytest.mark.parametrize("kind", [K.pemprov, K.pemkab, K.pemkot])
async def test_local_government_without_region_is_region_required(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], kind: K
) -> None:
    body = {"name": "Pemerintah Tanpa Wilayah", "kind": kind.value}
    await assert_refused(
        client, session, admin, body, 422, "institution.region_required", "/region_code"
    )


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        pytest.param(
            {"name": "Pemerintah Kota Antah", "kind": "pemkot", "region_code": "12.99"},
            "institution.region_not_found",
            "/region_code",
            id="unknown-region",
        ),
        pytest.param(
            {"name": "Pemerintah Kota Medan", "kind": "pemkot", "region_code": "12-71"},
            "validation_failed",
            "/region_code",
            id="malformed-region-code",
        ),
        pytest.param(
            {"name": "Perumda Tanpa Pemilik", "kind": "bumd", "region_code": "12.71"},
            "institution.owner_required",
            "/owner_institution_id",
            id="bumd-without-owner",
        ),
        pytest.param(
            {"name": "Kementerian Agama", "kind": "kementerian", "website": "kemenag.go.id"},
            "validation_failed",
            "/website",
            id="unknown-field",
        ),
        pytest.param(
            {"name": "Pemerintah Desa Sukamaju", "kind": "pemdes"},
            "validation_failed",
            "/kind",
            id="unknown-kind",
        ),
        pytest.param(
            {"name": "Kementerian Tanpa Jenis"}, "validation_failed", "/kind", id="missing-kind"
        ),
    ],
)
async def test_create_refused_with_a_pointer_and_nothing_written(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    body: dict[str, Any],
    code: str,
    pointer: str,
) -> None:
    await assert_refused(client, session, admin, body, 422, code, pointer)


async def test_bumd_owned_by_kementerian_is_owner_not_local_government(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    ministry = await make_institution(name="Kementerian BUMN", kind=K.kementerian)
    body = {"name": "Perumda Salah", "kind": "bumd", "owner_institution_id": str(ministry.id)}
    await assert_refused(
        client,
        session,
        admin,
        body,
        422,
        "institution.owner_not_local_government",
        "/owner_institution_id",
    )


async def test_bumd_owned_by_another_bumd_is_owner_not_local_government(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    city = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    bumd = await make_institution(
        name="Perumda Pasar", kind=K.bumd, region_code="12.71", owner_institution_id=city.id
    )
    body = {"name": "Anak Perumda", "kind": "bumd", "owner_institution_id": str(bumd.id)}
    await assert_refused(
        client,
        session,
        admin,
        body,
        422,
        "institution.owner_not_local_government",
        "/owner_institution_id",
    )


async def test_bumd_owned_by_unknown_institution_is_owner_not_found(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    body = {"name": "Perumda Yatim", "kind": "bumd", "owner_institution_id": str(uuid.uuid4())}
    await assert_refused(
        client, session, admin, body, 422, "institution.owner_not_found", "/owner_institution_id"
    )


async def test_bumd_on_a_region_other_than_its_owners_is_region_mismatch(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    owner = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    body = {
        "name": "Perumda Pasar",
        "kind": "bumd",
        "owner_institution_id": str(owner.id),
        "region_code": "12.72",
    }
    await assert_refused(
        client, session, admin, body, 422, "institution.region_mismatch", "/region_code"
    )


async def test_owner_on_a_non_bumd_is_owner_not_allowed(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    owner = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara", kind=K.pemprov, region_code="12"
    )
    body = {
        "name": "Pemerintah Kota Medan",
        "kind": "pemkot",
        "region_code": "12.71",
        "owner_institution_id": str(owner.id),
    }
    await assert_refused(
        client, session, admin, body, 422, "institution.owner_not_allowed", "/owner_institution_id"
    )


async def test_duplicate_name_ignoring_case_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    await make_institution(name="Kementerian Dalam Negeri")
    body = {"name": "KEMENTERIAN dalam negeri", "kind": "kementerian"}
    await assert_refused(client, session, admin, body, 409, "institution.duplicate_name", "/name")
    names = (await session.scalars(select(Institution.name))).all()
    assert names == ["Kementerian Dalam Negeri"]


async def test_second_local_government_on_the_same_region_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    body = {"name": "Pemko Medan Kedua", "kind": "pemkot", "region_code": "12.71"}
    await assert_refused(
        client, session, admin, body, 409, "institution.duplicate_local_government", "/region_code"
    )


async def test_name_of_one_character_is_422(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    before = await count_institutions(session)
    response = await post(client, admin, name=" K ", kind="kementerian")
    body = assert_problem(response, 422, "validation_failed", pointer="/name")
    assert body["errors"][0]["code"] == "string_too_short"
    assert await count_institutions(session) == before


async def test_malformed_json_is_400(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/institutions",
        content=b'{"name": "Kementerian',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "request.malformed_json")
    assert await count_institutions(session) == 0


# --- read -----------------------------------------------------------------------------------


async def test_get_returns_the_institution_with_its_etag(
    client: httpx.AsyncClient, make_institution: InstitutionFactory
) -> None:
    city = await make_institution(
        name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71", short_name="Pemko Medan"
    )
    response = await client.get(f"/v1/institutions/{city.id}")
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    body = response.json()
    assert {k: body[k] for k in ("id", "name", "short_name", "kind", "region_code")} == {
        "id": str(city.id),
        "name": "Pemerintah Kota Medan",
        "short_name": "Pemko Medan",
        "kind": "pemkot",
        "region_code": "12.71",
    }


async def test_get_unknown_institution_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/institutions/{uuid.uuid4()}")
    assert_problem(response, 404, "institution.not_found")


async def test_get_with_malformed_id_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/institutions/not-a-uuid")
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["location"] == "path"


async def test_get_with_current_etag_in_if_none_match_is_304(
    client: httpx.AsyncClient, make_institution: InstitutionFactory
) -> None:
    institution = await make_institution()
    response = await client.get(
        f"/v1/institutions/{institution.id}", headers={"If-None-Match": '"1"'}
    )
    assert response.status_code == 304
    assert response.headers["ETag"] == '"1"'
    assert response.content == b""


async def test_get_with_stale_etag_in_if_none_match_is_200(
    client: httpx.AsyncClient, make_institution: InstitutionFactory
) -> None:
    institution = await make_institution()
    response = await client.get(
        f"/v1/institutions/{institution.id}", headers={"If-None-Match": '"7"'}
    )
    assert response.status_code == 200
    assert response.json()["id"] == str(institution.id)


# --- update ---------------------------------------------------------------------------------


async def test_patch_with_current_if_match_renames_and_bumps_version(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution(name="Kementerian PAN")
    response = await client.patch(
        f"/v1/institutions/{institution.id}",
        json={"name": "Kementerian PANRB"},
        headers={**admin, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Kementerian PANRB"
    assert response.json()["version"] == 2
    assert response.headers["ETag"] == '"2"'
    stored = await row(session, institution.id)
    assert stored is not None
    assert (stored["name"], stored["version"]) == ("Kementerian PANRB", 2)


async def test_patch_changes_only_the_fields_sent(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    city = await make_institution(
        name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71", short_name="Pemko"
    )
    response = await client.patch(
        f"/v1/institutions/{city.id}",
        json={"short_name": "Pemko Medan"},
        headers=await if_match(client, f"/v1/institutions/{city.id}", admin),
    )
    assert response.status_code == 200, response.text
    assert await row(session, city.id) == {
        "name": "Pemerintah Kota Medan",
        "short_name": "Pemko Medan",
        "kind": K.pemkot,
        "region_code": "12.71",
        "owner_institution_id": None,
        "version": 2,
    }


async def test_patch_with_stale_if_match_is_412_and_row_unchanged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution(name="Kementerian PAN")
    url = f"/v1/institutions/{institution.id}"
    first = await client.patch(
        url, json={"name": "Kementerian PANRB"}, headers=await if_match(client, url, admin)
    )
    assert first.status_code == 200
    response = await client.patch(
        url, json={"name": "Kementerian Lama"}, headers={**admin, "If-Match": '"1"'}
    )
    body = assert_problem(response, 412, "institution.version_mismatch")
    assert body["current_version"] == 2
    stored = await row(session, institution.id)
    assert stored is not None
    assert (stored["name"], stored["version"]) == ("Kementerian PANRB", 2)


async def test_patch_kind_to_pemkot_while_on_a_province_is_422_and_row_unchanged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    province = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara", kind=K.pemprov, region_code="12"
    )
    response = await client.patch(
        f"/v1/institutions/{province.id}",
        json={"kind": "pemkot"},
        headers=await if_match(client, f"/v1/institutions/{province.id}", admin),
    )
    assert_problem(response, 422, "institution.region_mismatch", pointer="/region_code")
    stored = await row(session, province.id)
    assert stored is not None
    assert (stored["kind"], stored["region_code"], stored["version"]) == (K.pemprov, "12", 1)


async def test_patch_region_away_from_its_units_is_409_and_row_unchanged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
) -> None:
    city = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    await make_unit(city, name="Sekretariat DPRD Kota Medan", region_code="12.71")
    response = await client.patch(
        f"/v1/institutions/{city.id}",
        json={"region_code": "12.72"},
        headers=await if_match(client, f"/v1/institutions/{city.id}", admin),
    )
    assert_problem(response, 409, "institution.units_outside_region")
    stored = await row(session, city.id)
    assert stored is not None
    assert (stored["region_code"], stored["version"]) == ("12.71", 1)


async def test_patch_region_with_units_that_name_no_region_succeeds(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
) -> None:
    city = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    await make_unit(city, name="Sekretariat DPRD Kota Medan")
    response = await client.patch(
        f"/v1/institutions/{city.id}",
        json={"region_code": "12.72"},
        headers=await if_match(client, f"/v1/institutions/{city.id}", admin),
    )
    assert response.status_code == 200, response.text
    assert response.json()["region_code"] == "12.72"


async def test_patch_name_to_another_institutions_name_is_409_and_row_unchanged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    await make_institution(name="Kementerian Keuangan")
    other = await make_institution(name="Kementerian Agama")
    response = await client.patch(
        f"/v1/institutions/{other.id}",
        json={"name": "kementerian keuangan"},
        headers=await if_match(client, f"/v1/institutions/{other.id}", admin),
    )
    assert_problem(response, 409, "institution.duplicate_name", pointer="/name")
    stored = await row(session, other.id)
    assert stored is not None
    assert (stored["name"], stored["version"]) == ("Kementerian Agama", 1)


async def test_patch_name_to_null_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution(name="Kementerian Agama")
    response = await client.patch(
        f"/v1/institutions/{institution.id}",
        json={"name": None},
        headers=await if_match(client, f"/v1/institutions/{institution.id}", admin),
    )
    assert_problem(response, 422, "institution.name_required", pointer="/name")
    stored = await row(session, institution.id)
    assert stored is not None
    assert stored["name"] == "Kementerian Agama"


async def test_patch_unknown_field_is_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution(name="Kementerian Agama")
    response = await client.patch(
        f"/v1/institutions/{institution.id}",
        json={"version": 9},
        headers=await if_match(client, f"/v1/institutions/{institution.id}", admin),
    )
    assert_problem(response, 422, "validation_failed", pointer="/version")
    stored = await row(session, institution.id)
    assert stored is not None
    assert stored["version"] == 1


async def test_patch_unknown_institution_is_404(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.patch(
        f"/v1/institutions/{uuid.uuid4()}", json={"name": "Kementerian Hantu"}, headers=admin
    )
    assert_problem(response, 404, "institution.not_found")


async def test_patch_local_government_into_kementerian_drops_its_region(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    city = await make_institution(name="Otorita Ibu Kota", kind=K.pemkot, region_code="12.71")
    response = await client.patch(
        f"/v1/institutions/{city.id}",
        json={"kind": "lembaga"},
        headers=await if_match(client, f"/v1/institutions/{city.id}", admin),
    )
    assert response.status_code == 200, response.text
    stored = await row(session, city.id)
    assert stored is not None
    assert (stored["kind"], stored["region_code"]) == (K.lembaga, None)


async def test_patch_owner_of_a_bumd_into_kementerian_is_409_and_row_unchanged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    city = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    await make_institution(
        name="Perumda Pasar", kind=K.bumd, region_code="12.71", owner_institution_id=city.id
    )
    response = await client.patch(
        f"/v1/institutions/{city.id}",
        json={"kind": "kementerian"},
        headers=await if_match(client, f"/v1/institutions/{city.id}", admin),
    )
    assert_problem(response, 409, "institution.owns_bumd")
    stored = await row(session, city.id)
    assert stored is not None
    assert (stored["kind"], stored["region_code"], stored["version"]) == (K.pemkot, "12.71", 1)


async def test_patch_region_of_a_local_government_moves_its_bumds_along(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    city = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.72")
    bumd = await make_institution(
        name="Perumda Pasar", kind=K.bumd, region_code="12.72", owner_institution_id=city.id
    )
    response = await client.patch(
        f"/v1/institutions/{city.id}",
        json={"region_code": "12.71"},
        headers=await if_match(client, f"/v1/institutions/{city.id}", admin),
    )
    assert response.status_code == 200, response.text
    stored = await row(session, bumd.id)
    assert stored is not None
    assert (stored["region_code"], stored["version"]) == ("12.71", 2)


async def test_patch_bumd_to_another_owner_takes_the_new_owners_region(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    city = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    province = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara", kind=K.pemprov, region_code="12"
    )
    bumd = await make_institution(
        name="Perumda Air", kind=K.bumd, region_code="12.71", owner_institution_id=city.id
    )
    response = await client.patch(
        f"/v1/institutions/{bumd.id}",
        json={"owner_institution_id": str(province.id)},
        headers=await if_match(client, f"/v1/institutions/{bumd.id}", admin),
    )
    assert response.status_code == 200, response.text
    assert await row(session, bumd.id) == {
        "name": "Perumda Air",
        "short_name": None,
        "kind": K.bumd,
        "region_code": "12",
        "owner_institution_id": province.id,
        "version": 2,
    }


# --- delete ---------------------------------------------------------------------------------


async def test_delete_unreferenced_institution_is_204_then_get_is_404(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution(name="Kementerian Sementara")
    url = f"/v1/institutions/{institution.id}"
    response = await client.delete(url, headers={**admin, "If-Match": '"1"'})
    assert response.status_code == 204
    assert response.content == b""
    assert await row(session, institution.id) is None
    assert_problem(await client.get(url), 404, "institution.not_found")


async def test_delete_institution_with_units_is_409_and_it_stays(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
) -> None:
    city = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    await make_unit(city, name="Sekretariat DPRD Kota Medan")
    response = await client.delete(
        f"/v1/institutions/{city.id}",
        headers=await if_match(client, f"/v1/institutions/{city.id}", admin),
    )
    assert_problem(response, 409, "institution.has_units")
    assert await row(session, city.id) is not None


async def test_delete_owner_of_a_bumd_is_409_and_it_stays(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    city = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    await make_institution(
        name="Perumda Pasar", kind=K.bumd, region_code="12.71", owner_institution_id=city.id
    )
    response = await client.delete(
        f"/v1/institutions/{city.id}",
        headers=await if_match(client, f"/v1/institutions/{city.id}", admin),
    )
    assert_problem(response, 409, "institution.owns_bumd")
    assert await count_institutions(session) == 2


async def test_delete_institution_an_api_key_is_scoped_to_is_409(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    auth: KeyFactory,
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution(name="Kementerian Berkunci")
    await auth(Role.local_admin, institution_id=institution.id)
    response = await client.delete(
        f"/v1/institutions/{institution.id}",
        headers=await if_match(client, f"/v1/institutions/{institution.id}", admin),
    )
    assert_problem(response, 409, "conflict.in_use")
    assert await row(session, institution.id) is not None


async def test_delete_with_stale_if_match_is_412_and_it_stays(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution(name="Kementerian Tetap")
    response = await client.delete(
        f"/v1/institutions/{institution.id}", headers={**admin, "If-Match": '"5"'}
    )
    assert_problem(response, 412, "institution.version_mismatch")
    assert await row(session, institution.id) is not None


async def test_delete_unknown_institution_is_404(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.delete(f"/v1/institutions/{uuid.uuid4()}", headers=admin)
    assert_problem(response, 404, "institution.not_found")


# --- list -----------------------------------------------------------------------------------


async def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


@pytest.fixture
async def landscape(make_institution: InstitutionFactory) -> dict[str, Institution]:
    """Local governments in North Sumatra and East Java, a bumd, and national institutions."""
    province = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara",
        kind=K.pemprov,
        region_code="12",
        short_name="Pemprov Sumut",
    )
    medan = await make_institution(
        name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71", short_name="Pemko Medan"
    )
    deli = await make_institution(
        name="Pemerintah Kabupaten Deli Serdang", kind=K.pemkab, region_code="12.07"
    )
    malang = await make_institution(
        name="Pemerintah Kota Malang", kind=K.pemkot, region_code="35.73"
    )
    bumd = await make_institution(
        name="Perumda Air Minum Tirtanadi",
        kind=K.bumd,
        region_code="12",
        owner_institution_id=province.id,
    )
    ministry = await make_institution(
        name="Kementerian Pendayagunaan Aparatur Negara", kind=K.kementerian, short_name="PANRB"
    )
    agency = await make_institution(name="Badan Pusat Statistik", kind=K.lembaga)
    return {
        "province": province,
        "medan": medan,
        "deli": deli,
        "malang": malang,
        "bumd": bumd,
        "ministry": ministry,
        "agency": agency,
    }


async def test_list_filters_by_kind(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    response = await client.get("/v1/institutions", params={"kind": "pemkot"})
    assert await names(response) == ["Pemerintah Kota Malang", "Pemerintah Kota Medan"]


async def test_list_kind_filter_is_repeatable(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    response = await client.get("/v1/institutions", params=[("kind", "pemprov"), ("kind", "bumd")])
    assert await names(response) == [
        "Pemerintah Provinsi Sumatera Utara",
        "Perumda Air Minum Tirtanadi",
    ]


async def test_list_region_province_matches_everything_inside_it(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    response = await client.get(
        "/v1/institutions", params={"region": "12", "kind": ["pemprov", "pemkab", "pemkot"]}
    )
    assert await names(response) == [
        "Pemerintah Kabupaten Deli Serdang",
        "Pemerintah Kota Medan",
        "Pemerintah Provinsi Sumatera Utara",
    ]


async def test_list_region_province_includes_bumds_on_it(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    response = await client.get("/v1/institutions", params={"region": "12"})
    assert "Perumda Air Minum Tirtanadi" in await names(response)
    assert "Pemerintah Kota Malang" not in await names(response)


async def test_list_region_regency_matches_only_that_regency(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    response = await client.get("/v1/institutions", params={"region": "12.71"})
    assert await names(response) == ["Pemerintah Kota Medan"]


async def test_list_malformed_region_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/institutions", params={"region": "1"})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["parameter"] == "region"


async def test_list_q_matches_name_or_short_name_ignoring_case(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    by_name = await client.get("/v1/institutions", params={"q": "STATISTIK"})
    assert await names(by_name) == ["Badan Pusat Statistik"]
    by_short_name = await client.get("/v1/institutions", params={"q": "panrb"})
    assert await names(by_short_name) == ["Kementerian Pendayagunaan Aparatur Negara"]


async def test_list_filters_by_owner(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    owner = landscape["province"].id
    response = await client.get("/v1/institutions", params={"owner_institution_id": str(owner)})
    assert await names(response) == ["Perumda Air Minum Tirtanadi"]


async def test_list_sorts_by_name_by_default(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    listed = await names(await client.get("/v1/institutions"))
    assert listed[0] == "Badan Pusat Statistik"
    assert listed[-1] == "Perumda Air Minum Tirtanadi"
    assert len(listed) == 7


async def test_list_sort_minus_name_is_descending(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    ascending = await names(await client.get("/v1/institutions", params={"sort": "name"}))
    descending = await names(await client.get("/v1/institutions", params={"sort": "-name"}))
    assert descending == list(reversed(ascending))


async def test_list_sort_by_created_at_both_ways(
    client: httpx.AsyncClient, session: AsyncSession, make_institution: InstitutionFactory
) -> None:
    # Everything in a test shares one transaction (so one now()): date the rows by hand.
    start = datetime(2024, 1, 1, tzinfo=UTC)
    order = ["Kementerian Ketiga", "Kementerian Pertama", "Kementerian Kedua"]
    for days, name in enumerate(order):
        institution = await make_institution(name=name)
        await session.execute(
            update(Institution)
            .where(Institution.id == institution.id)
            .values(created_at=start + timedelta(days=days))
        )
    oldest_first = await client.get("/v1/institutions", params={"sort": "created_at", "limit": 2})
    assert await names(oldest_first) == order[:2]
    rest = await client.get(
        "/v1/institutions",
        params={"sort": "created_at", "limit": 2, "cursor": oldest_first.json()["next_cursor"]},
    )
    assert await names(rest) == order[2:]
    newest_first = await client.get("/v1/institutions", params={"sort": "-created_at"})
    assert await names(newest_first) == list(reversed(order))


async def test_list_total_only_with_include_total(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    without = await client.get("/v1/institutions", params={"kind": "pemkot", "limit": 1})
    assert without.json().get("total") is None
    counted = await client.get(
        "/v1/institutions", params={"kind": "pemkot", "limit": 1, "include_total": True}
    )
    assert counted.json()["total"] == 2
    assert len(counted.json()["items"]) == 1


async def test_list_pages_yield_every_institution_exactly_once(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3, "sort": "-name"}
    pages = 0
    while True:
        response = await client.get("/v1/institutions", params=params)
        assert response.status_code == 200
        page = response.json()
        pages += 1
        seen.extend(item["id"] for item in page["items"])
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        params["cursor"] = page["next_cursor"]
    assert pages == 3
    assert sorted(seen) == sorted(str(i.id) for i in landscape.values())
    assert len(set(seen)) == len(seen)


async def test_list_tampered_cursor_is_400_cursor_invalid(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    cursor = (await client.get("/v1/institutions", params={"limit": 2})).json()["next_cursor"]
    flipped = "B" if cursor[5] != "B" else "C"
    tampered = f"{cursor[:5]}{flipped}{cursor[6:]}"
    response = await client.get("/v1/institutions", params={"limit": 2, "cursor": tampered})
    assert_problem(response, 400, "cursor.invalid")


async def test_list_garbage_cursor_is_400_cursor_invalid(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/institutions", params={"cursor": "not-a-cursor"})
    assert_problem(response, 400, "cursor.invalid")


async def test_list_cursor_from_another_sort_is_400_cursor_mismatch(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    cursor = (await client.get("/v1/institutions", params={"limit": 2})).json()["next_cursor"]
    response = await client.get(
        "/v1/institutions", params={"limit": 2, "sort": "-name", "cursor": cursor}
    )
    assert_problem(response, 400, "cursor.mismatch")


async def test_list_cursor_from_another_filter_is_400_cursor_mismatch(
    client: httpx.AsyncClient, landscape: dict[str, Institution]
) -> None:
    first = await client.get("/v1/institutions", params={"limit": 1, "region": "12"})
    cursor = first.json()["next_cursor"]
    response = await client.get(
        "/v1/institutions", params={"limit": 1, "region": "35", "cursor": cursor}
    )
    assert_problem(response, 400, "cursor.mismatch")


async def test_list_cursor_of_the_regions_list_is_400_cursor_mismatch(
    client: httpx.AsyncClient,
) -> None:
    cursor = (await client.get("/v1/regions", params={"limit": 2})).json()["next_cursor"]
    response = await client.get("/v1/institutions", params={"cursor": cursor})
    assert_problem(response, 400, "cursor.mismatch")


async def test_list_unknown_sort_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/institutions", params={"sort": "region"})
    body = assert_problem(response, 422, "validation_failed")
    assert body["errors"][0]["parameter"] == "sort"


# --- who may do what ------------------------------------------------------------------------


async def test_anonymous_may_list_and_get(
    client: httpx.AsyncClient, make_institution: InstitutionFactory
) -> None:
    institution = await make_institution(name="Kementerian Terbuka")
    listed = await client.get("/v1/institutions")
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [str(institution.id)]
    assert (await client.get(f"/v1/institutions/{institution.id}")).status_code == 200


async def test_anonymous_post_is_401_and_nothing_written(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    response = await client.post(
        "/v1/institutions", json={"name": "Kementerian Liar", "kind": "kementerian"}
    )
    assert_problem(response, 401, "auth.required")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert await count_institutions(session) == 0


async def test_anonymous_patch_is_401_and_row_unchanged(
    client: httpx.AsyncClient, session: AsyncSession, make_institution: InstitutionFactory
) -> None:
    institution = await make_institution(name="Kementerian Agama")
    response = await client.patch(
        f"/v1/institutions/{institution.id}",
        json={"name": "Kementerian Liar"},
        headers=await if_match(client, f"/v1/institutions/{institution.id}"),
    )
    assert_problem(response, 401, "auth.required")
    stored = await row(session, institution.id)
    assert stored is not None
    assert (stored["name"], stored["version"]) == ("Kementerian Agama", 1)


async def test_anonymous_delete_is_401_and_row_stays(
    client: httpx.AsyncClient, session: AsyncSession, make_institution: InstitutionFactory
) -> None:
    institution = await make_institution(name="Kementerian Agama")
    response = await client.delete(
        f"/v1/institutions/{institution.id}",
        headers=await if_match(client, f"/v1/institutions/{institution.id}"),
    )
    assert_problem(response, 401, "auth.required")
    assert await row(session, institution.id) is not None


async def test_unknown_bearer_token_is_401_even_for_reads(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/v1/institutions", headers={"Authorization": "Bearer inv_not-a-real-key"}
    )
    assert_problem(response, 401, "auth.invalid_credentials")


async def test_local_admin_may_not_create_an_institution(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    make_institution: InstitutionFactory,
) -> None:
    city = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    local_admin = await auth(Role.local_admin, institution_id=city.id)
    response = await post(client, local_admin, name="Kementerian Baru", kind="kementerian")
    assert_problem(response, 403, "auth.role_forbidden")
    assert await count_institutions(session) == 1


async def test_local_admin_may_not_change_its_own_institution(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    make_institution: InstitutionFactory,
) -> None:
    city = await make_institution(name="Pemerintah Kota Medan", kind=K.pemkot, region_code="12.71")
    local_admin = await auth(Role.local_admin, institution_id=city.id)
    response = await client.patch(
        f"/v1/institutions/{city.id}",
        json={"short_name": "Pemko"},
        headers=await if_match(client, f"/v1/institutions/{city.id}", local_admin),
    )
    assert_problem(response, 403, "auth.role_forbidden")
    stored = await row(session, city.id)
    assert stored is not None
    assert (stored["short_name"], stored["version"]) == (None, 1)


# --- the test harness -----------------------------------------------------------------------


async def test_refused_request_keeps_what_the_test_arranged(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    make_institution: InstitutionFactory,
) -> None:
    client.event_hooks["request"].clear()  # no workaround in this test
    await make_institution(name="Kementerian Dalam Negeri")
    response = await post(client, admin, name="Kementerian Dalam Negeri", kind="kementerian")
    assert_problem(response, 409, "institution.duplicate_name")
    assert await count_institutions(session) == 1
