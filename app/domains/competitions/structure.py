"""An edition's structure: groups, categories, rounds and criteria, edited while the edition is
a draft (their endpoints come from one typed router factory)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import Preconditions
from app.core.errors import (
    ConstraintError,
    NotFound,
    invalid_field,
    register_constraint_errors,
)
from app.core.lifecycle import visible_or_404
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult, SortKey
from app.domains.audit import service as audit
from app.domains.competitions.access import (
    ENTITY_TYPES,
    check_draft,
    get_competition,
    record_event,
    run_competition,
    visibility_for,
)
from app.domains.competitions.repository import (
    CATEGORY_SORT,
    CRITERION_SORT,
    GROUP_SORT,
    ROUND_SORT,
    CompetitionRepository,
    PartT,
    StructurePart,
)
from app.domains.competitions.schemas import (
    CategoryCreate,
    CriterionCreate,
    GroupCreate,
    RoundCreate,
)
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)

register_constraint_errors(
    {
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


# --- structure: groups, categories, rounds, criteria ---------------------------------------


@dataclass(frozen=True)
class PartKind(Generic[PartT]):
    """One kind of structure part: its table, its name in codes and `If-Match` (`group`), the
    fields a PATCH may not remove, the attribute its path names beside it (a group's
    competition, a criterion's round; a round's path names only the round), the order of its
    lists, and the check a PATCH's merged values must pass."""

    model: type[PartT]
    name: str
    required: tuple[str, ...]
    parent: str | None
    sort: SortKey
    check: Callable[[PartT, dict[str, Any]], None] | None = None

    @property
    def not_found_code(self) -> str:
        return f"{self.name}.not_found"


async def _part(
    session: AsyncSession,
    principal: Principal | None,
    model: type[PartT],
    part_id: uuid.UUID,
    code: str,
    *,
    for_update: bool = False,
) -> tuple[PartT, Competition]:
    """A part of an edition the caller may see, with its edition; 404 otherwise."""

    def not_found() -> NotFound:
        return NotFound(code, f"No {ENTITY_TYPES[model].replace('_', ' ')} has the id {part_id}.")

    repository = CompetitionRepository(session)
    part = await repository.get_part(model, part_id, for_update=for_update)
    if part is None:
        raise not_found()
    competition = await repository.get(part.competition_id)
    return part, visible_or_404(competition, visibility_for(principal).admits, not_found)


async def get_part(
    session: AsyncSession,
    principal: Principal | None,
    kind: PartKind[PartT],
    part_id: uuid.UUID,
    parent_id: uuid.UUID | None = None,
) -> PartT:
    """A part the caller may see, under the parent its path names; 404 otherwise."""
    part, _ = await _part(session, principal, kind.model, part_id, kind.not_found_code)
    if kind.parent is not None and getattr(part, kind.parent) != parent_id:
        raise NotFound(kind.not_found_code, f"No {kind.name} has the id {part_id}.")
    return part


async def _writable_part(
    session: AsyncSession,
    principal: Principal,
    kind: PartKind[PartT],
    part_id: uuid.UUID,
    parent_id: uuid.UUID | None = None,
) -> tuple[PartT, Competition]:
    """Lock a part for a write: 404 if unseen, 403 if its edition is not the caller's to run,
    409 unless the edition is a draft."""
    part = await get_part(session, principal, kind, part_id, parent_id)
    competition = await run_competition(session, principal, part.competition_id)
    check_draft(competition)
    part, _ = await _part(
        session, principal, kind.model, part_id, kind.not_found_code, for_update=True
    )
    return part, competition


async def _add_part(
    session: AsyncSession, principal: Principal, competition: Competition, part: StructurePart
) -> None:
    CompetitionRepository(session).add_part(part)
    await session.flush()
    await record_event(
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
    kind: PartKind[PartT],
    part_id: uuid.UUID,
    parent_id: uuid.UUID | None,
    data: BaseModel,
    preconditions: Preconditions,
) -> PartT:
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
    await record_event(
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
    kind: PartKind[PartT],
    part_id: uuid.UUID,
    parent_id: uuid.UUID | None,
    preconditions: Preconditions,
) -> None:
    """Delete a part of a draft edition (a group or round goes with its criteria: nobody has
    entered yet)."""
    part, competition = await _writable_part(session, principal, kind, part_id, parent_id)
    preconditions.check_match(part.version, entity=kind.name)
    before = audit.snapshot(part)
    await CompetitionRepository(session).delete_part(part)
    await session.flush()
    await record_event(
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
    GROUP_SORT,
    lambda group, changes: _check_group_rules(
        changes.get("requires_source_innovation", group.requires_source_innovation),
        changes.get("source_award_tiers", group.source_award_tiers),
    ),
)
CATEGORY = PartKind(
    CompetitionCategory, "category", ("code", "name"), "competition_id", CATEGORY_SORT
)
ROUND = PartKind(
    CompetitionRound,
    "round",
    ("position", "kind", "name", "spread_threshold", "normalise_scores"),
    None,
    ROUND_SORT,
    lambda round_, changes: _check_round(
        changes.get("opens_at", round_.opens_at), changes.get("closes_at", round_.closes_at)
    ),
)
CRITERION = PartKind(
    RoundCriterion,
    "criterion",
    ("position", "name", "weight", "min_score", "max_score"),
    "round_id",
    CRITERION_SORT,
    lambda criterion, changes: _check_scores(
        changes.get("min_score", criterion.min_score),
        changes.get("max_score", criterion.max_score),
    ),
)


async def list_parts(
    session: AsyncSession,
    principal: Principal | None,
    competition_id: uuid.UUID,
    kind: PartKind[PartT],
    page: PageRequest,
) -> PageResult[PartT]:
    """An edition's parts of one kind (groups, categories or rounds) in the kind's order."""
    await get_competition(session, principal, competition_id)
    return await CompetitionRepository(session).page_of(
        kind.model,
        kind.sort,
        page,
        f"{ENTITY_TYPES[kind.model]}:{competition_id}",
        kind.model.competition_id == competition_id,
    )


async def create_group(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, data: GroupCreate
) -> CompetitionGroup:
    competition = await run_competition(session, principal, competition_id)
    check_draft(competition)
    _check_group_rules(data.requires_source_innovation, data.source_award_tiers)
    group = CompetitionGroup(competition_id=competition.id, **to_jsonable_python(data.model_dump()))
    await _add_part(session, principal, competition, group)
    return group


async def create_category(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, data: CategoryCreate
) -> CompetitionCategory:
    competition = await run_competition(session, principal, competition_id)
    check_draft(competition)
    category = CompetitionCategory(competition_id=competition.id, **data.model_dump())
    await _add_part(session, principal, competition, category)
    return category


async def create_round(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, data: RoundCreate
) -> CompetitionRound:
    competition = await run_competition(session, principal, competition_id)
    check_draft(competition)
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
        RoundCriterion, CRITERION.sort, page, f"round_criterion:{round_id}:{group_id}", *conditions
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
