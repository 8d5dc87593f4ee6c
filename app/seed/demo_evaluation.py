"""A fully evaluated demo edition, KIPP 2022: two rounds with panels of the demo evaluators,
their scores, each round closed, both announced, one objection (dismissed) and the results
decreed, so a frontend can show every screen of the evaluation and the results. It is built
through the services, as the organiser and the evaluators would through the API, so it obeys
every rule (conflicts of interest, ranking, tiers); only the announcements' dates are moved back
so that their objection windows are over.

Its one winner is the record's: Kabupaten Deli Serdang's Demi Sepeda Bagus, Top 45 of 2022
(DOMAIN.md section 5), through the Top 99 and the Top 45. The five Medan entries it outranks are
illustrative entrants that reach no Top list (none of Medan's 22 is on one in the record); the
scores, the announcements' numbers and dates and the objection are illustrative as well.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import Preconditions
from app.core.dates import WIB
from app.core.security import Principal
from app.domains.competitions import service as competitions
from app.domains.competitions.schemas import CompetitionAction, CompetitionTransition
from app.domains.evaluation import assignments, closing, scoring
from app.domains.evaluation.schemas import AutoAssign, RoundClose, ScoresPut
from app.domains.results import announcements, objections
from app.domains.results.schemas import (
    AnnouncementCreate,
    ObjectionCreate,
    ObjectionDecision,
    ObjectionReview,
)
from app.models.accounts import User
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.enums import (
    AnnouncementKind,
    CompetitionScope,
    CompetitionStatus,
    Role,
    RoundKind,
    ScreeningOutcome,
    SubmissionStatus,
)
from app.models.evaluation import Assignment, AssignmentScore, RoundResult
from app.models.innovations import Innovation
from app.models.results import Announcement, Objection
from app.models.submissions import Award, Submission, SubmissionAnswer
from app.seed.demo_competitions import KEMENPAN, KIPP_2023_WEIGHTS
from app.seed.demo_innovations import DEMI_SEPEDA_BAGUS
from app.seed.ids import demo_id

CODE = "KIPP-2022"
ROUND2 = (("Presentasi", 40), ("Wawancara", 60))
# Each entry's base score; an evaluator scores it with a small, evaluator-specific offset.
# (the innovation's demo name, its category, its base score)
ENTRIES = (
    (DEMI_SEPEDA_BAGUS, "pendidikan", 88),
    ("MAJATOKI", "tata_kelola", 79),
    ("E-Tindak Lanjut", "tata_kelola", 76),
    ("Website", "tata_kelola", 73),
    ("TV Media", "tata_kelola", 70),
    ("E-Salary", "tata_kelola", 65),
)
CATEGORIES = (
    ("tata_kelola", "Tata Kelola Pemerintahan yang Baik"),
    ("pendidikan", "Pendidikan dan Kebudayaan"),
)
EVALUATORS = ("evaluator@demo.inovasi.id", "penilai.a@demo.inovasi.id", "penilai.b@demo.inovasi.id")
TABLES = (
    Competition,
    CompetitionGroup,
    CompetitionCategory,
    CompetitionRound,
    RoundCriterion,
    Submission,
    SubmissionAnswer,
    Assignment,
    AssignmentScore,
    RoundResult,
    Announcement,
    Objection,
    Award,
)


async def _rows(session: AsyncSession) -> int:
    total = 0
    for model in TABLES:
        total += await session.scalar(select(func.count()).select_from(model)) or 0
    return total


def _principal(user: User) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        role=user.role,
        name=user.name,
        email=user.email,
        institution_id=user.institution_id,
    )


async def _structure(session: AsyncSession) -> tuple[Competition, list[CompetitionRound]]:
    competition = Competition(
        id=demo_id("competition", CODE),
        code=CODE,
        name="Kompetisi Inovasi Pelayanan Publik 2022",
        year=2022,
        scope=CompetitionScope.national,
        organiser_institution_id=demo_id("institution", KEMENPAN),
        theme="Inovasi Pelayanan Publik untuk Pemulihan",
        legal_basis=["Peraturan Menteri PANRB Nomor 91 Tahun 2021"],
        registration_opens_at=datetime(2022, 1, 10, tzinfo=WIB),
        registration_closes_at=datetime(2022, 3, 31, 23, 59, 59, tzinfo=WIB),
        sdg_required=True,
        publish_scores=True,
        status=CompetitionStatus.evaluation,
    )
    session.add(competition)
    await session.flush()
    group = CompetitionGroup(
        id=demo_id("group", f"{CODE}/umum"),
        competition_id=competition.id,
        code="umum",
        name="Kelompok Umum",
        min_implementation_months=12,
        ineligible_award_tiers=[],
        requires_source_innovation=False,
        source_award_tiers=[],
    )
    categories = {
        code: CompetitionCategory(
            id=demo_id("category", f"{CODE}/{code}"),
            competition_id=competition.id,
            code=code,
            name=name,
        )
        for code, name in CATEGORIES
    }
    rounds = [
        CompetitionRound(
            id=demo_id("round", f"{CODE}/1"),
            competition_id=competition.id,
            position=1,
            kind=RoundKind.desk_evaluation,
            name="Evaluasi Proposal",
            advance_quota=1,
            award_tier="top_99",
        ),
        CompetitionRound(
            id=demo_id("round", f"{CODE}/2"),
            competition_id=competition.id,
            position=2,
            kind=RoundKind.interview,
            name="Presentasi dan Wawancara",
            advance_quota=1,
            award_tier="top_45",
        ),
    ]
    session.add_all([group, *categories.values(), *rounds])
    await session.flush()
    for round_, criteria in zip(rounds, (KIPP_2023_WEIGHTS, ROUND2), strict=True):
        session.add_all(
            RoundCriterion(
                competition_id=competition.id,
                round_id=round_.id,
                group_id=group.id,
                position=position,
                name=name,
                weight=weight,
            )
            for position, (name, weight) in enumerate(criteria, start=1)
        )
    await session.flush()
    first = await session.scalars(
        select(RoundCriterion)
        .where(RoundCriterion.round_id == rounds[0].id)
        .order_by(RoundCriterion.position)
    )
    first_criteria = list(first)
    sent = datetime(2022, 3, 20, 9, tzinfo=WIB)
    for index, (title, category, _) in enumerate(ENTRIES):
        innovation = await session.get(Innovation, demo_id("innovation", title))
        assert innovation is not None, f"demo innovation {title} is missing"
        entry = Submission(
            id=demo_id("submission", f"{CODE}/{title}"),
            competition_id=competition.id,
            group_id=group.id,
            category_id=categories[category].id,
            innovation_id=innovation.id,
            institution_id=innovation.institution_id,
            unit_id=innovation.unit_id,
            status=SubmissionStatus.screened_in,
            round_id=rounds[0].id,
            sent_at=sent + timedelta(hours=index),
            submitted_at=sent + timedelta(days=2, hours=index),
            screening_outcome=ScreeningOutcome.in_,
            screened_at=datetime(2022, 4, 8, 10, tzinfo=WIB),
        )
        session.add(entry)
        await session.flush()
        sections = list(innovation.sections.values()) or [innovation.title]
        session.add_all(
            SubmissionAnswer(
                submission_id=entry.id,
                criterion_id=criterion.id,
                text=sections[position % len(sections)],
                evidence_links=[],
            )
            for position, criterion in enumerate(first_criteria)
        )
    await session.flush()
    return competition, rounds


async def _evaluate(
    session: AsyncSession,
    organiser: Principal,
    panel: list[User],
    round_: CompetitionRound,
) -> None:
    """Two evaluators per entry from the panel, each scoring around the entry's base score."""
    await assignments.auto_assign(
        session,
        organiser,
        round_.id,
        AutoAssign(evaluator_ids=[u.id for u in panel], evaluators_per_submission=2),
    )
    base = {demo_id("submission", f"{CODE}/{title}"): score for title, _, score in ENTRIES}
    criteria = list(
        await session.scalars(
            select(RoundCriterion)
            .where(RoundCriterion.round_id == round_.id)
            .order_by(RoundCriterion.position)
        )
    )
    by_id = {u.id: u for u in panel}
    for assignment in await session.scalars(
        select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id)
    ):
        offset = panel.index(by_id[assignment.evaluator_id]) * 3 - 3
        sheet = ScoresPut.model_validate(
            {
                "scores": [
                    {
                        "criterion_id": c.id,
                        "score": max(0, min(100, base[assignment.submission_id] + offset + i % 3)),
                    }
                    for i, c in enumerate(criteria)
                ],
                "comment": "Dinilai berdasarkan proposal dan bukti dukung.",
                "submit": True,
            }
        )
        await scoring.put_scores(
            session,
            _principal(by_id[assignment.evaluator_id]),
            assignment.id,
            sheet,
            Preconditions(None, None),
        )
    await closing.close_round(
        session, organiser, round_.id, RoundClose(), Preconditions(None, None)
    )


async def load_demo_evaluation(session: AsyncSession) -> int:
    """Add the evaluated demo edition if missing (after the demo innovations and accounts);
    returns how many records it added."""
    if await session.get(Competition, demo_id("competition", CODE)) is not None:
        return 0
    before = await _rows(session)
    users = {
        u.email: u
        for u in await session.scalars(
            select(User).where(User.role.in_((Role.secretariat_admin, Role.evaluator)))
        )
    }
    organiser = _principal(users["sekretariat@demo.inovasi.id"])
    panel = [users[email] for email in EVALUATORS]
    competition, rounds = await _structure(session)
    await _evaluate(session, organiser, panel, rounds[0])
    outcome = await announcements.create_announcement(
        session,
        organiser,
        competition.id,
        AnnouncementCreate(
            kind=AnnouncementKind.round_outcome,
            round_id=rounds[0].id,
            number="B/187/PP.00.05/2022",
            title="Pengumuman Top 99 Kompetisi Inovasi Pelayanan Publik 2022",
        ),
    )
    await _evaluate(session, organiser, panel, rounds[1])
    final = await announcements.create_announcement(
        session,
        organiser,
        competition.id,
        AnnouncementCreate(
            kind=AnnouncementKind.final_results,
            number="B/241/PP.00.05/2022",
            title="Pengumuman Top 45 Kompetisi Inovasi Pelayanan Publik 2022",
        ),
    )
    objection = await objections.file_objection(
        session,
        None,
        final.id,
        ObjectionCreate(
            submission_id=final.entries[0]["submission_id"],
            filer_name="Pengaju Keberatan (ilustrasi)",
            filer_contact="keberatan.ilustrasi@example.com",
            reason="[Ilustrasi] Layanan ini disebut belum menjangkau semua PKBM di kabupaten.",
        ),
    )
    await objections.review_objection(
        session,
        organiser,
        objection.id,
        ObjectionReview(
            decision=ObjectionDecision.dismissed,
            note="[Ilustrasi] Verifikasi lapangan menunjukkan layanan berjalan di PKBM yang "
            "dilaporkan.",
        ),
        Preconditions(None, None),
    )
    # The announcements as they were dated in 2022: their objection windows are over.
    for announcement, published in (
        (outcome, datetime(2022, 6, 14, 10, tzinfo=WIB)),
        (final, datetime(2022, 9, 20, 10, tzinfo=WIB)),
    ):
        announcement.published_at = published.astimezone(UTC)
        announcement.objections_close_at = announcements.objections_close_at(
            announcement.published_at, announcement.objection_days
        )
    await session.flush()
    await competitions.transition_competition(
        session,
        organiser,
        competition.id,
        CompetitionTransition(action=CompetitionAction.publish_results),
        Preconditions(None, None),
    )
    await session.flush()
    return await _rows(session) - before
