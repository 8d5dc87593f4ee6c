"""Batches pushed by regional systems (`POST /v1/sync/{units,innovations}/batch` and the mixed
`POST /v1/sync/batch`, app/domains/sync/batch/) and their runs (`GET /v1/sync/runs`).

What is checked: a bad item fails alone while the others apply (with JSON pointers under
`/items/<index>`); resending is `unchanged` and a change `updated`; a stale `version` is a
`conflict`; an external_id repeated in a batch is applied once; writes stay inside the caller's
institution; units and innovations of one batch name each other by external_id, in any order;
the innovation lifecycle; `Idempotency-Key` replay; the changes feed; the size cap; who may
push; NUL characters and malformed items; and the runs recorded.

Every test runs in one transaction that is rolled back; the app's requests run in it too, so
the test reads what a request wrote straight from its session."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dates import today_wib
from app.models.audit import AuditEvent
from app.models.enums import InnovationStage, InstitutionKind, Role
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from app.models.sync import SyncRun
from tests.conftest import (
    COMPLETE_SECTIONS,
    AppFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
    client_for,
)
from tests.domains import assert_problem
from tests.domains.sync.test_changes_feed import end_of_feed, of, read_on

UNITS = "/v1/sync/units/batch"
INNOVATIONS = "/v1/sync/innovations/batch"
MIXED = "/v1/sync/batch"
RUNS = "/v1/sync/runs"
PUSHES = (UNITS, INNOVATIONS, MIXED)
Headers = dict[str, str]
Item = dict[str, Any]

LINK = {"kind": "video", "url": "https://example.go.id/video/sikulin", "title": "Video"}
REGULATION = {
    "type": "peraturan_kepala_daerah",
    "number": "12/2021",
    "date": "2021-06-01",
    "title": "Perbup Layanan Kunjungan",
}
BUDGET_LINE = {"year": 2021, "source": "apbd", "amount": 150_000_000}


# --- items ----------------------------------------------------------------------------------


def innovation_item(external_id: str, unit: Unit | None = None, **fields: Any) -> Item:
    """A complete innovation item (publishable); owned by `unit` unless the fields name the
    unit otherwise (`unit_external_id`, or `unit_id=None` to leave it out)."""
    body: Item = {
        "external_id": external_id,
        "title": f"INOVASI-{uuid.uuid4().hex[:6].upper()}",
        "year_started": 2021,
        "implemented_date": "2021-07-01",
        "is_digital": True,
        "stage": InnovationStage.penerapan.value,
        "sdgs": [16],
        "sections": dict(COMPLETE_SECTIONS),
    }
    if unit is not None:
        body["unit_id"] = str(unit.id)
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


def unit_item(external_id: str, **fields: Any) -> Item:
    body: Item = {
        "external_id": external_id,
        "name": f"Bidang {external_id} {uuid.uuid4().hex[:6]}",
    }
    body.update(fields)
    return body


def tagged(resource: str, item: Item) -> Item:
    """The item as a mixed batch carries it."""
    return {"resource": resource, **item}


def summary(result: Item) -> tuple[int, str | None, str, str | None]:
    """(index, external_id, status, code) of one item's result."""
    return (result["index"], result["external_id"], result["status"], result["code"])


def pointers(result: Item) -> list[str]:
    return [error["pointer"] for error in result["errors"] or []]


def totals(
    received: int,
    created: int = 0,
    updated: int = 0,
    unchanged: int = 0,
    conflict: int = 0,
    invalid: int = 0,
) -> dict[str, int]:
    return {
        "received": received,
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "conflict": conflict,
        "invalid": invalid,
    }


# --- the world ------------------------------------------------------------------------------


@dataclass
class World:
    """Pemkot Medan (A) and Pemkot Malang (B), one unit each (given no external_id); each
    one's regional_system key and local admin; the secretariat."""

    client: httpx.AsyncClient
    session: AsyncSession
    a: Institution
    unit_a: Unit
    b: Institution
    unit_b: Unit
    regional_a: Headers
    regional_b: Headers
    local_a: Headers
    local_b: Headers
    admin: Headers

    async def post(
        self,
        path: str,
        items: list[Any],
        headers: Headers | None = None,
        key: str | None = None,
    ) -> httpx.Response:
        """Push `items` to `path` (as A's regional system unless told), under `key`."""
        sent = dict(headers or self.regional_a)
        if key is not None:
            sent["Idempotency-Key"] = key
        return await self.client.post(path, json={"items": items}, headers=sent)

    async def push(
        self,
        path: str,
        items: list[Any],
        headers: Headers | None = None,
        key: str | None = None,
    ) -> Item:
        """The 200 answer to a push; each item reported once, in the order sent."""
        response = await self.post(path, items, headers, key)
        assert response.status_code == 200, response.text
        body: Item = response.json()
        assert [result["index"] for result in body["items"]] == list(range(len(items)))
        return body

    async def get(self, path: str, headers: Headers | None = None, **params: Any) -> Item:
        response = await self.client.get(path, params=params, headers=headers or {})
        assert response.status_code == 200, response.text
        body: Item = response.json()
        return body

    async def innovation(self, record_id: str, headers: Headers | None = None) -> Item:
        """The innovation as A's local admin (or `headers`) reads it."""
        return await self.get(f"/v1/innovations/{record_id}", headers or self.local_a)

    async def innovations_of(self, institution: Institution) -> dict[str, Innovation]:
        """An institution's innovations by external_id (those without one left out)."""
        found = await self.session.scalars(
            select(Innovation).where(
                Innovation.institution_id == institution.id, Innovation.external_id.is_not(None)
            )
        )
        return {row.external_id: row for row in found if row.external_id is not None}

    async def units_of(self, institution: Institution) -> dict[str, Unit]:
        found = await self.session.scalars(
            select(Unit).where(Unit.institution_id == institution.id, Unit.external_id.is_not(None))
        )
        return {row.external_id: row for row in found if row.external_id is not None}

    async def runs(self, institution: Institution) -> int:
        await self.session.flush()
        count = await self.session.scalar(
            select(func.count())
            .select_from(SyncRun)
            .where(SyncRun.institution_id == institution.id)
        )
        return int(count or 0)

    async def audit_events(self, institution: Institution) -> int:
        await self.session.flush()  # what the fixtures wrote (the session does not autoflush)
        count = await self.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.institution_id == institution.id)
        )
        return int(count or 0)


async def world_fields(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    admin: Headers,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
) -> dict[str, Any]:
    """The fields of a `World` (a subclass's fixture adds its own)."""
    pemkot = InstitutionKind.pemkot
    a = await make_institution(name="Pemerintah Kota Medan", kind=pemkot, region_code="12.71")
    b = await make_institution(name="Pemerintah Kota Malang", kind=pemkot, region_code="35.73")
    return {
        "client": client,
        "session": session,
        "a": a,
        "unit_a": await make_unit(a, name="Sekretariat DPRD Kota Medan"),
        "b": b,
        "unit_b": await make_unit(b, name="Dinas Komunikasi dan Informatika Kota Malang"),
        "regional_a": await auth(Role.regional_system, institution_id=a.id),
        "regional_b": await auth(Role.regional_system, institution_id=b.id),
        "local_a": await auth(Role.local_admin, institution_id=a.id),
        "local_b": await auth(Role.local_admin, institution_id=b.id),
        "admin": admin,
    }


@pytest.fixture
async def w(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    admin: Headers,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
) -> World:
    return World(**await world_fields(client, session, auth, admin, make_institution, make_unit))


# --- a bad item fails alone -----------------------------------------------------------------


async def test_good_items_apply_and_bad_ones_are_reported_with_pointers(w: World) -> None:
    """Of five innovations, one lacks its title, one names an unknown category, one started
    next year: those three are invalid (pointers under their own index, nothing written); the
    other two are created, readable as sent, each with one audit event."""
    next_year = today_wib().year + 1
    items = [
        innovation_item("SIM-1", w.unit_a, title="SIKULIN", category_codes=["kesehatan"]),
        innovation_item("SIM-2", w.unit_a, title=None),
        innovation_item("SIM-3", w.unit_a, category_codes=["kesehatan", "antariksa"]),
        innovation_item("SIM-4", w.unit_a, year_started=next_year, implemented_date=None),
        innovation_item("SIM-5", w.unit_a, title="MAJATOKI"),
    ]
    audits_before = await w.audit_events(w.a)

    body = await w.push(INNOVATIONS, items)

    assert [summary(r) for r in body["items"]] == [
        (0, "SIM-1", "created", None),
        (1, "SIM-2", "invalid", "sync.invalid_item"),
        (2, "SIM-3", "invalid", "innovation.invalid"),
        (3, "SIM-4", "invalid", "innovation.invalid"),
        (4, "SIM-5", "created", None),
    ]
    assert body["totals"] == totals(5, created=2, invalid=3)
    missing, unknown, future = body["items"][1:4]
    assert pointers(missing) == ["/items/1/title"]
    assert [e["location"] for e in missing["errors"]] == ["body"]
    assert pointers(unknown) == ["/items/2/category_codes/1"]
    assert unknown["errors"][0]["code"] == "innovation.unknown_category"
    assert pointers(future) == ["/items/3/year_started"]
    assert future["errors"][0]["code"] == "innovation.year_in_future"
    assert all(r["id"] is None and r["version"] is None for r in (missing, unknown, future))

    first, last = body["items"][0], body["items"][4]
    assert first["version"] == last["version"] == 1
    read = await w.innovation(first["id"])
    assert (read["title"], read["external_id"], read["status"]) == ("SIKULIN", "SIM-1", "draft")
    assert (read["unit_id"], read["institution_id"]) == (str(w.unit_a.id), str(w.a.id))
    assert read["category_codes"] == ["kesehatan"]
    assert read["sections"] == {**dict.fromkeys(read["sections"]), **COMPLETE_SECTIONS}
    assert (await w.innovation(last["id"]))["title"] == "MAJATOKI"
    assert set(await w.innovations_of(w.a)) == {"SIM-1", "SIM-5"}
    assert await w.audit_events(w.a) == audits_before + 2


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        pytest.param({"sections": {"summary": 5}}, "/items/0/sections/summary", id="nested type"),
        pytest.param({"bogus": 1}, "/items/0/bogus", id="unknown field"),
        pytest.param({"sdgs": [18]}, "/items/0/sdgs/0", id="sdg out of range"),
        pytest.param({"external_id": "   "}, "/items/0/external_id", id="blank external_id"),
        pytest.param({"version": 0}, "/items/0/version", id="version below 1"),
        pytest.param({"status": "deleted"}, "/items/0/status", id="unknown status"),
    ],
)
async def test_schema_errors_point_into_the_item(w: World, fields: Item, pointer: str) -> None:
    """A schema error is `sync.invalid_item` with a pointer under the item's index; the
    following item still applies."""
    items = [{**innovation_item("BAD", w.unit_a), **fields}, innovation_item("GOOD", w.unit_a)]
    body = await w.push(INNOVATIONS, items)
    bad, good = body["items"]
    assert (bad["status"], bad["code"]) == ("invalid", "sync.invalid_item")
    assert pointer in pointers(bad), bad
    assert good["status"] == "created"
    assert set(await w.innovations_of(w.a)) == {"GOOD"}


async def test_units_batch_creates_units_of_the_caller_s_institution(w: World) -> None:
    """Units are created in the key's institution with their external_id, name and region; a
    region outside the institution's is invalid at /items/<i>/region_code."""
    items = [
        unit_item("DINKES", name="Dinas Kesehatan Kota Medan", region_code="12.71"),
        unit_item("DISDIK", name="Dinas Pendidikan Kota Medan", region_code="35.73"),
    ]
    body = await w.push(UNITS, items)
    created, outside = body["items"]
    assert summary(created) == (0, "DINKES", "created", None)
    assert created["resource"] == "units"
    assert summary(outside) == (1, "DISDIK", "invalid", "unit.region_outside_institution")
    assert pointers(outside) == ["/items/1/region_code"]
    unit = await w.get(f"/v1/units/{created['id']}")
    assert (unit["name"], unit["institution_id"]) == ("Dinas Kesehatan Kota Medan", str(w.a.id))
    assert unit["region_code"] == "12.71"
    assert set(await w.units_of(w.a)) == {"DINKES"}
    assert body["totals"] == totals(2, created=1, invalid=1)


async def test_a_sibling_name_clash_fails_alone(w: World) -> None:
    """A unit named as an existing top-level unit is invalid (`unit.duplicate_name`, pointer
    /items/<i>/name); the unit after it is still created."""
    items = [
        unit_item("DUP", name=w.unit_a.name.upper()),
        unit_item("OK", name="Badan Kepegawaian Kota Medan"),
    ]
    body = await w.push(UNITS, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "DUP", "invalid", "unit.duplicate_name"),
        (1, "OK", "created", None),
    ]
    assert pointers(body["items"][0]) == ["/items/0/name"]
    assert set(await w.units_of(w.a)) == {"OK"}


# --- resending, updating, versions ----------------------------------------------------------


async def test_resent_items_are_unchanged_and_a_changed_one_updated(w: World) -> None:
    """The same items again (with regulations, budget lines and links) are `unchanged` at
    version 1 with nothing audited; one with a new title is `updated` to version 2, read back
    with it, audited once."""
    full = {"regulations": [REGULATION], "budget_lines": [BUDGET_LINE], "links": [LINK]}
    items = [
        innovation_item("SIM-1", w.unit_a, title="SIKULIN", **full),
        innovation_item("SIM-2", w.unit_a, title="MAJATOKI", acronym_expansion="Masuk Jalur"),
    ]
    first = await w.push(INNOVATIONS, items)
    ids = [r["id"] for r in first["items"]]
    audits = await w.audit_events(w.a)

    again = await w.push(INNOVATIONS, items)
    assert [(r["status"], r["id"], r["version"]) for r in again["items"]] == [
        ("unchanged", ids[0], 1),
        ("unchanged", ids[1], 1),
    ]
    assert again["totals"] == totals(2, unchanged=2)
    assert await w.audit_events(w.a) == audits

    items[1] = {**items[1], "title": "MAJATOKI BARU"}
    changed = await w.push(INNOVATIONS, items)
    assert [(r["status"], r["id"], r["version"]) for r in changed["items"]] == [
        ("unchanged", ids[0], 1),
        ("updated", ids[1], 2),
    ]
    read = await w.innovation(ids[1])
    assert (read["title"], read["version"], read["acronym_expansion"]) == (
        "MAJATOKI BARU",
        2,
        "Masuk Jalur",
    )
    assert await w.audit_events(w.a) == audits + 1
    kept = await w.innovation(ids[0])
    assert (kept["regulations"], kept["budget_lines"], kept["links"]) == (
        [{**REGULATION, "url": None}],
        [{**BUDGET_LINE, "description": None}],
        [LINK],
    )


async def test_an_item_is_written_whole_fields_left_out_are_cleared(w: World) -> None:
    """An update without acronym_expansion or category_codes clears them (as on create)."""
    first = await w.push(
        INNOVATIONS,
        [
            innovation_item(
                "SIM-1", w.unit_a, acronym_expansion="Sistem", category_codes=["kesehatan"]
            )
        ],
    )
    record_id = first["items"][0]["id"]
    second = await w.push(INNOVATIONS, [innovation_item("SIM-1", w.unit_a)])
    assert (second["items"][0]["status"], second["items"][0]["version"]) == ("updated", 2)
    read = await w.innovation(record_id)
    assert (read["acronym_expansion"], read["category_codes"]) == (None, [])


async def test_units_resent_are_unchanged_and_renamed_updated(w: World) -> None:
    items = [unit_item("DINKES", name="Dinas Kesehatan Kota Medan")]
    created = (await w.push(UNITS, items))["items"][0]
    again = (await w.push(UNITS, items))["items"][0]
    assert (again["status"], again["id"], again["version"]) == ("unchanged", created["id"], 1)
    renamed = (await w.push(UNITS, [{**items[0], "name": "Dinas Kesehatan"}]))["items"][0]
    assert (renamed["status"], renamed["id"], renamed["version"]) == ("updated", created["id"], 2)
    unit = await w.get(f"/v1/units/{created['id']}")
    assert (unit["name"], unit["version"]) == ("Dinas Kesehatan", 2)


async def test_a_stale_version_is_a_conflict_and_changes_nothing(w: World) -> None:
    """At version 2, an item saying version 1 is a `conflict` reporting id and version 2, and
    the record keeps its title; the item saying version 2 then applies (version 3)."""
    record_id = (await w.push(INNOVATIONS, [innovation_item("SIM-1", w.unit_a, title="SATU")]))[
        "items"
    ][0]["id"]
    await w.push(INNOVATIONS, [innovation_item("SIM-1", w.unit_a, title="DUA")])

    stale = await w.push(INNOVATIONS, [innovation_item("SIM-1", w.unit_a, title="XX", version=1)])
    (result,) = stale["items"]
    assert summary(result) == (0, "SIM-1", "conflict", "sync.version_conflict")
    assert (result["id"], result["version"]) == (record_id, 2)
    assert stale["totals"] == totals(1, conflict=1)
    read = await w.innovation(record_id)
    assert (read["title"], read["version"]) == ("DUA", 2)

    fresh = await w.push(INNOVATIONS, [innovation_item("SIM-1", w.unit_a, title="TIGA", version=2)])
    assert (fresh["items"][0]["status"], fresh["items"][0]["version"]) == ("updated", 3)
    assert (await w.innovation(record_id))["title"] == "TIGA"


async def test_a_stale_unit_version_is_a_conflict(w: World) -> None:
    created = (await w.push(UNITS, [unit_item("DINKES", name="Dinas Kesehatan Kota Medan")]))[
        "items"
    ][0]
    stale = (await w.push(UNITS, [unit_item("DINKES", name="Dinkes", version=2)]))["items"][0]
    assert summary(stale) == (0, "DINKES", "conflict", "sync.version_conflict")
    assert (stale["id"], stale["version"]) == (created["id"], 1)
    assert (await w.get(f"/v1/units/{created['id']}"))["name"] == "Dinas Kesehatan Kota Medan"


@pytest.mark.parametrize("path", [UNITS, INNOVATIONS])
async def test_a_version_for_an_unknown_external_id_is_a_conflict_without_id(
    w: World, path: str
) -> None:
    """A version names a record the caller saw: with no such record it is a `conflict`
    (`sync.record_gone`, id and version null) and nothing is created."""
    item = unit_item("GONE") if path == UNITS else innovation_item("GONE", w.unit_a)
    body = await w.push(path, [{**item, "version": 3}])
    (result,) = body["items"]
    assert summary(result) == (0, "GONE", "conflict", "sync.record_gone")
    assert (result["id"], result["version"]) == (None, None)
    assert "GONE" not in await w.units_of(w.a)
    assert "GONE" not in await w.innovations_of(w.a)


# --- duplicates -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [UNITS, INNOVATIONS])
async def test_an_external_id_repeated_in_a_batch_is_applied_once(w: World, path: str) -> None:
    """The first item is applied; the second (same external_id, after trimming) is invalid
    `sync.duplicate_external_id` at its /external_id; one record exists, as the first said."""
    if path == UNITS:
        items = [unit_item("X-1", name="Bidang Pertama"), unit_item(" X-1 ", name="Bidang Kedua")]
    else:
        items = [
            innovation_item("X-1", w.unit_a, title="PERTAMA"),
            innovation_item(" X-1 ", w.unit_a, title="KEDUA"),
        ]
    body = await w.push(path, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "X-1", "created", None),
        (1, "X-1", "invalid", "sync.duplicate_external_id"),
    ]
    assert pointers(body["items"][1]) == ["/items/1/external_id"]
    if path == UNITS:
        (unit,) = (await w.units_of(w.a)).values()
        assert unit.name == "Bidang Pertama"
    else:
        (innovation,) = (await w.innovations_of(w.a)).values()
        assert innovation.title == "PERTAMA"


async def test_a_unit_and_an_innovation_may_share_an_external_id(w: World) -> None:
    """external_ids are per resource: a unit and an innovation called the same both apply."""
    body = await w.push(
        MIXED,
        [
            tagged("units", unit_item("SAME")),
            tagged("innovations", innovation_item("SAME", unit_external_id="SAME")),
        ],
    )
    assert [r["status"] for r in body["items"]] == ["created", "created"]
    unit_id = body["items"][0]["id"]
    assert (await w.innovation(body["items"][1]["id"]))["unit_id"] == unit_id


# --- the caller's institution only ----------------------------------------------------------


async def test_another_institution_s_unit_is_out_of_scope(w: World) -> None:
    """A's system naming B's unit by id: invalid `sync.out_of_scope` at /items/0/unit_id,
    nothing written anywhere."""
    audits = await w.audit_events(w.b)
    body = await w.push(INNOVATIONS, [innovation_item("SIM-1", w.unit_b)])
    (result,) = body["items"]
    assert summary(result) == (0, "SIM-1", "invalid", "sync.out_of_scope")
    assert pointers(result) == ["/items/0/unit_id"]
    assert await w.innovations_of(w.a) == {}
    assert await w.innovations_of(w.b) == {}
    assert await w.audit_events(w.b) == audits


async def test_two_institutions_pushing_one_external_id_get_a_record_each(w: World) -> None:
    """A and B both push SIM-1: two records, each in its own institution; B's push neither
    touches nor reports A's."""
    a = (await w.push(INNOVATIONS, [innovation_item("SIM-1", w.unit_a, title="MEDAN")]))["items"][0]
    b = (
        await w.push(
            INNOVATIONS, [innovation_item("SIM-1", w.unit_b, title="MALANG")], w.regional_b
        )
    )["items"][0]
    assert (a["status"], b["status"]) == ("created", "created")
    assert a["id"] != b["id"]
    assert b["version"] == 1
    assert (await w.innovation(a["id"]))["title"] == "MEDAN"
    read_b = await w.innovation(b["id"], w.local_b)
    assert (read_b["title"], read_b["institution_id"], read_b["external_id"]) == (
        "MALANG",
        str(w.b.id),
        "SIM-1",
    )
    assert (await w.innovation(a["id"]))["version"] == 1


async def test_a_unit_external_id_resolves_within_the_caller_s_institution_only(
    w: World,
) -> None:
    """A pushes unit DINKES; B naming unit_external_id DINKES is `sync.unknown_reference`
    (nothing written), while A's own innovation naming it lands on A's unit."""
    unit_id = (await w.push(UNITS, [unit_item("DINKES")]))["items"][0]["id"]

    body = await w.push(
        INNOVATIONS, [innovation_item("SIM-1", unit_external_id="DINKES")], w.regional_b
    )
    (result,) = body["items"]
    assert summary(result) == (0, "SIM-1", "invalid", "sync.unknown_reference")
    assert pointers(result) == ["/items/0/unit_external_id"]
    assert await w.innovations_of(w.b) == {}

    own = (await w.push(INNOVATIONS, [innovation_item("SIM-1", unit_external_id="DINKES")]))[
        "items"
    ][0]
    assert own["status"] == "created"
    assert (await w.innovation(own["id"]))["unit_id"] == unit_id


@pytest.mark.parametrize(
    ("unit_fields", "code", "pointer"),
    [
        pytest.param({}, "sync.unit_required", "/items/0/unit_external_id", id="neither"),
        pytest.param(
            {"unit_external_id": "DINKES", "unit_id": "UNIT_A"},
            "sync.unit_required",
            "/items/0/unit_external_id",
            id="both",
        ),
        pytest.param(
            {"unit_id": str(uuid.UUID(int=7))},
            "sync.unknown_reference",
            "/items/0/unit_id",
            id="no such unit",
        ),
    ],
)
async def test_the_unit_is_named_exactly_once_and_must_exist(
    w: World, unit_fields: Item, code: str, pointer: str
) -> None:
    fields = {k: str(w.unit_a.id) if v == "UNIT_A" else v for k, v in unit_fields.items()}
    body = await w.push(INNOVATIONS, [innovation_item("SIM-1", **fields)])
    (result,) = body["items"]
    assert summary(result) == (0, "SIM-1", "invalid", code)
    assert pointers(result) == [pointer]
    assert await w.innovations_of(w.a) == {}


# --- references inside a batch --------------------------------------------------------------


async def test_a_mixed_batch_resolves_references_whatever_the_order(w: World) -> None:
    """An innovation naming a sub-unit, listed before the sub-unit, itself listed before its
    parent: all three created, results in the order sent, the innovation on the sub-unit and
    the sub-unit under the parent."""
    items = [
        tagged("innovations", innovation_item("SIM-1", unit_external_id="SUB")),
        tagged("units", unit_item("SUB", parent_external_id="TOP")),
        tagged("units", unit_item("TOP")),
    ]
    body = await w.push(MIXED, items)
    assert [(r["resource"], r["external_id"], r["status"]) for r in body["items"]] == [
        ("innovations", "SIM-1", "created"),
        ("units", "SUB", "created"),
        ("units", "TOP", "created"),
    ]
    assert body["totals"] == totals(3, created=3)
    innovation_id, sub_id, top_id = (r["id"] for r in body["items"])
    assert (await w.innovation(innovation_id))["unit_id"] == sub_id
    assert (await w.get(f"/v1/units/{sub_id}"))["parent_unit_id"] == top_id
    assert (await w.get(f"/v1/units/{top_id}"))["parent_unit_id"] is None


async def test_a_parent_pushed_in_an_earlier_batch_resolves(w: World) -> None:
    top_id = (await w.push(UNITS, [unit_item("TOP")]))["items"][0]["id"]
    sub = (await w.push(UNITS, [unit_item("SUB", parent_external_id="TOP")]))["items"][0]
    assert sub["status"] == "created"
    assert (await w.get(f"/v1/units/{sub['id']}"))["parent_unit_id"] == top_id


async def test_a_cycle_of_parents_is_invalid_and_the_rest_applies(w: World) -> None:
    """U1 under U2 and U2 under U1: both `sync.reference_cycle` at /parent_external_id; a unit
    under itself too; an unrelated unit is created."""
    items = [
        unit_item("U1", parent_external_id="U2"),
        unit_item("U2", parent_external_id="U1"),
        unit_item("SELF", parent_external_id="SELF"),
        unit_item("FREE"),
    ]
    body = await w.push(UNITS, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "U1", "invalid", "sync.reference_cycle"),
        (1, "U2", "invalid", "sync.reference_cycle"),
        (2, "SELF", "invalid", "sync.reference_cycle"),
        (3, "FREE", "created", None),
    ]
    assert [pointers(r) for r in body["items"][:3]] == [
        ["/items/0/parent_external_id"],
        ["/items/1/parent_external_id"],
        ["/items/2/parent_external_id"],
    ]
    assert set(await w.units_of(w.a)) == {"FREE"}


async def test_an_unknown_parent_is_an_unknown_reference(w: World) -> None:
    """A parent no unit of A has (B's unit external_id included) is `sync.unknown_reference`;
    so is the innovation naming that sub-unit, which was not created."""
    await w.push(UNITS, [unit_item("B-TOP")], w.regional_b)
    items = [
        tagged("units", unit_item("SUB", parent_external_id="B-TOP")),
        tagged("units", unit_item("SUB2", parent_external_id="NOWHERE")),
        tagged("innovations", innovation_item("SIM-1", unit_external_id="SUB")),
    ]
    body = await w.push(MIXED, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "SUB", "invalid", "sync.unknown_reference"),
        (1, "SUB2", "invalid", "sync.unknown_reference"),
        (2, "SIM-1", "invalid", "sync.unknown_reference"),
    ]
    assert pointers(body["items"][0]) == ["/items/0/parent_external_id"]
    assert await w.units_of(w.a) == {}
    assert await w.innovations_of(w.a) == {}


async def test_moving_a_unit_under_its_own_sub_unit_is_invalid(w: World) -> None:
    """TOP (pushed before, with SUB under it) moved under SUB: `unit.cycle` at
    /parent_external_id, the tree unchanged."""
    await w.push(
        UNITS, [unit_item("TOP", name="Bidang Atas"), unit_item("SUB", parent_external_id="TOP")]
    )
    body = await w.push(UNITS, [unit_item("TOP", name="Bidang Atas", parent_external_id="SUB")])
    (result,) = body["items"]
    assert summary(result) == (0, "TOP", "invalid", "unit.cycle")
    assert pointers(result) == ["/items/0/parent_external_id"]
    assert (await w.units_of(w.a))["TOP"].parent_unit_id is None


# --- the lifecycle --------------------------------------------------------------------------


async def test_an_item_created_published_is_public(w: World) -> None:
    body = await w.push(INNOVATIONS, [innovation_item("SIM-1", w.unit_a, status="published")])
    (result,) = body["items"]
    assert (result["status"], result["version"]) == ("created", 1)
    public = await w.get(f"/v1/innovations/{result['id']}")
    assert public["status"] == "published"
    assert public["published_at"] is not None


async def test_the_lifecycle_goes_draft_published_archived_only(w: World) -> None:
    """A draft published by a later item (public from then on); a published one cannot go
    back to draft; changed while published it keeps its published_at; archived (archived_at
    set, no longer public), it cannot be published again; a new record cannot start
    archived."""
    item = innovation_item("SIM-1", w.unit_a)
    record_id = (await w.push(INNOVATIONS, [item]))["items"][0]["id"]
    assert_problem(await w.client.get(f"/v1/innovations/{record_id}"), 404, "innovation.not_found")

    published = await w.push(INNOVATIONS, [{**item, "status": "published"}])
    assert (published["items"][0]["status"], published["items"][0]["version"]) == ("updated", 2)
    public = await w.get(f"/v1/innovations/{record_id}")
    assert public["status"] == "published"
    published_at = public["published_at"]
    assert published_at is not None

    back = (await w.push(INNOVATIONS, [{**item, "status": "draft"}]))["items"][0]
    assert summary(back) == (0, "SIM-1", "invalid", "sync.invalid_transition")
    assert pointers(back) == ["/items/0/status"]

    retitled = (await w.push(INNOVATIONS, [{**item, "title": "BARU", "status": "published"}]))[
        "items"
    ][0]
    assert (retitled["status"], retitled["version"]) == ("updated", 3)
    read = await w.get(f"/v1/innovations/{record_id}")
    assert (read["title"], read["published_at"]) == ("BARU", published_at)
    item["title"] = "BARU"

    archived = (await w.push(INNOVATIONS, [{**item, "status": "archived"}]))["items"][0]
    assert (archived["status"], archived["version"]) == ("updated", 4)
    read = await w.innovation(record_id)
    assert (read["status"], read["version"], read["published_at"]) == ("archived", 4, published_at)
    assert read["archived_at"] is not None
    assert_problem(await w.client.get(f"/v1/innovations/{record_id}"), 404, "innovation.not_found")

    again = (await w.push(INNOVATIONS, [{**item, "status": "published"}]))["items"][0]
    assert again["code"] == "sync.invalid_transition"
    assert (await w.innovation(record_id))["status"] == "archived"

    fresh = (await w.push(INNOVATIONS, [innovation_item("SIM-2", w.unit_a, status="archived")]))[
        "items"
    ][0]
    assert fresh["code"] == "sync.invalid_transition"
    assert "SIM-2" not in await w.innovations_of(w.a)


async def test_publishing_an_incomplete_item_lists_what_is_missing(w: World) -> None:
    """Published without the novelty section, without SDGs and without an implementation
    date: invalid, one error for each at its pointer; nothing created. The same item as a
    draft is accepted."""
    sections = {k: v for k, v in COMPLETE_SECTIONS.items() if k != "novelty"}
    item = innovation_item(
        "SIM-1", w.unit_a, sections=sections, sdgs=[], implemented_date=None, status="published"
    )
    (result,) = (await w.push(INNOVATIONS, [item]))["items"]
    assert summary(result) == (0, "SIM-1", "invalid", "innovation.invalid")
    assert sorted((e["pointer"], e["code"]) for e in result["errors"]) == [
        ("/items/0/implemented_date", "innovation.implemented_date_required"),
        ("/items/0/sdgs", "innovation.sdg_required"),
        ("/items/0/sections/novelty", "innovation.section_required"),
    ]
    assert await w.innovations_of(w.a) == {}

    draft = {key: value for key, value in item.items() if key != "status"}
    assert (await w.push(INNOVATIONS, [draft]))["items"][0]["status"] == "created"


# --- Idempotency-Key ------------------------------------------------------------------------


async def test_a_retry_with_the_same_key_replays_the_first_response(w: World) -> None:
    """The same key and body (keys in another order): the same JSON, `Idempotent-Replayed:
    true`, and nothing done again: no record, audit event or run more."""
    items = [innovation_item("SIM-1", w.unit_a), innovation_item("SIM-2", w.unit_a, title=None)]
    first = await w.post(INNOVATIONS, items, key="batch-0001")
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    records = {k: (v.id, v.version) for k, v in (await w.innovations_of(w.a)).items()}
    audits, runs = await w.audit_events(w.a), await w.runs(w.a)
    listed = await w.get(RUNS, w.regional_a)

    reordered = [dict(reversed(list(item.items()))) for item in items]
    retry = await w.post(INNOVATIONS, reordered, key="batch-0001")
    assert retry.status_code == 200, retry.text
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert retry.json()["items"][0]["status"] == "created"
    assert {k: (v.id, v.version) for k, v in (await w.innovations_of(w.a)).items()} == records
    assert (await w.audit_events(w.a), await w.runs(w.a)) == (audits, runs)
    assert (await w.get(RUNS, w.regional_a))["items"] == listed["items"]
    (run,) = listed["items"]
    assert (run["id"], run["idempotency_key"]) == (first.json()["run_id"], "batch-0001")


async def test_the_same_key_with_another_body_or_endpoint_is_422(w: World) -> None:
    items = [innovation_item("SIM-1", w.unit_a)]
    assert (await w.post(INNOVATIONS, items, key="k-1")).status_code == 200
    runs = await w.runs(w.a)
    other = await w.post(INNOVATIONS, [{**items[0], "title": "LAIN"}], key="k-1")
    assert_problem(other, 422, "idempotency.key_reused")
    mixed = await w.post(MIXED, [tagged("innovations", items[0])], key="k-1")
    assert_problem(mixed, 422, "idempotency.key_reused")
    assert await w.runs(w.a) == runs
    assert (await w.innovations_of(w.a))["SIM-1"].title == items[0]["title"]


async def test_keys_are_each_caller_s_own(w: World, auth: KeyFactory) -> None:
    """Another key of A and B's key, each using A's key value with their own bodies, are
    applied, not refused nor given A's response."""
    second_a = await auth(Role.regional_system, institution_id=w.a.id)
    first = await w.post(UNITS, [unit_item("U-1")], key="shared")
    other_a = await w.post(UNITS, [unit_item("U-2")], second_a, key="shared")
    b = await w.post(UNITS, [unit_item("U-1")], w.regional_b, key="shared")
    for response in (first, other_a, b):
        assert response.status_code == 200, response.text
        assert "Idempotent-Replayed" not in response.headers
    assert other_a.json()["items"][0]["status"] == "created"
    assert b.json()["items"][0]["status"] == "created"
    assert b.json()["run_id"] != first.json()["run_id"]
    assert set(await w.units_of(w.a)) == {"U-1", "U-2"}
    assert set(await w.units_of(w.b)) == {"U-1"}


# --- the changes feed -----------------------------------------------------------------------


async def test_pushed_records_reach_the_feed_with_their_external_id(w: World) -> None:
    """A's regional key reads its pushed drafts and unit in the feed (upserts at version 1,
    with their external_id, the record as A reads it); B's key is not shown A's drafts, and
    is shown the (public) unit without A's external_id."""
    cursor_a = await end_of_feed(w.client, w.regional_a)
    cursor_b = await end_of_feed(w.client, w.regional_b)
    body = await w.push(
        MIXED,
        [
            tagged("innovations", innovation_item("SIM-1", unit_external_id="DINKES")),
            tagged("innovations", innovation_item("SIM-2", w.unit_a)),
            tagged("units", unit_item("DINKES")),
        ],
    )
    *innovations, unit = body["items"]
    items_a, _ = await read_on(w.client, w.regional_a, cursor_a)
    for result in innovations:
        (change,) = of(items_a, result["id"])
        assert (change["resource"], change["operation"], change["version"]) == (
            "innovations",
            "upsert",
            1,
        )
        assert change["external_id"] == result["external_id"]
        assert change["record"] == await w.innovation(result["id"], w.regional_a)
    (unit_change,) = of(items_a, unit["id"])
    assert (unit_change["resource"], unit_change["external_id"]) == ("units", "DINKES")
    items_b, _ = await read_on(w.client, w.regional_b, cursor_b)
    assert all(of(items_b, r["id"]) == [] for r in innovations)
    (shown,) = of(items_b, unit["id"])
    assert (shown["operation"], shown["external_id"]) == ("upsert", None)


# --- size -----------------------------------------------------------------------------------


async def test_an_empty_batch_is_recorded_as_a_run(w: World) -> None:
    for path, resource in ((UNITS, "units"), (INNOVATIONS, "innovations"), (MIXED, "mixed")):
        body = await w.push(path, [])
        assert body["items"] == []
        assert body["totals"] == totals(0)
        runs = (await w.get(RUNS, w.regional_a))["items"]
        assert (runs[0]["id"], runs[0]["resource"], runs[0]["received"]) == (
            body["run_id"],
            resource,
            0,
        )
    assert await w.runs(w.a) == 3


async def test_a_batch_over_the_cap_is_422_and_no_run(w: World, make_app: AppFactory) -> None:
    """With SYNC_BATCH_MAX_ITEMS=3, three items apply and four are a 422 (nothing applied,
    no run, the key not kept); the default cap refuses 1,001 items."""
    async with client_for(make_app(sync_batch_max_items=3)) as client:
        capped = replace(w, client=client)
        items = [unit_item(f"U-{i}") for i in range(4)]
        over = await capped.post(UNITS, items, key="big")
        assert_problem(over, 422, "sync.batch_too_large")
        assert await w.runs(w.a) == 0
        assert await w.units_of(w.a) == {}
        at_cap = await capped.push(UNITS, items[:3], key="big")
        assert at_cap["totals"] == totals(3, created=3)

    huge = [tagged("units", unit_item(f"N-{i}")) for i in range(1001)]
    assert_problem(await w.post(MIXED, huge), 422, "sync.batch_too_large")
    assert await w.runs(w.a) == 1
    assert set(await w.units_of(w.a)) == {"U-0", "U-1", "U-2"}


# --- who may push ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", PUSHES)
@pytest.mark.parametrize("role", [Role.local_admin, Role.secretariat_admin, Role.unit_operator])
async def test_only_a_regional_system_may_push(
    w: World, auth: KeyFactory, path: str, role: Role
) -> None:
    scope: dict[str, Any] = {}
    if role is Role.local_admin:
        scope = {"institution_id": w.a.id}
    elif role is Role.unit_operator:
        scope = {"unit_id": w.unit_a.id}
    headers = await auth(role, **scope)
    assert_problem(await w.post(path, [], headers), 403, "auth.role_forbidden")
    assert await w.runs(w.a) == 0


@pytest.mark.parametrize("path", PUSHES)
async def test_pushing_without_a_token_is_401(w: World, path: str) -> None:
    response = await w.client.post(path, json={"items": []})
    assert_problem(response, 401, "auth.required")


# --- malformed items ------------------------------------------------------------------------


async def test_a_nul_character_invalidates_only_its_item(w: World) -> None:
    """NUL in the title, in a section and in a unit name: each item `validation_failed`
    pointing at the value; the clean items apply."""
    items = [
        tagged("innovations", innovation_item("SIM-1", w.unit_a, title="SIKU\x00LIN")),
        tagged(
            "innovations",
            innovation_item("SIM-2", w.unit_a, sections={"summary": "Ringkasan\x00"}),
        ),
        tagged("units", unit_item("U-1", name="Bidang\x00Satu")),
        tagged("innovations", innovation_item("SIM-3", w.unit_a)),
        tagged("units", unit_item("U-2")),
    ]
    body = await w.push(MIXED, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "SIM-1", "invalid", "validation_failed"),
        (1, "SIM-2", "invalid", "validation_failed"),
        (2, "U-1", "invalid", "validation_failed"),
        (3, "SIM-3", "created", None),
        (4, "U-2", "created", None),
    ]
    assert [pointers(r) for r in body["items"][:3]] == [
        ["/items/0/title"],
        ["/items/1/sections/summary"],
        ["/items/2/name"],
    ]
    assert set(await w.innovations_of(w.a)) == {"SIM-3"}
    assert set(await w.units_of(w.a)) == {"U-2"}


async def post_raw(w: World, path: str, body: str, headers: Headers) -> httpx.Response:
    """POST a JSON text as written (to send escapes such as a lone surrogate)."""
    sent = {**w.regional_a, **headers, "Content-Type": "application/json"}
    return await w.client.post(path, content=body.encode(), headers=sent)


@pytest.mark.parametrize("external_id", ["SIM\\u00001", "SIM\\ud8001"], ids=["nul", "surrogate"])
async def test_an_unstorable_external_id_invalidates_only_its_item(
    w: World, external_id: str
) -> None:
    good = innovation_item("SIM-2", w.unit_a)
    bad = orjson.dumps(innovation_item("PLACEHOLDER", w.unit_a)).decode()
    bad = bad.replace('"PLACEHOLDER"', f'"{external_id}"')
    body = f'{{"items": [{bad}, {orjson.dumps(good).decode()}]}}'
    response = await post_raw(w, INNOVATIONS, body, {})
    assert response.status_code == 200, response.text
    first, second = response.json()["items"]
    assert first["status"] == "invalid"
    assert first["external_id"] is None  # not shown: it cannot be stored
    assert first["errors"][0]["pointer"] == "/items/0/external_id"
    assert second["status"] == "created"


async def test_a_lone_surrogate_with_an_idempotency_key_fails_only_its_item(w: World) -> None:
    items = [innovation_item("SIM-1", w.unit_a, title="AB"), innovation_item("SIM-2", w.unit_a)]
    body = orjson.dumps({"items": items}).decode().replace('"AB"', '"A\\ud800B"')
    without_key = await post_raw(w, INNOVATIONS, body, {})
    assert without_key.status_code == 200, without_key.text
    assert without_key.json()["items"][0]["errors"][0]["pointer"] == "/items/0/title"
    items[1]["external_id"] = "SIM-3"
    body = orjson.dumps({"items": items}).decode().replace('"AB"', '"A\\ud800B"')
    with_key = await post_raw(w, INNOVATIONS, body, {"Idempotency-Key": "surrogate-1"})
    assert with_key.status_code == 200, with_key.text
    assert [r["status"] for r in with_key.json()["items"]] == ["invalid", "created"]


async def test_items_that_are_not_objects_are_invalid_and_the_others_apply(w: World) -> None:
    """A number and a string among units: each invalid at its own index (no external_id);
    in a mixed batch, they and an item naming no known resource are
    `sync.unknown_resource` at /items/<i>/resource."""
    body = await w.push(UNITS, [5, unit_item("U-1"), "unit", None])
    assert [summary(r) for r in body["items"]] == [
        (0, None, "invalid", "sync.invalid_item"),
        (1, "U-1", "created", None),
        (2, None, "invalid", "sync.invalid_item"),
        (3, None, "invalid", "sync.invalid_item"),
    ]
    assert pointers(body["items"][0]) == ["/items/0"]
    assert body["totals"] == totals(4, created=1, invalid=3)

    items = [
        7,
        tagged("units", unit_item("U-2")),
        tagged("hubs", {"external_id": "R-1"}),
        unit_item("U-3"),
        [],
    ]
    mixed = await w.push(MIXED, items)
    assert [(r["index"], r["status"], r["code"]) for r in mixed["items"]] == [
        (0, "invalid", "sync.unknown_resource"),
        (1, "created", None),
        (2, "invalid", "sync.unknown_resource"),
        (3, "invalid", "sync.unknown_resource"),
        (4, "invalid", "sync.unknown_resource"),
    ]
    assert [pointers(r) for r in mixed["items"] if r["status"] == "invalid"] == [
        [f"/items/{i}/resource"] for i in (0, 2, 3, 4)
    ]
    # An item naming no known resource has none in its result, but keeps its external_id.
    assert [(r["resource"], r["external_id"]) for r in mixed["items"]] == [
        (None, None),
        ("units", "U-2"),
        (None, "R-1"),
        (None, "U-3"),
        (None, None),
    ]
    assert set(await w.units_of(w.a)) == {"U-1", "U-2"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({}, id="no items"),
        pytest.param({"items": {"external_id": "U-1"}}, id="items not a list"),
        pytest.param({"items": [], "extra": 1}, id="unknown member"),
    ],
)
async def test_a_body_that_is_not_a_batch_is_422(w: World, body: Item) -> None:
    response = await w.client.post(UNITS, json=body, headers=w.regional_a)
    assert_problem(response, 422, "validation_failed")
    assert await w.runs(w.a) == 0


# --- runs -----------------------------------------------------------------------------------


async def test_a_run_records_who_what_and_the_failures(w: World) -> None:
    """The run: the key, the resource, the counts as the response's totals, a duration, and
    the failed items as the response listed them."""
    await w.push(INNOVATIONS, [innovation_item("SIM-1", w.unit_a, title="SATU")])
    items = [
        innovation_item("SIM-1", w.unit_a, title="SATU"),
        innovation_item("SIM-2", w.unit_a),
        innovation_item("SIM-3", w.unit_a, title=None),
        innovation_item("SIM-4", w.unit_a, version=2),
        innovation_item("SIM-2", w.unit_a),
    ]
    body = await w.push(INNOVATIONS, items, key="run-1")
    assert body["totals"] == totals(5, created=1, unchanged=1, conflict=1, invalid=2)

    page = await w.get(RUNS, w.regional_a)
    run = page["items"][0]
    assert run["id"] == body["run_id"]
    assert (run["institution_id"], run["caller_kind"], run["resource"]) == (
        str(w.a.id),
        "api_key",
        "innovations",
    )
    assert run["caller_name"] == "test regional_system"
    assert run["idempotency_key"] == "run-1"
    assert {k: run[k] for k in body["totals"]} == body["totals"]
    assert run["duration_ms"] >= 0
    failed = [r for r in body["items"] if r["status"] in ("conflict", "invalid")]
    assert run["failures"] == failed
    assert [f["index"] for f in run["failures"]] == [2, 3, 4]
    assert run["failures"][0]["errors"][0]["pointer"] == "/items/2/title"
    assert (run["outcome"], run["error_code"]) == ("applied", None)


async def test_runs_are_listed_newest_first_within_the_caller_s_scope(
    w: World, auth: KeyFactory
) -> None:
    """A's key and local admin see A's runs, newest first; B's key sees B's; the secretariat
    sees both and filters by institution; A's callers asking for B's runs get 403; a unit
    operator 403, nobody 401."""
    first = (await w.push(UNITS, [unit_item("U-1")]))["run_id"]
    second = (await w.push(INNOVATIONS, [innovation_item("SIM-1", w.unit_a)]))["run_id"]
    third = (await w.push(MIXED, []))["run_id"]
    of_b = (await w.push(UNITS, [unit_item("U-1")], w.regional_b))["run_id"]

    def ids(page: Item) -> list[str]:
        return [run["id"] for run in page["items"]]

    assert ids(await w.get(RUNS, w.regional_a)) == [third, second, first]
    assert ids(await w.get(RUNS, w.local_a)) == [third, second, first]
    assert ids(await w.get(RUNS, w.regional_a, institution_id=str(w.a.id))) == [
        third,
        second,
        first,
    ]
    assert ids(await w.get(RUNS, w.regional_b)) == [of_b]
    everything = ids(await w.get(RUNS, w.admin, limit=100))
    assert {first, second, third, of_b} <= set(everything)
    assert everything.index(third) < everything.index(second) < everything.index(first)
    assert ids(await w.get(RUNS, w.admin, institution_id=str(w.b.id))) == [of_b]

    paged = await w.get(RUNS, w.regional_a, limit=2)
    assert (ids(paged), paged["has_more"]) == ([third, second], True)
    rest = await w.get(RUNS, w.regional_a, limit=2, cursor=paged["next_cursor"])
    assert (ids(rest), rest["has_more"]) == ([first], False)

    for headers in (w.regional_a, w.local_a):
        response = await w.client.get(RUNS, params={"institution_id": str(w.b.id)}, headers=headers)
        assert_problem(response, 403, "sync.out_of_scope")
    operator = await auth(Role.unit_operator, unit_id=w.unit_a.id)
    assert_problem(await w.client.get(RUNS, headers=operator), 403, "auth.role_forbidden")
    assert_problem(await w.client.get(RUNS), 401, "auth.required")


_FAIL_ON_REMEMBER = (
    """
    CREATE FUNCTION pg_temp.fail_batch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100';
    END $$
    """,
    """
    CREATE TRIGGER fail_batch BEFORE INSERT ON idempotency_keys
        FOR EACH ROW EXECUTE FUNCTION pg_temp.fail_batch()
    """,
)


async def test_a_batch_that_fails_midway_is_a_failed_run_and_applies_nothing(w: World) -> None:
    """A database error after the items were written (here storing the Idempotency-Key fails:
    the disk is full) rolls the batch back: the caller gets the error, none of its items is
    written, and GET /v1/sync/runs lists the attempt as `failed` with the response's code, its
    items received and nothing applied. A retry under the same key, once the database is
    well, applies it: a second run, `applied`."""
    for statement in _FAIL_ON_REMEMBER:
        await w.session.execute(text(statement))
    items = [unit_item("U-1"), unit_item("U-2"), innovation_item("SIM-1", w.unit_a)]
    response = await w.post(
        MIXED,
        [tagged("units", items[0]), tagged("units", items[1]), tagged("innovations", items[2])],
        key="full-disk",
    )
    body = assert_problem(response, 500, "internal_error")
    assert await w.units_of(w.a) == {}
    assert await w.innovations_of(w.a) == {}

    [run] = (await w.get(RUNS, w.regional_a))["items"]
    assert (run["outcome"], run["error_code"]) == ("failed", body["code"])
    assert (run["resource"], run["idempotency_key"]) == ("mixed", "full-disk")
    assert {k: run[k] for k in totals(3)} == totals(3)
    assert run["failures"] == []
    assert run["request_id"] == response.headers["X-Request-ID"]

    await w.session.execute(text("DROP TRIGGER fail_batch ON idempotency_keys"))
    retried = await w.push(
        MIXED,
        [tagged("units", items[0]), tagged("units", items[1]), tagged("innovations", items[2])],
        key="full-disk",
    )
    assert retried["totals"] == totals(3, created=3)
    assert set(await w.units_of(w.a)) == {"U-1", "U-2"}
    runs = (await w.get(RUNS, w.regional_a))["items"]
    assert [(r["id"], r["outcome"]) for r in runs] == [
        (retried["run_id"], "applied"),
        (run["id"], "failed"),
    ]


async def test_a_replayed_batch_adds_no_run(w: World) -> None:
    """GET /v1/sync/runs after a retry under the same key still lists one run."""
    items = [unit_item("U-1")]
    first = await w.push(UNITS, items, key="once")
    again = await w.push(UNITS, items, key="once")
    assert again == first
    assert [run["id"] for run in (await w.get(RUNS, w.regional_a))["items"]] == [first["run_id"]]
