"""The wire format of results: announcements, objections and awards."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.domains.competitions.schemas import AwardTier
from app.models.enums import AnnouncementKind, ObjectionStatus

ANNOUNCEMENT_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9./-]*$"
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=5000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)]
Contact = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=254)]
Number = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=60, pattern=ANNOUNCEMENT_NUMBER_PATTERN
    ),
]


class AnnouncementCreate(InputModel):
    """Publish a round's outcome (the entries that advanced) or the final results (every entry
    holding a tier); it opens a public objection window."""

    kind: AnnouncementKind
    round_id: uuid.UUID | None = Field(
        default=None, description="The closed round whose outcome it announces (round_outcome)."
    )
    number: Number | None = Field(
        default=None,
        description="The letter's number; default `B/{n}/PP.00.05/{year}`, the year's next n.",
        examples=["B/187/PP.00.05/2022"],
    )
    title: Title = Field(examples=["Pengumuman Top 45 Inovasi Pelayanan Publik 2026"])
    body: Body | None = None
    objection_days: int = Field(
        default=5,
        ge=0,
        le=30,
        description="Calendar days (WIB) objections may be filed after the day of publication; "
        "0: no window.",
    )


class AnnouncedEntry(BaseModel):
    submission_id: uuid.UUID
    innovation_id: uuid.UUID
    innovation_title: str
    institution_id: uuid.UUID
    institution_name: str
    rank: int = Field(description="Its rank in the round that decided it.")
    tier: str | None = Field(description="The tier it holds (top_45, ...).")
    score: float | None = Field(
        default=None, description="Shown only where the edition publishes scores."
    )
    disqualified: bool = Field(description="Disqualified since (an upheld objection).")
    replaces_submission_id: uuid.UUID | None = Field(
        description="On an amended announcement: the disqualified entry this one was promoted "
        "in place of (none on any other announcement)."
    )


class AnnouncementRead(BaseModel):
    id: uuid.UUID
    competition_id: uuid.UUID
    kind: AnnouncementKind
    round_id: uuid.UUID | None
    number: str
    title: str
    body: str | None
    published_at: UtcDateTime
    objection_days: int
    objections_close_at: UtcDateTime = Field(description="Objections are filed until then.")
    objections_open: bool
    entries: list[AnnouncedEntry]
    amends_announcement_id: uuid.UUID | None = Field(
        description="An amended announcement's: the announcement it amends. It lists only the "
        "entries an upheld objection promoted, and objections to them are filed against it."
    )
    amended_by: list[uuid.UUID] = Field(
        description="The amended announcements published for this one, oldest first."
    )
    created_at: UtcDateTime


class AnnouncementPage(Page[AnnouncementRead]):
    pass


class ObjectionCreate(InputModel):
    """Object to one announced entry, while the announcement's window is open."""

    submission_id: uuid.UUID = Field(description="An entry the announcement lists.")
    filer_name: Name = Field(examples=["Budi Santoso"])
    filer_contact: Contact = Field(
        description="An email address or phone number; seen by the organiser only.",
        examples=["budi@example.com"],
    )
    reason: Reason = Field(examples=["Inovasi ini belum diterapkan selama dua tahun."])


class ObjectionDecision(StrEnum):
    upheld = "upheld"
    dismissed = "dismissed"


class AnnouncementAmendment(InputModel):
    """The amended announcement that names an entry promoted by an upheld objection; each field
    has a default."""

    number: Number | None = Field(
        default=None,
        description="The letter's number; default `B/{n}/PP.00.05/{year}`, the year's next n.",
        examples=["B/262/PP.00.05/2022"],
    )
    title: Title | None = Field(
        default=None,
        description='Default "Perubahan atas Pengumuman Nomor {number}: {title}" of the '
        "announcement it amends (cut at 300 characters).",
    )
    body: Body | None = None
    objection_days: int | None = Field(
        default=None,
        ge=0,
        le=30,
        description="Its own objection window, in calendar days (WIB) after the day of "
        "publication; default: the amended announcement's `objection_days`.",
    )


class ObjectionReview(InputModel):
    """Decide a filed objection. Upholding disqualifies the entry; `promote_next` then advances
    the best-ranked eliminated entry of the round that decided it, and publishes an amended
    announcement naming it, with its own objection window."""

    decision: ObjectionDecision
    note: Note = Field(description="The decision's grounds (the disqualification reason).")
    promote_next: bool = False
    amendment: AnnouncementAmendment | None = Field(
        default=None,
        description="With `promote_next`: the amended announcement's number, title, body and "
        "window, instead of their defaults.",
    )


class ObjectionReceipt(BaseModel):
    """What the filer gets back."""

    id: uuid.UUID
    announcement_id: uuid.UUID
    submission_id: uuid.UUID
    status: ObjectionStatus
    created_at: UtcDateTime


class ObjectionRead(ReadModel):
    id: uuid.UUID
    announcement_id: uuid.UUID
    submission_id: uuid.UUID
    filer_name: str
    filer_contact: str
    reason: str
    status: ObjectionStatus
    review_note: str | None
    reviewed_at: UtcDateTime | None
    promoted_submission_id: uuid.UUID | None
    amendment_announcement_id: uuid.UUID | None = Field(
        description="The amended announcement that named the promoted entry."
    )
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class ObjectionPage(Page[ObjectionRead]):
    pass


class AwardCreate(InputModel):
    """A historic award, won before this service (decreed results create theirs)."""

    innovation_id: uuid.UUID
    tier: AwardTier = Field(examples=["top_99"])
    year: int = Field(ge=2000, le=2100, examples=[2019])
    title: Title = Field(examples=["Top 99 KIPP 2019"])


class AwardRead(ReadModel):
    id: uuid.UUID
    innovation_id: uuid.UUID
    institution_id: uuid.UUID
    competition_id: uuid.UUID | None = Field(description="None for a historic award.")
    submission_id: uuid.UUID | None
    tier: str
    year: int
    title: str
    created_at: UtcDateTime


class AwardPage(Page[AwardRead]):
    pass


class AwardList(BaseModel):
    items: list[AwardRead]
