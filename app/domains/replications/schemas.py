"""The wire format of replications: requests, their steps, and the lineage tree."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.domains.innovations.schemas import InnovationOwner, Url
from app.models.enums import (
    ReplicationDocumentKind,
    ReplicationFacilitator,
    ReplicationScope,
    ReplicationStatus,
)

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Adaptation = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


class ReplicationDocument(InputModel, ReadModel):
    """A link to one of the replication's documents (http or https only)."""

    kind: ReplicationDocumentKind
    url: Url
    title: Title | None = None


class BenefitMeasure(InputModel, ReadModel):
    """One measure of what the replication brought: an indicator before and after."""

    indicator: Title = Field(examples=["Rata-rata waktu layanan (menit)"])
    before: float | None = Field(default=None, allow_inf_nan=False)
    after: float | None = Field(default=None, allow_inf_nan=False)
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    note: Reason | None = None


Documents = Annotated[list[ReplicationDocument], Field(max_length=20)]
Measures = Annotated[list[BenefitMeasure], Field(max_length=20)]


class ReplicationCreate(InputModel):
    """A request to replicate a published innovation in one of the caller's units."""

    source_innovation_id: uuid.UUID
    adopter_unit_id: uuid.UUID = Field(description="The unit that adopts it (its institution's).")
    scope: ReplicationScope
    adaptation: Adaptation | None = Field(default=None, description="The adaptation planned.")
    facilitator: ReplicationFacilitator | None = None
    facilitator_hub_id: uuid.UUID | None = Field(
        default=None, description="The facilitating hub, when `facilitator` is `hub`."
    )
    requested_date: date | None = Field(
        default=None, description="When it was requested (default: today in WIB)."
    )
    documents: Documents = Field(default_factory=list)
    replica_innovation_id: uuid.UUID | None = Field(
        default=None,
        description="The adopter unit's own catalogue record of the adapted innovation.",
    )


class ReplicationUpdate(InputModel):
    """Change a replication's plan, facilitator, documents or replica (unset fields stay)."""

    scope: ReplicationScope | None = None
    adaptation: Adaptation | None = None
    facilitator: ReplicationFacilitator | None = None
    facilitator_hub_id: uuid.UUID | None = None
    documents: Documents | None = None
    replica_innovation_id: uuid.UUID | None = None


class ReplicationRead(ReadModel):
    """A replication with the date of every step it reached."""

    id: uuid.UUID
    source_innovation_id: uuid.UUID
    source_innovation_title: str
    source_institution_id: uuid.UUID = Field(description="The source's owner when requested.")
    source_unit_id: uuid.UUID
    adopter_institution_id: uuid.UUID
    adopter_unit_id: uuid.UUID
    facilitator: ReplicationFacilitator | None
    facilitator_hub_id: uuid.UUID | None
    scope: ReplicationScope
    adaptation: str | None
    status: ReplicationStatus
    requested_date: date
    approved_date: date | None
    rejected_date: date | None
    agreement_date: date | None
    implementation_started_date: date | None
    implemented_date: date | None
    evaluated_date: date | None
    discontinued_date: date | None
    rejection_reason: str | None
    discontinuation_reason: str | None
    documents: list[ReplicationDocument]
    benefit_measures: list[BenefitMeasure]
    replica_innovation_id: uuid.UUID | None = Field(
        description="Shown to callers who may read the replica innovation; null otherwise."
    )
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class ReplicationPage(Page[ReplicationRead]):
    pass


class ReplicationSort(StrEnum):
    created_at = "created_at"
    created_at_desc = "-created_at"


class ReplicationFilter(BaseModel):
    source_innovation_id: uuid.UUID | None = None
    replica_innovation_id: uuid.UUID | None = None
    institution_id: uuid.UUID | None = None
    adopter_institution_id: uuid.UUID | None = None
    source_institution_id: uuid.UUID | None = None
    adopter_unit_id: uuid.UUID | None = None
    facilitator_hub_id: uuid.UUID | None = None
    status: list[ReplicationStatus] = Field(default_factory=list)
    region: str | None = None


class ReplicationAction(StrEnum):
    """The steps of a replication (DOMAIN.md section 3)."""

    approve = "approve"
    reject = "reject"
    sign_agreement = "sign_agreement"
    start_implementation = "start_implementation"
    complete_implementation = "complete_implementation"
    evaluate = "evaluate"
    discontinue = "discontinue"


class ReplicationTransition(InputModel):
    """One step: `reject` and `discontinue` need a reason, `evaluate` the benefit measures."""

    action: ReplicationAction = Field(examples=["approve"])
    reason: Reason | None = Field(
        default=None, description="Why: required to reject and to discontinue."
    )
    date: dt.date | None = Field(
        default=None,
        description="The step's date (default: today in WIB); not in the future, not before "
        "the previous step's.",
    )
    benefit_measures: Measures | None = Field(default=None, description="`evaluate` only.")


class LineageNode(BaseModel):
    """One replication in an innovation's lineage."""

    replication_id: uuid.UUID
    depth: int = Field(
        description="-1: the replication that produced the innovation, -2 the one before it; "
        "1: a replication of the innovation, 2 of its replicas, and so on."
    )
    source_innovation_id: uuid.UUID
    source_innovation_title: str
    replica_innovation_id: uuid.UUID | None
    replica_innovation_title: str | None
    adopter_institution_id: uuid.UUID
    adopter_institution_name: str
    adopter_unit_id: uuid.UUID
    adopter_unit_name: str
    region_code: str | None = Field(description="The adopter institution's region.")
    status: ReplicationStatus
    scope: ReplicationScope
    requested_date: date
    implemented_date: date | None


class Lineage(BaseModel):
    """Where an innovation came from, up to the original, and every replication of it and of
    its replicas, as far as the caller may see them."""

    innovation_id: uuid.UUID
    root_innovation_id: uuid.UUID = Field(
        description="The original innovation of the chain: the furthest ancestor the caller can "
        "see within the bound (the innovation itself when none is)."
    )
    nodes: list[LineageNode] = Field(
        description="Ancestors from the root down, then descendants by depth, requested date, id."
    )
    truncated: bool = Field(description="A bound (10 levels each way, 500 nodes) was hit.")


class Similarity(BaseModel):
    """How alike a candidate is, and why (README: "How similarity is computed")."""

    score: float = Field(description="The ranking score: higher is more alike.")
    text_score: float = Field(description="0-1: title and summary words, relative to the best.")
    category_score: float = Field(description="0-1: shared thematic categories (Jaccard).")
    sdg_score: float = Field(description="0-1: shared SDGs (Jaccard).")
    proven_replications: int = Field(
        description="Adopter institutions that implemented a replication of it."
    )
    awarded: bool = Field(description="It holds an award.")


class SimilarInnovation(InnovationOwner):
    """A published innovation alike the one asked about."""

    similarity: Similarity


class SimilarInnovations(BaseModel):
    innovation_id: uuid.UUID
    items: list[SimilarInnovation] = Field(description="Most alike first.")
