"""Hub maturity: versioned instruments (weighted aspects of weighted questions whose options
carry scores) and the assessments hubs answer against them.

An assessment goes draft -> submitted (by the hub's admins, complete, with evidence where an
option needs it) -> verified (the secretariat re-scores answers with notes; the total is the
weighted sum of the verified scores) or returned (to the hub, with a reason) -> submitted again.
An instrument is frozen once published: a change is a new revision of the same code.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import Preconditions
from app.core.dates import today_wib
from app.core.errors import (
    Conflict,
    ConstraintError,
    NotFound,
    ProblemFieldError,
    Unprocessable,
    field_error,
    invalid_field,
    register_constraint_errors,
)
from app.core.lifecycle import Machine, Step, require_status, visible_or_404
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.hubs.service import get_hub, manages, writable_hub
from app.domains.maturity.repository import AssessmentRepository, InstrumentRepository
from app.domains.maturity.schemas import (
    AnswersPut,
    AspectScore,
    AssessmentAnswerRead,
    AssessmentCreate,
    AssessmentFilter,
    AssessmentRead,
    AssessmentReview,
    AssessmentSort,
    MaturityInstrumentAction,
    MaturityInstrumentCreate,
    MaturityInstrumentFilter,
    MaturityInstrumentSort,
    MaturityInstrumentTransition,
    MaturityInstrumentUpdate,
    ReviewAction,
    decimal,
)
from app.domains.notifications import audience, events
from app.models.enums import AssessmentStatus, HubStatus, MaturityAspect, MaturityInstrumentStatus
from app.models.hubs import Hub
from app.models.maturity import MaturityAnswer, MaturityAssessment, MaturityInstrument

register_constraint_errors(
    {
        "uq_maturity_instruments_open_draft": ConstraintError(
            409,
            "maturity_instrument.draft_exists",
            "This instrument already has a draft revision: edit or publish that one.",
        ),
        "uq_maturity_instruments_code_revision": ConstraintError(
            409,
            "maturity_instrument.revision_taken",
            "Another request made this revision at the same time; fetch the list and retry.",
        ),
        "uq_maturity_assessments_hub_id_period_year": ConstraintError(
            409,
            "assessment.duplicate_year",
            "The hub already has an assessment for this year.",
            "/period_year",
        ),
    }
)

# Hubs that are assessed: designated or active (a candidate is not in the network yet, an
# inactive hub has left it).
ASSESSABLE_HUB_STATUSES = frozenset({HubStatus.designated, HubStatus.active})
_CENT = Decimal("0.01")


def _round(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def _now() -> datetime:
    return datetime.now(UTC)


# --- the instrument as a scoring table ------------------------------------------------------


@dataclass(frozen=True)
class Question:
    aspect: MaturityAspect
    weight: Decimal
    scores: dict[str, Decimal]  # option code -> score
    needs_evidence: frozenset[str]  # option codes that need evidence


class Structure:
    """An instrument revision's aspects and questions, indexed for answering and scoring."""

    def __init__(self, aspects: list[dict[str, Any]]) -> None:
        self.aspects = [(MaturityAspect(a["aspect"]), decimal(a["weight"])) for a in aspects]
        self.questions = {
            q["code"]: Question(
                aspect=MaturityAspect(a["aspect"]),
                weight=decimal(q["weight"]),
                scores={o["code"]: decimal(o["score"]) for o in q["options"]},
                needs_evidence=frozenset(
                    o["code"] for o in q["options"] if o.get("requires_evidence")
                ),
            )
            for a in aspects
            for q in a["questions"]
        }

    def score(self, chosen: dict[str, str]) -> tuple[Decimal, dict[MaturityAspect, Decimal]]:
        """The weighted total and per-aspect scores of `chosen` (question -> option); a
        question without an option counts 0."""
        per_aspect = {aspect: Decimal(0) for aspect, _ in self.aspects}
        for code, option in chosen.items():
            question = self.questions[code]
            per_aspect[question.aspect] += question.weight * question.scores[option]
        total = sum((weight * per_aspect[aspect] for aspect, weight in self.aspects), Decimal(0))
        return _round(total), {aspect: _round(value) for aspect, value in per_aspect.items()}

    def check_choice(
        self, index: int, question_code: str, option_code: str, code_prefix: str
    ) -> ProblemFieldError | None:
        question = self.questions.get(question_code)
        if question is None:
            return field_error(
                f"/{code_prefix}/{index}/question_code",
                "assessment.unknown_question",
                f"The instrument has no question {question_code}.",
            )
        if option_code not in question.scores:
            return field_error(
                f"/{code_prefix}/{index}/option_code",
                "assessment.unknown_option",
                f"Question {question_code} has no option {option_code}; its options are "
                f"{', '.join(question.scores)}.",
            )
        return None


def _invalid(errors: list[ProblemFieldError], summary: str) -> Unprocessable:
    code = errors[0].code if len({e.code for e in errors}) == 1 else "assessment.invalid"
    return Unprocessable(code, summary, errors=errors)


# --- instruments ----------------------------------------------------------------------------


def _instrument_not_found(instrument_id: uuid.UUID) -> NotFound:
    return NotFound("maturity_instrument.not_found", f"No maturity instrument {instrument_id}.")


async def _instrument_audit(
    session: AsyncSession,
    actor: Principal,
    action: str,
    instrument: MaturityInstrument,
    before: audit.Snapshot | None,
    reason: str | None = None,
) -> None:
    changes = audit.diff(before, None if action == "delete" else audit.snapshot(instrument))
    await audit.record(
        session,
        actor,
        action,
        "maturity_instrument",
        instrument.id,
        institution_id=None,
        changes=changes,
        reason=reason,
    )


async def list_instruments(
    session: AsyncSession,
    principal: Principal | None,
    filters: MaturityInstrumentFilter,
    sort: MaturityInstrumentSort,
    page: PageRequest,
) -> PageResult[MaturityInstrument]:
    """Published and retired revisions; the secretariat also sees drafts."""
    drafts_too = principal is not None and principal.is_secretariat
    return await InstrumentRepository(session).list(filters, drafts_too, sort, page)


async def get_instrument(
    session: AsyncSession,
    principal: Principal | None,
    instrument_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> MaturityInstrument:
    drafts_too = principal is not None and principal.is_secretariat
    return visible_or_404(
        await InstrumentRepository(session).get(instrument_id, for_update=for_update),
        lambda instrument: drafts_too or instrument.status is not MaturityInstrumentStatus.draft,
        lambda: _instrument_not_found(instrument_id),
    )


def _require_draft(instrument: MaturityInstrument) -> None:
    """409 unless the revision is a draft: one in use is frozen."""
    require_status(
        instrument.status,
        MaturityInstrumentStatus.draft,
        "maturity_instrument.frozen",
        f"Revision {instrument.revision} of {instrument.code} is {instrument.status.value}: an "
        "instrument in use never changes. Create the next revision (POST "
        f"/v1/maturity-instruments with code {instrument.code}) instead.",
    )


async def create_instrument(
    session: AsyncSession, principal: Principal, data: MaturityInstrumentCreate
) -> MaturityInstrument:
    """A draft: revision 1 of a new code, or the next revision of an existing one."""
    repo = InstrumentRepository(session)
    instrument = MaturityInstrument(
        code=data.code,
        revision=await repo.last_revision(data.code) + 1,
        name=data.name,
        description=data.description,
        status=MaturityInstrumentStatus.draft,
        aspects=to_jsonable_python(data.aspects),
    )
    repo.add(instrument)
    await session.flush()
    await _instrument_audit(session, principal, "create", instrument, None)
    return instrument


async def update_instrument(
    session: AsyncSession,
    principal: Principal,
    instrument_id: uuid.UUID,
    data: MaturityInstrumentUpdate,
    preconditions: Preconditions,
) -> MaturityInstrument:
    """Change a draft; a published or retired revision is frozen (409)."""
    instrument = await get_instrument(session, principal, instrument_id, for_update=True)
    preconditions.check_match(instrument.version, entity="maturity_instrument")
    _require_draft(instrument)
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "aspects"):
        if required in changes and changes[required] is None:
            raise invalid_field(
                "maturity_instrument.field_required",
                f"/{required}",
                f"{required} cannot be removed.",
            )
    if "aspects" in changes:
        changes["aspects"] = to_jsonable_python(data.aspects)
    before = audit.snapshot(instrument)
    for field, value in changes.items():
        setattr(instrument, field, value)
    await session.flush()
    await _instrument_audit(session, principal, "update", instrument, before)
    return instrument


INSTRUMENT_STEPS = {
    MaturityInstrumentAction.publish: Step.of(
        MaturityInstrumentStatus.draft, MaturityInstrumentStatus.published
    ),
    MaturityInstrumentAction.retire: Step.of(
        MaturityInstrumentStatus.published, MaturityInstrumentStatus.retired
    ),
}


# A refusal names the revision ("revision 3 is retired"): the subject is given per step.
INSTRUMENT_MACHINE = Machine(
    "maturity_instrument.invalid_transition", "the revision", INSTRUMENT_STEPS, show_targets=False
)


async def transition_instrument(
    session: AsyncSession,
    principal: Principal,
    instrument_id: uuid.UUID,
    data: MaturityInstrumentTransition,
    preconditions: Preconditions,
) -> MaturityInstrument:
    """Publish a draft (retiring the code's published revision) or retire a published one."""
    instrument = await get_instrument(session, principal, instrument_id, for_update=True)
    preconditions.check_match(instrument.version, entity="maturity_instrument")
    target = INSTRUMENT_MACHINE.step(
        data.action, instrument.status, subject=f"revision {instrument.revision}"
    ).reaches
    now = _now()
    if data.action is MaturityInstrumentAction.publish:
        previous = await InstrumentRepository(session).published(instrument.code, for_update=True)
        if previous is not None:
            before = audit.snapshot(previous)
            previous.status, previous.retired_at = MaturityInstrumentStatus.retired, now
            await session.flush()  # before the new revision takes the published slot
            await _instrument_audit(
                session,
                principal,
                "retire",
                previous,
                before,
                reason=f"Superseded by revision {instrument.revision}.",
            )
    before = audit.snapshot(instrument)
    instrument.status = target
    if target is MaturityInstrumentStatus.published:
        instrument.published_at = now
    else:
        instrument.retired_at = now
    await session.flush()
    await _instrument_audit(
        session, principal, data.action.value, instrument, before, reason=data.reason
    )
    return instrument


async def delete_instrument(
    session: AsyncSession,
    principal: Principal,
    instrument_id: uuid.UUID,
    preconditions: Preconditions,
) -> None:
    """Delete a draft revision; a published or retired one stays (409)."""
    instrument = await get_instrument(session, principal, instrument_id, for_update=True)
    preconditions.check_match(instrument.version, entity="maturity_instrument")
    _require_draft(instrument)
    before = audit.snapshot(instrument)
    await InstrumentRepository(session).delete(instrument)
    await session.flush()
    await _instrument_audit(session, principal, "delete", instrument, before)


# --- assessments: reading -------------------------------------------------------------------


def _assessment_not_found(assessment_id: uuid.UUID) -> NotFound:
    return NotFound("assessment.not_found", f"The hub has no assessment {assessment_id}.")


async def list_assessments(
    session: AsyncSession,
    principal: Principal | None,
    hub_id: uuid.UUID,
    filters: AssessmentFilter,
    sort: AssessmentSort,
    page: PageRequest,
) -> PageResult[MaturityAssessment]:
    hub = await get_hub(session, principal, hub_id)
    # The hub's managers see all its assessments; everyone else its verified ones.
    verified_only = not manages(principal, hub)
    return await AssessmentRepository(session).list(hub.id, filters, verified_only, sort, page)


async def _instrument_of(session: AsyncSession, assessment: MaturityAssessment) -> Structure:
    instrument = await InstrumentRepository(session).get(assessment.instrument_id)
    assert instrument is not None  # a foreign key
    return Structure(instrument.aspects)


def _score_of(structure: Structure, question_code: str, option_code: str) -> float:
    return float(structure.questions[question_code].scores[option_code])


async def view(session: AsyncSession, assessment: MaturityAssessment) -> AssessmentRead:
    """The assessment with its answers, each answer's scores and the aspects' subtotals."""
    structure = await _instrument_of(session, assessment)
    answers = list(assessment.answers)
    _, self_aspects = structure.score({a.question_code: a.option_code for a in answers})
    verified = {
        a.question_code: a.verified_option_code
        for a in answers
        if a.verified_option_code is not None
    }
    _, verified_aspects = structure.score(verified)
    is_verified = assessment.status is AssessmentStatus.verified
    return AssessmentRead.model_validate(
        {
            **{
                field: getattr(assessment, field)
                for field in AssessmentRead.model_fields
                if field not in ("questions_total", "questions_answered", "aspects", "answers")
            },
            "questions_total": len(structure.questions),
            "questions_answered": len(answers),
            "aspects": [
                AspectScore(
                    aspect=aspect,
                    weight=float(weight),
                    self_score=float(self_aspects[aspect]),
                    verified_score=float(verified_aspects[aspect]) if is_verified else None,
                )
                for aspect, weight in structure.aspects
            ],
            "answers": [
                AssessmentAnswerRead(
                    question_code=a.question_code,
                    option_code=a.option_code,
                    self_score=_score_of(structure, a.question_code, a.option_code),
                    evidence=a.evidence,
                    comment=a.comment,
                    verified_option_code=a.verified_option_code,
                    verified_score=(
                        _score_of(structure, a.question_code, a.verified_option_code)
                        if a.verified_option_code is not None
                        else None
                    ),
                    verifier_note=a.verifier_note,
                )
                for a in answers
            ],
        }
    )


async def get_assessment(
    session: AsyncSession,
    principal: Principal | None,
    hub_id: uuid.UUID,
    assessment_id: uuid.UUID,
) -> MaturityAssessment:
    hub = await get_hub(session, principal, hub_id)
    # The hub's managers see all its assessments; everyone else its verified ones.
    all_of_them = manages(principal, hub)
    return visible_or_404(
        await AssessmentRepository(session).get(assessment_id),
        lambda assessment: (
            assessment.hub_id == hub.id
            and (all_of_them or assessment.status is AssessmentStatus.verified)
        ),
        lambda: _assessment_not_found(assessment_id),
    )


# --- assessments: writing -------------------------------------------------------------------

# How the trail keeps an answer's change: {"before": its state, "after": its state}.
AnswerChange = dict[str, audit.Snapshot | None]


async def _audit(
    session: AsyncSession,
    actor: Principal,
    action: str,
    hub: Hub,
    assessment: MaturityAssessment,
    before: audit.Snapshot | None,
    *,
    answers: dict[str, AnswerChange] | None = None,
    reason: str | None = None,
) -> None:
    """One event; `answers` holds the answer fields that changed, by question."""
    changes = audit.diff(before, None if action == "delete" else audit.snapshot(assessment))
    for question_code, change in (answers or {}).items():
        changes[f"answers.{question_code}"] = change
    await audit.record(
        session,
        actor,
        action,
        "maturity_assessment",
        assessment.id,
        institution_id=hub.host_institution_id,
        changes=changes,
        reason=reason,
    )


def _answer_state(answer: MaturityAnswer | None) -> audit.Snapshot | None:
    if answer is None:
        return None
    return {
        "option_code": answer.option_code,
        "evidence": answer.evidence,
        "comment": answer.comment,
        "verified_option_code": answer.verified_option_code,
        "verifier_note": answer.verifier_note,
    }


class AssessmentAction(StrEnum):
    """The steps of an assessment: the hub submits it, the verifier verifies or returns it
    (`submit` is its own route, the other two `review`'s actions)."""

    submit = "submit"
    verify = "verify"
    return_ = "return"


ASSESSMENT_MACHINE: Machine[AssessmentAction, AssessmentStatus] = Machine(
    "assessment.invalid_transition",
    "the assessment",
    {
        AssessmentAction.submit: Step.of(
            (AssessmentStatus.draft, AssessmentStatus.returned), AssessmentStatus.submitted
        ),
        AssessmentAction.verify: Step.of(AssessmentStatus.submitted, AssessmentStatus.verified),
        AssessmentAction.return_: Step.of(AssessmentStatus.submitted, AssessmentStatus.returned),
    },
    show_targets=False,
)


async def _hub_side(
    session: AsyncSession, principal: Principal, hub_id: uuid.UUID, assessment_id: uuid.UUID
) -> tuple[Hub, MaturityAssessment]:
    """The hub (its own admin's: 403 for another visible hub) and its assessment, locked."""
    hub = await writable_hub(session, principal, hub_id)
    return hub, await _assessment_of(session, hub, assessment_id)


async def _assessment_of(
    session: AsyncSession, hub: Hub, assessment_id: uuid.UUID
) -> MaturityAssessment:
    """The hub's assessment, locked for a write; 404 if the hub has none of this id."""
    return visible_or_404(
        await AssessmentRepository(session).get(assessment_id, for_update=True),
        lambda assessment: assessment.hub_id == hub.id,
        lambda: _assessment_not_found(assessment_id),
    )


async def create_assessment(
    session: AsyncSession, principal: Principal, hub_id: uuid.UUID, data: AssessmentCreate
) -> MaturityAssessment:
    """Open the hub's assessment of a year against a published instrument revision."""
    hub = await writable_hub(session, principal, hub_id)
    if hub.status not in ASSESSABLE_HUB_STATUSES:
        raise Conflict(
            "hub.not_assessable",
            f"The hub is {hub.status.value}; designated and active hubs are assessed.",
            extra={"current_status": hub.status.value},
        )
    if data.period_year > today_wib().year:
        raise invalid_field(
            "assessment.future_year", "/period_year", f"{data.period_year} has not begun yet."
        )
    instrument = await InstrumentRepository(session).get(data.instrument_id)
    if instrument is None or instrument.status is not MaturityInstrumentStatus.published:
        # A draft is the secretariat's: to a hub it does not exist.
        retired = instrument is not None and instrument.status is MaturityInstrumentStatus.retired
        state = "is retired" if retired else "does not exist"
        raise invalid_field(
            "assessment.instrument_not_published",
            "/instrument_id",
            f"The instrument {state}; an assessment answers a published instrument revision.",
        )
    assessment = MaturityAssessment(
        hub_id=hub.id,
        instrument_id=instrument.id,
        period_year=data.period_year,
        status=AssessmentStatus.draft,
        answers=[],
    )
    AssessmentRepository(session).add(assessment)
    await session.flush()
    await _audit(session, principal, "create", hub, assessment, None)
    return assessment


async def put_answers(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    assessment_id: uuid.UUID,
    data: AnswersPut,
    preconditions: Preconditions,
) -> MaturityAssessment:
    """Add or replace answers while the assessment is the hub's (draft or returned). A
    changed answer loses the verifier's earlier score of it (not its note)."""
    hub, assessment = await _hub_side(session, principal, hub_id, assessment_id)
    preconditions.check_match(assessment.version, entity="assessment")
    if assessment.status not in (AssessmentStatus.draft, AssessmentStatus.returned):
        raise Conflict(
            "assessment.not_editable",
            f"The assessment is {assessment.status.value}; the hub answers while it is a draft "
            "or returned.",
            extra={"current_status": assessment.status.value},
        )
    structure = await _instrument_of(session, assessment)
    errors = [
        error
        for index, answer in enumerate(data.answers)
        if (
            error := structure.check_choice(
                index, answer.question_code, answer.option_code, "answers"
            )
        )
    ]
    if errors:
        raise _invalid(errors, "Some answers do not fit the instrument.")
    existing = {a.question_code: a for a in assessment.answers}
    changed: dict[str, AnswerChange] = {}
    for given in data.answers:
        answer = existing.get(given.question_code)
        before = _answer_state(answer)
        if answer is None:
            answer = MaturityAnswer(question_code=given.question_code)
            assessment.answers.append(answer)
        evidence = to_jsonable_python(given.evidence)
        if (answer.option_code, answer.evidence, answer.comment) != (
            given.option_code,
            evidence,
            given.comment,
        ):
            # The verifier scored another answer: it scores this one afresh.
            answer.option_code, answer.evidence, answer.comment = (
                given.option_code,
                evidence,
                given.comment,
            )
            answer.verified_option_code = None
        after = _answer_state(answer)
        if after != before:
            changed[given.question_code] = {"before": before, "after": after}
    if not changed:
        return assessment  # the same answers again: nothing to write, no new version
    before_assessment = audit.snapshot(assessment)
    AssessmentRepository.touch(assessment)  # the answers are the assessment's: its version moves
    await session.flush()
    await _audit(session, principal, "answer", hub, assessment, before_assessment, answers=changed)
    return assessment


async def submit_assessment(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    assessment_id: uuid.UUID,
    preconditions: Preconditions,
) -> MaturityAssessment:
    """Hand the assessment to the verifiers: every question answered, evidence attached where
    the chosen option needs it (422 naming each gap). Sets the hub's own total."""
    hub, assessment = await _hub_side(session, principal, hub_id, assessment_id)
    preconditions.check_match(assessment.version, entity="assessment")
    ASSESSMENT_MACHINE.step(AssessmentAction.submit, assessment.status)
    structure = await _instrument_of(session, assessment)
    answers = {a.question_code: a for a in assessment.answers}
    gaps = []
    for code, question in structure.questions.items():
        answer = answers.get(code)
        if answer is None:
            gaps.append(
                field_error(f"/answers/{code}", "assessment.unanswered", f"{code} is unanswered.")
            )
        elif answer.option_code in question.needs_evidence and not answer.evidence:
            gaps.append(
                field_error(
                    f"/answers/{code}",
                    "assessment.evidence_required",
                    f"Option {answer.option_code} of {code} needs evidence: attach a link.",
                )
            )
    if gaps:
        raise _invalid(gaps, f"The assessment is not complete: {len(gaps)} question(s) to fix.")
    before = audit.snapshot(assessment)
    assessment.self_score, _ = structure.score({c: a.option_code for c, a in answers.items()})
    assessment.status = AssessmentStatus.submitted
    assessment.submitted_at = _now()
    # The verifier's reason for returning it was for the hub; the trail keeps it, the record
    # (public once verified) does not.
    assessment.returned_at = assessment.return_reason = None
    await session.flush()
    await _audit(session, principal, "submit", hub, assessment, before)
    return assessment


async def review_assessment(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    assessment_id: uuid.UUID,
    data: AssessmentReview,
    preconditions: Preconditions,
) -> MaturityAssessment:
    """The verifier re-scores answers (an option of the same question, with a note) and
    verifies (answers not re-scored keep the hub's option; the total is the weighted sum of
    the verified scores) or returns the assessment to the hub with a reason."""
    hub = await get_hub(session, principal, hub_id)
    assessment = await _assessment_of(session, hub, assessment_id)
    preconditions.check_match(assessment.version, entity="assessment")
    ASSESSMENT_MACHINE.step(AssessmentAction(data.action.value), assessment.status)
    if data.action is ReviewAction.return_ and data.reason is None:
        raise invalid_field(
            "assessment.reason_required", "/reason", "Returning an assessment needs a reason."
        )
    structure = await _instrument_of(session, assessment)
    answers = {a.question_code: a for a in assessment.answers}
    errors = []
    for index, score in enumerate(data.scores):
        error = structure.check_choice(index, score.question_code, score.option_code, "scores")
        if error is None and score.question_code not in answers:
            error = field_error(
                f"/scores/{index}/question_code",
                "assessment.unanswered",
                f"The hub did not answer {score.question_code}.",
            )
        if error is not None:
            errors.append(error)
    if errors:
        raise _invalid(errors, "Some scores do not fit the assessment.")
    before = audit.snapshot(assessment)
    states = {code: _answer_state(answer) for code, answer in answers.items()}
    for score in data.scores:
        answer = answers[score.question_code]
        answer.verified_option_code = score.option_code
        answer.verifier_note = score.note
    now = _now()
    if data.action is ReviewAction.verify:
        for answer in answers.values():
            if answer.verified_option_code is None:
                answer.verified_option_code = answer.option_code
        assessment.total_score, _ = structure.score(
            {c: a.verified_option_code for c, a in answers.items() if a.verified_option_code}
        )
        assessment.status = AssessmentStatus.verified
        assessment.verified_at = now
    else:
        assessment.status = AssessmentStatus.returned
        assessment.returned_at = now
        assessment.return_reason = data.reason
    changed = {
        code: {"before": states[code], "after": after}
        for code, answer in answers.items()
        if (after := _answer_state(answer)) != states[code]
    }
    await session.flush()
    await _audit(
        session,
        principal,
        data.action.value,
        hub,
        assessment,
        before,
        answers=changed,
        reason=data.reason,
    )
    # The hub's admins, who see their assessments whole, are told (docs/notifications.md).
    verified = data.action is ReviewAction.verify
    await events.emit(
        session,
        "maturity.verified" if verified else "maturity.returned",
        "maturity_assessment",
        assessment.id,
        audience=[audience.hub_admins(hub.id)],
        actor=principal,
        institution_id=hub.host_institution_id,
        data={
            "period_year": assessment.period_year,
            **(
                {"total_score": str(assessment.total_score)}
                if verified
                else {"reason": assessment.return_reason}
            ),
        },
        refs={"hub": hub.id},
    )
    return assessment


async def delete_assessment(
    session: AsyncSession,
    principal: Principal,
    hub_id: uuid.UUID,
    assessment_id: uuid.UUID,
    preconditions: Preconditions,
) -> None:
    """Delete a draft (never submitted); later ones are the hub's record."""
    hub, assessment = await _hub_side(session, principal, hub_id, assessment_id)
    preconditions.check_match(assessment.version, entity="assessment")
    require_status(
        assessment.status,
        AssessmentStatus.draft,
        "assessment.not_draft",
        f"The assessment is {assessment.status.value}; only a draft can be deleted.",
    )
    before = audit.snapshot(assessment)
    await AssessmentRepository(session).delete(assessment)
    await session.flush()
    await _audit(session, principal, "delete", hub, assessment, before)
