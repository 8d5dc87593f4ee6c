"""Demo competitions: KIPP 2023 with the 2023 general-group weights (DOMAIN.md section 3), a
replication group and entries from the demo institutions in every screening state, and KIPP
2024, cancelled (replaced by the PKRI monitoring round). The entry rules' values (ages, caps,
tiers) are demo values: DOMAIN.md gives 2021's, not 2023's. Which innovations entered, and how
they fared in screening, are illustrative too (Jarik Ma'Siti's Top 45 of 2023 is the record)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dates import WIB
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.enums import (
    CompetitionScope,
    CompetitionStatus,
    RoundKind,
    ScreeningOutcome,
    ScreeningReason,
    SubmissionStatus,
)
from app.models.innovations import Innovation
from app.models.submissions import Submission, SubmissionAnswer
from app.seed.ids import demo_id

KEMENPAN = "Kementerian Pendayagunaan Aparatur Negara dan Reformasi Birokrasi"
LEGAL_BASIS = ["Peraturan Menteri PANRB Nomor 91 Tahun 2021"]
# KIPP 2023, general group (DOMAIN.md section 3, src).
KIPP_2023_WEIGHTS = (
    ("Ringkasan", 0),
    ("Latar Belakang dan Tujuan", 10),
    ("Kebaruan", 15),
    ("Implementasi", 5),
    ("Signifikansi dan Dampak", 30),
    ("Adaptabilitas", 20),
    ("Sumber Daya", 5),
    ("Keberlanjutan", 15),
)
CATEGORIES = (
    ("tata_kelola", "Tata Kelola Pemerintahan yang Baik"),
    ("pendidikan", "Pendidikan dan Kebudayaan"),
    ("pelayanan_publik", "Pelayanan Publik Terpadu"),
)
# (innovation title, category, status, screening reason, note)
ENTRIES = (
    ("SIKULIN", "tata_kelola", SubmissionStatus.screened_in, None, None),
    ("Jarik Ma'Siti", "pendidikan", SubmissionStatus.screened_in, None, None),
    ("RINDU", "pelayanan_publik", SubmissionStatus.screened_in, None, None),
    ("E-SAKIP", "tata_kelola", SubmissionStatus.submitted, None, None),
    (
        "VTT",
        "tata_kelola",
        SubmissionStatus.screened_out,
        ScreeningReason.incomplete,
        "Tautan video bukti pelaksanaan tidak dapat dibuka.",
    ),
    ("E-Reses", "tata_kelola", SubmissionStatus.expired, None, None),
)


def _kipp_2023() -> Competition:
    return Competition(
        id=demo_id("competition", "KIPP-2023"),
        code="KIPP-2023",
        name="Kompetisi Inovasi Pelayanan Publik 2023",
        year=2023,
        scope=CompetitionScope.national,
        organiser_institution_id=demo_id("institution", KEMENPAN),
        theme="Inovasi untuk Pelayanan Publik yang Berdampak",
        legal_basis=LEGAL_BASIS,
        registration_opens_at=datetime(2023, 1, 9, tzinfo=WIB),
        registration_closes_at=datetime(2023, 3, 31, 23, 59, 59, tzinfo=WIB),
        sdg_required=True,
        status=CompetitionStatus.registration_closed,
    )


def _kipp_2024() -> Competition:
    return Competition(
        id=demo_id("competition", "KIPP-2024"),
        code="KIPP-2024",
        name="Kompetisi Inovasi Pelayanan Publik 2024",
        year=2024,
        scope=CompetitionScope.national,
        organiser_institution_id=demo_id("institution", KEMENPAN),
        legal_basis=LEGAL_BASIS,
        registration_opens_at=datetime(2024, 2, 1, tzinfo=WIB),
        registration_closes_at=datetime(2024, 4, 30, 23, 59, 59, tzinfo=WIB),
        sdg_required=True,
        status=CompetitionStatus.cancelled,
        cancellation_reason="Diganti dengan Pemantauan Keberlanjutan dan Replikasi Inovasi "
        "(PKRI) 2024 bagi inovasi terbaik tahun-tahun sebelumnya.",
        cancelled_at=datetime(2024, 3, 1, tzinfo=UTC),
    )


async def load_demo_competitions(session: AsyncSession) -> int:
    """Add the demo editions if missing (after the demo innovations); returns how many records."""
    if await session.get(Competition, demo_id("competition", "KIPP-2023")) is not None:
        return 0
    kipp = _kipp_2023()
    session.add_all([kipp, _kipp_2024()])
    await session.flush()
    umum = CompetitionGroup(
        id=demo_id("group", "KIPP-2023/umum"),
        competition_id=kipp.id,
        code="umum",
        name="Kelompok Umum",
        min_implementation_months=12,
        max_submissions_per_institution=10,
        ineligible_award_tiers=["top_45"],
        requires_source_innovation=False,
        source_award_tiers=[],
    )
    replikasi = CompetitionGroup(
        id=demo_id("group", "KIPP-2023/replikasi"),
        competition_id=kipp.id,
        code="replikasi",
        name="Kelompok Replikasi",
        min_implementation_months=6,
        max_submissions_per_institution=5,
        ineligible_award_tiers=[],
        requires_source_innovation=True,
        source_award_tiers=["top_45", "top_99"],
    )
    categories = {
        code: CompetitionCategory(
            id=demo_id("category", f"KIPP-2023/{code}"),
            competition_id=kipp.id,
            code=code,
            name=name,
        )
        for code, name in CATEGORIES
    }
    rounds = [
        CompetitionRound(
            id=demo_id("round", "KIPP-2023/1"),
            competition_id=kipp.id,
            position=1,
            kind=RoundKind.desk_evaluation,
            name="Penilaian Proposal oleh Tim Evaluasi",
            opens_at=datetime(2023, 4, 10, tzinfo=WIB),
            closes_at=datetime(2023, 5, 31, 23, 59, 59, tzinfo=WIB),
            advance_quota=99,
        ),
        CompetitionRound(
            id=demo_id("round", "KIPP-2023/2"),
            competition_id=kipp.id,
            position=2,
            kind=RoundKind.panel_review,
            name="Presentasi dan Wawancara Tim Panel Independen",
            opens_at=datetime(2023, 7, 3, tzinfo=WIB),
            closes_at=datetime(2023, 8, 31, 23, 59, 59, tzinfo=WIB),
            advance_quota=45,
        ),
    ]
    session.add_all([umum, replikasi, *categories.values(), *rounds])
    await session.flush()
    criteria: dict[str, list[RoundCriterion]] = {}
    for round_ in rounds:
        for group in (umum, replikasi):
            made = [
                RoundCriterion(
                    id=demo_id("criterion", f"KIPP-2023/{round_.position}/{group.code}/{name}"),
                    competition_id=kipp.id,
                    round_id=round_.id,
                    group_id=group.id,
                    position=position,
                    name=name,
                    weight=weight,
                    min_score=0,
                    max_score=100,
                )
                for position, (name, weight) in enumerate(KIPP_2023_WEIGHTS, start=1)
            ]
            session.add_all(made)
            if round_.position == 1:
                criteria[group.code] = made
    await session.flush()
    added = 2 + 2 + len(categories) + len(rounds) + 2 * 2 * len(KIPP_2023_WEIGHTS)
    for title, category, status, reason, note in ENTRIES:
        added += await _entry(
            session, kipp, umum, categories[category], rounds[0], criteria["umum"],
            title, status, reason, note,
        )  # fmt: skip
    return added


async def _entry(
    session: AsyncSession,
    kipp: Competition,
    group: CompetitionGroup,
    category: CompetitionCategory,
    first_round: CompetitionRound,
    criteria: list[RoundCriterion],
    title: str,
    status: SubmissionStatus,
    reason: ScreeningReason | None,
    note: str | None,
) -> int:
    innovation = await session.get(Innovation, demo_id("innovation", title))
    assert innovation is not None, f"demo innovation {title} is missing"
    created = datetime(2023, 2, 1, 9, tzinfo=WIB)
    sent = status is not SubmissionStatus.expired
    submitted = status not in (SubmissionStatus.expired,)
    screened = status in (SubmissionStatus.screened_in, SubmissionStatus.screened_out)
    entry = Submission(
        id=demo_id("submission", f"KIPP-2023/{title}"),
        competition_id=kipp.id,
        group_id=group.id,
        category_id=category.id,
        innovation_id=innovation.id,
        institution_id=innovation.institution_id,
        unit_id=innovation.unit_id,
        status=status,
        round_id=first_round.id if submitted else None,
        sent_at=created + timedelta(days=10) if sent else None,
        submitted_at=created + timedelta(days=14) if submitted else None,
        screening_outcome=(
            None
            if not screened
            else ScreeningOutcome.in_
            if status is SubmissionStatus.screened_in
            else ScreeningOutcome.out
        ),
        screening_reason=reason,
        screening_note=note,
        screened_at=datetime(2023, 4, 5, 10, tzinfo=WIB) if screened else None,
        expired_at=kipp.registration_closes_at if not sent else None,
        created_at=created,
        updated_at=created,
    )
    session.add(entry)
    await session.flush()
    sections = innovation.sections
    session.add_all(
        SubmissionAnswer(
            submission_id=entry.id,
            criterion_id=criterion.id,
            text=(list(sections.values()) or [innovation.title])[index % max(1, len(sections))],
            evidence_links=[],
        )
        for index, criterion in enumerate(criteria)
    )
    await session.flush()
    return 1 + len(criteria)
