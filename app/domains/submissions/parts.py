"""The parts an entry names: its edition, group and category, the innovation it enters, the
source a replication group's entry replicates, and its answers to the first round's criteria.
Each is checked when the entry is written (a 422 naming the field; 403 for another's
innovation); the edition's entry rules come later, when it is sent (rules.py)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Forbidden, invalid_field
from app.core.security import Principal
from app.domains.competitions import access as competitions
from app.domains.submissions.repository import SubmissionRepository
from app.domains.submissions.schemas import Answer
from app.models.competitions import Competition, CompetitionGroup
from app.models.enums import InnovationStatus
from app.models.innovations import Innovation
from app.models.submissions import SubmissionAnswer


async def competition_for_entry(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID
) -> Competition:
    """The edition a new entry names, locked shared (see `access.load`), if the caller sees it."""
    competition = await SubmissionRepository(session).edition(competition_id, lock=True)
    if competition is None or not competitions.visibility_for(principal).admits(competition):
        raise invalid_field(
            "submission.competition_not_found",
            "/competition_id",
            f"No competition has the id {competition_id}.",
        )
    return competition


async def group_of(
    session: AsyncSession, competition: Competition, group_id: uuid.UUID
) -> CompetitionGroup:
    """The entry's group, one of its edition's."""
    group = await SubmissionRepository(session).group(group_id)
    if group is None or group.competition_id != competition.id:
        raise invalid_field(
            "submission.group_not_found", "/group_id", "The group is not one of this competition's."
        )
    return group


async def check_category(
    session: AsyncSession, competition: Competition, category_id: uuid.UUID
) -> None:
    category = await SubmissionRepository(session).category(category_id)
    if category is None or category.competition_id != competition.id:
        raise invalid_field(
            "submission.category_not_found",
            "/category_id",
            "The category is not one of this competition's.",
        )


async def own_innovation(
    session: AsyncSession, principal: Principal, innovation_id: uuid.UUID
) -> Innovation:
    """The innovation entered: the caller's own (its unit's; a local admin's institution's),
    not archived."""
    innovation = await SubmissionRepository(session).innovation(innovation_id)
    if innovation is None:
        raise invalid_field(
            "submission.innovation_not_found",
            "/innovation_id",
            f"No innovation has the id {innovation_id}.",
        )
    if not principal.acts_for(innovation.institution_id, innovation.unit_id):
        raise Forbidden(
            "submission.out_of_scope",
            "Enter one of your own unit's innovations (a local admin: its institution's).",
        )
    if innovation.status is InnovationStatus.archived:
        raise invalid_field(
            "submission.innovation_archived",
            "/innovation_id",
            "An archived innovation cannot be entered.",
        )
    return innovation


async def check_source(
    session: AsyncSession,
    group: CompetitionGroup,
    innovation_id: uuid.UUID,
    source_id: uuid.UUID | None,
) -> None:
    if source_id is None:
        return
    if not group.requires_source_innovation:
        raise invalid_field(
            "submission.source_not_allowed",
            "/source_innovation_id",
            f"The group {group.code} is not a replication group: it takes no source innovation.",
        )
    source = await SubmissionRepository(session).innovation(source_id)
    if (
        source_id == innovation_id
        or source is None
        or source.status is not InnovationStatus.published
    ):
        raise invalid_field(
            "submission.source_invalid",
            "/source_innovation_id",
            "The source is another, published innovation: the one the entry replicates.",
        )


async def answer_rows(
    session: AsyncSession,
    competition: Competition,
    group: CompetitionGroup,
    submission_id: uuid.UUID,
    answers: list[Answer],
) -> list[SubmissionAnswer]:
    """The answers as rows, each to a criterion of the edition's first round for the group."""
    criteria = await SubmissionRepository(session).first_round_criteria(competition.id, group.id)
    known = {c.id for c in criteria}
    seen: set[uuid.UUID] = set()
    rows = []
    for index, answer in enumerate(answers):
        pointer = f"/answers/{index}/criterion_id"
        if answer.criterion_id not in known:
            raise invalid_field(
                "submission.unknown_criterion",
                pointer,
                "Not a criterion of the competition's first round for this group.",
            )
        if answer.criterion_id in seen:
            raise invalid_field(
                "submission.duplicate_answer", pointer, "This criterion is answered twice."
            )
        seen.add(answer.criterion_id)
        rows.append(
            SubmissionAnswer(
                submission_id=submission_id,
                criterion_id=answer.criterion_id,
                text=answer.text,
                evidence_links=list(answer.evidence_links),
            )
        )
    return rows
