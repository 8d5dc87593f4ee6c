"""The wire format of JIPP hubs, their status transitions and their members."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.domains.accounts.schemas import Email
from app.models.enums import HubKind, HubStatus

HubName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
ContactName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)]
ContactRole = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 ()\-]{5,24}$")
]
DecreeReference = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
DesignationYear = Annotated[int, Field(ge=2000, le=2100)]
PROVINCE_CODE_PATTERN = r"^\d{2}$"


class HubContact(InputModel):
    """A person to reach at the hub: an email, a phone number or both."""

    name: ContactName = Field(examples=["Dra. Ratna Sari"])
    role: ContactRole | None = Field(default=None, examples=["Kepala Bagian Kelembagaan"])
    email: Email | None = Field(default=None, examples=["jipp@sumutprov.go.id"])
    phone: Phone | None = Field(default=None, examples=["+62 61 4538 113"])

    @model_validator(mode="after")
    def _reachable(self) -> HubContact:
        if self.email is None and self.phone is None:
            raise ValueError("a contact needs an email or a phone number")
        return self


Contacts = Annotated[list[HubContact], Field(max_length=10)]


class HubCreate(InputModel):
    """A new hub, always a candidate; the secretariat moves it on through `transitions`."""

    name: HubName = Field(examples=["JIPP Provinsi Sumatera Utara"])
    kind: HubKind = Field(
        description="`regional`: hosted by a pemprov; `central`: by a kementerian or lembaga."
    )
    host_institution_id: uuid.UUID
    coordinating_unit_id: uuid.UUID | None = Field(
        default=None, description="The host's unit that runs the hub."
    )
    is_pilot: bool = False
    candidate_date: date | None = Field(
        default=None, description="When it became a candidate; default today (WIB)."
    )
    contacts: Contacts = Field(default_factory=list)


class HubUpdate(InputModel):
    """The profile: hub admins change the name, coordinating unit and contacts; the
    secretariat also the pilot flag and the designation. The status changes only through
    `transitions`."""

    name: HubName | None = None
    coordinating_unit_id: uuid.UUID | None = None
    contacts: Contacts | None = None
    is_pilot: bool | None = None
    designation_decree_reference: DecreeReference | None = None
    designation_year: DesignationYear | None = None


class HubRead(ReadModel):
    id: uuid.UUID
    name: str
    kind: HubKind
    host_institution_id: uuid.UUID
    coordinating_unit_id: uuid.UUID | None
    status: HubStatus
    candidate_date: date
    committed_date: date | None
    designated_date: date | None
    activated_date: date | None
    inactivated_date: date | None
    designation_decree_reference: str | None
    designation_year: int | None
    is_pilot: bool
    contacts: list[HubContact]
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class HubPage(Page[HubRead]):
    pass


class HubSort(StrEnum):
    name = "name"
    name_desc = "-name"
    created_at = "created_at"
    created_at_desc = "-created_at"


class HubFilter(InputModel):
    kind: list[HubKind] = Field(default_factory=list)
    status: list[HubStatus] = Field(default_factory=list)
    province: str | None = None
    is_pilot: bool | None = None
    host_institution_id: uuid.UUID | None = None
    q: str | None = None


class HubAction(StrEnum):
    """The steps of the status machine, each leading to one status."""

    commit = "commit"
    designate = "designate"
    activate = "activate"
    deactivate = "deactivate"


class HubTransition(InputModel):
    """One step of the machine, named by its action."""

    action: HubAction = Field(examples=["designate"])
    effective_date: date | None = Field(
        default=None, description="When it happened; default today (WIB). Not in the future."
    )
    designation_decree_reference: DecreeReference | None = Field(
        default=None,
        description="Required to designate: the decree that designates the hub.",
        examples=["Keputusan Menteri PANRB Nomor 94 Tahun 2020"],
    )
    designation_year: DesignationYear | None = Field(
        default=None, description="Only when designating; default the year of `effective_date`."
    )
    reason: Reason | None = Field(default=None, description="Kept in the audit trail.")


class HubMemberCreate(InputModel):
    """A member: an institution (regional hubs: a pemkab or pemkot of the province) or one of
    the host's own units; name exactly one."""

    institution_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    joined_date: date | None = Field(default=None, description="Default today (WIB).")


class HubMemberLeave(InputModel):
    left_date: date | None = Field(default=None, description="Default today (WIB).")
    reason: Reason | None = Field(default=None, description="Kept in the audit trail.")


class HubMemberRead(ReadModel):
    """One period of membership; `left_date` is null while it lasts."""

    id: uuid.UUID
    hub_id: uuid.UUID
    institution_id: uuid.UUID = Field(
        description="The member institution, or for a unit member the unit's institution."
    )
    unit_id: uuid.UUID | None = Field(description="Set when the member is a unit.")
    joined_date: date
    left_date: date | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class HubMemberPage(Page[HubMemberRead]):
    pass


class HubMemberSort(StrEnum):
    joined_date = "joined_date"
    joined_date_desc = "-joined_date"
    created_at = "created_at"
    created_at_desc = "-created_at"


class HubMemberFilter(InputModel):
    current: bool | None = None
    institution_id: uuid.UUID | None = None
