"""The wire format of maturity instruments and hub maturity assessments.

Weights and scores travel as JSON numbers; the service sums them as decimals, so 0.1 + 0.2
weighs exactly 0.3.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    model_validator,
)

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.domains.hub_activities.schemas import DocumentLink
from app.models.enums import AssessmentStatus, MaturityAspect, MaturityInstrumentStatus

MAX_SCORE = 100


def _places(limit: int) -> AfterValidator:
    def check(value: float) -> float:
        if -Decimal(str(value)).as_tuple().exponent > limit:  # type: ignore[operator]
            raise ValueError(f"at most {limit} decimal places")
        return value

    return AfterValidator(check)


def decimal(value: float) -> Decimal:
    """The number as the caller wrote it (0.1 is 0.1, not its binary neighbour)."""
    return Decimal(str(value))


Weight = Annotated[float, Field(ge=0, le=1, examples=[0.25]), _places(4)]
Score = Annotated[float, Field(ge=0, le=MAX_SCORE, examples=[75]), _places(2)]
InstrumentCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
ItemCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
PeriodYear = Annotated[int, Field(ge=2019, le=2100, description="The year assessed.")]


def _unique_codes(codes: list[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"{what} code {code!r} appears twice")
        seen.add(code)


def _sums_to_one(weights: list[float], what: str) -> None:
    total = sum((decimal(w) for w in weights), Decimal(0))
    if total != 1:
        raise ValueError(f"the weights of {what} sum to {total.normalize()}, not 1")


class MaturityInstrumentOption(InputModel):
    """One answer a question offers, with its score (0-100)."""

    code: ItemCode = Field(examples=["c"])
    label: Label = Field(examples=["Ada peta jalan inovasi daerah yang ditetapkan kepala daerah"])
    score: Score
    requires_evidence: bool = Field(
        default=False, description="Choosing this option needs at least one evidence link."
    )


class MaturityInstrumentQuestion(InputModel):
    code: ItemCode = Field(examples=["PLN-1"])
    text: LongText = Field(examples=["Apakah simpul memiliki rencana kerja tahunan JIPP?"])
    weight: Weight = Field(description="Its share of the aspect; an aspect's questions sum to 1.")
    options: list[MaturityInstrumentOption] = Field(min_length=2, max_length=10)

    @model_validator(mode="after")
    def _distinct_options(self) -> MaturityInstrumentQuestion:
        _unique_codes([o.code for o in self.options], "option")
        return self


class MaturityInstrumentAspect(InputModel):
    aspect: MaturityAspect
    name: Name = Field(examples=["Perencanaan"])
    weight: Weight = Field(description="Its share of the total; the aspects sum to 1.")
    questions: list[MaturityInstrumentQuestion] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _weighted(self) -> MaturityInstrumentAspect:
        _sums_to_one([q.weight for q in self.questions], f"the {self.aspect.value} questions")
        return self


def _whole_instrument(aspects: list[MaturityInstrumentAspect]) -> list[MaturityInstrumentAspect]:
    _unique_codes([a.aspect.value for a in aspects], "aspect")
    _sums_to_one([a.weight for a in aspects], "the aspects")
    _unique_codes([q.code for a in aspects for q in a.questions], "question")
    return aspects


Aspects = Annotated[
    list[MaturityInstrumentAspect],
    Field(min_length=1, max_length=4),
    AfterValidator(_whole_instrument),
]


class MaturityInstrumentCreate(InputModel):
    """A new draft revision: revision 1 of a new `code`, or the next revision of an existing
    one (an instrument in use never changes; its successor is a new revision)."""

    code: InstrumentCode = Field(examples=["jipp-maturity"])
    name: Name = Field(examples=["Instrumen Kematangan Simpul JIPP"])
    description: LongText | None = None
    aspects: Aspects


class MaturityInstrumentUpdate(InputModel):
    """A draft's name, description or whole structure (`aspects` is replaced whole)."""

    name: Name | None = None
    description: LongText | None = None
    aspects: Aspects | None = None


class MaturityInstrumentRead(ReadModel):
    id: uuid.UUID
    code: str
    revision: int
    name: str
    description: str | None
    status: MaturityInstrumentStatus
    published_at: UtcDateTime | None
    retired_at: UtcDateTime | None
    aspects: list[MaturityInstrumentAspect]
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class MaturityInstrumentPage(Page[MaturityInstrumentRead]):
    pass


class MaturityInstrumentSort(StrEnum):
    code = "code"
    created_at = "created_at"
    created_at_desc = "-created_at"


class MaturityInstrumentFilter(InputModel):
    code: str | None = None
    status: list[MaturityInstrumentStatus] = Field(default_factory=list)


class MaturityInstrumentAction(StrEnum):
    publish = "publish"
    retire = "retire"


class MaturityInstrumentTransition(InputModel):
    action: MaturityInstrumentAction = Field(
        description="`publish` a draft (the code's published revision, if any, is retired); "
        "`retire` a published one (no new assessments)."
    )
    reason: Note | None = Field(default=None, description="Kept in the audit trail.")


# --- assessments ----------------------------------------------------------------------------


class AssessmentCreate(InputModel):
    period_year: PeriodYear
    instrument_id: uuid.UUID = Field(description="A published instrument revision.")


class AnswerInput(InputModel):
    question_code: ItemCode
    option_code: ItemCode
    evidence: list[DocumentLink] = Field(default_factory=list, max_length=10)
    comment: Note | None = None


def _one_answer_each(answers: list[AnswerInput]) -> list[AnswerInput]:
    _unique_codes([a.question_code for a in answers], "question")
    return answers


class AnswersPut(InputModel):
    """Answers to add or replace (questions not named keep their answers)."""

    answers: Annotated[
        list[AnswerInput], Field(min_length=1, max_length=200), AfterValidator(_one_answer_each)
    ]


class ReviewScore(InputModel):
    """The verifier's score of one answer: an option of the same question, and why."""

    question_code: ItemCode
    option_code: ItemCode
    note: Note | None = None


class ReviewAction(StrEnum):
    verify = "verify"
    return_ = "return"


def _one_score_each(scores: list[ReviewScore]) -> list[ReviewScore]:
    _unique_codes([s.question_code for s in scores], "question")
    return scores


class AssessmentReview(InputModel):
    """The verifier's decision on a submitted assessment, with its re-scores."""

    action: ReviewAction = Field(
        description="`verify`: the scores stand (answers not re-scored keep the hub's option) "
        "and the total is set; `return`: back to the hub for revision, with a reason."
    )
    reason: Note | None = Field(default=None, description="Required to return.")
    scores: Annotated[
        list[ReviewScore],
        Field(default_factory=list, max_length=200),
        AfterValidator(_one_score_each),
    ]


class AssessmentAnswerRead(BaseModel):
    """The hub's answer to one question of its assessment, with the verifier's re-score."""

    question_code: str
    option_code: str
    self_score: float
    evidence: list[DocumentLink]
    comment: str | None
    verified_option_code: str | None
    verified_score: float | None
    verifier_note: str | None


class AspectScore(BaseModel):
    aspect: MaturityAspect
    weight: float
    self_score: float = Field(description="Weighted sum of the hub's own answers (0-100).")
    verified_score: float | None = Field(description="Weighted sum of the verified scores.")


class AssessmentSummary(ReadModel):
    id: uuid.UUID
    hub_id: uuid.UUID
    instrument_id: uuid.UUID
    period_year: int
    status: AssessmentStatus
    submitted_at: UtcDateTime | None
    returned_at: UtcDateTime | None
    return_reason: str | None
    verified_at: UtcDateTime | None
    self_score: float | None = Field(description="The hub's own total, set when submitted.")
    total_score: float | None = Field(description="The verified total (0-100), set when verified.")
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class AssessmentRead(AssessmentSummary):
    questions_total: int
    questions_answered: int
    aspects: list[AspectScore]
    answers: list[AssessmentAnswerRead]


class AssessmentPage(Page[AssessmentSummary]):
    pass


class AssessmentSort(StrEnum):
    period_year = "period_year"
    period_year_desc = "-period_year"


class AssessmentFilter(InputModel):
    status: list[AssessmentStatus] = Field(default_factory=list)
    period_year: int | None = None
