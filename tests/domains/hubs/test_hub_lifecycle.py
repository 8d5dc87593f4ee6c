"""The hub status machine: candidate -> committed -> designated -> active -> inactive, each step
with its date, the decree on designation, 409 for a wrong step, one active hub per host."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from app.models.enums import HubStatus
from app.models.hubs import Hub
from tests.domains import assert_problem
from tests.domains.hubs.conftest import World, today

S = HubStatus
DECREE = "Keputusan Menteri PANRB Nomor 94 Tahun 2020"
# The one legal step out of each status (inactive is final).
LEGAL = {
    S.candidate: ("commit", S.committed, "committed_date"),
    S.committed: ("designate", S.designated, "designated_date"),
    S.designated: ("activate", S.active, "activated_date"),
    S.active: ("deactivate", S.inactive, "inactivated_date"),
}
ACTIONS = ("commit", "designate", "activate", "deactivate")


async def step(
    w: World, hub: Hub, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    if body.get("action") == "designate":
        body.setdefault("designation_decree_reference", DECREE)
    return await w.client.post(
        f"/v1/hubs/{hub.id}/transitions", json=body, headers=headers or w.admin
    )


@pytest.mark.parametrize("source", list(LEGAL))
async def test_each_legal_step_moves_the_hub_and_records_its_date(
    w: World, source: HubStatus
) -> None:
    hub = await w.hub(status=source)
    action, target, column = LEGAL[source]
    response = await step(
        w, hub, action=action, effective_date="2024-05-02", reason="Sesuai rencana."
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body[column], body["version"]) == (target.value, "2024-05-02", 2)
    assert response.headers["ETag"] == '"2"'
    stored = await w.stored(hub)
    assert stored is not None
    assert (stored.status, getattr(stored, column)) == (target, date(2024, 5, 2))
    (event,) = await w.events(response)
    assert (event.action, event.entity_type, event.entity_id) == (action, "hub", str(hub.id))
    assert event.changes["status"] == {"before": source.value, "after": target.value}
    assert event.changes["reason"] == {"before": None, "after": "Sesuai rencana."}


async def test_a_hub_walks_the_whole_machine_keeping_every_date(w: World) -> None:
    hub = await w.hub(status=S.candidate, candidate_date=date(2022, 9, 1))
    for action, when in zip(
        ACTIONS, ("2022-09-28", "2023-03-01", "2023-03-01", "2025-01-02"), strict=True
    ):
        response = await step(w, hub, action=action, effective_date=when)
        assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "inactive"
    assert [body[c] for c in ("candidate_date", "committed_date", "designated_date",
                              "activated_date", "inactivated_date")] == [
        "2022-09-01", "2022-09-28", "2023-03-01", "2023-03-01", "2025-01-02"
    ]  # fmt: skip
    assert (body["designation_decree_reference"], body["designation_year"]) == (DECREE, 2023)


async def test_step_date_defaults_to_today_in_wib(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    response = await step(w, hub, action="commit")
    assert response.json()["committed_date"] == today().isoformat()


@pytest.mark.parametrize(
    ("source", "action"),
    [(source, action) for source in S for action in ACTIONS
     if source not in LEGAL or LEGAL[source][0] != action],
)  # fmt: skip
async def test_a_wrong_step_is_409_naming_the_current_status_and_the_allowed_ones(
    w: World, source: HubStatus, action: str
) -> None:
    hub = await w.hub(status=source)
    response = await step(w, hub, action=action)
    problem = assert_problem(response, 409, "hub.invalid_transition")
    assert problem["current_status"] == source.value
    allowed = [LEGAL[source][0]] if source in LEGAL else []
    assert problem["allowed_actions"] == allowed
    assert (
        f"{LEGAL[source][0]} (to {LEGAL[source][1].value})" if source in LEGAL else "final"
    ) in (problem["detail"])
    assert f"the hub is {source.value}" in problem["detail"]
    stored = await w.stored(hub)
    assert stored is not None
    assert (stored.status, stored.version) == (source, 1)
    assert await w.events(response) == []


async def test_the_action_is_required(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    assert_problem(await step(w, hub), 422, "validation_failed", pointer="/action")


async def test_an_unknown_action_is_422(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    assert_problem(
        await step(w, hub, action="promote"), 422, "validation_failed", pointer="/action"
    )


async def test_designating_needs_the_decree(w: World) -> None:
    hub = await w.hub(status=S.committed)
    response = await w.client.post(
        f"/v1/hubs/{hub.id}/transitions", json={"action": "designate"}, headers=w.admin
    )
    assert_problem(response, 422, "hub.decree_required", pointer="/designation_decree_reference")


async def test_designation_year_defaults_to_the_year_of_the_step(w: World) -> None:
    hub = await w.hub(status=S.committed)
    response = await step(w, hub, action="designate", effective_date="2020-03-02")
    assert (response.json()["designation_year"], response.json()["designated_date"]) == (
        2020,
        "2020-03-02",
    )
    other = await w.hub(status=S.committed, host=w.jatim)
    response = await step(
        w, other, action="designate", effective_date="2020-12-30", designation_year=2021
    )
    assert response.json()["designation_year"] == 2021


@pytest.mark.parametrize("field", ["designation_decree_reference", "designation_year"])
async def test_designation_fields_belong_to_the_designate_step(w: World, field: str) -> None:
    hub = await w.hub(status=S.candidate)
    value = DECREE if field == "designation_decree_reference" else 2020
    response = await step(w, hub, action="commit", **{field: value})
    assert_problem(response, 422, "hub.designation_not_expected", pointer=f"/{field}")


async def test_a_step_dated_in_the_future_is_422(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    assert_problem(
        await step(w, hub, action="commit", effective_date="2100-01-01"),
        422,
        "hub.date_in_future",
        pointer="/effective_date",
    )


async def test_a_step_dated_before_the_previous_one_is_422(w: World) -> None:
    hub = await w.hub(status=S.committed, committed_date=date(2022, 9, 28))
    problem = assert_problem(
        await step(w, hub, action="designate", effective_date="2022-09-27"),
        422,
        "hub.date_before_previous_step",
        pointer="/effective_date",
    )
    assert "2022-09-28" in problem["detail"]


# --- one active hub per host ----------------------------------------------------------------


async def test_a_host_has_one_active_hub_at_a_time(w: World) -> None:
    first = await w.hub(status=S.active, name="JIPP Sumut 2022")
    second = await w.hub(status=S.designated, name="JIPP Sumut 2025")
    problem = assert_problem(
        await step(w, second, action="activate"), 409, "hub.host_has_active_hub"
    )
    assert problem["active_hub_id"] == str(first.id)
    assert "JIPP Sumut 2022" in problem["detail"]
    assert (await step(w, first, action="deactivate")).status_code == 200
    assert (await step(w, second, action="activate")).status_code == 200


async def test_the_database_refuses_a_second_active_hub_per_host(w: World) -> None:
    await w.hub(status=S.active)
    with pytest.raises(IntegrityError, match="uq_hubs_active_host"):
        async with w.session.begin_nested():
            await w.hub(status=S.active)


async def test_hosts_of_different_hubs_each_have_their_active_hub(w: World) -> None:
    await w.hub(status=S.active)
    other = await w.hub(status=S.designated, host=w.jatim)
    assert (await step(w, other, action="activate")).status_code == 200


# --- who moves hubs -------------------------------------------------------------------------


async def test_a_hub_admin_cannot_move_its_own_hub(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    response = await step(w, hub, await w.hub_admin(hub), action="commit")
    assert_problem(response, 403, "auth.role_forbidden")


async def test_a_step_with_a_stale_if_match_is_412(w: World) -> None:
    hub = await w.hub(status=S.candidate)
    response = await step(w, hub, {**w.admin, "If-Match": '"5"'}, action="commit")
    assert_problem(response, 412, "hub.version_mismatch")
    fresh = await step(w, hub, {**w.admin, "If-Match": '"1"'}, action="commit")
    assert fresh.status_code == 200, fresh.text


async def test_the_public_sees_a_hub_once_it_is_designated(w: World) -> None:
    hub = await w.hub(status=S.committed)
    assert (await w.client.get(f"/v1/hubs/{hub.id}")).status_code == 404
    assert (await step(w, hub, action="designate")).status_code == 200
    assert (await w.client.get(f"/v1/hubs/{hub.id}")).status_code == 200
