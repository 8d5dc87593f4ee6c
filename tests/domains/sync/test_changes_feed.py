"""The changes feed (`GET /v1/sync/changes`, docs/sync.md): who is shown which change, upserts
and tombstones, paging by cursor, the resource filter, visibility that follows another record
(a replication's source, an activity's hub), the errors, and compaction's 410.

Every test runs in one transaction that is rolled back, and the feed shows a transaction its
own writes: each test first reads to the current end of the feed, keeps that cursor, makes its
writes (through the API where simple, so the triggers fire as in production) and reads on."""

from __future__ import annotations

import base64
import struct
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dates import today_wib
from app.core.pagination import FEED_CURSOR, CursorSigner
from app.domains.sync.service import compact, decode_cursor
from app.models.enums import (
    HubStatus,
    InnovationStage,
    InstitutionKind,
    ReplicationScope,
    ReplicationStatus,
    Role,
)
from app.models.institutions import Institution, Unit
from app.models.replications import Replication
from app.models.sync import SyncChange
from tests.conftest import (
    COMPLETE_SECTIONS,
    HubFactory,
    InnovationFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
)
from tests.domains import assert_problem
from tests.fixtures.etag import if_match

FEED = "/v1/sync/changes"
Headers = dict[str, str]
Item = dict[str, Any]


# --- reading the feed -----------------------------------------------------------------------


async def read_page(
    client: httpx.AsyncClient, headers: Headers, cursor: str | None = None, **params: Any
) -> httpx.Response:
    """One page of the feed after `cursor` (from the beginning without one)."""
    if cursor is not None:
        params["cursor"] = cursor
    return await client.get(FEED, params=params, headers=headers)


async def read_on(
    client: httpx.AsyncClient, headers: Headers, cursor: str | None = None, **params: Any
) -> tuple[list[Item], str]:
    """Follow `next_cursor` from `cursor` until `has_more` is false, as a consumer does: the
    changes read, in order, and the cursor to poll with next."""
    params.setdefault("limit", 1000)
    items: list[Item] = []
    for _ in range(1000):
        response = await read_page(client, headers, cursor, **params)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert isinstance(cursor, str)
            return items, cursor
    raise AssertionError("the feed never reached its end")


async def end_of_feed(client: httpx.AsyncClient, headers: Headers) -> str:
    """The cursor at the feed's current end for this caller (the whole feed read once)."""
    _, cursor = await read_on(client, headers)
    return cursor


def of(items: list[Item], record_id: str | uuid.UUID) -> list[Item]:
    """The changes of one record, in feed order."""
    return [item for item in items if item["id"] == str(record_id)]


def steps(items: list[Item]) -> list[tuple[str, int]]:
    """(operation, version) of each change."""
    return [(item["operation"], item["version"]) for item in items]


# --- the world ------------------------------------------------------------------------------


@dataclass
class World:
    """Pemkot Medan (A), Pemkot Malang (B) and Pemkot Surabaya (C), one unit each; A's and B's
    local admins (who write their innovations), a regional_system key of each, the secretariat."""

    client: httpx.AsyncClient
    session: AsyncSession
    a: Institution
    unit_a: Unit
    b: Institution
    unit_b: Unit
    c: Institution
    unit_c: Unit
    local_a: Headers
    local_b: Headers
    regional_a: Headers
    regional_b: Headers
    regional_c: Headers
    admin: Headers

    async def get(self, path: str, headers: Headers | None = None) -> Item:
        response = await self.client.get(path, headers=headers or {})
        assert response.status_code == 200, response.text
        body: Item = response.json()
        return body

    async def create_innovation(
        self, headers: Headers | None = None, unit: Unit | None = None, **fields: Any
    ) -> Item:
        """A complete draft of `unit` (A's) written through the API by A's local admin."""
        body: Item = {
            "unit_id": str((unit or self.unit_a).id),
            "title": f"INOVASI-{uuid.uuid4().hex[:6].upper()}",
            "year_started": 2021,
            "implemented_date": "2021-07-01",
            "is_digital": True,
            "stage": InnovationStage.penerapan.value,
            "sdgs": [16],
            "sections": dict(COMPLETE_SECTIONS),
            **fields,
        }
        response = await self.client.post(
            "/v1/innovations", json=body, headers=headers or self.local_a
        )
        assert response.status_code == 201, response.text
        created: Item = response.json()
        return created

    async def change_innovation(
        self, innovation: Item, action: str, headers: Headers | None = None, **fields: Any
    ) -> httpx.Response:
        """`patch`, `publish`, `archive` or `delete` the innovation (by A's local admin unless
        told), with If-Match naming the version it has (the body last returned for it)."""
        url = f"/v1/innovations/{innovation['id']}"
        headers = {**(headers or self.local_a), "If-Match": f'"{innovation["version"]}"'}
        if action == "patch":
            response = await self.client.patch(
                url, json=fields, headers=await if_match(self.client, url, headers)
            )
        elif action == "delete":
            response = await self.client.delete(
                url, headers=await if_match(self.client, url, headers)
            )
            assert response.status_code == 204, response.text
            return response
        else:
            response = await self.client.post(f"{url}/{action}", headers=headers)
        assert response.status_code == 200, f"{action}: {response.text}"
        return response

    async def patched(self, innovation: Item, **fields: Any) -> Item:
        body: Item = (await self.change_innovation(innovation, "patch", **fields)).json()
        return body

    async def published(self, innovation: Item) -> Item:
        body: Item = (await self.change_innovation(innovation, "publish")).json()
        return body


@pytest.fixture
async def w(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    admin: Headers,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
) -> World:
    pemkot = InstitutionKind.pemkot
    a = await make_institution(name="Pemerintah Kota Medan", kind=pemkot, region_code="12.71")
    b = await make_institution(name="Pemerintah Kota Malang", kind=pemkot, region_code="35.73")
    c = await make_institution(name="Pemerintah Kota Surabaya", kind=pemkot, region_code="35.78")
    return World(
        client=client,
        session=session,
        a=a,
        unit_a=await make_unit(a, name="Sekretariat DPRD Kota Medan"),
        b=b,
        unit_b=await make_unit(b, name="Dinas Komunikasi dan Informatika Kota Malang"),
        c=c,
        unit_c=await make_unit(c, name="Dinas Kesehatan Kota Surabaya"),
        local_a=await auth(Role.local_admin, institution_id=a.id),
        local_b=await auth(Role.local_admin, institution_id=b.id),
        regional_a=await auth(Role.regional_system, institution_id=a.id),
        regional_b=await auth(Role.regional_system, institution_id=b.id),
        regional_c=await auth(Role.regional_system, institution_id=c.id),
        admin=admin,
    )


# --- who is shown what ----------------------------------------------------------------------


async def test_own_draft_is_shown_to_its_institution_and_public_changes_to_others(
    w: World,
) -> None:
    """A's key is shown A's draft as created (record as A reads it, with A's external_id); B's
    key is shown nothing of it until it is published (an upsert without A's external_id), and
    a tombstone when it is archived, while A keeps reading it."""
    cursor_a = await end_of_feed(w.client, w.regional_a)
    cursor_b = await end_of_feed(w.client, w.regional_b)

    draft = await w.create_innovation(external_id="SIM-2024-017")
    items_a, cursor_a = await read_on(w.client, w.regional_a, cursor_a)
    (created,) = of(items_a, draft["id"])
    assert created["resource"] == "innovations"
    assert (created["operation"], created["version"]) == ("upsert", 1)
    assert created["external_id"] == "SIM-2024-017"
    assert created["record"] == await w.get(f"/v1/innovations/{draft['id']}", w.regional_a)
    assert created["record"]["status"] == "draft"
    items_b, cursor_b = await read_on(w.client, w.regional_b, cursor_b)
    assert of(items_b, draft["id"]) == []

    published = await w.published(draft)
    items_b, cursor_b = await read_on(w.client, w.regional_b, cursor_b)
    (shown,) = of(items_b, draft["id"])
    assert (shown["operation"], shown["version"]) == ("upsert", 2)
    assert shown["external_id"] is None
    assert shown["record"] == await w.get(f"/v1/innovations/{draft['id']}", w.regional_b)
    assert shown["record"]["status"] == "published"
    items_a, cursor_a = await read_on(w.client, w.regional_a, cursor_a)
    assert [(i["operation"], i["version"], i["external_id"]) for i in of(items_a, draft["id"])] == [
        ("upsert", 2, "SIM-2024-017")
    ]

    await w.change_innovation(published, "archive")
    items_b, _ = await read_on(w.client, w.regional_b, cursor_b)
    (tombstone,) = of(items_b, draft["id"])
    assert tombstone["operation"] == "delete"
    assert tombstone["version"] == 3
    assert tombstone["record"] is None
    assert tombstone["external_id"] is None
    items_a, _ = await read_on(w.client, w.regional_a, cursor_a)
    (archived,) = of(items_a, draft["id"])
    assert (archived["operation"], archived["version"]) == ("upsert", 3)
    assert archived["record"]["status"] == "archived"


async def test_a_record_deleted_before_it_is_read_is_a_tombstone_for_its_upsert_and_deletion(
    w: World,
) -> None:
    """docs/sync.md: created and deleted between two reads, a record appears twice, both times
    a tombstone (its upsert, version 1, then its deletion), without its record; a record
    deleted meanwhile among others does not hide theirs."""
    cursor = await end_of_feed(w.client, w.regional_a)
    gone = await w.create_innovation()
    kept = await w.create_innovation()
    await w.change_innovation(gone, "delete")
    items, _ = await read_on(w.client, w.regional_a, cursor)
    assert steps(of(items, gone["id"])) == [("delete", 1), ("delete", 1)]
    assert [item["record"] for item in of(items, gone["id"])] == [None, None]
    assert steps(of(items, kept["id"])) == [("upsert", 1)]
    assert [item["id"] for item in items].index(kept["id"]) == 1


async def test_update_then_delete_of_a_draft_is_logged_once_each_in_order(w: World) -> None:
    """Polled after each write, A's key reads the draft's creation (v1), its update (v2) and its
    deletion (a tombstone), each once and in that order; read late, the same three changes
    come in the same order, all tombstones (the record no longer exists)."""
    start = await end_of_feed(w.client, w.regional_a)
    cursor = start
    seen: list[Item] = []

    draft = await w.create_innovation()
    items, cursor = await read_on(w.client, w.regional_a, cursor)
    seen += of(items, draft["id"])
    updated = await w.patched(draft, title="MAJATOKI")
    items, cursor = await read_on(w.client, w.regional_a, cursor)
    seen += of(items, draft["id"])
    await w.change_innovation(updated, "delete")
    items, cursor = await read_on(w.client, w.regional_a, cursor)
    seen += of(items, draft["id"])

    assert steps(seen) == [("upsert", 1), ("upsert", 2), ("delete", 2)]
    assert seen[1]["record"]["title"] == "MAJATOKI"
    assert seen[1]["record"]["version"] == 2
    assert seen[2]["record"] is None
    assert seen[2]["external_id"] is None

    late, _ = await read_on(w.client, w.regional_a, start)
    assert steps(of(late, draft["id"])) == [("delete", 1), ("delete", 2), ("delete", 2)]
    assert [item["record"] for item in of(late, draft["id"])] == [None, None, None]


async def test_pages_deliver_every_change_once_in_order(w: World) -> None:
    """Six changes read two at a time by following next_cursor: each once, in the order made;
    has_more is false only on the last page, whose cursor, read again, gives nothing and
    itself back."""
    cursor = await end_of_feed(w.client, w.regional_a)
    made = [await w.create_innovation() for _ in range(3)]
    for innovation in made:
        await w.patched(innovation, acronym_expansion="Sistem Informasi Uji")
    expected = [(i["id"], 1) for i in made] + [(i["id"], 2) for i in made]

    read: list[tuple[str, int]] = []
    more: list[bool] = []
    for _ in range(10):
        response = await read_page(w.client, w.regional_a, cursor, limit=2)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        read += [(item["id"], item["version"]) for item in page["items"]]
        more.append(page["has_more"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert read == expected
    assert more == [True, True, False]

    again = await read_page(w.client, w.regional_a, cursor, limit=2)
    assert again.status_code == 200, again.text
    assert again.json() == {"items": [], "next_cursor": cursor, "has_more": False}


async def test_resources_filter_limits_the_feed_to_the_named_resources(
    w: World, make_hub: HubFactory
) -> None:
    """resources=units shows units only; the parameter repeated shows both resources named and
    nothing else."""
    cursor = await end_of_feed(w.client, w.admin)
    response = await w.client.post(
        f"/v1/institutions/{w.a.id}/units",
        json={"name": "Dinas Pendidikan Kota Medan"},
        headers=w.local_a,
    )
    assert response.status_code == 201, response.text
    unit = response.json()
    innovation = await w.create_innovation()
    hub = await make_hub(status=HubStatus.active)
    activity = await w.client.post(
        f"/v1/hubs/{hub.id}/activities",
        json={"kind": "coaching_clinic", "title": "Klinik Inovasi", "activity_date": "2023-05-17"},
        headers=w.admin,
    )
    assert activity.status_code == 201, activity.text

    everything, _ = await read_on(w.client, w.admin, cursor)
    assert {item["resource"] for item in everything} == {"units", "innovations", "hub-activities"}

    units, _ = await read_on(w.client, w.admin, cursor, resources="units")
    assert {item["resource"] for item in units} == {"units"}
    assert [item["version"] for item in of(units, unit["id"])] == [1]
    assert of(units, unit["id"])[0]["record"] == await w.get(f"/v1/units/{unit['id']}")

    two, _ = await read_on(w.client, w.admin, cursor, resources=["units", "innovations"])
    assert {item["resource"] for item in two} == {"units", "innovations"}
    assert len(of(two, unit["id"])) == len(of(two, innovation["id"])) == 1
    assert of(two, activity.json()["id"]) == []


async def test_replication_is_shown_to_others_once_its_source_is_published(
    w: World, make_innovation: InnovationFactory
) -> None:
    """An approved replication of A's draft is A's and B's (its two sides) only: C's key is not
    shown it. When A publishes the source, C's key is shown the replication (an upsert, as
    C reads it)."""
    source = await make_innovation(w.unit_a)
    cursor_a = await end_of_feed(w.client, w.regional_a)
    cursor_c = await end_of_feed(w.client, w.regional_c)
    today = today_wib()
    replication = Replication(
        source_innovation_id=source.id,
        source_institution_id=w.a.id,
        source_unit_id=w.unit_a.id,
        adopter_institution_id=w.b.id,
        adopter_unit_id=w.unit_b.id,
        scope=ReplicationScope.full,
        status=ReplicationStatus.approved,
        requested_date=today,
        approved_date=today,
    )
    w.session.add(replication)
    await w.session.flush()

    items_c, cursor_c = await read_on(w.client, w.regional_c, cursor_c)
    assert of(items_c, replication.id) == []
    items_a, _ = await read_on(w.client, w.regional_a, cursor_a)
    assert steps(of(items_a, replication.id)) == [("upsert", 1)]

    await w.published({"id": str(source.id), "version": source.version})
    items_c, _ = await read_on(w.client, w.regional_c, cursor_c)
    (shown,) = of(items_c, replication.id)
    assert shown["resource"] == "replications"
    assert (shown["operation"], shown["version"]) == ("upsert", 1)
    assert shown["record"] == await w.get(f"/v1/replications/{replication.id}", w.regional_c)
    assert steps(of(items_c, source.id)) == [("upsert", 2)]


async def test_hub_activities_follow_their_status_and_their_hub(
    w: World, make_institution: InstitutionFactory, make_hub: HubFactory, auth: KeyFactory
) -> None:
    """A published activity of an active (public) hub is shown to an unrelated institution's
    key; a draft activity is shown to the host institution's key only."""
    host = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara", kind=InstitutionKind.pemprov, region_code="12"
    )
    hub = await make_hub(host, HubStatus.active, name="JIPP Provinsi Sumatera Utara")
    regional_host = await auth(Role.regional_system, institution_id=host.id)
    cursor_host = await end_of_feed(w.client, regional_host)
    cursor_b = await end_of_feed(w.client, w.regional_b)

    activities = f"/v1/hubs/{hub.id}/activities"
    made = []
    for title in ("Klinik Inovasi Sumatera Utara", "Forum Replikasi Sumatera Utara"):
        response = await w.client.post(
            activities,
            json={"kind": "coaching_clinic", "title": title, "activity_date": "2023-05-17"},
            headers=w.admin,
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    public, draft = made
    response = await w.client.post(
        f"{activities}/{public['id']}/transitions",
        json={"action": "publish"},
        headers={**w.admin, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text

    items_b, _ = await read_on(w.client, w.regional_b, cursor_b)
    (shown,) = of(items_b, public["id"])
    assert shown["resource"] == "hub-activities"
    assert (shown["operation"], shown["version"]) == ("upsert", 2)
    assert shown["record"] == await w.get(f"{activities}/{public['id']}")
    assert of(items_b, draft["id"]) == []

    items_host, _ = await read_on(w.client, regional_host, cursor_host)
    (own_draft,) = of(items_host, draft["id"])
    assert (own_draft["operation"], own_draft["version"]) == ("upsert", 1)
    assert own_draft["record"] == await w.get(f"{activities}/{draft['id']}", w.admin)
    assert steps(of(items_host, public["id"])) == [("upsert", 1), ("upsert", 2)]


async def test_a_deleted_candidate_hub_s_activities_are_tombstones_for_its_host(
    w: World, make_institution: InstitutionFactory, make_hub: HubFactory, auth: KeyFactory
) -> None:
    """A candidate hub's draft activity is its host's: when the secretariat deletes the hub,
    the host's key is shown the activity's tombstone (its deletion is not lost in the hub's
    cascade)."""
    host = await make_institution(
        name="Pemerintah Provinsi Jawa Barat", kind=InstitutionKind.pemprov, region_code="32"
    )
    hub = await make_hub(host, name="JIPP Provinsi Jawa Barat (calon)")
    regional_host = await auth(Role.regional_system, institution_id=host.id)
    cursor = await end_of_feed(w.client, regional_host)
    response = await w.client.post(
        f"/v1/hubs/{hub.id}/activities",
        json={"kind": "coaching_clinic", "title": "Klinik Jabar", "activity_date": "2023-05-17"},
        headers=w.admin,
    )
    assert response.status_code == 201, response.text
    activity = response.json()
    seen, cursor = await read_on(w.client, regional_host, cursor)
    assert steps(of(seen, activity["id"])) == [("upsert", 1)]
    response = await w.client.delete(
        f"/v1/hubs/{hub.id}", headers={**w.admin, "If-Match": f'"{hub.version}"'}
    )
    assert response.status_code == 204, response.text

    items, _ = await read_on(w.client, regional_host, cursor)
    assert steps(of(items, activity["id"])) == [("delete", 1)]


async def test_an_innovation_moved_to_another_institution_leaves_a_tombstone(w: World) -> None:
    """The secretariat moves A's draft (pushed with A's external_id) to B's unit: A's key is
    shown a tombstone carrying A's external_id; B's key is shown the record, which no longer
    carries A's external_id."""
    innovation = await w.create_innovation(external_id="SIM-PINDAH")
    cursor_a = await end_of_feed(w.client, w.regional_a)
    cursor_b = await end_of_feed(w.client, w.regional_b)
    response = await w.change_innovation(
        innovation, "patch", headers=w.admin, unit_id=str(w.unit_b.id)
    )
    moved = response.json()
    assert moved["institution_id"] == str(w.b.id)
    assert moved["external_id"] is None

    items_a, _ = await read_on(w.client, w.regional_a, cursor_a)
    (gone,) = of(items_a, innovation["id"])
    assert (gone["operation"], gone["external_id"]) == ("delete", "SIM-PINDAH")
    assert gone["record"] is None

    items_b, _ = await read_on(w.client, w.regional_b, cursor_b)
    (arrived,) = of(items_b, innovation["id"])
    assert (arrived["operation"], arrived["external_id"]) == ("upsert", None)
    assert arrived["record"]["unit_id"] == str(w.unit_b.id)


async def test_secretariat_is_shown_every_institution_s_drafts(w: World) -> None:
    """The secretariat's feed holds B's draft, as the secretariat reads it."""
    cursor = await end_of_feed(w.client, w.admin)
    draft = await w.create_innovation(w.local_b, w.unit_b, external_id="MLG-7")
    items, _ = await read_on(w.client, w.admin, cursor)
    (created,) = of(items, draft["id"])
    assert (created["operation"], created["version"]) == ("upsert", 1)
    assert created["record"] == await w.get(f"/v1/innovations/{draft['id']}", w.admin)
    assert created["record"]["status"] == "draft"
    # Not the secretariat's own id for it.
    assert created["external_id"] is None


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor!",
        "Zm9vYmFy",
        "MTIz",
        "LTEuMg",
        "MS4y",
        "OTk5OTk5OTk5OTk5OTk5OTk5OS4xLjA",
        "MS45MjIzMzcyMDM2ODU0Nzc1ODA4LjA",
        "MS4yLjAuMA",
        "MS4yLjAuMTY",
        "MS4yLjAuMTIzNA",
        "MS4wLjA",
        "MS4yLjAuMQ",
    ],
)
async def test_a_cursor_the_feed_did_not_hand_out_is_400(w: World, cursor: str) -> None:
    """Garbage, and the base64 of "<xid>.<position>.<generation>[.<resources>]" that the feed
    handed out before its cursors were signed (here "foobar", "123", "-1.2", "1.2", numbers past
    a bigint, no resource or unknown ones, and well-formed "1.2.0.1234"): 400, never a database
    error."""
    response = await read_page(w.client, w.regional_a, cursor)
    assert_problem(response, 400, "sync.invalid_cursor")


@pytest.fixture
def signer(app: FastAPI) -> CursorSigner:
    """The app's cursor signer (under the test settings' secret key)."""
    cursor_signer: CursorSigner = app.state.cursor_signer
    return cursor_signer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


async def test_a_cursor_with_an_invented_generation_is_400_not_a_dodged_410(
    w: World, signer: CursorSigner
) -> None:
    """After a compaction, a cursor from before it is a 410. A reader who invents the current
    compaction generation for its position (hand-made in the earlier plain format, sealed with
    a guessed key, or the feed's own cursor with its generation bytes changed) is refused with
    a 400, never read on from there as if it had read the compacted log."""
    cursor = await end_of_feed(w.client, w.regional_a)
    gone = await w.create_innovation()
    await w.change_innovation(gone, "delete")
    assert await age_and_compact(w.session) >= 1
    assert_problem(await read_page(w.client, w.regional_a, cursor), 410, "sync.cursor_expired")

    real = decode_cursor(cursor, signer)
    generation = (await w.session.execute(text("SELECT generation FROM sync_horizon"))).scalar_one()
    assert generation > real.generation
    plain = f"{real.at.xid}.{real.at.position}.{generation}.{real.resources}".encode()
    payload = struct.pack(">qqqB", real.at.xid, real.at.position, generation, real.resources)
    sealed = _unb64(cursor)
    assert sealed[1:-16] == struct.pack(
        ">qqqB", real.at.xid, real.at.position, real.generation, real.resources
    )
    for forged in (
        _b64(plain),
        CursorSigner(b"a guessed secret key").seal(FEED_CURSOR, payload),
        _b64(sealed[:1] + payload + sealed[-16:]),
    ):
        response = await read_page(w.client, w.regional_a, forged)
        assert_problem(response, 400, "sync.invalid_cursor")


async def test_a_cursor_with_one_character_changed_is_400(w: World) -> None:
    """Each character of a cursor the feed handed out, changed to another: refused."""
    cursor = await end_of_feed(w.client, w.regional_a)
    assert (await read_page(w.client, w.regional_a, cursor)).status_code == 200
    for position, original in enumerate(cursor):
        other = "B" if original == "A" else "A"
        changed = cursor[:position] + other + cursor[position + 1 :]
        response = await read_page(w.client, w.regional_a, changed)
        assert_problem(response, 400, "sync.invalid_cursor")


async def test_a_list_cursor_is_not_a_feed_cursor_and_the_feed_s_is_not_a_list_s(
    w: World,
) -> None:
    """Both are sealed with the same secret key, for different purposes: a list's cursor given
    to the feed is `sync.invalid_cursor`, the feed's given to a list `cursor.invalid`."""
    listed = await w.get("/v1/api-keys?limit=1", w.admin)
    assert listed["next_cursor"] is not None
    response = await read_page(w.client, w.admin, listed["next_cursor"])
    assert_problem(response, 400, "sync.invalid_cursor")

    feed_cursor = await end_of_feed(w.client, w.admin)
    response = await w.client.get(
        "/v1/api-keys", params={"limit": 1, "cursor": feed_cursor}, headers=w.admin
    )
    assert_problem(response, 400, "cursor.invalid")


async def test_a_cursor_reads_on_with_its_resources_or_fewer(w: World) -> None:
    """A cursor reached reading units and innovations reads on with both or either; asking it
    for replications too is a 400 naming the resources it was handed out for (replications'
    changes may lie behind it)."""
    _, cursor = await read_on(w.client, w.admin, resources=["units", "innovations"])
    innovation = await w.create_innovation()
    for narrower in (["units", "innovations"], "innovations"):
        items, _ = await read_on(w.client, w.admin, cursor, resources=narrower)
        assert [item["id"] for item in items] == [innovation["id"]]
    response = await read_page(w.client, w.admin, cursor, resources="replications")
    body = assert_problem(response, 400, "sync.cursor_resources_mismatch")
    assert "units, innovations" in body["detail"]
    response = await read_page(w.client, w.admin, cursor)
    assert_problem(response, 400, "sync.cursor_resources_mismatch")


@pytest.mark.parametrize("limit", [0, 1001])
async def test_a_limit_outside_1_to_1000_is_422(w: World, limit: int) -> None:
    """Outside 1-1000 the limit is refused, naming the parameter."""
    response = await read_page(w.client, w.regional_a, limit=limit)
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["location"], e["parameter"]) for e in body["errors"]] == [("query", "limit")]


async def test_anonymous_is_401_and_a_unit_operator_403(w: World, auth: KeyFactory) -> None:
    """Only institutions' systems and admins and the secretariat may read the feed."""
    assert_problem(await w.client.get(FEED), 401, "auth.required")
    operator = await auth(Role.unit_operator, unit_id=w.unit_a.id)
    assert_problem(await w.client.get(FEED, headers=operator), 403, "auth.role_forbidden")
    # A's local admin reads the feed as A's system does.
    assert (await w.client.get(FEED, headers=w.local_a)).status_code == 200


# --- compaction -----------------------------------------------------------------------------


async def age_and_compact(session: AsyncSession) -> int:
    """Every change made 40 days ago, then compacted with a 30-day retention."""
    await session.execute(text("UPDATE sync_changes SET changed_at = now() - interval '40 days'"))
    return await compact(session, timedelta(days=30))


async def logged(session: AsyncSession, *record_ids: str) -> list[tuple[uuid.UUID, str, int]]:
    """(record id, operation, version) of the log's rows of these records, in feed order."""
    rows = await session.execute(
        select(SyncChange.record_id, SyncChange.operation, SyncChange.version)
        .where(SyncChange.record_id.in_([uuid.UUID(i) for i in record_ids]))
        .order_by(SyncChange.xid, SyncChange.position)
    )
    return [(row.record_id, row.operation, row.version) for row in rows]


async def test_compaction_expires_older_cursors_and_keeps_each_record_s_latest_change(
    w: World,
) -> None:
    """After compaction a cursor from before the removed changes is a 410; the feed read from
    the beginning holds the surviving record once, at its latest version; the log keeps only
    that change of it and nothing of the deleted record."""
    cursor = await end_of_feed(w.client, w.regional_a)
    gone = await w.create_innovation()
    gone = await w.patched(gone, title="SEMENTARA")
    await w.change_innovation(gone, "delete")
    kept = await w.create_innovation()
    kept = await w.patched(kept, title="BERTAHAN")
    assert await logged(w.session, gone["id"], kept["id"]) == [
        (uuid.UUID(gone["id"]), "upsert", 1),
        (uuid.UUID(gone["id"]), "upsert", 2),
        (uuid.UUID(gone["id"]), "delete", 2),
        (uuid.UUID(kept["id"]), "upsert", 1),
        (uuid.UUID(kept["id"]), "upsert", 2),
    ]

    assert await age_and_compact(w.session) >= 4

    assert_problem(await read_page(w.client, w.regional_a, cursor), 410, "sync.cursor_expired")
    resync, _ = await read_on(w.client, w.regional_a)
    assert of(resync, gone["id"]) == []
    (latest,) = of(resync, kept["id"])
    assert (latest["operation"], latest["version"]) == ("upsert", 2)
    assert latest["record"] == await w.get(f"/v1/innovations/{kept['id']}", w.regional_a)
    assert await logged(w.session, gone["id"], kept["id"]) == [(uuid.UUID(kept["id"]), "upsert", 2)]


@pytest.mark.parametrize("limit", [1, 1000])
async def test_a_full_resync_after_compaction_can_be_followed_and_polled(
    w: World, limit: int
) -> None:
    """The resync that a 410 calls for, read as docs/sync.md says (pages followed by
    next_cursor, then polling with the last one), is never itself answered 410, also when the
    newest change compaction removed (here a tombstone) sorts after every surviving one. With
    limit=1 the resync takes several pages; with 1000 one page, then the poll."""
    kept = await w.create_innovation()
    await w.patched(kept, title="BERTAHAN")
    gone = await w.create_innovation()
    await w.change_innovation(gone, "delete")
    assert await age_and_compact(w.session) >= 3

    cursor: str | None = None
    resync: list[Item] = []
    for _ in range(1000):
        response = await read_page(w.client, w.regional_a, cursor, limit=limit)
        assert response.status_code == 200, response.text
        page = response.json()
        resync += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert steps(of(resync, kept["id"])) == [("upsert", 2)]
    poll = await read_page(w.client, w.regional_a, cursor)
    assert poll.status_code == 200, poll.text
    assert poll.json() == {"items": [], "next_cursor": cursor, "has_more": False}
