"""The list kit: signed keyset cursors, bounded limits, sort enums, optional totals."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from app.core.errors import BadRequest
from app.core.pagination import CursorSigner
from app.models.enums import Role
from app.models.institutions import Institution
from tests.conftest import InstitutionFactory, KeyFactory

SIGNER = CursorSigner(b"unit-test-key-0123456789abcdef")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _decode_error(token: str, scope: str = "s", types: list[type] | None = None) -> str:
    with pytest.raises(BadRequest) as caught:
        SIGNER.decode(token, scope, types if types is not None else [int])
    assert caught.value.status == 400
    return caught.value.code


# --- CursorSigner ----------------------------------------------------------------------------


def test_cursor_round_trips_typed_values() -> None:
    values: list[Any] = [
        datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC),
        date(2025, 12, 31),
        uuid.uuid4(),
        "Kota Medan",
        42,
        1.5,
        True,
        None,
    ]
    types: list[type] = [datetime, date, uuid.UUID, str, int, float, bool, str]
    token = SIGNER.encode("institutions:name:-", values)
    assert SIGNER.decode(token, "institutions:name:-", types) == values


def test_cursor_is_url_safe_and_opaque() -> None:
    token = SIGNER.encode("api-keys", ["Pemerintah Kota Malang / SMPN 10?", 7])
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def test_tampered_cursor_payload_is_invalid() -> None:
    token = SIGNER.encode("s", [1])
    _, mac = token.split(".")
    forged = _b64(json.dumps({"s": "s", "v": [2]}, separators=(",", ":")).encode())
    assert _decode_error(f"{forged}.{mac}") == "cursor.invalid"


def test_tampered_cursor_signature_is_invalid() -> None:
    token = SIGNER.encode("s", [1])
    last = token[-1]
    tampered = token[:-1] + ("A" if last != "A" else "B")
    assert _decode_error(tampered) == "cursor.invalid"


def test_cursor_signed_with_another_key_is_invalid() -> None:
    token = CursorSigner(b"another-key").encode("s", [1])
    assert _decode_error(token) == "cursor.invalid"


@pytest.mark.parametrize(
    "garbage",
    ["", "not-a-cursor", ".", "a.b", "!!!.???", "é.é", "eyJ9.", "x" * 2048, "a.b.c"],
)
def test_garbage_cursor_is_invalid(garbage: str) -> None:
    assert _decode_error(garbage) == "cursor.invalid"


def test_cursor_from_another_scope_is_a_mismatch() -> None:
    token = SIGNER.encode("institutions:name:abc", ["Kota Medan"])
    assert _decode_error(token, "institutions:name:def", [str]) == "cursor.mismatch"


@pytest.mark.parametrize(
    ("value", "python_type"),
    [
        ("12", int),
        (12, str),
        ("not-a-uuid", uuid.UUID),
        (12, uuid.UUID),
        ("yesterday", datetime),
        (20260101, datetime),
        ("2026-13-45", date),
        ("1.5", float),
        (True, int),
        (1, bool),
    ],
)
def test_cursor_with_wrong_value_types_is_invalid(value: Any, python_type: type) -> None:
    token = SIGNER.encode("s", [value])
    assert _decode_error(token, "s", [python_type]) == "cursor.invalid"


def test_cursor_with_wrong_number_of_values_is_invalid() -> None:
    token = SIGNER.encode("s", [1, 2])
    assert _decode_error(token, "s", [int]) == "cursor.invalid"


# --- through HTTP ----------------------------------------------------------------------------


async def _three_keys(auth: KeyFactory, institution: Institution) -> None:
    for _ in range(3):
        await auth(Role.regional_system, institution_id=institution.id)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "many"])
async def test_out_of_range_limit_is_a_422_problem(
    client: httpx.AsyncClient, admin: dict[str, str], limit: str
) -> None:
    response = await client.get("/v1/api-keys", params={"limit": limit}, headers=admin)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["parameter"], error["location"]) == ("limit", "query")


async def test_limit_of_100_is_allowed(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/v1/api-keys", params={"limit": "100"}, headers=admin)
    assert response.status_code == 200


async def test_unknown_sort_is_a_422_problem(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/v1/api-keys", params={"sort": "secret_hash"}, headers=admin)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["parameter"], error["location"]) == ("sort", "query")


async def test_unknown_sort_on_institutions_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/institutions", params={"sort": "-id"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "sort"


async def test_list_envelope_without_total_by_default(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    auth: KeyFactory,
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution()
    await _three_keys(auth, institution)
    response = await client.get(
        "/v1/api-keys", params={"institution_id": str(institution.id)}, headers=admin
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body["items"]) == 3
    assert body["has_more"] is False
    assert body["next_cursor"] is None
    assert body.get("total") is None


async def test_include_total_counts_every_match(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    auth: KeyFactory,
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution()
    await _three_keys(auth, institution)
    response = await client.get(
        "/v1/api-keys",
        params={"institution_id": str(institution.id), "limit": "2", "include_total": "true"},
        headers=admin,
    )
    body = response.json()
    assert body["total"] == 3
    assert len(body["items"]) == 2
    assert body["has_more"] is True


async def test_next_cursor_walks_every_item_once(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    auth: KeyFactory,
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution()
    await _three_keys(auth, institution)
    params = {"institution_id": str(institution.id), "limit": "2", "sort": "created_at"}
    first = (await client.get("/v1/api-keys", params=params, headers=admin)).json()
    second = (
        await client.get(
            "/v1/api-keys", params={**params, "cursor": first["next_cursor"]}, headers=admin
        )
    ).json()
    ids = [k["id"] for k in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 3
    assert second["has_more"] is False
    assert second["next_cursor"] is None


async def test_tampered_cursor_over_http_is_a_400_problem(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    auth: KeyFactory,
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution()
    await _three_keys(auth, institution)
    params = {"institution_id": str(institution.id), "limit": "1"}
    cursor = (await client.get("/v1/api-keys", params=params, headers=admin)).json()["next_cursor"]
    body, mac = cursor.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["v"][1] = str(uuid.uuid4())
    forged = _b64(json.dumps(payload, separators=(",", ":")).encode()) + "." + mac
    response = await client.get("/v1/api-keys", params={**params, "cursor": forged}, headers=admin)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "cursor.invalid"


async def test_cursor_reused_with_other_filters_is_a_400_mismatch(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    auth: KeyFactory,
    make_institution: InstitutionFactory,
) -> None:
    institution = await make_institution()
    await _three_keys(auth, institution)
    params = {"institution_id": str(institution.id), "limit": "1"}
    cursor = (await client.get("/v1/api-keys", params=params, headers=admin)).json()["next_cursor"]
    response = await client.get(
        "/v1/api-keys", params={**params, "cursor": cursor, "revoked": "false"}, headers=admin
    )
    assert response.status_code == 400
    assert response.json()["code"] == "cursor.mismatch"


async def test_cursor_from_another_list_is_a_400_mismatch(
    client: httpx.AsyncClient, admin: dict[str, str], make_institution: InstitutionFactory
) -> None:
    await make_institution()
    await make_institution()
    cursor = (await client.get("/v1/institutions", params={"limit": "1"})).json()["next_cursor"]
    assert cursor is not None
    response = await client.get("/v1/api-keys", params={"cursor": cursor}, headers=admin)
    assert response.status_code == 400
    assert response.json()["code"] == "cursor.mismatch"


async def test_garbage_cursor_over_http_is_a_400_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/institutions", params={"cursor": "definitely-not.a-cursor"})
    assert response.status_code == 400
    assert response.json()["code"] == "cursor.invalid"
