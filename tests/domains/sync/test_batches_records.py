"""Replications and hub activities pushed by regional systems
(`POST /v1/sync/replications/batch`, `POST /v1/sync/hub-activities/batch` and the mixed
`POST /v1/sync/batch`, app/domains/sync/batch/).

What is checked: a new replication is a request of one of the caller's units, named by id or
by the unit's external_id (of the same batch or pushed before); the source, replica and unit
rules with their pointers under the item; resending is `unchanged`, a changed plan `updated`
(written whole), the source, adopter unit and date fixed; stale versions; final and duplicate
replications; hub activities written whole for the hubs the caller's institution hosts, with
their status, field rules and fixed hub; the changes feed, idempotent replay, the audit trail
and who may push.

Every test runs in one transaction that is rolled back; the app's requests run in it too."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dates import today_wib
from app.models.audit import AuditEvent
from app.models.enums import HubStatus, InnovationStatus, Role
from app.models.hubs import Hub, HubActivity
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from app.models.replications import Replication
from tests.conftest import (
    HubFactory,
    InnovationFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
)
from tests.domains import assert_problem
from tests.domains.sync.test_batches import (
    MIXED,
    World,
    innovation_item,
    pointers,
    summary,
    tagged,
    totals,
    unit_item,
    world_fields,
)
from tests.domains.sync.test_changes_feed import end_of_feed, of, read_on
from tests.fixtures.outbox import queued

REPLICATIONS = "/v1/sync/replications/batch"
ACTIVITIES = "/v1/sync/hub-activities/batch"
Headers = dict[str, str]
Item = dict[str, Any]

DOCUMENT = {"kind": "agreement", "url": "https://example.go.id/pks.pdf", "title": "PKS"}
LINK = {"title": "Laporan Klinik Inovasi", "url": "https://example.go.id/laporan.pdf"}


# --- items ----------------------------------------------------------------------------------


def replication_item(
    external_id: str, source: Innovation, unit: Unit | None = None, **fields: Any
) -> Item:
    """A replication of `source` for `unit` (by id) unless the fields name the unit otherwise;
    fields given as None are left out."""
    body: Item = {
        "external_id": external_id,
        "source_innovation_id": str(source.id),
        "scope": "full",
    }
    if unit is not None:
        body["adopter_unit_id"] = str(unit.id)
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


def activity_item(external_id: str, hub: Hub, **fields: Any) -> Item:
    body: Item = {
        "external_id": external_id,
        "hub_id": str(hub.id),
        "kind": "coaching_clinic",
        "title": "Klinik Inovasi Pelayanan Publik Kota Medan",
        "activity_date": "2023-05-17",
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not None}


# --- the world ------------------------------------------------------------------------------


@dataclass
class RecordsWorld(World):
    """Besides test_batches' world (Pemkot Medan A, Pemkot Malang B): A's second unit (with
    external_id DINKES), B's published SAMBAT ONLINE and another published innovation, a draft
    of B's and one of A's; A's replica innovation (external_id REPLIKA-1, in unit_a); a
    candidate and an active hub hosted by A; a ministry's active (public) hub and another
    ministry's candidate hub."""

    unit_a2: Unit
    source: Innovation
    source2: Innovation
    draft_b: Innovation
    draft_a: Innovation
    replica: Innovation
    hub_a: Hub
    hub_a_active: Hub
    hub_public: Hub
    hub_hidden: Hub

    async def replication(self, record_id: str, headers: Headers | None = None) -> Item:
        return await self.get(f"/v1/replications/{record_id}", headers or self.local_a)

    async def activity(self, hub: Hub, record_id: str) -> Item:
        """The activity as the secretariat reads it."""
        return await self.get(f"/v1/hubs/{hub.id}/activities/{record_id}", self.admin)

    async def events(self, entity_type: str, record_id: str | None = None) -> int:
        """Audit events of one kind of record (of one record, when given)."""
        await self.session.flush()
        query = select(func.count()).select_from(AuditEvent)
        query = query.where(AuditEvent.entity_type == entity_type)
        if record_id is not None:
            query = query.where(AuditEvent.entity_id == str(record_id))
        return int(await self.session.scalar(query) or 0)

    async def replications_of(self, institution: Institution) -> list[Replication]:
        await self.session.flush()
        found = await self.session.scalars(
            select(Replication).where(Replication.adopter_institution_id == institution.id)
        )
        return list(found)

    async def activities_of(self, institution: Institution) -> list[HubActivity]:
        await self.session.flush()
        found = await self.session.scalars(
            select(HubActivity).where(HubActivity.external_institution_id == institution.id)
        )
        return list(found)

    async def step(self, record_id: str, headers: Headers, action: str) -> None:
        response = await self.client.post(
            f"/v1/replications/{record_id}/transitions",
            json={"action": action, "reason": "Tidak sesuai dengan kebutuhan daerah."},
            headers=headers,
        )
        assert response.status_code == 200, response.text


@pytest.fixture
async def w(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    admin: Headers,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
    make_hub: HubFactory,
) -> RecordsWorld:
    fields = await world_fields(client, session, auth, admin, make_institution, make_unit)
    a, unit_a, unit_b = fields["a"], fields["unit_a"], fields["unit_b"]
    unit_a2 = await make_unit(a, name="Dinas Kesehatan Kota Medan")
    unit_a2.external_id = "DINKES"
    published = InnovationStatus.published
    world = RecordsWorld(
        **fields,
        unit_a2=unit_a2,
        source=await make_innovation(unit_b, published, title="SAMBAT ONLINE"),
        source2=await make_innovation(unit_b, published, title="SIMBA ASIA"),
        draft_b=await make_innovation(unit_b, title="DRAF MALANG"),
        draft_a=await make_innovation(unit_a2, title="DRAF MEDAN"),
        replica=await make_innovation(unit_a, title="SAMBAT MEDAN", external_id="REPLIKA-1"),
        hub_a=await make_hub(a, candidate_date=date(2021, 1, 1)),
        hub_a_active=await make_hub(a, HubStatus.active),
        hub_public=await make_hub(status=HubStatus.active),
        hub_hidden=await make_hub(),
    )
    await session.flush()
    return world


async def one(w: RecordsWorld, path: str, item: Item) -> Item:
    """Push one item; its result."""
    (result,) = (await w.push(path, [item]))["items"]
    return result


async def created(w: RecordsWorld, path: str, item: Item) -> Item:
    """Push one item that is created; its result."""
    result = await one(w, path, item)
    assert result["status"] == "created", result
    return result


# --- replications: creating -----------------------------------------------------------------


async def test_a_new_replication_is_a_request_of_the_caller_s_unit(w: RecordsWorld) -> None:
    """Created `requested` for A's unit, from B's published source, with the plan as sent,
    requested today (WIB); version 1, one `create` audit event, the external_id stored."""
    item = replication_item(
        "REP-1",
        w.source,
        w.unit_a,
        scope="partial",
        adaptation="Disesuaikan.",
        documents=[DOCUMENT],
    )
    result = await created(w, REPLICATIONS, item)
    assert (result["resource"], result["external_id"], result["version"]) == (
        "replications",
        "REP-1",
        1,
    )
    read = await w.replication(result["id"])
    assert read["status"] == "requested"
    assert (read["adopter_institution_id"], read["adopter_unit_id"]) == (
        str(w.a.id),
        str(w.unit_a.id),
    )
    assert (read["source_innovation_id"], read["source_institution_id"]) == (
        str(w.source.id),
        str(w.b.id),
    )
    assert (read["scope"], read["adaptation"]) == ("partial", "Disesuaikan.")
    assert read["documents"] == [DOCUMENT]
    assert read["requested_date"] == today_wib().isoformat()
    (row,) = await w.replications_of(w.a)
    assert (row.external_id, row.external_institution_id) == ("REP-1", w.a.id)
    assert await w.events("replication", result["id"]) == 1


async def test_a_mixed_batch_names_its_unit_and_replica_by_external_id(w: RecordsWorld) -> None:
    """Sent first, the replication still finds the unit and the replica innovation items of the
    same batch (applied before it); results come in the order sent."""
    items = [
        tagged(
            "replications",
            replication_item(
                "REP-1",
                w.source,
                adopter_unit_external_id="PUSKESMAS",
                replica_external_id="SAMBAT-PKM",
            ),
        ),
        tagged("innovations", innovation_item("SAMBAT-PKM", unit_external_id="PUSKESMAS")),
        tagged("units", unit_item("PUSKESMAS")),
    ]
    body = await w.push(MIXED, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "REP-1", "created", None),
        (1, "SAMBAT-PKM", "created", None),
        (2, "PUSKESMAS", "created", None),
    ]
    assert body["items"][0]["resource"] == "replications"
    replication, innovation, unit = body["items"]
    read = await w.replication(replication["id"])
    assert read["adopter_unit_id"] == unit["id"]
    assert read["replica_innovation_id"] == innovation["id"]
    assert body["totals"] == totals(3, created=3)


async def test_a_unit_pushed_before_is_named_by_its_external_id(w: RecordsWorld) -> None:
    item = replication_item("REP-1", w.source, adopter_unit_external_id="DINKES")
    result = await created(w, REPLICATIONS, item)
    assert (await w.replication(result["id"]))["adopter_unit_id"] == str(w.unit_a2.id)


@pytest.mark.parametrize("both", [True, False], ids=["both", "neither"])
async def test_the_unit_is_named_exactly_once(w: RecordsWorld, both: bool) -> None:
    unit = w.unit_a if both else None
    extra = {"adopter_unit_external_id": "DINKES"} if both else {}
    body = await w.push(REPLICATIONS, [replication_item("REP-1", w.source, unit, **extra)])
    (result,) = body["items"]
    assert summary(result) == (0, "REP-1", "invalid", "sync.unit_required")
    assert pointers(result) == ["/items/0/adopter_unit_external_id"]
    assert await w.replications_of(w.a) == []


async def test_another_institution_s_unit_is_out_of_scope(w: RecordsWorld) -> None:
    result = await one(w, REPLICATIONS, replication_item("REP-1", w.source2, w.unit_b))
    assert summary(result) == (0, "REP-1", "invalid", "sync.out_of_scope")
    assert pointers(result) == ["/items/0/adopter_unit_id"]
    assert await w.replications_of(w.b) == []


async def test_an_unknown_unit_external_id_is_an_unknown_reference(w: RecordsWorld) -> None:
    item = replication_item("REP-1", w.source, adopter_unit_external_id="NOPE")
    result = await one(w, REPLICATIONS, item)
    assert summary(result) == (0, "REP-1", "invalid", "sync.unknown_reference")
    assert pointers(result) == ["/items/0/adopter_unit_external_id"]


@pytest.mark.parametrize(
    ("which", "code"),
    [
        ("draft_a", "replication.source_not_published"),
        ("draft_b", "replication.source_not_found"),
        ("unknown", "replication.source_not_found"),
    ],
)
async def test_the_source_is_a_published_innovation_the_caller_reads(
    w: RecordsWorld, which: str, code: str
) -> None:
    """A's own draft is not published; B's draft is as unknown to A as a random id."""
    source = getattr(w, which) if which != "unknown" else Innovation(id=uuid.uuid4())
    result = await one(w, REPLICATIONS, replication_item("REP-1", source, w.unit_a))
    assert summary(result) == (0, "REP-1", "invalid", code)
    assert pointers(result) == ["/items/0/source_innovation_id"]
    assert result["id"] is None
    assert await w.replications_of(w.a) == []


async def test_the_replica_is_named_at_most_once(w: RecordsWorld) -> None:
    item = replication_item(
        "REP-1",
        w.source,
        w.unit_a,
        replica_innovation_id=str(w.replica.id),
        replica_external_id="REPLIKA-1",
    )
    result = await one(w, REPLICATIONS, item)
    assert summary(result) == (0, "REP-1", "invalid", "sync.replica_twice")
    assert pointers(result) == ["/items/0/replica_external_id"]


@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
@pytest.mark.parametrize(
    ("field", "pointer"),
    [
        ("replica_external_id", "/items/0/replica_external_id"),
        ("replica_innovation_id", "/items/0/replica_innovation_id"),
    ],
)
async def test_the_replica_belongs_to_the_adopter_unit(
    w: RecordsWorld, field: str, pointer: str, existing: bool
) -> None:
    """The replica (in unit_a) for a replication of unit_a2, new or existing, is refused,
    pointing at the field the item named it by; nothing is written."""
    if existing:
        await created(w, REPLICATIONS, replication_item("REP-1", w.source, w.unit_a2))
    value = "REPLIKA-1" if field == "replica_external_id" else str(w.replica.id)
    item = replication_item("REP-1", w.source, w.unit_a2, **{field: value})
    result = await one(w, REPLICATIONS, item)
    assert summary(result) == (0, "REP-1", "invalid", "replication.replica_not_adopters")
    assert pointers(result) == [pointer]
    rows = await w.replications_of(w.a)
    assert [(r.version, r.replica_innovation_id) for r in rows] == ([(1, None)] if existing else [])


async def test_an_unknown_replica_external_id_is_an_unknown_reference(w: RecordsWorld) -> None:
    item = replication_item("REP-1", w.source, w.unit_a, replica_external_id="NOPE")
    result = await one(w, REPLICATIONS, item)
    assert summary(result) == (0, "REP-1", "invalid", "sync.unknown_reference")
    assert pointers(result) == ["/items/0/replica_external_id"]


async def test_the_service_s_pointers_follow_the_unit_s_external_id(
    w: RecordsWorld, make_innovation: InnovationFactory
) -> None:
    """A's own published innovation of DINKES replicated by DINKES (named by external_id) is
    `replication.same_unit` at /items/0/adopter_unit_external_id; by id, at adopter_unit_id."""
    own = await make_innovation(w.unit_a2, InnovationStatus.published)
    await w.session.flush()
    items = [
        replication_item("REP-1", own, adopter_unit_external_id="DINKES"),
        replication_item("REP-2", own, w.unit_a2),
        replication_item("REP-3", own, w.unit_a),
    ]
    body = await w.push(REPLICATIONS, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "REP-1", "invalid", "replication.same_unit"),
        (1, "REP-2", "invalid", "replication.same_unit"),
        (2, "REP-3", "created", None),
    ]
    assert pointers(body["items"][0]) == ["/items/0/adopter_unit_external_id"]
    assert pointers(body["items"][1]) == ["/items/1/adopter_unit_id"]


@pytest.mark.parametrize(
    ("fields", "code", "pointer"),
    [
        pytest.param(
            {"facilitator": "hub", "facilitator_hub": "hub_a_active"},
            None,
            None,
            id="a public hub",
        ),
        pytest.param(
            {"facilitator": "hub", "facilitator_hub": "hub_hidden"},
            "replication.hub_not_found",
            "/items/0/facilitator_hub_id",
            id="a candidate hub",
        ),
        pytest.param(
            {"facilitator": "hub"},
            "replication.facilitator_invalid",
            "/items/0/facilitator_hub_id",
            id="no hub named",
        ),
        pytest.param(
            {"facilitator": "secretariat", "facilitator_hub": "hub_public"},
            "replication.facilitator_invalid",
            "/items/0/facilitator_hub_id",
            id="a hub for the secretariat",
        ),
        pytest.param(
            {"requested_date": "2999-01-01"},
            "replication.date_in_future",
            "/items/0/requested_date",
            id="future date",
        ),
    ],
)
async def test_the_request_rules_apply_to_a_new_replication(
    w: RecordsWorld, fields: Item, code: str | None, pointer: str | None
) -> None:
    """The facilitator (a public hub exactly when `hub`) and the date (not in the future)."""
    fields = dict(fields)
    if "facilitator_hub" in fields:
        fields["facilitator_hub_id"] = str(getattr(w, fields.pop("facilitator_hub")).id)
    result = await one(w, REPLICATIONS, replication_item("R", w.source, w.unit_a, **fields))
    if code is None:
        assert result["status"] == "created", result
        read = await w.replication(result["id"])
        assert read["facilitator_hub_id"] == fields["facilitator_hub_id"]
        return
    assert summary(result) == (0, "R", "invalid", code)
    assert pointers(result) == [pointer]
    assert await w.replications_of(w.a) == []


async def test_references_to_failed_items_of_the_batch_are_unknown(w: RecordsWorld) -> None:
    """A unit item and an innovation item that fail: the replications naming them by
    external_id are `sync.unknown_reference`, nothing written."""
    items = [
        tagged("units", unit_item("PKM", name=w.unit_a.name)),
        tagged("innovations", innovation_item("INO-1", w.unit_a, title=None)),
        tagged("replications", replication_item("R-1", w.source, adopter_unit_external_id="PKM")),
        tagged(
            "replications", replication_item("R-2", w.source, w.unit_a, replica_external_id="INO-1")
        ),
    ]
    body = await w.push(MIXED, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "PKM", "invalid", "unit.duplicate_name"),
        (1, "INO-1", "invalid", "sync.invalid_item"),
        (2, "R-1", "invalid", "sync.unknown_reference"),
        (3, "R-2", "invalid", "sync.unknown_reference"),
    ]
    assert pointers(body["items"][2]) == ["/items/2/adopter_unit_external_id"]
    assert pointers(body["items"][3]) == ["/items/3/replica_external_id"]
    assert await w.replications_of(w.a) == []


async def test_a_second_active_replication_of_the_source_for_the_unit_is_refused(
    w: RecordsWorld,
) -> None:
    await created(w, REPLICATIONS, replication_item("REP-1", w.source, w.unit_a))
    result = await one(w, REPLICATIONS, replication_item("REP-2", w.source, w.unit_a))
    assert summary(result) == (0, "REP-2", "invalid", "replication.already_active")
    assert len(await w.replications_of(w.a)) == 1


async def test_a_bad_replication_fails_alone(w: RecordsWorld) -> None:
    """Between two good items, one with a draft source: the two are created, it is not."""
    items = [
        replication_item("REP-1", w.source, w.unit_a),
        replication_item("REP-2", w.draft_a, w.unit_a),
        replication_item("REP-3", w.source2, adopter_unit_external_id="DINKES"),
    ]
    body = await w.push(REPLICATIONS, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "REP-1", "created", None),
        (1, "REP-2", "invalid", "replication.source_not_published"),
        (2, "REP-3", "created", None),
    ]
    assert pointers(body["items"][1]) == ["/items/1/source_innovation_id"]
    assert body["totals"] == totals(3, created=2, invalid=1)
    assert {r.external_id for r in await w.replications_of(w.a)} == {"REP-1", "REP-3"}
    assert await w.events("replication") == 2


async def test_a_pushed_request_tells_the_source_side_and_a_failed_one_nobody(
    w: RecordsWorld,
) -> None:
    """As `POST /v1/replications`: each new request is the source side's to answer; an item
    that failed (its savepoint rolled back) enqueues nothing."""
    items = [
        replication_item("REP-1", w.source, w.unit_a),
        replication_item("REP-2", w.draft_a, w.unit_a),
    ]
    body = await w.push(REPLICATIONS, items)
    assert [r["status"] for r in body["items"]] == ["created", "invalid"]
    jobs = await queued(w.session, "notifications.dispatch")
    told = [j["payload"] for j in jobs if j["payload"]["kind"] == "replication.requested"]
    assert [p["subject_id"] for p in told] == [body["items"][0]["id"]]
    assert told[0]["audience"] == [
        {"role": "local_admin", "institution": str(w.b.id)},
        {"role": "unit_operator", "unit": str(w.source.unit_id)},
    ]


# --- replications: resending and updating ---------------------------------------------------


async def test_a_resent_replication_is_unchanged(w: RecordsWorld) -> None:
    item = replication_item(
        "REP-1",
        w.source,
        w.unit_a,
        adaptation="Disesuaikan.",
        facilitator="hub",
        facilitator_hub_id=str(w.hub_public.id),
        documents=[DOCUMENT],
        replica_external_id="REPLIKA-1",
    )
    first = await created(w, REPLICATIONS, item)
    events = await w.events("replication")
    again = await one(w, REPLICATIONS, item)
    assert (again["status"], again["id"], again["version"]) == ("unchanged", first["id"], 1)
    assert await w.events("replication") == events
    assert (await w.replication(first["id"]))["version"] == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"scope": "partial"}, id="scope"),
        pytest.param({"adaptation": "Hanya modul antrean."}, id="adaptation"),
        pytest.param({"facilitator": "secretariat"}, id="facilitator"),
        pytest.param({"facilitator": "hub", "facilitator_hub": True}, id="facilitator hub"),
        pytest.param({"documents": [DOCUMENT]}, id="documents"),
        pytest.param({"replica_external_id": "REPLIKA-1"}, id="replica"),
    ],
)
async def test_a_changed_plan_is_updated(w: RecordsWorld, change: Item) -> None:
    """Each plan field changed alone: `updated` to version 2, read back, one more event."""
    change = dict(change)
    if change.pop("facilitator_hub", False):
        change["facilitator_hub_id"] = str(w.hub_public.id)
    first = await created(w, REPLICATIONS, replication_item("REP-1", w.source, w.unit_a))
    events = await w.events("replication", first["id"])
    result = await one(w, REPLICATIONS, replication_item("REP-1", w.source, w.unit_a, **change))
    assert (result["status"], result["id"], result["version"]) == ("updated", first["id"], 2)
    read = await w.replication(first["id"])
    assert read["version"] == 2
    if "replica_external_id" in change:
        assert read["replica_innovation_id"] == str(w.replica.id)
    else:
        assert {key: read[key] for key in change} == change
    assert await w.events("replication", first["id"]) == events + 1


async def test_fields_left_out_of_a_replication_are_cleared(w: RecordsWorld) -> None:
    full = replication_item(
        "REP-1",
        w.source,
        w.unit_a,
        adaptation="Disesuaikan.",
        facilitator="secretariat",
        documents=[DOCUMENT],
        replica_innovation_id=str(w.replica.id),
    )
    first = await created(w, REPLICATIONS, full)
    result = await one(w, REPLICATIONS, replication_item("REP-1", w.source, w.unit_a))
    assert (result["status"], result["version"]) == ("updated", 2)
    read = await w.replication(first["id"])
    assert (read["adaptation"], read["facilitator"], read["documents"]) == (None, None, [])
    assert read["replica_innovation_id"] is None
    assert read["scope"] == "full"


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ("source", "/items/0/source_innovation_id"),
        ("unit", "/items/0/adopter_unit_id"),
        ("unit_external", "/items/0/adopter_unit_external_id"),
        ("requested_date", "/items/0/requested_date"),
    ],
)
async def test_the_source_unit_and_date_are_fixed(
    w: RecordsWorld, change: str, pointer: str
) -> None:
    """Another source, adopter unit (by id or external_id) or requested date for an existing
    replication is `sync.fixed_field`; nothing is written."""
    first = await created(
        w, REPLICATIONS, replication_item("REP-1", w.source, w.unit_a, requested_date="2024-03-01")
    )
    fields: Item = {"adaptation": "Berubah."}
    source: Innovation = w.source
    unit: Unit | None = w.unit_a
    if change == "source":
        source = w.source2
    elif change == "unit":
        unit = w.unit_a2
    elif change == "unit_external":
        unit = None
        fields["adopter_unit_external_id"] = "DINKES"
    else:
        fields["requested_date"] = "2024-03-02"
    result = await one(w, REPLICATIONS, replication_item("REP-1", source, unit, **fields))
    assert summary(result) == (0, "REP-1", "invalid", "sync.fixed_field")
    assert pointers(result) == [pointer]
    read = await w.replication(first["id"])
    assert (read["version"], read["adaptation"]) == (1, None)
    assert (read["source_innovation_id"], read["adopter_unit_id"]) == (
        str(w.source.id),
        str(w.unit_a.id),
    )
    assert len(await w.replications_of(w.a)) == 1


async def test_a_given_requested_date_is_kept_and_may_be_left_out_later(
    w: RecordsWorld,
) -> None:
    """Sent with a date, then again with it and without it: both `unchanged`, the date kept."""
    item = replication_item("REP-1", w.source, w.unit_a, requested_date="2024-03-01")
    first = await created(w, REPLICATIONS, item)
    for again in (item, replication_item("REP-1", w.source, w.unit_a)):
        assert (await w.push(REPLICATIONS, [again]))["items"][0]["status"] == "unchanged"
    assert (await w.replication(first["id"]))["requested_date"] == "2024-03-01"


async def test_a_stale_version_is_a_conflict(w: RecordsWorld) -> None:
    """Version 1 after an update to 2: `conflict` with the current version 2; the change is
    not written. With version 2 it applies."""
    first = await created(w, REPLICATIONS, replication_item("REP-1", w.source, w.unit_a))
    await w.push(REPLICATIONS, [replication_item("REP-1", w.source, w.unit_a, scope="partial")])
    stale = replication_item("REP-1", w.source, w.unit_a, adaptation="Basi.", version=1)
    result = await one(w, REPLICATIONS, stale)
    assert (result["status"], result["code"]) == ("conflict", "sync.version_conflict")
    assert (result["id"], result["version"]) == (first["id"], 2)
    read = await w.replication(first["id"])
    assert (read["adaptation"], read["version"]) == (None, 2)
    fresh = replication_item("REP-1", w.source, w.unit_a, adaptation="Baru.", version=2)
    applied = await one(w, REPLICATIONS, fresh)
    assert (applied["status"], applied["version"]) == ("updated", 3)


@pytest.mark.parametrize("action", ["reject", "discontinue"])
async def test_a_final_replication_no_longer_changes(w: RecordsWorld, action: str) -> None:
    """Rejected by B's local admin (the source side) or discontinued by A's: a change pushed
    is `replication.final`."""
    first = await created(w, REPLICATIONS, replication_item("REP-1", w.source, w.unit_a))
    await w.step(first["id"], w.local_b if action == "reject" else w.local_a, action)
    version = (await w.replication(first["id"]))["version"]
    changed = replication_item("REP-1", w.source, w.unit_a, adaptation="Terlambat.")
    result = await one(w, REPLICATIONS, changed)
    assert summary(result) == (0, "REP-1", "invalid", "replication.final")
    read = await w.replication(first["id"])
    assert (read["adaptation"], read["version"]) == (None, version)


# --- replications: feed, idempotency --------------------------------------------------------


async def test_a_pushed_replication_reaches_both_sides_feeds(w: RecordsWorld) -> None:
    """A's key reads it with A's external_id; B's key (the source's owner) reads it with none."""
    cursor_a = await end_of_feed(w.client, w.regional_a)
    cursor_b = await end_of_feed(w.client, w.regional_b)
    result = await created(w, REPLICATIONS, replication_item("REP-1", w.source, w.unit_a))
    items_a, _ = await read_on(w.client, w.regional_a, cursor_a)
    (change,) = of(items_a, result["id"])
    assert (change["resource"], change["operation"], change["version"]) == (
        "replications",
        "upsert",
        1,
    )
    assert change["external_id"] == "REP-1"
    assert change["record"]["adopter_unit_id"] == str(w.unit_a.id)
    items_b, _ = await read_on(w.client, w.regional_b, cursor_b)
    (shown,) = of(items_b, result["id"])
    assert (shown["operation"], shown["external_id"]) == ("upsert", None)


async def test_a_retried_replication_batch_is_replayed(w: RecordsWorld) -> None:
    items = [replication_item("REP-1", w.source, w.unit_a)]
    first = await w.post(REPLICATIONS, items, key="rep-1")
    again = await w.post(REPLICATIONS, items, key="rep-1")
    assert first.status_code == again.status_code == 200, again.text
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(await w.replications_of(w.a)) == 1
    assert await w.events("replication") == 1
    assert await w.runs(w.a) == 1


# --- hub activities -------------------------------------------------------------------------


async def test_a_new_activity_is_a_draft_of_the_caller_s_hub(w: RecordsWorld) -> None:
    """Created as a draft of A's candidate hub, read back by the secretariat as sent; one
    `create` event; the external_id stored."""
    item = activity_item(
        "ACT-1",
        w.hub_a,
        region_code="12.71",
        venue="Aula Balai Kota Medan",
        is_online=True,
        description="Klinik untuk perangkat daerah.",
        outcome_notes="Tiga proposal disusun.",
        documents=[LINK],
        participant_institution_ids=[str(w.b.id), str(w.a.id)],
        innovation_ids=[str(w.source.id)],
    )
    result = await created(w, ACTIVITIES, item)
    assert (result["resource"], result["version"]) == ("hub-activities", 1)
    read = await w.activity(w.hub_a, result["id"])
    assert (read["status"], read["published_at"], read["hub_id"]) == (
        "draft",
        None,
        str(w.hub_a.id),
    )
    fields = {k: v for k, v in item.items() if k not in ("external_id", "hub_id")}
    assert {k: read[k] for k in fields} == fields
    (row,) = await w.activities_of(w.a)
    assert (row.external_id, row.external_institution_id) == ("ACT-1", w.a.id)
    assert await w.events("hub_activity", result["id"]) == 1


@pytest.mark.parametrize(
    ("which", "code"),
    [
        ("hub_public", "sync.out_of_scope"),
        ("hub_hidden", "sync.unknown_reference"),
        ("unknown", "sync.unknown_reference"),
    ],
)
async def test_the_hub_is_one_the_caller_s_institution_hosts(
    w: RecordsWorld, which: str, code: str
) -> None:
    """Another institution's public hub is out of scope; its candidate hub is as unknown as a
    random id. A good item after it still applies."""
    hub = getattr(w, which) if which != "unknown" else Hub(id=uuid.uuid4())
    items = [activity_item("ACT-1", hub), activity_item("ACT-2", w.hub_a_active)]
    body = await w.push(ACTIVITIES, items)
    bad, good = body["items"]
    assert summary(bad) == (0, "ACT-1", "invalid", code)
    assert pointers(bad) == ["/items/0/hub_id"]
    assert good["status"] == "created"
    assert [row.external_id for row in await w.activities_of(w.a)] == ["ACT-2"]
    assert await w.events("hub_activity") == 1


async def test_a_resent_activity_is_unchanged(w: RecordsWorld) -> None:
    item = activity_item(
        "ACT-1",
        w.hub_a,
        documents=[LINK],
        participant_institution_ids=[str(w.b.id)],
        innovation_ids=[str(w.source.id), str(w.source2.id)],
        status="published",
    )
    first = await created(w, ACTIVITIES, item)
    events = await w.events("hub_activity")
    again = await one(w, ACTIVITIES, item)
    assert (again["status"], again["id"], again["version"]) == ("unchanged", first["id"], 1)
    no_status = {k: v for k, v in item.items() if k != "status"}
    again = await one(w, ACTIVITIES, no_status)
    assert (again["status"], again["version"]) == ("unchanged", 1)
    assert await w.events("hub_activity") == events
    assert (await w.activity(w.hub_a, first["id"]))["status"] == "published"


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"title": "Forum Replikasi Kota Medan"}, id="title"),
        pytest.param({"participants": ["b", "a"]}, id="participant added"),
        pytest.param({"participants": ["a"]}, id="participants replaced"),
        pytest.param({"participants": []}, id="participants removed"),
    ],
)
async def test_a_changed_activity_is_updated(w: RecordsWorld, change: Item) -> None:
    """First pushed with B as its participant; a new title or participant list is `updated`
    to version 2, read back, one more event."""
    ids = {"a": str(w.a.id), "b": str(w.b.id)}
    first = await created(
        w, ACTIVITIES, activity_item("ACT-1", w.hub_a, participant_institution_ids=[ids["b"]])
    )
    fields = dict(change)
    if "participants" in fields:
        fields = {"participant_institution_ids": [ids[k] for k in fields.pop("participants")]}
    else:
        fields["participant_institution_ids"] = [ids["b"]]
    events = await w.events("hub_activity", first["id"])
    result = await one(w, ACTIVITIES, activity_item("ACT-1", w.hub_a, **fields))
    assert (result["status"], result["id"], result["version"]) == ("updated", first["id"], 2)
    read = await w.activity(w.hub_a, first["id"])
    assert read["version"] == 2
    assert {k: read[k] for k in fields} == fields
    assert await w.events("hub_activity", first["id"]) == events + 1


async def test_status_draft_takes_a_published_activity_back(w: RecordsWorld) -> None:
    """Created published (published_at set); `status: draft` unpublishes it (published_at
    null, version 2); `published` again publishes it (version 3)."""
    first = await created(w, ACTIVITIES, activity_item("ACT-1", w.hub_a, status="published"))
    read = await w.activity(w.hub_a, first["id"])
    assert (read["status"], read["published_at"] is not None) == ("published", True)
    result = await one(w, ACTIVITIES, activity_item("ACT-1", w.hub_a, status="draft"))
    assert (result["status"], result["version"]) == ("updated", 2)
    read = await w.activity(w.hub_a, first["id"])
    assert (read["status"], read["published_at"]) == ("draft", None)
    again = await one(w, ACTIVITIES, activity_item("ACT-1", w.hub_a, status="published"))
    assert (again["status"], again["version"]) == ("updated", 3)
    assert (await w.activity(w.hub_a, first["id"]))["published_at"] is not None


async def test_fields_left_out_of_an_activity_are_cleared(w: RecordsWorld) -> None:
    full = activity_item(
        "ACT-1",
        w.hub_a,
        region_code="12.71",
        venue="Aula",
        is_online=True,
        description="Deskripsi.",
        outcome_notes="Hasil.",
        documents=[LINK],
        participant_institution_ids=[str(w.b.id)],
        innovation_ids=[str(w.source.id)],
    )
    first = await created(w, ACTIVITIES, full)
    result = await one(w, ACTIVITIES, activity_item("ACT-1", w.hub_a))
    assert (result["status"], result["version"]) == ("updated", 2)
    read = await w.activity(w.hub_a, first["id"])
    cleared = ("region_code", "venue", "description", "outcome_notes")
    assert [read[k] for k in cleared] == [None] * len(cleared)
    assert read["is_online"] is False
    assert (read["documents"], read["participant_institution_ids"], read["innovation_ids"]) == (
        [],
        [],
        [],
    )


async def test_an_activity_s_hub_is_fixed(w: RecordsWorld) -> None:
    first = await created(w, ACTIVITIES, activity_item("ACT-1", w.hub_a))
    moved = activity_item("ACT-1", w.hub_a_active, title="Pindah hub")
    result = await one(w, ACTIVITIES, moved)
    assert summary(result) == (0, "ACT-1", "invalid", "sync.fixed_field")
    assert pointers(result) == ["/items/0/hub_id"]
    read = await w.activity(w.hub_a, first["id"])
    assert (read["hub_id"], read["version"]) == (str(w.hub_a.id), 1)
    assert read["title"] == "Klinik Inovasi Pelayanan Publik Kota Medan"


async def test_activity_field_rules_point_into_each_item(w: RecordsWorld) -> None:
    """Before the hub's candidate date, an unpublished innovation shown, an unknown
    participant: each item invalid with its service code and pointer; a good one applies."""
    items = [
        activity_item("ACT-1", w.hub_a, activity_date="2020-12-31"),
        activity_item("ACT-2", w.hub_a, innovation_ids=[str(w.source.id), str(w.draft_a.id)]),
        activity_item("ACT-3", w.hub_a, participant_institution_ids=[str(uuid.uuid4())]),
        activity_item("ACT-4", w.hub_a, activity_date="2021-01-01"),
    ]
    body = await w.push(ACTIVITIES, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "ACT-1", "invalid", "hub_activity.before_hub"),
        (1, "ACT-2", "invalid", "hub_activity.innovation_not_published"),
        (2, "ACT-3", "invalid", "hub_activity.institution_not_found"),
        (3, "ACT-4", "created", None),
    ]
    assert [pointers(r) for r in body["items"][:3]] == [
        ["/items/0/activity_date"],
        ["/items/1/innovation_ids/1"],
        ["/items/2/participant_institution_ids/0"],
    ]
    assert [row.external_id for row in await w.activities_of(w.a)] == ["ACT-4"]


async def test_a_stale_activity_version_is_a_conflict(w: RecordsWorld) -> None:
    first = await created(w, ACTIVITIES, activity_item("ACT-1", w.hub_a))
    await w.push(ACTIVITIES, [activity_item("ACT-1", w.hub_a, venue="Aula")])
    stale = activity_item("ACT-1", w.hub_a, title="Judul basi", version=1)
    result = await one(w, ACTIVITIES, stale)
    assert (result["status"], result["code"]) == ("conflict", "sync.version_conflict")
    assert (result["id"], result["version"]) == (first["id"], 2)
    read = await w.activity(w.hub_a, first["id"])
    assert (read["title"], read["venue"], read["version"]) == (
        "Klinik Inovasi Pelayanan Publik Kota Medan",
        "Aula",
        2,
    )


async def test_a_version_for_an_activity_never_pushed_is_a_conflict(w: RecordsWorld) -> None:
    result = await one(w, ACTIVITIES, activity_item("ACT-1", w.hub_a, version=1))
    assert (result["status"], result["code"], result["id"]) == (
        "conflict",
        "sync.record_gone",
        None,
    )
    assert await w.activities_of(w.a) == []


async def test_a_repeated_activity_external_id_is_applied_once(w: RecordsWorld) -> None:
    items = [
        activity_item("ACT-1", w.hub_a, title="Pertama"),
        activity_item("ACT-1", w.hub_a, title="Kedua"),
    ]
    body = await w.push(ACTIVITIES, items)
    assert [summary(r) for r in body["items"]] == [
        (0, "ACT-1", "created", None),
        (1, "ACT-1", "invalid", "sync.duplicate_external_id"),
    ]
    assert pointers(body["items"][1]) == ["/items/1/external_id"]
    (row,) = await w.activities_of(w.a)
    assert row.title == "Pertama"


async def test_a_mixed_batch_publishes_an_innovation_before_an_activity_shows_it(
    w: RecordsWorld,
) -> None:
    """An activity item showing A's draft REPLIKA-1, sent before the innovation item that
    publishes it: innovations are applied first, so the activity is created showing it.
    Alone, the same activity item is refused (the innovation was a draft)."""
    shown = activity_item("ACT-1", w.hub_a, innovation_ids=[str(w.replica.id)])
    alone = await one(w, ACTIVITIES, shown)
    assert (alone["status"], alone["code"]) == ("invalid", "hub_activity.innovation_not_published")
    body = await w.push(
        MIXED,
        [
            tagged("hub-activities", shown),
            tagged("innovations", innovation_item("REPLIKA-1", w.unit_a, status="published")),
        ],
    )
    activity, innovation = body["items"]
    assert (activity["resource"], activity["status"]) == ("hub-activities", "created")
    assert (innovation["status"], innovation["id"]) == ("updated", str(w.replica.id))
    read = await w.activity(w.hub_a, activity["id"])
    assert read["innovation_ids"] == [str(w.replica.id)]


# --- who may push ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [REPLICATIONS, ACTIVITIES])
@pytest.mark.parametrize("role", [Role.local_admin, Role.secretariat_admin, Role.unit_operator])
async def test_only_a_regional_system_may_push_records(
    w: RecordsWorld, auth: KeyFactory, path: str, role: Role
) -> None:
    scope: dict[str, Any] = {}
    if role is Role.local_admin:
        scope = {"institution_id": w.a.id}
    elif role is Role.unit_operator:
        scope = {"unit_id": w.unit_a.id}
    headers = await auth(role, **scope)
    item = (
        replication_item("REP-1", w.source, w.unit_a)
        if path == REPLICATIONS
        else activity_item("ACT-1", w.hub_a)
    )
    assert_problem(await w.post(path, [item], headers), 403, "auth.role_forbidden")
    assert await w.runs(w.a) == 0
    assert await w.replications_of(w.a) == []
    assert await w.activities_of(w.a) == []


@pytest.mark.parametrize("path", [REPLICATIONS, ACTIVITIES])
async def test_pushing_records_without_a_token_is_401(w: RecordsWorld, path: str) -> None:
    assert_problem(await w.client.post(path, json={"items": []}), 401, "auth.required")
