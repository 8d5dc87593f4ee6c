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
from tests.conftest import InnovationFactory, InstitutionFactory, KeyFactory, UnitFactory

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


def _unb64(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def test_cursor_is_url_safe_and_opaque() -> None:
    token = SIGNER.encode("api-keys", ["Pemerintah Kota Malang / SMPN 10?", 7])
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_cursor_payload_is_versioned_json_without_its_scope() -> None:
    """Decoded, a cursor is a version byte, JSON of the sort values and a digest of the scope,
    and a 16-byte tag: the scope (here with a Python repr in it) cannot be read back."""
    scope = "innovations:newest:Visibility(institution_id=UUID('0c5e...'))"
    raw = _unb64(SIGNER.encode(scope, ["2026-01-02", 7]))
    assert raw[0] == 1
    payload = json.loads(raw[1:-16])
    assert payload["v"] == ["2026-01-02", 7]
    assert set(payload) == {"s", "v"}
    for readable in (b"Visibility", b"UUID(", b"innovations"):
        assert readable not in raw


def test_tampered_cursor_payload_is_invalid() -> None:
    """The values changed and the tag kept: refused."""
    raw = _unb64(SIGNER.encode("s", [1]))
    payload = json.loads(raw[1:-16])
    payload["v"] = [2]
    forged = raw[:1] + json.dumps(payload, separators=(",", ":")).encode() + raw[-16:]
    assert _decode_error(_b64(forged)) == "cursor.invalid"


def test_tampered_cursor_signature_is_invalid() -> None:
    token = SIGNER.encode("s", [1])
    last = token[-1]
    tampered = token[:-1] + ("A" if last != "A" else "B")
    assert _decode_error(tampered) == "cursor.invalid"


def test_a_cursor_with_any_one_character_changed_is_invalid() -> None:
    """Every position, every other character of the alphabet: never accepted (base64's unused
    trailing bits included, since only the canonical spelling is)."""
    token = SIGNER.encode("s", [12345])
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for position, original in enumerate(token):
        for other in alphabet.replace(original, ""):
            changed = token[:position] + other + token[position + 1 :]
            assert _decode_error(changed) == "cursor.invalid", (position, other)


def test_a_cursor_sealed_for_another_purpose_is_invalid() -> None:
    """The same key, the same payload, sealed for the sync feed: not a list cursor."""
    raw = _unb64(SIGNER.encode("s", [1]))
    other = SIGNER.seal("sync-feed", raw[1:-16])
    assert _decode_error(other) == "cursor.invalid"


def test_a_cursor_of_the_earlier_unsigned_format_is_invalid() -> None:
    """`<base64 JSON with the readable scope>.<tag>`, as handed out before: refused."""
    body = _b64(json.dumps({"s": "s", "v": [1]}, separators=(",", ":")).encode())
    assert _decode_error(f"{body}.{_b64(b'x' * 16)}") == "cursor.invalid"


def test_cursor_signed_with_another_key_is_invalid() -> None:
    token = CursorSigner(b"another-key").encode("s", [1])
    assert _decode_error(token) == "cursor.invalid"


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not-a-cursor",
        ".",
        "a.b",
        "!!!.???",
        "é.é",
        "eyJ9.",
        "x" * 2048,
        "x" * 2049,
        "a.b.c",
        "AQ",
        "AQ\n",
        _b64(b"\x02" + b"{}" + b"t" * 16),
    ],
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
    raw = _unb64(cursor)
    payload = json.loads(raw[1:-16])
    payload["v"][1] = str(uuid.uuid4())
    forged = _b64(raw[:1] + json.dumps(payload, separators=(",", ":")).encode() + raw[-16:])
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


async def test_a_list_cursor_over_http_shows_no_python_repr(
    client: httpx.AsyncClient,
    auth: KeyFactory,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> None:
    """An institution's admin lists innovations (its drafts too: the scope names its
    visibility): the cursor, base64-decoded, holds neither a repr nor the scope's text, and
    still pages on."""
    institution = await make_institution()
    unit = await make_unit(institution)
    made = {str((await make_innovation(unit)).id) for _ in range(3)}
    headers = await auth(Role.local_admin, institution_id=institution.id)
    params = {"limit": "2", "institution_id": str(institution.id)}
    first = (await client.get("/v1/innovations", params=params, headers=headers)).json()
    cursor = first["next_cursor"]
    raw = _unb64(cursor)
    for readable in (b"Visibility", b"UUID(", b"datetime", b"innovations"):
        assert readable not in raw
    assert str(institution.id).encode() not in raw
    second = (
        await client.get("/v1/innovations", params={**params, "cursor": cursor}, headers=headers)
    ).json()
    assert second["has_more"] is False
    assert {i["id"] for i in first["items"] + second["items"]} == made
