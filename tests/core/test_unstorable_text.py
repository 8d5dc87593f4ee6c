"""A NUL (or a lone surrogate) in any string of any request body is a 422 pointing at it.

PostgreSQL stores neither, in a text column or inside jsonb; the body is checked once
(app.core.texts) rather than field by field, so the test walks every operation's request schema
in the OpenAPI document and sends the character in each string it finds."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.texts import check_json_body, unstorable_pointer
from app.models.enums import Role
from app.models.hubs import Hub
from app.models.institutions import Institution, Unit
from tests.conftest import InnovationFactory, KeyFactory, UserFactory, bearer_for

Schema = dict[str, Any]
BAD = "Teks\x00rusak"
BAD_KEY = "Teks\\u0000rusak"  # as a pointer shows it
# Sync batches check each item's texts themselves: an item that holds one fails alone.
OWN_CHECK = "/v1/sync/"


class Walker:
    """Valid-enough sample values of a schema, and copies with one string made unstorable."""

    def __init__(self, document: Schema) -> None:
        self.document = document

    def resolve(self, schema: Schema) -> Schema:
        while "$ref" in schema:
            node: Any = self.document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def variants(self, schema: Schema) -> list[Schema]:
        schema = self.resolve(schema)
        options = schema.get("anyOf") or schema.get("oneOf")
        if options:
            found = [self.resolve(o) for o in options if self.resolve(o).get("type") != "null"]
            return [v for option in found for v in self.variants(option)]
        if "allOf" in schema:
            merged: Schema = {}
            for part in schema["allOf"]:
                merged.update(self.resolve(part))
            return [merged]
        return [schema]

    def sample(self, schema: Schema) -> Any:
        schema = self.variants(schema)[0]
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        if "default" in schema and schema["default"] is not None:
            return copy.deepcopy(schema["default"])
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            properties = schema.get("properties", {})
            return {name: self.sample(sub) for name, sub in properties.items()}
        if kind == "array":
            return [self.sample(schema.get("items", {}))]
        if kind == "integer":
            return int(schema.get("minimum", 1))
        if kind == "number":
            return float(schema.get("minimum", 1))
        if kind == "boolean":
            return True
        if kind == "string":
            return {
                "uuid": str(uuid.uuid4()),
                "date": "2024-01-02",
                "date-time": "2024-01-02T03:04:05Z",
                "uri": "https://example.go.id/",
                "email": "someone@example.go.id",
            }.get(schema.get("format", ""), "teks")
        return "teks"

    def spoiled(self, schema: Schema, pointer: str = "") -> Iterator[tuple[str, Any]]:
        """(pointer, value) for each string the schema can hold: the value a valid-enough
        sample with that one string unstorable."""
        for variant in self.variants(schema):
            kind = variant.get("type")
            if kind == "string":
                yield pointer, BAD
            elif kind == "object" or "properties" in variant:
                properties = variant.get("properties", {})
                for name, sub in properties.items():
                    for where, value in self.spoiled(sub, f"{pointer}/{name}"):
                        body = self.sample(variant)
                        body[name] = value
                        yield where, body
                extra = variant.get("additionalProperties")
                if extra is not None and extra is not False and not properties:
                    yield f"{pointer}/{BAD_KEY}", {BAD: "teks"}
            elif kind == "array":
                for where, value in self.spoiled(variant.get("items", {}), f"{pointer}/0"):
                    yield where, [value]


def _cases(document: Schema) -> Iterator[tuple[str, str, str, Any]]:
    walker = Walker(document)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            url = path
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    url = url.replace("{" + parameter["name"] + "}", str(uuid.uuid4()))
            for pointer, body in walker.spoiled(content["application/json"]["schema"]):
                yield method.upper(), url, pointer, body


@pytest.fixture
async def callers(
    make_user: UserFactory, auth: KeyFactory, app: FastAPI, institution: Institution, hub: Hub
) -> list[dict[str, str]]:
    """Access tokens of a caller of each kind, tried in turn until a policy admits one to the
    body check (a role may not call every operation)."""
    users = [
        await make_user(Role.secretariat_admin),
        await make_user(Role.local_admin, institution_id=institution.id),
        await make_user(Role.evaluator),
        await make_user(Role.hub_admin, hub_id=hub.id),
    ]
    tokens = [bearer_for(app.state.settings, user) for user in users]
    return [*tokens, await auth(Role.regional_system, institution_id=institution.id)]


async def test_every_string_of_every_request_body_refuses_a_nul(
    app: FastAPI, client: httpx.AsyncClient, callers: list[dict[str, str]]
) -> None:
    cases = list(_cases(app.openapi()))
    # Every JSON-stored field the issue names is among the strings walked.
    pointers = {(method, path.split("/")[2], pointer) for method, path, pointer, _ in cases}
    for expected in [
        ("POST", "innovations", "/sections/summary"),
        ("POST", "innovations", "/regulations/0/number"),
        ("POST", "innovations", "/links/0/title"),
        ("POST", "innovations", "/budget_lines/0/description"),
        ("PATCH", "innovations", "/sections/summary"),
        ("POST", "competitions", "/legal_basis/0"),
        ("POST", "hubs", "/contacts/0/name"),
        ("POST", "hubs", "/documents/0/title"),
    ]:
        assert expected in pointers, expected
    assert len({(m, p) for m, p, _, _ in cases}) >= 55
    failures = []
    admitted: dict[tuple[str, str], dict[str, str]] = {}
    for method, url, pointer, body in cases:
        for caller in [admitted[method, url]] if (method, url) in admitted else callers:
            response = await client.request(method, url, json=body, headers=caller)
            if response.status_code != 403:
                admitted[method, url] = caller
                break
        if url.startswith(OWN_CHECK):  # the item fails alone
            items = response.json().get("items") if response.status_code == 200 else None
            if not items or items[0]["status"] != "invalid":
                failures.append((method, url, pointer, response.status_code, response.text[:300]))
            continue
        problem = response.json()
        pointed = [e.get("pointer") for e in problem.get("errors", [])]
        if response.status_code != 422 or pointed != [pointer]:
            failures.append((method, url, pointer, response.status_code, response.text[:300]))
    assert not failures, "\n".join(map(str, failures))


async def test_a_lone_surrogate_and_a_nul_key_are_refused_too(
    client: httpx.AsyncClient, callers: list[dict[str, str]]
) -> None:
    signed_in = callers[0]
    body = b'{"name": "Kementerian \\ud800 Uji", "kind": "kementerian"}'
    headers = {**signed_in, "Content-Type": "application/json"}
    response = await client.post("/v1/institutions", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/name"
    assert response.json()["errors"][0]["code"] == "text.unstorable"
    body = b'{"name": "Kementerian Uji", "kind": "kementerian", "a/b~\\u0000": 1}'
    response = await client.post("/v1/institutions", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/a~1b~0\\u0000"


def test_a_valid_surrogate_pair_and_an_escaped_backslash_pass() -> None:
    check_json_body(b'{"name": "Senyum \\ud83d\\ude00"}')
    check_json_body(b'{"name": "C:\\\\u0000"}')
    assert unstorable_pointer({"a": ["ok", {"b": "x\x00"}]}) == "/a/1/b"


async def test_a_nul_in_a_json_stored_field_of_a_valid_body_is_a_422_not_a_500(
    client: httpx.AsyncClient,
    callers: list[dict[str, str]],
    unit: Unit,
    make_innovation: InnovationFactory,
) -> None:
    admin = callers[0]
    body = {
        "unit_id": str(unit.id),
        "title": "SIKULIN",
        "year_started": 2021,
        "is_digital": True,
        "stage": "uji_coba",
        "links": [{"kind": "video", "url": "https://example.go.id/", "title": BAD}],
    }
    response = await client.post("/v1/innovations", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/links/0/title"
    innovation = await make_innovation(unit)
    response = await client.patch(
        f"/v1/innovations/{innovation.id}",
        json={"sections": {"summary": BAD}},
        headers={**admin, "If-Match": f'"{innovation.version}"'},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == "/sections/summary"
