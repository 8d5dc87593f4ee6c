"""Who sees and who runs a competition edition, and the guards every write of an edition or
its structure passes: the edition is not final, its structure is a draft; one audit event each.

Results, submissions and evaluation ask this module, never the editions' service, so every
import between the domains points one way."""

from __future__ import annotations

import uuid
from functools import partial
from typing import TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
)
from app.core.lifecycle import require_status, visible_or_404
from app.core.security import Principal
from app.domains.audit import service as audit
from app.domains.competitions.repository import (
    CompetitionRepository,
    CompetitionVisibility,
    StructurePart,
)
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.enums import CompetitionStatus, Role

ENTITY_TYPES: dict[type, str] = {
    Competition: "competition",
    CompetitionGroup: "competition_group",
    CompetitionCategory: "competition_category",
    CompetitionRound: "competition_round",
    RoundCriterion: "round_criterion",
}
# What an edition's audit events are about: the edition or a part of its structure.
EditionRecord: TypeAlias = Competition | StructurePart
FINAL_STATUSES = frozenset({CompetitionStatus.closed, CompetitionStatus.cancelled})


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


def not_found(competition_id: uuid.UUID) -> NotFound:
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
    return visible_or_404(
        competition, visibility_for(principal).admits, partial(not_found, competition_id)
    )


def out_of_scope() -> Forbidden:
    return Forbidden(
        "competition.out_of_scope",
        "This competition is run by the secretariat or by its own hub's admins.",
    )


async def run_competition(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID
) -> Competition:
    """Lock the edition for a write: 404 if the caller may not see it, 403 if it sees it but
    does not run it."""
    competition = await get_competition(session, principal, competition_id, for_update=True)
    if not runs(principal, competition):
        raise out_of_scope()
    return competition


def check_final(competition: Competition) -> None:
    if competition.status in FINAL_STATUSES:
        raise Conflict(
            "competition.final",
            f"The competition is {competition.status.value}: it no longer changes.",
            extra={"current_status": competition.status.value},
        )


def check_draft(competition: Competition) -> None:
    check_final(competition)
    require_status(
        competition.status,
        CompetitionStatus.draft,
        "competition.structure_frozen",
        f"The competition is {competition.status.value}: its rules and structure (groups, "
        "categories, rounds, criteria) change only while it is a draft.",
    )


async def record_event(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    record: EditionRecord,
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
