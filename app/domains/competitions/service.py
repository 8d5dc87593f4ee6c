"""Competition editions: who sees and who runs which edition, the status machine, and the
structure (groups, categories, rounds, criteria) that is edited while the edition is a draft.

Opening registration checks the structure as a whole: a registration window ending in the
future, at least one group, category and round, and for every round and group criteria whose
weights sum to 100. Each problem is named in the 409.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import Preconditions
from app.core.errors import (
    Conflict,
    ConstraintError,
    Forbidden,
    NotFound,
    invalid_field,
    invalid_transition,
    join_messages,
    register_constraint_errors,
)
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.competitions.repository import (
    CATEGORY_SORT,
    CRITERION_SORT,
    GROUP_SORT,
    ROUND_SORT,
    CompetitionRepository,
    CompetitionVisibility,
)
from app.domains.competitions.schemas import (
    CategoryCreate,
    CompetitionAction,
    CompetitionCreate,
    CompetitionFilter,
    CompetitionSort,
    CompetitionTransition,
    CompetitionUpdate,
    CriterionCreate,
    GroupCreate,
    RoundCreate,
)
from app.domains.hubs.repository import HubRepository
from app.domains.institutions.repository import InstitutionRepository
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.enums import CompetitionScope, CompetitionStatus, HubKind, HubStatus, Role

T = TypeVar("T", CompetitionGroup, CompetitionCategory, CompetitionRound, RoundCriterion)

register_constraint_errors(
    {
        "uq_competitions_code": ConstraintError(
            409, "competition.duplicate_code", "Another competition has this code.", "/code"
        ),
        "uq_competition_groups_code": ConstraintError(
            409,
            "group.duplicate_code",
            "The competition already has a group with this code.",
            "/code",
        ),
        "uq_competition_categories_code": ConstraintError(
            409,
            "category.duplicate_code",
            "The competition already has a category with this code.",
            "/code",
        ),
        "uq_competition_rounds_position": ConstraintError(
            409,
            "round.duplicate_position",
            "The competition already has a round at this position.",
            "/position",
        ),
        "uq_round_criteria_name": ConstraintError(
            409,
            "criterion.duplicate_name",
            "The round already has a criterion with this name for the group.",
            "/name",
        ),
    }
)

ENTITY_TYPES: dict[type, str] = {
    Competition: "competition",
    CompetitionGroup: "competition_group",
    CompetitionCategory: "competition_category",
    CompetitionRound: "competition_round",
    RoundCriterion: "round_criterion",
}
S = CompetitionStatus
# Each step of the machine: the statuses it leaves, the status it reaches.
TRANSITIONS: dict[CompetitionAction, tuple[frozenset[CompetitionStatus], CompetitionStatus]] = {
    CompetitionAction.open_registration: (frozenset({S.draft}), S.registration_open),
    CompetitionAction.close_registration: (
        frozenset({S.registration_open}),
        S.registration_closed,
    ),
    CompetitionAction.start_evaluation: (frozenset({S.registration_closed}), S.evaluation),
    CompetitionAction.publish_results: (frozenset({S.evaluation}), S.results_published),
    CompetitionAction.close: (frozenset({S.results_published}), S.closed),
    CompetitionAction.cancel: (
        frozenset({S.draft, S.registration_open, S.registration_closed, S.evaluation}),
        S.cancelled,
    ),
}
# What may change after the draft: until closed, the profile; while registration is open, the
# deadline too.
PROFILE_FIELDS = frozenset({"name", "theme", "legal_basis", "publish_scores"})
FINAL_STATUSES = frozenset({S.closed, S.cancelled})


def _now() -> datetime:
    return datetime.now(UTC)


# --- who sees and who runs ------------------------------------------------------------------


def visibility_for(principal: Principal | None) -> CompetitionVisibility:
    """Editions past their draft are public; a draft is the secretariat's and, for a provincial
    edition, its hub admins'."""
    if principal is None:
        return CompetitionVisibility()
    if principal.is_secretariat:
        return CompetitionVisibility(everything=True)
    if principal.role is Role.hub_admin:
        return CompetitionVisibility(hub_id=principal.hub_id)
    return CompetitionVisibility()


def runs(principal: Principal | None, competition: Competition) -> bool:
    """The secretariat runs every edition; a hub admin its own hub's provincial ones."""
    if principal is None:
        return False
    return principal.is_secretariat or (
        principal.role is Role.hub_admin
        and competition.hub_id is not None
        and competition.hub_id == principal.hub_id
    )


def _not_found(competition_id: uuid.UUID) -> NotFound:
    return NotFound("competition.not_found", f"No competition has the id {competition_id}.")


async def get_competition(
    session: AsyncSession,
    principal: Principal | None,
    competition_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Competition:
    """The edition if the caller may see it; 404 otherwise."""
    competition = await CompetitionRepository(session).get(competition_id, for_update=for_update)
    if competition is None or not visibility_for(principal).admits(competition):
        raise _not_found(competition_id)
    return competition


def out_of_scope() -> Forbidden:
    return Forbidden(
        "competition.out_of_scope",
        "This competition is run by the secretariat or by its own hub's admins.",
    )


async def _run_competition(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID
) -> Competition:
    """Lock the edition for a write: 404 if the caller may not see it, 403 if it sees it but
    does not run it."""
    competition = await get_competition(session, principal, competition_id, for_update=True)
    if not runs(principal, competition):
        raise out_of_scope()
    return competition


def _check_final(competition: Competition) -> None:
    if competition.status in FINAL_STATUSES:
        raise Conflict(
            "competition.final",
            f"The competition is {competition.status.value}: it no longer changes.",
            extra={"current_status": competition.status.value},
        )


def _check_draft(competition: Competition) -> None:
    _check_final(competition)
    if competition.status is not CompetitionStatus.draft:
        raise Conflict(
            "competition.structure_frozen",
            f"The competition is {competition.status.value}: its rules and structure (groups, "
            "categories, rounds, criteria) change only while it is a draft.",
            extra={"current_status": competition.status.value},
        )


async def _audit(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    record: Any,
    before: audit.Snapshot | None,
    *,
    institution_id: uuid.UUID,
    reason: str | None = None,
) -> None:
    """One event; an edition's records belong to its organiser. An update that changed
    nothing (an empty PATCH, or one repeating the stored values) leaves none."""
    after = None if action == "delete" else audit.snapshot(record)
    changes = audit.diff(before, after)
    if action == "update" and not changes:
        return
    await audit.record(
        session,
        actor,
        action,
        ENTITY_TYPES[type(record)],
        record.id,
        institution_id=institution_id,
        changes=changes,
        reason=reason,
    )


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
    await _audit(session, principal, "create", competition, None, institution_id=organiser_id)
    return competition


async def update_competition(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    data: CompetitionUpdate,
    preconditions: Preconditions,
) -> Competition:
    competition = await _run_competition(session, principal, competition_id)
    preconditions.check_match(competition.version, entity="competition")
    changes = data.model_dump(exclude_unset=True)
    for required in ("name", "year", "legal_basis", "sdg_required", "publish_scores"):
        if required in changes and changes[required] is None:
            raise invalid_field(
                "competition.field_required", f"/{required}", f"{required} cannot be removed."
            )
    _check_final(competition)
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
    await _audit(
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
    competition = await _run_competition(session, principal, competition_id)
    preconditions.check_match(competition.version, entity="competition")
    if competition.status is not CompetitionStatus.draft:
        raise Conflict(
            "competition.not_draft",
            f"The competition is {competition.status.value}: cancel it instead "
            "(a draft only is deleted).",
            extra={"current_status": competition.status.value},
        )
    before = audit.snapshot(competition)
    await CompetitionRepository(session).delete(competition)
    await session.flush()
    await _audit(
        session,
        principal,
        "delete",
        competition,
        before,
        institution_id=competition.organiser_institution_id,
    )


async def readiness_problems(
    session: AsyncSession, competition: Competition
) -> list[dict[str, Any]]:
    """Why registration cannot open yet: one entry per problem (empty when ready)."""
    problems: list[dict[str, Any]] = []

    def problem(code: str, message: str, **where: Any) -> None:
        problems.append({"code": code, "message": message, **where})

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
            problem(
                "competition.weights_not_100",
                f"Round {round_.position} ({round_.name}), group {group.code}: {described}; "
                "the weights must sum to 100.",
                round_id=str(round_.id),
                group_id=str(group.id),
                weight_sum=total or 0,
            )
    return problems


def _check_step(competition: Competition, action: CompetitionAction) -> None:
    sources, _ = TRANSITIONS[action]
    if competition.status in sources:
        return
    allowed = [a.value for a, (s, _) in TRANSITIONS.items() if competition.status in s]
    raise invalid_transition(
        "competition.invalid_transition",
        action.value,
        "the competition",
        competition.status.value,
        allowed,
        targets={a.value: target.value for a, (_, target) in TRANSITIONS.items()},
    )


async def transition_competition(
    session: AsyncSession,
    principal: Principal,
    competition_id: uuid.UUID,
    data: CompetitionTransition,
    preconditions: Preconditions,
) -> Competition:
    """Move the edition one step; opening registration needs a complete structure (409 with
    every problem), cancelling a reason."""
    competition = await _run_competition(session, principal, competition_id)
    preconditions.check_match(competition.version, entity="competition")
    action = data.action
    _check_step(competition, action)
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
        # Decreeing checks the evaluation and creates the awards (imported here: results build
        # on competitions).
        from app.domains.results.service import decree

        await decree(session, principal, competition)
    before = audit.snapshot(competition)
    competition.status = TRANSITIONS[action][1]
    if action is CompetitionAction.cancel:
        competition.cancellation_reason = data.reason
        competition.cancelled_at = _now()
    await session.flush()
    if action is CompetitionAction.close_registration:
        # Entries never submitted expire (imported here: submissions build on competitions).
        from app.domains.submissions.service import expire_unsubmitted

        await expire_unsubmitted(session, principal, competition)
    await _audit(
        session,
        principal,
        action.value,
        competition,
        before,
        institution_id=competition.organiser_institution_id,
        reason=data.reason,
    )
    return competition


# --- structure: groups, categories, rounds, criteria ---------------------------------------


@dataclass(frozen=True)
class PartKind(Generic[T]):
    """One kind of structure part: its table, its name in codes and `If-Match` (`group`), the
    fields a PATCH may not remove, the attribute its path names beside it (a group's
    competition, a criterion's round; a round's path names only the round), and the check a
    PATCH's merged values must pass."""

    model: type[T]
    name: str
    required: tuple[str, ...]
    parent: str | None
    check: Callable[[T, dict[str, Any]], None] | None = None

    @property
    def not_found_code(self) -> str:
        return f"{self.name}.not_found"


async def _part(
    session: AsyncSession,
    principal: Principal | None,
    model: type[T],
    part_id: uuid.UUID,
    code: str,
    *,
    for_update: bool = False,
) -> tuple[T, Competition]:
    """A part of an edition the caller may see, with its edition; 404 otherwise."""
    part = await CompetitionRepository(session).get_part(model, part_id, for_update=for_update)
    if part is None:
        raise NotFound(code, f"No {ENTITY_TYPES[model].replace('_', ' ')} has the id {part_id}.")
    competition = await CompetitionRepository(session).get(part.competition_id)
    if competition is None or not visibility_for(principal).admits(competition):
        raise NotFound(code, f"No {ENTITY_TYPES[model].replace('_', ' ')} has the id {part_id}.")
    return part, competition


async def get_part(
    session: AsyncSession,
    principal: Principal | None,
    kind: PartKind[T],
    part_id: uuid.UUID,
    parent_id: uuid.UUID | None = None,
) -> T:
    """A part the caller may see, under the parent its path names; 404 otherwise."""
    part, _ = await _part(session, principal, kind.model, part_id, kind.not_found_code)
    if kind.parent is not None and getattr(part, kind.parent) != parent_id:
        raise NotFound(kind.not_found_code, f"No {kind.name} has the id {part_id}.")
    return part


async def _writable_part(
    session: AsyncSession,
    principal: Principal,
    kind: PartKind[T],
    part_id: uuid.UUID,
    parent_id: uuid.UUID | None = None,
) -> tuple[T, Competition]:
    """Lock a part for a write: 404 if unseen, 403 if its edition is not the caller's to run,
    409 unless the edition is a draft."""
    part = await get_part(session, principal, kind, part_id, parent_id)
    competition = await _run_competition(session, principal, part.competition_id)
    _check_draft(competition)
    part, _ = await _part(
        session, principal, kind.model, part_id, kind.not_found_code, for_update=True
    )
    return part, competition


async def _add_part(
    session: AsyncSession, principal: Principal, competition: Competition, part: Any
) -> None:
    CompetitionRepository(session).add(part)
    await session.flush()
    await _audit(
        session,
        principal,
        "create",
        part,
        None,
        institution_id=competition.organiser_institution_id,
    )


async def update_part(
    session: AsyncSession,
    principal: Principal,
    kind: PartKind[T],
    part_id: uuid.UUID,
    parent_id: uuid.UUID | None,
    data: BaseModel,
    preconditions: Preconditions,
) -> T:
    """Change a part of a draft edition."""
    part, competition = await _writable_part(session, principal, kind, part_id, parent_id)
    preconditions.check_match(part.version, entity=kind.name)
    changes = data.model_dump(exclude_unset=True)
    for field in kind.required:
        if field in changes and changes[field] is None:
            raise invalid_field(
                f"{kind.name}.field_required", f"/{field}", f"{field} cannot be removed."
            )
    if kind.check is not None:
        kind.check(part, changes)
    before = audit.snapshot(part)
    for field, value in changes.items():
        setattr(part, field, value)
    await session.flush()
    await _audit(
        session,
        principal,
        "update",
        part,
        before,
        institution_id=competition.organiser_institution_id,
    )
    return part


async def delete_part(
    session: AsyncSession,
    principal: Principal,
    kind: PartKind[T],
    part_id: uuid.UUID,
    parent_id: uuid.UUID | None,
    preconditions: Preconditions,
) -> None:
    """Delete a part of a draft edition (a group or round goes with its criteria: nobody has
    entered yet)."""
    part, competition = await _writable_part(session, principal, kind, part_id, parent_id)
    preconditions.check_match(part.version, entity=kind.name)
    before = audit.snapshot(part)
    await CompetitionRepository(session).delete(part)
    await session.flush()
    await _audit(
        session,
        principal,
        "delete",
        part,
        before,
        institution_id=competition.organiser_institution_id,
    )


def _check_group_rules(requires_source: bool, source_tiers: list[str]) -> None:
    if source_tiers and not requires_source:
        raise invalid_field(
            "group.source_tiers_without_replication",
            "/source_award_tiers",
            "Source award tiers apply to a replication group (requires_source_innovation).",
        )


def _check_round(opens_at: datetime | None, closes_at: datetime | None) -> None:
    """A round's window, if set, closes after it opens (a quota, a passing grade, both or
    neither: a round may decide by hand, as screening does)."""
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise invalid_field(
            "round.window_order", "/closes_at", "The round must close after it opens."
        )


def _check_scores(min_score: int, max_score: int) -> None:
    if max_score <= min_score:
        raise invalid_field(
            "criterion.score_range", "/max_score", "max_score must be above min_score."
        )


GROUP = PartKind(
    CompetitionGroup,
    "group",
    (
        "code",
        "name",
        "min_implementation_months",
        "ineligible_award_tiers",
        "requires_source_innovation",
        "source_award_tiers",
    ),
    "competition_id",
    lambda group, changes: _check_group_rules(
        changes.get("requires_source_innovation", group.requires_source_innovation),
        changes.get("source_award_tiers", group.source_award_tiers),
    ),
)
CATEGORY = PartKind(CompetitionCategory, "category", ("code", "name"), "competition_id")
ROUND = PartKind(
    CompetitionRound,
    "round",
    ("position", "kind", "name", "spread_threshold", "normalise_scores"),
    None,
    lambda round_, changes: _check_round(
        changes.get("opens_at", round_.opens_at), changes.get("closes_at", round_.closes_at)
    ),
)
CRITERION = PartKind(
    RoundCriterion,
    "criterion",
    ("position", "name", "weight", "min_score", "max_score"),
    "round_id",
    lambda criterion, changes: _check_scores(
        changes.get("min_score", criterion.min_score),
        changes.get("max_score", criterion.max_score),
    ),
)


async def list_parts(
    session: AsyncSession,
    principal: Principal | None,
    competition_id: uuid.UUID,
    model: type[Any],
    page: PageRequest,
) -> PageResult[Any]:
    await get_competition(session, principal, competition_id)
    sort = {
        CompetitionGroup: GROUP_SORT,
        CompetitionCategory: CATEGORY_SORT,
        CompetitionRound: ROUND_SORT,
    }[model]
    return await CompetitionRepository(session).page_of(
        model,
        sort,
        page,
        f"{ENTITY_TYPES[model]}:{competition_id}",
        model.competition_id == competition_id,
    )


async def create_group(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, data: GroupCreate
) -> CompetitionGroup:
    competition = await _run_competition(session, principal, competition_id)
    _check_draft(competition)
    _check_group_rules(data.requires_source_innovation, data.source_award_tiers)
    group = CompetitionGroup(competition_id=competition.id, **to_jsonable_python(data.model_dump()))
    await _add_part(session, principal, competition, group)
    return group


async def create_category(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, data: CategoryCreate
) -> CompetitionCategory:
    competition = await _run_competition(session, principal, competition_id)
    _check_draft(competition)
    category = CompetitionCategory(competition_id=competition.id, **data.model_dump())
    await _add_part(session, principal, competition, category)
    return category


async def create_round(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, data: RoundCreate
) -> CompetitionRound:
    competition = await _run_competition(session, principal, competition_id)
    _check_draft(competition)
    _check_round(data.opens_at, data.closes_at)
    position = data.position or await CompetitionRepository(session).next_round_position(
        competition.id
    )
    if position > 20:
        raise invalid_field("round.too_many", "/position", "A competition has at most 20 rounds.")
    round_ = CompetitionRound(
        competition_id=competition.id, **{**data.model_dump(), "position": position}
    )
    await _add_part(session, principal, competition, round_)
    return round_


async def list_criteria(
    session: AsyncSession,
    principal: Principal | None,
    round_id: uuid.UUID,
    group_id: uuid.UUID | None,
    page: PageRequest,
) -> PageResult[RoundCriterion]:
    await get_part(session, principal, ROUND, round_id)
    conditions = [RoundCriterion.round_id == round_id]
    if group_id is not None:
        conditions.append(RoundCriterion.group_id == group_id)
    return await CompetitionRepository(session).page_of(
        RoundCriterion, CRITERION_SORT, page, f"round_criterion:{round_id}:{group_id}", *conditions
    )


async def create_criterion(
    session: AsyncSession, principal: Principal, round_id: uuid.UUID, data: CriterionCreate
) -> RoundCriterion:
    round_, competition = await _writable_part(session, principal, ROUND, round_id)
    group = await CompetitionRepository(session).get_part(CompetitionGroup, data.group_id)
    if group is None or group.competition_id != competition.id:
        raise invalid_field(
            "criterion.group_not_found", "/group_id", "The group is not one of this competition's."
        )
    _check_scores(data.min_score, data.max_score)
    position = data.position or await CompetitionRepository(session).next_criterion_position(
        round_.id, group.id
    )
    if position > 100:
        raise invalid_field(
            "criterion.too_many", "/position", "A round has at most 100 criteria per group."
        )
    criterion = RoundCriterion(
        competition_id=competition.id,
        round_id=round_.id,
        **{**data.model_dump(), "position": position},
    )
    await _add_part(session, principal, competition, criterion)
    return criterion
