"""The decree and awards (docs/evaluation.md): decreeing the results (the edition's
`publish_results` step) needs every round closed, every objection window over and every
objection decided, and creates one award per entry holding a tier: the permanent record that
later editions' entry rules read. Historic awards, won before this service, are recorded by
hand.

The editions' service calls `decree`; this module imports nothing of it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.errors import Conflict, NotFound, Unprocessable, field_error, join_messages
from app.core.lifecycle import visible_or_404
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.competitions.repository import CompetitionRepository
from app.domains.innovations.service import visibility_for as catalogue_visibility
from app.domains.notifications import audience, events
from app.domains.results.repository import (
    AnnouncementRepository,
    AwardFilter,
    AwardRepository,
    ObjectionRepository,
)
from app.domains.results.schemas import AwardCreate
from app.models.competitions import Competition
from app.models.enums import AnnouncementKind, InnovationStatus, RoundStatus
from app.models.submissions import Award


def tier_label(tier: str) -> str:
    """`top_45` -> `Top 45`."""
    return tier.replace("_", " ").title()


# --- the decree -----------------------------------------------------------------------------


async def decree_problems(session: AsyncSession, competition: Competition) -> list[dict[str, str]]:
    """Why the results cannot be decreed yet, each `{code, message}` (empty: they can)."""
    problems: list[dict[str, str]] = []

    def problem(code: str, message: str) -> None:
        problems.append({"code": code, "message": message})

    rounds = await CompetitionRepository(session).rounds(competition.id)
    still_open = [r for r in rounds if r.status is RoundStatus.open]
    if still_open:
        problem(
            "competition.rounds_open",
            "Rounds still open: " + ", ".join(f"{r.position} ({r.name})" for r in still_open) + ".",
        )
    now = dates.now()
    announcements = await AnnouncementRepository(session).of_competition(competition.id)
    if any(a.objection_days > 0 and now <= a.objections_close_at for a in announcements):
        problem(
            "competition.objection_window_open",
            "An announcement's objection window is still open.",
        )
    pending = await ObjectionRepository(session).count_pending(competition.id)
    if pending:
        problem("competition.objections_pending", f"{pending} objections are not decided.")
    tiered = await AwardRepository(session).count_holders(competition.id)
    finals = [a for a in announcements if a.kind is AnnouncementKind.final_results]
    if tiered and not finals:
        problem("competition.final_results_missing", "The final results have not been announced.")
    return problems


async def decree(session: AsyncSession, principal: Principal, competition: Competition) -> None:
    """The `publish_results` step: refused (409) with every reason; otherwise one award per
    entry holding a tier."""
    problems = await decree_problems(session, competition)
    if problems:
        raise Conflict(
            "competition.results_not_ready",
            join_messages([p["message"] for p in problems], "The results cannot be decreed:"),
            extra={"problems": problems},
        )
    for submission in await AwardRepository(session).holders(competition.id):
        assert submission.final_tier is not None
        award = await _add_award(
            session,
            principal,
            Award(
                innovation_id=submission.innovation_id,
                institution_id=submission.institution_id,
                competition_id=competition.id,
                submission_id=submission.id,
                tier=submission.final_tier,
                year=competition.year,
                title=f"{tier_label(submission.final_tier)} {competition.name}"[:200],
            ),
        )
        # Awards are public; the winners' local admins and unit operators are told.
        await events.emit(
            session,
            "award.granted",
            "award",
            award.id,
            audience=[
                audience.local_admins(submission.institution_id),
                audience.unit_operators(submission.unit_id),
            ],
            actor=principal,
            institution_id=submission.institution_id,
            data={"award": tier_label(submission.final_tier)},
            refs={"competition": competition.id, "innovation": submission.innovation_id},
        )


# --- awards ---------------------------------------------------------------------------------


async def _add_award(session: AsyncSession, principal: Principal, award: Award) -> Award:
    """Store an award and its audit event (it belongs to the winning institution)."""
    AwardRepository(session).add(award)
    await session.flush()
    await audit.record(
        session,
        principal,
        "create",
        "award",
        award.id,
        institution_id=award.institution_id,
        after=audit.snapshot(award),
    )
    return award


async def create_award(session: AsyncSession, principal: Principal, data: AwardCreate) -> Award:
    """A historic award; it belongs to the innovation's institution."""
    innovation = await AwardRepository(session).innovation(data.innovation_id)
    if innovation is None:
        raise Unprocessable(
            "award.unknown_innovation",
            f"No innovation has the id {data.innovation_id}.",
            errors=[field_error("/innovation_id", "award.unknown_innovation", "No such one.")],
        )
    return await _add_award(
        session,
        principal,
        Award(
            innovation_id=innovation.id,
            institution_id=innovation.institution_id,
            competition_id=None,
            tier=data.tier,
            year=data.year,
            title=data.title,
        ),
    )


async def get_award(session: AsyncSession, award_id: uuid.UUID) -> Award:
    award = await AwardRepository(session).get(award_id)
    if award is None:
        raise NotFound("award.not_found", f"No award has the id {award_id}.")
    return award


async def list_awards(
    session: AsyncSession,
    page: PageRequest,
    *,
    competition_id: uuid.UUID | None,
    innovation_id: uuid.UUID | None,
    institution_id: uuid.UUID | None,
    year: int | None,
    tier: str | None,
) -> PageResult[Award]:
    filters = AwardFilter(
        competition_id=competition_id,
        innovation_id=innovation_id,
        institution_id=institution_id,
        year=year,
        tier=tier,
    )
    return await AwardRepository(session).page(filters, page)


async def innovation_awards(
    session: AsyncSession, principal: Principal | None, innovation_id: uuid.UUID
) -> list[Award]:
    """The award history of an innovation the caller may see; 404 otherwise."""
    repository = AwardRepository(session)
    visibility = catalogue_visibility(principal)
    visible_or_404(
        await repository.innovation(innovation_id),
        lambda innovation: visibility.admits(
            InnovationStatus(innovation.status), innovation.institution_id, innovation.unit_id
        ),
        lambda: NotFound("innovation.not_found", f"No innovation has the id {innovation_id}."),
    )
    return await repository.of_innovation(innovation_id)
