"""What a review of the replications found: a rejected request frees its replica; a draft
replica is shown only to callers who may read it in the catalogue; only public hubs
facilitate; similarity reads the title's words first."""

from __future__ import annotations

import httpx

from app.models.enums import HubStatus, InnovationStatus
from tests.conftest import HubFactory
from tests.domains import assert_problem
from tests.domains.replications.conftest import World


async def test_rejecting_a_request_frees_its_replica(w: World) -> None:
    replica = await w.innovation(w.medan_unit, InnovationStatus.draft, title="SAMBAT MEDAN")
    first = await w.request(replica_innovation_id=str(replica.id))
    rejected = await w.ok(first["id"], "reject", w.local_malang, reason="Belum siap dibagikan.")
    assert (rejected["status"], rejected["replica_innovation_id"]) == ("rejected", None)
    again = await w.request(replica_innovation_id=str(replica.id))
    assert again["replica_innovation_id"] == str(replica.id)


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


async def test_only_a_public_hub_facilitates(w: World, make_hub: HubFactory) -> None:
    for status in (HubStatus.candidate, HubStatus.committed):
        hub = await make_hub(w.jatim, status, name=f"JIPP Calon {status.value}")
        response = await w.create(facilitator="hub", facilitator_hub_id=str(hub.id))
        assert_problem(response, 422, "replication.hub_not_found", pointer="/facilitator_hub_id")
    inactive = await make_hub(w.sumut, HubStatus.inactive, name="JIPP Lama")
    created = await w.request(facilitator="hub", facilitator_hub_id=str(inactive.id))
    assert created["facilitator_hub_id"] == str(inactive.id)


async def test_similarity_reads_the_title_before_a_long_summary(
    client: httpx.AsyncClient, w: World
) -> None:
    # A summary of many distinct words sorting before the title's: the title still counts.
    summary = " ".join(f"aaa{i:03d}" for i in range(80))
    source = await w.innovation(
        w.malang_a, title="ZYXWAR", sections={"summary": summary}, category_codes=["pendidikan"]
    )
    twin = await w.innovation(w.sby_unit, title="ZYXWAR Surabaya", category_codes=["kesehatan"])
    response = await client.get(f"/v1/innovations/{source.id}/similar")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items[0]["id"] == str(twin.id)
    assert items[0]["similarity"]["text_score"] == 1.0


async def test_a_perfect_match_scores_exactly_one_and_every_score_is_rounded(
    client: httpx.AsyncClient, w: World
) -> None:
    # 0.6 * 1 + 0.3 * 1 + 0.1 * 1 is 0.9999999999999999 in floating point.
    source = await w.innovation(
        w.malang_a, title="QWERTAL", category_codes=["pendidikan"], sdgs=[4]
    )
    twin = await w.innovation(w.sby_unit, title="QWERTAL", category_codes=["pendidikan"], sdgs=[4])
    third = await w.innovation(
        w.sby_unit, title="Lain", category_codes=["pendidikan", "kesehatan", "sosial"], sdgs=[4, 5]
    )
    response = await client.get(f"/v1/innovations/{source.id}/similar")
    assert response.status_code == 200, response.text
    items = {i["id"]: i["similarity"] for i in response.json()["items"]}
    assert items[str(twin.id)]["score"] == 1.0
    assert (items[str(third.id)]["category_score"], items[str(third.id)]["sdg_score"]) == (
        0.3333,
        0.5,
    )
    for similarity in items.values():
        for part in ("score", "text_score", "category_score", "sdg_score"):
            assert round(similarity[part], 4) == similarity[part]
