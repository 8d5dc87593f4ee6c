"""The wire format of submissions: an innovation entered in an edition, its answers to the
first round's criteria, and the steps of its flow."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.domains.innovations.schemas import Url
from app.models.enums import ScreeningOutcome, ScreeningReason, SubmissionStatus

AnswerText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class Answer(InputModel):
    """The answer to one criterion of the edition's first round, with its evidence."""

    # Sent in a body, and read back from its row.
    model_config = ConfigDict(from_attributes=True)

    criterion_id: uuid.UUID
    text: AnswerText
    evidence_links: Annotated[list[Url], Field(max_length=20)] = Field(
        default_factory=list, description="Links to documents, videos or pages that back it."
    )


Answers = Annotated[list[Answer], Field(max_length=100)]


class SubmissionCreate(InputModel):
    """Enter one of the caller's innovations in an open edition, as a draft."""

    competition_id: uuid.UUID
    group_id: uuid.UUID
    category_id: uuid.UUID
    innovation_id: uuid.UUID
    source_innovation_id: uuid.UUID | None = Field(
        default=None,
        description="A replication group's entry: the innovation it replicates, which must hold "
        "a qualifying earlier award.",
    )
    answers: Answers = Field(default_factory=list)


class SubmissionUpdate(InputModel):
    """Change a draft or a returned entry; `answers` replaces the whole set."""

    category_id: uuid.UUID | None = None
    source_innovation_id: uuid.UUID | None = None
    answers: Answers | None = None


class SubmissionSummary(ReadModel):
    """An entry as lists show it (its answers are on the single entry)."""

    id: uuid.UUID
    competition_id: uuid.UUID
    group_id: uuid.UUID
    category_id: uuid.UUID
    innovation_id: uuid.UUID
    innovation_title: str
    institution_id: uuid.UUID
    unit_id: uuid.UUID
    source_innovation_id: uuid.UUID | None
    status: SubmissionStatus
    round_id: uuid.UUID | None = Field(description="The round it is in, once submitted.")
    return_reason: str | None
    withdrawal_reason: str | None
    screening_outcome: ScreeningOutcome | None
    screening_reason: ScreeningReason | None
    screening_note: str | None
    sent_at: UtcDateTime | None = Field(description="When it was sent to the local admin.")
    submitted_at: UtcDateTime | None = Field(
        description="When the local admin approved it (submitted to the organiser)."
    )
    screened_at: UtcDateTime | None
    withdrawn_at: UtcDateTime | None
    expired_at: UtcDateTime | None
    final_tier: str | None = Field(
        description="The tier of the last round it advanced past (its award once decreed)."
    )
    disqualification_reason: str | None = Field(
        description="Why it was disqualified (an upheld objection)."
    )
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class SubmissionRead(SubmissionSummary):
    """An entry with its answers."""

    answers: list[Answer] = Field(description="By the criteria's order.")


class SubmissionPage(Page[SubmissionSummary]):
    pass


class SubmissionSort(StrEnum):
    created_at = "created_at"
    created_at_desc = "-created_at"


class SubmissionFilter(InputModel):
    competition_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    status: list[SubmissionStatus] = Field(default_factory=list)
    institution_id: uuid.UUID | None = None
    region: str | None = None
    round_id: uuid.UUID | None = None


class SubmissionAction(StrEnum):
    """The steps of the flow (DOMAIN.md section 3)."""

    submit = "submit"
    approve = "approve"
    return_ = "return"
    withdraw = "withdraw"
    screen = "screen"


class SubmissionTransition(InputModel):
    """One step: `return` needs a reason; `screen` an outcome, and a screening reason when the
    outcome is `out`."""

    action: SubmissionAction = Field(examples=["submit"])
    reason: Reason | None = Field(
        default=None,
        description="Why: required to return; kept as the screening note when screening; "
        "optional to withdraw.",
    )
    outcome: ScreeningOutcome | None = Field(default=None, description="`screen` only.")
    screening_reason: ScreeningReason | None = Field(
        default=None, description="`screen` with outcome `out` only."
    )
