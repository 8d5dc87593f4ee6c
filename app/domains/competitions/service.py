"""Competition editions: creating, changing and deleting them, and the status machine (who sees
and who runs an edition: `access`; its structure: `structure`).

Opening registration checks the structure as a whole: a registration window ending in the
future, at least one group, category and round, and for every round and group criteria whose
weights sum to 100. Each problem is named in the 409.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import NotRequired, TypedDict

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import (
    Conflict,
    ConstraintError,
    Forbidden,
    invalid_field,
    join_messages,
    register_constraint_errors,
)
from app.core.lifecycle import Machine, Step, require_status
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.competitions.access import (
    check_final,
    record_event,
    run_competition,
    visibility_for,
)
from app.domains.competitions.repository import (
    CompetitionRepository,
)
from app.domains.competitions.schemas import (
    CompetitionAction,
    CompetitionCreate,
    CompetitionFilter,
    CompetitionSort,
    CompetitionTransition,
    CompetitionUpdate,
)
from app.domains.hubs.repository import HubRepository
from app.domains.institutions.repository import InstitutionRepository
from app.domains.results.awards import decree
from app.domains.submissions.flow import expire_unsubmitted
from app.models.competitions import (
    Competition,
)
from app.models.enums import CompetitionScope, CompetitionStatus, HubKind, HubStatus, Role

register_constraint_errors(
    {
        "uq_competitions_code": ConstraintError(
            409, "competition.duplicate_code", "Another competition has this code.", "/code"
        ),
    }
)

# The edition's lifecycle: each step, the statuses it leaves and the status it reaches.
MACHINE = Machine(
    "competition.invalid_transition",
    "the competition",
    {
        CompetitionAction.open_registration: Step.of(
            CompetitionStatus.draft, CompetitionStatus.registration_open
        ),
        CompetitionAction.close_registration: Step.of(
            CompetitionStatus.registration_open, CompetitionStatus.registration_closed
        ),
        CompetitionAction.start_evaluation: Step.of(
            CompetitionStatus.registration_closed, CompetitionStatus.evaluation
        ),
        CompetitionAction.publish_results: Step.of(
            CompetitionStatus.evaluation, CompetitionStatus.results_published
        ),
        CompetitionAction.close: Step.of(
            CompetitionStatus.results_published, CompetitionStatus.closed
        ),
        CompetitionAction.cancel: Step.of(
            (
                CompetitionStatus.draft,
                CompetitionStatus.registration_open,
                CompetitionStatus.registration_closed,
                CompetitionStatus.evaluation,
            ),
            CompetitionStatus.cancelled,
        ),
    },
)


class ReadinessIssue(TypedDict):
    """One thing that stops registration from opening (the wire's `ReadinessProblem`); a
    round's weights name the round, the group and their sum."""

    code: str
    message: str
    round_id: NotRequired[str]
    group_id: NotRequired[str]
    weight_sum: NotRequired[int]


# What may change after the draft: until closed, the profile; while registration is open, the
# deadline too.
PROFILE_FIELDS = frozenset({"name", "theme", "legal_basis", "publish_scores"})


def _now() -> datetime:
    return datetime.now(UTC)


# --- editions -------------------------------------------------------------------------------


async def list_competitions(
    session: AsyncSession,
    principal: Principal | None,
    filters: CompetitionFilter,
    sort: CompetitionSort,
    page: PageRequest,
) -> PageResult[Competition]:
    return await CompetitionRepository(session).page(filters, visibility_for(principal), sort, page)


async def _organiser(
    session: AsyncSession, principal: Principal, data: CompetitionCreate
) -> tuple[uuid.UUID, uuid.UUID | None]:
    """(organiser institution, hub) of a new edition. A provincial edition is run by an active
    regional hub and organised by its host; a national or monitoring one is the secretariat's."""
    if data.scope is CompetitionScope.provincial:
        hub_id = data.hub_id or principal.hub_id
        if hub_id is None:
            raise invalid_field(
                "competition.hub_required",
                "/hub_id",
                "A provincial competition is run by a regional hub: name it.",
            )
        if principal.role is Role.hub_admin and hub_id != principal.hub_id:
            raise Forbidden(
                "competition.out_of_scope", "A hub admin runs its own hub's competitions only."
            )
        hub = await HubRepository(session).get(hub_id)
        if hub is None or hub.kind is not HubKind.regional or hub.status is not HubStatus.active:
            raise invalid_field(
                "competition.hub_not_active",
                "/hub_id",
                "A provincial competition is run by an active regional hub.",
            )
        if data.organiser_institution_id not in (None, hub.host_institution_id):
            raise invalid_field(
                "competition.organiser_not_hub_host",
                "/organiser_institution_id",
                "A provincial competition is organised by its hub's host institution.",
            )
        return hub.host_institution_id, hub.id
    if not principal.is_secretariat:
        raise Forbidden(
            "competition.scope_forbidden",
            f"Only the secretariat creates {data.scope.value} competitions; a hub runs "
            "provincial ones.",
        )
    if data.hub_id is not None:
        raise invalid_field(
            "competition.hub_not_allowed",
            "/hub_id",
            f"A {data.scope.value} competition is not run by a hub.",
        )
    if data.organiser_institution_id is None:
        raise invalid_field(
            "competition.organiser_required",
            "/organiser_institution_id",
            "Name the organising institution.",
        )
    if await InstitutionRepository(session).get(data.organiser_institution_id) is None:
        raise invalid_field(
            "competition.organiser_not_found",
            "/organiser_institution_id",
            "The organising institution does not exist.",
        )
    return data.organiser_institution_id, None


def _check_window(opens_at: datetime | None, closes_at: datetime | None, pointer: str) -> None:
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise invalid_field(
            "competition.window_order", pointer, "The window must close after it opens."
        )


async def create_competition(
    session: AsyncSession, principal: Principal, data: CompetitionCreate
) -> Competition:
    organiser_id, hub_id = await _organiser(session, principal, data)
    _check_window(
        data.registration_opens_at, data.registration_closes_at, "/registration_closes_at"
    )
    competition = Competition(
        code=data.code,
        name=data.name,
        year=data.year,
        scope=data.scope,
        organiser_institution_id=organiser_id,
        hub_id=hub_id,
        theme=data.theme,
        legal_basis=list(data.legal_basis),
        registration_opens_at=data.registration_opens_at,
        registration_closes_at=data.registration_closes_at,
        sdg_required=data.sdg_required,
        publish_scores=data.publish_scores,
        status=CompetitionStatus.draft,
    )
    CompetitionRepository(session).add(competition)
    await session.flush()
    await record_event(session, principal, "create", competition, None, institution_id=organiser_id)
    return competition


async def update_competition(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    data: CompetitionUpdate,
    preconditions: Preconditions,
) -> Competition:
    competition = await run_competition(session, principal, competition_id)
    preconditions.check_match(competition.version, entity="competition")
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "year", "legal_basis", "sdg_required", "publish_scores"):
        if required in changes and changes[required] is None:
            raise invalid_field(
                "competition.field_required", f"/{required}", f"{required} cannot be removed."
            )
    check_final(competition)
    status = competition.status
    if status is not CompetitionStatus.draft:
        allowed = set(PROFILE_FIELDS)
        if status is CompetitionStatus.registration_open:
            allowed.add("registration_closes_at")
        frozen = sorted(set(changes) - allowed)
        if frozen:
            raise Conflict(
                "competition.structure_frozen",
                f"The competition is {status.value}: {', '.join(frozen)} change only while "
                "it is a draft.",
                extra={"current_status": status.value},
            )
        closes_at = changes.get("registration_closes_at")
        if "registration_closes_at" in changes and (closes_at is None or closes_at <= _now()):
            raise invalid_field(
                "competition.deadline_in_past",
                "/registration_closes_at",
                "While registration is open its deadline can move, but not into the past.",
            )
    _check_window(
        changes.get("registration_opens_at", competition.registration_opens_at),
        changes.get("registration_closes_at", competition.registration_closes_at),
        "/registration_closes_at",
    )
    before = audit.snapshot(competition)
    for field, value in changes.items():
        setattr(competition, field, value)
    await session.flush()
    await record_event(
        session,
        principal,
        "update",
        competition,
        before,
        institution_id=competition.organiser_institution_id,
    )
    return competition


async def delete_competition(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    preconditions: Preconditions,
) -> None:
    """Only a draft is deleted (with its structure); a later edition is cancelled instead."""
    competition = await run_competition(session, principal, competition_id)
    preconditions.check_match(competition.version, entity="competition")
    require_status(
        competition.status,
        CompetitionStatus.draft,
        "competition.not_draft",
        f"The competition is {competition.status.value}: cancel it instead "
        "(a draft only is deleted).",
    )
    before = audit.snapshot(competition)
    await CompetitionRepository(session).delete(competition)
    await session.flush()
    await record_event(
        session,
        principal,
        "delete",
        competition,
        before,
        institution_id=competition.organiser_institution_id,
    )


async def readiness_problems(
    session: AsyncSession, competition: Competition
) -> list[ReadinessIssue]:
    """Why registration cannot open yet: one entry per problem (empty when ready)."""
    problems: list[ReadinessIssue] = []

    def problem(code: str, message: str) -> None:
        problems.append(ReadinessIssue(code=code, message=message))

    if competition.registration_opens_at is None or competition.registration_closes_at is None:
        problem(
            "competition.registration_window_missing",
            "Set registration_opens_at and registration_closes_at.",
        )
    elif competition.registration_closes_at <= _now():
        problem(
            "competition.registration_deadline_passed",
            "The registration deadline has already passed.",
        )
    repo = CompetitionRepository(session)
    groups = await repo.groups(competition.id)
    rounds = await repo.rounds(competition.id)
    if not groups:
        problem("competition.no_groups", "Add at least one group.")
    if await repo.count_categories(competition.id) == 0:
        problem("competition.no_categories", "Add at least one category.")
    if not rounds:
        problem("competition.no_rounds", "Add at least one round.")
    sums = await repo.weight_sums(competition.id)
    for round_ in rounds:
        for group in groups:
            total = sums.get((round_.id, group.id))
            if total == 100:
                continue
            described = "has no criteria" if total is None else f"weights sum to {total}"
            problems.append(
                ReadinessIssue(
                    code="competition.weights_not_100",
                    message=f"Round {round_.position} ({round_.name}), group {group.code}: "
                    f"{described}; the weights must sum to 100.",
                    round_id=str(round_.id),
                    group_id=str(group.id),
                    weight_sum=total or 0,
                )
            )
    return problems


async def transition_competition(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    data: CompetitionTransition,
    preconditions: Preconditions,
) -> Competition:
    """Move the edition one step; opening registration needs a complete structure (409 with
    every problem), cancelling a reason."""
    competition = await run_competition(session, principal, competition_id)
    preconditions.check_match(competition.version, entity="competition")
    action = data.action
    step = MACHINE.step(action, competition.status)
    if action is CompetitionAction.cancel and data.reason is None:
        raise invalid_field(
            "competition.reason_required", "/reason", "Say why the competition is cancelled."
        )
    if action is CompetitionAction.open_registration:
        problems = await readiness_problems(session, competition)
        if problems:
            raise Conflict(
                "competition.not_ready",
                join_messages((p["message"] for p in problems), "Registration cannot open:"),
                extra={"problems": problems},
            )
    if action is CompetitionAction.publish_results:
        # Decreeing checks the evaluation and creates the awards.
        await decree(session, principal, competition)
    before = audit.snapshot(competition)
    competition.status = step.reaches
    if action is CompetitionAction.cancel:
        competition.cancellation_reason = data.reason
        competition.cancelled_at = _now()
    await session.flush()
    if action is CompetitionAction.close_registration:
        # Entries never submitted expire.
        await expire_unsubmitted(session, principal, competition)
    await record_event(
        session,
        principal,
        action.value,
        competition,
        before,
        institution_id=competition.organiser_institution_id,
        reason=data.reason,
    )
    return competition


async def close_registrations_past_deadline(session: AsyncSession) -> int:
    """The `competitions.close-registration` job (every five minutes, README "Background jobs"):
    each edition whose registration is open past its `registration_closes_at` closes it, as
    the organiser's `close_registration` would (its entries never submitted expire), recorded
    as `system`. Returns how many closed."""
    closed = 0
    now = dates.now()
    for competition in await CompetitionRepository(session).registration_past_deadline(now):
        step = MACHINE.step(CompetitionAction.close_registration, competition.status)
        before = audit.snapshot(competition)
        competition.status = step.reaches
        await session.flush()
        await expire_unsubmitted(session, None, competition)
        await record_event(
            session,
            None,
            CompetitionAction.close_registration.value,
            competition,
            before,
            institution_id=competition.organiser_institution_id,
        )
        closed += 1
    return closed
