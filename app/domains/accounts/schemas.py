from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.models.enums import Role

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    ),
]
Password = Annotated[str, StringConstraints(min_length=12, max_length=128)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)]

# --- API keys -------------------------------------------------------------------------------


class ApiKeyCreate(InputModel):
    name: PersonName = Field(examples=["SIPINTER sync, Pemkot Medan"])
    role: Role
    institution_id: uuid.UUID | None = Field(
        default=None,
        description="Required for local_admin and regional_system; optional for evaluator.",
    )
    unit_id: uuid.UUID | None = Field(default=None, description="Required for unit_operator.")
    hub_id: uuid.UUID | None = Field(default=None, description="Required for hub_admin.")
    expires_at: AwareDatetime | None = Field(default=None, description="Optional expiry (UTC).")


class ApiKeyRead(ReadModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it; not a secret.")
    role: Role
    institution_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    hub_id: uuid.UUID | None
    expires_at: UtcDateTime | None
    revoked_at: UtcDateTime | None
    last_used_at: UtcDateTime | None
    created_at: UtcDateTime


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


# --- users ----------------------------------------------------------------------------------

PersonRole = Literal["secretariat_admin", "local_admin", "unit_operator", "evaluator", "hub_admin"]


class UserCreate(InputModel):
    email: Email = Field(examples=["organisasi@pemkomedan.go.id"])
    name: PersonName = Field(examples=["Rina Siregar"])
    role: PersonRole = Field(description="A person's role; machines get API keys instead.")
    institution_id: uuid.UUID | None = Field(
        default=None, description="Required for local_admin; optional for evaluator."
    )
    unit_id: uuid.UUID | None = Field(default=None, description="Required for unit_operator.")
    hub_id: uuid.UUID | None = Field(default=None, description="Required for hub_admin.")
    password: Password = Field(description="12 to 128 characters. Never returned or logged.")


class UserUpdate(InputModel):
    """Fields to change; omitted fields stay as they are."""

    email: Email | None = None
    name: PersonName | None = None
    is_active: bool | None = Field(
        default=None, description="false disables the account: its tokens stop working."
    )
    unit_id: uuid.UUID | None = Field(
        default=None, description="Move a unit operator to another unit of its institution."
    )
    password: Password | None = Field(
        default=None, description="Set a new password (signs the account out everywhere)."
    )


class UserRead(ReadModel):
    id: uuid.UUID
    email: str
    name: str
    role: Role
    institution_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    hub_id: uuid.UUID | None
    is_active: bool
    last_login_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class UserPage(Page[UserRead]):
    pass


class UserSort(StrEnum):
    name = "name"
    name_desc = "-name"
    created_at = "created_at"
    created_at_desc = "-created_at"


class UserFilter(BaseModel):
    role: list[Role] = Field(default_factory=list)
    institution_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    is_active: bool | None = None
    q: str | None = None


class PasswordChange(InputModel):
    current_password: str = Field(max_length=128)
    new_password: Password


# --- sign-in and the caller -----------------------------------------------------------------


class TokenRequest(InputModel):
    """Sign in with an account's email and password (JSON)."""

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class TokenResponse(BaseModel):
    """An access token (OAuth 2 bearer token response, RFC 6749 section 5.1)."""

    access_token: str = Field(description="Send as `Authorization: Bearer <access_token>`.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 token type
    expires_in: int = Field(description="Seconds until the token expires.")


class PrincipalRead(ReadModel):
    """The caller as the service sees it."""

    kind: Literal["user", "api_key"] = Field(description="A person's account or an API key.")
    id: uuid.UUID = Field(description="The user's or the API key's id.")
    role: Role
    name: str
    email: str | None = Field(description="For people only.")
    institution_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    hub_id: uuid.UUID | None
