"""The wire format of evaluation: assignments, scores, the ranking and closing a round."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.core.dates import UtcDateTime
from app.core.pagination import Page
from app.core.schemas import InputModel, ReadModel
from app.models.enums import AssignmentStatus, RoundOutcome, RoundStatus

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
ScoreValue = Annotated[
    Decimal,
    Field(ge=0, le=1000, max_digits=6, decimal_places=2, examples=[85]),
]


def _distinct(values: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(values)) != len(values):
        raise ValueError("ids must not repeat")
    return values


class AssignmentCreate(InputModel):
    """Assign one entry of the round to one evaluator."""

    submission_id: uuid.UUID = Field(description="An entry in the round (screened in).")
    evaluator_id: uuid.UUID = Field(description="An active evaluator account.")


class AutoAssign(InputModel):
    """Give every entry of the round `evaluators_per_submission` evaluators from the panel,
    balancing load and excluding conflicts of interest (docs/evaluation.md)."""

    evaluator_ids: Annotated[
        list[uuid.UUID], Field(min_length=1, max_length=200), AfterValidator(_distinct)
    ] = Field(description="The round's panel: active evaluator accounts.")
    evaluators_per_submission: int = Field(ge=1, le=10, examples=[3])


class Reassign(InputModel):
    """Hand the assignment to another evaluator; once scoring started, say why."""

    evaluator_id: uuid.UUID
    reason: Reason | None = Field(
        default=None, description="Required once the assignment has a score."
    )


class Recusal(InputModel):
    """The evaluator declares a conflict of interest with the entry and steps down."""

    reason: Reason = Field(examples=["Saya pernah menjadi konsultan inovasi ini."])


class ScoreIn(InputModel):
    criterion_id: uuid.UUID
    score: ScoreValue = Field(description="Within the criterion's range.")
    comment: Comment | None = None


class ScoresPut(InputModel):
    """The evaluator's whole score sheet for the entry: criteria left out have no score.
    `submit` makes the sheet final (every criterion must then have a score)."""

    scores: Annotated[list[ScoreIn], Field(max_length=100)]
    comment: Comment | None = Field(default=None, description="An overall comment.")
    submit: bool = False


class ScoreRead(ReadModel):
    criterion_id: uuid.UUID
    score: float
    comment: str | None


class SubmissionAnswerRead(ReadModel):
    """The entry's answer to one criterion of its edition's first round."""

    criterion_id: uuid.UUID
    text: str
    evidence_links: list[str]


class AssignmentRead(ReadModel):
    """An assignment with the entry to evaluate and the evaluator's own scores."""

    id: uuid.UUID
    competition_id: uuid.UUID
    round_id: uuid.UUID
    submission_id: uuid.UUID
    innovation_id: uuid.UUID
    innovation_title: str
    group_id: uuid.UUID
    category_id: uuid.UUID
    evaluator_id: uuid.UUID
    evaluator_name: str
    status: AssignmentStatus
    comment: str | None
    submitted_at: UtcDateTime | None
    end_reason: str | None = Field(description="Why the evaluator recused, or was replaced.")
    ended_at: UtcDateTime | None
    replaced_by_id: uuid.UUID | None
    scores: list[ScoreRead]
    answers: list[SubmissionAnswerRead] = Field(
        description="The entry's answers, for the evaluator."
    )
    created_at: UtcDateTime
    updated_at: UtcDateTime
    version: int


class AssignmentSummary(ReadModel):
    id: uuid.UUID
    round_id: uuid.UUID
    submission_id: uuid.UUID
    innovation_title: str
    evaluator_id: uuid.UUID
    evaluator_name: str
    status: AssignmentStatus
    scored_criteria: int = Field(description="Criteria the evaluator has scored so far.")
    submitted_at: UtcDateTime | None
    created_at: UtcDateTime


class AssignmentPage(Page[AssignmentSummary]):
    pass


class EvaluatorLoad(ReadModel):
    evaluator_id: uuid.UUID
    assignments: int = Field(description="Active assignments in the round after this call.")


class AutoAssignResult(ReadModel):
    created: list[AssignmentSummary]
    loads: list[EvaluatorLoad]


class EvaluatorTotalRead(ReadModel):
    assignment_id: uuid.UUID
    evaluator_id: uuid.UUID
    evaluator_name: str
    total: float = Field(description="The weighted total (0..100) of the evaluator's scores.")
    counted: float = Field(description="What the score averages: the total, or normalised.")


class RankingEntry(ReadModel):
    rank: int
    submission_id: uuid.UUID
    innovation_id: uuid.UUID
    innovation_title: str
    institution_id: uuid.UUID
    institution_name: str
    group_id: uuid.UUID
    score: float | None = Field(description="The mean of the evaluators' totals; null unscored.")
    spread: float | None = Field(description="Highest minus lowest evaluator total.")
    flagged: bool = Field(description="The evaluators disagree beyond the round's threshold.")
    evaluations: list[EvaluatorTotalRead] = Field(description="Submitted evaluations only.")
    pending_evaluations: int = Field(description="Active assignments not yet submitted.")
    advances: bool = Field(description="Would advance (open round) or advanced (closed).")
    outcome: RoundOutcome | None = Field(description="The recorded outcome of a closed round.")


class RoundRanking(ReadModel):
    round_id: uuid.UUID
    status: RoundStatus
    normalise_scores: bool
    spread_threshold: float
    advance_quota: int | None
    passing_grade: float | None
    tie_break: str = Field(description="How equal scores are ordered.")
    entries: list[RankingEntry]


class RoundClose(InputModel):
    """Close the round: advance those the ranking advances, eliminate the rest."""

    force: bool = Field(default=False, description="Close although assignments are still unscored.")
    reason: Reason | None = Field(default=None, description="Required with `force`.")


class RoundCloseResult(ReadModel):
    round_id: uuid.UUID
    status: RoundStatus
    closed_at: UtcDateTime
    advanced: int
    eliminated: int
    next_round_id: uuid.UUID | None = Field(description="Where the advancing entries went.")
