"""The rules are the edition's data, never a year's code. KIPP 2021 (DOMAIN.md section 3): an
innovation implemented at least 2 years (general group) or 1 year (replication group) before
registration closes; at most 10 general and 5 replication proposals per institution. The
"2023" edition here carries other rules (illustrative values of this test, not the historic
ones): 12 months for the general group, a cap of 3, earlier Top 45 / Top 5 winners barred, and
a replication source that must itself be a Top 45 / Top 5 winner. Each edition rejects what its
own rules reject, the same innovation and institution going through both."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from app.models.enums import CompetitionStatus
from app.models.innovations import Innovation
from tests.domains import assert_problem
from tests.domains.competitions.conftest import KIPP_2023_UMUM
from tests.domains.submissions.conftest import REPLIKASI, Edition, World, codes
from tests.fixtures.etag import if_match

S = CompetitionStatus
# Registration of each edition closes at the end of a WIB day; the tests' clock sits inside the
# window (the edition is long past, in real time).
CLOSES_2021 = datetime.fromisoformat("2021-06-30T23:59:59+07:00")
CLOSES_2023 = datetime.fromisoformat("2023-07-31T23:59:59+07:00")


@dataclass
class Years:
    kipp2021: Edition
    kipp2023: Edition
    monkeypatch: pytest.MonkeyPatch

    def clock(self, edition: Edition) -> None:
        """Put the clock ten days before the edition's deadline."""
        closes = edition.competition.registration_closes_at
        assert closes is not None
        self.monkeypatch.setattr("app.core.dates.now", lambda: closes - timedelta(days=10))


@pytest.fixture
async def y(w: World, monkeypatch: pytest.MonkeyPatch) -> Years:
    kipp2021 = await w.edition(
        code="KIPP-2021",
        year=2021,
        registration_opens_at=CLOSES_2021 - timedelta(days=90),
        registration_closes_at=CLOSES_2021,
        umum={"min_implementation_months": 24, "max_submissions_per_institution": 10},
        replikasi={"min_implementation_months": 12, "max_submissions_per_institution": 5},
    )
    kipp2023 = await w.edition(
        code="KIPP-2023",
        year=2023,
        registration_opens_at=CLOSES_2023 - timedelta(days=90),
        registration_closes_at=CLOSES_2023,
        umum={
            "min_implementation_months": 12,
            "max_submissions_per_institution": 3,
            "ineligible_award_tiers": ["top_45", "top_5"],
        },
        replikasi={"min_implementation_months": 6, "source_award_tiers": ["top_45", "top_5"]},
    )
    return Years(kipp2021, kipp2023, monkeypatch)


async def submit(
    w: World, edition: Edition, innovation: Innovation, group: str = "umum", **body: Any
) -> tuple[dict[str, Any], Any]:
    """Create (as Medan's local admin) and submit an entry: (the draft, the submit response)."""
    chosen = edition.umum if group == "umum" else edition.replikasi
    draft = await w.draft(
        innovation,
        w.local if innovation.institution_id == w.medan.id else w.local_sby,
        edition=edition,
        group=chosen,
        answers=edition.answers(chosen),
        **body,
    )
    headers = w.local if innovation.institution_id == w.medan.id else w.local_sby
    return draft, await w.step(draft["id"], "submit", headers)


def accepted(response: Any) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "awaiting_local_admin"


async def refused(w: World, draft: dict[str, Any], response: Any, status: int, code: str) -> None:
    problem = assert_problem(response, status, code)
    assert code in codes(problem)
    assert (await w.row(draft["id"])).status.value == "draft"


# --- the minimum implementation age ---------------------------------------------------------


@pytest.mark.parametrize(
    ("implemented", "ok"),
    [(date(2019, 6, 30), True), (date(2019, 7, 1), False), (date(2019, 12, 30), False)],
    ids=["two_years", "a_day_short", "eighteen_months"],
)
async def test_2021_general_group_wants_two_years(
    w: World, y: Years, implemented: date, ok: bool
) -> None:
    y.clock(y.kipp2021)
    draft, response = await submit(w, y.kipp2021, await w.innovation(implemented=implemented))
    if ok:
        accepted(response)
    else:
        await refused(w, draft, response, 409, "submission.too_young")


@pytest.mark.parametrize(
    ("implemented", "ok"),
    [(date(2019, 12, 30), True), (date(2020, 6, 30), True), (date(2020, 7, 1), False)],
    ids=["eighteen_months", "one_year", "a_day_short"],
)
async def test_2021_replication_group_wants_one_year(
    w: World, y: Years, implemented: date, ok: bool
) -> None:
    y.clock(y.kipp2021)
    await w.award(w.inov_sby, "terpuji", 2019)
    draft, response = await submit(
        w,
        y.kipp2021,
        await w.innovation(implemented=implemented),
        "replikasi",
        source_innovation_id=str(w.inov_sby.id),
    )
    if ok:
        accepted(response)
    else:
        await refused(w, draft, response, 409, "submission.too_young")


@pytest.mark.parametrize(
    ("implemented", "ok"), [(date(2022, 1, 15), True), (date(2022, 8, 1), False)]
)
async def test_2023_general_group_wants_a_year(
    w: World, y: Years, implemented: date, ok: bool
) -> None:
    """Eighteen months old: too young for 2021's general group, old enough for 2023's."""
    y.clock(y.kipp2023)
    draft, response = await submit(w, y.kipp2023, await w.innovation(implemented=implemented))
    if ok:
        accepted(response)
    else:
        await refused(w, draft, response, 409, "submission.too_young")


# --- the cap per institution ----------------------------------------------------------------


async def test_the_eleventh_general_entry_of_2021_is_over_the_cap(w: World, y: Years) -> None:
    y.clock(y.kipp2021)
    for _ in range(9):
        await w.entry_row(y.kipp2021, await w.innovation(implemented=date(2018, 1, 1)), "submitted")
    tenth, response = await submit(w, y.kipp2021, await w.innovation(implemented=date(2018, 1, 1)))
    accepted(response)
    assert (await w.ok(tenth["id"], "approve", w.local))["status"] == "submitted"
    eleventh, response = await submit(
        w, y.kipp2021, await w.innovation(implemented=date(2018, 1, 1))
    )
    await refused(w, eleventh, response, 409, "submission.over_cap")
    # Another institution, and the replication group, have places of their own.
    _, response = await submit(
        w, y.kipp2021, await w.innovation(w.surabaya_unit, implemented=date(2018, 1, 1))
    )
    accepted(response)
    await w.award(w.inov_sby, "top_99", 2019)
    _, response = await submit(
        w,
        y.kipp2021,
        await w.innovation(implemented=date(2018, 1, 1)),
        "replikasi",
        source_innovation_id=str(w.inov_sby.id),
    )
    accepted(response)


async def test_the_sixth_replication_entry_of_2021_is_over_the_cap(w: World, y: Years) -> None:
    y.clock(y.kipp2021)
    await w.award(w.inov_sby, "top_99", 2019)
    for _ in range(5):
        await w.entry_row(
            y.kipp2021,
            await w.innovation(implemented=date(2018, 1, 1)),
            "screened_in",
            y.kipp2021.replikasi,
            source_innovation_id=w.inov_sby.id,
        )
    sixth, response = await submit(
        w,
        y.kipp2021,
        await w.innovation(implemented=date(2018, 1, 1)),
        "replikasi",
        source_innovation_id=str(w.inov_sby.id),
    )
    await refused(w, sixth, response, 409, "submission.over_cap")


async def test_the_fourth_general_entry_of_2023_is_over_its_cap(w: World, y: Years) -> None:
    y.clock(y.kipp2023)
    for _ in range(3):
        await w.entry_row(y.kipp2023, await w.innovation(implemented=date(2020, 1, 1)), "submitted")
    fourth, response = await submit(w, y.kipp2023, await w.innovation(implemented=date(2020, 1, 1)))
    await refused(w, fourth, response, 409, "submission.over_cap")


# --- earlier awards -------------------------------------------------------------------------


@pytest.mark.parametrize(("tier", "ok"), [("top_45", False), ("top_5", False), ("terpuji", True)])
async def test_a_2021_winner_in_2023(w: World, y: Years, tier: str, ok: bool) -> None:
    """2023 bars earlier Top 45 and Top 5 winners from its general group; 2021 bars none."""
    innovation = await w.innovation(implemented=date(2019, 1, 1))
    await w.award(innovation, tier, 2021, y.kipp2021.competition)
    y.clock(y.kipp2023)
    draft, response = await submit(w, y.kipp2023, innovation)
    if ok:
        accepted(response)
    else:
        await refused(w, draft, response, 409, "submission.ineligible_prior_award")


async def test_the_same_source_qualifies_in_2021_but_not_in_2023(w: World, y: Years) -> None:
    """2021's replication group takes a source with any award; 2023's wants Top 45 or Top 5."""
    await w.award(w.inov_sby, "terpuji", 2020)
    y.clock(y.kipp2021)
    body = {"source_innovation_id": str(w.inov_sby.id)}
    _, response = await submit(
        w, y.kipp2021, await w.innovation(implemented=date(2019, 1, 1)), "replikasi", **body
    )
    accepted(response)
    y.clock(y.kipp2023)
    draft, response = await submit(
        w, y.kipp2023, await w.innovation(implemented=date(2019, 1, 1)), "replikasi", **body
    )
    await refused(w, draft, response, 409, "submission.source_not_awarded")
    await w.award(w.inov_sby, "top_45", 2022)
    accepted(await w.step(draft["id"], "submit", w.local))


# --- rules set through the API --------------------------------------------------------------


async def test_2021_rules_set_through_the_api_are_the_ones_applied(w: World) -> None:
    """An edition built with the competitions API (2021's rules; a window still open today)."""
    closes = "2027-03-31T23:59:59+07:00"
    created = await w.client.post(
        "/v1/competitions",
        json={
            "code": "KIPP-2021-ULANG",
            "name": "KIPP 2021 (ulang)",
            "year": 2021,
            "scope": "national",
            "organiser_institution_id": str(w.kemenpan.id),
            "registration_opens_at": "2026-01-01T00:00:00+07:00",
            "registration_closes_at": closes,
            "sdg_required": True,
        },
        headers=w.admin,
    )
    assert created.status_code == 201, created.text
    cid = created.json()["id"]

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await w.client.post(f"/v1{path}", json=body, headers=w.admin)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    umum = await post(
        f"/competitions/{cid}/groups",
        {
            "code": "umum",
            "name": "Kelompok Umum",
            "min_implementation_months": 24,
            "max_submissions_per_institution": 10,
        },
    )
    replikasi = await post(
        f"/competitions/{cid}/groups",
        {
            "code": "replikasi",
            "name": "Kelompok Replikasi",
            "min_implementation_months": 12,
            "max_submissions_per_institution": 5,
            "requires_source_innovation": True,
        },
    )
    category = await post(f"/competitions/{cid}/categories", {"code": "tematik", "name": "Tematik"})
    round_ = await post(
        f"/competitions/{cid}/rounds", {"kind": "desk_evaluation", "name": "Evaluasi Proposal"}
    )
    criteria: dict[str, list[str]] = {"umum": [], "replikasi": []}
    for group, weights in ((umum, KIPP_2023_UMUM), (replikasi, REPLIKASI)):
        for name, weight in weights:
            criterion = await post(
                f"/rounds/{round_['id']}/criteria",
                {"group_id": group["id"], "name": name, "weight": weight},
            )
            criteria[group["code"]].append(criterion["id"])
    opened = await w.client.post(
        f"/v1/competitions/{cid}/transitions",
        json={"action": "open_registration"},
        headers=w.admin,
    )
    assert opened.status_code == 200, opened.text
    await w.award(w.inov_sby, "top_99", 2020)
    # Eighteen months before the WIB date of the deadline.
    innovation = await w.innovation(implemented=date(2025, 9, 30))
    results = {}
    for group in (umum, replikasi):
        body: dict[str, Any] = {
            "competition_id": cid,
            "group_id": group["id"],
            "category_id": category["id"],
            "innovation_id": str(innovation.id),
            "answers": [{"criterion_id": c, "text": "Jawaban."} for c in criteria[group["code"]]],
        }
        if group is replikasi:
            body["source_innovation_id"] = str(w.inov_sby.id)
        draft = await w.client.post("/v1/submissions", json=body, headers=w.operator)
        assert draft.status_code == 201, draft.text
        results[group["code"]] = await w.step(draft.json()["id"], "submit", w.operator)
        if group is umum:
            problem = assert_problem(results["umum"], 409, "submission.too_young")
            assert codes(problem) == ["submission.too_young"]
            delete = await w.client.delete(
                f"/v1/submissions/{draft.json()['id']}",
                headers=await if_match(
                    w.client, f"/v1/submissions/{draft.json()['id']}", w.operator
                ),
            )
            assert delete.status_code == 204, delete.text
    accepted(results["replikasi"])
