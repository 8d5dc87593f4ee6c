"""Submissions: an innovation entered in an edition, read and written. Who sees an entry is
access.py's; what it names, parts.py's; the edition's entry rules, rules.py's; its steps from
the unit operator's draft to the organiser's screening, flow.py's.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import (
    Conflict,
    ConstraintError,
    Forbidden,
    invalid_field,
    register_constraint_errors,
)
from app.core.lifecycle import require_status
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.submissions import parts, rules
from app.domains.submissions.access import Loaded, load, record_event, visibility_for
from app.domains.submissions.repository import SubmissionRepository
from app.domains.submissions.schemas import (
    SubmissionCreate,
    SubmissionFilter,
    SubmissionRead,
    SubmissionSort,
    SubmissionSummary,
    SubmissionUpdate,
)
from app.models.enums import SubmissionStatus
from app.models.submissions import Submission, SubmissionAnswer

register_constraint_errors(
    {
        "uq_submissions_competition_innovation": ConstraintError(
            409,
            "submission.already_entered",
            "The innovation is already entered in this competition.",
            "/innovation_id",
        ),
        # Deleting an innovation (a draft) that was ever entered: the entry keeps it.
        **dict.fromkeys(
            (
                "fk_submissions_innovation_id_innovations",
                "fk_submissions_source_innovation_id_innovations",
            ),
            ConstraintError(
                409,
                "innovation.entered",
                "The innovation was entered in a competition (or named as an entry's source), "
                "which keeps it: archive it instead.",
            ),
        ),
    }
)

EDITABLE = frozenset({SubmissionStatus.draft, SubmissionStatus.returned})
# What the entry's institution and organiser wrote for each other: hidden from a caller who
# sees the entry only because the edition's results are out.
INTERNAL_FIELDS = ("return_reason", "withdrawal_reason", "screening_note")


# --- reads ----------------------------------------------------------------------------------


def _shown(submission: Submission, title: str, *, insider: bool) -> dict[str, Any]:
    """The entry's columns as this caller sees them, with its innovation's title."""
    shown = {c.key: getattr(submission, c.key) for c in Submission.__table__.columns}
    if not insider:
        shown.update(dict.fromkeys(INTERNAL_FIELDS))
    return {**shown, "innovation_title": title}


def summary_model(submission: Submission, title: str, *, insider: bool) -> SubmissionSummary:
    """The entry as `SubmissionSummary` shows it to this caller."""
    return SubmissionSummary.model_validate(_shown(submission, title, insider=insider))


async def read_model(
    session: AsyncSession, submission: Submission, *, insider: bool = True
) -> SubmissionRead:
    """The entry with its answers, as `SubmissionRead` shows it to this caller."""
    repo = SubmissionRepository(session)
    titles = await repo.titles([submission.innovation_id])
    answers = await repo.answers(submission.id)
    shown = _shown(submission, titles.get(submission.innovation_id, ""), insider=insider)
    return SubmissionRead.model_validate({**shown, "answers": answers})


async def get_submission(
    session: AsyncSession, principal: Principal | None, submission_id: uuid.UUID
) -> tuple[Submission, bool]:
    """The entry, and whether the caller sees it as its institution or organiser does."""
    loaded = await load(session, principal, submission_id)
    visibility = visibility_for(principal)
    return loaded.submission, visibility.inside(loaded.submission, loaded.competition.hub_id)


async def list_submissions(
    session: AsyncSession,
    principal: Principal | None,
    filters: SubmissionFilter,
    sort: SubmissionSort,
    page: PageRequest,
) -> tuple[PageResult[Submission], list[SubmissionSummary]]:
    """A page of entries within the caller's reach, as `SubmissionSummary` shows them."""
    repo = SubmissionRepository(session)
    visibility = visibility_for(principal)
    result = await repo.page(filters, visibility, sort, page)
    titles = await repo.titles(s.innovation_id for s in result.items)
    hubs = await repo.hubs_of({s.competition_id for s in result.items})
    return result, [
        summary_model(
            s,
            titles.get(s.innovation_id, ""),
            insider=visibility.inside(s, hubs.get(s.competition_id)),
        )
        for s in result.items
    ]


# --- writing entries ------------------------------------------------------------------------


async def create_submission(
    session: AsyncSession, principal: Principal, data: SubmissionCreate
) -> Submission:
    """Enter one of the caller's innovations in an edition open for registration, as a draft
    (the entry rules wait until it is sent)."""
    competition = await parts.competition_for_entry(session, principal, data.competition_id)
    rules.check_registration(competition)
    group = await parts.group_of(session, competition, data.group_id)
    await parts.check_category(session, competition, data.category_id)
    innovation = await parts.own_innovation(session, principal, data.innovation_id)
    await parts.check_source(session, group, innovation.id, data.source_innovation_id)
    repo = SubmissionRepository(session)
    if await repo.other_entry(competition.id, innovation.id, None) is not None:
        raise _already_entered()
    submission = Submission(
        id=uuid.uuid4(),
        competition_id=competition.id,
        group_id=group.id,
        category_id=data.category_id,
        innovation_id=innovation.id,
        institution_id=innovation.institution_id,
        unit_id=innovation.unit_id,
        source_innovation_id=data.source_innovation_id,
        status=SubmissionStatus.draft,
    )
    answers = await parts.answer_rows(session, competition, group, submission.id, data.answers)
    repo.add(submission)
    await session.flush()
    repo.add_answers(answers)
    await session.flush()
    await record_event(
        session,
        principal,
        "create",
        submission,
        None,
        extra=_answer_changes([], answers) if answers else None,
    )
    return submission


def _already_entered() -> Conflict:
    return Conflict(
        "submission.already_entered",
        "The innovation is already entered in this competition (an innovation enters an "
        "edition at most once).",
    )


def _answer_changes(
    before: list[SubmissionAnswer], after: list[SubmissionAnswer]
) -> dict[str, dict[str, Any]]:
    """The criteria whose answers changed (texts are kept on the entry, not in the trail)."""

    def shape(rows: list[SubmissionAnswer]) -> dict[str, tuple[str, list[str]]]:
        return {str(a.criterion_id): (a.text, list(a.evidence_links)) for a in rows}

    old, new = shape(before), shape(after)
    changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
    if not changed:
        return {}
    return {"answers": {"before": sorted(old), "after": sorted(new), "changed": changed}}


async def _writable(
    session: AsyncSession, principal: Principal, submission_id: uuid.UUID
) -> Loaded:
    """Lock an entry the caller writes (403 when it only sees it)."""
    loaded = await load(session, principal, submission_id, for_update=True)
    submission = loaded.submission
    if not principal.acts_for(submission.institution_id, submission.unit_id):
        raise Forbidden(
            "submission.out_of_scope",
            "An entry is written by its unit's operators and its institution's local admins.",
        )
    return loaded


async def update_submission(
    session: AsyncSession,
    principal: Principal,
    submission_id: uuid.UUID,
    data: SubmissionUpdate,
    preconditions: Preconditions,
) -> Submission:
    """Change a draft or returned entry while registration is open; new answers replace the
    set (a new version of the entry even when only they changed)."""
    loaded = await _writable(session, principal, submission_id)
    submission, competition = loaded.submission, loaded.competition
    preconditions.check_match(submission.version, entity="submission")
    if submission.status not in EDITABLE:
        raise Conflict(
            "submission.not_editable",
            f"The submission is {submission.status.value}: it changes only as a draft or when "
            "returned for revision.",
            extra={"current_status": submission.status.value},
        )
    changes = data.model_dump(exclude_unset=True)
    if "category_id" in changes and changes["category_id"] is None:
        raise invalid_field(
            "submission.field_required", "/category_id", "category_id cannot be removed."
        )
    rules.check_registration(competition)
    group = await parts.group_of(session, competition, submission.group_id)
    if changes.get("category_id") is not None:
        await parts.check_category(session, competition, changes["category_id"])
    if "source_innovation_id" in changes:
        await parts.check_source(
            session, group, submission.innovation_id, changes["source_innovation_id"]
        )
    repo = SubmissionRepository(session)
    extra: dict[str, dict[str, Any]] = {}
    if data.answers is not None:
        old = await repo.answers(submission.id)
        old_copy = [
            SubmissionAnswer(
                criterion_id=a.criterion_id, text=a.text, evidence_links=list(a.evidence_links)
            )
            for a in old
        ]
        new = await parts.answer_rows(session, competition, group, submission.id, data.answers)
        extra = _answer_changes(old_copy, new)
        if extra:
            await repo.replace_answers(submission.id, new)
    before = audit.snapshot(submission)
    for field in ("category_id", "source_innovation_id"):
        if field in changes:
            setattr(submission, field, changes[field])
    if extra and not session.is_modified(submission):
        submission.updated_at = dates.now()  # the answers changed: a new version of the entry
    await session.flush()
    await record_event(session, principal, "update", submission, before, extra=extra)
    return submission


async def delete_submission(
    session: AsyncSession,
    principal: Principal,
    submission_id: uuid.UUID,
    preconditions: Preconditions,
) -> None:
    """A draft never sent is deleted; later an entry is withdrawn."""
    loaded = await _writable(session, principal, submission_id)
    submission = loaded.submission
    preconditions.check_match(submission.version, entity="submission")
    require_status(
        submission.status,
        SubmissionStatus.draft,
        "submission.not_draft",
        f"The submission is {submission.status.value}: withdraw it instead (a draft only "
        "is deleted).",
    )
    before = audit.snapshot(submission)
    await SubmissionRepository(session).delete(submission)
    await session.flush()
    await record_event(session, principal, "delete", submission, before)


# --- the organiser's export -----------------------------------------------------------------


async def export_rows(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID
) -> AsyncIterator[RowMapping]:
    """The edition's entries for its organiser's CSV, streamed."""
    competition = await competitions.get_competition(session, principal, competition_id)
    if not competitions.runs(principal, competition):
        raise Forbidden(
            "submission.out_of_scope",
            "An edition's entries are exported by whoever runs it (the secretariat; a hub's "
            "admins for its provincial edition).",
        )
    return await SubmissionRepository(session).stream(competition.id)
