"""The edition's funnel: counts by stage, round and tier, by dimension, and who may read it."""

from __future__ import annotations

from typing import Any

from app.models.competitions import Competition
from app.models.enums import CompetitionStatus, Role, SubmissionStatus
from tests.domains import assert_problem
from tests.domains.evaluation.conftest import EvalWorld


async def _funnel(ew: EvalWorld, headers: dict[str, str] | None = None, **params: Any) -> Any:
    return await ew.client.get(
        f"/v1/stats/competitions/{ew.competition.id}/funnel",
        params=params,
        headers=ew.admin if headers is None else headers,
    )


async def test_funnel_counts_each_stage_round_and_tier(ew: EvalWorld) -> None:
    scored = [await ew.entry(inst) for inst in (ew.medan, ew.surabaya, ew.ministry, ew.surabaya)]
    draft = await ew.entry(ew.medan, status=SubmissionStatus.draft)
    draft.screening_outcome = None
    draft.screened_at = None
    draft.submitted_at = None
    await ew.session.flush()
    dosen = ew.evaluators["dosen_a"]
    for entry, value in zip(scored, (90, 80, 70, 60), strict=True):
        await ew.scored(ew.round1, entry, dosen, value)
    assert (await ew.close(ew.round1)).status_code == 200

    response = await _funnel(ew, by="institution_kind")
    assert response.status_code == 200, response.text
    body = response.json()
    totals = body["totals"]
    assert (totals["drafts"], totals["submitted"], totals["screened_in"]) == (1, 4, 4)
    (round1,) = totals["rounds"]
    assert (round1["position"], round1["advanced"], round1["eliminated"]) == (1, 3, 1)
    # Final tiers count once an entry's evaluation is over: the three that advanced are still
    # in evaluation (round 2), the eliminated one holds none.
    assert totals["tiers"] == {}
    kinds = {g["key"]: g["counts"] for g in body["groups"]}
    assert set(kinds) == {"pemkot", "kementerian"}
    assert kinds["pemkot"]["screened_in"] == 3
    assert kinds["kementerian"]["rounds"][0]["advanced"] == 1

    by_province = (await _funnel(ew, by="province")).json()
    provinces = {g["key"]: g["label"] for g in by_province["groups"]}
    assert set(provinces) == {"12", "35", "none"}


async def test_funnel_is_private_until_results_are_published(ew: EvalWorld) -> None:
    await ew.entry(ew.medan)
    anonymous = await _funnel(ew, headers={})
    assert_problem(anonymous, 403, "stats.results_not_published")
    local = await _funnel(ew, headers=await ew.auth(Role.local_admin, institution_id=ew.medan.id))
    assert_problem(local, 403, "stats.results_not_published")
    assert (await _funnel(ew)).status_code == 200
    competition = await ew.session.get(Competition, ew.competition.id)
    assert competition is not None
    competition.status = CompetitionStatus.results_published
    await ew.session.flush()
    public = await _funnel(ew, headers={})
    assert public.status_code == 200, public.text
    assert public.json()["totals"]["screened_in"] == 1


async def test_funnel_of_an_unknown_edition_is_404(ew: EvalWorld) -> None:
    response = await ew.client.get(
        "/v1/stats/competitions/00000000-0000-0000-0000-000000000000/funnel", headers=ew.admin
    )
    assert_problem(response, 404, "competition.not_found")
