"""The wire format of competition editions and their structure: groups, categories, rounds and
their weighted criteria."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.models.enums import CompetitionScope, CompetitionStatus, RoundKind, RoundStatus

# Checked before the code is upper- or lower-cased (pydantic matches the pattern first), so
# they admit either case: "kipp-2023" is stored as KIPP-2023, "Umum" as umum.
COMPETITION_CODE_PATTERN = r"^[A-Za-z][A-Za-z0-9]*(-[A-Za-z0-9]+)*$"
STRUCTURE_CODE_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
AWARD_TIER_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"

CompetitionCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, pattern=COMPETITION_CODE_PATTERN, max_length=40
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
StructureCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, pattern=STRUCTURE_CODE_PATTERN, max_length=30
    ),
]
AwardTier = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, pattern=AWARD_TIER_PATTERN, max_length=30
    ),
]
AwardTiers = Annotated[list[AwardTier], Field(max_length=20)]
LegalReference = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Year = Annotated[int, Field(ge=2000, le=2100)]
Months = Annotated[int, Field(ge=0, le=240)]
Cap = Annotated[int, Field(ge=1, le=1000)]
Weight = Annotated[int, Field(ge=0, le=100)]
Score = Annotated[int, Field(ge=0, le=1000)]
Position = Annotated[int, Field(ge=1, le=20)]
CriterionPosition = Annotated[int, Field(ge=1, le=100)]
Grade = Annotated[float, Field(ge=0, le=100)]


# --- competitions ---------------------------------------------------------------------------


class CompetitionCreate(InputModel):
    """A new edition, always a draft. A provincial competition is run by a regional hub (its
    host organises it); a national or monitoring one by the secretariat."""

    code: CompetitionCode = Field(examples=["KIPP-2023"])
    name: Name = Field(examples=["Kompetisi Inovasi Pelayanan Publik 2023"])
    year: Year = Field(examples=[2023])
    scope: CompetitionScope = CompetitionScope.national
    organiser_institution_id: uuid.UUID | None = Field(
        default=None,
        description="National and monitoring editions: required. Provincial: the hub's host "
        "(default).",
    )
    hub_id: uuid.UUID | None = Field(
        default=None,
        description="Provincial editions only: the active regional hub that runs it (a hub "
        "admin's own hub by default).",
    )
    theme: Text | None = Field(
        default=None, examples=["Inovasi Pelayanan Publik Berdampak untuk Indonesia Maju"]
    )
    legal_basis: Annotated[list[LegalReference], Field(max_length=20)] = Field(
        default_factory=list, examples=[["Peraturan Menteri PANRB Nomor 91 Tahun 2021"]]
    )
    registration_opens_at: AwareDatetime | None = Field(
        default=None, description="RFC 3339 with an offset; deadlines are announced in WIB."
    )
    registration_closes_at: AwareDatetime | None = Field(
        default=None, examples=["2023-03-31T23:59:59+07:00"]
    )
    sdg_required: bool = Field(default=True, description="Entries must name an SDG goal.")
    publish_scores: bool = Field(
        default=False,
        description="Announcements show each entry's round score (never an evaluator's name or "
        "own scores).",
    )


class CompetitionUpdate(InputModel):
    """The name, theme and legal basis change until the edition is closed; the rest only while
    it is a draft, except the registration deadline, which may also move while registration is
    open (not into the past)."""

    name: Name | None = None
    year: Year | None = None
    theme: Text | None = None
    legal_basis: Annotated[list[LegalReference], Field(max_length=20)] | None = None
    registration_opens_at: AwareDatetime | None = None
    registration_closes_at: AwareDatetime | None = None
    sdg_required: bool | None = None
    publish_scores: bool | None = None


class CompetitionRead(ReadModel):
    id: uuid.UUID
    code: str
    name: str
    year: int
    scope: CompetitionScope
    organiser_institution_id: uuid.UUID
    hub_id: uuid.UUID | None
    theme: str | None
    legal_basis: list[str]
    registration_opens_at: UtcDateTime | None
    registration_closes_at: UtcDateTime | None
    sdg_required: bool
    publish_scores: bool
    status: CompetitionStatus
    cancellation_reason: str | None
    cancelled_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class CompetitionPage(Page[CompetitionRead]):
    pass


class CompetitionSort(StrEnum):
    year = "year"
    year_desc = "-year"
    created_at = "created_at"
    created_at_desc = "-created_at"


class CompetitionFilter(BaseModel):
    year: int | None = None
    scope: list[CompetitionScope] = Field(default_factory=list)
    status: list[CompetitionStatus] = Field(default_factory=list)
    hub_id: uuid.UUID | None = None


class CompetitionAction(StrEnum):
    """The steps of the status machine (DOMAIN.md section 3)."""

    open_registration = "open_registration"
    close_registration = "close_registration"
    start_evaluation = "start_evaluation"
    publish_results = "publish_results"
    close = "close"
    cancel = "cancel"


class CompetitionTransition(InputModel):
    """One step of the machine; `cancel` needs a reason."""

    action: CompetitionAction = Field(examples=["open_registration"])
    reason: Reason | None = Field(
        default=None, description="Required to cancel; kept in the audit trail."
    )


class ReadinessProblem(BaseModel):
    """One thing that stops registration from opening."""

    code: str = Field(examples=["competition.weights_not_100"])
    message: str
    round_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    weight_sum: int | None = None


class CompetitionReadiness(BaseModel):
    ready: bool
    problems: list[ReadinessProblem]


# --- groups and categories ------------------------------------------------------------------


class GroupCreate(InputModel):
    """A group and its entry rules."""

    code: StructureCode = Field(examples=["umum"])
    name: Name = Field(examples=["Kelompok Umum"])
    description: Text | None = None
    min_implementation_months: Months = Field(
        default=0,
        description="An entry's innovation was implemented at least this many months before "
        "registration closes (2021: 24 general, 12 replication).",
    )
    max_submissions_per_institution: Cap | None = Field(
        default=None, description="Entries one institution may have in the group; null: no cap."
    )
    ineligible_award_tiers: AwardTiers = Field(
        default_factory=list,
        description="An innovation holding an earlier award of one of these tiers may not "
        "enter the group.",
        examples=[["top_45"]],
    )
    requires_source_innovation: bool = Field(
        default=False,
        description="A replication group: each entry names the source innovation it replicates.",
    )
    source_award_tiers: AwardTiers = Field(
        default_factory=list,
        description="Replication groups: the source must hold an earlier award of one of these "
        "tiers (any award when empty).",
    )


class GroupUpdate(InputModel):
    code: StructureCode | None = None
    name: Name | None = None
    description: Text | None = None
    min_implementation_months: Months | None = None
    max_submissions_per_institution: Cap | None = None
    ineligible_award_tiers: AwardTiers | None = None
    requires_source_innovation: bool | None = None
    source_award_tiers: AwardTiers | None = None


class GroupRead(ReadModel):
    id: uuid.UUID
    competition_id: uuid.UUID
    code: str
    name: str
    description: str | None
    min_implementation_months: int
    max_submissions_per_institution: int | None
    ineligible_award_tiers: list[str]
    requires_source_innovation: bool
    source_award_tiers: list[str]
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class GroupPage(Page[GroupRead]):
    pass


class CategoryCreate(InputModel):
    code: StructureCode = Field(examples=["digital"])
    name: Name = Field(examples=["Transformasi Digital"])
    description: Text | None = None


class CategoryUpdate(InputModel):
    code: StructureCode | None = None
    name: Name | None = None
    description: Text | None = None


class CategoryRead(ReadModel):
    id: uuid.UUID
    competition_id: uuid.UUID
    code: str
    name: str
    description: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class CategoryPage(Page[CategoryRead]):
    pass


# --- rounds and criteria --------------------------------------------------------------------


class RoundCreate(InputModel):
    """A round; `position` orders the rounds (default: after the last)."""

    position: Position | None = None
    kind: RoundKind = Field(examples=["desk_evaluation"])
    name: Name = Field(examples=["Evaluasi Proposal"])
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    advance_quota: Cap | None = Field(default=None, description="The best N advance (99, 45, 5).")
    passing_grade: Grade | None = Field(
        default=None, description="Those scoring at least this advance (85 in 2025)."
    )
    award_tier: AwardTier | None = Field(
        default=None,
        description="The tier the entries advancing past this round hold (`top_99`): an entry's "
        "final tier is that of the last round it advanced past.",
        examples=["top_45"],
    )
    spread_threshold: Grade = Field(
        default=20,
        description="The ranking flags an entry whose evaluators' totals differ by more.",
    )
    normalise_scores: bool = Field(
        default=False,
        description="Rank on each evaluator's z-scores, re-expressed on the round's scale, for "
        "panels whose members score on different scales.",
    )


class RoundUpdate(InputModel):
    position: Position | None = None
    kind: RoundKind | None = None
    name: Name | None = None
    opens_at: AwareDatetime | None = None
    closes_at: AwareDatetime | None = None
    advance_quota: Cap | None = None
    passing_grade: Grade | None = None
    award_tier: AwardTier | None = None
    spread_threshold: Grade | None = None
    normalise_scores: bool | None = None


class RoundRead(ReadModel):
    id: uuid.UUID
    competition_id: uuid.UUID
    position: int
    kind: RoundKind
    name: str
    opens_at: UtcDateTime | None
    closes_at: UtcDateTime | None
    advance_quota: int | None
    passing_grade: float | None
    award_tier: str | None
    spread_threshold: float
    normalise_scores: bool
    status: RoundStatus = Field(description="Open until its evaluation is closed.")
    closed_at: UtcDateTime | None
    close_reason: str | None = Field(description="Why it was closed with evaluations missing.")
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class RoundPage(Page[RoundRead]):
    pass


class CriterionCreate(InputModel):
    """A weighted criterion of the round for one group."""

    group_id: uuid.UUID
    position: CriterionPosition | None = Field(
        default=None, description="Order within the round and group; default: after the last."
    )
    name: Name = Field(examples=["Signifikansi dan Dampak"])
    guidance: Text | None = None
    weight: Weight = Field(
        examples=[30], description="Percent; a round's weights sum to 100 for each group."
    )
    min_score: Score = 0
    max_score: Score = 100


class CriterionUpdate(InputModel):
    position: CriterionPosition | None = None
    name: Name | None = None
    guidance: Text | None = None
    weight: Weight | None = None
    min_score: Score | None = None
    max_score: Score | None = None


class CriterionRead(ReadModel):
    id: uuid.UUID
    round_id: uuid.UUID
    group_id: uuid.UUID
    position: int
    name: str
    guidance: str | None
    weight: int
    min_score: int
    max_score: int
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class CriterionPage(Page[CriterionRead]):
    pass
