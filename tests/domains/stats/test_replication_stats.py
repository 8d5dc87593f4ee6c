"""GET /v1/stats/replications: "N innovations replicated by M institutions" (distinct sources
and distinct adopter institutions over the replications that reached implementation, of
published sources), the award-winning share, the median days from request to implementation,
optional groups and the most replicated sources.

The test database holds the seeded regions and nothing else that outlives a test, so the
unfiltered figures are exact; the world's replications were all implemented in 1991-1994, and
the extra records of the ordering tests in 1979-1980, outside that window.

The world (days = implemented_date - requested_date; every requested date is 1 January of the
implemented year, so the implemented year is the requested year):

    counted  source          adopter (unit)       hub   status                 year  days
    R1       SIGAP  (S1)     Malang (mlg)         H     implemented            1991   30
    R2       SIGAP  (S1)     Surabaya (sby1)      H     evaluated              1992   60
    R3       SIGAP  (S1)     Surabaya (sby2)      -     implemented            1992   90
    R4       SIGAP  (S1)     Jatim (jatim)        -     discontinued after     1993  120
    R5       ANTRI  (S2)     Malang (mlg)         H     evaluated              1993  150
    R6       ANTRI  (S2)     Jatim (jatim)        -     implemented            1994   10
    R7       BERSIH (S3)     Medan (mdn)          -     implemented            1994  200
    R8       BERSIH (S3)     Surabaya (sby1)      -     implemented            1991   41
    R9       BERSIH (S3)     Surabaya (sby2)      H     evaluated              1993   80

    not counted
    N1       SIGAP  (S1)     Jatim (jatim)        H     requested (after R4 ended)
    N2       ANTRI  (S2)     Medan (mdn)          -     rejected
    N3       BERSIH (S3)     Kab. Malang (kmlg)   -     discontinued before implementation
    N4       ARSIP  (S4)     Kab. Malang (kmlg)   H     implemented 1992, source archived
    N5       ANTRI  (S2)     Surabaya (sby2)      -     implementing
    N6       BERSIH (S3)     Jatim (jatim)        -     approved
    N7       ANTRI  (S2)     Surabaya (sby1)      -     agreement_signed
    N8       DRAF   (S5)     Kab. Malang (kmlg)   -     evaluated 1993, source a draft

Awards: SIGAP top_5 and top_45, ANTRI top_99, BERSIH none, ARSIP (archived) top_45.
Adopters: Malang, Surabaya, Medan (pemkot: 35.73, 35.78, 12.71), Jatim (pemprov, 35), and
Kabupaten Malang (pemkab, 35.07) whose replications never count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import (
    HubStatus,
    InnovationStatus,
    InstitutionKind,
    ReplicationFacilitator,
    ReplicationScope,
    ReplicationStatus,
)
from app.models.hubs import Hub
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from app.models.replications import Replication
from app.models.submissions import Award
from tests.conftest import HubFactory, InnovationFactory, InstitutionFactory, UnitFactory
from tests.domains import assert_problem

Body = dict[str, Any]
Params = dict[str, Any]
RS = ReplicationStatus
PATH = "/v1/stats/replications"
HUB_NAME = "JIPP Jawa Timur Uji Replikasi"


def replication(
    source: Innovation,
    adopter: Unit,
    status: ReplicationStatus,
    requested: date,
    *,
    days: int | None = None,
    hub: Hub | None = None,
    secretariat: bool = False,
) -> Replication:
    """A replication of `source` by `adopter` with the date of every step it reached: approval,
    agreement and start on the request day, implementation `days` after it. A discontinued
    replication with `days` was implemented first; without, it stopped while implementing."""
    implemented = status in (RS.implemented, RS.evaluated) or (
        status is RS.discontinued and days is not None
    )
    approved = status not in (RS.requested, RS.rejected)
    agreed = approved and status is not RS.approved
    started = agreed and status is not RS.agreement_signed
    implemented_date = requested + timedelta(days=days) if implemented and days else None
    if implemented:
        assert implemented_date is not None
    facilitator = (
        ReplicationFacilitator.hub
        if hub
        else ReplicationFacilitator.secretariat
        if secretariat
        else None
    )
    return Replication(
        source_innovation_id=source.id,
        source_institution_id=source.institution_id,
        source_unit_id=source.unit_id,
        adopter_institution_id=adopter.institution_id,
        adopter_unit_id=adopter.id,
        facilitator=facilitator,
        facilitator_hub_id=hub.id if hub else None,
        scope=ReplicationScope.full,
        status=status,
        requested_date=requested,
        approved_date=requested if approved else None,
        rejected_date=requested + timedelta(days=5) if status is RS.rejected else None,
        rejection_reason="Belum siap." if status is RS.rejected else None,
        agreement_date=requested if agreed else None,
        implementation_started_date=requested if started else None,
        implemented_date=implemented_date,
        evaluated_date=(
            implemented_date + timedelta(days=30)
            if status is RS.evaluated and implemented_date
            else None
        ),
        discontinued_date=(
            (implemented_date or requested) + timedelta(days=40)
            if status is RS.discontinued
            else None
        ),
        discontinuation_reason="Anggaran dialihkan." if status is RS.discontinued else None,
    )


def jan1(year: int) -> date:
    return date(year, 1, 1)


@dataclass
class World:
    client: httpx.AsyncClient
    session: AsyncSession
    make_innovation: InnovationFactory
    hub: Hub
    institutions: dict[str, Institution]
    units: dict[str, Unit]
    sources: dict[str, Innovation]

    async def stats(self, **params: Any) -> Body:
        response = await self.client.get(PATH, params=params)
        assert response.status_code == 200, response.text
        body: Body = response.json()
        return body

    def top(self, key: str, adopters: int, replications: int) -> Body:
        source = self.sources[key]
        owner = self.institutions["own1" if key in ("S1", "S2") else "own2"]
        assert source.institution_id == owner.id
        return {
            "innovation_id": str(source.id),
            "title": source.title,
            "institution_id": str(owner.id),
            "institution_name": owner.name,
            "adopter_institutions": adopters,
            "replications": replications,
        }


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    session: AsyncSession,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
    make_hub: HubFactory,
) -> World:
    institutions = {
        "own1": await make_institution(
            "Kementerian Sumber Replikasi Uji", InstitutionKind.kementerian, None
        ),
        "own2": await make_institution(
            "Lembaga Sumber Replikasi Uji", InstitutionKind.lembaga, None
        ),
        "mlg": await make_institution(
            "Pemerintah Kota Malang Uji", InstitutionKind.pemkot, "35.73"
        ),
        "sby": await make_institution(
            "Pemerintah Kota Surabaya Uji", InstitutionKind.pemkot, "35.78"
        ),
        "mdn": await make_institution("Pemerintah Kota Medan Uji", InstitutionKind.pemkot, "12.71"),
        "jatim": await make_institution(
            "Pemerintah Provinsi Jawa Timur Uji", InstitutionKind.pemprov, "35"
        ),
        "kmlg": await make_institution(
            "Pemerintah Kabupaten Malang Uji", InstitutionKind.pemkab, "35.07"
        ),
    }
    i = institutions
    units = {
        "src1": await make_unit(i["own1"], "Biro Sumber Satu"),
        "src2": await make_unit(i["own2"], "Biro Sumber Dua"),
        "mlg": await make_unit(i["mlg"], "Dinas Kependudukan Kota Malang"),
        "sby1": await make_unit(i["sby"], "Dinas Kesehatan Kota Surabaya"),
        "sby2": await make_unit(i["sby"], "Dinas Pendidikan Kota Surabaya"),
        "mdn": await make_unit(i["mdn"], "Dinas Kesehatan Kota Medan"),
        "jatim": await make_unit(i["jatim"], "Biro Organisasi Provinsi Jawa Timur"),
        "kmlg": await make_unit(i["kmlg"], "Dinas Kesehatan Kabupaten Malang"),
    }
    u = units
    published = InnovationStatus.published
    sources = {
        "S1": await make_innovation(u["src1"], published, title="SIGAP"),
        "S2": await make_innovation(u["src1"], published, title="ANTRI"),
        "S3": await make_innovation(u["src2"], published, title="BERSIH"),
        "S4": await make_innovation(u["src2"], InnovationStatus.archived, title="ARSIP"),
        "S5": await make_innovation(u["src2"], InnovationStatus.draft, title="DRAF"),
    }
    s = sources
    hub = await make_hub(i["jatim"], HubStatus.active, name=HUB_NAME)

    def award(source: Innovation, tier: str, year: int) -> Award:
        return Award(
            innovation_id=source.id,
            institution_id=source.institution_id,
            tier=tier,
            year=year,
            title=f"KIPP {year} {tier}",
        )

    session.add_all(
        [
            award(s["S1"], "top_45", 2021),
            award(s["S1"], "top_5", 2022),
            award(s["S2"], "top_99", 2023),
            award(s["S4"], "top_45", 2021),
        ]
    )
    session.add_all(
        [
            # counted
            replication(s["S1"], u["mlg"], RS.implemented, jan1(1991), days=30, hub=hub),
            replication(s["S1"], u["sby1"], RS.evaluated, jan1(1992), days=60, hub=hub),
            replication(s["S1"], u["sby2"], RS.implemented, jan1(1992), days=90, secretariat=True),
            replication(s["S1"], u["jatim"], RS.discontinued, jan1(1993), days=120),
            replication(s["S2"], u["mlg"], RS.evaluated, jan1(1993), days=150, hub=hub),
            replication(s["S2"], u["jatim"], RS.implemented, jan1(1994), days=10),
            replication(s["S3"], u["mdn"], RS.implemented, jan1(1994), days=200),
            replication(s["S3"], u["sby1"], RS.implemented, jan1(1991), days=41),
            replication(s["S3"], u["sby2"], RS.evaluated, jan1(1993), days=80, hub=hub),
            # not counted
            replication(s["S1"], u["jatim"], RS.requested, jan1(1994), hub=hub),
            replication(s["S2"], u["mdn"], RS.rejected, jan1(1992)),
            replication(s["S3"], u["kmlg"], RS.discontinued, jan1(1992)),
            replication(s["S4"], u["kmlg"], RS.implemented, jan1(1992), days=20, hub=hub),
            replication(s["S2"], u["sby2"], RS.implementing, jan1(1993)),
            replication(s["S3"], u["jatim"], RS.approved, jan1(1993)),
            replication(s["S2"], u["sby1"], RS.agreement_signed, jan1(1994)),
            replication(s["S5"], u["kmlg"], RS.evaluated, jan1(1993), days=25),
        ]
    )
    await session.flush()
    return World(client, session, make_innovation, hub, institutions, units, sources)


def figures(body: Body) -> tuple[int, int, int]:
    return body["replicated_innovations"], body["adopter_institutions"], body["replications"]


def groups(body: Body) -> list[tuple[str, str | None, int, int, int]]:
    """(key, label, sources, adopter institutions, replications) per group, in order."""
    return [(g["key"], g["label"], *figures(g)) for g in body["groups"]]


# --- headline figures -----------------------------------------------------------------------


async def test_headline_figures_count_implemented_replications_of_published_sources(
    world: World,
) -> None:
    body = await world.stats()
    assert body == {
        # R1-R9: sources S1, S2, S3; adopters Malang, Surabaya, Jatim, Medan (Kabupaten Malang
        # only has replications that never count); 9 replications.
        "replicated_innovations": 3,
        "adopter_institutions": 4,
        "replications": 9,
        # R1-R6 (S1, S2): adopters Malang, Surabaya, Jatim; ARSIP's top_45 is not counted.
        "award_winning": {
            "replicated_innovations": 2,
            "adopter_institutions": 3,
            "replications": 6,
        },
        # days sorted: 10 30 41 60 [80] 90 120 150 200 -> the 5th of 9.
        "median_days_to_implementation": 80.0,
        "group_by": None,
        "groups": [],
        # S1: 3 adopters (Malang, Surabaya, Jatim), 4 replications; S3 and S2 tie on 2 adopters
        # (Medan, Surabaya / Malang, Jatim), S3 has 3 replications, S2 2, so S3 first although
        # ANTRI sorts before BERSIH.
        "top_innovations": [
            world.top("S1", 3, 4),
            world.top("S3", 2, 3),
            world.top("S2", 2, 2),
        ],
    }


async def test_the_same_figures_under_a_year_window_that_holds_the_whole_world(
    world: World,
) -> None:
    body = await world.stats(year_from=1991, year_to=1994)
    assert figures(body) == (3, 4, 9)
    assert figures(body["award_winning"]) == (2, 3, 6)
    assert body["median_days_to_implementation"] == 80.0


async def test_a_discontinued_replication_counts_only_when_it_was_implemented(
    world: World,
) -> None:
    # 1993: R4 (discontinued after implementation), R5, R9; not N3 (discontinued while
    # implementing, requested 1992) nor N8 (draft source).
    body = await world.stats(year_from=1993, year_to=1993)
    # sources S1, S2, S3; adopters Jatim, Malang, Surabaya; days 120 150 80 -> sorted 80 [120] 150
    assert figures(body) == (3, 3, 3)
    assert body["median_days_to_implementation"] == 120.0
    assert body["top_innovations"] == [
        # all 1 adopter, 1 replication: by title ANTRI, BERSIH, SIGAP
        world.top("S2", 1, 1),
        world.top("S3", 1, 1),
        world.top("S1", 1, 1),
    ]


async def test_the_source_must_be_published_now(world: World) -> None:
    # 1992: R2, R3 counted; N4 (archived source, implemented 1992) not.
    body = await world.stats(year_from=1992, year_to=1992)
    # source S1; adopter Surabaya (two units); 2 replications
    assert figures(body) == (1, 1, 2)
    assert figures(body["award_winning"]) == (1, 1, 2)
    # even count: (60 + 90) / 2 = 75
    assert body["median_days_to_implementation"] == 75.0
    assert body["top_innovations"] == [world.top("S1", 1, 2)]

    # Archiving SIGAP takes its replications out of every figure.
    # (the test's objects are detached by the request: update the row itself)
    await world.session.execute(
        update(Innovation)
        .where(Innovation.id == world.sources["S1"].id)
        .values(status=InnovationStatus.archived, archived_at=datetime.now(UTC))
    )
    body = await world.stats()
    # R5-R9: sources S2, S3; adopters Malang, Jatim, Medan, Surabaya; 5 replications
    assert figures(body) == (2, 4, 5)
    # R5, R6 (ANTRI): adopters Malang, Jatim
    assert figures(body["award_winning"]) == (1, 2, 2)
    # days 150 10 200 41 80 -> sorted 10 41 [80] 150 200
    assert body["median_days_to_implementation"] == 80.0
    assert body["top_innovations"] == [world.top("S3", 2, 3), world.top("S2", 2, 2)]


async def test_a_replication_that_reaches_implementation_starts_counting(
    world: World,
) -> None:
    # A new implemented replication of ANTRI by Medan in 1994, 100 days after its request.
    world.session.add(
        replication(world.sources["S2"], world.units["mdn"], RS.implemented, jan1(1994), days=100)
    )
    await world.session.flush()
    body = await world.stats(year_from=1994)
    # R6, R7 and the new one: sources S2, S3; adopters Jatim, Medan; 3 replications
    assert figures(body) == (2, 2, 3)
    # days 10 200 100 -> sorted 10 [100] 200
    assert body["median_days_to_implementation"] == 100.0


async def test_median_of_an_even_count_is_the_mean_of_the_middle_two(world: World) -> None:
    # 1991: R1 (30 days), R8 (41 days): (30 + 41) / 2 = 35.5
    body = await world.stats(year_from=1991, year_to=1991)
    assert body["median_days_to_implementation"] == 35.5
    # sources S1, S3; adopters Malang, Surabaya
    assert figures(body) == (2, 2, 2)


# --- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected", "awarded", "median"),
    [
        # R4 R5 R9 R6 R7: S1 S2 S3; Jatim Malang Surabaya Medan; days sorted 10 80 [120] 150 200
        # award-winning R4 R5 R6: S1 S2; Jatim, Malang
        ({"year_from": 1993}, (3, 4, 5), (2, 2, 3), 120.0),
        # R1 R8 R2 R3: S1 S3; Malang Surabaya; days 30 41 60 90 -> (41 + 60) / 2
        # award-winning R1 R2 R3: S1; Malang, Surabaya
        ({"year_to": 1992}, (2, 2, 4), (1, 2, 3), 50.5),
        # R6 R7: S2 S3; Jatim Medan; (10 + 200) / 2; award-winning R6 (S2, Jatim)
        ({"year_from": 1994, "year_to": 1994}, (2, 2, 2), (1, 1, 1), 105.0),
        # every counted one but R7 (Medan): S1 S2 S3; Malang Surabaya Jatim;
        # days sorted 10 30 41 60 80 90 120 150 -> (60 + 80) / 2
        # award-winning R1-R6: S1 S2; Malang Surabaya Jatim
        ({"province": "35"}, (3, 3, 8), (2, 3, 6), 70.0),
        # Surabaya's R2 R3 R8 R9: S1 S3; days 41 60 80 90 -> (60 + 80) / 2
        # award-winning R2 R3: S1
        ({"province": "35.78"}, (2, 1, 4), (1, 1, 2), 70.0),
        # Malang's R1 R5: S1 S2; (30 + 150) / 2; both award-winning
        ({"province": "35.73"}, (2, 1, 2), (2, 1, 2), 90.0),
        # Medan's R7: S3, not award-winning
        ({"province": "12"}, (1, 1, 1), (0, 0, 0), 200.0),
        # Kabupaten Malang adopted only in replications that never count.
        ({"province": "35.07"}, (0, 0, 0), (0, 0, 0), None),
        # R1-R6: S1 S2; Malang Surabaya Jatim; days 10 30 60 90 120 150 -> (60 + 90) / 2
        ({"award_winning": "true"}, (2, 3, 6), (2, 3, 6), 75.0),
        ({"award_winning": "false"}, (3, 4, 9), (2, 3, 6), 80.0),
        # province 35 in 1993: R4 R5 R9: S1 S2 S3; Jatim Malang Surabaya; 80 [120] 150
        # award-winning R4 R5: S1 S2; Jatim Malang
        ({"province": "35", "year_from": 1993, "year_to": 1993}, (3, 3, 3), (2, 2, 2), 120.0),
        # award-winning in province 35 from 1993: R4 R5 R6: S1 S2; Jatim Malang; 10 [120] 150
        (
            {"province": "35", "year_from": 1993, "award_winning": "true"},
            (2, 2, 3),
            (2, 2, 3),
            120.0,
        ),
        # nothing implemented in 1995 or later
        ({"year_from": 1995}, (0, 0, 0), (0, 0, 0), None),
        ({"year_from": 1990, "year_to": 1990}, (0, 0, 0), (0, 0, 0), None),
    ],
)
async def test_filters_narrow_every_figure(
    world: World,
    params: Params,
    expected: tuple[int, int, int],
    awarded: tuple[int, int, int],
    median: float | None,
) -> None:
    body = await world.stats(**params)
    assert figures(body) == expected
    assert figures(body["award_winning"]) == awarded
    assert body["median_days_to_implementation"] == median


async def test_filters_narrow_the_top_innovations(world: World) -> None:
    # Medan: R7 only (BERSIH)
    body = await world.stats(province="12")
    assert body["top_innovations"] == [world.top("S3", 1, 1)]
    # award-winning: SIGAP (Malang Surabaya Jatim, 4), ANTRI (Malang Jatim, 2); no BERSIH
    body = await world.stats(award_winning="true")
    assert body["top_innovations"] == [world.top("S1", 3, 4), world.top("S2", 2, 2)]
    # Surabaya: SIGAP R2 R3, BERSIH R8 R9: both 1 adopter, 2 replications: BERSIH by title
    body = await world.stats(province="35.78")
    assert body["top_innovations"] == [world.top("S3", 1, 2), world.top("S1", 1, 2)]


async def test_nothing_counted_is_zeros_and_empty_lists(world: World) -> None:
    body = await world.stats(year_from=1995, group_by="year")
    assert body == {
        "replicated_innovations": 0,
        "adopter_institutions": 0,
        "replications": 0,
        "award_winning": {
            "replicated_innovations": 0,
            "adopter_institutions": 0,
            "replications": 0,
        },
        "median_days_to_implementation": None,
        "group_by": "year",
        "groups": [],
        "top_innovations": [],
    }


# --- groups ---------------------------------------------------------------------------------


async def test_groups_by_year_oldest_first(world: World) -> None:
    body = await world.stats(group_by="year")
    assert body["group_by"] == "year"
    assert groups(body) == [
        # R1 R8: S1 S3; Malang Surabaya
        ("1991", None, 2, 2, 2),
        # R2 R3: S1; Surabaya
        ("1992", None, 1, 1, 2),
        # R4 R5 R9: S1 S2 S3; Jatim Malang Surabaya
        ("1993", None, 3, 3, 3),
        # R6 R7: S2 S3; Jatim Medan
        ("1994", None, 2, 2, 2),
    ]
    # the headline figures stay those of every group together
    assert figures(body) == (3, 4, 9)


async def test_groups_by_province_of_the_adopter(world: World) -> None:
    body = await world.stats(group_by="province")
    assert groups(body) == [
        # Malang, Surabaya, Jatim: R1-R6, R8, R9: S1 S2 S3
        ("35", "Jawa Timur", 3, 3, 8),
        # Medan: R7
        ("12", "Sumatera Utara", 1, 1, 1),
    ]


async def test_groups_by_facilitating_hub(world: World) -> None:
    body = await world.stats(group_by="hub")
    assert groups(body) == [
        # R3 (secretariat), R4, R6, R7, R8: S1 S2 S3; Surabaya Jatim Medan
        ("none", None, 3, 3, 5),
        # R1 R2 R5 R9 (not N1, N4): S1 S2 S3; Malang Surabaya
        (str(world.hub.id), HUB_NAME, 3, 2, 4),
    ]


async def test_hub_groups_tied_on_replications_order_by_sources(world: World) -> None:
    # 1991-1992: hub R1 R2 (S1 only), none R3 R8 (S1, S3): 2 replications each, so the one
    # with more sources first ("none" would sort after a hex id by key).
    body = await world.stats(group_by="hub", year_to=1992)
    assert groups(body) == [
        # R3 R8: S1 S3; Surabaya
        ("none", None, 2, 1, 2),
        # R1 R2: S1; Malang Surabaya
        (str(world.hub.id), HUB_NAME, 1, 2, 2),
    ]


async def test_groups_by_adopter_institution_kind(world: World) -> None:
    body = await world.stats(group_by="institution_kind")
    assert groups(body) == [
        # Malang Surabaya Medan: R1 R2 R3 R5 R7 R8 R9: S1 S2 S3
        ("pemkot", None, 3, 3, 7),
        # Jatim: R4 R6: S1 S2 (Kabupaten Malang's pemkab never shows)
        ("pemprov", None, 2, 1, 2),
    ]


async def test_groups_by_source_award_tier_count_a_source_in_each_of_its_tiers(
    world: World,
) -> None:
    body = await world.stats(group_by="source_award_tier")
    assert groups(body) == [
        # SIGAP holds both: R1-R4; Malang Surabaya Jatim. Tied: by key, "top_45" < "top_5".
        ("top_45", None, 1, 3, 4),
        ("top_5", None, 1, 3, 4),
        # BERSIH: R7 R8 R9; Medan Surabaya
        ("none", None, 1, 2, 3),
        # ANTRI: R5 R6; Malang Jatim
        ("top_99", None, 1, 2, 2),
    ]
    # the headline figures count SIGAP once
    assert figures(body) == (3, 4, 9)


async def test_a_second_award_of_the_same_tier_does_not_count_twice(world: World) -> None:
    world.session.add(
        Award(
            innovation_id=world.sources["S2"].id,
            institution_id=world.sources["S2"].institution_id,
            tier="top_99",
            year=2024,
            title="KIPP 2024 top_99",
        )
    )
    await world.session.flush()
    body = await world.stats(group_by="source_award_tier")
    # ANTRI still: R5 R6; Malang Jatim
    assert ("top_99", None, 1, 2, 2) in groups(body)
    assert figures(body["award_winning"]) == (2, 3, 6)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            # 1994: R6 (ANTRI, Jatim), R7 (BERSIH, Medan)
            {"group_by": "source_award_tier", "year_from": 1994},
            [("none", None, 1, 1, 1), ("top_99", None, 1, 1, 1)],
        ),
        (
            # Surabaya only: R2 R3 R8 R9
            {"group_by": "province", "province": "35.78"},
            [("35", "Jawa Timur", 2, 1, 4)],
        ),
        (
            # 1993: R4 (Jatim), R5 (Malang), R9 (Surabaya)
            {"group_by": "institution_kind", "year_from": 1993, "year_to": 1993},
            [("pemkot", None, 2, 2, 2), ("pemprov", None, 1, 1, 1)],
        ),
        (
            # award-winning from 1992: R2 R3 R4 R5 R6
            {"group_by": "year", "year_from": 1992, "award_winning": "true"},
            [("1992", None, 1, 1, 2), ("1993", None, 2, 2, 2), ("1994", None, 1, 1, 1)],
        ),
    ],
)
async def test_groups_apply_the_filters(
    world: World, params: Params, expected: list[tuple[str, str | None, int, int, int]]
) -> None:
    body = await world.stats(**params)
    assert groups(body) == expected


async def test_award_tier_groups_of_award_winning_sources_only(world: World) -> None:
    body = await world.stats(group_by="source_award_tier", award_winning="true")
    # R1-R6: no "none" group (BERSIH left out); SIGAP in both its tiers, ANTRI in top_99
    assert groups(body) == [
        ("top_45", None, 1, 3, 4),
        ("top_5", None, 1, 3, 4),
        ("top_99", None, 1, 2, 2),
    ]
    assert figures(body) == (2, 3, 6)


async def test_groups_apply_the_filters_to_the_hub(world: World) -> None:
    # Medan: R7, no hub
    body = await world.stats(group_by="hub", province="12")
    assert groups(body) == [("none", None, 1, 1, 1)]
    # Malang: R1 R5, both through the hub: S1 S2
    body = await world.stats(group_by="hub", province="35.73")
    assert groups(body) == [(str(world.hub.id), HUB_NAME, 2, 1, 2)]


# --- the top list's order and size ----------------------------------------------------------


async def test_top_orders_by_adopters_then_replications_then_title_then_id(
    world: World,
) -> None:
    u = world.units
    sby3 = Unit(institution_id=world.institutions["sby"].id, name="Dinas Sosial Kota Surabaya")
    world.session.add(sby3)
    await world.session.flush()
    new = {
        key: await world.make_innovation(u["src1"], InnovationStatus.published, title=title)
        for key, title in [
            ("zebra", "ZEBRA"),
            ("yakin", "YAKIN"),
            ("aksara", "AKSARA"),
            ("kembar1", "KEMBAR"),
            ("kembar2", "KEMBAR"),
        ]
    }
    year = jan1(1980)
    world.session.add_all(
        [
            # ZEBRA: 2 adopters (Malang, Medan), 2 replications
            replication(new["zebra"], u["mlg"], RS.implemented, year, days=10),
            replication(new["zebra"], u["mdn"], RS.implemented, year, days=10),
            # YAKIN: 1 adopter (Surabaya), 3 replications
            replication(new["yakin"], u["sby1"], RS.implemented, year, days=10),
            replication(new["yakin"], u["sby2"], RS.implemented, year, days=10),
            replication(new["yakin"], sby3, RS.implemented, year, days=10),
            # AKSARA, KEMBAR, KEMBAR: 1 adopter, 1 replication each
            replication(new["kembar1"], u["jatim"], RS.implemented, year, days=10),
            replication(new["kembar2"], u["jatim"], RS.implemented, year, days=10),
            replication(new["aksara"], u["mdn"], RS.implemented, year, days=10),
        ]
    )
    await world.session.flush()
    body = await world.stats(year_from=1980, year_to=1980)
    # 5 sources; Malang Medan Surabaya Jatim; 8 replications
    assert figures(body) == (5, 4, 8)
    twins = sorted([new["kembar1"], new["kembar2"]], key=lambda row: str(row.id))
    owner = world.institutions["own1"]
    assert [
        (item["innovation_id"], item["adopter_institutions"], item["replications"])
        for item in body["top_innovations"]
    ] == [
        (str(new["zebra"].id), 2, 2),
        (str(new["yakin"].id), 1, 3),
        (str(new["aksara"].id), 1, 1),
        (str(twins[0].id), 1, 1),
        (str(twins[1].id), 1, 1),
    ]
    assert {item["institution_id"] for item in body["top_innovations"]} == {str(owner.id)}
    assert {item["institution_name"] for item in body["top_innovations"]} == {owner.name}


async def test_top_lists_at_most_ten_sources(world: World) -> None:
    titles = [f"T{n:02d}" for n in range(1, 13)]
    for title in titles:
        source = await world.make_innovation(
            world.units["src2"], InnovationStatus.published, title=title
        )
        world.session.add(
            replication(source, world.units["mlg"], RS.implemented, jan1(1979), days=10)
        )
    await world.session.flush()
    body = await world.stats(year_from=1979, year_to=1979)
    # 12 sources, adopter Malang, 12 replications; all tied, so the first 10 titles
    assert figures(body) == (12, 1, 12)
    assert [item["title"] for item in body["top_innovations"]] == titles[:10]
    # the whole world adds the 12: 3 + 12 sources, 4 adopters, 9 + 12 replications
    body = await world.stats()
    assert figures(body) == (15, 4, 21)
    assert len(body["top_innovations"]) == 10


# --- access and validation ------------------------------------------------------------------


async def test_is_public(world: World) -> None:
    response = await world.client.get(PATH)
    assert response.status_code == 200, response.text


async def test_year_from_after_year_to_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(PATH, params={"year_from": 1994, "year_to": 1993})
    problem = assert_problem(response, 422, "stats.year_range")
    assert [(e["parameter"], e["location"]) for e in problem["errors"]] == [("year_from", "query")]


async def test_a_one_year_range_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.get(PATH, params={"year_from": 1994, "year_to": 1994})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("group_by", ["month", "status", "", "YEAR", "sdg", "award_tier"])
async def test_unknown_group_by_is_refused(client: httpx.AsyncClient, group_by: str) -> None:
    response = await client.get(PATH, params={"group_by": group_by})
    assert_problem(response, 422, "validation_failed")


@pytest.mark.parametrize(
    "params",
    [
        {"year_from": 1944},
        {"year_to": 2101},
        {"year_from": "abc"},
        {"province": "3"},
        {"province": "35.7"},
        {"province": "jatim"},
        {"award_winning": "maybe"},
    ],
)
async def test_invalid_filters_are_refused(client: httpx.AsyncClient, params: Params) -> None:
    assert_problem(await client.get(PATH, params=params), 422, "validation_failed")
