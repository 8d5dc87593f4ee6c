from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from app.core.pagination import Page
from app.core.schemas import ReadModel
from app.models.enums import RegionType

REGION_CODE_PATTERN = r"^\d{2}(\.\d{2}){0,3}$"  # Kemendagri: 12, 12.71, deeper levels
RegionCode = Annotated[str, Field(pattern=REGION_CODE_PATTERN, examples=["12.71"])]


class RegionRead(ReadModel):
    code: str = Field(description="Dotted Kemendagri code: `12` province, `12.71` regency/city.")
    name: str
    level: int = Field(description="1 province, 2 regency (kabupaten) or city (kota).")
    type: RegionType
    parent_code: str | None


class RegionPage(Page[RegionRead]):
    pass


class RegionSort(StrEnum):
    code = "code"
    code_desc = "-code"
    name = "name"
    name_desc = "-name"


class RegionFilter(BaseModel):
    level: int | None = None
    parent_code: str | None = None
    q: str | None = None
