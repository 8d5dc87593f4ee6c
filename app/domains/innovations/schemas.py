"""The wire format of innovations, their categories, facets and the catalogue's filters."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    HttpUrl,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
)

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.models.enums import (
    BudgetSource,
    InnovationStage,
    InnovationStatus,
    InstitutionKind,
    LinkKind,
    RegulationType,
    SustainabilityStatus,
)

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
Expansion = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=300)]
SectionText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
CATEGORY_CODE_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"  # the table's ck_..._code_format too
CategoryCode = Annotated[str, StringConstraints(pattern=CATEGORY_CODE_PATTERN)]
Sdg = Annotated[int, Field(ge=1, le=17)]
Year = Annotated[int, Field(ge=1945, le=2100)]
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)


def _http_url(value: str) -> str:
    """An absolute http(s) URL, kept as the caller wrote it once it parses."""
    _HTTP_URL.validate_python(value)
    return value


# A str on both sides of the wire (one schema for input and output), checked as an http(s) URL.
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(_http_url),
    WithJsonSchema({"type": "string", "format": "uri", "maxLength": 2000}),
]


def _unique(values: list[int] | list[str]) -> list[int] | list[str]:
    if len(set(values)) != len(values):
        raise ValueError("values must not repeat")
    return values


SdgList = Annotated[list[Sdg], Field(max_length=17), AfterValidator(_unique)]
CategoryCodes = Annotated[list[CategoryCode], Field(max_length=10), AfterValidator(_unique)]

# The knowledge sections of DOMAIN.md, in order; publishing needs the first five.
SECTION_NAMES = (
    "summary",
    "background_and_aims",
    "novelty",
    "implementation",
    "significance_and_impact",
    "adaptability",
    "resources",
    "sustainability_strategy",
)
REQUIRED_SECTIONS = SECTION_NAMES[:5]


class InnovationSections(InputModel):
    """The knowledge sections; an empty or absent section is simply not written yet."""

    summary: SectionText | None = Field(default=None, description="Ringkasan.")
    background_and_aims: SectionText | None = Field(
        default=None, description="Latar belakang dan tujuan."
    )
    novelty: SectionText | None = Field(default=None, description="Kebaruan / keunikan.")
    implementation: SectionText | None = Field(default=None, description="Implementasi.")
    significance_and_impact: SectionText | None = Field(
        default=None, description="Signifikansi dan dampak."
    )
    adaptability: SectionText | None = Field(
        default=None, description="Adaptabilitas: what another institution needs to replicate it."
    )
    resources: SectionText | None = Field(default=None, description="Sumber daya.")
    sustainability_strategy: SectionText | None = Field(
        default=None, description="Strategi keberlanjutan."
    )


class Regulation(InputModel):
    """A regulation that institutionalises the innovation."""

    type: RegulationType
    number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    date: date
    title: ShortText | None = None
    url: Url | None = None


class BudgetLine(InputModel):
    """A budget line that funds the innovation, in whole rupiah."""

    year: Year
    source: BudgetSource
    amount: int = Field(ge=0, le=10**15, description="Rupiah.")
    description: ShortText | None = None


class Link(InputModel):
    """A link to media or a document about the innovation (http or https only)."""

    kind: LinkKind
    url: Url
    title: ShortText | None = None


class InnovationCreate(InputModel):
    """A new innovation, always a draft; its institution is its unit's."""

    unit_id: uuid.UUID = Field(description="The unit that owns it; a unit operator's own unit.")
    title: Title = Field(examples=["SIKULIN"])
    acronym_expansion: Expansion | None = Field(
        default=None, examples=["Sistem Layanan Kunjungan Online"]
    )
    year_started: Year = Field(examples=[2021])
    implemented_date: date | None = Field(default=None, examples=["2021-07-01"])
    is_digital: bool
    stage: InnovationStage
    sdgs: SdgList = Field(default_factory=list, description="SDG goals, 1 to 17.")
    category_codes: CategoryCodes = Field(
        default_factory=list, description="Codes from /v1/innovation-categories."
    )
    sections: InnovationSections = Field(default_factory=InnovationSections)
    regulations: list[Regulation] = Field(default_factory=list, max_length=50)
    budget_lines: list[BudgetLine] = Field(default_factory=list, max_length=50)
    links: list[Link] = Field(default_factory=list, max_length=50)
    sustainability_status: SustainabilityStatus | None = None
    source_system: ShortText | None = Field(
        default=None, max_length=60, description="The system the record came from."
    )
    external_id: ShortText | None = Field(
        default=None,
        max_length=100,
        description="The record's id in that system; unique within the institution.",
    )


class InnovationUpdate(InputModel):
    """Only the fields sent change; `sections` replaces only the sections it names."""

    unit_id: uuid.UUID | None = None
    title: Title | None = None
    acronym_expansion: Expansion | None = None
    year_started: Year | None = None
    implemented_date: date | None = None
    is_digital: bool | None = None
    stage: InnovationStage | None = None
    sdgs: SdgList | None = None
    category_codes: CategoryCodes | None = None
    sections: InnovationSections | None = None
    regulations: list[Regulation] | None = Field(default=None, max_length=50)
    budget_lines: list[BudgetLine] | None = Field(default=None, max_length=50)
    links: list[Link] | None = Field(default=None, max_length=50)
    sustainability_status: SustainabilityStatus | None = None
    source_system: ShortText | None = Field(default=None, max_length=60)
    external_id: ShortText | None = Field(default=None, max_length=100)


class InnovationOwner(BaseModel):
    """Fields shared by the summary and the full record: the innovation and who owns it."""

    id: uuid.UUID
    title: str
    acronym_expansion: str | None
    institution_id: uuid.UUID
    institution_name: str
    institution_kind: InstitutionKind
    region_code: str | None = Field(description="The owner institution's region.")
    unit_id: uuid.UUID
    unit_name: str
    year_started: int
    implemented_date: date | None
    is_digital: bool
    stage: InnovationStage
    sdgs: list[int]
    category_codes: list[str]
    sustainability_status: SustainabilityStatus | None
    status: InnovationStatus
    published_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class InnovationSummary(InnovationOwner):
    """An innovation as a list shows it; `snippet` only when searching with `q`."""

    snippet: str | None = Field(
        default=None,
        description="With `q`: a short HTML-escaped excerpt with matched words in `<mark>`.",
    )


class InnovationRead(InnovationOwner):
    """The whole record."""

    sections: InnovationSections
    regulations: list[Regulation]
    budget_lines: list[BudgetLine]
    links: list[Link]
    archived_at: UtcDateTime | None
    source_system: str | None
    external_id: str | None


class InnovationPage(Page[InnovationSummary]):
    pass


class InnovationSort(StrEnum):
    relevance = "relevance"
    newest = "-created_at"
    oldest = "created_at"
    title_asc = "title"
    title_desc = "-title"
    year_started = "year_started"
    year_started_desc = "-year_started"


class InnovationFilter(BaseModel):
    """The catalogue's filters; lists, facets, export and statistics all take these."""

    q: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    region: str | None = None
    institution_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    institution_kind: list[InstitutionKind] = Field(default_factory=list)
    is_digital: bool | None = None
    stage: list[InnovationStage] = Field(default_factory=list)
    sdg: list[int] = Field(default_factory=list)
    category: list[str] = Field(default_factory=list)
    status: list[InnovationStatus] = Field(default_factory=list)
    # The most alike published innovations of this one (innovations/similarity_repository.py),
    # leaving out `similar_exclude`'s (the caller's institution, set by the service).
    similar_to: uuid.UUID | None = None
    similar_exclude: uuid.UUID | None = None
    has_award: bool | None = None
    award_tier: list[str] = Field(default_factory=list)
    award_year: list[int] = Field(default_factory=list)
    replicated: bool | None = None


class FacetCount(BaseModel):
    value: str
    label: str | None = Field(default=None, description="A display name where the value is a code.")
    count: int


class InnovationFacets(BaseModel):
    """Counts per value of each facet, under the same filters as the list."""

    total: int = Field(description="Innovations matching the filters (the list's total).")
    status: list[FacetCount]
    stage: list[FacetCount]
    is_digital: list[FacetCount]
    institution_kind: list[FacetCount]
    province: list[FacetCount]
    year_started: list[FacetCount]
    sdg: list[FacetCount]
    category: list[FacetCount]


class InnovationCategoryCreate(InputModel):
    code: CategoryCode = Field(examples=["kesehatan"])
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = (
        None
    )


class InnovationCategoryUpdate(InputModel):
    """Rename or describe a category; codes never change (records refer to them)."""

    name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)]
        | None
    ) = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = (
        None
    )


class InnovationCategoryRead(ReadModel):
    code: str
    name: str
    description: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class InnovationCategoryPage(Page[InnovationCategoryRead]):
    pass
