"""The rules of a request and of an update, row by row of docs/replications.md ("Rules when
requesting and updating"): the source, the adopter unit and who may name it, one live
replication per source and unit, the facilitator, the requested date, and the replica (the
adopter's own, not taken, no cycle); and what they mean for deleting an innovation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from app.models.enums import HubStatus, InnovationStatus
from app.models.innovations import Innovation
from tests.conftest import HubFactory
from tests.domains import assert_problem
from tests.domains.replications.conftest import MEASURES, World, days_ago
from tests.fixtures.etag import if_match


async def refused(
    w: World,
    response: httpx.Response,
    status: int,
    code: str,
    pointer: str | None = None,
    source: Innovation | None = None,
    before: int = 0,
) -> dict[str, Any]:
    """The request was refused with this status and code, and nothing was written."""
    problem = assert_problem(response, status, code, pointer=pointer)
    assert await w.count(source) == before
    assert await w.events(response) == []
    return problem


async def chain(w: World) -> tuple[Innovation, Innovation, dict[str, Any], dict[str, Any]]:
    """A (w.inov, Malang) replicated by Medan into B, B replicated by Surabaya into C, both
    approved: returns B, C and the two replications."""
    b = await w.innovation(w.medan_unit, title="SAMBAT MEDAN")
    c = await w.innovation(w.sby_unit, title="SAMBAT SURABAYA")
    first = await w.request(w.inov, w.medan_unit, w.operator_medan, replica_innovation_id=str(b.id))
    await w.ok(first["id"], "approve", w.local_malang)
    second = await w.request(b, w.sby_unit, w.operator_sby, replica_innovation_id=str(c.id))
    await w.ok(second["id"], "approve", w.local_medan)
    return b, c, first, second


# --- the source -----------------------------------------------------------------------------


async def test_an_unknown_source_is_422(w: World) -> None:
    response = await w.create(source_innovation_id=str(uuid.uuid4()))
    await refused(w, response, 422, "replication.source_not_found", "/source_innovation_id")


@pytest.mark.parametrize("status", [InnovationStatus.draft, InnovationStatus.archived])
async def test_a_source_the_caller_cannot_read_is_not_found(
    w: World, status: InnovationStatus
) -> None:
    hidden = await w.innovation(w.sby_unit, status)
    response = await w.create(hidden)
    await refused(w, response, 422, "replication.source_not_found", "/source_innovation_id", hidden)


@pytest.mark.parametrize("status", [InnovationStatus.draft, InnovationStatus.archived])
async def test_a_source_that_is_not_published_is_422(w: World, status: InnovationStatus) -> None:
    # Medan's own record, which its local admin reads.
    own = await w.innovation(w.medan_unit2, status)
    response = await w.create(own, w.medan_unit, w.local_medan)
    await refused(
        w, response, 422, "replication.source_not_published", "/source_innovation_id", own
    )


# --- the adopter unit -----------------------------------------------------------------------


async def test_an_unknown_adopter_unit_is_422(w: World) -> None:
    response = await w.create(headers=w.local_medan, adopter_unit_id=str(uuid.uuid4()))
    await refused(w, response, 422, "replication.unit_not_found", "/adopter_unit_id")


@pytest.mark.parametrize(
    ("caller", "unit"),
    [
        ("operator_medan", "medan_unit2"),  # another unit of its institution
        ("operator_medan", "sby_unit"),  # another institution's unit
        ("local_medan", "sby_unit"),
        ("local_sby", "medan_unit"),
    ],
)
async def test_an_adopter_unit_not_the_callers_is_403(w: World, caller: str, unit: str) -> None:
    response = await w.create(w.inov, getattr(w, unit), getattr(w, caller))
    await refused(w, response, 403, "replication.out_of_scope")


@pytest.mark.parametrize("caller", ["admin", "hub_admin_jatim", "evaluator", "regional_medan"])
async def test_roles_on_no_side_cannot_request(w: World, caller: str) -> None:
    """The secretariat, hub admins, evaluators and regional systems never request (the policy
    admits unit operators and local admins only)."""
    response = await w.create(w.inov, w.medan_unit, getattr(w, caller))
    await refused(w, response, 403, "auth.role_forbidden")


async def test_a_local_admin_of_another_institution_cannot_request(w: World) -> None:
    response = await w.create(w.inov, w.medan_unit, w.local_jatim)
    await refused(w, response, 403, "replication.out_of_scope")


@pytest.mark.parametrize("caller", ["local_malang", "operator_malang_a"])
async def test_the_source_unit_cannot_replicate_its_own_innovation(w: World, caller: str) -> None:
    response = await w.create(w.inov, w.malang_a, getattr(w, caller))
    await refused(w, response, 422, "replication.same_unit", "/adopter_unit_id")


# --- one live replication per source and unit ------------------------------------------------


@pytest.mark.parametrize("status", ["requested", "approved", "implemented", "evaluated"])
async def test_a_unit_holding_a_replication_of_the_source_cannot_request_another(
    w: World, status: str
) -> None:
    first = await w.at(status)
    response = await w.create()
    problem = await refused(w, response, 409, "replication.already_active", before=1)
    assert problem["replication_id"] == first["id"]


@pytest.mark.parametrize("status", ["rejected", "discontinued"])
async def test_a_rejected_or_discontinued_replication_frees_the_place(
    w: World, status: str
) -> None:
    first = await w.at(status)
    second = await w.request()
    assert second["id"] != first["id"]
    assert second["status"] == "requested"
    assert await w.count() == 2


async def test_a_replication_discontinued_after_approval_frees_the_place(w: World) -> None:
    first = await w.at("approved")
    await w.ok(first["id"], "discontinue", w.operator_medan, reason="Ganti prioritas.")
    assert (await w.create()).status_code == 201


async def test_the_place_is_per_unit_and_per_source(w: World) -> None:
    await w.request()
    other_unit = await w.request(w.inov, w.medan_unit2, w.local_medan)
    assert other_unit["adopter_unit_id"] == str(w.medan_unit2.id)
    other_source = await w.request(w.inov_sby, w.medan_unit, w.operator_medan)
    assert other_source["source_innovation_id"] == str(w.inov_sby.id)


# --- the facilitator ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"facilitator": "hub"},
        {"facilitator": "hub", "facilitator_hub_id": None},
        {"facilitator": None, "facilitator_hub_id": "hub_jatim"},
        {"facilitator_hub_id": "hub_jatim"},
        {"facilitator": "secretariat", "facilitator_hub_id": "hub_jatim"},
    ],
)
async def test_a_hub_facilitator_and_its_hub_go_together(w: World, body: dict[str, Any]) -> None:
    if body.get("facilitator_hub_id") == "hub_jatim":
        body = {**body, "facilitator_hub_id": str(w.hub_jatim.id)}
    response = await w.create(**body)
    await refused(w, response, 422, "replication.facilitator_invalid", "/facilitator_hub_id")


async def test_an_unknown_hub_is_422(w: World) -> None:
    response = await w.create(facilitator="hub", facilitator_hub_id=str(uuid.uuid4()))
    await refused(w, response, 422, "replication.hub_not_found", "/facilitator_hub_id")


async def test_patch_checks_the_facilitator_too(w: World) -> None:
    created = await w.request()
    response = await w.patch(created["id"], facilitator="hub")
    assert_problem(response, 422, "replication.facilitator_invalid", pointer="/facilitator_hub_id")
    response = await w.patch(created["id"], facilitator="hub", facilitator_hub_id=str(uuid.uuid4()))
    assert_problem(response, 422, "replication.hub_not_found", pointer="/facilitator_hub_id")
    row = await w.stored(created["id"])
    assert (row["facilitator"], row["facilitator_hub_id"], row["version"]) == (None, None, 1)


# --- dates and lists in the body ------------------------------------------------------------


async def test_a_requested_date_in_the_future_is_422(w: World) -> None:
    response = await w.create(requested_date=days_ago(-1))
    await refused(w, response, 422, "replication.date_in_future", "/requested_date")


async def test_at_most_twenty_documents(w: World) -> None:
    documents = [
        {"kind": "other", "url": f"https://pemkomedan.go.id/dok/{i}.pdf", "title": f"Dok {i}"}
        for i in range(21)
    ]
    response = await w.create(documents=documents)
    assert response.status_code == 422, response.text
    assert await w.count() == 0
    body = await w.request(documents=documents[:20])
    assert len(body["documents"]) == 20


async def test_at_most_twenty_benefit_measures(w: World) -> None:
    implemented = await w.at("implemented")
    measures = [{**MEASURES[0], "indicator": f"Indikator {i}"} for i in range(21)]
    response = await w.step(
        implemented["id"], "evaluate", w.operator_medan, benefit_measures=measures
    )
    assert response.status_code == 422, response.text
    assert (await w.stored(implemented["id"]))["status"] == "implemented"


# --- the replica ----------------------------------------------------------------------------


async def test_a_replica_of_the_adopter_unit_is_linked(w: World) -> None:
    replica = await w.innovation(w.medan_unit, InnovationStatus.draft, title="SAMBAT DPRD")
    body = await w.request(replica_innovation_id=str(replica.id))
    assert body["replica_innovation_id"] == str(replica.id)
    assert (await w.stored(body["id"]))["replica_innovation_id"] == replica.id


async def test_a_replica_is_linked_later_by_patch(w: World) -> None:
    created = await w.at("implemented")
    replica = await w.innovation(w.medan_unit, title="SAMBAT DPRD")
    response = await w.patch(created["id"], replica_innovation_id=str(replica.id))
    assert response.status_code == 200, response.text
    assert response.json()["replica_innovation_id"] == str(replica.id)
    event = await w.event(response, "update")
    assert "replica_innovation_id" in event.changes


async def test_an_unknown_replica_is_422(w: World) -> None:
    response = await w.create(replica_innovation_id=str(uuid.uuid4()))
    await refused(w, response, 422, "replication.replica_not_found", "/replica_innovation_id")


@pytest.mark.parametrize("owner", ["medan_unit2", "sby_unit"])
async def test_a_replica_not_of_the_adopter_unit_is_422(w: World, owner: str) -> None:
    replica = await w.innovation(getattr(w, owner))
    response = await w.create(headers=w.local_medan, replica_innovation_id=str(replica.id))
    await refused(w, response, 422, "replication.replica_not_adopters", "/replica_innovation_id")


async def test_patch_checks_the_replica_too(w: World) -> None:
    created = await w.request()
    response = await w.patch(created["id"], replica_innovation_id=str(uuid.uuid4()))
    assert_problem(response, 422, "replication.replica_not_found", pointer="/replica_innovation_id")
    elsewhere = await w.innovation(w.medan_unit2)
    response = await w.patch(created["id"], w.local_medan, replica_innovation_id=str(elsewhere.id))
    assert_problem(
        response, 422, "replication.replica_not_adopters", pointer="/replica_innovation_id"
    )
    row = await w.stored(created["id"])
    assert (row["replica_innovation_id"], row["version"]) == (None, 1)
    assert await w.events(response) == []


async def test_a_replica_taken_by_another_replication_is_409(w: World) -> None:
    replica = await w.innovation(w.medan_unit, title="SAMBAT DPRD")
    first = await w.request(replica_innovation_id=str(replica.id))
    response = await w.create(w.inov_sby, replica_innovation_id=str(replica.id))
    await refused(
        w, response, 409, "replication.replica_taken", "/replica_innovation_id", w.inov_sby
    )
    assert (await w.stored(first["id"]))["replica_innovation_id"] == replica.id


async def test_patch_may_not_name_a_replica_taken_by_another_replication(w: World) -> None:
    replica = await w.innovation(w.medan_unit, title="SAMBAT DPRD")
    first = await w.request(replica_innovation_id=str(replica.id))
    other = await w.request(w.inov_sby)
    response = await w.patch(other["id"], replica_innovation_id=str(replica.id))
    assert_problem(response, 409, "replication.replica_taken", pointer="/replica_innovation_id")
    row = await w.stored(other["id"])
    assert (row["replica_innovation_id"], row["version"]) == (None, 1)
    assert await w.events(response) == []
    assert (await w.stored(first["id"]))["replica_innovation_id"] == replica.id


async def test_an_ancestor_of_the_source_cannot_be_the_replica(w: World) -> None:
    """A -> B -> C: a replication of C by A's unit whose replica is A would close a cycle."""
    _, c, _, _ = await chain(w)
    response = await w.create(
        c, w.malang_a, w.operator_malang_a, replica_innovation_id=str(w.inov.id)
    )
    await refused(w, response, 422, "replication.cycle", "/replica_innovation_id", c)
    # Nor by patch.
    third = await w.request(c, w.malang_a, w.operator_malang_a)
    response = await w.patch(third["id"], w.operator_malang_a, replica_innovation_id=str(w.inov.id))
    assert_problem(response, 422, "replication.cycle", pointer="/replica_innovation_id")
    assert (await w.stored(third["id"]))["replica_innovation_id"] is None


async def test_the_source_cannot_be_its_own_replica(w: World) -> None:
    """Inside Malang, SAMBAT ONLINE replicated from the first unit into the second; the record
    then moves to the second unit (the adopter's), and naming it as the replica is a cycle."""
    created = await w.request(w.inov, w.malang_b, w.local_malang)
    await w.set_innovation(w.inov, unit_id=w.malang_b.id)
    response = await w.patch(created["id"], w.local_malang, replica_innovation_id=str(w.inov.id))
    assert_problem(response, 422, "replication.cycle", pointer="/replica_innovation_id")
    row = await w.stored(created["id"])
    assert (row["replica_innovation_id"], row["version"]) == (None, 1)
    assert await w.events(response) == []


async def test_a_descendant_may_be_replicated_again_elsewhere(w: World) -> None:
    """Not a cycle: C (a replica of a replica of A) replicated into a fresh record of Malang's
    second unit."""
    _, c, _, _ = await chain(w)
    fresh = await w.innovation(w.malang_b, InnovationStatus.draft, title="SAMBAT DINKES")
    body = await w.request(c, w.malang_b, w.operator_malang_b, replica_innovation_id=str(fresh.id))
    assert body["replica_innovation_id"] == str(fresh.id)


# --- deleting innovations -------------------------------------------------------------------


async def test_deleting_a_replica_innovation_unlinks_it(w: World) -> None:
    replica = await w.innovation(w.medan_unit, InnovationStatus.draft, title="SAMBAT DPRD")
    created = await w.request(replica_innovation_id=str(replica.id))
    response = await w.client.delete(
        f"/v1/innovations/{replica.id}",
        headers=await if_match(w.client, f"/v1/innovations/{replica.id}", w.local_medan),
    )
    assert response.status_code == 204, response.text
    row = await w.stored(created["id"])
    assert (row["replica_innovation_id"], row["status"]) == (None, "requested")
    got = await w.get(created["id"])
    assert got.json()["replica_innovation_id"] is None


async def test_an_innovation_named_as_a_source_cannot_be_deleted(w: World) -> None:
    """Only drafts are deleted and a source was published when requested: the source is put
    back to a draft in the database (no API step does that) to reach the rule."""
    await w.request()
    await w.set_innovation(w.inov, status=InnovationStatus.draft, published_at=None)
    response = await w.client.delete(
        f"/v1/innovations/{w.inov.id}",
        headers=await if_match(w.client, f"/v1/innovations/{w.inov.id}", w.local_malang),
    )
    assert_problem(response, 409, "innovation.replicated")
    assert await w.count() == 1
    found = await w.session.get(Innovation, w.inov.id)
    assert found is not None


async def test_only_a_public_hub_facilitates(w: World, make_hub: HubFactory) -> None:
    for status in (HubStatus.candidate, HubStatus.committed):
        hub = await make_hub(w.jatim, status, name=f"JIPP Calon {status.value}")
        response = await w.create(facilitator="hub", facilitator_hub_id=str(hub.id))
        assert_problem(response, 422, "replication.hub_not_found", pointer="/facilitator_hub_id")
    inactive = await make_hub(w.sumut, HubStatus.inactive, name="JIPP Lama")
    created = await w.request(facilitator="hub", facilitator_hub_id=str(inactive.id))
    assert created["facilitator_hub_id"] == str(inactive.id)
