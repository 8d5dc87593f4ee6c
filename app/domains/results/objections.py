"""Objections (docs/evaluation.md): anyone may object to an announced entry while the
announcement's window is open; whoever runs the edition upholds (the entry is disqualified, and
the next ranked may be promoted, which an amended announcement names) or dismisses."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import Conflict, NotFound, invalid_field
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.competitions.repository import CompetitionRepository
from app.domains.evaluation.repository import EvaluationRepository
from app.domains.notifications import audience, events
from app.domains.results.announcements import (
    check_number_free,
    get_announcement,
    publish_amendment,
    stored_entries,
)
from app.domains.results.repository import AnnouncementRepository, ObjectionRepository
from app.domains.results.schemas import ObjectionCreate, ObjectionDecision, ObjectionReview
from app.domains.submissions.repository import SubmissionRepository
from app.models.competitions import Competition, CompetitionRound
from app.models.enums import (
    CompetitionStatus,
    ObjectionStatus,
    RoundOutcome,
    RoundStatus,
    SubmissionStatus,
)
from app.models.results import Announcement, Objection
from app.models.submissions import Submission

# --- filing ---------------------------------------------------------------------------------


async def file_objection(
    session: AsyncSession,
    principal: Principal | None,
    announcement_id: uuid.UUID,
    data: ObjectionCreate,
) -> Objection:
    """Anyone, during the window, against an entry the announcement lists."""
    announcement, competition = await get_announcement(session, principal, announcement_id)
    if announcement.objection_days == 0 or dates.now() > announcement.objections_close_at:
        raise Conflict(
            "objection.window_closed",
            "Objections to this announcement were accepted until "
            f"{announcement.objections_close_at.astimezone(dates.WIB).isoformat()} (WIB).",
            extra={"objections_close_at": announcement.objections_close_at},
        )
    if str(data.submission_id) not in {e["submission_id"] for e in stored_entries(announcement)}:
        raise invalid_field(
            "objection.not_announced",
            "/submission_id",
            "The announcement does not list this entry.",
        )
    objection = Objection(
        announcement_id=announcement.id,
        submission_id=data.submission_id,
        filer_name=data.filer_name,
        filer_contact=data.filer_contact,
        reason=data.reason,
        status=ObjectionStatus.filed,
    )
    ObjectionRepository(session).add(objection)
    await session.flush()
    await audit.record(
        session,
        principal,
        "file",
        "objection",
        objection.id,
        institution_id=None,
        # The filer's contact stays out of the trail.
        after={"submission_id": str(data.submission_id), "reason": data.reason},
    )
    entry = await SubmissionRepository(session).get(objection.submission_id)
    assert entry is not None  # the announcement lists it
    # To whoever runs the edition, who alone sees objections (the filer's contact stays out
    # of the message too).
    await events.emit(
        session,
        "objection.filed",
        "objection",
        objection.id,
        audience=[organisers(competition)],
        actor=principal,
        data={"filer_name": objection.filer_name},
        refs={"competition": competition.id, "innovation": entry.innovation_id},
    )
    return objection


def organisers(competition: Competition) -> dict[str, str]:
    """Whoever runs the edition (`competitions.runs`): a provincial edition's hub admins, or
    the secretariat."""
    if competition.hub_id is not None:
        return audience.hub_admins(competition.hub_id)
    return audience.secretariat()


# --- reads ----------------------------------------------------------------------------------


def _objection_not_found(objection_id: uuid.UUID) -> NotFound:
    return NotFound("objection.not_found", f"No objection has the id {objection_id}.")


async def _run_objection(
    session: AsyncSession, principal: Principal, objection_id: uuid.UUID, *, for_update: bool
) -> tuple[Objection, Announcement, Competition]:
    """An objection of an edition the caller runs; 404 otherwise (filers' contacts are the
    organiser's only)."""
    objection = await ObjectionRepository(session).get(objection_id, for_update=for_update)
    if objection is None:
        raise _objection_not_found(objection_id)
    announcement = await AnnouncementRepository(session).get(objection.announcement_id)
    assert announcement is not None
    competition = await CompetitionRepository(session).get(announcement.competition_id)
    if competition is None or not competitions.runs(principal, competition):
        raise _objection_not_found(objection_id)
    return objection, announcement, competition


async def get_objection(
    session: AsyncSession, principal: Principal, objection_id: uuid.UUID
) -> Objection:
    objection, _, _ = await _run_objection(session, principal, objection_id, for_update=False)
    return objection


async def list_objections(
    session: AsyncSession, principal: Principal, announcement_id: uuid.UUID, page: PageRequest
) -> PageResult[Objection]:
    _, competition = await get_announcement(session, principal, announcement_id)
    if not competitions.runs(principal, competition):
        raise competitions.out_of_scope()
    return await ObjectionRepository(session).page(announcement_id, page)


# --- review and promotion -------------------------------------------------------------------


async def _promote_next(
    session: AsyncSession, principal: Principal, round_: CompetitionRound
) -> Submission | None:
    """Advance the best-ranked entry the round eliminated (at or above its passing grade), if
    the entries it advanced have not been evaluated further yet."""
    following = await EvaluationRepository(session).next_round(round_)
    if following is not None and following.status is RoundStatus.closed:
        raise Conflict(
            "objection.too_late_to_promote",
            f"Round {following.position} ({following.name}) is closed: nobody can be promoted "
            "into it any more.",
        )
    result = await ObjectionRepository(session).lock_best_eliminated(round_)
    if result is None:
        return None
    submission = await SubmissionRepository(session).get(result.submission_id, for_update=True)
    assert submission is not None
    before = audit.snapshot(submission)
    result.outcome = RoundOutcome.advanced
    result.promoted_at = dates.now()
    if round_.award_tier is not None:
        submission.final_tier = round_.award_tier
    if following is not None:
        submission.round_id = following.id
        submission.status = SubmissionStatus.screened_in
    else:
        submission.status = SubmissionStatus.finalist
    await session.flush()
    await audit.record(
        session,
        principal,
        "promote",
        "submission",
        submission.id,
        institution_id=submission.institution_id,
        changes=audit.diff(before, audit.snapshot(submission)),
    )
    return submission


async def _deciding_round(
    session: AsyncSession, announcement: Announcement, submission: Submission
) -> CompetitionRound | None:
    """The round whose advancement an upheld objection undoes: the announcement's round, or
    for the final results the last round the entry advanced past."""
    if announcement.round_id is not None:
        return await CompetitionRepository(session).get_part(
            CompetitionRound, announcement.round_id
        )
    return await ObjectionRepository(session).last_advanced_round(submission.id)


async def review_objection(
    session: AsyncSession,
    principal: Principal,
    objection_id: uuid.UUID,
    data: ObjectionReview,
    preconditions: Preconditions,
) -> Objection:
    """Decide a filed objection, once. Upholding disqualifies the entry (if it is not already)
    and, with `promote_next`, promotes the next ranked of the round that decided it and
    publishes the amended announcement that names it."""
    objection, announcement, competition = await _run_objection(
        session, principal, objection_id, for_update=True
    )
    preconditions.check_match(objection.version, entity="objection")
    if objection.status is not ObjectionStatus.filed:
        raise Conflict(
            "objection.reviewed",
            f"The objection was {objection.status.value}: the decision is final.",
            extra={"current_status": objection.status.value},
        )
    if competition.status is not CompetitionStatus.evaluation:
        raise Conflict(
            "objection.results_decreed",
            f"The competition is {competition.status.value}: its results no longer change.",
        )
    if data.promote_next and data.decision is not ObjectionDecision.upheld:
        raise invalid_field(
            "objection.promote_when_upheld",
            "/promote_next",
            "Only an upheld objection frees a place to promote into.",
        )
    if data.amendment is not None and not data.promote_next:
        raise invalid_field(
            "objection.amendment_without_promotion",
            "/amendment",
            "An amended announcement names a promoted entry: ask for `promote_next` too.",
        )
    if data.promote_next and data.amendment is not None:
        await check_number_free(session, data.amendment.number)
    before = audit.snapshot(objection)
    now = dates.now()
    if data.decision is ObjectionDecision.upheld:
        submission = await SubmissionRepository(session).get(
            objection.submission_id, for_update=True
        )
        assert submission is not None
        if submission.status is not SubmissionStatus.disqualified:
            deciding = await _deciding_round(session, announcement, submission)
            entry_before = audit.snapshot(submission)
            submission.status = SubmissionStatus.disqualified
            submission.disqualification_reason = data.note
            submission.final_tier = None
            await session.flush()
            await audit.record(
                session,
                principal,
                "disqualify",
                "submission",
                submission.id,
                institution_id=submission.institution_id,
                changes=audit.diff(entry_before, audit.snapshot(submission)),
                reason=data.note,
            )
            # The entry's people see their entry disqualified and why (its
            # disqualification_reason); the objection itself, and who filed it, stay the
            # organiser's.
            await events.emit(
                session,
                "objection.upheld",
                "submission",
                submission.id,
                audience=[
                    audience.local_admins(submission.institution_id),
                    audience.unit_operators(submission.unit_id),
                ],
                actor=principal,
                institution_id=submission.institution_id,
                data={"reason": data.note},
                refs={"competition": competition.id, "innovation": submission.innovation_id},
            )
            if data.promote_next and deciding is not None:
                promoted = await _promote_next(session, principal, deciding)
                if promoted is not None:
                    objection.promoted_submission_id = promoted.id
                    amendment = await publish_amendment(
                        session,
                        principal,
                        competition,
                        announcement,
                        deciding,
                        submission,
                        promoted,
                        data.amendment,
                    )
                    objection.amendment_announcement_id = amendment.id
        objection.status = ObjectionStatus.upheld
    else:
        objection.status = ObjectionStatus.dismissed
    objection.review_note = data.note
    objection.reviewed_at = now
    await session.flush()
    await audit.record(
        session,
        principal,
        "review",
        "objection",
        objection.id,
        institution_id=None,
        changes=audit.diff(before, audit.snapshot(objection)),
        reason=data.note,
    )
    return objection
