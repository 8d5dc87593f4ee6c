from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from app.core.pagination import Page
from app.models.enums import Role


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)] = (
        Field(examples=["SIPINTER sync, Pemkot Medan"])
    )
    role: Role
    institution_id: uuid.UUID | None = Field(
        default=None,
        description="Required for local_admin and regional_system; optional for evaluator.",
    )
    unit_id: uuid.UUID | None = Field(default=None, description="Required for unit_operator.")
    hub_id: uuid.UUID | None = Field(default=None, description="Required for hub_admin.")
    expires_at: AwareDatetime | None = Field(default=None, description="Optional expiry (UTC).")


class ApiKeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it; not a secret.")
    role: Role
    institution_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    hub_id: uuid.UUID | None
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class ApiKeyCreated(ApiKeyRead):
    secret: str = Field(description="The key itself. Shown only in this response: store it now.")


class ApiKeyPage(Page[ApiKeyRead]):
    pass


class ApiKeySort(StrEnum):
    created_at = "created_at"
    created_at_desc = "-created_at"


class ApiKeyFilter(BaseModel):
    role: list[Role] = Field(default_factory=list)
    institution_id: uuid.UUID | None = None
    revoked: bool | None = None


class PrincipalRead(BaseModel):
    """The caller as the service sees it."""

    model_config = ConfigDict(from_attributes=True)

    role: Role
    name: str
    api_key_id: uuid.UUID
    institution_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    hub_id: uuid.UUID | None
