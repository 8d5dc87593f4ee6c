"""Hub activities: what a hub did for its network (kind, date, place, participants, innovations
shown, documents), a draft until published; the field rules (every bad reference named by its
pointer), publish and unpublish, deleting drafts only, lists replaced whole, the list filters
and keyset pages, who sees and who writes which activity, and the audit trail."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.models.enums import HubStatus, InnovationStatus, Role
from app.models.hubs import Hub, HubActivity, HubActivityInnovation, HubActivityParticipant
from app.models.innovations import Innovation
from tests.conftest import InnovationFactory
from tests.domains import assert_problem
from tests.domains.hubs.conftest import World
from tests.fixtures.etag import if_match

S = HubStatus
Headers = dict[str, str]


def _plain(value: Any) -> Any:
    """`value` with its ids and dates as JSON strings, however deep."""
    if isinstance(value, uuid.UUID | date):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def path(hub: Hub, activity_id: str | None = None) -> str:
    base = f"/v1/hubs/{hub.id}/activities"
    return base if activity_id is None else f"{base}/{activity_id}"


def _body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = _plain(
        {
            "kind": "coaching_clinic",
            "title": "Klinik Inovasi Pelayanan Publik Sumatera Utara",
            "activity_date": "2023-05-17",
            "region_code": "12.71",
            "venue": "Aula Kantor Gubernur, Medan",
            **overrides,
        }
    )
    return body


async def create(
    w: World, hub: Hub, headers: Headers | None = None, **fields: Any
) -> httpx.Response:
    return await w.client.post(path(hub), json=_body(**fields), headers=headers or w.admin)


async def new(w: World, hub: Hub, headers: Headers | None = None, **fields: Any) -> dict[str, Any]:
    """A draft activity of `hub`, created through the API."""
    response = await create(w, hub, headers, **fields)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def patch(
    w: World, hub: Hub, activity_id: str, headers: Headers | None = None, **fields: Any
) -> httpx.Response:
    return await w.client.patch(
        path(hub, activity_id),
        json=_plain(fields),
        headers=await if_match(w.client, path(hub, activity_id), headers or w.admin),
    )


async def act(
    w: World,
    hub: Hub,
    activity_id: str,
    action: str,
    headers: Headers | None = None,
    **fields: Any,
) -> httpx.Response:
    return await w.client.post(
        f"{path(hub, activity_id)}/transitions",
        json={"action": action, **fields},
        headers=headers or w.admin,
    )


async def published(
    w: World, hub: Hub, headers: Headers | None = None, **fields: Any
) -> dict[str, Any]:
    """A published activity of `hub`."""
    activity = await new(w, hub, headers, **fields)
    response = await act(w, hub, activity["id"], "publish", headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listed(w: World, hub: Hub, headers: Headers | None = None, **params: Any) -> list[str]:
    """The ids of the activities the list gives (one page of up to 100)."""
    response = await w.client.get(
        path(hub), params={"limit": 100, **_plain(params)}, headers=headers
    )
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def stored_rows(w: World, hub: Hub) -> tuple[int, int, int]:
    """How many activities, participant rows and innovation rows the hub has in the database."""
    activities = select(HubActivity.id).where(HubActivity.hub_id == hub.id)
    counts = []
    for table, column in (
        (HubActivity, HubActivity.id),
        (HubActivityParticipant, HubActivityParticipant.activity_id),
        (HubActivityInnovation, HubActivityInnovation.activity_id),
    ):
        count = await w.session.scalar(
            select(func.count()).select_from(table).where(column.in_(activities))
        )
        counts.append(count or 0)
    return counts[0], counts[1], counts[2]


def desc(*ids: uuid.UUID) -> list[uuid.UUID]:
    """The ids in descending order: an order the database would never produce by itself."""
    return sorted(ids, key=str, reverse=True)


@pytest.fixture
async def shown(w: World, make_innovation: InnovationFactory) -> list[Innovation]:
    """Three published innovations of Sekretariat DPRD Kota Medan."""
    return [
        await make_innovation(w.medan_dprd, InnovationStatus.published, title=title)
        for title in ("SIKULIN", "MAJATOKI", "RINDU")
    ]


# --- create ---------------------------------------------------------------------------------


async def test_a_hub_admin_records_a_draft_with_its_lists_in_the_order_given(
    w: World, shown: list[Innovation]
) -> None:
    hub = await w.hub()
    participants = desc(w.medan.id, w.deli_serdang.id, w.tirtanadi.id)
    innovations = desc(*(i.id for i in shown))
    documents = [
        {"title": "Undangan", "url": "https://jipp.sumutprov.go.id/undangan.pdf"},
        {"title": "Laporan Klinik Inovasi", "url": "http://sumutprov.go.id/laporan?tahun=2023"},
    ]
    response = await create(
        w,
        hub,
        await w.hub_admin(hub),
        is_online=True,
        description="Pendampingan penyusunan proposal KIPP.",
        outcome_notes="Dua belas proposal siap diajukan.",
        documents=documents,
        participant_institution_ids=participants,
        innovation_ids=innovations,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/hubs/{hub.id}/activities/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert (body["status"], body["published_at"], body["version"]) == ("draft", None, 1)
    assert body["hub_id"] == str(hub.id)
    assert (body["kind"], body["activity_date"], body["region_code"]) == (
        "coaching_clinic",
        "2023-05-17",
        "12.71",
    )
    assert (body["venue"], body["is_online"]) == ("Aula Kantor Gubernur, Medan", True)
    assert body["outcome_notes"] == "Dua belas proposal siap diajukan."
    assert body["documents"] == documents
    assert body["participant_institution_ids"] == [str(i) for i in participants]
    assert body["innovation_ids"] == [str(i) for i in innovations]
    got = await w.client.get(path(hub, body["id"]), headers=w.admin)
    assert got.status_code == 200, got.text
    assert got.headers["ETag"] == '"1"'
    assert got.json() == body
    assert await stored_rows(w, hub) == (1, 3, 3)


async def test_an_activity_needs_only_kind_title_and_date(w: World) -> None:
    hub = await w.hub()
    body = {
        "kind": "knowledge_sharing",
        "title": "Berbagi Pengetahuan",
        "activity_date": "2024-02-29",
    }
    response = await w.client.post(path(hub), json=body, headers=w.admin)
    assert response.status_code == 201, response.text
    activity = response.json()
    assert (activity["status"], activity["is_online"]) == ("draft", False)
    assert [activity[f] for f in ("region_code", "venue", "description", "outcome_notes")] == [
        None
    ] * 4
    assert (
        activity["documents"],
        activity["participant_institution_ids"],
        activity["innovation_ids"],
    ) == ([], [], [])


@pytest.mark.parametrize(
    "url", ["ftp://sumutprov.go.id/laporan.pdf", "javascript:alert(1)", "laporan.pdf", ""]
)
async def test_documents_are_http_or_https_links(w: World, url: str) -> None:
    hub = await w.hub()
    documents = [
        {"title": "Undangan", "url": "https://sumutprov.go.id/undangan.pdf"},
        {"title": "Laporan", "url": url},
    ]
    response = await create(w, hub, documents=documents)
    assert_problem(response, 422, "validation_failed", pointer="/documents/1/url")
    assert await stored_rows(w, hub) == (0, 0, 0)


async def test_the_status_is_not_set_on_create(w: World) -> None:
    hub = await w.hub()
    response = await create(w, hub, status="published")
    assert_problem(response, 422, "validation_failed", pointer="/status")
    assert await stored_rows(w, hub) == (0, 0, 0)


# --- field rules ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["12.99", "99", "12.71.01"])
async def test_an_unknown_region_is_422(w: World, code: str) -> None:
    hub = await w.hub()
    problem = assert_problem(
        await create(w, hub, region_code=code),
        422,
        "hub_activity.region_not_found",
        pointer="/region_code",
    )
    assert problem["detail"] == f"No region {code}."
    assert await stored_rows(w, hub) == (0, 0, 0)


async def test_a_malformed_region_code_is_422(w: World) -> None:
    hub = await w.hub()
    response = await create(w, hub, region_code="Medan")
    assert_problem(response, 422, "validation_failed", pointer="/region_code")


async def test_an_unknown_participant_is_named_by_its_index(w: World) -> None:
    hub = await w.hub()
    ghost = uuid.uuid4()
    response = await create(w, hub, participant_institution_ids=[w.medan.id, ghost, w.malang.id])
    problem = assert_problem(
        response,
        422,
        "hub_activity.institution_not_found",
        pointer="/participant_institution_ids/1",
    )
    assert [e["pointer"] for e in problem["errors"]] == ["/participant_institution_ids/1"]
    assert str(ghost) in problem["detail"]
    assert await stored_rows(w, hub) == (0, 0, 0)


@pytest.mark.parametrize("status", [InnovationStatus.draft, InnovationStatus.archived])
async def test_an_innovation_shown_must_be_published(
    w: World, shown: list[Innovation], make_innovation: InnovationFactory, status: InnovationStatus
) -> None:
    hub = await w.hub()
    hidden = await make_innovation(w.medan_dprd, status, title="E-RESES")
    response = await create(w, hub, innovation_ids=[shown[0].id, hidden.id])
    problem = assert_problem(
        response, 422, "hub_activity.innovation_not_published", pointer="/innovation_ids/1"
    )
    assert [e["pointer"] for e in problem["errors"]] == ["/innovation_ids/1"]
    assert f"is {status.value}" in problem["detail"]
    assert await stored_rows(w, hub) == (0, 0, 0)


async def test_an_unknown_innovation_is_named_by_its_index(
    w: World, shown: list[Innovation]
) -> None:
    hub = await w.hub()
    response = await create(w, hub, innovation_ids=[uuid.uuid4(), shown[0].id])
    assert_problem(response, 422, "hub_activity.innovation_not_found", pointer="/innovation_ids/0")


async def test_an_activity_cannot_predate_its_hub(w: World) -> None:
    hub = await w.hub()  # a candidate since 2020-01-01
    problem = assert_problem(
        await create(w, hub, activity_date="2019-12-31"),
        422,
        "hub_activity.before_hub",
        pointer="/activity_date",
    )
    assert "2020-01-01" in problem["detail"]
    assert (await create(w, hub, activity_date="2020-01-01")).status_code == 201


async def test_every_broken_rule_is_reported_at_once(
    w: World, make_innovation: InnovationFactory
) -> None:
    hub = await w.hub()
    draft = await make_innovation(w.medan_dprd)
    response = await create(
        w,
        hub,
        activity_date="2019-06-01",
        region_code="12.99",
        participant_institution_ids=[uuid.uuid4(), w.medan.id],
        innovation_ids=[draft.id],
    )
    problem = assert_problem(response, 422, "hub_activity.invalid")
    assert {(e["pointer"], e["code"]) for e in problem["errors"]} == {
        ("/activity_date", "hub_activity.before_hub"),
        ("/region_code", "hub_activity.region_not_found"),
        ("/participant_institution_ids/0", "hub_activity.institution_not_found"),
        ("/innovation_ids/0", "hub_activity.innovation_not_published"),
    }
    # One detail of every message, each a sentence of its own (never "….; …").
    assert problem["detail"] == " ".join(e["message"] for e in problem["errors"])
    assert ".;" not in problem["detail"]


@pytest.mark.parametrize("field", ["participant_institution_ids", "innovation_ids"])
async def test_ids_cannot_repeat(w: World, shown: list[Innovation], field: str) -> None:
    hub = await w.hub()
    same = w.medan.id if field == "participant_institution_ids" else shown[0].id
    response = await create(w, hub, None, **{field: [same, same]})
    assert_problem(response, 422, "validation_failed", pointer=f"/{field}")
    assert await stored_rows(w, hub) == (0, 0, 0)


# --- publish and unpublish ------------------------------------------------------------------


async def test_publishing_makes_a_draft_public(w: World) -> None:
    hub = await w.hub()
    activity = await new(w, hub)
    assert_problem(await w.client.get(path(hub, activity["id"])), 404, "hub_activity.not_found")
    assert await listed(w, hub) == []
    response = await act(
        w, hub, activity["id"], "publish", {**w.admin, "If-Match": '"1"'}, reason="Laporan final."
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["version"]) == ("published", 2)
    assert body["published_at"] is not None
    assert response.headers["ETag"] == '"2"'
    got = await w.client.get(path(hub, activity["id"]))
    assert got.status_code == 200, got.text
    assert got.json()["status"] == "published"
    assert await listed(w, hub) == [activity["id"]]


async def test_unpublishing_takes_it_back_to_a_draft(w: World) -> None:
    hub = await w.hub()
    activity = await published(w, hub)
    response = await act(w, hub, activity["id"], "unpublish", reason="Data peserta keliru.")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["published_at"], body["version"]) == ("draft", None, 3)
    assert_problem(await w.client.get(path(hub, activity["id"])), 404, "hub_activity.not_found")
    assert await listed(w, hub) == []
    assert await listed(w, hub, w.admin) == [activity["id"]]


@pytest.mark.parametrize(
    ("start", "action", "allowed"),
    [("draft", "unpublish", ["publish"]), ("published", "publish", ["unpublish"])],
)
async def test_a_step_the_status_does_not_allow_is_409(
    w: World, start: str, action: str, allowed: list[str]
) -> None:
    hub = await w.hub()
    activity = await (published(w, hub) if start == "published" else new(w, hub))
    problem = assert_problem(
        await act(w, hub, activity["id"], action), 409, "hub_activity.invalid_transition"
    )
    assert (problem["current_status"], problem["allowed_actions"]) == (start, allowed)
    got = await w.client.get(path(hub, activity["id"]), headers=w.admin)
    assert (got.json()["status"], got.json()["version"]) == (start, activity["version"])


async def test_an_unknown_action_is_422(w: World) -> None:
    hub = await w.hub()
    activity = await new(w, hub)
    assert_problem(
        await act(w, hub, activity["id"], "archive"), 422, "validation_failed", pointer="/action"
    )


async def test_a_step_with_a_stale_if_match_is_412(w: World) -> None:
    hub = await w.hub()
    activity = await new(w, hub)
    response = await act(w, hub, activity["id"], "publish", {**w.admin, "If-Match": '"7"'})
    problem = assert_problem(response, 412, "hub_activity.version_mismatch")
    assert problem["current_version"] == 1
    got = await w.client.get(path(hub, activity["id"]), headers=w.admin)
    assert got.json()["status"] == "draft"


# --- delete ---------------------------------------------------------------------------------


async def test_a_draft_is_deleted_with_its_lists(w: World, shown: list[Innovation]) -> None:
    hub = await w.hub()
    activity = await new(
        w, hub, participant_institution_ids=[w.medan.id], innovation_ids=[shown[0].id]
    )
    assert await stored_rows(w, hub) == (1, 1, 1)
    response = await w.client.delete(
        path(hub, activity["id"]), headers={**w.admin, "If-Match": '"1"'}
    )
    assert response.status_code == 204, response.text
    assert response.content == b""
    got = await w.client.get(path(hub, activity["id"]), headers=w.admin)
    assert_problem(got, 404, "hub_activity.not_found")
    assert await stored_rows(w, hub) == (0, 0, 0)


async def test_a_published_activity_is_unpublished_before_it_is_deleted(w: World) -> None:
    hub = await w.hub()
    activity = await published(w, hub)
    problem = assert_problem(
        await w.client.delete(
            path(hub, activity["id"]),
            headers=await if_match(w.client, path(hub, activity["id"]), w.admin),
        ),
        409,
        "hub_activity.published",
    )
    assert (problem["current_status"], problem["allowed_actions"]) == ("published", ["unpublish"])
    assert (await w.client.get(path(hub, activity["id"]))).status_code == 200
    assert (await act(w, hub, activity["id"], "unpublish")).status_code == 200
    assert (
        await w.client.delete(
            path(hub, activity["id"]),
            headers=await if_match(w.client, path(hub, activity["id"]), w.admin),
        )
    ).status_code == 204


async def test_deleting_with_a_stale_if_match_is_412(w: World) -> None:
    hub = await w.hub()
    activity = await new(w, hub)
    response = await w.client.delete(
        path(hub, activity["id"]), headers={**w.admin, "If-Match": '"2"'}
    )
    assert_problem(response, 412, "hub_activity.version_mismatch")
    assert await stored_rows(w, hub) == (1, 0, 0)


# --- update ---------------------------------------------------------------------------------


async def test_patch_replaces_a_list_whole_and_moves_the_version(
    w: World, shown: list[Innovation]
) -> None:
    hub = await w.hub()
    activity = await new(
        w,
        hub,
        participant_institution_ids=[w.medan.id, w.deli_serdang.id],
        innovation_ids=[shown[0].id],
    )
    response = await patch(
        w,
        hub,
        activity["id"],
        {**w.admin, "If-Match": '"1"'},
        participant_institution_ids=[w.tirtanadi.id, w.medan.id],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["participant_institution_ids"] == [str(w.tirtanadi.id), str(w.medan.id)]
    assert body["innovation_ids"] == [str(shown[0].id)]
    assert body["version"] == 2
    assert response.headers["ETag"] == '"2"'
    got = await w.client.get(path(hub, activity["id"]), headers=w.admin)
    assert got.json()["participant_institution_ids"] == body["participant_institution_ids"]
    assert got.headers["ETag"] == '"2"'
    assert await stored_rows(w, hub) == (1, 2, 1)
    # The old ETag no longer matches, for writes and for conditional reads.
    stale = await patch(w, hub, activity["id"], {**w.admin, "If-Match": '"1"'}, title="Lain")
    assert assert_problem(stale, 412, "hub_activity.version_mismatch")["current_version"] == 2
    again = await w.client.get(
        path(hub, activity["id"]), headers={**w.admin, "If-None-Match": '"1"'}
    )
    assert again.status_code == 200
    current = await w.client.get(
        path(hub, activity["id"]), headers={**w.admin, "If-None-Match": '"2"'}
    )
    assert current.status_code == 304


async def test_patch_reorders_a_list(w: World, shown: list[Innovation]) -> None:
    hub = await w.hub()
    innovations = [i.id for i in shown]
    activity = await new(
        w,
        hub,
        participant_institution_ids=[w.medan.id, w.deli_serdang.id],
        innovation_ids=innovations,
    )
    response = await patch(
        w,
        hub,
        activity["id"],
        participant_institution_ids=[w.deli_serdang.id, w.medan.id],
        innovation_ids=innovations[::-1],
    )
    assert response.status_code == 200, response.text
    got = (await w.client.get(path(hub, activity["id"]), headers=w.admin)).json()
    assert got["participant_institution_ids"] == [str(w.deli_serdang.id), str(w.medan.id)]
    assert got["innovation_ids"] == [str(i) for i in innovations[::-1]]
    assert got["version"] == 2


async def test_patch_empties_lists_with_empty_or_null(w: World, shown: list[Innovation]) -> None:
    hub = await w.hub()
    activity = await new(
        w,
        hub,
        documents=[{"title": "Laporan", "url": "https://sumutprov.go.id/laporan.pdf"}],
        participant_institution_ids=[w.medan.id],
        innovation_ids=[shown[0].id],
    )
    response = await patch(
        w, hub, activity["id"], documents=None, participant_institution_ids=None, innovation_ids=[]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["documents"], body["participant_institution_ids"], body["innovation_ids"]) == (
        [],
        [],
        [],
    )
    assert await stored_rows(w, hub) == (1, 0, 0)


async def test_patch_changes_the_fields_it_names_and_keeps_the_rest(w: World) -> None:
    hub = await w.hub()
    activity = await published(w, hub, participant_institution_ids=[w.medan.id])
    response = await patch(
        w,
        hub,
        activity["id"],
        kind="replication_forum",
        title="Forum Replikasi Inovasi Sumatera Utara",
        activity_date="2023-05-18",
        region_code=None,
        is_online=True,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["kind"], body["title"], body["activity_date"]) == (
        "replication_forum",
        "Forum Replikasi Inovasi Sumatera Utara",
        "2023-05-18",
    )
    assert (body["region_code"], body["is_online"]) == (None, True)
    # Untouched: the venue, the participants, and the status (a published one stays public).
    assert body["venue"] == "Aula Kantor Gubernur, Medan"
    assert body["participant_institution_ids"] == [str(w.medan.id)]
    assert (body["status"], body["published_at"]) == ("published", activity["published_at"])
    assert body["version"] == activity["version"] + 1


async def test_a_patch_that_changes_nothing_writes_nothing(w: World) -> None:
    hub = await w.hub()
    activity = await new(w, hub, participant_institution_ids=[w.medan.id])
    for body in ({}, {"title": activity["title"], "participant_institution_ids": [w.medan.id]}):
        response = await patch(w, hub, activity["id"], **body)
        assert response.status_code == 200, response.text
        assert response.json()["version"] == activity["version"]
        assert await w.events(response) == []


@pytest.mark.parametrize("field", ["kind", "title", "activity_date", "is_online"])
async def test_a_required_field_cannot_be_removed(w: World, field: str) -> None:
    hub = await w.hub()
    activity = await new(w, hub)
    assert_problem(
        await patch(w, hub, activity["id"], **{field: None}),
        422,
        "hub_activity.field_required",
        pointer=f"/{field}",
    )
    got = await w.client.get(path(hub, activity["id"]), headers=w.admin)
    assert got.json()[field] == activity[field]
    assert got.json()["version"] == 1


async def test_patch_checks_the_same_rules_as_create(
    w: World, shown: list[Innovation], make_innovation: InnovationFactory
) -> None:
    hub = await w.hub()
    activity = await new(w, hub, innovation_ids=[shown[0].id])
    draft = await make_innovation(w.medan_dprd)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"innovation_ids": [shown[1].id, draft.id]}, "hub_activity.innovation_not_published",
         "/innovation_ids/1"),
        ({"participant_institution_ids": [uuid.uuid4()]}, "hub_activity.institution_not_found",
         "/participant_institution_ids/0"),
        ({"activity_date": "2019-12-31"}, "hub_activity.before_hub", "/activity_date"),
        ({"region_code": "12.98"}, "hub_activity.region_not_found", "/region_code"),
        ({"status": "published"}, "validation_failed", "/status"),
        ({"innovation_ids": [shown[1].id, shown[1].id]}, "validation_failed", "/innovation_ids"),
    ]  # fmt: skip
    for fields, code, pointer in cases:
        assert_problem(await patch(w, hub, activity["id"], **fields), 422, code, pointer=pointer)
    got = (await w.client.get(path(hub, activity["id"]), headers=w.admin)).json()
    assert got == activity


# --- filters and pages ----------------------------------------------------------------------


async def _catalogue(w: World, hub: Hub, shown: list[Innovation]) -> dict[str, str]:
    """Five activities of `hub`, label -> id; D is a draft, the rest are published."""
    specs: dict[str, dict[str, Any]] = {
        "A": {"kind": "coaching_clinic", "title": "Klinik Inovasi Kota Medan",
              "activity_date": "2022-03-10", "region_code": "12.71",
              "participant_institution_ids": [w.medan.id], "innovation_ids": [shown[0].id]},
        "B": {"kind": "knowledge_sharing", "title": "Berbagi Pengetahuan di Deli Serdang",
              "activity_date": "2023-06-01", "region_code": "12.07",
              "participant_institution_ids": [w.deli_serdang.id, w.medan.id]},
        "C": {"kind": "replication_forum", "title": "Forum Replikasi Sumatera Utara",
              "activity_date": "2024-09-15", "region_code": "12",
              "participant_institution_ids": [w.tirtanadi.id],
              "innovation_ids": [shown[0].id, shown[1].id]},
        "D": {"kind": "coaching_clinic", "title": "Klinik Inovasi bersama Kota Malang",
              "activity_date": "2024-11-20", "region_code": "35.73",
              "participant_institution_ids": [w.malang.id], "innovation_ids": [shown[1].id]},
        "E": {"kind": "data_update", "title": "Pemutakhiran Data Inovasi 100% Daring",
              "activity_date": "2021-01-05", "region_code": None, "venue": None,
              "is_online": True},
    }  # fmt: skip
    ids = {}
    for label, fields in specs.items():
        make = new if label == "D" else published
        ids[label] = (await make(w, hub, **fields))["id"]
    return ids


FILTERS: list[tuple[dict[str, Any], str]] = [
    ({}, "DCBAE"),
    ({"kind": "coaching_clinic"}, "DA"),
    ({"kind": ["coaching_clinic", "data_update"]}, "DAE"),
    ({"status": "draft"}, "D"),
    ({"status": "published"}, "CBAE"),
    ({"date_from": "2023-06-01"}, "DCB"),
    ({"date_to": "2023-06-01"}, "BAE"),
    ({"date_from": "2022-01-01", "date_to": "2023-12-31"}, "BA"),
    ({"date_from": "2024-09-15", "date_to": "2024-09-15"}, "C"),
    ({"region": "12"}, "CBA"),
    ({"region": "12.71"}, "A"),
    ({"region": "35"}, "D"),
    ({"region": "35.73"}, "D"),
    ({"region": "11"}, ""),
    ({"institution_id": "medan"}, "BA"),
    ({"institution_id": "tirtanadi"}, "C"),
    ({"institution_id": "jatim"}, ""),
    ({"innovation_id": 0}, "CA"),
    ({"innovation_id": 1}, "DC"),
    ({"innovation_id": 2}, ""),
    ({"q": "klinik"}, "DA"),
    ({"q": "SUMATERA"}, "C"),
    ({"q": "%"}, "E"),
    ({"q": "_"}, ""),
    ({"sort": "activity_date"}, "EABCD"),
    ({"sort": "-activity_date"}, "DCBAE"),
    ({"region": "12", "kind": "coaching_clinic", "status": "published"}, "A"),
]


@pytest.mark.parametrize(("params", "expected"), FILTERS, ids=lambda v: str(v))
async def test_each_filter_narrows_the_list(
    w: World, shown: list[Innovation], params: dict[str, Any], expected: str
) -> None:
    hub = await w.hub()
    ids = await _catalogue(w, hub, shown)
    label_of = {v: k for k, v in ids.items()}
    if "institution_id" in params:
        params = {**params, "institution_id": getattr(w, params["institution_id"]).id}
    if "innovation_id" in params:
        params = {**params, "innovation_id": shown[params["innovation_id"]].id}
    got = await listed(w, hub, w.admin, **params)
    assert "".join(label_of[i] for i in got) == expected


async def test_the_public_list_leaves_the_drafts_out_whatever_the_filter(
    w: World, shown: list[Innovation]
) -> None:
    hub = await w.hub()
    ids = await _catalogue(w, hub, shown)
    assert await listed(w, hub) == [ids[k] for k in "CBAE"]
    assert await listed(w, hub, status="draft") == []
    assert await listed(w, hub, region="35") == []
    assert await listed(w, hub, institution_id=w.malang.id) == []


async def test_sorting_by_creation_time_goes_both_ways(w: World, shown: list[Innovation]) -> None:
    hub = await w.hub()
    ids = await _catalogue(w, hub, shown)
    oldest_first = await listed(w, hub, w.admin, sort="created_at")
    newest_first = await listed(w, hub, w.admin, sort="-created_at")
    assert sorted(oldest_first) == sorted(ids.values())
    assert newest_first == oldest_first[::-1]


async def test_date_from_after_date_to_is_422(w: World) -> None:
    hub = await w.hub()
    response = await w.client.get(
        path(hub), params={"date_from": "2024-02-01", "date_to": "2024-01-31"}
    )
    assert_problem(response, 422, "hub_activity.date_range")


async def test_date_from_after_date_to_names_the_query_parameter(w: World) -> None:
    hub = await w.hub()
    response = await w.client.get(
        path(hub), params={"date_from": "2024-02-01", "date_to": "2024-01-31"}
    )
    problem = assert_problem(response, 422, "hub_activity.date_range")
    (error,) = problem["errors"]
    assert (error["location"], error.get("parameter"), error.get("pointer")) == (
        "query",
        "date_from",
        None,
    )


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"region": "1"}, "region"),
        ({"region": "12."}, "region"),
        ({"kind": "seminar"}, "kind"),
        ({"status": "archived"}, "status"),
        ({"sort": "title"}, "sort"),
        ({"date_from": "2024-02-30"}, "date_from"),
        ({"q": "x" * 101}, "q"),
    ],
)
async def test_malformed_filters_are_422(w: World, params: dict[str, str], parameter: str) -> None:
    hub = await w.hub()
    problem = assert_problem(await w.client.get(path(hub), params=params), 422, "validation_failed")
    # A list parameter's error names the item too (`kind.0`).
    named = [(e.get("parameter") or "").split(".")[0] for e in problem["errors"]]
    assert parameter in named, problem


async def test_pages_follow_the_keyset_through_equal_dates(w: World) -> None:
    hub = await w.hub()
    dates = ["2023-01-10", "2023-02-01", "2023-01-10", "2022-12-01", "2023-01-10"]
    made = [
        (await published(w, hub, title=f"Klinik Inovasi {n}", activity_date=d))["id"]
        for n, d in enumerate(dates)
    ]
    by_date = dict(zip(made, dates, strict=True))
    everything = await listed(w, hub)
    assert everything == sorted(made, key=lambda i: (by_date[i], uuid.UUID(i)), reverse=True)

    seen: list[str] = []
    cursor = None
    pages = []
    while True:
        params: dict[str, Any] = {"limit": 2, "include_total": "true"}
        if cursor:
            params["cursor"] = cursor
        response = await w.client.get(path(hub), params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == 5
        pages.append((len(page["items"]), page["has_more"]))
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None
            break
        assert cursor
    assert pages == [(2, True), (2, True), (1, False)]
    assert seen == everything


async def test_a_cursor_continues_only_its_own_list(w: World) -> None:
    hub = await w.hub()
    for n in range(3):
        await published(w, hub, title=f"Klinik Inovasi {n}", activity_date=f"2023-0{n + 1}-01")
    first = await w.client.get(path(hub), params={"limit": 1}, headers=w.admin)
    cursor = first.json()["next_cursor"]
    assert cursor
    other_filter = await w.client.get(
        path(hub), params={"limit": 1, "cursor": cursor, "kind": "coaching_clinic"}, headers=w.admin
    )
    assert_problem(other_filter, 400, "cursor.mismatch")
    # The manager's list (drafts too) is another list than the public one.
    public = await w.client.get(path(hub), params={"limit": 1, "cursor": cursor})
    assert_problem(public, 400, "cursor.mismatch")
    same = await w.client.get(path(hub), params={"limit": 1, "cursor": cursor}, headers=w.admin)
    assert same.status_code == 200, same.text


# --- who sees and who writes activities -----------------------------------------------------


async def _viewer(w: World, viewer: str) -> Headers | None:
    if viewer == "anonymous":
        return None
    if viewer == "other_hub_admin":
        return await w.hub_admin(await w.hub(host=w.jatim))
    if viewer == "local_admin":
        return await w.auth(Role.local_admin, institution_id=w.medan.id)
    return await w.auth(Role.unit_operator, unit_id=w.medan_dprd.id)


@pytest.mark.parametrize("viewer", ["anonymous", "other_hub_admin", "local_admin", "unit_operator"])
async def test_outside_its_managers_a_draft_does_not_exist(w: World, viewer: str) -> None:
    hub = await w.hub()
    draft = await new(w, hub, title="Draf Klinik", participant_institution_ids=[w.medan.id])
    public = await published(w, hub, title="Klinik Terbit")
    headers = await _viewer(w, viewer)
    got = await w.client.get(path(hub, draft["id"]), headers=headers)
    assert_problem(got, 404, "hub_activity.not_found")
    assert (await w.client.get(path(hub, public["id"]), headers=headers)).status_code == 200
    assert await listed(w, hub, headers) == [public["id"]]
    assert await listed(w, hub, headers, status="draft") == []


@pytest.mark.parametrize("manager", ["own_hub_admin", "secretariat"])
async def test_the_hubs_managers_see_its_drafts(w: World, manager: str) -> None:
    hub = await w.hub()
    draft = await new(w, hub, title="Draf Klinik", activity_date="2024-01-01")
    public = await published(w, hub, title="Klinik Terbit", activity_date="2023-01-01")
    headers = await w.hub_admin(hub) if manager == "own_hub_admin" else w.admin
    got = await w.client.get(path(hub, draft["id"]), headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["status"] == "draft"
    assert await listed(w, hub, headers) == [draft["id"], public["id"]]
    assert await listed(w, hub, headers, status="draft") == [draft["id"]]


async def test_the_hubs_own_admin_writes_its_activities_before_designation(
    w: World, shown: list[Innovation]
) -> None:
    hub = await w.hub(status=S.committed)
    headers = await w.hub_admin(hub)
    activity = await new(w, hub, headers, participant_institution_ids=[w.medan.id])
    changed = await patch(w, hub, activity["id"], headers, innovation_ids=[shown[0].id])
    assert changed.status_code == 200, changed.text
    assert (await act(w, hub, activity["id"], "publish", headers)).status_code == 200
    # The hub itself is not public yet: neither are its activities.
    assert_problem(await w.client.get(path(hub)), 404, "hub.not_found")
    assert_problem(await w.client.get(path(hub, activity["id"])), 404, "hub.not_found")
    assert (await act(w, hub, activity["id"], "unpublish", headers)).status_code == 200
    deleted = await w.client.delete(
        path(hub, activity["id"]),
        headers=await if_match(w.client, path(hub, activity["id"]), headers),
    )
    assert deleted.status_code == 204, deleted.text


async def test_the_secretariat_writes_any_hubs_activities(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    activity = await new(w, hub, w.admin)
    assert (await patch(w, hub, activity["id"], w.admin, title="Klinik Ubah")).status_code == 200
    assert (await act(w, hub, activity["id"], "publish", w.admin)).status_code == 200


async def test_a_hub_admin_of_another_hub_gets_403_on_a_public_hub_and_404_on_a_candidate(
    w: World,
) -> None:
    headers = await w.hub_admin(await w.hub(host=w.jatim))
    public = await w.hub()
    activity = await published(w, public)
    draft = await new(w, public)
    assert_problem(await create(w, public, headers), 403, "hub.out_of_scope")
    for target in (activity, draft):
        assert_problem(
            await patch(w, public, target["id"], headers, title="Diubah"), 403, "hub.out_of_scope"
        )
    assert_problem(await act(w, public, activity["id"], "unpublish", headers), 403,
                   "hub.out_of_scope")  # fmt: skip
    assert_problem(await act(w, public, draft["id"], "publish", headers), 403, "hub.out_of_scope")
    assert_problem(
        await w.client.delete(
            path(public, draft["id"]),
            headers=await if_match(w.client, path(public, draft["id"]), headers),
        ),
        403,
        "hub.out_of_scope",
    )
    assert await stored_rows(w, public) == (2, 0, 0)
    assert (await w.client.get(path(public, activity["id"]), headers=w.admin)).json() == activity

    candidate = await w.hub(status=S.candidate, name="JIPP Calon")
    hidden = await published(w, candidate)
    for response in (
        await w.client.get(path(candidate), headers=headers),
        await w.client.get(path(candidate, hidden["id"]), headers=headers),
        await create(w, candidate, headers),
        await patch(w, candidate, hidden["id"], headers, title="Diubah"),
        await act(w, candidate, hidden["id"], "unpublish", headers),
        await w.client.delete(
            path(candidate, hidden["id"]),
            headers=await if_match(w.client, path(candidate, hidden["id"]), headers),
        ),
    ):
        assert_problem(response, 404, "hub.not_found")


async def test_anonymous_writes_are_401(w: World) -> None:
    hub = await w.hub()
    activity = await new(w, hub)
    for response in (
        await w.client.post(path(hub), json=_body()),
        await w.client.patch(
            path(hub, activity["id"]),
            json={"title": "Diubah"},
            headers=await if_match(w.client, path(hub, activity["id"])),
        ),
        await w.client.post(f"{path(hub, activity['id'])}/transitions", json={"action": "publish"}),
        await w.client.delete(
            path(hub, activity["id"]), headers=await if_match(w.client, path(hub, activity["id"]))
        ),
    ):
        assert_problem(response, 401, "auth.required")
    got = (await w.client.get(path(hub, activity["id"]), headers=w.admin)).json()
    assert got == activity


@pytest.mark.parametrize(
    "role", [Role.local_admin, Role.unit_operator, Role.evaluator, Role.regional_system]
)
async def test_other_roles_cannot_write_activities(w: World, role: Role) -> None:
    hub = await w.hub()
    activity = await new(w, hub)
    scope: dict[str, Any] = {}
    if role in (Role.local_admin, Role.regional_system):
        scope = {"institution_id": w.sumut.id}
    elif role is Role.unit_operator:
        scope = {"unit_id": w.sumut_bureau.id}
    headers = await w.auth(role, **scope)
    for response in (
        await create(w, hub, headers),
        await patch(w, hub, activity["id"], headers, title="Diubah"),
        await act(w, hub, activity["id"], "publish", headers),
        await w.client.delete(
            path(hub, activity["id"]),
            headers=await if_match(w.client, path(hub, activity["id"]), headers),
        ),
    ):
        assert_problem(response, 403, "auth.role_forbidden")
    assert await stored_rows(w, hub) == (1, 0, 0)


async def test_an_activity_is_found_only_under_its_own_hub(w: World) -> None:
    hub = await w.hub()
    other = await w.hub(host=w.jatim)
    activity = await published(w, hub)
    assert_problem(await w.client.get(path(other, activity["id"])), 404, "hub_activity.not_found")
    assert await listed(w, other, w.admin) == []
    assert_problem(
        await patch(w, other, activity["id"], title="Diubah"), 404, "hub_activity.not_found"
    )
    assert_problem(await act(w, other, activity["id"], "unpublish"), 404, "hub_activity.not_found")
    assert_problem(
        await w.client.delete(
            path(other, activity["id"]),
            headers=await if_match(w.client, path(other, activity["id"]), w.admin),
        ),
        404,
        "hub_activity.not_found",
    )
    assert_problem(await w.client.get(path(hub, str(uuid.uuid4()))), 404, "hub_activity.not_found")
    assert_problem(await w.client.get(f"/v1/hubs/{uuid.uuid4()}/activities"), 404, "hub.not_found")


# --- audit ----------------------------------------------------------------------------------


async def test_creating_leaves_one_event_with_the_lists(w: World, shown: list[Innovation]) -> None:
    hub = await w.hub()
    participants = [w.deli_serdang.id, w.medan.id]
    response = await create(
        w,
        hub,
        await w.hub_admin(hub),
        participant_institution_ids=participants,
        innovation_ids=[shown[1].id],
    )
    assert response.status_code == 201, response.text
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "create",
        "hub_activity",
        response.json()["id"],
    )
    assert (event.institution_id, event.actor_role) == (w.sumut.id, "hub_admin")
    assert event.changes["participant_institution_ids"] == {
        "before": None,
        "after": [str(i) for i in participants],
    }
    assert event.changes["innovation_ids"] == {"before": None, "after": [str(shown[1].id)]}
    assert event.changes["status"] == {"before": None, "after": "draft"}
    assert event.changes["title"]["after"] == "Klinik Inovasi Pelayanan Publik Sumatera Utara"


async def test_updating_records_the_lists_before_and_after(
    w: World, shown: list[Innovation]
) -> None:
    hub = await w.hub()
    activity = await new(
        w, hub, participant_institution_ids=[w.medan.id], innovation_ids=[shown[0].id]
    )
    response = await patch(
        w, hub, activity["id"], participant_institution_ids=[w.medan.id, w.deli_serdang.id]
    )
    assert response.status_code == 200, response.text
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "update",
        "hub_activity",
        activity["id"],
    )
    assert event.changes["participant_institution_ids"] == {
        "before": [str(w.medan.id)],
        "after": [str(w.medan.id), str(w.deli_serdang.id)],
    }
    assert "innovation_ids" not in event.changes
    assert "title" not in event.changes


@pytest.mark.parametrize("action", ["publish", "unpublish"])
async def test_publishing_and_unpublishing_record_the_status_and_the_reason(
    w: World, action: str
) -> None:
    hub = await w.hub()
    activity = await (new(w, hub) if action == "publish" else published(w, hub))
    response = await act(w, hub, activity["id"], action, reason="Laporan sudah diverifikasi.")
    assert response.status_code == 200, response.text
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        action,
        "hub_activity",
        activity["id"],
    )
    before, after = ("draft", "published") if action == "publish" else ("published", "draft")
    assert event.changes["status"] == {"before": before, "after": after}
    assert event.changes["reason"] == {"before": None, "after": "Laporan sudah diverifikasi."}
    assert "participant_institution_ids" not in event.changes


async def test_deleting_records_what_was_deleted(w: World) -> None:
    hub = await w.hub()
    activity = await new(w, hub, participant_institution_ids=[w.medan.id])
    response = await w.client.delete(
        path(hub, activity["id"]),
        headers=await if_match(w.client, path(hub, activity["id"]), w.admin),
    )
    assert response.status_code == 204, response.text
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (
        "delete",
        "hub_activity",
        activity["id"],
    )
    assert event.institution_id == w.sumut.id
    assert event.changes["participant_institution_ids"] == {
        "before": [str(w.medan.id)],
        "after": None,
    }
    assert event.changes["title"] == {"before": activity["title"], "after": None}


async def test_a_refused_write_leaves_no_event(w: World) -> None:
    hub = await w.hub()
    activity = await published(w, hub)
    for response in (
        await create(w, hub, region_code="12.99"),
        await act(w, hub, activity["id"], "publish"),
        await w.client.delete(
            path(hub, activity["id"]),
            headers=await if_match(w.client, path(hub, activity["id"]), w.admin),
        ),
        await patch(w, hub, activity["id"], {**w.admin, "If-Match": '"1"'}, title="Diubah"),
    ):
        assert response.status_code in (409, 412, 422), response.text
        assert await w.events(response) == []
