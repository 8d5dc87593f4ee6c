"""Results (docs/evaluation.md): whoever runs the edition publishes numbered announcements of a
round's outcome or of the final results; each opens a public objection window in which anyone
may object to an announced entry; the organiser upholds (the entry is disqualified, and the
next ranked may be promoted, which an amended announcement names, with its own window) or
dismisses. Decreeing the results (the edition's
`publish_results` step) needs every round closed, every window over and every objection
decided, and creates the awards that later editions' entry rules read."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import (
    Conflict,
    NotFound,
    Unprocessable,
    field_error,
    invalid_field,
    join_messages,
)
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult, SortKey, keyset_page
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.competitions.repository import CompetitionRepository
from app.domains.evaluation.repository import EvaluationRepository
from app.domains.innovations.service import visibility_for as catalogue_visibility
from app.domains.results.schemas import (
    AnnouncedEntry,
    AnnouncementAmendment,
    AnnouncementCreate,
    AnnouncementRead,
    AwardCreate,
    ObjectionCreate,
    ObjectionDecision,
    ObjectionReview,
)
from app.models.competitions import Competition, CompetitionRound
from app.models.enums import (
    AnnouncementKind,
    CompetitionStatus,
    InnovationStatus,
    ObjectionStatus,
    RoundOutcome,
    RoundStatus,
    SubmissionStatus,
)
from app.models.evaluation import RoundResult
from app.models.innovations import Innovation
from app.models.institutions import Institution
from app.models.results import Announcement, Objection
from app.models.submissions import Award, Submission

ANNOUNCEMENT_SORT = SortKey((Announcement.published_at, Announcement.id), descending=True)
OBJECTION_SORT = SortKey((Objection.created_at, Objection.id))
AWARD_SORT = SortKey((Award.year, Award.id), descending=True)
# Entries that hold a tier once evaluated (a disqualified one has lost it).
HOLDERS = (SubmissionStatus.finalist, SubmissionStatus.eliminated)


def tier_label(tier: str) -> str:
    """`top_45` -> `Top 45`."""
    return tier.replace("_", " ").title()


def objections_close_at(published_at: datetime, days: int) -> datetime:
    """The end (WIB) of the `days`-th calendar day after the day of publication; with 0 days,
    the publication itself (no window)."""
    if days == 0:
        return published_at
    day = published_at.astimezone(dates.WIB).date() + timedelta(days=days)
    return datetime.combine(day, time(23, 59, 59, 999999), dates.WIB)


# --- announcements --------------------------------------------------------------------------


async def _competition_run(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID
) -> Competition:
    competition = await competitions.get_competition(
        session, principal, competition_id, for_update=True
    )
    if not competitions.runs(principal, competition):
        raise competitions.out_of_scope()
    return competition


async def _entry_rows(
    session: AsyncSession, submission_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    rows = await session.execute(
        select(
            Submission.id,
            Submission.innovation_id,
            Innovation.title,
            Submission.institution_id,
            Institution.name,
            Submission.final_tier,
            Submission.status,
        )
        .join(Innovation, Innovation.id == Submission.innovation_id)
        .join(Institution, Institution.id == Submission.institution_id)
        .where(Submission.id.in_(submission_ids))
    )
    return {row.id: row for row in rows}


def _announced(row: Any, result: RoundResult, tier: str | None) -> dict[str, Any]:
    return {
        "submission_id": str(row.id),
        "innovation_id": str(row.innovation_id),
        "innovation_title": row.title,
        "institution_id": str(row.institution_id),
        "institution_name": row.name,
        "rank": result.rank,
        "tier": tier,
        "score": None if result.score is None else str(result.score),
    }


async def _round_outcome_entries(
    session: AsyncSession, round_: CompetitionRound
) -> list[dict[str, Any]]:
    results = list(
        await session.scalars(
            select(RoundResult)
            .where(
                RoundResult.round_id == round_.id,
                RoundResult.outcome == RoundOutcome.advanced,
            )
            .order_by(RoundResult.rank)
        )
    )
    rows = await _entry_rows(session, [r.submission_id for r in results])
    return [
        _announced(rows[r.submission_id], r, round_.award_tier)
        for r in results
        if rows[r.submission_id].status is not SubmissionStatus.disqualified
    ]


async def _final_entries(
    session: AsyncSession, rounds: list[CompetitionRound]
) -> list[dict[str, Any]]:
    """Every entry holding a tier, by the last round it advanced past (latest first), then its
    rank there."""
    position = {r.id: r.position for r in rounds}
    results = list(
        await session.scalars(
            select(RoundResult).where(
                RoundResult.round_id.in_(list(position)),
                RoundResult.outcome == RoundOutcome.advanced,
            )
        )
    )
    best: dict[uuid.UUID, RoundResult] = {}
    for result in results:
        held = best.get(result.submission_id)
        if held is None or position[result.round_id] > position[held.round_id]:
            best[result.submission_id] = result
    rows = await _entry_rows(session, list(best))
    chosen = [
        r
        for r in best.values()
        if rows[r.submission_id].status in HOLDERS and rows[r.submission_id].final_tier
    ]
    chosen.sort(key=lambda r: (-position[r.round_id], r.rank, str(r.submission_id)))
    return [_announced(rows[r.submission_id], r, rows[r.submission_id].final_tier) for r in chosen]


async def _next_number(session: AsyncSession, year: int) -> str:
    """`B/{n}/PP.00.05/{year}`: n follows the highest n of the year's numbers of that form,
    whether generated or typed."""
    numbers = await session.scalars(
        select(Announcement.number).where(
            Announcement.number.regexp_match(rf"^B/[0-9]+/PP\.00\.05/{year}$", flags="i")
        )
    )
    highest = max((int(n.split("/")[1]) for n in numbers), default=0)
    return f"B/{highest + 1}/PP.00.05/{year}"


async def create_announcement(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, data: AnnouncementCreate
) -> Announcement:
    competition = await _competition_run(session, principal, competition_id)
    if competition.status is not CompetitionStatus.evaluation:
        raise Conflict(
            "announcement.not_in_evaluation",
            f"The competition is {competition.status.value}: results are announced while it "
            "is in evaluation.",
            extra={"competition_status": competition.status.value},
        )
    rounds = await CompetitionRepository(session).rounds(competition.id)
    if data.kind is AnnouncementKind.round_outcome:
        round_ = next((r for r in rounds if r.id == data.round_id), None)
        if round_ is None:
            raise invalid_field(
                "announcement.unknown_round",
                "/round_id",
                "A round_outcome announcement names a round of this competition.",
            )
        if round_.status is not RoundStatus.closed:
            raise Conflict(
                "announcement.round_open",
                f"Round {round_.position} ({round_.name}) is still open: close it first.",
            )
        entries = await _round_outcome_entries(session, round_)
    else:
        if data.round_id is not None:
            raise invalid_field(
                "announcement.round_not_allowed",
                "/round_id",
                "The final results cover the whole edition: name no round.",
            )
        still_open = [r for r in rounds if r.status is RoundStatus.open]
        if still_open:
            raise Conflict(
                "announcement.rounds_open",
                "The final results are announced once every round is closed; open: "
                + ", ".join(f"{r.position} ({r.name})" for r in still_open)
                + ".",
            )
        entries = await _final_entries(session, rounds)
    return await _publish(
        session,
        principal,
        competition,
        Announcement(
            competition_id=competition.id,
            kind=data.kind,
            round_id=data.round_id,
            title=data.title,
            body=data.body,
            objection_days=data.objection_days,
            entries=entries,
        ),
        data.number,
    )


def _duplicate_number(number: str) -> Conflict:
    return Conflict(
        "announcement.duplicate_number", f"An announcement is already numbered {number}."
    )


async def _check_number_free(session: AsyncSession, number: str | None) -> None:
    """409 before anything changes, if an announcement has this number (any case)."""
    if number is not None and await session.scalar(
        select(Announcement.id).where(func.upper(Announcement.number) == number.upper())
    ):
        raise _duplicate_number(number)


async def _publish(
    session: AsyncSession,
    principal: Principal,
    competition: Competition,
    announcement: Announcement,
    number: str | None,
) -> Announcement:
    """Number, date and store the announcement (its window opens now), and its audit event."""
    now = dates.now()
    announcement.number = number or await _next_number(session, now.astimezone(dates.WIB).year)
    announcement.published_at = now
    announcement.objections_close_at = objections_close_at(now, announcement.objection_days)
    session.add(announcement)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise _duplicate_number(announcement.number) from None
    await audit.record(
        session,
        principal,
        "publish",
        "announcement",
        announcement.id,
        institution_id=competition.organiser_institution_id,
        after=audit.snapshot(announcement),
    )
    return announcement


def amendment_title(amended: Announcement) -> str:
    return f"Perubahan atas Pengumuman Nomor {amended.number}: {amended.title}"[:300]


async def _publish_amendment(
    session: AsyncSession,
    principal: Principal,
    competition: Competition,
    amended: Announcement,
    deciding: CompetitionRound,
    disqualified: Submission,
    promoted: Submission,
    options: AnnouncementAmendment | None,
) -> Announcement:
    """The amended announcement (*pengumuman perubahan*) of an upheld objection's promotion: it
    names the promoted entry, in place of the disqualified one, with the rank and score of the
    round that decided it, and opens its own objection window, so that anyone may object to the
    promoted entry as they could to those first announced."""
    options = options or AnnouncementAmendment()
    result = await session.scalar(
        select(RoundResult).where(
            RoundResult.round_id == deciding.id, RoundResult.submission_id == promoted.id
        )
    )
    assert result is not None
    rows = await _entry_rows(session, [promoted.id])
    tier = (
        deciding.award_tier
        if amended.kind is AnnouncementKind.round_outcome
        else promoted.final_tier
    )
    entry = {
        **_announced(rows[promoted.id], result, tier),
        "replaces_submission_id": str(disqualified.id),
    }
    return await _publish(
        session,
        principal,
        competition,
        Announcement(
            competition_id=competition.id,
            kind=amended.kind,
            round_id=amended.round_id,
            title=options.title or amendment_title(amended),
            body=options.body,
            objection_days=(
                amended.objection_days if options.objection_days is None else options.objection_days
            ),
            entries=[entry],
            amends_announcement_id=amended.id,
        ),
        options.number,
    )


async def read_announcement(
    session: AsyncSession, announcement: Announcement, competition: Competition
) -> AnnouncementRead:
    ids = [uuid.UUID(e["submission_id"]) for e in announcement.entries]
    statuses = dict(
        (
            await session.execute(
                select(Submission.id, Submission.status).where(Submission.id.in_(ids))
            )
        ).all()
    )
    amended_by = list(
        await session.scalars(
            select(Announcement.id)
            .where(Announcement.amends_announcement_id == announcement.id)
            .order_by(Announcement.published_at, Announcement.id)
        )
    )
    return AnnouncementRead(
        id=announcement.id,
        competition_id=announcement.competition_id,
        kind=announcement.kind,
        round_id=announcement.round_id,
        number=announcement.number,
        title=announcement.title,
        body=announcement.body,
        published_at=announcement.published_at,
        objection_days=announcement.objection_days,
        objections_close_at=announcement.objections_close_at,
        objections_open=dates.now() <= announcement.objections_close_at
        and announcement.objection_days > 0,
        entries=[
            AnnouncedEntry(
                **{
                    **entry,
                    "score": (
                        float(entry["score"])
                        if competition.publish_scores and entry["score"] is not None
                        else None
                    ),
                    "replaces_submission_id": entry.get("replaces_submission_id"),
                },
                disqualified=statuses.get(uuid.UUID(entry["submission_id"]))
                is SubmissionStatus.disqualified,
            )
            for entry in announcement.entries
        ],
        amends_announcement_id=announcement.amends_announcement_id,
        amended_by=amended_by,
        created_at=announcement.created_at,
    )


def _announcement_not_found(announcement_id: uuid.UUID) -> NotFound:
    return NotFound("announcement.not_found", f"No announcement has the id {announcement_id}.")


async def get_announcement(
    session: AsyncSession, principal: Principal | None, announcement_id: uuid.UUID
) -> tuple[Announcement, Competition]:
    announcement = await session.get(Announcement, announcement_id)
    if announcement is None:
        raise _announcement_not_found(announcement_id)
    try:
        competition = await competitions.get_competition(
            session, principal, announcement.competition_id
        )
    except NotFound:
        raise _announcement_not_found(announcement_id) from None
    return announcement, competition


async def list_announcements(
    session: AsyncSession,
    principal: Principal | None,
    competition_id: uuid.UUID,
    page: PageRequest,
) -> tuple[PageResult[Announcement], Competition]:
    competition = await competitions.get_competition(session, principal, competition_id)
    stmt: Select[Any] = select(Announcement).where(Announcement.competition_id == competition.id)
    result = await keyset_page(
        session, stmt, ANNOUNCEMENT_SORT, page, f"announcements:{competition.id}"
    )
    return result, competition


# --- objections -----------------------------------------------------------------------------


async def file_objection(
    session: AsyncSession,
    principal: Principal | None,
    announcement_id: uuid.UUID,
    data: ObjectionCreate,
) -> Objection:
    """Anyone, during the window, against an entry the announcement lists."""
    announcement, _ = await get_announcement(session, principal, announcement_id)
    if announcement.objection_days == 0 or dates.now() > announcement.objections_close_at:
        raise Conflict(
            "objection.window_closed",
            "Objections to this announcement were accepted until "
            f"{announcement.objections_close_at.astimezone(dates.WIB).isoformat()} (WIB).",
            extra={"objections_close_at": announcement.objections_close_at},
        )
    if str(data.submission_id) not in {e["submission_id"] for e in announcement.entries}:
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
    session.add(objection)
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
    return objection


def _objection_not_found(objection_id: uuid.UUID) -> NotFound:
    return NotFound("objection.not_found", f"No objection has the id {objection_id}.")


async def _run_objection(
    session: AsyncSession, principal: Principal, objection_id: uuid.UUID, *, for_update: bool
) -> tuple[Objection, Announcement, Competition]:
    """An objection of an edition the caller runs; 404 otherwise (filers' contacts are the
    organiser's only)."""
    objection = await session.get(
        Objection, objection_id, with_for_update=for_update, populate_existing=for_update
    )
    if objection is None:
        raise _objection_not_found(objection_id)
    announcement = await session.get(Announcement, objection.announcement_id)
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
    stmt: Select[Any] = select(Objection).where(Objection.announcement_id == announcement_id)
    return await keyset_page(session, stmt, OBJECTION_SORT, page, f"objections:{announcement_id}")


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
    stmt = (
        select(RoundResult)
        .join(Submission, Submission.id == RoundResult.submission_id)
        .where(
            RoundResult.round_id == round_.id,
            RoundResult.outcome == RoundOutcome.eliminated,
            RoundResult.score.is_not(None),
            Submission.status == SubmissionStatus.eliminated,
        )
        .order_by(RoundResult.rank)
        .limit(1)
        .with_for_update(of=RoundResult)
    )
    if round_.passing_grade is not None:
        stmt = stmt.where(RoundResult.score >= round_.passing_grade)
    result = await session.scalar(stmt)
    if result is None:
        return None
    submission = await session.get(
        Submission, result.submission_id, with_for_update=True, populate_existing=True
    )
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
        return await session.get(CompetitionRound, announcement.round_id)
    return await session.scalar(
        select(CompetitionRound)
        .join(RoundResult, RoundResult.round_id == CompetitionRound.id)
        .where(
            RoundResult.submission_id == submission.id,
            RoundResult.outcome == RoundOutcome.advanced,
        )
        .order_by(CompetitionRound.position.desc())
        .limit(1)
    )


async def review_objection(
    session: AsyncSession,
    principal: Principal,
    objection_id: uuid.UUID,
    data: ObjectionReview,
    preconditions: Preconditions,
) -> Objection:
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
        await _check_number_free(session, data.amendment.number)
    before = audit.snapshot(objection)
    now = dates.now()
    if data.decision is ObjectionDecision.upheld:
        submission = await session.get(
            Submission, objection.submission_id, with_for_update=True, populate_existing=True
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
            if data.promote_next and deciding is not None:
                promoted = await _promote_next(session, principal, deciding)
                if promoted is not None:
                    objection.promoted_submission_id = promoted.id
                    amendment = await _publish_amendment(
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


# --- decree and awards ----------------------------------------------------------------------


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
    announcements = list(
        await session.scalars(
            select(Announcement).where(Announcement.competition_id == competition.id)
        )
    )
    if any(a.objection_days > 0 and now <= a.objections_close_at for a in announcements):
        problem(
            "competition.objection_window_open",
            "An announcement's objection window is still open.",
        )
    pending = await session.scalar(
        select(func.count())
        .select_from(Objection)
        .join(Announcement, Announcement.id == Objection.announcement_id)
        .where(
            Announcement.competition_id == competition.id,
            Objection.status == ObjectionStatus.filed,
        )
    )
    if pending:
        problem("competition.objections_pending", f"{pending} objections are not decided.")
    tiered = await session.scalar(
        select(func.count()).where(
            Submission.competition_id == competition.id,
            Submission.status.in_(HOLDERS),
            Submission.final_tier.is_not(None),
        )
    )
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
    holders = list(
        await session.scalars(
            select(Submission)
            .where(
                Submission.competition_id == competition.id,
                Submission.status.in_(HOLDERS),
                Submission.final_tier.is_not(None),
            )
            .order_by(Submission.id)
        )
    )
    for submission in holders:
        assert submission.final_tier is not None
        await _add_award(
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


async def _add_award(session: AsyncSession, principal: Principal, award: Award) -> Award:
    """Store an award and its audit event (it belongs to the winning institution)."""
    session.add(award)
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
    innovation = await session.get(Innovation, data.innovation_id)
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
    award = await session.get(Award, award_id)
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
    stmt: Select[Any] = select(Award)
    if competition_id is not None:
        stmt = stmt.where(Award.competition_id == competition_id)
    if innovation_id is not None:
        stmt = stmt.where(Award.innovation_id == innovation_id)
    if institution_id is not None:
        stmt = stmt.where(Award.institution_id == institution_id)
    if year is not None:
        stmt = stmt.where(Award.year == year)
    if tier is not None:
        stmt = stmt.where(Award.tier == tier)
    scope = f"awards:{competition_id}:{innovation_id}:{institution_id}:{year}:{tier}"
    return await keyset_page(session, stmt, AWARD_SORT, page, scope)


async def innovation_awards(
    session: AsyncSession, principal: Principal | None, innovation_id: uuid.UUID
) -> list[Award]:
    innovation = await session.get(Innovation, innovation_id)
    if innovation is None or not catalogue_visibility(principal).admits(
        InnovationStatus(innovation.status), innovation.institution_id, innovation.unit_id
    ):
        raise NotFound("innovation.not_found", f"No innovation has the id {innovation_id}.")
    rows = await session.scalars(
        select(Award)
        .where(Award.innovation_id == innovation_id)
        .order_by(Award.year.desc(), Award.id)
    )
    return list(rows)
