"""Who sees which replication (list and get), when the replica's id is shown, the list's
filters, sort and pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from app.models.enums import InnovationStatus
from app.models.innovations import Innovation
from tests.domains import assert_problem
from tests.domains.replications.conftest import PATH, World


@dataclass
class Board:
    """Replications by name -> id, and the draft replica D of `mb_impl`:

    | name | source | adopter | status | facilitator |
    |---|---|---|---|---|
    | m_req | SAMBAT ONLINE (Malang) | Medan's first unit | requested | hub Jawa Timur |
    | s_appr | SAMBAT ONLINE | Surabaya | approved | secretariat |
    | mb_impl | SAMBAT ONLINE | Malang's second unit (replica D) | implemented | hub Jawa Timur |
    | m_rej | SAYANG WARGA (Surabaya) | Medan's first unit | rejected | - |
    | ma_req | SAYANG WARGA | Malang's first unit | requested | - |
    | m2_disc | SAYANG WARGA | Medan's second unit | discontinued once approved | - |
    """

    ids: dict[str, str]
    replica: Innovation

    def of(self, *names: str) -> set[str]:
        return {self.ids[n] for n in names}


@pytest.fixture
async def b(w: World) -> Board:
    hub = {"facilitator": "hub", "facilitator_hub_id": str(w.hub_jatim.id)}
    replica = await w.innovation(w.malang_b, InnovationStatus.draft, title="SAMBAT DINKES")
    sby_side = {"source_side": w.local_sby}
    ids = {
        "m_req": (await w.at("requested", **hub))["id"],
        "s_appr": (
            await w.at("approved", w.inov, w.sby_unit, w.operator_sby, facilitator="secretariat")
        )["id"],
        "mb_impl": (
            await w.at(
                "implemented",
                w.inov,
                w.malang_b,
                w.operator_malang_b,
                replica_innovation_id=str(replica.id),
                **hub,
            )
        )["id"],
        "m_rej": (await w.at("rejected", w.inov_sby, **sby_side))["id"],
        "ma_req": (await w.at("requested", w.inov_sby, w.malang_a, w.operator_malang_a))["id"],
    }
    disc = await w.at("approved", w.inov_sby, w.medan_unit2, w.operator_medan2, **sby_side)
    await w.ok(disc["id"], "discontinue", w.operator_medan2, reason="Tidak ada anggaran.")
    ids["m2_disc"] = disc["id"]
    return Board(ids, replica)


PUBLIC = ("s_appr", "mb_impl", "m2_disc")
# Who sees what besides the public replications.
SEES: dict[str, tuple[str, ...]] = {
    "anonymous": (),
    "evaluator": (),
    "local_jatim": (),  # hosts the hub, but is party to nothing
    "hub_admin_sumut": (),
    "hub_admin_jatim": ("m_req",),  # the requests its hub facilitates
    "local_medan": ("m_req", "m_rej"),
    "operator_medan": ("m_req", "m_rej"),
    "operator_medan2": ("m_req", "m_rej"),
    "regional_medan": ("m_req", "m_rej"),
    "local_sby": ("m_rej", "ma_req"),  # the source side of SAYANG WARGA
    "operator_sby": ("m_rej", "ma_req"),
    "local_malang": ("m_req", "ma_req"),
    "operator_malang_b": ("m_req", "ma_req"),
}


async def listed(w: World, headers: dict[str, str], **params: Any) -> set[str]:
    """Every id the list gives the caller, over all pages."""
    found: list[str] = []
    query: dict[str, Any] = {"limit": 2, **params}
    while True:
        response = await w.client.get(PATH, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        found += [item["id"] for item in body["items"]]
        if not body["next_cursor"]:
            assert body["has_more"] is False
            break
        assert body["has_more"] is True
        query["cursor"] = body["next_cursor"]
    assert len(found) == len(set(found)), "a page repeated a replication"
    return set(found)


# --- who sees what --------------------------------------------------------------------------


async def test_the_secretariat_sees_everything(w: World, b: Board) -> None:
    assert await listed(w, w.admin) == set(b.ids.values())
    for replication_id in b.ids.values():
        assert (await w.get(replication_id, w.admin)).status_code == 200


@pytest.mark.parametrize("name", list(SEES))
async def test_who_sees_which_replication(w: World, b: Board, name: str) -> None:
    headers = getattr(w, name)
    expected = b.of(*PUBLIC, *SEES[name])
    assert await listed(w, headers) == expected
    for key, replication_id in b.ids.items():
        response = await w.get(replication_id, headers)
        if replication_id in expected:
            assert response.status_code == 200, (key, response.text)
            assert response.json()["id"] == replication_id
        else:
            assert response.status_code == 404, (key, response.text)
            assert_problem(response, 404, "replication.not_found")


async def test_a_request_becomes_public_once_approved(w: World) -> None:
    created = await w.request()
    assert_problem(await w.get(created["id"], w.anonymous), 404, "replication.not_found")
    assert created["id"] not in await listed(w, w.evaluator)
    await w.ok(created["id"], "approve", w.local_malang)
    got = await w.get(created["id"], w.anonymous)
    assert got.status_code == 200, got.text
    assert got.json()["status"] == "approved"
    assert created["id"] in await listed(w, w.evaluator)


async def test_a_rejected_request_never_becomes_public(w: World) -> None:
    rejected = await w.at("rejected")
    assert_problem(await w.get(rejected["id"], w.anonymous), 404, "replication.not_found")
    assert_problem(await w.get(rejected["id"], w.local_sby), 404, "replication.not_found")


async def test_a_replication_whose_source_is_no_longer_published_is_not_public(
    w: World,
) -> None:
    approved = await w.at("approved")
    await w.set_innovation(w.inov, status=InnovationStatus.archived)
    assert_problem(await w.get(approved["id"], w.anonymous), 404, "replication.not_found")
    assert approved["id"] not in await listed(w, w.evaluator)
    # Its two institutions still see it.
    assert (await w.get(approved["id"], w.local_medan)).status_code == 200
    assert (await w.get(approved["id"], w.local_malang)).status_code == 200


async def test_a_get_with_the_current_etag_is_304(w: World) -> None:
    created = await w.request()
    response = await w.client.get(
        f"{PATH}/{created['id']}", headers={**w.operator_medan, "If-None-Match": '"1"'}
    )
    assert response.status_code == 304, response.text
    assert response.headers["ETag"] == '"1"'
    await w.ok(created["id"], "approve", w.local_malang)
    response = await w.client.get(
        f"{PATH}/{created['id']}", headers={**w.operator_medan, "If-None-Match": '"1"'}
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'


async def test_an_unknown_replication_is_404(w: World) -> None:
    assert_problem(await w.get(str(uuid.uuid4())), 404, "replication.not_found")


# --- the replica's id -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("admin", True),
        ("local_malang", True),  # the adopter institution
        ("operator_malang_b", True),  # the adopter unit
        ("local_medan", False),
        ("local_sby", False),
        ("evaluator", False),
        ("anonymous", False),
    ],
)
async def test_a_draft_replica_is_hidden_from_outsiders(
    w: World, b: Board, name: str, shown: bool
) -> None:
    headers = getattr(w, name)
    expected = str(b.replica.id) if shown else None
    got = await w.get(b.ids["mb_impl"], headers)
    assert got.status_code == 200, got.text
    assert got.json()["replica_innovation_id"] == expected
    page = await w.client.get(PATH, params={"limit": 100}, headers=headers)
    (item,) = [i for i in page.json()["items"] if i["id"] == b.ids["mb_impl"]]
    assert item["replica_innovation_id"] == expected


async def test_a_published_replica_is_shown_to_everyone(w: World, b: Board) -> None:
    await w.set_innovation(
        b.replica, status=InnovationStatus.published, published_at=datetime.now(UTC)
    )
    for name in ("anonymous", "evaluator", "local_medan"):
        got = await w.get(b.ids["mb_impl"], getattr(w, name))
        assert got.json()["replica_innovation_id"] == str(b.replica.id), name


# --- filters, sort, pages -------------------------------------------------------------------


async def test_filters(w: World, b: Board) -> None:
    async def only(**params: Any) -> set[str]:
        return await listed(w, w.admin, **params)

    assert await only(source_innovation_id=str(w.inov.id)) == b.of("m_req", "s_appr", "mb_impl")
    assert await only(replica_innovation_id=str(b.replica.id)) == b.of("mb_impl")
    assert await only(institution_id=str(w.medan.id)) == b.of("m_req", "m_rej", "m2_disc")
    assert await only(institution_id=str(w.malang.id)) == b.of(
        "m_req", "s_appr", "mb_impl", "ma_req"
    )
    assert await only(adopter_institution_id=str(w.malang.id)) == b.of("mb_impl", "ma_req")
    assert await only(source_institution_id=str(w.surabaya.id)) == b.of(
        "m_rej", "ma_req", "m2_disc"
    )
    assert await only(adopter_unit_id=str(w.medan_unit.id)) == b.of("m_req", "m_rej")
    assert await only(facilitator_hub_id=str(w.hub_jatim.id)) == b.of("m_req", "mb_impl")
    assert await only(status="requested") == b.of("m_req", "ma_req")
    assert await only(status=["approved", "implemented", "discontinued"]) == b.of(
        "s_appr", "mb_impl", "m2_disc"
    )
    assert await only(region="35") == b.of("s_appr", "mb_impl", "ma_req")
    assert await only(region="35.73") == b.of("mb_impl", "ma_req")
    assert await only(region="35.78") == b.of("s_appr")
    assert await only(region="12") == b.of("m_req", "m_rej", "m2_disc")
    assert await only(region="11") == set()
    assert await only(
        source_innovation_id=str(w.inov_sby.id), status="requested", region="35"
    ) == b.of("ma_req")


async def test_filters_stay_within_the_callers_reach(w: World, b: Board) -> None:
    assert await listed(w, w.local_sby, institution_id=str(w.medan.id)) == b.of("m_rej", "m2_disc")
    assert await listed(w, w.anonymous, status="requested") == set()
    assert await listed(w, w.hub_admin_jatim, status="requested") == b.of("m_req")


async def test_sort_and_pages(w: World, b: Board) -> None:
    def ids(response: Any) -> list[str]:
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    newest = ids(await w.client.get(PATH, params={"limit": 100}, headers=w.admin))
    explicit = ids(
        await w.client.get(PATH, params={"limit": 100, "sort": "-created_at"}, headers=w.admin)
    )
    oldest = ids(
        await w.client.get(PATH, params={"limit": 100, "sort": "created_at"}, headers=w.admin)
    )
    assert newest == explicit == list(reversed(oldest))
    assert set(newest) == set(b.ids.values())
    first = await w.client.get(PATH, params={"limit": 4}, headers=w.admin)
    assert ids(first) == newest[:4]
    assert first.json()["has_more"] is True
    second = await w.client.get(
        PATH, params={"limit": 4, "cursor": first.json()["next_cursor"]}, headers=w.admin
    )
    assert ids(second) == newest[4:]
    assert (second.json()["has_more"], second.json()["next_cursor"]) == (False, None)
    bad = await w.client.get(PATH, params={"sort": "requested_date"}, headers=w.admin)
    assert bad.status_code == 422


async def test_include_total_counts_what_the_caller_sees(w: World, b: Board) -> None:
    response = await w.client.get(
        PATH, params={"limit": 1, "include_total": "true"}, headers=w.admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["total"] == len(b.ids)
    response = await w.client.get(
        PATH, params={"limit": 1, "include_total": "true"}, headers=w.anonymous
    )
    assert response.json()["total"] == len(PUBLIC)
    without = await w.client.get(PATH, params={"limit": 1}, headers=w.admin)
    assert without.json().get("total") is None


async def test_a_list_item_has_the_sources_title(w: World, b: Board) -> None:
    response = await w.client.get(PATH, params={"limit": 100}, headers=w.admin)
    titles = {i["id"]: i["source_innovation_title"] for i in response.json()["items"]}
    assert titles[b.ids["m_req"]] == "SAMBAT ONLINE"
    assert titles[b.ids["m_rej"]] == "SAYANG WARGA"


async def test_a_draft_replica_is_hidden_from_the_adopter_institutions_other_units(
    w: World,
) -> None:
    replica = await w.innovation(w.medan_unit, InnovationStatus.draft, title="SAMBAT MEDAN")
    created = await w.request(replica_innovation_id=str(replica.id))
    approved = await w.ok(created["id"], "approve", w.local_malang)
    # The adopter unit's operator and its local admin read the draft: they see the link.
    for headers in (w.operator_medan, w.local_medan, w.admin):
        body = (await w.get(created["id"], headers)).json()
        assert body["replica_innovation_id"] == str(replica.id)
    # Another unit's operator of the same institution cannot read the draft: no link.
    body = (await w.get(approved["id"], w.operator_medan2)).json()
    assert body["replica_innovation_id"] is None
    lineage = (await w.lineage(w.inov, w.operator_medan2)).json()
    assert [
        (n["replica_innovation_id"], n["replica_innovation_title"]) for n in lineage["nodes"]
    ] == [(None, None)]
