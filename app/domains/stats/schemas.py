from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


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
