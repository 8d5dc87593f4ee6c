"""The wire format of hub activities."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.domains.innovations.schemas import ShortText, Url
from app.domains.regions.schemas import RegionCode
from app.models.enums import HubActivityKind, HubActivityStatus

ActivityTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)
]
Notes = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def _distinct(values: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(values)) != len(values):
        raise ValueError("ids must not repeat")
    return values


Participants = Annotated[list[uuid.UUID], Field(max_length=500), AfterValidator(_distinct)]
Innovations = Annotated[list[uuid.UUID], Field(max_length=100), AfterValidator(_distinct)]


class DocumentLink(InputModel):
    """A link to a document of the activity: an agenda, a report, slides, photos."""

    title: ShortText = Field(examples=["Laporan Klinik Inovasi Sumatera Utara 2023"])
    url: Url


Documents = Annotated[list[DocumentLink], Field(max_length=20)]


class HubActivityCreate(InputModel):
    """A new activity of the hub, a draft until it is published."""

    kind: HubActivityKind = Field(examples=["coaching_clinic"])
    title: ActivityTitle = Field(examples=["Klinik Inovasi Pelayanan Publik Sumatera Utara"])
    activity_date: date
    region_code: RegionCode | None = Field(
        default=None, description="Where it took place: a province or regency/city code."
    )
    venue: ShortText | None = Field(default=None, examples=["Aula Kantor Gubernur, Medan"])
    is_online: bool = False
    description: Notes | None = None
    outcome_notes: Notes | None = Field(default=None, description="What came of it.")
    documents: Documents = Field(default_factory=list)
    participant_institution_ids: Participants = Field(
        default_factory=list, description="The institutions that took part."
    )
    innovation_ids: Innovations = Field(
        default_factory=list, description="Published innovations presented (good practices)."
    )


class HubActivityUpdate(InputModel):
    """Any field of the activity; lists are replaced whole. The status changes through
    `transitions`."""

    kind: HubActivityKind | None = None
    title: ActivityTitle | None = None
    activity_date: date | None = None
    region_code: RegionCode | None = None
    venue: ShortText | None = None
    is_online: bool | None = None
    description: Notes | None = None
    outcome_notes: Notes | None = None
    documents: Documents | None = None
    participant_institution_ids: Participants | None = None
    innovation_ids: Innovations | None = None


class HubActivityRead(ReadModel):
    id: uuid.UUID
    hub_id: uuid.UUID
    kind: HubActivityKind
    title: str
    activity_date: date
    region_code: str | None
    venue: str | None
    is_online: bool
    description: str | None
    outcome_notes: str | None
    documents: list[DocumentLink]
    participant_institution_ids: list[uuid.UUID]
    innovation_ids: list[uuid.UUID]
    status: HubActivityStatus
    published_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class HubActivityPage(Page[HubActivityRead]):
    pass


class HubActivitySort(StrEnum):
    activity_date = "activity_date"
    activity_date_desc = "-activity_date"
    created_at = "created_at"
    created_at_desc = "-created_at"


class HubActivityFilter(InputModel):
    kind: list[HubActivityKind] = Field(default_factory=list)
    status: list[HubActivityStatus] = Field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    region: str | None = None
    institution_id: uuid.UUID | None = None
    innovation_id: uuid.UUID | None = None
    q: str | None = None


class HubActivityAction(StrEnum):
    publish = "publish"
    unpublish = "unpublish"


class HubActivityTransition(InputModel):
    action: HubActivityAction = Field(
        description="`publish` makes the activity public; `unpublish` takes it back to draft."
    )
    reason: Reason | None = Field(default=None, description="Kept in the audit trail.")
