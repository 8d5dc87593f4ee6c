from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from app.models.enums import HubActivityKind, HubKind, HubStatus


class StatsGroupBy(StrEnum):
    year = "year"
    province = "province"
    institution_kind = "institution_kind"
    sdg = "sdg"
    category = "category"
    stage = "stage"


class StatsCount(BaseModel):
    key: str = Field(description="The group's value: a year, province code, kind, SDG, code.")
    label: str | None = Field(default=None, description="A display name for codes.")
    count: int


class StatsOverview(BaseModel):
    """Headline numbers of the public catalogue (published innovations only)."""

    published_innovations: int
    institutions: int = Field(description="Institutions with at least one published innovation.")
    digital_innovations: int
    digital_share: float = Field(description="Share of published innovations that are digital.")
    by_stage: list[StatsCount]


class InnovationStats(BaseModel):
    """Published innovations counted per group; an innovation with several SDGs or categories
    counts once in each of them."""

    group_by: StatsGroupBy
    total: int = Field(description="Published innovations matching the filters.")
    items: list[StatsCount]


class HubActivityCount(BaseModel):
    year: int
    kind: HubActivityKind
    count: int


class HubMaturity(BaseModel):
    """The hub's latest verified maturity assessment."""

    assessment_id: uuid.UUID
    period_year: int
    total_score: float = Field(description="0-100: the weighted sum of the verified scores.")


class HubStatsItem(BaseModel):
    hub_id: uuid.UUID
    name: str
    kind: HubKind
    status: HubStatus
    is_pilot: bool
    designation_year: int | None
    province_code: str | None = Field(description="The host's province (regional hubs).")
    members: int = Field(description="Current memberships (institutions and units).")
    member_institutions: int = Field(description="Distinct institutions among them.")
    activities_total: int = Field(description="Published activities.")
    activities: list[HubActivityCount] = Field(
        description="Published activities per year and kind, oldest year first."
    )
    member_innovations: int = Field(
        description="Published innovations of the current members (a unit member: the unit's)."
    )
    latest_maturity: HubMaturity | None


class HubCoverage(BaseModel):
    """How much of the country the network reaches."""

    provinces: int = Field(description="Provinces in the region table.")
    provinces_with_active_hub: int
    province_codes: list[str] = Field(description="Provinces with an active regional hub.")
    active_regional_hubs: int
    active_central_hubs: int


class HubStats(BaseModel):
    """Per public hub (designated, active, inactive) its network and work, and national
    coverage."""

    hubs: list[HubStatsItem]
    coverage: HubCoverage


class ReplicationGroupBy(StrEnum):
    year = "year"  # the year implementation was completed
    province = "province"  # the adopter institution's province
    hub = "hub"  # the facilitating hub
    institution_kind = "institution_kind"  # the adopter institution's kind
    source_award_tier = "source_award_tier"  # the tiers of the awards the source holds


class ReplicationFigures(BaseModel):
    """Replications that reached implementation: their distinct sources and adopters."""

    replicated_innovations: int = Field(description="Distinct source innovations.")
    adopter_institutions: int = Field(description="Distinct adopter institutions.")
    replications: int


class ReplicationGroup(ReplicationFigures):
    key: str = Field(
        description="A year, province code, hub id, institution kind or award tier; `none` "
        "for replications without a facilitating hub or sources without an award."
    )
    label: str | None = Field(default=None, description="A display name (provinces, hubs).")


class TopReplicated(BaseModel):
    innovation_id: uuid.UUID
    title: str
    institution_id: uuid.UUID
    institution_name: str
    adopter_institutions: int
    replications: int


class ReplicationStats(ReplicationFigures):
    """ "N innovations replicated by M institutions": distinct sources and distinct adopter
    institutions over replications that reached implementation (an implementation date, also
    when discontinued later), of published sources."""

    award_winning: ReplicationFigures = Field(
        description="The same, restricted to sources that hold an award."
    )
    median_days_to_implementation: float | None = Field(
        description="Median days from the request to the completed implementation."
    )
    group_by: ReplicationGroupBy | None
    groups: list[ReplicationGroup] = Field(description="Empty unless `group_by` is given.")
    top_innovations: list[TopReplicated] = Field(
        description="The 10 most replicated sources, by adopter institutions, then replications."
    )
