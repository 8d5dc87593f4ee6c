"""Demo replications and awards.

From the record (DOMAIN.md section 5): the Malang chain (Jarik Ma'Siti of SMP Negeri 10 Kota
Malang, replicated as NASI TIGA BERAS at SMP Negeri 13 and SIMBA ASIA at SMP Negeri 2, inside
Pemerintah Kota Malang), and Kota Malang's awards: Emas Hitam di Balik Tumpukan Sampah (Top 25,
2015), SEPASAR PEDAS (Top 45, 2020), Si Ikan Nila (Top 45, 2021), Jarik Ma'Siti (Top 45 KIPP
2023, which the replication group's entry rules and the replication statistics read) and its
two replicas (Top 5 of the 2024 replication group, PKRI 2024). The demo holds none of the
editions 2015-2021 nor PKRI 2024, so those awards are historic (they name no edition).

Illustrative: the replications' dates, scopes and measures, and the replications across
provinces (facilitated by a hub or the secretariat), which show the other states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import (
    InnovationStatus,
    ReplicationFacilitator,
    ReplicationScope,
    ReplicationStatus,
)
from app.models.innovations import Innovation
from app.models.institutions import Unit
from app.models.replications import Replication
from app.models.submissions import Award
from app.seed.demo_innovations import (
    DELI_SERDANG_EDUCATION,
    DEMI_SEPEDA_BAGUS,
    SMPN2,
    SMPN13,
)
from app.seed.ids import demo_id

MEDAN_ORGANISASI = "Bagian Organisasi Sekretariat Daerah Kota Medan"
MALANG_EDUCATION = "Dinas Pendidikan dan Kebudayaan Kota Malang"
JATIM_BUREAU = "Biro Organisasi Sekretariat Daerah Provinsi Jawa Timur"
HUB_JATIM = "JIPP Provinsi Jawa Timur"
HUB_SUMUT = "JIPP Provinsi Sumatera Utara"
# The order of the steps' dates (a demo replication gives the dates of the steps it reached).
STEPS = (
    "approved_date",
    "agreement_date",
    "implementation_started_date",
    "implemented_date",
    "evaluated_date",
)


@dataclass(frozen=True)
class DemoReplication:
    source: str  # the source innovation's title
    adopter_unit: str
    status: ReplicationStatus
    requested: date
    steps: tuple[date, ...] = ()  # the dates of STEPS reached, in order
    replica: str | None = None  # the replica innovation's title
    scope: ReplicationScope = ReplicationScope.full
    hub: str | None = None
    secretariat: bool = False
    adaptation: str | None = None
    ended: date | None = None  # rejected or discontinued on
    reason: str | None = None
    measures: tuple[dict[str, Any], ...] = field(default_factory=tuple)


DEMO_REPLICATIONS: tuple[DemoReplication, ...] = (
    DemoReplication(
        "Jarik Ma'Siti", SMPN13, ReplicationStatus.evaluated, date(2023, 1, 16),
        (date(2023, 1, 30), date(2023, 2, 13), date(2023, 3, 1), date(2023, 7, 17),
         date(2023, 12, 15)),
        replica="NASI TIGA BERAS",
        adaptation="Kelas pendampingan sebaya ditambah guru pembimbing khusus.",
        measures=(
            {"indicator": "Siswa berkebutuhan khusus yang didampingi", "before": 4, "after": 19,
             "unit": "siswa", "note": None},
            {"indicator": "Guru pembimbing khusus terlatih", "before": 0, "after": 3,
             "unit": "guru", "note": None},
        ),
    ),
    DemoReplication(
        "Jarik Ma'Siti", SMPN2, ReplicationStatus.implemented, date(2023, 1, 23),
        (date(2023, 2, 6), date(2023, 2, 20), date(2023, 3, 6), date(2023, 7, 17)),
        replica="SIMBA ASIA", scope=ReplicationScope.partial,
        adaptation="Pembelajaran dan asesmen disesuaikan; pendamping sebaya belum diterapkan.",
    ),
    # Across provinces, facilitated by hubs and the secretariat.
    DemoReplication(
        "Jarik Ma'Siti", DELI_SERDANG_EDUCATION, ReplicationStatus.implementing, date(2024, 2, 5),
        (date(2024, 2, 19), date(2024, 3, 11), date(2024, 4, 1)), hub=HUB_SUMUT,
        adaptation="Diterapkan di sekolah menengah pertama binaan kabupaten.",
    ),
    DemoReplication(
        "SIKULIN", JATIM_BUREAU, ReplicationStatus.agreement_signed, date(2024, 5, 6),
        (date(2024, 5, 20), date(2024, 6, 10)), hub=HUB_JATIM,
        adaptation="Kunjungan daring ke kantor gubernur, bukan ke dewan.",
    ),
    DemoReplication(
        DEMI_SEPEDA_BAGUS, MALANG_EDUCATION, ReplicationStatus.requested, date(2024, 8, 12),
        secretariat=True, scope=ReplicationScope.partial,
    ),
    DemoReplication(
        "E-Disposisi", JATIM_BUREAU, ReplicationStatus.discontinued, date(2022, 9, 5),
        (date(2022, 9, 19), date(2022, 10, 3), date(2022, 11, 1), date(2023, 3, 1)),
        secretariat=True, ended=date(2024, 1, 15),
        reason="Digantikan oleh sistem persuratan provinsi yang terintegrasi.",
    ),
    DemoReplication(
        'Layanan Kehumasan "DPRD Menyapa"', MEDAN_ORGANISASI, ReplicationStatus.rejected,
        date(2024, 3, 4), ended=date(2024, 3, 18),
        reason="Layanan ini khusus untuk kehumasan dewan dan tidak cocok untuk perangkat daerah.",
    ),
)  # fmt: skip


def _record(spec: DemoReplication, source: Innovation, adopter: Unit) -> Replication:
    dated = dict(zip(STEPS, spec.steps, strict=False))
    created = datetime.combine(spec.requested, datetime.min.time(), UTC)
    key = f"{spec.source}->{spec.adopter_unit}"
    return Replication(
        id=demo_id("replication", key),
        source_innovation_id=source.id,
        source_institution_id=source.institution_id,
        source_unit_id=source.unit_id,
        adopter_institution_id=adopter.institution_id,
        adopter_unit_id=adopter.id,
        facilitator=ReplicationFacilitator.hub
        if spec.hub
        else (ReplicationFacilitator.secretariat if spec.secretariat else None),
        facilitator_hub_id=demo_id("hub", spec.hub) if spec.hub else None,
        scope=spec.scope,
        adaptation=spec.adaptation,
        status=spec.status,
        requested_date=spec.requested,
        **dated,
        rejected_date=spec.ended if spec.status is ReplicationStatus.rejected else None,
        discontinued_date=spec.ended if spec.status is ReplicationStatus.discontinued else None,
        rejection_reason=spec.reason if spec.status is ReplicationStatus.rejected else None,
        discontinuation_reason=spec.reason
        if spec.status is ReplicationStatus.discontinued
        else None,
        documents=[],
        benefit_measures=list(spec.measures),
        replica_innovation_id=demo_id("innovation", spec.replica) if spec.replica else None,
        created_at=created,
        updated_at=created,
    )


@dataclass(frozen=True)
class DemoAward:
    innovation: str  # the innovation's demo name
    tier: str
    year: int
    title: str
    competition: str | None = None  # the demo edition's code; None: a historic award


DEMO_AWARDS: tuple[DemoAward, ...] = (
    DemoAward(
        "Emas Hitam di Balik Tumpukan Sampah", "top_25", 2015,
        "Top 25 Inovasi Pelayanan Publik KIPP 2015",
    ),
    DemoAward("SEPASAR PEDAS", "top_45", 2020, "Top 45 Inovasi Pelayanan Publik KIPP 2020"),
    DemoAward("Si Ikan Nila", "top_45", 2021, "Top 45 Inovasi Pelayanan Publik KIPP 2021"),
    # KIPP 2023 itself: the award does not bar the entry the demo edition holds.
    DemoAward(
        "Jarik Ma'Siti", "top_45", 2023, "Top 45 Inovasi Pelayanan Publik KIPP 2023", "KIPP-2023"
    ),
    DemoAward("NASI TIGA BERAS", "top_5", 2024, "Top 5 Kelompok Replikasi PKRI 2024"),
    DemoAward("SIMBA ASIA", "top_5", 2024, "Top 5 Kelompok Replikasi PKRI 2024"),
)  # fmt: skip


async def load_demo_replications(session: AsyncSession) -> int:
    """Add the demo replications and awards that are missing (after the demo innovations,
    hubs and competitions); returns how many."""
    added = 0
    for award in DEMO_AWARDS:
        award_id = demo_id("award", f"{award.innovation}:{award.tier}:{award.year}")
        if await session.get(Award, award_id) is not None:
            continue
        innovation = await session.get(Innovation, demo_id("innovation", award.innovation))
        assert innovation is not None, f"demo innovation {award.innovation} is missing"
        session.add(
            Award(
                id=award_id,
                innovation_id=innovation.id,
                institution_id=innovation.institution_id,
                competition_id=demo_id("competition", award.competition)
                if award.competition
                else None,
                tier=award.tier,
                year=award.year,
                title=award.title,
            )
        )
        added += 1
    for spec in DEMO_REPLICATIONS:
        source = await session.get(Innovation, demo_id("innovation", spec.source))
        adopter = await session.get(Unit, demo_id("unit", spec.adopter_unit))
        assert source is not None, spec.source
        assert source.status is InnovationStatus.published, spec.source
        assert adopter is not None, spec.adopter_unit
        record = _record(spec, source, adopter)
        if await session.get(Replication, record.id) is not None:
            continue
        session.add(record)
        added += 1
    await session.flush()
    return added
