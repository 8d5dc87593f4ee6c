from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.domains.regions.schemas import REGION_CODE_PATTERN
from app.models.enums import InstitutionKind

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
RegionCodeIn = Annotated[str, StringConstraints(pattern=REGION_CODE_PATTERN, max_length=13)]


class InstitutionCreate(InputModel):
    name: Name = Field(examples=["Pemerintah Kota Medan"])
    short_name: ShortName | None = Field(default=None, examples=["Pemkot Medan"])
    kind: InstitutionKind
    region_code: RegionCodeIn | None = Field(
        default=None,
        description="Province code for a pemprov, kabupaten code for a pemkab, kota code for a "
        "pemkot; empty for kementerian, lembaga and bumn; a bumd takes its owner's.",
        examples=["12.71"],
    )
    owner_institution_id: uuid.UUID | None = Field(
        default=None, description="For a bumd: the local government that owns it."
    )


class InstitutionUpdate(InputModel):
    """Only the fields sent are changed; the result must still satisfy every rule."""

    name: Name | None = None
    short_name: ShortName | None = None
    kind: InstitutionKind | None = None
    region_code: RegionCodeIn | None = None
    owner_institution_id: uuid.UUID | None = None


class InstitutionRead(ReadModel):
    id: uuid.UUID
    name: str
    short_name: str | None
    kind: InstitutionKind
    region_code: str | None
    owner_institution_id: uuid.UUID | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class InstitutionPage(Page[InstitutionRead]):
    pass


class InstitutionSort(StrEnum):
    name = "name"
    name_desc = "-name"
    created_at = "created_at"
    created_at_desc = "-created_at"


class InstitutionFilter(BaseModel):
    kind: list[InstitutionKind] = Field(default_factory=list)
    region: str | None = None
    owner_institution_id: uuid.UUID | None = None
    q: str | None = None


class UnitCreate(InputModel):
    name: Name = Field(examples=["Sekretariat DPRD Kota Medan"])
    parent_unit_id: uuid.UUID | None = Field(
        default=None, description="The unit this one sits under, in the same institution."
    )
    region_code: RegionCodeIn | None = Field(
        default=None, description="Where the unit is, inside its institution's region."
    )


class UnitUpdate(InputModel):
    """Only the fields sent are changed; `parent_unit_id: null` moves a unit to the top level."""

    name: Name | None = None
    parent_unit_id: uuid.UUID | None = None
    region_code: RegionCodeIn | None = None


class UnitRead(ReadModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    parent_unit_id: uuid.UUID | None
    name: str
    region_code: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class UnitPage(Page[UnitRead]):
    pass


class UnitSort(StrEnum):
    name = "name"
    name_desc = "-name"
    created_at = "created_at"
    created_at_desc = "-created_at"


class UnitFilter(BaseModel):
    parent_unit_id: uuid.UUID | None = None
    top_level: bool | None = None
    q: str | None = None
