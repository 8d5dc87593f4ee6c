"""An entry's flow: from the unit operator's draft to the local admin (`submit`), who approves
it to the organiser or returns it for revision, to the organiser's screening (`screen`: in or
out); `withdraw` on the way; and the expiry of what registration's close leaves unsubmitted.
Sending, approving and screening in check the edition's entry rules (rules.py)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import Conflict, Forbidden, invalid_field
from app.core.lifecycle import Machine, Step
from app.core.security import Principal
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.notifications import audience, events
from app.domains.submissions import rules
from app.domains.submissions.access import ENTITY, Loaded, load, record_event
from app.domains.submissions.repository import RESULTS_OUT, SubmissionRepository
from app.domains.submissions.schemas import SubmissionAction, SubmissionTransition
from app.models.competitions import Competition
from app.models.enums import CompetitionStatus, Role, ScreeningOutcome, SubmissionStatus
from app.models.submissions import Submission

# Each step: the statuses it leaves and the status it reaches (screening: in or out).
MACHINE: Machine[SubmissionAction, SubmissionStatus] = Machine(
    "submission.invalid_transition",
    "the submission",
    {
        SubmissionAction.submit: Step.of(
            (SubmissionStatus.draft, SubmissionStatus.returned),
            SubmissionStatus.awaiting_local_admin,
        ),
        SubmissionAction.approve: Step.of(
            SubmissionStatus.awaiting_local_admin, SubmissionStatus.submitted
        ),
        SubmissionAction.return_: Step.of(
            SubmissionStatus.awaiting_local_admin, SubmissionStatus.returned
        ),
        SubmissionAction.withdraw: Step.of(
            (
                SubmissionStatus.awaiting_local_admin,
                SubmissionStatus.returned,
                SubmissionStatus.submitted,
                SubmissionStatus.screened_in,
            ),
            SubmissionStatus.withdrawn,
        ),
        SubmissionAction.screen: Step.of(
            SubmissionStatus.submitted, None, leads_to="screened_in or screened_out"
        ),
    },
)
SCREENING_OPEN = frozenset(
    {CompetitionStatus.registration_open, CompetitionStatus.registration_closed}
)


def _check_actor(principal: Principal, loaded: Loaded, action: SubmissionAction) -> None:
    submission = loaded.submission
    if action is SubmissionAction.screen:
        if not competitions.runs(principal, loaded.competition):
            raise Forbidden(
                "submission.out_of_scope",
                "Entries are screened by whoever runs the competition (the secretariat; a hub's "
                "admins for its provincial competition).",
            )
        return
    if action in (SubmissionAction.approve, SubmissionAction.return_):
        if not (
            principal.role is Role.local_admin
            and principal.institution_id == submission.institution_id
        ):
            raise Forbidden(
                "submission.out_of_scope",
                "The institution's local admin approves or returns its entries.",
            )
        return
    if not principal.acts_for(submission.institution_id, submission.unit_id):
        raise Forbidden(
            "submission.out_of_scope",
            "An entry is sent and withdrawn by its unit's operators and its institution's "
            "local admins.",
        )


async def transition_submission(
    session: AsyncSession,
    principal: Principal,
    submission_id: uuid.UUID,
    data: SubmissionTransition,
    preconditions: Preconditions,
) -> Submission:
    """Take one step of the flow: who may take it is checked first (403), then the version
    (412), then the machine (409), then the step's own fields and rules."""
    loaded = await load(session, principal, submission_id, for_update=True)
    submission, competition = loaded.submission, loaded.competition
    action = data.action
    _check_actor(principal, loaded, action)
    preconditions.check_match(submission.version, entity="submission")
    step = MACHINE.step(action, submission.status)
    if action is not SubmissionAction.screen and (
        data.outcome is not None or data.screening_reason
    ):
        raise invalid_field(
            "submission.screening_fields",
            "/outcome",
            "outcome and screening_reason belong to the screen step.",
        )
    before = audit.snapshot(submission)
    now = dates.now()
    if action is SubmissionAction.submit:
        await rules.check_rules(session, submission, competition, registration=True)
        submission.sent_at = now
        submission.return_reason = None
    elif action is SubmissionAction.approve:
        await rules.check_rules(session, submission, competition, registration=True)
        first = await SubmissionRepository(session).first_round(competition.id)
        submission.submitted_at = now
        submission.round_id = first.id if first is not None else None
    elif action is SubmissionAction.return_:
        if data.reason is None:
            raise invalid_field(
                "submission.reason_required", "/reason", "Say what the unit should revise."
            )
        submission.return_reason = data.reason
    elif action is SubmissionAction.withdraw:
        if competition.status in (*RESULTS_OUT, CompetitionStatus.cancelled):
            raise Conflict(
                "submission.competition_cancelled"
                if competition.status is CompetitionStatus.cancelled
                else "submission.results_published",
                f"The competition is {competition.status.value}: its entries are no longer "
                "withdrawn.",
                extra={"competition_status": competition.status.value},
            )
        submission.withdrawn_at = now
        submission.withdrawal_reason = data.reason
    else:
        await _screen(session, loaded, data)
    if step.target is not None:  # screening decides its own: in or out
        submission.status = step.target
    await session.flush()
    audit_action = "screen" if action is SubmissionAction.screen else action.value
    await record_event(session, principal, audit_action, submission, before, reason=data.reason)
    await _tell(session, principal, action, submission)
    return submission


async def _tell(
    session: AsyncSession, principal: Principal, action: SubmissionAction, submission: Submission
) -> None:
    """The step's notification (docs/notifications.md), to those who may see the entry: its
    unit's operators and its institution's local admins."""
    unit = audience.unit_operators(submission.unit_id)
    admins = audience.local_admins(submission.institution_id)
    refs = {"innovation": submission.innovation_id, "competition": submission.competition_id}
    data: dict[str, object]
    if action is SubmissionAction.submit:
        kind, parts, data = "submission.awaiting_approval", [admins], {}
        refs["unit"] = submission.unit_id
    elif action is SubmissionAction.approve:
        kind, parts, data = "submission.submitted", [unit, admins], {}
    elif action is SubmissionAction.return_:
        kind, parts, data = "submission.returned", [unit], {"reason": submission.return_reason}
    elif action is SubmissionAction.screen:
        kind, parts = "submission.screened", [unit, admins]
        data = {
            "outcome": submission.screening_outcome,
            "reason": submission.screening_reason or "",
        }
    else:
        return
    await events.emit(
        session,
        kind,
        "submission",
        submission.id,
        audience=parts,
        actor=principal,
        institution_id=submission.institution_id,
        data=data,
        refs=refs,
    )


async def _screen(session: AsyncSession, loaded: Loaded, data: SubmissionTransition) -> None:
    submission, competition = loaded.submission, loaded.competition
    if competition.status not in SCREENING_OPEN:
        raise Conflict(
            "submission.screening_closed",
            f"The competition is {competition.status.value}: entries are screened while "
            "registration is open or closed, before evaluation.",
            extra={"competition_status": competition.status.value},
        )
    if data.outcome is None:
        raise invalid_field(
            "submission.outcome_required", "/outcome", "Screen the entry `in` or `out`."
        )
    if data.outcome is ScreeningOutcome.out:
        if data.screening_reason is None:
            raise invalid_field(
                "submission.screening_reason_required",
                "/screening_reason",
                "Say why the entry is screened out.",
            )
        submission.status = SubmissionStatus.screened_out
        submission.screening_reason = data.screening_reason
    else:
        if data.screening_reason is not None:
            raise invalid_field(
                "submission.screening_reason_not_allowed",
                "/screening_reason",
                "A screening reason explains an entry screened out.",
            )
        await rules.check_rules(session, submission, competition, registration=False)
        submission.status = SubmissionStatus.screened_in
        submission.screening_reason = None
    submission.screening_outcome = data.outcome
    submission.screening_note = data.reason
    submission.screened_at = dates.now()


async def expire_unsubmitted(
    session: AsyncSession, principal: Principal | None, competition: Competition
) -> int:
    """When registration closes: the entries never submitted expire (one event each; no
    principal: the deadline closed it, recorded as `system`)."""
    expired = await SubmissionRepository(session).expire_unsubmitted(competition.id, dates.now())
    for submission_id, institution_id, previous in expired:
        await audit.record(
            session,
            principal,
            "expire",
            ENTITY,
            submission_id,
            institution_id=institution_id,
            changes={"status": {"before": previous.value, "after": SubmissionStatus.expired.value}},
        )
    return len(expired)
