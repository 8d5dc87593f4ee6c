"""Every response writes an instant in UTC with `Z`, whatever offset it was given or computed
in: schema fields (one shared type, `app.core.dates.UtcDateTime`), problem members, the audit
trail's changes, CSV exports. The test client checks every JSON response it receives
(tests/response_checks.py); these tests check the check, walk every response model, and follow an
instant given in WIB (`+07:00`) through the responses that show it."""

from __future__ import annotations

import csv
import io
import json
import types
import typing
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.core import dates
from app.core.dates import UTC_SERIALIZER
from app.core.errors import problem_response
from app.domains.innovations.export import cell
from app.models.enums import InnovationStatus
from app.models.institutions import Unit
from tests.conftest import InnovationFactory, InstitutionFactory
from tests.response_checks import offenders, response_offenders

WIB = timezone(timedelta(hours=7))


# --- the check ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2023-01-09T00:00:00+07:00",
        "2023-01-08T17:00:00+00:00",
        "2023-01-08T17:00:00",  # naive: no offset at all
        "2023-01-08 17:00:00.123456-05:00",
    ],
)
def test_the_check_finds_an_instant_not_written_in_utc_with_z(text: str) -> None:
    assert offenders({"items": [{"at": text}]}) == [f"/items/0/at: {text}"]


@pytest.mark.parametrize(
    "value", ["2023-01-08T17:00:00Z", "2023-01-08T17:00:00.5Z", "2023-01-08", "Medan", 2023, None]
)
def test_the_check_passes_utc_instants_dates_and_other_values(value: Any) -> None:
    assert offenders({"a": value, "b": [value]}) == []


# --- the shared type and the writers ----------------------------------------------------------


def test_the_shared_type_writes_any_offset_as_utc_with_z_and_stays_a_date_time() -> None:
    class Read(BaseModel):
        at: dates.UtcDateTime
        maybe: dates.UtcDateTime | None = None
        many: list[dates.UtcDateTime] = []

    given = datetime(2023, 1, 9, 0, 0, tzinfo=WIB)
    read = Read(at=given, maybe=given, many=[given])
    assert read.model_dump_json() == (
        '{"at":"2023-01-08T17:00:00Z","maybe":"2023-01-08T17:00:00Z",'
        '"many":["2023-01-08T17:00:00Z"]}'
    )
    assert read.model_dump()["at"] == given
    assert read.model_dump()["at"].tzinfo is UTC
    schema = Read.model_json_schema(mode="serialization")["properties"]
    assert schema["at"] == {"format": "date-time", "title": "At", "type": "string"}
    assert {"format": "date-time", "type": "string"} in schema["maybe"]["anyOf"]


def test_the_hand_writers_write_utc_with_z() -> None:
    given = datetime(2023, 1, 9, 0, 0, 0, 1000, tzinfo=WIB)
    assert dates.rfc3339(given) == "2023-01-08T17:00:00.001000Z"
    assert dates.jsonable({"at": [given], "day": date(2023, 1, 9)}) == {
        "at": ["2023-01-08T17:00:00.001000Z"],
        "day": "2023-01-09",
    }
    assert cell(given) == "2023-01-08T17:00:00.001000Z"
    assert cell(datetime(2023, 1, 8, 17, tzinfo=UTC)) == "2023-01-08T17:00:00Z"
    assert cell(date(2023, 1, 9)) == "2023-01-09"


def test_a_problem_member_holding_an_instant_is_written_in_utc_with_z() -> None:
    """Problem members (`objections_close_at`) are written by hand: one writer for all."""
    closes = datetime(2022, 12, 5, 23, 59, 59, 999999, tzinfo=WIB)
    response = problem_response(
        None, 409, "objection.window_closed", "Closed.", extra={"objections_close_at": closes}
    )
    body = json.loads(bytes(response.body))
    assert body["objections_close_at"] == "2022-12-05T16:59:59.999999Z"
    assert offenders(body) == []


# --- every response model -------------------------------------------------------------------


def _bare_instants(annotation: Any, metadata: list[Any], at: str, seen: set[type]) -> list[str]:
    """Where `annotation` holds a datetime not of the shared type."""
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extra = typing.get_args(annotation)
        return _bare_instants(inner, [*metadata, *extra], at, seen)
    if annotation is datetime:
        return [] if UTC_SERIALIZER in metadata else [at]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model_instants(annotation, seen)
    found: list[str] = []
    for arg in typing.get_args(annotation):
        found += _bare_instants(arg, [], at, seen)
    return found


def _model_instants(model: type[BaseModel], seen: set[type]) -> list[str]:
    if model in seen:
        return []
    seen.add(model)
    found: list[str] = []
    for name, field in model.model_fields.items():
        found += _bare_instants(
            field.annotation, list(field.metadata), f"{model.__name__}.{name}", seen
        )
    return found


def _response_models(app: FastAPI) -> set[type[BaseModel]]:
    models: set[type[BaseModel]] = set()

    def add(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            models.add(annotation)
        elif isinstance(annotation, types.UnionType) or typing.get_origin(annotation):
            for arg in typing.get_args(annotation):
                add(arg)

    for route in app.routes:
        if isinstance(route, APIRoute):
            add(route.response_model)
            for declared in route.responses.values():
                add(declared.get("model"))
    return models


def test_every_instant_of_every_response_model_is_of_the_shared_utc_type(app: FastAPI) -> None:
    models = _response_models(app)
    assert len(models) > 50  # every domain's reads, pages and problems
    seen: set[type] = set()
    found = [at for model in sorted(models, key=lambda m: m.__name__) for at in
             _model_instants(model, seen)]  # fmt: skip
    assert found == [], "declare these as app.core.dates.UtcDateTime"
    assert any(
        UTC_SERIALIZER in f.metadata for m in seen for f in m.model_fields.values()
    )  # the walk did reach the instants


def test_the_openapi_document_keeps_every_instant_a_date_time(app: FastAPI) -> None:
    components = app.openapi()["components"]["schemas"]
    instants = {
        f"{name}.{prop}": schema
        for name, component in components.items()
        for prop, schema in component.get("properties", {}).items()
        if prop.endswith("_at")
    }
    assert len(instants) > 50
    wrong = {
        at: schema
        for at, schema in instants.items()
        if {"type": "string", "format": "date-time"}
        not in [
            {k: v for k, v in s.items() if k in ("type", "format")}
            for s in schema.get("anyOf", [schema])
        ]
    }
    assert wrong == {}


# --- an instant given in WIB, through the responses --------------------------------------------


async def test_an_instant_given_in_wib_is_written_in_utc_by_every_response_that_shows_it(
    client: httpx.AsyncClient, admin: dict[str, str], make_institution: InstitutionFactory
) -> None:
    """Create, read, list, update and the audit trail: the same instant, always `Z`."""
    kemenpan = await make_institution(name="Kementerian PANRB")
    opens, closes = "2023-01-09T00:00:00+07:00", "2023-03-31T23:59:59.5+07:00"
    created = await client.post(
        "/v1/competitions",
        json={
            "code": "KIPP-2023",
            "name": "Kompetisi Inovasi Pelayanan Publik 2023",
            "year": 2023,
            "scope": "national",
            "organiser_institution_id": str(kemenpan.id),
            "registration_opens_at": opens,
            "registration_closes_at": closes,
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["registration_opens_at"] == "2023-01-08T17:00:00Z"
    assert body["registration_closes_at"] == "2023-03-31T16:59:59.500000Z"
    competition_id = body["id"]

    read = await client.get(f"/v1/competitions/{competition_id}", headers=admin)
    assert read.json()["registration_opens_at"] == "2023-01-08T17:00:00Z"
    listed = await client.get("/v1/competitions", headers=admin)
    assert [c["registration_opens_at"] for c in listed.json()["items"]] == ["2023-01-08T17:00:00Z"]
    updated = await client.patch(
        f"/v1/competitions/{competition_id}",
        json={"registration_opens_at": "2023-01-10T08:00:00+07:00"},
        headers={**admin, "If-Match": created.headers["ETag"]},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["registration_opens_at"] == "2023-01-10T01:00:00Z"

    trail = await client.get(
        "/v1/audit-events", params={"entity_id": competition_id}, headers=admin
    )
    changes = [e["changes"] for e in trail.json()["items"]]
    assert {"before": None, "after": "2023-01-08T17:00:00Z"} in [
        c.get("registration_opens_at") for c in changes
    ]
    assert {"before": "2023-01-08T17:00:00Z", "after": "2023-01-10T01:00:00Z"} in [
        c.get("registration_opens_at") for c in changes
    ]
    for response in (created, read, listed, updated, trail):
        assert response_offenders(response) == []


async def test_the_csv_export_writes_its_instants_in_utc_with_z(
    client: httpx.AsyncClient, unit: Unit, make_innovation: InnovationFactory
) -> None:
    await make_innovation(unit, status=InnovationStatus.published)
    response = await client.get("/v1/innovations/export")
    assert response.status_code == 200, response.text
    header, *rows = csv.reader(io.StringIO(response.text))
    created_at = header.index("created_at")
    assert rows
    assert all(row[created_at].endswith("Z") for row in rows), rows
    assert response_offenders(response) == []
