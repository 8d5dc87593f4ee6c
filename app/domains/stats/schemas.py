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
