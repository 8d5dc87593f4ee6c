"""Demo work of the JIPP network: hub activities and the maturity instrument with assessments.

North Sumatra's Coaching Clinic Pembinaan Inovasi Pelayanan Publik of Monday 3 June 2024
showed Kabupaten Deli Serdang's Demi Sepeda Bagus as a good practice (DOMAIN.md section 5). The
other activities (and the clinic's venue and participants), the questions and the scores are
illustrative. The maturity instrument has the four aspects hubs are scored on since 2025; East
Java's 2025 assessment is verified, North Sumatra's is a draft its demo hub admin can go on
answering.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domains.maturity.service import Structure
from app.models.enums import (
    AssessmentStatus,
    HubActivityKind,
    HubActivityStatus,
    MaturityInstrumentStatus,
)
from app.models.hubs import HubActivity, HubActivityInnovation, HubActivityParticipant
from app.models.maturity import MaturityAnswer, MaturityAssessment, MaturityInstrument
from app.seed.demo_innovations import DEMI_SEPEDA_BAGUS
from app.seed.ids import demo_id

_SUMUT = "JIPP Provinsi Sumatera Utara"
_JATIM = "JIPP Provinsi Jawa Timur"


@dataclass(frozen=True)
class DemoActivity:
    hub: str
    kind: HubActivityKind
    title: str
    day: date
    region_code: str
    venue: str
    participants: tuple[str, ...]
    innovations: tuple[str, ...] = ()
    outcome: str | None = None
    published: bool = True


DEMO_ACTIVITIES: tuple[DemoActivity, ...] = (
    DemoActivity(
        _SUMUT,
        HubActivityKind.coaching_clinic,
        "Coaching Clinic Pembinaan Inovasi Pelayanan Publik Provinsi Sumatera Utara",
        date(2024, 6, 3),
        "12.71",
        "Kantor Gubernur Sumatera Utara, Medan (tempat ilustrasi)",
        ("Pemerintah Kota Medan", "Pemerintah Kabupaten Deli Serdang"),
        (DEMI_SEPEDA_BAGUS,),
        "Demi Sepeda Bagus dari Dinas Pendidikan Kabupaten Deli Serdang, Top 45 KIPP 2022, "
        "dipaparkan sebagai praktik baik.",
    ),
    DemoActivity(
        _SUMUT,
        HubActivityKind.knowledge_sharing,
        "Berbagi Pengetahuan Inovasi Digital Sekretariat DPRD",
        date(2024, 2, 20),
        "12.71",
        "Gedung DPRD Kota Medan",
        ("Pemerintah Kota Medan", "Pemerintah Kabupaten Deli Serdang"),
        ("SIKULIN",),
    ),
    DemoActivity(
        _SUMUT,
        HubActivityKind.data_update,
        "Pemutakhiran Data Inovasi Kabupaten/Kota 2025",
        date(2025, 3, 10),
        "12",
        "Daring",
        ("Pemerintah Kota Medan", "Pemerintah Kabupaten Deli Serdang"),
        published=False,
    ),
    DemoActivity(
        _JATIM,
        HubActivityKind.replication_forum,
        "Forum Replikasi Inovasi Sekolah Inklusi",
        date(2023, 8, 24),
        "35.73",
        "SMP Negeri 10 Kota Malang",
        ("Pemerintah Kota Malang",),
        ("Jarik Ma'Siti",),
        "[Ilustrasi] SMP Negeri 13 dan SMP Negeri 2 Kota Malang memaparkan replikasi Jarik "
        "Ma'Siti yang mereka terapkan sejak Juli 2023.",
    ),
)


def _option(code: str, label: str, score: int, evidence: bool = False) -> dict[str, Any]:
    return {"code": code, "label": label, "score": score, "requires_evidence": evidence}


_LEVELS = (
    _option("belum", "Belum ada", 0),
    _option("sebagian", "Ada sebagian / belum ditetapkan", 50, evidence=True),
    _option("penuh", "Ada, ditetapkan dan dijalankan", 100, evidence=True),
)


def _question(code: str, text: str, weight: float) -> dict[str, Any]:
    return {"code": code, "text": text, "weight": weight, "options": list(_LEVELS)}


INSTRUMENT_CODE = "jipp-maturity"
INSTRUMENT_ASPECTS: list[dict[str, Any]] = [
    {
        "aspect": "planning",
        "name": "Perencanaan",
        "weight": 0.25,
        "questions": [
            _question("PLN-1", "Simpul memiliki rencana kerja tahunan JIPP.", 0.6),
            _question("PLN-2", "Rencana kerja dianggarkan dalam APBD.", 0.4),
        ],
    },
    {
        "aspect": "institutionalisation",
        "name": "Kelembagaan",
        "weight": 0.25,
        "questions": [
            _question("KLB-1", "Ada keputusan kepala daerah tentang simpul JIPP.", 0.5),
            _question("KLB-2", "Ada unit kerja yang mengoordinasikan simpul.", 0.5),
        ],
    },
    {
        "aspect": "dissemination",
        "name": "Diseminasi",
        "weight": 0.3,
        "questions": [
            _question("DSM-1", "Simpul menyelenggarakan klinik dan forum replikasi.", 0.7),
            _question("DSM-2", "Data inovasi anggota dimutakhirkan setiap tahun.", 0.3),
        ],
    },
    {
        "aspect": "evaluation",
        "name": "Evaluasi",
        "weight": 0.2,
        "questions": [
            _question("EVL-1", "Simpul mengevaluasi keberlanjutan inovasi anggota.", 1),
        ],
    },
]

# East Java's 2025 answers (question -> option) and the verifier's re-scores.
_JATIM_ANSWERS = {
    "PLN-1": "penuh",
    "PLN-2": "sebagian",
    "KLB-1": "penuh",
    "KLB-2": "penuh",
    "DSM-1": "penuh",
    "DSM-2": "penuh",
    "EVL-1": "sebagian",
}
_JATIM_RESCORED = {"DSM-2": ("sebagian", "Data 2024 belum lengkap untuk 12 kabupaten.")}
_SUMUT_ANSWERS = {"PLN-1": "penuh", "KLB-1": "penuh"}
_EVIDENCE = [{"title": "Dokumen pendukung", "url": "https://jipp.demo.inovasi.id/bukti.pdf"}]


async def _add_activities(session: AsyncSession) -> int:
    added = 0
    for spec in DEMO_ACTIVITIES:
        activity_id = demo_id("hub_activity", spec.title)
        if await session.get(HubActivity, activity_id) is not None:
            continue
        session.add(
            HubActivity(
                id=activity_id,
                hub_id=demo_id("hub", spec.hub),
                kind=spec.kind,
                title=spec.title,
                activity_date=spec.day,
                region_code=spec.region_code,
                venue=spec.venue,
                is_online=spec.venue == "Daring",
                outcome_notes=spec.outcome,
                documents=[],
                status=HubActivityStatus.published if spec.published else HubActivityStatus.draft,
                published_at=(
                    datetime.combine(spec.day, datetime.min.time(), UTC) if spec.published else None
                ),
                participants=[
                    HubActivityParticipant(institution_id=demo_id("institution", name), position=i)
                    for i, name in enumerate(spec.participants)
                ],
                innovations=[
                    HubActivityInnovation(innovation_id=demo_id("innovation", title), position=i)
                    for i, title in enumerate(spec.innovations)
                ],
            )
        )
        added += 1
    await session.flush()
    return added


def _answers(chosen: dict[str, str], verified: bool) -> list[MaturityAnswer]:
    answers = []
    for code, option in chosen.items():
        rescored = _JATIM_RESCORED.get(code) if verified else None
        answers.append(
            MaturityAnswer(
                question_code=code,
                option_code=option,
                evidence=_EVIDENCE if option != "belum" else [],
                verified_option_code=(rescored[0] if rescored else option) if verified else None,
                verifier_note=rescored[1] if rescored else None,
            )
        )
    return answers


async def _add_maturity(session: AsyncSession) -> int:
    added = 0
    instrument_id = demo_id("maturity_instrument", f"{INSTRUMENT_CODE}:1")
    if await session.get(MaturityInstrument, instrument_id) is None:
        session.add(
            MaturityInstrument(
                id=instrument_id,
                code=INSTRUMENT_CODE,
                revision=1,
                name="Instrumen Kematangan Simpul JIPP 2025",
                description="Empat aspek: perencanaan, kelembagaan, diseminasi dan evaluasi.",
                status=MaturityInstrumentStatus.published,
                published_at=datetime(2025, 1, 15, tzinfo=UTC),
                aspects=INSTRUMENT_ASPECTS,
            )
        )
        await session.flush()
        added += 1
    structure = Structure(INSTRUMENT_ASPECTS)
    submitted = datetime(2025, 11, 3, tzinfo=UTC)
    for hub, chosen, verified in ((_JATIM, _JATIM_ANSWERS, True), (_SUMUT, _SUMUT_ANSWERS, False)):
        assessment_id = demo_id("maturity_assessment", f"{hub}:2025")
        if await session.get(MaturityAssessment, assessment_id) is not None:
            continue
        answers = _answers(chosen, verified)
        final = {a.question_code: a.verified_option_code or a.option_code for a in answers}
        session.add(
            MaturityAssessment(
                id=assessment_id,
                hub_id=demo_id("hub", hub),
                instrument_id=instrument_id,
                period_year=2025,
                status=AssessmentStatus.verified if verified else AssessmentStatus.draft,
                submitted_at=submitted if verified else None,
                verified_at=datetime(2025, 12, 1, tzinfo=UTC) if verified else None,
                self_score=structure.score(chosen)[0] if verified else None,
                total_score=structure.score(final)[0] if verified else None,
                answers=answers,
            )
        )
        added += 1
    await session.flush()
    return added


async def load_demo_network(session: AsyncSession) -> int:
    """Add the missing demo activities, instrument and assessments (after hubs and
    innovations); returns how many records were added."""
    return await _add_activities(session) + await _add_maturity(session)
