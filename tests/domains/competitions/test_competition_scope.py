"""Who runs which edition: the secretariat every one, a hub admin its own hub's provincial ones.
Another hub's edition past its draft is a 403 to write, another hub's draft a 404 (the caller
may not know it exists); national editions are the secretariat's; other roles write nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.models.competitions import Competition
from app.models.enums import CompetitionStatus
from app.models.hubs import Hub
from tests.domains import assert_problem
from tests.domains.competitions.conftest import World, close_rounds
from tests.fixtures.etag import conditional_request, if_match

S = CompetitionStatus


async def edition(w: World, status: CompetitionStatus, hub: Hub | None) -> dict[str, Any]:
    """An edition at `status` with one group, category, round and criterion."""
    competition = await w.competition(status, hub)
    group = await w.group(competition)
    round_ = await w.round(competition)
    return {
        "c": competition,
        "g": group,
        "k": await w.category(competition),
        "r": round_,
        "x": await w.criterion(round_, group, 100),
    }


def writes(p: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Every write on the edition and its structure (a valid request for a draft)."""
    c, g, k, r, x = p["c"].id, p["g"].id, p["k"].id, p["r"].id, p["x"].id
    return [
        ("PATCH", f"/v1/competitions/{c}", {"theme": "Tema Baru"}),
        ("DELETE", f"/v1/competitions/{c}", None),
        ("POST", f"/v1/competitions/{c}/transitions", {"action": "cancel", "reason": "Uji."}),
        ("POST", f"/v1/competitions/{c}/groups", {"code": "replikasi", "name": "Replikasi"}),
        ("PATCH", f"/v1/competitions/{c}/groups/{g}", {"name": "Umum Baru"}),
        ("DELETE", f"/v1/competitions/{c}/groups/{g}", None),
        ("POST", f"/v1/competitions/{c}/categories", {"code": "ekonomi", "name": "Ekonomi"}),
        ("PATCH", f"/v1/competitions/{c}/categories/{k}", {"name": "Digital Baru"}),
        ("DELETE", f"/v1/competitions/{c}/categories/{k}", None),
        ("POST", f"/v1/competitions/{c}/rounds", {"kind": "interview", "name": "Wawancara"}),
        ("PATCH", f"/v1/rounds/{r}", {"advance_quota": 45}),
        ("DELETE", f"/v1/rounds/{r}", None),
        ("POST", f"/v1/rounds/{r}/criteria", {"group_id": str(g), "name": "Baru", "weight": 0}),
        ("PATCH", f"/v1/rounds/{r}/criteria/{x}", {"weight": 90}),
        ("DELETE", f"/v1/rounds/{r}/criteria/{x}", None),
    ]


async def send(
    w: World, method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> httpx.Response:
    return await conditional_request(w.client, method, path, json=body, headers=headers)


async def unchanged(w: World, competition: Competition) -> None:
    stored = await w.stored(Competition, competition.id)
    assert stored is not None
    assert (stored.status, stored.version) == (competition.status, 1)


# --- another hub's editions -----------------------------------------------------------------


@pytest.mark.parametrize("status", [S.registration_open, S.evaluation, S.results_published])
async def test_another_hubs_edition_past_its_draft_is_403_to_write(
    w: World, status: CompetitionStatus
) -> None:
    parts = await edition(w, status, w.hub_sumut)
    headers = await w.hub_admin(w.hub_jatim)
    # It can read it...
    assert (await w.client.get(f"/v1/competitions/{parts['c'].id}", headers=headers)).is_success
    # ...but writes nothing of it.
    for method, path, body in writes(parts):
        response = await send(w, method, path, body, headers)
        assert_problem(response, 403, "competition.out_of_scope")
        assert await w.events(response) == []
    response = await w.client.get(f"/v1/competitions/{parts['c'].id}/readiness", headers=headers)
    assert_problem(response, 403, "competition.out_of_scope")
    await unchanged(w, parts["c"])


async def test_another_hubs_draft_is_404_to_read_and_write(w: World) -> None:
    parts = await edition(w, S.draft, w.hub_sumut)
    headers = await w.hub_admin(w.hub_jatim)
    c = parts["c"].id
    response = await w.client.get(f"/v1/competitions/{c}", headers=headers)
    assert_problem(response, 404, "competition.not_found")
    expected = {
        f"/v1/competitions/{c}": "competition.not_found",
        f"/v1/competitions/{c}/transitions": "competition.not_found",
        f"/v1/competitions/{c}/groups": "competition.not_found",
        f"/v1/competitions/{c}/categories": "competition.not_found",
        f"/v1/competitions/{c}/rounds": "competition.not_found",
        f"/v1/competitions/{c}/groups/{parts['g'].id}": "group.not_found",
        f"/v1/competitions/{c}/categories/{parts['k'].id}": "category.not_found",
        f"/v1/rounds/{parts['r'].id}": "round.not_found",
        f"/v1/rounds/{parts['r'].id}/criteria": "round.not_found",
        f"/v1/rounds/{parts['r'].id}/criteria/{parts['x'].id}": "criterion.not_found",
    }
    for method, path, body in writes(parts):
        response = await send(w, method, path, body, headers)
        assert_problem(response, 404, expected[path])
        assert await w.events(response) == []
    response = await w.client.get(f"/v1/competitions/{c}/readiness", headers=headers)
    assert_problem(response, 404, "competition.not_found")
    await unchanged(w, parts["c"])


# --- national editions ----------------------------------------------------------------------


async def test_a_hub_admin_cannot_see_a_national_draft(w: World) -> None:
    parts = await edition(w, S.draft, None)
    headers = await w.hub_admin()
    for method, path, body in writes(parts):
        response = await send(w, method, path, body, headers)
        assert response.status_code == 404, f"{method} {path}: {response.text}"
    await unchanged(w, parts["c"])


@pytest.mark.parametrize("status", [S.registration_open, S.registration_closed, S.evaluation])
async def test_a_hub_admin_cannot_touch_a_national_edition_it_sees(
    w: World, status: CompetitionStatus
) -> None:
    parts = await edition(w, status, None)
    headers = await w.hub_admin()
    for method, path, body in writes(parts):
        response = await send(w, method, path, body, headers)
        assert_problem(response, 403, "competition.out_of_scope")
    await unchanged(w, parts["c"])


# --- the hub's own admins and the secretariat run a provincial edition ---------------------


async def test_a_hub_admin_runs_its_own_edition_from_draft_to_close(w: World) -> None:
    headers = await w.hub_admin(w.hub_sumut)
    competition = await w.ready(w.hub_sumut)
    group = await w.client.post(
        f"/v1/competitions/{competition.id}/groups",
        json={"code": "khusus", "name": "Kelompok Khusus"},
        headers=headers,
    )
    assert group.status_code == 201, group.text
    removed = await w.client.delete(
        f"/v1/competitions/{competition.id}/groups/{group.json()['id']}",
        headers=await if_match(
            w.client, f"/v1/competitions/{competition.id}/groups/{group.json()['id']}", headers
        ),
    )
    assert removed.status_code == 204, removed.text
    for action in (
        "open_registration",
        "close_registration",
        "start_evaluation",
        "publish_results",
        "close",
    ):
        if action == "publish_results":
            await close_rounds(w, competition, headers)
        response = await w.client.post(
            f"/v1/competitions/{competition.id}/transitions",
            json={"action": action},
            headers=headers,
        )
        assert response.status_code == 200, f"{action}: {response.text}"
        (event,) = await w.events(response)
        assert (event.action, event.actor_role, event.institution_id) == (
            action,
            "hub_admin",
            w.sumut.id,
        )
    assert response.json()["status"] == "closed"


async def test_the_secretariat_runs_a_hubs_edition_too(w: World) -> None:
    parts = await edition(w, S.draft, w.hub_sumut)
    response = await w.client.patch(
        f"/v1/competitions/{parts['c'].id}",
        json={"theme": "Tema"},
        headers=await if_match(w.client, f"/v1/competitions/{parts['c'].id}", w.admin),
    )
    assert response.status_code == 200, response.text
    response = await w.client.patch(
        f"/v1/rounds/{parts['r'].id}",
        json={"advance_quota": 10},
        headers=await if_match(w.client, f"/v1/rounds/{parts['r'].id}", w.admin),
    )
    assert response.status_code == 200, response.text
    # The event belongs to the organiser, whoever wrote it.
    (event,) = await w.events(response)
    assert (event.actor_role, event.institution_id) == ("secretariat_admin", w.sumut.id)
    response = await w.client.post(
        f"/v1/competitions/{parts['c'].id}/transitions",
        json={"action": "cancel", "reason": "Anggaran dialihkan."},
        headers=w.admin,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("index", range(15))
async def test_the_hubs_admin_writes_each_part_of_its_draft(w: World, index: int) -> None:
    parts = await edition(w, S.draft, w.hub_sumut)
    method, path, body = writes(parts)[index]
    response = await send(w, method, path, body, await w.hub_admin(w.hub_sumut))
    assert response.is_success, f"{method} {path}: {response.text}"
    (event,) = await w.events(response)
    assert (event.actor_role, event.institution_id) == ("hub_admin", w.sumut.id)


# --- roles that run no competition ----------------------------------------------------------


@pytest.mark.parametrize("status", [S.draft, S.registration_open])
async def test_other_roles_write_nothing(w: World, status: CompetitionStatus) -> None:
    parts = await edition(w, status, w.hub_sumut)
    for role, headers in (await w.callers()).items():
        for method, path, body in writes(parts):
            response = await send(w, method, path, body, headers)
            assert response.status_code == 403, f"{role} {method} {path}: {response.text}"
            assert_problem(response, 403, "auth.role_forbidden")
    for method, path, body in writes(parts):
        assert_problem(await send(w, method, path, body, {}), 401, "auth.required")
    await unchanged(w, parts["c"])


async def test_an_invalid_token_is_401_even_on_public_reads(w: World) -> None:
    competition = await w.competition(S.registration_open)
    response = await w.client.get(
        f"/v1/competitions/{competition.id}", headers={"Authorization": "Bearer nonsense"}
    )
    assert response.status_code == 401, response.text
