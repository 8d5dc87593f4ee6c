"""GET /v1/stats/hubs: per public hub (designated, active, inactive) its current members, its
published activities per year and kind, its members' published innovations and its latest
verified maturity score; and the national coverage of active regional hubs.

The test database holds the seeded regions and nothing else that outlives a test, but other
hubs may still show up in the list: every per-hub check picks the test's own hubs by id, and
every coverage count is compared with the figures read before the test added its hubs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import (
    AssessmentStatus,
    HubActivityKind,
    HubActivityStatus,
    HubStatus,
    InnovationStatus,
    InstitutionKind,
    MaturityInstrumentStatus,
)
from app.models.hubs import Hub, HubActivity, HubMember
from app.models.institutions import Institution, Unit
from app.models.maturity import MaturityAssessment, MaturityInstrument
from app.models.regions import Region
from tests.conftest import HubFactory, InnovationFactory, InstitutionFactory, UnitFactory
from tests.core.test_authorization_matrix import INSTRUMENT_ASPECTS
from tests.domains import assert_problem

Body = dict[str, Any]
PUBLISHED = InnovationStatus.published

# Indonesia's provinces since the 2022 Papua split, as the region package ships them.
PROVINCES = 38


# --- helpers --------------------------------------------------------------------------------


async def hub_stats(client: httpx.AsyncClient, **params: str) -> Body:
    response = await client.get("/v1/stats/hubs", params=params)
    assert response.status_code == 200, response.text
    body: Body = response.json()
    return body


def items(body: Body) -> dict[str, Body]:
    """The response's hubs by id."""
    return {item["hub_id"]: item for item in body["hubs"]}


def item_of(body: Body, hub: Hub) -> Body:
    found = items(body)
    assert str(hub.id) in found, f"{hub.name} is missing"
    return found[str(hub.id)]


async def pemprov(make_institution: InstitutionFactory, code: str) -> Institution:
    return await make_institution(
        name=f"Pemerintah Provinsi Uji {code} {uuid.uuid4().hex[:6]}",
        kind=InstitutionKind.pemprov,
        region_code=code,
    )


async def pemkot(make_institution: InstitutionFactory, code: str) -> Institution:
    return await make_institution(
        name=f"Pemerintah Kota Uji {code} {uuid.uuid4().hex[:6]}",
        kind=InstitutionKind.pemkot,
        region_code=code,
    )


def member(
    hub: Hub,
    institution: Institution,
    unit: Unit | None = None,
    joined: date = date(2021, 1, 1),
    left: date | None = None,
) -> HubMember:
    return HubMember(
        hub_id=hub.id,
        institution_id=institution.id,
        unit_id=unit.id if unit else None,
        joined_date=joined,
        left_date=left,
    )


def activity(hub: Hub, kind: HubActivityKind, day: date, *, published: bool = True) -> HubActivity:
    return HubActivity(
        hub_id=hub.id,
        kind=kind,
        title=f"Kegiatan Uji {uuid.uuid4().hex[:6]}",
        activity_date=day,
        status=HubActivityStatus.published if published else HubActivityStatus.draft,
        published_at=datetime.now(UTC) if published else None,
        participants=[],
        innovations=[],
    )


@pytest.fixture
async def instrument(session: AsyncSession) -> MaturityInstrument:
    """A published maturity instrument the assessments answer."""
    row = MaturityInstrument(
        code=f"jipp-stat-{uuid.uuid4().hex[:8]}",
        revision=1,
        name="Instrumen Kematangan Uji",
        status=MaturityInstrumentStatus.published,
        published_at=datetime.now(UTC),
        aspects=INSTRUMENT_ASPECTS,
    )
    session.add(row)
    await session.flush()
    return row


def assessment(
    hub: Hub,
    instrument: MaturityInstrument,
    year: int,
    status: AssessmentStatus,
    score: str | None = None,
) -> MaturityAssessment:
    """A hub's assessment for `year`: a submitted one scores itself `score`, a verified one is
    also verified at `score`."""
    now = datetime.now(UTC)
    done = status is not AssessmentStatus.draft
    verified = status is AssessmentStatus.verified
    return MaturityAssessment(
        hub_id=hub.id,
        instrument_id=instrument.id,
        period_year=year,
        status=status,
        submitted_at=now if done else None,
        self_score=Decimal(score or "50") if done else None,
        return_reason="Bukti belum lengkap." if status is AssessmentStatus.returned else None,
        returned_at=now if status is AssessmentStatus.returned else None,
        verified_at=now if verified else None,
        total_score=Decimal(score or "50") if verified else None,
    )


# --- which hubs, in which order ----------------------------------------------------------------


async def test_only_designated_active_and_inactive_hubs_appear_sorted_by_name(
    client: httpx.AsyncClient, make_hub: HubFactory
) -> None:
    tag = uuid.uuid4().hex[:6]
    # Created out of name order, so the order must come from the query.
    inactive = await make_hub(status=HubStatus.inactive, name=f"JIPP Uji {tag} C")
    designated = await make_hub(
        status=HubStatus.designated, name=f"JIPP Uji {tag} A", is_pilot=True
    )
    active = await make_hub(status=HubStatus.active, name=f"JIPP Uji {tag} B")
    candidate = await make_hub(status=HubStatus.candidate, name=f"JIPP Uji {tag} D")
    committed = await make_hub(status=HubStatus.committed, name=f"JIPP Uji {tag} E")

    body = await hub_stats(client)

    found = items(body)
    assert str(candidate.id) not in found
    assert str(committed.id) not in found
    ours = [item for item in body["hubs"] if item["name"].startswith(f"JIPP Uji {tag} ")]
    assert [item["hub_id"] for item in ours] == [
        str(designated.id),
        str(active.id),
        str(inactive.id),
    ]
    assert [item["status"] for item in ours] == ["designated", "active", "inactive"]
    assert found[str(designated.id)] == {
        "hub_id": str(designated.id),
        "name": designated.name,
        "kind": "central",
        "status": "designated",
        "is_pilot": True,
        "designation_year": 2020,
        "province_code": None,
        "members": 0,
        "member_institutions": 0,
        "activities_total": 0,
        "activities": [],
        "member_innovations": 0,
        "latest_maturity": None,
    }
    assert found[str(active.id)]["is_pilot"] is False


async def test_anonymous_callers_read_the_hub_statistics(
    client: httpx.AsyncClient, make_hub: HubFactory, make_institution: InstitutionFactory
) -> None:
    hub = await make_hub(await pemprov(make_institution, "51"), HubStatus.active)

    response = await client.get("/v1/stats/hubs")  # no Authorization header

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    item = item_of(response.json(), hub)
    assert (item["kind"], item["status"], item["province_code"]) == ("regional", "active", "51")
    assert set(response.json()) == {"hubs", "coverage"}


# --- members ------------------------------------------------------------------------------


async def test_members_count_current_memberships_and_distinct_institutions(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_hub: HubFactory,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
) -> None:
    hub = await make_hub(status=HubStatus.active)
    empty = await make_hub(status=HubStatus.active)
    a, b, c, d, e = [await pemkot(make_institution, code) for code in
                     ("51.71", "51.01", "51.02", "51.03", "51.04")]  # fmt: skip
    a1, a2, d1 = await make_unit(a), await make_unit(a), await make_unit(d)
    session.add_all(
        [
            member(
                hub, a
            ),  # HubActivityKind itself and two of its units: three members, one institution
            member(hub, a, a1),
            member(hub, a, a2),
            member(hub, b),
            member(hub, c, left=date(2022, 6, 30)),  # left: no longer a member
            member(hub, d, d1, left=date(2022, 6, 30)),  # a unit that left
            member(hub, e, left=date(2021, 6, 30)),  # E left and came back: counted once
            member(hub, e, joined=date(2023, 1, 1)),
            member(empty, c, left=date(2022, 6, 30)),  # the other hub has only a past member
        ]
    )
    await session.flush()

    body = await hub_stats(client)

    assert (item_of(body, hub)["members"], item_of(body, hub)["member_institutions"]) == (5, 3)
    assert (item_of(body, empty)["members"], item_of(body, empty)["member_institutions"]) == (0, 0)


# --- activities ---------------------------------------------------------------------------


async def test_activities_count_published_ones_per_year_and_kind_oldest_year_first(
    client: httpx.AsyncClient, session: AsyncSession, make_hub: HubFactory
) -> None:
    hub = await make_hub(status=HubStatus.active)
    other = await make_hub(status=HubStatus.inactive)
    session.add_all(
        [
            activity(hub, HubActivityKind.knowledge_sharing, date(2023, 8, 1)),
            activity(hub, HubActivityKind.coaching_clinic, date(2023, 12, 31)),
            activity(hub, HubActivityKind.coaching_clinic, date(2024, 1, 1)),  # the next year
            activity(hub, HubActivityKind.coaching_clinic, date(2023, 1, 1)),
            activity(hub, HubActivityKind.replication_forum, date(2021, 5, 20)),
            # Drafts never count, even of a year or kind with no published activity.
            activity(hub, HubActivityKind.coaching_clinic, date(2023, 3, 3), published=False),
            activity(hub, HubActivityKind.data_update, date(2022, 3, 3), published=False),
            # Another hub's activity counts for that hub only.
            activity(other, HubActivityKind.regional_competition, date(2023, 9, 9)),
            activity(
                other, HubActivityKind.regional_competition, date(2019, 9, 9), published=False
            ),
        ]
    )
    await session.flush()

    body = await hub_stats(client)

    ours = item_of(body, hub)
    assert ours["activities_total"] == 5
    assert ours["activities"] == [
        {"year": 2021, "kind": "replication_forum", "count": 1},
        {"year": 2023, "kind": "coaching_clinic", "count": 2},
        {"year": 2023, "kind": "knowledge_sharing", "count": 1},
        {"year": 2024, "kind": "coaching_clinic", "count": 1},
    ]
    theirs = item_of(body, other)
    assert theirs["activities_total"] == 1
    assert theirs["activities"] == [{"year": 2023, "kind": "regional_competition", "count": 1}]


async def test_a_hub_with_only_draft_activities_has_none(
    client: httpx.AsyncClient, session: AsyncSession, make_hub: HubFactory
) -> None:
    hub = await make_hub(status=HubStatus.designated)
    session.add(activity(hub, HubActivityKind.coaching_clinic, date(2024, 2, 2), published=False))
    await session.flush()

    item = item_of(await hub_stats(client), hub)

    assert (item["activities_total"], item["activities"]) == (0, [])


# --- member innovations -----------------------------------------------------------------------


async def test_member_innovations_count_published_innovations_of_current_members(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_hub: HubFactory,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> None:
    a = await pemkot(make_institution, "73.71")  # a member through one of its units only
    b = await pemkot(make_institution, "73.72")  # a member institution
    c = await pemkot(make_institution, "73.73")  # a member that left
    a1, a2 = await make_unit(a), await make_unit(a)
    b1, b2 = await make_unit(b), await make_unit(b)
    c1 = await make_unit(c)
    for unit, statuses in (
        (a1, [PUBLISHED, PUBLISHED, InnovationStatus.draft, InnovationStatus.archived]),
        (a2, [PUBLISHED]),  # A's other unit: not the member
        (b1, [PUBLISHED, InnovationStatus.draft]),
        (b2, [PUBLISHED]),
        (c1, [PUBLISHED]),
    ):
        for status in statuses:
            await make_innovation(unit, status)

    hub = await make_hub(status=HubStatus.active)
    both = await make_hub(
        status=HubStatus.active
    )  # HubActivityKind and its unit A1 are both members
    nobody = await make_hub(status=HubStatus.active)  # only C, who left
    session.add_all(
        [
            member(hub, a, a1),
            member(hub, b),
            member(hub, c, left=date(2023, 1, 1)),
            member(both, a),
            member(both, a, a1),
            member(nobody, c, c1, left=date(2023, 1, 1)),
        ]
    )
    await session.flush()

    found = items(await hub_stats(client))

    # A1's two published + all of B's published (B1's one, B2's one); nothing of C.
    assert found[str(hub.id)]["member_innovations"] == 4
    # All of A's published (A1's two and A2's one), each counted once.
    assert found[str(both.id)]["member_innovations"] == 3
    assert found[str(nobody.id)]["member_innovations"] == 0


# --- maturity -----------------------------------------------------------------------------


async def test_latest_maturity_is_the_newest_verified_year(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_hub: HubFactory,
    instrument: MaturityInstrument,
) -> None:
    hub = await make_hub(status=HubStatus.active)
    newest_verified = assessment(hub, instrument, 2024, AssessmentStatus.verified, "75.50")
    session.add_all(
        [
            newest_verified,
            # An older year scored higher: the newest year wins, not the best score.
            assessment(hub, instrument, 2023, AssessmentStatus.verified, "90.00"),
            assessment(hub, instrument, 2022, AssessmentStatus.verified, "40.00"),
            # Newer years not verified yet are ignored.
            assessment(hub, instrument, 2025, AssessmentStatus.submitted, "99.00"),
            assessment(hub, instrument, 2026, AssessmentStatus.returned, "98.00"),
            assessment(hub, instrument, 2027, AssessmentStatus.draft),
        ]
    )
    await session.flush()

    item = item_of(await hub_stats(client), hub)

    assert item["latest_maturity"] == {
        "assessment_id": str(newest_verified.id),
        "period_year": 2024,
        "total_score": 75.5,
    }


async def test_latest_maturity_is_null_without_a_verified_assessment(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_hub: HubFactory,
    instrument: MaturityInstrument,
) -> None:
    unverified = await make_hub(status=HubStatus.active)
    never = await make_hub(status=HubStatus.inactive)
    verified = await make_hub(status=HubStatus.designated)
    session.add_all(
        [
            assessment(unverified, instrument, 2024, AssessmentStatus.submitted, "80.00"),
            assessment(unverified, instrument, 2025, AssessmentStatus.draft),
            # Another hub's verified assessment is not theirs.
            assessment(verified, instrument, 2024, AssessmentStatus.verified, "61.25"),
        ]
    )
    await session.flush()

    found = items(await hub_stats(client))

    assert found[str(unverified.id)]["latest_maturity"] is None
    assert found[str(never.id)]["latest_maturity"] is None
    assert found[str(verified.id)]["latest_maturity"]["period_year"] == 2024
    assert found[str(verified.id)]["latest_maturity"]["total_score"] == 61.25


# --- coverage -----------------------------------------------------------------------------


async def test_provinces_are_the_province_regions(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    level_one = await session.scalar(
        select(func.count()).select_from(Region).where(Region.level == 1)
    )

    coverage = (await hub_stats(client))["coverage"]

    assert coverage["provinces"] == level_one == PROVINCES


async def test_coverage_counts_provinces_with_an_active_regional_hub(
    client: httpx.AsyncClient, make_hub: HubFactory, make_institution: InstitutionFactory
) -> None:
    before = (await hub_stats(client))["coverage"]
    ours = {"51", "35", "73", "16", "12"}
    assert not ours & set(before["province_codes"])

    bali = await pemprov(make_institution, "51")
    jatim = await pemprov(make_institution, "35")
    sulsel = await pemprov(make_institution, "73")
    sumsel = await pemprov(make_institution, "16")
    sumut = await pemprov(make_institution, "12")
    await make_hub(bali, HubStatus.active)
    # Jawa Timur: an active hub and an older inactive one of the same host, one province.
    await make_hub(jatim, HubStatus.active)
    await make_hub(jatim, HubStatus.inactive)
    # Provinces whose hub is not active do not count.
    await make_hub(sulsel, HubStatus.inactive)
    await make_hub(sumsel, HubStatus.designated)
    await make_hub(sumut, HubStatus.committed)
    # Central hubs: two active, one inactive, one designated.
    for status in (HubStatus.active, HubStatus.active, HubStatus.inactive, HubStatus.designated):
        await make_hub(status=status)

    after = (await hub_stats(client))["coverage"]

    assert after["provinces"] == before["provinces"] == PROVINCES
    assert after["province_codes"] == sorted({*before["province_codes"], "35", "51"})
    assert after["provinces_with_active_hub"] == before["provinces_with_active_hub"] + 2
    assert after["provinces_with_active_hub"] == len(after["province_codes"])
    assert after["active_regional_hubs"] == before["active_regional_hubs"] + 2
    assert after["active_central_hubs"] == before["active_central_hubs"] + 2


async def test_a_regional_hub_reports_its_host_province(
    client: httpx.AsyncClient, make_hub: HubFactory, make_institution: InstitutionFactory
) -> None:
    regional = await make_hub(await pemprov(make_institution, "75"), HubStatus.inactive)
    central = await make_hub(status=HubStatus.active)

    found = items(await hub_stats(client))

    assert (found[str(regional.id)]["kind"], found[str(regional.id)]["province_code"]) == (
        "regional",
        "75",
    )
    assert (found[str(central.id)]["kind"], found[str(central.id)]["province_code"]) == (
        "central",
        None,
    )


# --- the kind filter ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["regional", "central"])
async def test_kind_filter_keeps_hubs_of_that_kind_and_national_coverage(
    client: httpx.AsyncClient,
    make_hub: HubFactory,
    make_institution: InstitutionFactory,
    kind: str,
) -> None:
    regional = await make_hub(await pemprov(make_institution, "52"), HubStatus.active)
    central = await make_hub(status=HubStatus.active)
    everything = await hub_stats(client)

    body = await hub_stats(client, kind=kind)

    found = items(body)
    kept, dropped = (regional, central) if kind == "regional" else (central, regional)
    assert str(kept.id) in found
    assert str(dropped.id) not in found
    assert body["hubs"]
    assert {item["kind"] for item in body["hubs"]} == {kind}
    assert [item for item in everything["hubs"] if item["kind"] == kind] == body["hubs"]
    # Coverage is national, whatever the list shows.
    assert body["coverage"] == everything["coverage"]
    assert "52" in body["coverage"]["province_codes"]


@pytest.mark.parametrize("kind", ["province", "REGIONAL", "", "pusat"])
async def test_unknown_kind_is_refused(client: httpx.AsyncClient, kind: str) -> None:
    assert_problem(
        await client.get("/v1/stats/hubs", params={"kind": kind}), 422, "validation_failed"
    )
