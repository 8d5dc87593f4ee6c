"""The authorization matrix, generated from the route table: every /v1 operation, called by every
kind of caller, answers what its access policy (`app.core.policies.POLICIES`) says.

The expected answers are computed from the policy, never written by hand: a new operation needs
only a sample request here (the suite fails until it has one), and a policy change shows up as
the matching change in behaviour or as a failure.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.openapi import RouteInfo, iter_api_routes
from app.core.security import Access, Scope
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.domains.webhooks import signing
from app.models.accounts import ApiKey, User
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.documents import Document
from app.models.enums import (
    AnnouncementKind,
    AssessmentStatus,
    CompetitionScope,
    CompetitionStatus,
    HubActivityKind,
    HubActivityStatus,
    HubStatus,
    InnovationStatus,
    InstitutionKind,
    MaturityInstrumentStatus,
    ReplicationScope,
    ReplicationStatus,
    Role,
    RoundKind,
    RoundStatus,
    ScreeningOutcome,
    SubmissionStatus,
)
from app.models.evaluation import Assignment
from app.models.hubs import Hub, HubActivity, HubMember
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from app.models.jobs import Job
from app.models.maturity import MaturityAnswer, MaturityAssessment, MaturityInstrument
from app.models.notifications import EmailMessage, Mailing, Notification, NotificationEvent
from app.models.replications import Replication
from app.models.results import Announcement, Objection
from app.models.submissions import Award, Submission
from app.models.sync import SyncRun
from app.models.webhooks import Webhook, WebhookDelivery
from tests.conftest import (
    TEST_PASSWORD,
    HubFactory,
    InnovationFactory,
    InstitutionFactory,
    UnitFactory,
    UserFactory,
    bearer_for,
)
from tests.domains import assert_problem
from tests.fixtures.etag import if_match

# --- the world: two institutions, two hubs, and a caller of every kind ----------------------


@dataclass(frozen=True)
class Caller:
    """One caller of the matrix: a role (None: anonymous) and whether it reaches A's records."""

    name: str
    role: Role | None
    kind: Literal["anonymous", "user", "api_key"]
    id: uuid.UUID | None
    headers: dict[str, str]
    in_scope: bool
    scope: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def token(self) -> str | None:
        """The bearer credential itself (an access token or an API key secret)."""
        header = self.headers.get("Authorization")
        return header.removeprefix("Bearer ") if header else None


@dataclass(frozen=True)
class CompetitionParts:
    """An edition with one of each part of its structure."""

    competition: Competition
    group: CompetitionGroup
    category: CompetitionCategory
    round: CompetitionRound
    criterion: RoundCriterion


@dataclass(frozen=True)
class World:
    institution_a: Institution  # Pemkot Medan (12.71), units A1 and A2, hub HUB_A
    unit_a1: Unit
    unit_a2: Unit
    institution_b: Institution  # Pemkot Malang (35.73), unit B1, hub HUB_B
    unit_b1: Unit
    spare_institution: Institution  # nothing refers to it: the one a delete can remove
    hub_a: Hub  # JIPP Sumatera Utara (active, public): A is a member, HUB_A's admin runs it
    hub_b: Hub  # JIPP Jawa Timur (active): B is a member
    candidate_hub: Hub  # a candidate hub hosted by Sumatera Utara: the one a delete can remove
    hub_of_a: Hub  # a candidate hub A hosts: where A's regional system pushes activities
    host_unit_a: Unit  # the Sumatera Utara bureau: a member a hub admin of HUB_A may add
    member_a: HubMember  # A's open membership of HUB_A
    operator_a: User  # a unit operator of A1: the account the account operations aim at
    operator_key_a: ApiKey  # a unit operator key of A1: the key the key operations aim at
    published_a1: Innovation  # a published innovation of A1 (public)
    draft_a1: Innovation  # a complete draft of A1 (visible only within A1's scope)
    activity_a: HubActivity  # a published activity of HUB_A (public)
    draft_activity_a: HubActivity  # a draft activity of HUB_A (its managers' only)
    instrument: MaturityInstrument  # the published maturity instrument
    draft_instrument: MaturityInstrument  # a draft instrument of another code
    verified_assessment_a: MaturityAssessment  # HUB_A's verified 2023 assessment (public)
    submitted_assessment_a: MaturityAssessment  # HUB_A's 2024 assessment, awaiting review
    draft_assessment_a: MaturityAssessment  # HUB_A's 2025 draft, every question answered
    competition_a: CompetitionParts  # HUB_A's provincial edition, registration open (public)
    draft_competition_a: CompetitionParts  # HUB_A's provincial draft (its runners' only)
    results_competition_a: CompetitionParts  # HUB_A's edition with its results published
    entry_a: Submission  # A1's screened-in entry of the results edition (public)
    draft_entry_a: Submission  # A1's draft entry of competition_a (A's only), of a draft
    awaiting_entry_a: Submission  # A1's entry of competition_a awaiting A's local admin
    published_b1: Innovation  # a published innovation of B1: what A1 asks to replicate
    replication_a: Replication  # A1's approved replication of an A3 innovation (public)
    requested_replication_a: Replication  # A1's request for another A3 innovation (A's only)
    sync_run_a: SyncRun  # a batch A's regional system pushed
    # HUB_A's edition in evaluation: A1's two entries in its open round, the first assigned to
    # the in-scope evaluator (unscored); another evaluator account to reassign it to.
    evaluation_a: CompetitionParts
    assigned_entry_a: Submission
    unassigned_entry_a: Submission
    assignment_a: Assignment
    spare_evaluator: User
    # HUB_A's edition in evaluation with its round closed: A1's finalist, the final results
    # announced (objection window open) with one objection filed, and A1's award of 2025.
    decided_a: CompetitionParts
    announcement_a: Announcement
    objection_a: Objection
    award_a: Award
    dead_job: Job  # a job that failed every attempt: the secretariat's to see and retry
    webhook_a: Webhook  # the webhook A's regional system created (A's local admin reaches it)
    delivery_a: WebhookDelivery  # a delivery of it that succeeded (one to redeliver)
    # The in-scope unit operator's notification: only that person marks it read.
    notification_a: Notification
    # HUB_A's admins' mailing to HUB_A's members, and its email in the sent log.
    mailing_a: Mailing
    email_a: EmailMessage
    # A public document of published_a1 (its bytes in the test run's store).
    document_a: Document
    callers: dict[str, Caller]


IN_SCOPE_CALLERS = (
    "secretariat_admin",
    "local_admin",
    "unit_operator",
    "evaluator",
    "hub_admin",
    "regional_system",
)
# One for every role whose scope is narrower than everything but the evaluator's (an evaluator
# reaching another's assignment: tests/domains/evaluation).
OUT_OF_SCOPE_CALLERS = ("local_admin/B", "unit_operator/B1", "hub_admin/HUB_B", "regional_system/B")
CALLERS = ("anonymous", *IN_SCOPE_CALLERS, *OUT_OF_SCOPE_CALLERS)
PEOPLE = tuple(name for name in CALLERS if not name.startswith(("anonymous", "regional_system")))


# A one-question instrument: answering PLN-1 completes an assessment.
INSTRUMENT_ASPECTS = [
    {
        "aspect": "planning",
        "name": "Perencanaan",
        "weight": 1,
        "questions": [
            {
                "code": "PLN-1",
                "text": "Apakah simpul memiliki rencana kerja tahunan?",
                "weight": 1,
                "options": [
                    {"code": "tidak", "label": "Tidak ada", "score": 0},
                    {"code": "ya", "label": "Ada", "score": 100},
                ],
            }
        ],
    }
]


async def issue_key(session: AsyncSession, role: Role, **scope: uuid.UUID) -> tuple[ApiKey, str]:
    """A new API key (issued by the operator's CLI) and its secret."""
    issued = await issue_api_key(
        session, None, ApiKeyCreate(name=f"Kunci uji {role.value}", role=role, **scope)
    )
    return issued.key, issued.secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


async def key_caller(
    session: AsyncSession, name: str, role: Role, in_scope: bool, **scope: uuid.UUID
) -> Caller:
    key, secret = await issue_key(session, role, **scope)
    return Caller(name, role, "api_key", key.id, bearer(secret), in_scope, scope)


async def add_competition(
    session: AsyncSession, hub: Hub, status: CompetitionStatus, year: int
) -> CompetitionParts:
    """A provincial edition of `hub` (organised by its host) with a complete structure; its
    registration window opened yesterday and closes in 30 days."""
    now = datetime.now(UTC)
    competition = Competition(
        code=f"KIPD-{year}-{_suffix().upper()}",
        name=f"Kompetisi Inovasi Pelayanan Publik Provinsi Sumatera Utara {year}",
        year=year,
        scope=CompetitionScope.provincial,
        organiser_institution_id=hub.host_institution_id,
        hub_id=hub.id,
        legal_basis=[],
        sdg_required=True,
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=now + timedelta(days=30),
        status=status,
    )
    session.add(competition)
    await session.flush()
    group = CompetitionGroup(
        competition_id=competition.id, code="umum", name="Kelompok Umum",
        min_implementation_months=24, ineligible_award_tiers=[],
        requires_source_innovation=False, source_award_tiers=[],
    )  # fmt: skip
    category = CompetitionCategory(
        competition_id=competition.id, code="digital", name="Transformasi Digital"
    )
    round_ = CompetitionRound(
        competition_id=competition.id, position=1, kind=RoundKind.desk_evaluation,
        name="Evaluasi Proposal",
    )  # fmt: skip
    session.add_all([group, category, round_])
    await session.flush()
    criterion = RoundCriterion(
        competition_id=competition.id, round_id=round_.id, group_id=group.id, position=1,
        name="Signifikansi dan Dampak", weight=100, min_score=0, max_score=100,
    )  # fmt: skip
    session.add(criterion)
    await session.flush()
    return CompetitionParts(competition, group, category, round_, criterion)


async def build_world(
    session: AsyncSession,
    settings: Settings,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_user: UserFactory,
    make_innovation: InnovationFactory,
    make_hub: HubFactory,
) -> World:
    """Institutions A and B with their units, hubs HUB_A and HUB_B, and every caller."""
    a = await make_institution(
        name="Pemerintah Kota Medan", kind=InstitutionKind.pemkot, region_code="12.71"
    )
    b = await make_institution(
        name="Pemerintah Kota Malang", kind=InstitutionKind.pemkot, region_code="35.73"
    )
    spare = await make_institution(name="Badan Uji Tanpa Unit", kind=InstitutionKind.lembaga)
    a1 = await make_unit(a, name="Dinas Pendidikan Kota Medan")
    a2 = await make_unit(a, name="Sekretariat DPRD Kota Medan")
    b1 = await make_unit(b, name="SMP Negeri 10 Malang")
    pemprov = InstitutionKind.pemprov
    sumut = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara", kind=pemprov, region_code="12"
    )
    jatim = await make_institution(
        name="Pemerintah Provinsi Jawa Timur", kind=pemprov, region_code="35"
    )
    host_unit_a = await make_unit(sumut, name="Biro Organisasi Setda Provinsi Sumatera Utara")
    hub_a = await make_hub(sumut, HubStatus.active, name="JIPP Provinsi Sumatera Utara")
    hub_b = await make_hub(jatim, HubStatus.active, name="JIPP Provinsi Jawa Timur")
    candidate_hub = await make_hub(sumut, name="JIPP Provinsi Sumatera Utara (calon)")
    hub_of_a = await make_hub(a, name="Simpul Inovasi Kota Medan (calon)")
    member_a = HubMember(hub_id=hub_a.id, institution_id=a.id, joined_date=date(2022, 10, 3))
    session.add_all(
        [member_a, HubMember(hub_id=hub_b.id, institution_id=b.id, joined_date=date(2020, 3, 2))]
    )
    await session.flush()

    async def person(name: str, role: Role, in_scope: bool, **scope: uuid.UUID) -> Caller:
        user = await make_user(role, **scope)
        return Caller(name, role, "user", user.id, bearer_for(settings, user), in_scope, scope)

    callers = [
        Caller("anonymous", None, "anonymous", None, {}, in_scope=True),
        await person("secretariat_admin", Role.secretariat_admin, True),
        await person("local_admin", Role.local_admin, True, institution_id=a.id),
        await person("unit_operator", Role.unit_operator, True, unit_id=a1.id),
        await person("evaluator", Role.evaluator, True),
        await person("hub_admin", Role.hub_admin, True, hub_id=hub_a.id),
        await key_caller(
            session, "regional_system", Role.regional_system, True, institution_id=a.id
        ),
        await person("local_admin/B", Role.local_admin, False, institution_id=b.id),
        await person("unit_operator/B1", Role.unit_operator, False, unit_id=b1.id),
        await person("hub_admin/HUB_B", Role.hub_admin, False, hub_id=hub_b.id),
        await key_caller(
            session, "regional_system/B", Role.regional_system, False, institution_id=b.id
        ),
    ]
    operator_a = await make_user(
        Role.unit_operator,
        unit_id=a1.id,
        name="Operator Sasaran",
        email=f"operator.sasaran.{uuid.uuid4().hex[:8]}@pemkomedan.go.id",
    )
    operator_key_a, _ = await issue_key(session, Role.unit_operator, unit_id=a1.id)
    published_a1 = await make_innovation(
        a1, InnovationStatus.published, title="SIKULIN", category_codes=["pendidikan"]
    )
    draft_a1 = await make_innovation(a1, title="MAJATOKI")
    activity_a, draft_activity_a = (
        HubActivity(
            hub_id=hub_a.id,
            kind=HubActivityKind.coaching_clinic,
            title=title,
            activity_date=date(2023, 5, 10),
            region_code="12",
            status=status,
            published_at=datetime.now(UTC) if status is HubActivityStatus.published else None,
            participants=[],
            innovations=[],
        )
        for title, status in (
            ("Klinik Inovasi Sumatera Utara", HubActivityStatus.published),
            ("Forum Replikasi Sumatera Utara", HubActivityStatus.draft),
        )
    )
    now = datetime.now(UTC)
    instrument = MaturityInstrument(
        code="jipp-maturity", revision=1, name="Instrumen Kematangan Simpul JIPP",
        status=MaturityInstrumentStatus.published, published_at=now, aspects=INSTRUMENT_ASPECTS,
    )  # fmt: skip
    draft_instrument = MaturityInstrument(
        code="jipp-maturity-uji", revision=1, name="Instrumen Uji",
        status=MaturityInstrumentStatus.draft, aspects=INSTRUMENT_ASPECTS,
    )  # fmt: skip
    session.add_all([activity_a, draft_activity_a, instrument, draft_instrument])
    await session.flush()

    def assessment(year: int, status: AssessmentStatus) -> MaturityAssessment:
        done = status is not AssessmentStatus.draft
        verified = status is AssessmentStatus.verified
        return MaturityAssessment(
            hub_id=hub_a.id, instrument_id=instrument.id, period_year=year, status=status,
            submitted_at=now if done else None, self_score=100 if done else None,
            verified_at=now if verified else None, total_score=100 if verified else None,
            answers=[MaturityAnswer(question_code="PLN-1", option_code="ya",
                                    verified_option_code="ya" if verified else None)],
        )  # fmt: skip

    verified_assessment_a = assessment(2023, AssessmentStatus.verified)
    submitted_assessment_a = assessment(2024, AssessmentStatus.submitted)
    draft_assessment_a = assessment(2025, AssessmentStatus.draft)
    session.add_all([verified_assessment_a, submitted_assessment_a, draft_assessment_a])
    await session.flush()
    competition_a = await add_competition(session, hub_a, CompetitionStatus.registration_open, 2026)
    results_competition_a = await add_competition(
        session, hub_a, CompetitionStatus.results_published, 2025
    )

    def entry(
        parts: CompetitionParts, innovation: Innovation, status: SubmissionStatus
    ) -> Submission:
        screened = status is SubmissionStatus.screened_in
        return Submission(
            competition_id=parts.competition.id, group_id=parts.group.id,
            category_id=parts.category.id, innovation_id=innovation.id,
            institution_id=a.id, unit_id=a1.id, status=status,
            sent_at=now if status is not SubmissionStatus.draft else None,
            submitted_at=now if screened else None, round_id=parts.round.id if screened else None,
            screening_outcome=ScreeningOutcome.in_ if screened else None,
            screened_at=now if screened else None,
        )  # fmt: skip

    entry_a = entry(results_competition_a, published_a1, SubmissionStatus.screened_in)
    # Of its own draft innovation: draft_a1 stays free for the innovation delete's sample.
    draft_entry_a = entry(
        competition_a, await make_innovation(a1, title="E-RESES"), SubmissionStatus.draft
    )
    awaiting_entry_a = entry(
        competition_a,
        await make_innovation(a1, InnovationStatus.published, title="E-SAKIP"),
        SubmissionStatus.awaiting_local_admin,
    )
    session.add_all([entry_a, draft_entry_a, awaiting_entry_a])

    # The sources are a third unit's: A2 stays free for the unit delete's sample.
    a3 = await make_unit(a, name="Bagian Hukum Sekretariat Daerah Kota Medan")

    def replication(source: Innovation, status: ReplicationStatus) -> Replication:
        approved = today if status is ReplicationStatus.approved else None
        return Replication(
            source_innovation_id=source.id, source_institution_id=a.id, source_unit_id=a3.id,
            adopter_institution_id=a.id, adopter_unit_id=a1.id, scope=ReplicationScope.full,
            status=status, requested_date=today, approved_date=approved,
        )  # fmt: skip

    today = now.date()
    replication_a = replication(
        await make_innovation(a3, InnovationStatus.published, title="E-PERDA"),
        ReplicationStatus.approved,
    )
    requested_replication_a = replication(
        await make_innovation(a3, InnovationStatus.published, title="SIPADU"),
        ReplicationStatus.requested,
    )
    session.add_all([replication_a, requested_replication_a])
    sync_run_a = SyncRun(
        institution_id=a.id, caller_kind="api_key", caller_id=uuid.uuid4(),
        caller_name="SIMPEG Kota Medan", resource="units", started_at=now, duration_ms=12,
        received=1, created=1, updated=0, unchanged=0, conflict=0, invalid=0, failures=[],
    )  # fmt: skip
    session.add(sync_run_a)
    dead_job = Job(
        kind="matrix.sample", payload={}, status="dead", attempts=3, max_attempts=3,
        last_error="ConnectionError: receiver down", finished_at=now,
    )  # fmt: skip
    session.add(dead_job)
    # A's regional system's webhook, with one delivery made
    system_a = next(c for c in callers if c.name == "regional_system")
    webhook_a = Webhook(
        owner_api_key_id=system_a.id, owner_name="SIMPEG Kota Medan", institution_id=a.id,
        url="https://sipinter.medan.go.id/hooks/inovasi", event_types=["record.innovations"],
        secret_encrypted=signing.encrypt(settings.secret_key, signing.new_secret()),
    )  # fmt: skip
    session.add(webhook_a)
    await session.flush()
    delivery_a = WebhookDelivery(
        webhook_id=webhook_a.id, message_id=f"chg_1_{uuid.uuid4().int % 10**9}",
        event_type="record.innovations", payload={"type": "record.innovations"},
        status="succeeded", attempts=1, finished_at=now,
    )  # fmt: skip
    session.add(delivery_a)
    operator_id = next(c.id for c in callers if c.name == "unit_operator")
    assert operator_id is not None
    event = NotificationEvent(
        id=uuid.uuid4(), kind="submission.returned", subject_type="submission",
        subject_id=uuid.uuid4(), data={}, audience=[], occurred_at=now,
    )  # fmt: skip
    session.add(event)
    await session.flush()
    notification_a = Notification(
        user_id=operator_id, event_id=event.id, kind=event.kind, subject_type="submission",
        subject_id=event.subject_id, language="id", title="Usulan dikembalikan", body="Perbaiki.",
    )  # fmt: skip
    session.add(notification_a)
    mailing_a = Mailing(
        subject="Klinik inovasi", body="Yth. {{ name }}, klinik dibuka.", hub_id=hub_a.id,
        audience={"kind": "hub_members", "hub_id": str(hub_a.id)}, created_by_name="Admin Simpul",
    )  # fmt: skip
    session.add(mailing_a)
    await session.flush()
    email_a = EmailMessage(
        mailing_id=mailing_a.id, recipient="admin@pemkomedan.go.id", kind="mailing",
        language="id", message_id="<matrix@inovasi.test>",
    )  # fmt: skip
    session.add(email_a)
    document_id = uuid.uuid4()
    document_a = Document(
        id=document_id, kind="regulation", file_name="Perwal.pdf", media_type="application/pdf",
        size_bytes=len(DOCUMENT_BYTES), sha256=hashlib.sha256(DOCUMENT_BYTES).hexdigest(),
        storage_key=f"matrix/{document_id.hex}", record_type="innovation",
        record_id=published_a1.id, institution_id=a.id, uploaded_by_kind="api_key",
        uploaded_by_id=uuid.uuid4(), uploaded_by_name="matrix",
    )  # fmt: skip
    stored = settings.documents_dir / document_a.storage_key
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(DOCUMENT_BYTES)
    session.add(document_a)
    await session.flush()
    evaluator_id = next(c.id for c in callers if c.name == "evaluator")
    assert evaluator_id is not None
    evaluation_a = await add_competition(session, hub_a, CompetitionStatus.evaluation, 2024)
    assigned_entry_a = entry(
        evaluation_a,
        await make_innovation(a1, InnovationStatus.published, title="E-KINERJA"),
        SubmissionStatus.screened_in,
    )
    unassigned_entry_a = entry(
        evaluation_a,
        await make_innovation(a1, InnovationStatus.published, title="SIMASDU"),
        SubmissionStatus.screened_in,
    )
    session.add_all([assigned_entry_a, unassigned_entry_a])
    await session.flush()
    assignment_a = Assignment(
        competition_id=evaluation_a.competition.id, round_id=evaluation_a.round.id,
        submission_id=assigned_entry_a.id, evaluator_id=evaluator_id,
    )  # fmt: skip
    decided_a = await add_competition(session, hub_a, CompetitionStatus.evaluation, 2023)
    decided_a.round.status = RoundStatus.closed
    decided_a.round.closed_at = now
    finalist_a = entry(
        decided_a,
        await make_innovation(a1, InnovationStatus.published, title="VOICE TO TEXT"),
        SubmissionStatus.screened_in,
    )
    finalist_a.status = SubmissionStatus.finalist
    finalist_a.final_tier = "top_5"
    session.add_all([assignment_a, finalist_a])
    await session.flush()
    announcement_a = Announcement(
        competition_id=decided_a.competition.id, kind=AnnouncementKind.final_results,
        number=f"B/1/MATRIKS-{_suffix()}/2026", title="Pengumuman Hasil Akhir",
        published_at=now, objection_days=5, objections_close_at=now + timedelta(days=5),
        entries=[{
            "submission_id": str(finalist_a.id), "innovation_id": str(finalist_a.innovation_id),
            "innovation_title": "VOICE TO TEXT", "institution_id": str(a.id),
            "institution_name": a.name, "rank": 1, "tier": "top_5", "score": "90.000",
        }],
    )  # fmt: skip
    session.add(announcement_a)
    await session.flush()
    objection_a = Objection(
        announcement_id=announcement_a.id, submission_id=finalist_a.id,
        filer_name="Budi Santoso", filer_contact="budi@example.com",
        reason="Inovasi ini belum diterapkan selama dua tahun.",
    )  # fmt: skip
    award_a = Award(
        innovation_id=published_a1.id, institution_id=a.id,
        competition_id=results_competition_a.competition.id, tier="top_45", year=2025,
        title="Top 45 KIPD Sumatera Utara 2025",
    )  # fmt: skip
    session.add_all([objection_a, award_a])
    await session.flush()
    return World(
        institution_a=a,
        unit_a1=a1,
        unit_a2=a2,
        institution_b=b,
        unit_b1=b1,
        spare_institution=spare,
        hub_a=hub_a,
        hub_b=hub_b,
        candidate_hub=candidate_hub,
        hub_of_a=hub_of_a,
        host_unit_a=host_unit_a,
        member_a=member_a,
        operator_a=operator_a,
        operator_key_a=operator_key_a,
        published_a1=published_a1,
        draft_a1=draft_a1,
        activity_a=activity_a,
        draft_activity_a=draft_activity_a,
        instrument=instrument,
        draft_instrument=draft_instrument,
        verified_assessment_a=verified_assessment_a,
        submitted_assessment_a=submitted_assessment_a,
        draft_assessment_a=draft_assessment_a,
        competition_a=competition_a,
        results_competition_a=results_competition_a,
        entry_a=entry_a,
        draft_entry_a=draft_entry_a,
        awaiting_entry_a=awaiting_entry_a,
        published_b1=await make_innovation(b1, InnovationStatus.published, title="JARIK MASITI"),
        replication_a=replication_a,
        requested_replication_a=requested_replication_a,
        draft_competition_a=await add_competition(session, hub_a, CompetitionStatus.draft, 2027),
        sync_run_a=sync_run_a,
        evaluation_a=evaluation_a,
        assigned_entry_a=assigned_entry_a,
        unassigned_entry_a=unassigned_entry_a,
        assignment_a=assignment_a,
        spare_evaluator=await make_user(Role.evaluator, name="Penilai Cadangan"),
        decided_a=decided_a,
        announcement_a=announcement_a,
        objection_a=objection_a,
        award_a=award_a,
        dead_job=dead_job,
        webhook_a=webhook_a,
        delivery_a=delivery_a,
        notification_a=notification_a,
        mailing_a=mailing_a,
        email_a=email_a,
        document_a=document_a,
        callers={caller.name: caller for caller in callers},
    )


# --- one sample request per operation, aimed at institution A's records ----------------------

# "batch": a sync batch writes the caller's own institution's records, whichever it is.
Shape = Literal["item", "list", "create", "own", "sign_in", "report", "batch"]
"""item: one record of A; list: a list the caller's scope filters, which can hold A's record;
create: creates a record in (or owned by) A; own: the caller's own account; sign_in: sign-in;
report: a read about many records (facets, statistics, an export), not one of them."""


@dataclass(frozen=True)
class Sample:
    method: str
    path: str
    shape: Shape
    entity: str  # the record type, as the audit trail names it
    record: str | None = None  # id of A's record aimed at (item, list) or signing in
    id_field: str = "id"
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    # The record is a draft that callers outside the scope may not even know about: they get a
    # 404 whatever the policy's `out_of_scope` says (the competition policies' note: "another
    # hub's draft a 404").
    hidden: bool = False
    # A read about the record that does not name it (an edition's readiness).
    names_record: bool = True

    def fits(self, route: RouteInfo) -> bool:
        """The sample is a request for this route (method and path template)."""
        pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{\w+\}", route.path))
        return self.method == route.method and re.fullmatch(pattern, self.path) is not None


DOCUMENT_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


def _new_password() -> str:
    return f"kata-sandi-baru-{_suffix()}"


SAMPLES: dict[str, Callable[[World], Sample]] = {
    # identity
    # The sign-in: open to everyone; a valid credential sent along changes nothing.
    "create_access_token": lambda w: Sample(
        "POST", "/v1/auth/token", "sign_in", "user", record=str(w.operator_a.id),
        form={"grant_type": "password", "username": w.operator_a.email, "password": TEST_PASSWORD},
    ),
    "get_me": lambda w: Sample("GET", "/v1/me", "own", "user"),
    "change_my_password": lambda w: Sample(
        "PUT", "/v1/me/password", "own", "user",
        json={"current_password": TEST_PASSWORD, "new_password": _new_password()},
    ),
    "create_user": lambda w: Sample(
        "POST", "/v1/users", "create", "user",
        json={
            "email": f"operator.baru.{_suffix()}@pemkomedan.go.id",
            "name": "Operator Baru",
            "role": "unit_operator",
            "unit_id": str(w.unit_a1.id),
            "password": _new_password(),
        },
    ),
    "list_users": lambda w: Sample(
        "GET", "/v1/users", "list", "user", record=str(w.operator_a.id),
        params={"q": w.operator_a.email, "limit": 100},
    ),
    "get_user": lambda w: Sample(
        "GET", f"/v1/users/{w.operator_a.id}", "item", "user", record=str(w.operator_a.id)
    ),
    "update_user": lambda w: Sample(
        "PATCH", f"/v1/users/{w.operator_a.id}", "item", "user", record=str(w.operator_a.id),
        json={"name": "Operator Berganti Nama"},
    ),
    "create_api_key": lambda w: Sample(
        "POST", "/v1/api-keys", "create", "api_key",
        json={
            "name": "SIPINTER sync, Pemkot Medan",
            "role": "regional_system",
            "institution_id": str(w.institution_a.id),
        },
    ),
    "list_api_keys": lambda w: Sample(
        "GET", "/v1/api-keys", "list", "api_key", record=str(w.operator_key_a.id),
        params={"role": "unit_operator", "limit": 100},
    ),
    "get_api_key": lambda w: Sample(
        "GET", f"/v1/api-keys/{w.operator_key_a.id}", "item", "api_key",
        record=str(w.operator_key_a.id),
    ),
    "revoke_api_key": lambda w: Sample(
        "DELETE", f"/v1/api-keys/{w.operator_key_a.id}", "item", "api_key",
        record=str(w.operator_key_a.id),
    ),
    # audit: the event the operator's CLI recorded when it issued A's unit operator key
    "list_audit_events": lambda w: Sample(
        "GET", "/v1/audit-events", "list", "audit_event", record=str(w.operator_key_a.id),
        id_field="entity_id",
        params={"entity_type": "api_key", "entity_id": str(w.operator_key_a.id)},
    ),
    # background jobs: the secretariat's alone
    "list_jobs": lambda w: Sample(
        "GET", "/v1/jobs", "list", "job", record=str(w.dead_job.id),
        params={"kind": "matrix.sample", "status": "dead"},
    ),
    "get_job": lambda w: Sample(
        "GET", f"/v1/jobs/{w.dead_job.id}", "item", "job", record=str(w.dead_job.id),
    ),
    "retry_job": lambda w: Sample(
        "POST", f"/v1/jobs/{w.dead_job.id}/retry", "item", "job", record=str(w.dead_job.id),
    ),
    # webhooks: A's regional system's webhook, reached by A's callers of the policy, 404 to B's
    "create_webhook": lambda w: Sample(
        "POST", "/v1/webhooks", "create", "webhook",
        json={"url": "https://sipinter.medan.go.id/hooks/inovasi-2",
              "event_types": ["record.innovations", "submission.submitted"],
              "institution_id": str(w.institution_a.id)},
    ),
    "list_webhooks": lambda w: Sample(
        "GET", "/v1/webhooks", "list", "webhook", record=str(w.webhook_a.id),
        params={"limit": 100},
    ),
    "get_webhook": lambda w: Sample(
        "GET", f"/v1/webhooks/{w.webhook_a.id}", "item", "webhook", record=str(w.webhook_a.id),
        hidden=True,
    ),
    "update_webhook": lambda w: Sample(
        "PATCH", f"/v1/webhooks/{w.webhook_a.id}", "item", "webhook",
        record=str(w.webhook_a.id), hidden=True, json={"description": "SIPINTER, produksi"},
    ),
    "delete_webhook": lambda w: Sample(
        "DELETE", f"/v1/webhooks/{w.webhook_a.id}", "item", "webhook",
        record=str(w.webhook_a.id), hidden=True,
    ),
    "rotate_webhook_secret": lambda w: Sample(
        "POST", f"/v1/webhooks/{w.webhook_a.id}/rotate-secret", "item", "webhook",
        record=str(w.webhook_a.id), hidden=True, json={"previous_secret_valid_hours": 1},
    ),
    "list_webhook_deliveries": lambda w: Sample(
        "GET", f"/v1/webhooks/{w.webhook_a.id}/deliveries", "item", "webhook_delivery",
        record=str(w.webhook_a.id), hidden=True, names_record=False,
    ),
    "redeliver_webhook_delivery": lambda w: Sample(
        "POST", f"/v1/webhooks/{w.webhook_a.id}/deliveries/{w.delivery_a.id}/redeliver",
        "item", "webhook_delivery", record=str(w.delivery_a.id), hidden=True,
    ),
    # notifications: a person's own (the in-scope unit operator holds notification_a)
    "list_notifications": lambda w: Sample(
        "GET", "/v1/notifications", "item", "notification", names_record=False,
    ),
    "mark_notification_read": lambda w: Sample(
        "POST", f"/v1/notifications/{w.notification_a.id}/read", "own", "notification",
    ),
    "mark_all_notifications_read": lambda w: Sample(
        "POST", "/v1/notifications/read-all", "own", "notification",
    ),
    "get_notification_preferences": lambda w: Sample(
        "GET", "/v1/me/notification-preferences", "item", "user",
        names_record=False,
    ),
    "set_notification_preferences": lambda w: Sample(
        "PUT", "/v1/me/notification-preferences", "own", "user",
        json={"kinds": [{"kind": "submission.returned", "email": False, "in_app": True}]},
    ),
    # documents: published_a1's, public
    "list_document_kinds": lambda w: Sample("GET", "/v1/document-kinds", "report", "document"),
    "upload_document": lambda w: Sample(
        "POST", "/v1/documents", "create", "document",
        files={"file": ("Perwal.pdf", DOCUMENT_BYTES, "application/pdf")},
        form={
            "kind": "regulation", "record_type": "innovation",
            "record_id": str(w.published_a1.id),
        },
    ),
    "list_documents": lambda w: Sample(
        "GET", "/v1/documents", "list", "document", record=str(w.document_a.id),
        params={"record_type": "innovation", "record_id": str(w.published_a1.id)},
    ),
    "get_document": lambda w: Sample(
        "GET", f"/v1/documents/{w.document_a.id}", "item", "document",
        record=str(w.document_a.id),
    ),
    "get_document_content": lambda w: Sample(
        "GET", f"/v1/documents/{w.document_a.id}/content", "item", "document",
        record=str(w.document_a.id), names_record=False,
    ),
    "delete_document": lambda w: Sample(
        "DELETE", f"/v1/documents/{w.document_a.id}", "item", "document",
        record=str(w.document_a.id),
    ),
    # organiser mail: HUB_A's members are written to by HUB_A's admins and the secretariat
    "create_mailing": lambda w: Sample(
        "POST", "/v1/mailings", "create", "mailing",
        json={
            "subject": "Forum replikasi", "body": "Yth. {{ name }}, forum dibuka.",
            "audience": {"kind": "hub_members", "hub_id": str(w.hub_a.id)},
        },
    ),
    "list_mailings": lambda w: Sample(
        "GET", "/v1/mailings", "list", "mailing", record=str(w.mailing_a.id),
    ),
    "get_mailing": lambda w: Sample(
        "GET", f"/v1/mailings/{w.mailing_a.id}", "item", "mailing", record=str(w.mailing_a.id),
    ),
    "preview_mailing": lambda w: Sample(
        "GET", f"/v1/mailings/{w.mailing_a.id}/preview", "item", "mailing",
        record=str(w.mailing_a.id), names_record=False,
    ),
    "send_mailing": lambda w: Sample(
        "POST", f"/v1/mailings/{w.mailing_a.id}/send", "item", "mailing",
        record=str(w.mailing_a.id),
    ),
    "list_email_messages": lambda w: Sample(
        "GET", "/v1/email-messages", "list", "email_message", record=str(w.email_a.id),
    ),
    # sync: a draft of A is a change A's callers are shown and B's are not.
    "list_sync_changes": lambda w: Sample(
        "GET", "/v1/sync/changes", "list", "innovation", record=str(w.draft_a1.id),
        params={"resources": "innovations", "limit": 1000},
    ),
    "list_sync_runs": lambda w: Sample(
        "GET", "/v1/sync/runs", "list", "sync_run", record=str(w.sync_run_a.id),
        params={"limit": 100},
    ),
    "push_unit_batch": lambda w: Sample(
        "POST", "/v1/sync/units/batch", "batch", "unit",
        json={"items": [{"external_id": f"unit-{_suffix()}", "name": f"Bidang {_suffix()}"}]},
    ),
    "push_innovation_batch": lambda w: Sample(
        "POST", "/v1/sync/innovations/batch", "batch", "innovation",
        json={"items": [{
            "external_id": f"inovasi-{_suffix()}", "unit_id": str(w.unit_a1.id),
            "title": f"SIMPEL {_suffix()}", "year_started": 2022, "is_digital": True,
            "stage": "uji_coba",
        }]},
    ),
    "push_replication_batch": lambda w: Sample(
        "POST", "/v1/sync/replications/batch", "batch", "replication",
        json={"items": [{
            "external_id": f"replikasi-{_suffix()}", "source_innovation_id": str(w.published_b1.id),
            "adopter_unit_id": str(w.unit_a1.id), "scope": "partial",
        }]},
    ),
    "push_hub_activity_batch": lambda w: Sample(
        "POST", "/v1/sync/hub-activities/batch", "batch", "hub_activity",
        json={"items": [{
            "external_id": f"kegiatan-{_suffix()}", "hub_id": str(w.hub_of_a.id),
            "kind": "coaching_clinic", "title": f"Klinik Inovasi {_suffix()}",
            "activity_date": "2024-03-05",
        }]},
    ),
    "push_mixed_batch": lambda w: Sample(
        "POST", "/v1/sync/batch", "batch", "unit",
        json={"items": [{
            "resource": "units", "external_id": f"unit-{_suffix()}", "name": f"Bidang {_suffix()}",
        }]},
    ),
    # regions
    "list_regions": lambda w: Sample(
        "GET", "/v1/regions", "list", "region", record="12.71", id_field="code",
        params={"parent_code": "12", "limit": 100},
    ),
    "get_region": lambda w: Sample(
        "GET", "/v1/regions/12.71", "item", "region", record="12.71", id_field="code"
    ),
    # institutions and units
    "list_institutions": lambda w: Sample(
        "GET", "/v1/institutions", "list", "institution", record=str(w.institution_a.id),
        params={"q": w.institution_a.name},
    ),
    "get_institution": lambda w: Sample(
        "GET", f"/v1/institutions/{w.institution_a.id}", "item", "institution",
        record=str(w.institution_a.id),
    ),
    "create_institution": lambda w: Sample(
        "POST", "/v1/institutions", "create", "institution",
        json={
            "name": f"Perumda Pasar Kota Medan {_suffix()}",
            "kind": "bumd",
            "owner_institution_id": str(w.institution_a.id),
        },
    ),
    "update_institution": lambda w: Sample(
        "PATCH", f"/v1/institutions/{w.institution_a.id}", "item", "institution",
        record=str(w.institution_a.id), json={"short_name": "Pemkot Medan"},
    ),
    # Institution A has units, so it cannot go: the sample deletes an empty institution.
    "delete_institution": lambda w: Sample(
        "DELETE", f"/v1/institutions/{w.spare_institution.id}", "item", "institution",
        record=str(w.spare_institution.id),
    ),
    "list_units": lambda w: Sample(
        "GET", f"/v1/institutions/{w.institution_a.id}/units", "list", "unit",
        record=str(w.unit_a2.id), params={"limit": 100},
    ),
    "create_unit": lambda w: Sample(
        "POST", f"/v1/institutions/{w.institution_a.id}/units", "create", "unit",
        json={"name": f"UPT Puskesmas Medan {_suffix()}"},
    ),
    "get_unit": lambda w: Sample(
        "GET", f"/v1/units/{w.unit_a2.id}", "item", "unit", record=str(w.unit_a2.id)
    ),
    "update_unit": lambda w: Sample(
        "PATCH", f"/v1/units/{w.unit_a2.id}", "item", "unit", record=str(w.unit_a2.id),
        json={"name": "Sekretariat DPRD Kota Medan (baru)"},
    ),
    # A2, not A1: A1 has accounts and keys on it, so it cannot be deleted.
    "delete_unit": lambda w: Sample(
        "DELETE", f"/v1/units/{w.unit_a2.id}", "item", "unit", record=str(w.unit_a2.id)
    ),
    # innovations: reads aim at A1's published innovation (public), writes at A1's draft,
    # which callers outside A1's scope may not even know about (404)
    "list_innovations": lambda w: Sample(
        "GET", "/v1/innovations", "list", "innovation", record=str(w.published_a1.id),
        params={"institution_id": str(w.institution_a.id), "limit": 100},
    ),
    "get_innovation": lambda w: Sample(
        "GET", f"/v1/innovations/{w.published_a1.id}", "item", "innovation",
        record=str(w.published_a1.id),
    ),
    "get_innovation_facets": lambda w: Sample(
        "GET", "/v1/innovations/facets", "report", "innovation",
        params={"institution_id": str(w.institution_a.id)},
    ),
    "export_innovations": lambda w: Sample(
        "GET", "/v1/innovations/export", "report", "innovation",
        params={"institution_id": str(w.institution_a.id)},
    ),
    "create_innovation": lambda w: Sample(
        "POST", "/v1/innovations", "create", "innovation",
        json={
            "unit_id": str(w.unit_a1.id),
            "title": f"E-RESES {_suffix()}",
            "year_started": 2021,
            "is_digital": True,
            "stage": "penerapan",
        },
    ),
    "update_innovation": lambda w: Sample(
        "PATCH", f"/v1/innovations/{w.draft_a1.id}", "item", "innovation",
        record=str(w.draft_a1.id), json={"acronym_expansion": "Mari Jaga Toilet Kita"},
    ),
    "delete_innovation": lambda w: Sample(
        "DELETE", f"/v1/innovations/{w.draft_a1.id}", "item", "innovation",
        record=str(w.draft_a1.id),
    ),
    "publish_innovation": lambda w: Sample(
        "POST", f"/v1/innovations/{w.draft_a1.id}/publish", "item", "innovation",
        record=str(w.draft_a1.id),
    ),
    "archive_innovation": lambda w: Sample(
        "POST", f"/v1/innovations/{w.published_a1.id}/archive", "item", "innovation",
        record=str(w.published_a1.id),
    ),
    "list_innovation_categories": lambda w: Sample(
        "GET", "/v1/innovation-categories", "list", "innovation_category", record="pendidikan",
        id_field="code", params={"limit": 100},
    ),
    "get_innovation_category": lambda w: Sample(
        "GET", "/v1/innovation-categories/pendidikan", "item", "innovation_category",
        record="pendidikan", id_field="code",
    ),
    "create_innovation_category": lambda w: Sample(
        "POST", "/v1/innovation-categories", "create", "innovation_category", id_field="code",
        json={"code": f"kategori_{_suffix()}", "name": "Kategori Uji"},
    ),
    "update_innovation_category": lambda w: Sample(
        "PATCH", "/v1/innovation-categories/pendidikan", "item", "innovation_category",
        record="pendidikan", id_field="code", json={"name": "Pendidikan dan Kebudayaan"},
    ),
    # hubs: HUB_A is active (public); the delete and the transition aim at a candidate hub
    "list_hubs": lambda w: Sample(
        "GET", "/v1/hubs", "list", "hub", record=str(w.hub_a.id),
        params={"province": "12", "limit": 100},
    ),
    "get_hub": lambda w: Sample(
        "GET", f"/v1/hubs/{w.hub_a.id}", "item", "hub", record=str(w.hub_a.id)
    ),
    "create_hub": lambda w: Sample(
        "POST", "/v1/hubs", "create", "hub",
        json={
            "name": f"JIPP Provinsi Sumatera Utara {_suffix()}",
            "kind": "regional",
            "host_institution_id": str(w.hub_a.host_institution_id),
        },
    ),
    "update_hub": lambda w: Sample(
        "PATCH", f"/v1/hubs/{w.hub_a.id}", "item", "hub", record=str(w.hub_a.id),
        json={"contacts": [{"name": "Sekretariat JIPP Sumut", "email": "jipp@sumutprov.go.id"}]},
    ),
    "delete_hub": lambda w: Sample(
        "DELETE", f"/v1/hubs/{w.candidate_hub.id}", "item", "hub",
        record=str(w.candidate_hub.id),
    ),
    "transition_hub": lambda w: Sample(
        "POST", f"/v1/hubs/{w.candidate_hub.id}/transitions", "item", "hub",
        record=str(w.candidate_hub.id), json={"action": "commit", "reason": "Komitmen diteken."},
    ),
    "list_hub_members": lambda w: Sample(
        "GET", f"/v1/hubs/{w.hub_a.id}/members", "list", "hub_member",
        record=str(w.member_a.id), params={"limit": 100},
    ),
    "add_hub_member": lambda w: Sample(
        "POST", f"/v1/hubs/{w.hub_a.id}/members", "create", "hub_member",
        json={"unit_id": str(w.host_unit_a.id)},
    ),
    "get_hub_member": lambda w: Sample(
        "GET", f"/v1/hubs/{w.hub_a.id}/members/{w.member_a.id}", "item", "hub_member",
        record=str(w.member_a.id),
    ),
    "end_hub_membership": lambda w: Sample(
        "POST", f"/v1/hubs/{w.hub_a.id}/members/{w.member_a.id}/leave", "item", "hub_member",
        record=str(w.member_a.id), json={"reason": "Pindah jaringan."},
    ),
    # hub activities: reads aim at HUB_A's published activity, writes at its draft
    "list_hub_activities": lambda w: Sample(
        "GET", f"/v1/hubs/{w.hub_a.id}/activities", "list", "hub_activity",
        record=str(w.activity_a.id), params={"limit": 100},
    ),
    "get_hub_activity": lambda w: Sample(
        "GET", f"/v1/hubs/{w.hub_a.id}/activities/{w.activity_a.id}", "item", "hub_activity",
        record=str(w.activity_a.id),
    ),
    "create_hub_activity": lambda w: Sample(
        "POST", f"/v1/hubs/{w.hub_a.id}/activities", "create", "hub_activity",
        json={
            "kind": "knowledge_sharing",
            "title": "Berbagi Pengetahuan Inovasi Daerah",
            "activity_date": "2024-02-20",
            "participant_institution_ids": [str(w.institution_a.id)],
            "innovation_ids": [str(w.published_a1.id)],
        },
    ),
    "update_hub_activity": lambda w: Sample(
        "PATCH", f"/v1/hubs/{w.hub_a.id}/activities/{w.draft_activity_a.id}", "item",
        "hub_activity", record=str(w.draft_activity_a.id),
        json={"outcome_notes": "Dua inovasi disepakati untuk direplikasi."},
    ),
    "delete_hub_activity": lambda w: Sample(
        "DELETE", f"/v1/hubs/{w.hub_a.id}/activities/{w.draft_activity_a.id}", "item",
        "hub_activity", record=str(w.draft_activity_a.id),
    ),
    "transition_hub_activity": lambda w: Sample(
        "POST", f"/v1/hubs/{w.hub_a.id}/activities/{w.draft_activity_a.id}/transitions", "item",
        "hub_activity", record=str(w.draft_activity_a.id), json={"action": "publish"},
    ),
    # maturity instruments: reads aim at the published one, writes at a draft
    "list_maturity_instruments": lambda w: Sample(
        "GET", "/v1/maturity-instruments", "list", "maturity_instrument",
        record=str(w.instrument.id), params={"limit": 100},
    ),
    "get_maturity_instrument": lambda w: Sample(
        "GET", f"/v1/maturity-instruments/{w.instrument.id}", "item", "maturity_instrument",
        record=str(w.instrument.id),
    ),
    "create_maturity_instrument": lambda w: Sample(
        "POST", "/v1/maturity-instruments", "create", "maturity_instrument",
        json={"code": f"instrumen-{_suffix()}", "name": "Instrumen Baru",
              "aspects": INSTRUMENT_ASPECTS},
    ),
    "update_maturity_instrument": lambda w: Sample(
        "PATCH", f"/v1/maturity-instruments/{w.draft_instrument.id}", "item",
        "maturity_instrument", record=str(w.draft_instrument.id),
        json={"description": "Uji coba 2026."},
    ),
    "delete_maturity_instrument": lambda w: Sample(
        "DELETE", f"/v1/maturity-instruments/{w.draft_instrument.id}", "item",
        "maturity_instrument", record=str(w.draft_instrument.id),
    ),
    "transition_maturity_instrument": lambda w: Sample(
        "POST", f"/v1/maturity-instruments/{w.draft_instrument.id}/transitions", "item",
        "maturity_instrument", record=str(w.draft_instrument.id), json={"action": "publish"},
    ),
    # maturity assessments of HUB_A: reads aim at the verified one (public)
    "list_hub_assessments": lambda w: Sample(
        "GET", f"/v1/hubs/{w.hub_a.id}/assessments", "list", "maturity_assessment",
        record=str(w.verified_assessment_a.id), params={"limit": 100},
    ),
    "get_hub_assessment": lambda w: Sample(
        "GET", f"/v1/hubs/{w.hub_a.id}/assessments/{w.verified_assessment_a.id}", "item",
        "maturity_assessment", record=str(w.verified_assessment_a.id),
    ),
    "create_hub_assessment": lambda w: Sample(
        "POST", f"/v1/hubs/{w.hub_a.id}/assessments", "create", "maturity_assessment",
        json={"period_year": 2022, "instrument_id": str(w.instrument.id)},
    ),
    "delete_hub_assessment": lambda w: Sample(
        "DELETE", f"/v1/hubs/{w.hub_a.id}/assessments/{w.draft_assessment_a.id}", "item",
        "maturity_assessment", record=str(w.draft_assessment_a.id),
    ),
    "put_hub_assessment_answers": lambda w: Sample(
        "PUT", f"/v1/hubs/{w.hub_a.id}/assessments/{w.draft_assessment_a.id}/answers", "item",
        "maturity_assessment", record=str(w.draft_assessment_a.id),
        json={"answers": [{"question_code": "PLN-1", "option_code": "tidak"}]},
    ),
    "submit_hub_assessment": lambda w: Sample(
        "POST", f"/v1/hubs/{w.hub_a.id}/assessments/{w.draft_assessment_a.id}/submit", "item",
        "maturity_assessment", record=str(w.draft_assessment_a.id),
    ),
    "review_hub_assessment": lambda w: Sample(
        "POST", f"/v1/hubs/{w.hub_a.id}/assessments/{w.submitted_assessment_a.id}/review",
        "item", "maturity_assessment", record=str(w.submitted_assessment_a.id),
        json={"action": "verify"},
    ),
    # competitions: reads aim at HUB_A's open edition (public), structure writes at HUB_A's
    # draft, which another hub's admins may not even see (404)
    "list_competitions": lambda w: Sample(
        "GET", "/v1/competitions", "list", "competition",
        record=str(w.competition_a.competition.id),
        params={"hub_id": str(w.hub_a.id), "limit": 100},
    ),
    "get_competition": lambda w: Sample(
        "GET", f"/v1/competitions/{w.competition_a.competition.id}", "item", "competition",
        record=str(w.competition_a.competition.id),
    ),
    "create_competition": lambda w: Sample(
        "POST", "/v1/competitions", "create", "competition",
        json={"code": f"KIPD-SUMUT-{_suffix()}", "name": "Kompetisi Inovasi Sumatera Utara",
              "year": 2028, "scope": "provincial", "hub_id": str(w.hub_a.id)},
    ),
    "update_competition": lambda w: Sample(
        "PATCH", f"/v1/competitions/{w.competition_a.competition.id}", "item", "competition",
        record=str(w.competition_a.competition.id), json={"theme": "Inovasi Berdampak"},
    ),
    "delete_competition": lambda w: Sample(
        "DELETE", f"/v1/competitions/{w.draft_competition_a.competition.id}", "item",
        "competition", record=str(w.draft_competition_a.competition.id), hidden=True,
    ),
    "get_competition_readiness": lambda w: Sample(
        "GET", f"/v1/competitions/{w.draft_competition_a.competition.id}/readiness", "item",
        "competition", record=str(w.draft_competition_a.competition.id), hidden=True,
        names_record=False,
    ),
    "transition_competition": lambda w: Sample(
        "POST", f"/v1/competitions/{w.competition_a.competition.id}/transitions", "item",
        "competition", record=str(w.competition_a.competition.id),
        json={"action": "close_registration"},
    ),
    "list_competition_groups": lambda w: Sample(
        "GET", f"/v1/competitions/{w.competition_a.competition.id}/groups", "list",
        "competition_group", record=str(w.competition_a.group.id),
    ),
    "get_competition_group": lambda w: Sample(
        "GET",
        f"/v1/competitions/{w.competition_a.competition.id}/groups/{w.competition_a.group.id}",
        "item", "competition_group", record=str(w.competition_a.group.id),
    ),
    "create_competition_group": lambda w: Sample(
        "POST", f"/v1/competitions/{w.draft_competition_a.competition.id}/groups", "create",
        "competition_group", json={"code": f"replikasi_{_suffix()}", "name": "Replikasi"},
        hidden=True,
    ),
    "update_competition_group": lambda w: Sample(
        "PATCH", f"/v1/competitions/{w.draft_competition_a.competition.id}/groups/"
        f"{w.draft_competition_a.group.id}", "item", "competition_group",
        record=str(w.draft_competition_a.group.id), json={"max_submissions_per_institution": 10},
        hidden=True,
    ),
    "delete_competition_group": lambda w: Sample(
        "DELETE", f"/v1/competitions/{w.draft_competition_a.competition.id}/groups/"
        f"{w.draft_competition_a.group.id}", "item", "competition_group",
        record=str(w.draft_competition_a.group.id), hidden=True,
    ),
    "list_competition_categories": lambda w: Sample(
        "GET", f"/v1/competitions/{w.competition_a.competition.id}/categories", "list",
        "competition_category", record=str(w.competition_a.category.id),
    ),
    "get_competition_category": lambda w: Sample(
        "GET", f"/v1/competitions/{w.competition_a.competition.id}/categories/"
        f"{w.competition_a.category.id}", "item", "competition_category",
        record=str(w.competition_a.category.id),
    ),
    "create_competition_category": lambda w: Sample(
        "POST", f"/v1/competitions/{w.draft_competition_a.competition.id}/categories", "create",
        "competition_category", json={"code": f"ekonomi_{_suffix()}", "name": "Ekonomi"},
        hidden=True,
    ),
    "update_competition_category": lambda w: Sample(
        "PATCH", f"/v1/competitions/{w.draft_competition_a.competition.id}/categories/"
        f"{w.draft_competition_a.category.id}", "item", "competition_category",
        record=str(w.draft_competition_a.category.id), json={"name": "Digitalisasi Layanan"},
        hidden=True,
    ),
    "delete_competition_category": lambda w: Sample(
        "DELETE", f"/v1/competitions/{w.draft_competition_a.competition.id}/categories/"
        f"{w.draft_competition_a.category.id}", "item", "competition_category",
        record=str(w.draft_competition_a.category.id), hidden=True,
    ),
    "list_competition_rounds": lambda w: Sample(
        "GET", f"/v1/competitions/{w.competition_a.competition.id}/rounds", "list",
        "competition_round", record=str(w.competition_a.round.id),
    ),
    "create_competition_round": lambda w: Sample(
        "POST", f"/v1/competitions/{w.draft_competition_a.competition.id}/rounds", "create",
        "competition_round", json={"kind": "interview", "name": "Wawancara", "advance_quota": 5},
        hidden=True,
    ),
    "get_round": lambda w: Sample(
        "GET", f"/v1/rounds/{w.competition_a.round.id}", "item", "competition_round",
        record=str(w.competition_a.round.id),
    ),
    "update_round": lambda w: Sample(
        "PATCH", f"/v1/rounds/{w.draft_competition_a.round.id}", "item", "competition_round",
        record=str(w.draft_competition_a.round.id), json={"advance_quota": 99}, hidden=True,
    ),
    "delete_round": lambda w: Sample(
        "DELETE", f"/v1/rounds/{w.draft_competition_a.round.id}", "item", "competition_round",
        record=str(w.draft_competition_a.round.id), hidden=True,
    ),
    "list_round_criteria": lambda w: Sample(
        "GET", f"/v1/rounds/{w.competition_a.round.id}/criteria", "list", "round_criterion",
        record=str(w.competition_a.criterion.id),
    ),
    "get_round_criterion": lambda w: Sample(
        "GET", f"/v1/rounds/{w.competition_a.round.id}/criteria/{w.competition_a.criterion.id}",
        "item", "round_criterion", record=str(w.competition_a.criterion.id),
    ),
    "create_round_criterion": lambda w: Sample(
        "POST", f"/v1/rounds/{w.draft_competition_a.round.id}/criteria", "create",
        "round_criterion", json={"group_id": str(w.draft_competition_a.group.id),
                                 "name": f"Kebaruan {_suffix()}", "weight": 0},
        hidden=True,
    ),
    "update_round_criterion": lambda w: Sample(
        "PATCH", f"/v1/rounds/{w.draft_competition_a.round.id}/criteria/"
        f"{w.draft_competition_a.criterion.id}", "item", "round_criterion",
        record=str(w.draft_competition_a.criterion.id), json={"weight": 90}, hidden=True,
    ),
    "delete_round_criterion": lambda w: Sample(
        "DELETE", f"/v1/rounds/{w.draft_competition_a.round.id}/criteria/"
        f"{w.draft_competition_a.criterion.id}", "item", "round_criterion",
        record=str(w.draft_competition_a.criterion.id), hidden=True,
    ),
    # statistics
    "get_stats_overview": lambda w: Sample(
        "GET", "/v1/stats/overview", "report", "innovation",
        params={"institution_id": str(w.institution_a.id)},
    ),
    "get_hub_stats": lambda w: Sample("GET", "/v1/stats/hubs", "report", "hub"),
    "get_replication_stats": lambda w: Sample(
        "GET", "/v1/stats/replications", "report", "replication", params={"group_by": "hub"},
    ),
    "get_innovation_stats": lambda w: Sample(
        "GET", "/v1/stats/innovations", "report", "innovation",
        params={"group_by": "category", "institution_id": str(w.institution_a.id)},
    ),
    # submissions: reads aim at A1's public entry (screened in, results published); writes at
    # A1's draft and awaiting entries of HUB_A's open edition, which only A (and the edition's
    # runners) may know about.
    "list_submissions": lambda w: Sample(
        "GET", "/v1/submissions", "list", "submission", record=str(w.entry_a.id),
    ),
    "get_submission": lambda w: Sample(
        "GET", f"/v1/submissions/{w.entry_a.id}", "item", "submission", record=str(w.entry_a.id),
    ),
    "create_submission": lambda w: Sample(
        "POST", "/v1/submissions", "create", "submission",
        json={
            "competition_id": str(w.competition_a.competition.id),
            "group_id": str(w.competition_a.group.id),
            "category_id": str(w.competition_a.category.id),
            "innovation_id": str(w.published_a1.id),
        },
    ),
    "update_submission": lambda w: Sample(
        "PATCH", f"/v1/submissions/{w.draft_entry_a.id}", "item", "submission",
        record=str(w.draft_entry_a.id), hidden=True,
        json={"answers": [{"criterion_id": str(w.competition_a.criterion.id),
                           "text": "Layanan kunjungan daring memangkas antrean."}]},
    ),
    "delete_submission": lambda w: Sample(
        "DELETE", f"/v1/submissions/{w.draft_entry_a.id}", "item", "submission",
        record=str(w.draft_entry_a.id), hidden=True,
    ),
    # The sample withdraws: the entry's side. Screening is the runners' step (an exception
    # in expected_outcome below).
    "transition_submission": lambda w: Sample(
        "POST", f"/v1/submissions/{w.awaiting_entry_a.id}/transitions", "item", "submission",
        record=str(w.awaiting_entry_a.id), hidden=True, json={"action": "withdraw"},
    ),
    "export_submissions": lambda w: Sample(
        "GET", "/v1/submissions/export", "item", "competition",
        record=str(w.competition_a.competition.id), names_record=False,
        params={"competition_id": str(w.competition_a.competition.id)},
    ),
    # evaluation: HUB_A's edition in evaluation; the assignment is the in-scope evaluator's
    "list_round_assignments": lambda w: Sample(
        "GET", f"/v1/rounds/{w.evaluation_a.round.id}/assignments", "item", "assignment",
        record=str(w.evaluation_a.round.id), names_record=False,
    ),
    "create_assignment": lambda w: Sample(
        "POST", f"/v1/rounds/{w.evaluation_a.round.id}/assignments", "create", "assignment",
        json={
            "submission_id": str(w.unassigned_entry_a.id),
            "evaluator_id": str(w.callers["evaluator"].id),
        },
    ),
    "auto_assign_round": lambda w: Sample(
        "POST", f"/v1/rounds/{w.evaluation_a.round.id}/assignments/auto-assign", "item",
        "competition_round", record=str(w.evaluation_a.round.id),
        json={"evaluator_ids": [str(w.callers["evaluator"].id)], "evaluators_per_submission": 1},
    ),
    "get_assignment": lambda w: Sample(
        "GET", f"/v1/assignments/{w.assignment_a.id}", "item", "assignment",
        record=str(w.assignment_a.id), hidden=True,
    ),
    "reassign_assignment": lambda w: Sample(
        "POST", f"/v1/assignments/{w.assignment_a.id}/reassign", "item", "assignment",
        record=str(w.assignment_a.id), hidden=True,
        json={"evaluator_id": str(w.spare_evaluator.id)},
    ),
    "recuse_assignment": lambda w: Sample(
        "POST", f"/v1/assignments/{w.assignment_a.id}/recuse", "item", "assignment",
        record=str(w.assignment_a.id), hidden=True,
        json={"reason": "Saya pernah mendampingi inovasi ini."},
    ),
    "put_assignment_scores": lambda w: Sample(
        "PUT", f"/v1/assignments/{w.assignment_a.id}/scores", "item", "assignment",
        record=str(w.assignment_a.id), hidden=True,
        json={
            "scores": [{"criterion_id": str(w.evaluation_a.criterion.id), "score": 80}],
            "submit": False,
        },
    ),
    "get_round_ranking": lambda w: Sample(
        "GET", f"/v1/rounds/{w.evaluation_a.round.id}/ranking", "item", "competition_round",
        record=str(w.evaluation_a.round.id), id_field="round_id",
    ),
    "close_round": lambda w: Sample(
        "POST", f"/v1/rounds/{w.evaluation_a.round.id}/close", "item", "competition_round",
        record=str(w.evaluation_a.round.id),
        json={"force": True, "reason": "Sampel matriks: penilaian tidak lengkap."},
    ),
    # results: the decided edition's final results, its objection, A1's award
    "list_competition_announcements": lambda w: Sample(
        "GET", f"/v1/competitions/{w.decided_a.competition.id}/announcements", "list",
        "announcement", record=str(w.announcement_a.id),
    ),
    "get_announcement": lambda w: Sample(
        "GET", f"/v1/announcements/{w.announcement_a.id}", "item", "announcement",
        record=str(w.announcement_a.id),
    ),
    "create_announcement": lambda w: Sample(
        "POST", f"/v1/competitions/{w.decided_a.competition.id}/announcements", "create",
        "announcement", json={"kind": "final_results", "title": "Pengumuman Ulang Hasil Akhir"},
    ),
    "file_objection": lambda w: Sample(
        "POST", f"/v1/announcements/{w.announcement_a.id}/objections", "create", "objection",
        json={
            "submission_id": w.announcement_a.entries[0]["submission_id"],
            "filer_name": "Siti Aminah", "filer_contact": "siti@example.com",
            "reason": "Data penerapan inovasi tidak sesuai dengan kenyataan.",
        },
    ),
    "list_announcement_objections": lambda w: Sample(
        "GET", f"/v1/announcements/{w.announcement_a.id}/objections", "item", "objection",
        record=str(w.objection_a.id), names_record=False,
    ),
    "get_objection": lambda w: Sample(
        "GET", f"/v1/objections/{w.objection_a.id}", "item", "objection",
        record=str(w.objection_a.id), hidden=True,
    ),
    "review_objection": lambda w: Sample(
        "POST", f"/v1/objections/{w.objection_a.id}/review", "item", "objection",
        record=str(w.objection_a.id), hidden=True,
        json={"decision": "dismissed", "note": "Tidak terbukti."},
    ),
    "list_awards": lambda w: Sample(
        "GET", "/v1/awards", "list", "award", record=str(w.award_a.id),
        params={"innovation_id": str(w.published_a1.id)},
    ),
    "get_award": lambda w: Sample(
        "GET", f"/v1/awards/{w.award_a.id}", "item", "award", record=str(w.award_a.id),
    ),
    "create_award": lambda w: Sample(
        "POST", "/v1/awards", "create", "award",
        json={
            "innovation_id": str(w.published_a1.id), "tier": "top_99", "year": 2019,
            "title": "Top 99 KIPP 2019",
        },
    ),
    "list_innovation_awards": lambda w: Sample(
        "GET", f"/v1/innovations/{w.published_a1.id}/awards", "list", "award",
        record=str(w.award_a.id),
    ),
    "get_competition_funnel": lambda w: Sample(
        "GET", f"/v1/stats/competitions/{w.results_competition_a.competition.id}/funnel",
        "report", "competition", params={"by": "province"},
    ),
    # replications: reads aim at A1's approved (public) replication of an A3 innovation; writes
    # at A1's request for another one, which only A may know about. The sample transition
    # discontinues: either side's step.
    "list_replications": lambda w: Sample(
        "GET", "/v1/replications", "list", "replication", record=str(w.replication_a.id),
    ),
    "get_replication": lambda w: Sample(
        "GET", f"/v1/replications/{w.replication_a.id}", "item", "replication",
        record=str(w.replication_a.id),
    ),
    "create_replication": lambda w: Sample(
        "POST", "/v1/replications", "create", "replication",
        json={"source_innovation_id": str(w.published_b1.id),
              "adopter_unit_id": str(w.unit_a1.id), "scope": "partial"},
    ),
    "update_replication": lambda w: Sample(
        "PATCH", f"/v1/replications/{w.requested_replication_a.id}", "item", "replication",
        record=str(w.requested_replication_a.id), hidden=True,
        json={"adaptation": "Formulir daring disesuaikan dengan layanan DPRD."},
    ),
    "delete_replication": lambda w: Sample(
        "DELETE", f"/v1/replications/{w.requested_replication_a.id}", "item", "replication",
        record=str(w.requested_replication_a.id), hidden=True,
    ),
    "transition_replication": lambda w: Sample(
        "POST", f"/v1/replications/{w.requested_replication_a.id}/transitions", "item",
        "replication", record=str(w.requested_replication_a.id), hidden=True,
        json={"action": "discontinue", "reason": "Anggaran tahun ini tidak tersedia."},
    ),
    "list_similar_innovations": lambda w: Sample(
        "GET", f"/v1/innovations/{w.published_a1.id}/similar", "item", "innovation",
        record=str(w.published_a1.id), id_field="innovation_id",
    ),
    "get_innovation_lineage": lambda w: Sample(
        "GET", f"/v1/innovations/{w.replication_a.source_innovation_id}/lineage", "item",
        "innovation", record=str(w.replication_a.source_innovation_id), id_field="innovation_id",
    ),
}  # fmt: skip


def v1_routes(app: FastAPI) -> dict[str, RouteInfo]:
    """The /v1 route table by operation id."""
    return {r.name: r for r in iter_api_routes(app) if r.path.startswith("/v1/")}


async def send(
    client: httpx.AsyncClient, sample: Sample, caller: Caller, *, conditional: bool = True
) -> httpx.Response:
    """Call the sample as the caller; a PATCH, PUT or DELETE sends the record's current ETag
    (as read by the caller) unless `conditional` is false."""
    headers = caller.headers
    if conditional and sample.method in ("PATCH", "PUT", "DELETE"):
        headers = await if_match(client, sample.path, headers)
    return await client.request(
        sample.method,
        sample.path,
        params=sample.params,
        json=sample.json,
        data=sample.form,
        files=sample.files,
        headers=headers,
    )


def listed(response: httpx.Response, sample: Sample) -> set[str]:
    return {str(item[sample.id_field]) for item in response.json()["items"]}


# --- what the policy says --------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a call must answer: a status (None: any 2xx), the problem code if known, and for a
    list whether A's sample record is among the items."""

    status: int | None
    code: str | None = None
    sees_record: bool | None = None


# Scopes under which the sample is always in reach: the caller's own account is always its own.
_REACHES_EVERY_SAMPLE = frozenset({Scope.everything, Scope.own_account})


def _success(sample: Sample) -> Outcome:
    return Outcome(None, sees_record=True if sample.shape == "list" else None)


_NOTIFICATION_OPERATIONS = frozenset(
    {
        "list_notifications",
        "mark_notification_read",
        "mark_all_notifications_read",
        "get_notification_preferences",
        "set_notification_preferences",
    }
)


def expected_outcome(operation: str, policy: Access, sample: Sample, caller: Caller) -> Outcome:
    """The answer the policy gives this caller, plus the documented exceptions."""
    if caller.role is None:
        return _success(sample) if policy.anonymous else Outcome(401, "auth.required")
    if not policy.anonymous and caller.role not in policy.rules:
        return Outcome(403, "auth.role_forbidden")
    # Exception: the policy admits every role to change_my_password, but it is for people only;
    # an API key has no password (the policy's note says so).
    if operation == "change_my_password" and caller.kind == "api_key":
        return Outcome(403, "auth.not_a_person")
    # Exception: notifications are for people (machine clients get webhooks), and a person's
    # notification is nobody else's to mark read (404: not even known to exist).
    if operation in _NOTIFICATION_OPERATIONS and caller.kind == "api_key":
        return Outcome(403, "notifications.people_only")
    if operation == "mark_notification_read" and caller.name != "unit_operator":
        return Outcome(404, "notification.not_found")
    # Exception: an entry's transitions admit its institution (submit, approve, return,
    # withdraw) and the edition's runners (screen); the sample withdraws, which the runners
    # may not (the policy's note says which side takes which step).
    if (
        operation == "transition_submission"
        and caller.in_scope
        and caller.role in (Role.secretariat_admin, Role.hub_admin)
    ):
        return Outcome(403, "submission.out_of_scope")
    # An anonymous operation admits any credential without narrowing it (the sign-in names no
    # roles at all).
    scope = policy.rules.get(caller.role, Scope.everything)
    if caller.in_scope or scope in _REACHES_EVERY_SAMPLE:
        return _success(sample)
    if sample.shape == "item":
        return Outcome(404 if sample.hidden else policy.out_of_scope)
    if sample.shape == "create":
        return Outcome(404 if sample.hidden else 403)
    if sample.shape == "list":
        return Outcome(200, sees_record=False)
    if sample.shape == "batch":  # the caller's own institution's records: always in reach
        return _success(sample)
    raise AssertionError(f"{operation}: no out-of-scope rule for a {sample.shape} sample")


def assert_outcome(response: httpx.Response, want: Outcome, sample: Sample, caller: Caller) -> None:
    if want.status is None:
        assert 200 <= response.status_code < 300, response.text
    else:
        assert response.status_code == want.status, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if want.code is not None:
        assert want.status is not None
        assert_problem(response, want.status, want.code)
    if want.sees_record is not None:
        assert (sample.record in listed(response, sample)) is want.sees_record, response.text
    if (
        want.status is None
        and sample.method == "GET"
        and sample.shape == "item"
        and sample.names_record
    ):
        assert str(response.json()[sample.id_field]) == sample.record
    if want.status is None and sample.method == "GET" and sample.shape == "own":
        assert response.json()["id"] == str(caller.id)


# --- the route table and the samples ---------------------------------------------------------


def test_every_v1_operation_has_a_sample(app: FastAPI) -> None:
    assert set(SAMPLES) == set(v1_routes(app))


def test_every_caller_is_in_the_world(world: World) -> None:
    assert set(world.callers) == set(CALLERS)
    assert {c.role for c in world.callers.values()} == {None, *Role}


# --- the matrix ------------------------------------------------------------------------------


@pytest.mark.parametrize("caller_name", CALLERS)
@pytest.mark.parametrize("operation", sorted(SAMPLES))
async def test_operation_answers_the_caller_as_its_policy_says(
    client: httpx.AsyncClient, app: FastAPI, world: World, operation: str, caller_name: str
) -> None:
    route = v1_routes(app)[operation]
    assert route.policy is not None
    sample = SAMPLES[operation](world)
    assert sample.fits(route), f"the sample for {operation} is not a {route.method} {route.path}"
    caller = world.callers[caller_name]
    want = expected_outcome(operation, route.policy, sample, caller)
    response = await send(client, sample, caller)
    assert_outcome(response, want, sample, caller)


# --- If-Match: required of whoever may write, never a hint to whoever may not -------------------


def _requiring_if_match(app: FastAPI) -> list[str]:
    return sorted(name for name, route in v1_routes(app).items() if route.requires_if_match)


def test_every_patch_put_and_delete_of_a_versioned_record_requires_if_match(app: FastAPI) -> None:
    # The unversioned writes: a password has no ETag, a revoked key is simply gone.
    # A person's own preferences are replaced whole, by that person only: the last one wins.
    # A document never changes (a new file is a new document): its delete names no version.
    unversioned = {
        "change_my_password",
        "revoke_api_key",
        "set_notification_preferences",
        "delete_document",
    }
    writes = {
        name for name, route in v1_routes(app).items() if route.method in ("PATCH", "PUT", "DELETE")
    }
    assert set(_requiring_if_match(app)) == writes - unversioned
    document = app.openapi()
    for name in _requiring_if_match(app):
        route = v1_routes(app)[name]
        operation = document["paths"][route.path][route.method.lower()]
        (header,) = [p for p in operation["parameters"] if p["name"].lower() == "if-match"]
        assert header["required"] is True, name
        assert "428" in operation["responses"], name


@pytest.mark.parametrize("caller_name", CALLERS)
@pytest.mark.parametrize(
    "operation",
    [
        "update_user",
        "update_institution",
        "delete_unit",
        "update_innovation",
        "update_innovation_category",
        "update_hub",
        "delete_hub_activity",
        "put_hub_assessment_answers",
        "update_competition",
        "delete_round_criterion",
        "update_submission",
        "put_assignment_scores",
        "delete_replication",
    ],
)
async def test_a_write_without_if_match_is_428_only_for_a_caller_who_may_write(
    client: httpx.AsyncClient, app: FastAPI, world: World, operation: str, caller_name: str
) -> None:
    route = v1_routes(app)[operation]
    assert route.policy is not None
    assert route.requires_if_match
    sample = SAMPLES[operation](world)
    caller = world.callers[caller_name]
    want = expected_outcome(operation, route.policy, sample, caller)
    response = await send(client, sample, caller, conditional=False)
    if want.status is None:
        assert_problem(response, 428, "precondition_required")
    else:
        assert_outcome(response, want, sample, caller)


@pytest.mark.parametrize("operation", ["update_institution", "update_hub", "delete_unit"])
async def test_if_match_star_matches_the_current_version(
    client: httpx.AsyncClient, app: FastAPI, world: World, operation: str
) -> None:
    sample = SAMPLES[operation](world)
    caller = _writer(world, operation, app)
    starred = dataclasses.replace(caller, headers={**caller.headers, "If-Match": "*"})
    response = await send(client, sample, starred)
    assert 200 <= response.status_code < 300, response.text


def _writer(world: World, operation: str, app: FastAPI) -> Caller:
    """A caller the policy lets through for the operation's sample."""
    route = v1_routes(app)[operation]
    assert route.policy is not None
    sample = SAMPLES[operation](world)
    for caller in world.callers.values():
        if expected_outcome(operation, route.policy, sample, caller).status is None:
            return caller
    raise AssertionError(f"nobody may call {operation}")


# --- the same role through a key and through a token ----------------------------------------

REPRESENTATIVE_OPERATIONS = (
    "get_me",
    "get_user",
    "update_user",
    "list_users",
    "create_api_key",
    "create_unit",
    "update_unit",
    "update_institution",
    "list_audit_events",
    "update_hub",
)


@pytest.mark.parametrize("operation", REPRESENTATIVE_OPERATIONS)
async def test_a_key_and_a_token_of_the_same_role_and_scope_get_the_same_answer(
    client: httpx.AsyncClient, session: AsyncSession, world: World, operation: str
) -> None:
    answers = {}
    for name in PEOPLE:
        person = world.callers[name]
        assert person.role is not None
        machine = await key_caller(session, name, person.role, person.in_scope, **person.scope)
        by_token = await send(client, SAMPLES[operation](world), person)
        by_key = await send(client, SAMPLES[operation](world), machine)
        answers[name] = (by_token.status_code, by_key.status_code)
    assert {name: pair for name, pair in answers.items() if pair[0] != pair[1]} == {}


# --- credentials that stopped working --------------------------------------------------------


async def _local_admin_key_of_a(session: AsyncSession, world: World) -> tuple[ApiKey, Caller]:
    key, secret = await issue_key(session, Role.local_admin, institution_id=world.institution_a.id)
    caller = Caller("local admin key", Role.local_admin, "api_key", key.id, bearer(secret), True)
    return key, caller


async def _set(session: AsyncSession, model: type[ApiKey | User], id_: Any, **values: Any) -> None:
    await session.execute(update(model).where(model.id == id_).values(**values))
    await session.commit()


async def _get_user_of_a(client: httpx.AsyncClient, world: World, caller: Caller) -> int:
    return (await send(client, SAMPLES["get_user"](world), caller)).status_code


async def test_revoked_key_is_401_on_a_protected_operation(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    key, caller = await _local_admin_key_of_a(session, world)
    assert await _get_user_of_a(client, world, caller) == 200
    await _set(session, ApiKey, key.id, revoked_at=datetime.now(UTC) - timedelta(seconds=1))
    response = await send(client, SAMPLES["get_user"](world), caller)
    assert_problem(response, 401, "auth.invalid_credentials")


async def test_expired_key_is_401_on_a_protected_operation(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    key, caller = await _local_admin_key_of_a(session, world)
    assert await _get_user_of_a(client, world, caller) == 200
    await _set(session, ApiKey, key.id, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = await send(client, SAMPLES["get_user"](world), caller)
    assert_problem(response, 401, "auth.token_expired")


async def test_token_of_a_disabled_user_is_401_on_a_protected_operation(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    caller = world.callers["local_admin"]
    assert await _get_user_of_a(client, world, caller) == 200
    await _set(session, User, caller.id, is_active=False)
    response = await send(client, SAMPLES["get_user"](world), caller)
    assert_problem(response, 401, "auth.invalid_credentials")


async def test_token_issued_before_a_password_change_is_401(
    client: httpx.AsyncClient, world: World
) -> None:
    caller = world.callers["local_admin"]
    changed = await send(client, SAMPLES["change_my_password"](world), caller)
    assert changed.status_code == 204, changed.text
    response = await send(client, SAMPLES["get_user"](world), caller)
    assert_problem(response, 401, "auth.invalid_credentials")
