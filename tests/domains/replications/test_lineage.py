"""GET /v1/innovations/{id}/lineage: the chain up to the original, every replication of the
innovation and of its replicas below it, in order, as far as the caller may see them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from app.models.enums import InnovationStatus
from app.models.innovations import Innovation
from tests.domains import assert_problem
from tests.domains.replications.conftest import World, days_ago, today


@dataclass
class Tree:
    """A (SAMBAT ONLINE, Malang's first unit) and its replications:

    - r1: A by Medan's first unit into B, requested 100 days ago, implemented;
    - r2: B by Surabaya into C, requested 50 days ago, approved;
    - r3: A by Malang's second unit into D, requested 200 days ago, approved (B's sibling);
    - r4: A by Surabaya, requested 10 days ago, not yet approved, no replica;
    - r5: C by Malang's second unit, requested 5 days ago, approved, no replica.
    """

    a: Innovation
    b: Innovation
    c: Innovation
    d: Innovation
    ids: dict[str, str]


@pytest.fixture
async def t(w: World) -> Tree:
    b = await w.innovation(w.medan_unit, title="SAMBAT MEDAN")
    c = await w.innovation(w.sby_unit, title="SAMBAT SURABAYA")
    d = await w.innovation(w.malang_b, title="SAMBAT DINKES")
    r1 = await w.at(
        "implemented", w.inov, requested_date=days_ago(100), replica_innovation_id=str(b.id)
    )
    r2 = await w.at(
        "approved",
        b,
        w.sby_unit,
        w.operator_sby,
        source_side=w.local_medan,
        requested_date=days_ago(50),
        replica_innovation_id=str(c.id),
    )
    r3 = await w.at(
        "approved",
        w.inov,
        w.malang_b,
        w.operator_malang_b,
        requested_date=days_ago(200),
        replica_innovation_id=str(d.id),
    )
    r4 = await w.request(w.inov, w.sby_unit, w.operator_sby, requested_date=days_ago(10))
    r5 = await w.at(
        "approved",
        c,
        w.malang_b,
        w.operator_malang_b,
        source_side=w.local_sby,
        requested_date=days_ago(5),
    )
    ids = {"r1": r1["id"], "r2": r2["id"], "r3": r3["id"], "r4": r4["id"], "r5": r5["id"]}
    return Tree(w.inov, b, c, d, ids)


def shape(body: dict[str, Any]) -> list[tuple[str, int]]:
    """The nodes as (replication_id, depth), in the order given."""
    return [(n["replication_id"], n["depth"]) for n in body["nodes"]]


async def lineage_of(
    w: World, innovation: Innovation, headers: dict[str, str] | None = None
) -> Any:
    response = await w.lineage(innovation, headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_middle_of_a_chain_sees_its_origin_and_its_descendants(w: World, t: Tree) -> None:
    body = await lineage_of(w, t.b)
    assert (body["innovation_id"], body["root_innovation_id"]) == (str(t.b.id), str(t.a.id))
    # Not r3 nor r4: replications of A other than the one that made B are not B's lineage.
    assert shape(body) == [(t.ids["r1"], -1), (t.ids["r2"], 1), (t.ids["r5"], 2)]
    assert body["truncated"] is False


async def test_a_node_describes_the_replication(w: World, t: Tree) -> None:
    body = await lineage_of(w, t.b)
    node = body["nodes"][0]
    assert node == {
        "replication_id": t.ids["r1"],
        "depth": -1,
        "source_innovation_id": str(t.a.id),
        "source_innovation_title": "SAMBAT ONLINE",
        "replica_innovation_id": str(t.b.id),
        "replica_innovation_title": "SAMBAT MEDAN",
        "adopter_institution_id": str(w.medan.id),
        "adopter_institution_name": "Pemerintah Kota Medan",
        "adopter_unit_id": str(w.medan_unit.id),
        "adopter_unit_name": "Sekretariat DPRD Kota Medan",
        "region_code": "12.71",
        "status": "implemented",
        "scope": "full",
        "requested_date": days_ago(100),
        "implemented_date": today(),
    }
    r5 = body["nodes"][2]
    assert (r5["replica_innovation_id"], r5["replica_innovation_title"]) == (None, None)
    assert (r5["source_innovation_id"], r5["implemented_date"]) == (str(t.c.id), None)


async def test_the_end_of_a_chain_sees_every_ancestor_from_the_root_down(w: World, t: Tree) -> None:
    body = await lineage_of(w, t.c)
    assert (body["innovation_id"], body["root_innovation_id"]) == (str(t.c.id), str(t.a.id))
    assert shape(body) == [(t.ids["r1"], -2), (t.ids["r2"], -1), (t.ids["r5"], 1)]


async def test_a_sibling_sees_only_its_own_branch(w: World, t: Tree) -> None:
    body = await lineage_of(w, t.d)
    assert body["root_innovation_id"] == str(t.a.id)
    assert shape(body) == [(t.ids["r3"], -1)]


async def test_the_root_sees_its_whole_tree_by_depth_then_requested_date(w: World, t: Tree) -> None:
    body = await lineage_of(w, t.a)
    assert (body["innovation_id"], body["root_innovation_id"]) == (str(t.a.id), str(t.a.id))
    assert shape(body) == [
        (t.ids["r3"], 1),  # 200 days ago
        (t.ids["r1"], 1),  # 100 days ago
        (t.ids["r4"], 1),  # 10 days ago
        (t.ids["r2"], 2),
        (t.ids["r5"], 3),
    ]


async def test_replications_of_one_day_are_ordered_by_id(w: World, t: Tree) -> None:
    one = await w.request(w.inov, w.medan_unit2, w.local_medan, requested_date=days_ago(10))
    body = await lineage_of(w, t.a)
    same_day = sorted([t.ids["r4"], one["id"]])
    depth_one = [n["replication_id"] for n in body["nodes"] if n["depth"] == 1]
    assert depth_one == [t.ids["r3"], t.ids["r1"], *same_day]


async def test_an_innovation_with_no_replication_is_its_own_root(w: World) -> None:
    lone = await w.innovation(w.sby_unit, title="SURABAYA SINGLE WINDOW")
    body = await lineage_of(w, lone, w.anonymous)
    assert body == {
        "innovation_id": str(lone.id),
        "root_innovation_id": str(lone.id),
        "nodes": [],
        "truncated": False,
    }


async def test_the_public_sees_approved_replications_only(w: World, t: Tree) -> None:
    for name in ("anonymous", "evaluator", "local_jatim"):
        body = await lineage_of(w, t.a, getattr(w, name))
        assert shape(body) == [
            (t.ids["r3"], 1),
            (t.ids["r1"], 1),
            (t.ids["r2"], 2),
            (t.ids["r5"], 3),
        ], name
    # The request is seen by its two institutions.
    for name in ("local_sby", "operator_sby", "local_malang"):
        body = await lineage_of(w, t.a, getattr(w, name))
        assert t.ids["r4"] in [n["replication_id"] for n in body["nodes"]], name


async def test_a_rejected_replication_is_not_in_the_public_lineage(w: World, t: Tree) -> None:
    await w.ok(t.ids["r4"], "reject", w.local_malang, reason="Belum siap.")
    public = await lineage_of(w, t.a, w.anonymous)
    assert t.ids["r4"] not in [n["replication_id"] for n in public["nodes"]]
    secretariat = await lineage_of(w, t.a)
    (node,) = [n for n in secretariat["nodes"] if n["replication_id"] == t.ids["r4"]]
    assert node["status"] == "rejected"


async def test_a_draft_innovations_lineage_is_404_to_the_public(w: World) -> None:
    draft = await w.innovation(w.medan_unit, InnovationStatus.draft)
    for name in ("anonymous", "evaluator", "local_sby"):
        response = await w.lineage(draft, getattr(w, name))
        assert_problem(response, 404, "innovation.not_found")
    # Its owners read it.
    for name in ("admin", "local_medan", "operator_medan"):
        response = await w.lineage(draft, getattr(w, name))
        assert response.status_code == 200, (name, response.text)
        assert response.json()["nodes"] == []


async def test_a_draft_replicas_lineage_is_read_by_its_owner(w: World) -> None:
    replica = await w.innovation(w.medan_unit, InnovationStatus.draft, title="SAMBAT DPRD")
    created = await w.at("approved", replica_innovation_id=str(replica.id))
    assert_problem(await w.lineage(replica, w.anonymous), 404, "innovation.not_found")
    body = await lineage_of(w, replica, w.local_medan)
    assert body["root_innovation_id"] == str(w.inov.id)
    assert shape(body) == [(created["id"], -1)]


async def test_an_unknown_innovations_lineage_is_404(w: World) -> None:
    response = await w.lineage(str(uuid.uuid4()))
    assert_problem(response, 404, "innovation.not_found")
