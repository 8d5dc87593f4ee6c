"""Who sees which entry, the one way an entry is loaded for a read or a write, and an entry's
audit event. The entries' reads and writes, rules and flow all load through here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.lifecycle import visible_or_404
from app.core.security import Principal
from app.domains.audit import service as audit
from app.domains.submissions.repository import SubmissionRepository, SubmissionVisibility
from app.models.competitions import Competition
from app.models.enums import Role
from app.models.submissions import Submission

ENTITY = "submission"


def visibility_for(principal: Principal | None) -> SubmissionVisibility:
    if principal is None:
        return SubmissionVisibility()
    if principal.is_secretariat:
        return SubmissionVisibility(everything=True)
    if principal.role is Role.hub_admin:
        return SubmissionVisibility(hub_id=principal.hub_id)
    if principal.role in (Role.unit_operator, Role.local_admin, Role.regional_system):
        return SubmissionVisibility(institution_id=principal.institution_id)
    return SubmissionVisibility()


def not_found(submission_id: uuid.UUID) -> NotFound:
    return NotFound("submission.not_found", f"No submission has the id {submission_id}.")


@dataclass
class Loaded:
    """An entry with its edition, as every read and write of it starts."""

    submission: Submission
    competition: Competition


async def load(
    session: AsyncSession,
    principal: Principal | None,
    submission_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> Loaded:
    """The entry and its edition if the caller may see it; 404 otherwise.

    A write locks the edition (shared: its status cannot move under the write, and closing
    registration waits for the write and then expires what it left unsubmitted), then the
    entry. Closing registration locks the edition first too, so the two never deadlock."""
    repo = SubmissionRepository(session)
    submission = await repo.get(submission_id)
    competition = (
        None
        if submission is None
        else await repo.edition(submission.competition_id, lock=for_update)
    )
    visibility = visibility_for(principal)
    loaded = visible_or_404(
        None if submission is None or competition is None else Loaded(submission, competition),
        lambda found: visibility.admits(found.submission, found.competition),
        lambda: not_found(submission_id),
    )
    if for_update:
        locked = await repo.get(submission_id, for_update=True)
        assert locked is not None  # an edition's entries are not deleted while it is locked
        loaded.submission = locked
    return loaded


async def record_event(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    submission: Submission,
    before: audit.Snapshot | None,
    *,
    reason: str | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
) -> None:
    """The entry's audit event (none for an update that changed nothing)."""
    after = None if action == "delete" else audit.snapshot(submission)
    changes = {**audit.diff(before, after), **(extra or {})}
    if action == "update" and not changes:
        return
    await audit.record(
        session,
        principal,
        action,
        ENTITY,
        submission.id,
        institution_id=submission.institution_id,
        changes=changes,
        reason=reason,
    )
