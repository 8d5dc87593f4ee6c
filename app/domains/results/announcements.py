"""Announcements (docs/evaluation.md): whoever runs the edition publishes numbered announcements
of a closed round's outcome or of the final results; each opens a public objection window. An
upheld objection's promotion publishes an amended announcement naming the promoted entry, with
its own window."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import NotRequired, TypedDict, cast

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.errors import Conflict, NotFound, invalid_field
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.competitions.repository import CompetitionRepository
from app.domains.notifications import audience, events
from app.domains.results.repository import HOLDERS, AnnouncementRepository, EntrySummary
from app.domains.results.schemas import (
    AnnouncedEntry,
    AnnouncementAmendment,
    AnnouncementCreate,
    AnnouncementRead,
)
from app.models.competitions import Competition, CompetitionRound
from app.models.enums import (
    AnnouncementKind,
    CompetitionStatus,
    RoundStatus,
    SubmissionStatus,
)
from app.models.evaluation import RoundResult
from app.models.results import Announcement
from app.models.submissions import Submission


class StoredEntry(TypedDict):
    """An entry as an announcement stores it (`Announcement.entries`, jsonb): a snapshot taken
    when it was published, its score a decimal string."""

    submission_id: str
    innovation_id: str
    innovation_title: str
    institution_id: str
    institution_name: str
    rank: int
    tier: str | None
    score: str | None
    # Only on an amended announcement: the disqualified entry this one was promoted in place of.
    replaces_submission_id: NotRequired[str]


def stored_entries(announcement: Announcement) -> list[StoredEntry]:
    """The entries the announcement stored, as they were written (`_announced`)."""
    return cast(list[StoredEntry], announcement.entries)


def objections_close_at(published_at: datetime, days: int) -> datetime:
    """The end (WIB) of the `days`-th calendar day after the day of publication; with 0 days,
    the publication itself (no window)."""
    if days == 0:
        return published_at
    day = published_at.astimezone(dates.WIB).date() + timedelta(days=days)
    return datetime.combine(day, time(23, 59, 59, 999999), dates.WIB)


def _announced(entry: EntrySummary, result: RoundResult, tier: str | None) -> StoredEntry:
    return {
        "submission_id": str(entry.id),
        "innovation_id": str(entry.innovation_id),
        "innovation_title": entry.innovation_title,
        "institution_id": str(entry.institution_id),
        "institution_name": entry.institution_name,
        "rank": result.rank,
        "tier": tier,
        "score": None if result.score is None else str(result.score),
    }


async def _round_outcome_entries(
    session: AsyncSession, round_: CompetitionRound
) -> list[StoredEntry]:
    """The entries the round advanced, by rank, but those disqualified since."""
    repository = AnnouncementRepository(session)
    results = await repository.advanced(round_.id)
    entries = await repository.entries([r.submission_id for r in results])
    return [
        _announced(entries[r.submission_id], r, round_.award_tier)
        for r in results
        if entries[r.submission_id].status is not SubmissionStatus.disqualified
    ]


async def _final_entries(
    session: AsyncSession, rounds: list[CompetitionRound]
) -> list[StoredEntry]:
    """Every entry holding a tier, by the last round it advanced past (latest first), then its
    rank there."""
    repository = AnnouncementRepository(session)
    position = {r.id: r.position for r in rounds}
    best: dict[uuid.UUID, RoundResult] = {}
    for result in await repository.advanced_in(list(position)):
        held = best.get(result.submission_id)
        if held is None or position[result.round_id] > position[held.round_id]:
            best[result.submission_id] = result
    entries = await repository.entries(list(best))
    chosen = [
        r
        for r in best.values()
        if entries[r.submission_id].status in HOLDERS and entries[r.submission_id].final_tier
    ]
    chosen.sort(key=lambda r: (-position[r.round_id], r.rank, str(r.submission_id)))
    return [
        _announced(entries[r.submission_id], r, entries[r.submission_id].final_tier) for r in chosen
    ]


async def _next_number(session: AsyncSession, year: int) -> str:
    """`B/{n}/PP.00.05/{year}`: n follows the highest n of the year's numbers of that form,
    whether generated or typed."""
    numbers = await AnnouncementRepository(session).generated_numbers(year)
    highest = max((int(n.split("/")[1]) for n in numbers), default=0)
    return f"B/{highest + 1}/PP.00.05/{year}"


async def create_announcement(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID, data: AnnouncementCreate
) -> Announcement:
    competition = await competitions.run_competition(session, principal, competition_id)
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
            entries=[dict(entry) for entry in entries],
        ),
        data.number,
    )


def _duplicate_number(number: str) -> Conflict:
    return Conflict(
        "announcement.duplicate_number", f"An announcement is already numbered {number}."
    )


async def check_number_free(session: AsyncSession, number: str | None) -> None:
    """409 before anything changes, if an announcement has this number (any case)."""
    if number is not None and await AnnouncementRepository(session).number_taken(number):
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
    if not await AnnouncementRepository(session).add_numbered(announcement):
        raise _duplicate_number(announcement.number)
    await audit.record(
        session,
        principal,
        "publish",
        "announcement",
        announcement.id,
        institution_id=competition.organiser_institution_id,
        after=audit.snapshot(announcement),
    )
    await _tell_entrants(session, principal, announcement)
    return announcement


async def _tell_entrants(
    session: AsyncSession, principal: Principal, announcement: Announcement
) -> None:
    """The entrants the announcement concerns are told (docs/notifications.md): the local
    admins and unit operators of every entry its round evaluated (the final results and their
    amendments: any round of the edition), whatever their outcome. An announcement is public;
    the message names the round, the edition and the objection window, never a score."""
    entrants = await AnnouncementRepository(session).entrants(
        announcement.competition_id, announcement.round_id
    )
    if not entrants:
        return
    parts = [audience.local_admins(i) for i in sorted({i for i, _ in entrants}, key=str)]
    parts += [audience.unit_operators(u) for u in sorted({u for _, u in entrants}, key=str)]
    if announcement.amends_announcement_id is not None:
        which = "amended"
    elif announcement.kind is AnnouncementKind.final_results:
        which = "final"
    else:
        which = "round"
    await events.emit(
        session,
        "results.announced",
        "announcement",
        announcement.id,
        audience=parts,
        actor=principal,
        data={
            "announcement": which,
            "objections_close_at": events.wib(announcement.objections_close_at)
            if announcement.objection_days > 0
            else "",
        },
        refs={"competition": announcement.competition_id, "round": announcement.round_id},
    )


# --- amended announcements ------------------------------------------------------------------


def amendment_title(amended: Announcement) -> str:
    return f"Perubahan atas Pengumuman Nomor {amended.number}: {amended.title}"[:300]


async def publish_amendment(
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
    repository = AnnouncementRepository(session)
    result = await repository.result(deciding.id, promoted.id)
    assert result is not None
    entries = await repository.entries([promoted.id])
    tier = (
        deciding.award_tier
        if amended.kind is AnnouncementKind.round_outcome
        else promoted.final_tier
    )
    entry = _announced(entries[promoted.id], result, tier)
    entry["replaces_submission_id"] = str(disqualified.id)
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
            entries=[dict(entry)],
            amends_announcement_id=amended.id,
        ),
        options.number,
    )


# --- reads ----------------------------------------------------------------------------------


async def read_announcement(
    session: AsyncSession, announcement: Announcement, competition: Competition
) -> AnnouncementRead:
    """The announcement as read: its entries marked if disqualified since, their scores only
    where the edition publishes them, and the amended announcements published for it."""
    repository = AnnouncementRepository(session)
    entries = stored_entries(announcement)
    statuses = await repository.statuses([uuid.UUID(e["submission_id"]) for e in entries])
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
                submission_id=entry["submission_id"],
                innovation_id=entry["innovation_id"],
                innovation_title=entry["innovation_title"],
                institution_id=entry["institution_id"],
                institution_name=entry["institution_name"],
                rank=entry["rank"],
                tier=entry["tier"],
                score=(
                    float(entry["score"])
                    if competition.publish_scores and entry["score"] is not None
                    else None
                ),
                disqualified=statuses.get(uuid.UUID(entry["submission_id"]))
                is SubmissionStatus.disqualified,
                replaces_submission_id=entry.get("replaces_submission_id"),
            )
            for entry in entries
        ],
        amends_announcement_id=announcement.amends_announcement_id,
        amended_by=await repository.amended_by(announcement.id),
        created_at=announcement.created_at,
    )


def _announcement_not_found(announcement_id: uuid.UUID) -> NotFound:
    return NotFound("announcement.not_found", f"No announcement has the id {announcement_id}.")


async def get_announcement(
    session: AsyncSession, principal: Principal | None, announcement_id: uuid.UUID
) -> tuple[Announcement, Competition]:
    """The announcement and its edition, if the caller may see the edition; 404 otherwise."""
    announcement = await AnnouncementRepository(session).get(announcement_id)
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
    result = await AnnouncementRepository(session).page(competition.id, page)
    return result, competition
