"""The edition's entry rules (DOMAIN.md: never hard-code a year's rules; they are the edition's
data). They are checked when an entry is sent to the local admin, again when the local admin
approves it, and again when the organiser screens it in (without the deadline and the cap, which
belong to registration). A refusal carries the first broken rule's status and code, and
`problems` lists every rule the entry breaks.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.errors import AppError, Conflict, Unprocessable, field_error
from app.domains.submissions.repository import SubmissionRepository
from app.models.competitions import Competition
from app.models.enums import CompetitionStatus, InnovationStatus
from app.models.submissions import Submission


def add_months(day: date, months: int) -> date:
    """`day` moved `months` calendar months on (the 31st becomes the month's last day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Broken:
    """One entry rule broken: status, code, message and the field it concerns."""

    status: int
    code: str
    message: str
    pointer: str | None = None
    extra: dict[str, Any] | None = None


def check_registration(competition: Competition) -> None:
    """Entries are written while registration is open, up to its deadline (inclusive)."""
    found = registration_problems(competition)
    if found:
        raise _refusal(found)


def registration_problems(competition: Competition) -> list[Broken]:
    """The registration rules the edition breaks now: open, and within its window."""
    found = []
    if competition.status is not CompetitionStatus.registration_open:
        found.append(
            Broken(
                409,
                "submission.registration_not_open",
                f"Registration for {competition.code} is not open (the competition is "
                f"{competition.status.value}).",
            )
        )
    now, opens = dates.now(), competition.registration_opens_at
    if opens is not None and now < opens:
        found.append(
            Broken(
                409,
                "submission.registration_not_yet_open",
                f"Registration for {competition.code} opens at {opens.isoformat()}.",
            )
        )
    closes = competition.registration_closes_at
    if closes is not None and now > closes:
        found.append(
            Broken(
                409,
                "submission.deadline_passed",
                f"The registration deadline of {competition.code} ({closes.isoformat()}) has "
                "passed.",
            )
        )
    return found


async def broken_rules(
    session: AsyncSession,
    submission: Submission,
    competition: Competition,
    *,
    registration: bool,
) -> list[Broken]:
    """Every entry rule the entry breaks, in the order they are reported. `registration`:
    also the rules that belong to registration (the window and the institution's cap)."""
    repo = SubmissionRepository(session)
    group = await repo.group(submission.group_id)
    innovation = await repo.innovation(submission.innovation_id)
    assert group is not None  # foreign keys
    assert innovation is not None
    found: list[Broken] = []
    if registration:
        found.extend(registration_problems(competition))
    if innovation.status is not InnovationStatus.published:
        found.append(
            Broken(
                409,
                "submission.innovation_not_published",
                f"The innovation is {innovation.status.value}: an entry is sent with its "
                "published catalogue record (the public sees it once results are out).",
                "/innovation_id",
            )
        )
    if await repo.other_entry(competition.id, innovation.id, submission.id) is not None:
        found.append(
            Broken(
                409,
                "submission.already_entered",
                "The innovation is already entered in this competition.",
                "/innovation_id",
            )
        )
    months = group.min_implementation_months
    closes = competition.registration_closes_at
    deadline_day = closes.astimezone(dates.WIB).date() if closes is not None else dates.today_wib()
    if (
        innovation.implemented_date is None
        or add_months(innovation.implemented_date, months) > deadline_day
    ):
        since = (
            "has no implementation date"
            if innovation.implemented_date is None
            else f"was implemented on {innovation.implemented_date.isoformat()}"
        )
        found.append(
            Broken(
                409,
                "submission.too_young",
                f"The group {group.code} takes innovations implemented "
                + (f"at least {months} months before " if months else "by ")
                + f"the registration deadline ({deadline_day.isoformat()}); this one {since}.",
                "/innovation_id",
            )
        )
    if group.ineligible_award_tiers:
        held = await repo.award_tiers(innovation.id, competition.id)
        barred = sorted(set(held) & set(group.ineligible_award_tiers))
        if barred:
            found.append(
                Broken(
                    409,
                    "submission.ineligible_prior_award",
                    f"The innovation holds an earlier award ({', '.join(barred)}) that bars it "
                    f"from the group {group.code}.",
                    "/innovation_id",
                )
            )
    if (
        await repo.same_title_entry(
            competition.id, submission.institution_id, innovation.title, submission.id
        )
        is not None
    ):
        found.append(
            Broken(
                409,
                "submission.duplicate_title",
                f"The institution already entered an innovation titled {innovation.title!r} "
                "in this competition.",
                "/innovation_id",
            )
        )
    if group.requires_source_innovation:
        if submission.source_innovation_id is None:
            found.append(
                Broken(
                    422,
                    "submission.source_required",
                    f"The group {group.code} is a replication group: name the source "
                    "innovation the entry replicates.",
                    "/source_innovation_id",
                )
            )
        elif not await _source_is_valid(repo, submission):
            found.append(
                Broken(
                    422,
                    "submission.source_invalid",
                    "The source is no longer a published innovation.",
                    "/source_innovation_id",
                )
            )
        else:
            tiers = await repo.award_tiers(submission.source_innovation_id, competition.id)
            wanted = set(group.source_award_tiers)
            if not (set(tiers) & wanted if wanted else tiers):
                described = ", ".join(sorted(wanted)) if wanted else "any award"
                found.append(
                    Broken(
                        409,
                        "submission.source_not_awarded",
                        f"The source innovation must hold a qualifying earlier award "
                        f"({described}).",
                        "/source_innovation_id",
                    )
                )
    criteria = await repo.first_round_criteria(competition.id, group.id)
    answered = {a.criterion_id for a in await repo.answers(submission.id)}
    missing = [c for c in criteria if c.id not in answered]
    if missing:
        found.append(
            Broken(
                422,
                "submission.answers_missing",
                "Answer every criterion of the first round: "
                + ", ".join(c.name for c in missing)
                + ".",
                "/answers",
                {"missing": [str(c.id) for c in missing]},
            )
        )
    if competition.sdg_required and not innovation.sdgs:
        found.append(
            Broken(
                422,
                "submission.sdg_missing",
                f"{competition.code} requires the innovation to name at least one SDG.",
                "/innovation_id",
            )
        )
    cap = group.max_submissions_per_institution
    if registration and cap is not None:
        await repo.lock_cap(group.id, submission.institution_id)
        taken = await repo.count_counted(
            competition.id, group.id, submission.institution_id, submission.id
        )
        if taken >= cap:
            found.append(
                Broken(
                    409,
                    "submission.over_cap",
                    f"The institution already has {taken} submissions in the group {group.code}, "
                    f"its cap in {competition.code} ({cap}).",
                    None,
                    {"cap": cap, "taken": taken},
                )
            )
    return found


async def _source_is_valid(repo: SubmissionRepository, submission: Submission) -> bool:
    source_id = submission.source_innovation_id
    source = None if source_id is None else await repo.innovation(source_id)
    return source is not None and source.status is InnovationStatus.published


def _refusal(found: list[Broken]) -> AppError:
    """The first broken rule's 409 or 422, listing every one in `problems`."""
    first = found[0]
    extra: dict[str, Any] = {
        "problems": [{"code": b.code, "message": b.message, **(b.extra or {})} for b in found],
        **(first.extra or {}),
    }
    if first.status == 422:
        errors = [field_error(b.pointer or "", b.code, b.message) for b in found if b.status == 422]
        return Unprocessable(first.code, first.message, errors=errors, extra=extra)
    return Conflict(first.code, first.message, extra=extra)


async def check_rules(
    session: AsyncSession, submission: Submission, competition: Competition, *, registration: bool
) -> None:
    """Refuse the step unless the entry keeps every rule (`registration`: those of
    registration too)."""
    found = await broken_rules(session, submission, competition, registration=registration)
    if found:
        raise _refusal(found)
