"""A replication's life through the API: the request (create, patch with If-Match, delete),
every step of the machine allowed and refused, who may take each step, each step's date, and
the audit trail of every write."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from app.models.enums import InnovationStatus
from tests.domains import assert_problem
from tests.domains.replications.conftest import (
    ACTIONS,
    ALLOWED,
    DATE_FIELDS,
    MEASURES,
    PATH,
    STEP_BODIES,
    TARGET,
    World,
    days_ago,
    today,
)


async def unchanged(w: World, replication: dict[str, Any], response: httpx.Response) -> None:
    """A refused request left the replication as it was and recorded nothing."""
    row = await w.stored(replication["id"])
    assert (row["status"], row["version"]) == (replication["status"], replication["version"])
    assert await w.events(response) == []


def side(w: World, action: str) -> dict[str, str]:
    """A caller on the side that takes `action` on a Malang -> Medan replication."""
    if action in ("approve", "reject"):
        return w.local_malang
    return w.operator_medan


# Roles on neither side: the policy admits unit operators and local admins only.
NO_SIDE = frozenset({"admin", "regional_medan", "hub_admin_jatim", "hub_admin_sumut", "evaluator"})


def refusal_code(caller: str, status: int) -> str:
    if caller in NO_SIDE:
        return "auth.role_forbidden"
    return {
        403: "replication.out_of_scope",
        404: "replication.not_found",
        401: "auth.required",
    }[status]


# --- the request ----------------------------------------------------------------------------


async def test_an_operator_requests_a_replication_for_its_unit(w: World) -> None:
    response = await w.create()
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"].endswith(f"{PATH}/{body['id']}")
    expected = {
        "source_innovation_id": str(w.inov.id),
        "source_innovation_title": "SAMBAT ONLINE",
        "source_institution_id": str(w.malang.id),
        "source_unit_id": str(w.malang_a.id),
        "adopter_institution_id": str(w.medan.id),
        "adopter_unit_id": str(w.medan_unit.id),
        "facilitator": None,
        "facilitator_hub_id": None,
        "scope": "full",
        "adaptation": None,
        "status": "requested",
        "rejection_reason": None,
        "discontinuation_reason": None,
        "documents": [],
        "benefit_measures": [],
        "replica_innovation_id": None,
        "version": 1,
    }
    assert {k: body[k] for k in expected} == expected
    assert body["requested_date"] == today()
    assert all(body[f] is None for f in DATE_FIELDS if f != "requested_date"), body
    row = await w.stored(body["id"])
    assert (row["status"], row["adopter_institution_id"], row["source_unit_id"]) == (
        "requested",
        w.medan.id,
        w.malang_a.id,
    )
    event = await w.event(response, "create")
    assert event.entity_id == body["id"]
    got = await w.get(body["id"], w.operator_medan)
    assert got.status_code == 200, got.text
    assert got.json() == body
    assert got.headers["ETag"] == '"1"'


async def test_a_request_keeps_its_plan_facilitator_documents_and_date(w: World) -> None:
    documents = [
        {"kind": "approval", "url": "https://malangkota.go.id/surat/1.pdf", "title": "Surat"},
        {"kind": "other", "url": "https://pemkomedan.go.id/kajian.pdf", "title": "Kajian"},
    ]
    body = await w.request(
        scope="partial",
        adaptation="Hanya kanal WhatsApp, tanpa aplikasi seluler.",
        facilitator="hub",
        facilitator_hub_id=str(w.hub_sumut.id),
        documents=documents,
        requested_date=days_ago(30),
    )
    assert (body["scope"], body["adaptation"]) == (
        "partial",
        "Hanya kanal WhatsApp, tanpa aplikasi seluler.",
    )
    assert (body["facilitator"], body["facilitator_hub_id"]) == ("hub", str(w.hub_sumut.id))
    assert [(d["kind"], d["url"], d["title"]) for d in body["documents"]] == [
        (d["kind"], d["url"], d["title"]) for d in documents
    ]
    assert body["requested_date"] == days_ago(30)
    row = await w.stored(body["id"])
    assert (row["scope"], str(row["requested_date"])) == ("partial", days_ago(30))


async def test_the_secretariat_may_be_named_the_facilitator(w: World) -> None:
    body = await w.request(facilitator="secretariat")
    assert (body["facilitator"], body["facilitator_hub_id"]) == ("secretariat", None)


async def test_a_local_admin_requests_for_any_unit_of_its_institution(w: World) -> None:
    body = await w.request(w.inov, w.medan_unit2, w.local_medan)
    assert (body["adopter_unit_id"], body["adopter_institution_id"]) == (
        str(w.medan_unit2.id),
        str(w.medan.id),
    )


async def test_a_replication_between_two_units_of_one_institution_is_allowed(w: World) -> None:
    """Pemkot Malang's local admin replicates its first unit's innovation in its second unit,
    and, on both sides at once, takes every step itself."""
    response = await w.create(w.inov, w.malang_b, w.local_malang)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["source_institution_id"] == body["adopter_institution_id"] == str(w.malang.id)
    assert (body["source_unit_id"], body["adopter_unit_id"]) == (
        str(w.malang_a.id),
        str(w.malang_b.id),
    )
    for status, action in [
        ("approved", "approve"),
        ("agreement_signed", "sign_agreement"),
        ("implementing", "start_implementation"),
        ("implemented", "complete_implementation"),
        ("evaluated", "evaluate"),
    ]:
        done = await w.ok(body["id"], action, w.local_malang, **STEP_BODIES[action])
        assert done["status"] == status


async def test_the_adopter_units_operator_requests_inside_its_institution_too(w: World) -> None:
    body = await w.request(w.inov, w.malang_b, w.operator_malang_b)
    assert body["adopter_unit_id"] == str(w.malang_b.id)
    # The source unit's operator approves it; the adopter unit's operator may not.
    response = await w.step(body["id"], "approve", w.operator_malang_b)
    assert_problem(response, 403, "replication.out_of_scope")
    approved = await w.ok(body["id"], "approve", w.operator_malang_a)
    assert approved["status"] == "approved"


async def test_an_anonymous_caller_cannot_request(w: World) -> None:
    response = await w.create(headers=w.anonymous)
    assert_problem(response, 401, "auth.required")
    assert await w.count() == 0


# --- the update -----------------------------------------------------------------------------


async def test_patch_with_the_etag_changes_the_plan(w: World) -> None:
    created = await w.request()
    tag = await w.etag(created["id"])
    assert tag == '"1"'
    documents = [{"kind": "agreement", "url": "https://pemkomedan.go.id/pks.pdf", "title": "PKS"}]
    response = await w.client.patch(
        f"{PATH}/{created['id']}",
        json={
            "scope": "partial",
            "adaptation": "Disesuaikan dengan kanal aduan DPRD.",
            "facilitator": "hub",
            "facilitator_hub_id": str(w.hub_sumut.id),
            "documents": documents,
        },
        headers={**w.operator_medan, "If-Match": tag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert response.headers["ETag"] == '"2"'
    assert (body["version"], body["scope"], body["adaptation"]) == (
        2,
        "partial",
        "Disesuaikan dengan kanal aduan DPRD.",
    )
    assert (body["facilitator"], body["facilitator_hub_id"]) == ("hub", str(w.hub_sumut.id))
    assert [d["url"] for d in body["documents"]] == ["https://pemkomedan.go.id/pks.pdf"]
    assert body["status"] == "requested"
    row = await w.stored(created["id"])
    assert (row["scope"], row["facilitator_hub_id"], row["version"]) == (
        "partial",
        w.hub_sumut.id,
        2,
    )
    event = await w.event(response, "update")
    assert event.entity_id == created["id"]
    assert event.changes["scope"] == {"before": "full", "after": "partial"}


async def test_patch_with_a_stale_etag_is_412_and_changes_nothing(w: World) -> None:
    created = await w.request()
    response = await w.client.patch(
        f"{PATH}/{created['id']}",
        json={"scope": "partial"},
        headers={**w.operator_medan, "If-Match": '"7"'},
    )
    problem = assert_problem(response, 412, "replication.version_mismatch")
    assert problem["current_version"] == 1
    row = await w.stored(created["id"])
    assert (row["scope"], row["version"]) == ("full", 1)
    assert await w.events(response) == []


async def test_the_adopters_local_admin_may_patch(w: World) -> None:
    created = await w.request()
    response = await w.patch(created["id"], w.local_medan, adaptation="Rencana baru.")
    assert response.status_code == 200, response.text
    assert response.json()["adaptation"] == "Rencana baru."


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("local_malang", 403),  # the source side
        ("operator_malang_a", 403),
        ("operator_medan2", 403),  # the adopter institution's other unit: reads, never writes
        ("regional_medan", 403),
        ("admin", 403),
        ("local_sby", 404),
        ("hub_admin_jatim", 403),
        ("evaluator", 403),
        ("anonymous", 401),
    ],
)
async def test_only_the_adopter_side_patches(w: World, caller: str, expected: int) -> None:
    created = await w.request()
    response = await w.patch(created["id"], getattr(w, caller), scope="partial")
    code = refusal_code(caller, expected)
    assert_problem(response, expected, code)
    await unchanged(w, created, response)


@pytest.mark.parametrize("status", ["approved", "agreement_signed", "implemented", "evaluated"])
async def test_a_live_replication_is_still_patched(w: World, status: str) -> None:
    replication = await w.at(status)
    response = await w.patch(replication["id"], adaptation="Catatan pelaksanaan.")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["adaptation"]) == (status, "Catatan pelaksanaan.")
    assert body["version"] == replication["version"] + 1


@pytest.mark.parametrize("status", ["rejected", "discontinued"])
async def test_a_final_replication_is_not_patched(w: World, status: str) -> None:
    replication = await w.at(status)
    response = await w.patch(replication["id"], adaptation="Terlambat.")
    assert_problem(response, 409, "replication.final")
    await unchanged(w, replication, response)


# --- the delete -----------------------------------------------------------------------------


async def test_a_request_is_deleted(w: World) -> None:
    created = await w.request()
    response = await w.client.delete(
        f"{PATH}/{created['id']}", headers={**w.operator_medan, "If-Match": '"1"'}
    )
    assert response.status_code == 204, response.text
    assert await w.row(created["id"]) is None
    assert_problem(await w.get(created["id"]), 404, "replication.not_found")
    event = await w.event(response, "delete")
    assert event.entity_id == created["id"]
    # The unit's place for this source is free again.
    assert (await w.create()).status_code == 201


async def test_the_adopters_local_admin_may_delete(w: World) -> None:
    created = await w.request()
    response = await w.client.delete(
        f"{PATH}/{created['id']}", headers={**w.local_medan, "If-Match": '"1"'}
    )
    assert response.status_code == 204, response.text
    assert await w.row(created["id"]) is None


async def test_deleting_with_a_stale_etag_is_412(w: World) -> None:
    created = await w.request()
    response = await w.client.delete(
        f"{PATH}/{created['id']}", headers={**w.operator_medan, "If-Match": '"2"'}
    )
    assert_problem(response, 412, "replication.version_mismatch")
    await unchanged(w, created, response)


@pytest.mark.parametrize("status", ["approved", "rejected", "discontinued", "implemented"])
async def test_only_a_request_is_deleted(w: World, status: str) -> None:
    replication = await w.at(status)
    tag = f'"{replication["version"]}"'
    response = await w.client.delete(
        f"{PATH}/{replication['id']}", headers={**w.operator_medan, "If-Match": tag}
    )
    assert_problem(response, 409, "replication.not_requested")
    await unchanged(w, replication, response)


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("local_malang", 403),
        ("operator_medan2", 403),
        ("admin", 403),
        ("local_sby", 404),
        ("anonymous", 401),
    ],
)
async def test_only_the_adopter_side_deletes(w: World, caller: str, expected: int) -> None:
    created = await w.request()
    response = await w.client.delete(
        f"{PATH}/{created['id']}", headers={**getattr(w, caller), "If-Match": '"1"'}
    )
    code = refusal_code(caller, expected)
    assert_problem(response, expected, code)
    await unchanged(w, created, response)


# --- the steps ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["local_malang", "operator_malang_a"])
async def test_the_source_side_approves(w: World, who: str) -> None:
    created = await w.request()
    response = await w.step(created["id"], "approve", getattr(w, who))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["approved_date"], body["version"]) == ("approved", today(), 2)
    assert response.headers["ETag"] == '"2"'
    row = await w.stored(created["id"])
    assert (row["status"], str(row["approved_date"])) == ("approved", today())
    event = await w.event(response, "approve")
    assert event.entity_id == created["id"]
    assert event.changes["status"] == {"before": "requested", "after": "approved"}


async def test_reject_keeps_the_reason(w: World) -> None:
    created = await w.request()
    response = await w.step(
        created["id"], "reject", w.local_malang, reason="Belum siap berbagi kode sumber."
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["rejection_reason"], body["rejected_date"]) == (
        "rejected",
        "Belum siap berbagi kode sumber.",
        today(),
    )
    assert body["approved_date"] is None
    row = await w.stored(created["id"])
    assert (row["status"], row["rejection_reason"]) == (
        "rejected",
        "Belum siap berbagi kode sumber.",
    )
    event = await w.event(response, "reject")
    assert event.changes["status"] == {"before": "requested", "after": "rejected"}
    assert "Belum siap berbagi kode sumber." in str(event.changes)


@pytest.mark.parametrize("action", ["reject", "discontinue"])
@pytest.mark.parametrize("body", [{}, {"reason": None}])
async def test_reject_and_discontinue_need_a_reason(
    w: World, action: str, body: dict[str, Any]
) -> None:
    created = await w.request()
    response = await w.step(created["id"], action, w.local_malang, **body)
    assert_problem(response, 422, "replication.reason_required", pointer="/reason")
    await unchanged(w, created, response)


@pytest.mark.parametrize(
    "who", ["local_malang", "operator_malang_a", "operator_medan", "local_medan"]
)
async def test_either_side_signs_the_agreement(w: World, who: str) -> None:
    approved = await w.at("approved")
    response = await w.step(approved["id"], "sign_agreement", getattr(w, who))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["agreement_date"]) == ("agreement_signed", today())
    event = await w.event(response, "sign_agreement")
    assert event.changes["status"] == {"before": "approved", "after": "agreement_signed"}


@pytest.mark.parametrize("who", ["operator_medan", "local_medan"])
async def test_the_adopter_side_implements(w: World, who: str) -> None:
    signed = await w.at("agreement_signed")
    headers = getattr(w, who)
    response = await w.step(signed["id"], "start_implementation", headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["implementation_started_date"]) == ("implementing", today())
    event = await w.event(response, "start_implementation")
    assert event.changes["status"] == {"before": "agreement_signed", "after": "implementing"}
    response = await w.step(signed["id"], "complete_implementation", headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["implemented_date"]) == ("implemented", today())
    event = await w.event(response, "complete_implementation")
    assert event.changes["status"] == {"before": "implementing", "after": "implemented"}
    row = await w.stored(signed["id"])
    assert (row["status"], str(row["implemented_date"])) == ("implemented", today())


async def test_evaluate_keeps_the_benefit_measures(w: World) -> None:
    implemented = await w.at("implemented")
    response = await w.step(
        implemented["id"], "evaluate", w.operator_medan, benefit_measures=MEASURES
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["evaluated_date"]) == ("evaluated", today())
    (measure,) = body["benefit_measures"]
    assert (measure["indicator"], measure["unit"], measure["note"]) == (
        "Rata-rata waktu penanganan aduan",
        "jam",
        "Aduan warga dijawab di hari yang sama.",
    )
    assert (float(measure["before"]), float(measure["after"])) == (72.0, 6.0)
    row = await w.stored(implemented["id"])
    assert row["status"] == "evaluated"
    assert [m["indicator"] for m in row["benefit_measures"]] == ["Rata-rata waktu penanganan aduan"]
    got = (await w.get(implemented["id"], w.local_malang)).json()
    assert got["benefit_measures"] == body["benefit_measures"]
    event = await w.event(response, "evaluate")
    assert event.changes["status"] == {"before": "implemented", "after": "evaluated"}


@pytest.mark.parametrize("body", [{}, {"benefit_measures": None}, {"benefit_measures": []}])
async def test_evaluate_needs_benefit_measures(w: World, body: dict[str, Any]) -> None:
    implemented = await w.at("implemented")
    response = await w.step(implemented["id"], "evaluate", w.operator_medan, **body)
    assert_problem(response, 422, "replication.benefits_required", pointer="/benefit_measures")
    await unchanged(w, implemented, response)


@pytest.mark.parametrize(
    ("status", "who"),
    [
        ("requested", "local_malang"),
        ("requested", "operator_medan"),
        ("approved", "operator_malang_a"),
        ("agreement_signed", "local_medan"),
        ("implementing", "local_malang"),
        ("implemented", "operator_medan"),
        ("evaluated", "local_malang"),
    ],
)
async def test_either_side_discontinues_every_live_status(w: World, status: str, who: str) -> None:
    replication = await w.at(status)
    response = await w.step(
        replication["id"], "discontinue", getattr(w, who), reason="Anggaran dialihkan."
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["discontinuation_reason"], body["discontinued_date"]) == (
        "discontinued",
        "Anggaran dialihkan.",
        today(),
    )
    # The dates of the steps reached stay: one implemented before stays counted.
    for field in DATE_FIELDS:
        if field != "discontinued_date":
            assert body[field] == replication[field], field
    row = await w.stored(replication["id"])
    assert (row["status"], row["discontinuation_reason"]) == ("discontinued", "Anggaran dialihkan.")
    event = await w.event(response, "discontinue")
    assert event.changes["status"] == {"before": status, "after": "discontinued"}
    assert "Anggaran dialihkan." in str(event.changes)


async def test_a_discontinued_replication_keeps_its_implemented_date(w: World) -> None:
    replication = await w.at("implemented")
    body = await w.ok(replication["id"], "discontinue", w.operator_medan, reason="Berhenti.")
    assert (body["status"], body["implemented_date"]) == ("discontinued", today())
    row = await w.stored(replication["id"])
    assert str(row["implemented_date"]) == today()


@pytest.mark.parametrize("status", list(ALLOWED))
async def test_a_step_the_status_does_not_allow_is_409(w: World, status: str) -> None:
    replication = await w.at(status)
    for action in (a for a in ACTIONS if a not in ALLOWED[status]):
        response = await w.step(replication["id"], action, side(w, action), **STEP_BODIES[action])
        problem = assert_problem(response, 409, "replication.invalid_transition")
        assert problem["current_status"] == status, action
        assert set(problem["allowed_actions"]) == ALLOWED[status], action
        await unchanged(w, replication, response)


async def test_approve_needs_the_source_still_published(w: World) -> None:
    created = await w.request()
    await w.set_innovation(w.inov, status=InnovationStatus.archived)
    response = await w.step(created["id"], "approve", w.local_malang)
    assert_problem(response, 409, "replication.source_not_published")
    await unchanged(w, created, response)


async def test_a_step_with_a_stale_if_match_is_412(w: World) -> None:
    created = await w.request()
    response = await w.client.post(
        f"{PATH}/{created['id']}/transitions",
        json={"action": "approve"},
        headers={**w.local_malang, "If-Match": '"5"'},
    )
    problem = assert_problem(response, 412, "replication.version_mismatch")
    assert problem["current_version"] == 1
    await unchanged(w, created, response)


async def test_an_unknown_action_is_422(w: World) -> None:
    created = await w.request()
    response = await w.client.post(
        f"{PATH}/{created['id']}/transitions", json={"action": "publish"}, headers=w.local_malang
    )
    assert_problem(response, 422, "validation_failed")
    await unchanged(w, created, response)


async def test_a_step_on_an_unknown_replication_is_404(w: World) -> None:
    response = await w.client.post(
        f"{PATH}/{uuid.uuid4()}/transitions", json={"action": "approve"}, headers=w.local_malang
    )
    assert_problem(response, 404, "replication.not_found")


# --- who ------------------------------------------------------------------------------------

# (action, the status it starts from) -> people refused: 403 for those who see the replication
# but are not on the side that takes the step, 404 for those who may not see it, 401 for the
# anonymous. A request is seen by its two institutions only (and the secretariat); from
# `approved` on, by everyone.
REFUSED: dict[tuple[str, str], dict[str, int]] = {
    ("approve", "requested"): {
        "operator_medan": 403,
        "local_medan": 403,
        "operator_medan2": 403,
        "operator_malang_b": 403,  # the source institution's other unit
        "local_sby": 404,
        "operator_sby": 404,
        "local_jatim": 404,
        "anonymous": 401,
    },
    ("reject", "requested"): {
        "operator_medan": 403,
        "local_medan": 403,
        "operator_malang_b": 403,
        "local_jatim": 404,
        "anonymous": 401,
    },
    ("sign_agreement", "approved"): {
        "operator_medan2": 403,
        "operator_malang_b": 403,
        "local_sby": 403,
        "local_jatim": 403,
        "anonymous": 401,
    },
    ("start_implementation", "agreement_signed"): {
        "local_malang": 403,
        "operator_malang_a": 403,
        "operator_medan2": 403,
        "local_sby": 403,
    },
    ("complete_implementation", "implementing"): {
        "local_malang": 403,
        "operator_malang_a": 403,
        "operator_medan2": 403,
    },
    ("evaluate", "implemented"): {
        "local_malang": 403,
        "operator_malang_a": 403,
        "operator_medan2": 403,
    },
    ("discontinue", "requested"): {
        "operator_medan2": 403,
        "operator_malang_b": 403,
        "local_sby": 404,
        "anonymous": 401,
    },
    ("discontinue", "implemented"): {
        "operator_medan2": 403,
        "operator_malang_b": 403,
        "local_sby": 403,
        "anonymous": 401,
    },
}


@pytest.mark.parametrize(("action", "status"), list(REFUSED))
async def test_who_may_not_take_a_step(w: World, action: str, status: str) -> None:
    replication = await w.at(status)
    for caller, expected in REFUSED[action, status].items():
        headers: dict[str, str] = getattr(w, caller)
        response = await w.step(replication["id"], action, headers, **STEP_BODIES[action])
        assert response.status_code == expected, (caller, response.text)
        code = refusal_code(caller, expected)
        assert_problem(response, expected, code)
        await unchanged(w, replication, response)


@pytest.mark.parametrize(
    ("caller", "status", "expected"),
    [
        ("admin", "requested", 403),
        ("regional_medan", "requested", 403),
        ("evaluator", "requested", 403),
        ("hub_admin_sumut", "requested", 403),
        ("admin", "approved", 403),
        ("regional_medan", "approved", 403),
        ("evaluator", "approved", 403),
        ("hub_admin_sumut", "approved", 403),
    ],
)
async def test_roles_on_no_side_take_no_step(
    w: World, caller: str, status: str, expected: int
) -> None:
    """The secretariat, regional systems, evaluators and hub admins are on no side: the policy
    refuses their role before any record is looked at."""
    replication = await w.at(status)
    response = await w.step(
        replication["id"], "discontinue", getattr(w, caller), reason="Dihentikan."
    )
    assert_problem(response, expected, "auth.role_forbidden")
    await unchanged(w, replication, response)


async def test_the_facilitating_hub_reads_but_takes_no_step(w: World) -> None:
    created = await w.request(facilitator="hub", facilitator_hub_id=str(w.hub_jatim.id))
    assert (await w.get(created["id"], w.hub_admin_jatim)).status_code == 200
    for action in ("approve", "reject", "discontinue"):
        response = await w.step(created["id"], action, w.hub_admin_jatim, **STEP_BODIES[action])
        assert_problem(response, 403, "auth.role_forbidden")
        await unchanged(w, created, response)


# --- the step's date ------------------------------------------------------------------------


async def test_a_step_takes_the_date_given(w: World) -> None:
    created = await w.request(requested_date=days_ago(40))
    body = await w.ok(created["id"], "approve", w.local_malang, date=days_ago(30))
    assert body["approved_date"] == days_ago(30)
    body = await w.ok(created["id"], "sign_agreement", w.operator_medan, date=days_ago(20))
    assert body["agreement_date"] == days_ago(20)
    row = await w.stored(created["id"])
    assert (str(row["approved_date"]), str(row["agreement_date"])) == (days_ago(30), days_ago(20))


async def test_a_step_may_fall_on_the_previous_steps_day(w: World) -> None:
    created = await w.request(requested_date=days_ago(10))
    body = await w.ok(created["id"], "approve", w.local_malang, date=days_ago(10))
    assert body["approved_date"] == days_ago(10)


@pytest.mark.parametrize("action", ["approve", "reject", "discontinue"])
async def test_a_step_dated_in_the_future_is_422(w: World, action: str) -> None:
    created = await w.request()
    response = await w.step(
        created["id"], action, w.local_malang, date=days_ago(-1), **STEP_BODIES[action]
    )
    assert_problem(response, 422, "replication.date_in_future")
    await unchanged(w, created, response)


@pytest.mark.parametrize("action", ["approve", "reject", "discontinue"])
async def test_a_step_dated_before_the_request_is_422(w: World, action: str) -> None:
    created = await w.request(requested_date=days_ago(10))
    response = await w.step(
        created["id"], action, w.local_malang, date=days_ago(11), **STEP_BODIES[action]
    )
    assert_problem(response, 422, "replication.date_out_of_order")
    await unchanged(w, created, response)


async def test_every_step_is_dated_after_the_one_before(w: World) -> None:
    created = await w.request(requested_date=days_ago(50))
    walk = [
        ("approve", w.local_malang, 40),
        ("sign_agreement", w.operator_medan, 30),
        ("start_implementation", w.operator_medan, 20),
        ("complete_implementation", w.operator_medan, 10),
        ("evaluate", w.operator_medan, 5),
    ]
    for action, headers, days in walk:
        current = (await w.get(created["id"])).json()
        response = await w.step(
            created["id"], action, headers, date=days_ago(days + 11), **STEP_BODIES[action]
        )
        assert_problem(response, 422, "replication.date_out_of_order")
        await unchanged(w, current, response)
        body = await w.ok(
            created["id"], action, headers, date=days_ago(days), **STEP_BODIES[action]
        )
        assert body[TARGET[action][1]] == days_ago(days)
    # Discontinuing counts from the last step reached (evaluated 5 days ago).
    current = (await w.get(created["id"])).json()
    response = await w.step(
        created["id"], "discontinue", w.operator_medan, date=days_ago(7), reason="Berhenti."
    )
    assert_problem(response, 422, "replication.date_out_of_order")
    await unchanged(w, current, response)
    body = await w.ok(
        created["id"], "discontinue", w.operator_medan, date=days_ago(5), reason="Berhenti."
    )
    assert body["discontinued_date"] == days_ago(5)


# --- the audit trail ------------------------------------------------------------------------


async def test_every_step_leaves_one_event(w: World) -> None:
    created = await w.request()
    walk = [
        ("approve", w.local_malang, "requested", "approved"),
        ("sign_agreement", w.local_malang, "approved", "agreement_signed"),
        ("start_implementation", w.operator_medan, "agreement_signed", "implementing"),
        ("complete_implementation", w.local_medan, "implementing", "implemented"),
        ("evaluate", w.operator_medan, "implemented", "evaluated"),
        ("discontinue", w.local_malang, "evaluated", "discontinued"),
    ]
    for version, (action, headers, before, after) in enumerate(walk, start=2):
        response = await w.step(created["id"], action, headers, **STEP_BODIES[action])
        assert response.status_code == 200, f"{action}: {response.text}"
        assert response.json()["version"] == version
        assert response.headers["ETag"] == f'"{version}"'
        event = await w.event(response, action)
        assert event.entity_id == created["id"]
        assert event.changes["status"] == {"before": before, "after": after}


async def test_rejecting_a_request_frees_its_replica(w: World) -> None:
    replica = await w.innovation(w.medan_unit, InnovationStatus.draft, title="SAMBAT MEDAN")
    first = await w.request(replica_innovation_id=str(replica.id))
    rejected = await w.ok(first["id"], "reject", w.local_malang, reason="Belum siap dibagikan.")
    assert (rejected["status"], rejected["replica_innovation_id"]) == ("rejected", None)
    again = await w.request(replica_innovation_id=str(replica.id))
    assert again["replica_innovation_id"] == str(replica.id)
