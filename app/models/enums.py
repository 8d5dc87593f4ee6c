"""Vocabularies shared by models, schemas and policies (values are stored and sent as-is)."""

from __future__ import annotations

from enum import StrEnum


class RegionType(StrEnum):
    provinsi = "provinsi"
    kabupaten = "kabupaten"
    kota = "kota"


class InstitutionKind(StrEnum):
    kementerian = "kementerian"
    lembaga = "lembaga"
    pemprov = "pemprov"
    pemkab = "pemkab"
    pemkot = "pemkot"
    bumn = "bumn"
    bumd = "bumd"


# Kinds that are local governments, and the region type each must sit on.
LOCAL_GOVERNMENT_REGION_TYPE: dict[InstitutionKind, RegionType] = {
    InstitutionKind.pemprov: RegionType.provinsi,
    InstitutionKind.pemkab: RegionType.kabupaten,
    InstitutionKind.pemkot: RegionType.kota,
}
NATIONAL_KINDS = frozenset(
    {InstitutionKind.kementerian, InstitutionKind.lembaga, InstitutionKind.bumn}
)


class Role(StrEnum):
    secretariat_admin = "secretariat_admin"
    local_admin = "local_admin"
    unit_operator = "unit_operator"
    evaluator = "evaluator"
    hub_admin = "hub_admin"
    regional_system = "regional_system"


class InnovationStage(StrEnum):
    """How far an innovation has come (DOMAIN.md: inisiatif, uji coba, penerapan)."""

    inisiatif = "inisiatif"
    uji_coba = "uji_coba"
    penerapan = "penerapan"


class InnovationStatus(StrEnum):
    """Lifecycle: draft -> published -> archived; only published innovations are public."""

    draft = "draft"
    published = "published"
    archived = "archived"


class SustainabilityStatus(StrEnum):
    running = "running"
    institutionalised = "institutionalised"
    paused = "paused"
    discontinued = "discontinued"


class RegulationType(StrEnum):
    """The legal instrument that institutionalises an innovation."""

    undang_undang = "undang_undang"
    peraturan_pemerintah = "peraturan_pemerintah"
    peraturan_presiden = "peraturan_presiden"
    peraturan_menteri = "peraturan_menteri"
    peraturan_daerah = "peraturan_daerah"
    peraturan_kepala_daerah = "peraturan_kepala_daerah"
    keputusan = "keputusan"
    surat_edaran = "surat_edaran"
    other = "other"


class BudgetSource(StrEnum):
    apbn = "apbn"
    apbd = "apbd"
    apbdes = "apbdes"
    blud = "blud"
    csr = "csr"
    other = "other"


class LinkKind(StrEnum):
    website = "website"
    video = "video"
    photo = "photo"
    document = "document"
    news = "news"
    app = "app"
    other = "other"


class HubKind(StrEnum):
    """A regional hub is hosted by a provincial government, a central one by a ministry or
    agency (since 2023)."""

    regional = "regional"
    central = "central"


class HubStatus(StrEnum):
    """candidate -> committed -> designated -> active -> inactive (DOMAIN.md section 3)."""

    candidate = "candidate"
    committed = "committed"
    designated = "designated"
    active = "active"
    inactive = "inactive"


# The host kinds each hub kind takes.
HUB_HOST_KINDS: dict[HubKind, frozenset[InstitutionKind]] = {
    HubKind.regional: frozenset({InstitutionKind.pemprov}),
    HubKind.central: frozenset({InstitutionKind.kementerian, InstitutionKind.lembaga}),
}
# Statuses the public sees; candidate and committed hubs are the secretariat's and their admins'.
PUBLIC_HUB_STATUSES = frozenset({HubStatus.designated, HubStatus.active, HubStatus.inactive})


class HubActivityKind(StrEnum):
    """What a hub does for its network (DOMAIN.md section 3 and the JIPP announcements)."""

    coaching_clinic = "coaching_clinic"
    knowledge_sharing = "knowledge_sharing"
    replication_forum = "replication_forum"
    inspiration_forum = "inspiration_forum"
    regional_competition = "regional_competition"
    proposal_coaching = "proposal_coaching"
    data_update = "data_update"


class HubActivityStatus(StrEnum):
    """draft (the hub's own) <-> published (public)."""

    draft = "draft"
    published = "published"


class MaturityAspect(StrEnum):
    """The four aspects of the hub maturity instrument (since 2025)."""

    planning = "planning"
    institutionalisation = "institutionalisation"
    dissemination = "dissemination"
    evaluation = "evaluation"


class MaturityInstrumentStatus(StrEnum):
    """draft (editable) -> published (in use, frozen) -> retired (kept for its assessments)."""

    draft = "draft"
    published = "published"
    retired = "retired"


class AssessmentStatus(StrEnum):
    """draft -> submitted -> verified, or returned (to the hub) -> submitted again."""

    draft = "draft"
    submitted = "submitted"
    returned = "returned"
    verified = "verified"


class CompetitionScope(StrEnum):
    """A national edition (KIPP), a provincial one run by a regional hub, or a monitoring round
    of past winners (PKRI 2024)."""

    national = "national"
    provincial = "provincial"
    monitoring = "monitoring"


class CompetitionStatus(StrEnum):
    """draft -> registration_open -> registration_closed -> evaluation -> results_published ->
    closed; cancelled from any state before results (DOMAIN.md section 3)."""

    draft = "draft"
    registration_open = "registration_open"
    registration_closed = "registration_closed"
    evaluation = "evaluation"
    results_published = "results_published"
    closed = "closed"
    cancelled = "cancelled"


class RoundKind(StrEnum):
    """What happens in a round (DOMAIN.md section 3)."""

    administrative_screening = "administrative_screening"
    desk_evaluation = "desk_evaluation"
    panel_review = "panel_review"
    interview = "interview"
    field_verification = "field_verification"


class SubmissionStatus(StrEnum):
    """draft (unit operator) -> awaiting_local_admin -> (returned) -> submitted -> screened_in
    or screened_out; side exits withdrawn and, for drafts when registration closes, expired
    (DOMAIN.md section 3; the evaluation statuses come with the rounds)."""

    draft = "draft"
    awaiting_local_admin = "awaiting_local_admin"
    returned = "returned"
    submitted = "submitted"
    screened_in = "screened_in"
    screened_out = "screened_out"
    withdrawn = "withdrawn"
    expired = "expired"
    # Evaluation (docs/evaluation.md): screened-in entries advance round by round (their
    # `round_id` moves on); a round's close eliminates the rest; those advancing past the last
    # round are finalists; an upheld objection disqualifies.
    eliminated = "eliminated"
    finalist = "finalist"
    disqualified = "disqualified"


class ScreeningOutcome(StrEnum):
    in_ = "in"
    out = "out"


class ScreeningReason(StrEnum):
    """Why the secretariat screened a submission out (DOMAIN.md section 3)."""

    too_young = "too_young"
    incomplete = "incomplete"
    duplicate_title = "duplicate_title"
    ineligible_prior_award = "ineligible_prior_award"
    over_quota = "over_quota"
    other = "other"


class ReplicationStatus(StrEnum):
    """A replication's state machine (DOMAIN.md section 3)."""

    requested = "requested"
    approved = "approved"
    rejected = "rejected"
    agreement_signed = "agreement_signed"
    implementing = "implementing"
    implemented = "implemented"
    evaluated = "evaluated"
    discontinued = "discontinued"


class ReplicationScope(StrEnum):
    full = "full"
    partial = "partial"


class ReplicationFacilitator(StrEnum):
    """Who facilitates a replication, when someone does: a hub or the secretariat."""

    hub = "hub"
    secretariat = "secretariat"


class ReplicationDocumentKind(StrEnum):
    agreement = "agreement"
    approval = "approval"
    evaluation_report = "evaluation_report"
    other = "other"


class RoundStatus(StrEnum):
    """A round is open until the organiser closes it (docs/evaluation.md)."""

    open = "open"
    closed = "closed"


class AssignmentStatus(StrEnum):
    """assigned -> submitted (the evaluator's scores are final); recused (the evaluator
    declared a conflict) and replaced (reassigned to another evaluator) no longer count."""

    assigned = "assigned"
    submitted = "submitted"
    recused = "recused"
    replaced = "replaced"


class RoundOutcome(StrEnum):
    advanced = "advanced"
    eliminated = "eliminated"


class AnnouncementKind(StrEnum):
    """What an announcement publishes: one round's outcome or the edition's final results."""

    round_outcome = "round_outcome"
    final_results = "final_results"


class ObjectionStatus(StrEnum):
    """filed -> upheld (the entry is disqualified) | dismissed."""

    filed = "filed"
    upheld = "upheld"
    dismissed = "dismissed"
