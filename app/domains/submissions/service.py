"""Submissions: an innovation entered in an edition, its flow from the unit operator's draft
through the local admin to the organiser's screening, and the edition's entry rules.

The rules are the edition's data (DOMAIN.md: never hard-code a year's rules). They are checked
when an entry is sent to the local admin, again when the local admin approves it, and again
when the organiser screens it in (without the deadline and the cap, which belong to
registration). A refusal carries the first broken rule's status and code, and `problems`
lists every rule the entry breaks.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import (
    AppError,
    Conflict,
    ConstraintError,
    Forbidden,
    NotFound,
    Unprocessable,
    field_error,
    invalid_field,
    invalid_transition,
    register_constraint_errors,
)
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.submissions.repository import (
    RESULTS_OUT,
    SubmissionRepository,
    SubmissionVisibility,
)
from app.domains.submissions.schemas import (
    SubmissionAction,
    SubmissionCreate,
    SubmissionFilter,
    SubmissionSort,
    SubmissionTransition,
    SubmissionUpdate,
)
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    RoundCriterion,
)
from app.models.enums import (
    CompetitionStatus,
    InnovationStatus,
    Role,
    ScreeningOutcome,
    SubmissionStatus,
)
from app.models.innovations import Innovation
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

ENTITY = "submission"
St = SubmissionStatus
A = SubmissionAction
# Each step: the statuses it leaves and the status it reaches (screening: in or out).
TRANSITIONS: dict[SubmissionAction, tuple[frozenset[SubmissionStatus], str]] = {
    A.submit: (frozenset({St.draft, St.returned}), St.awaiting_local_admin.value),
    A.approve: (frozenset({St.awaiting_local_admin}), St.submitted.value),
    A.return_: (frozenset({St.awaiting_local_admin}), St.returned.value),
    A.withdraw: (
        frozenset({St.awaiting_local_admin, St.returned, St.submitted, St.screened_in}),
        St.withdrawn.value,
    ),
    A.screen: (frozenset({St.submitted}), "screened_in or screened_out"),
}
EDITABLE = frozenset({St.draft, St.returned})
SCREENING_OPEN = frozenset(
    {CompetitionStatus.registration_open, CompetitionStatus.registration_closed}
)


# --- who sees and who acts ------------------------------------------------------------------


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


def _not_found(submission_id: uuid.UUID) -> NotFound:
    return NotFound("submission.not_found", f"No submission has the id {submission_id}.")


@dataclass
class Loaded:
    submission: Submission
    competition: Competition


async def _load(
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
    if submission is None:
        raise _not_found(submission_id)
    competition = await _edition(session, submission.competition_id, lock=for_update)
    if competition is None or not visibility_for(principal).admits(submission, competition):
        raise _not_found(submission_id)
    if for_update:
        locked = await repo.get(submission_id, for_update=True)
        assert locked is not None  # an edition's entries are not deleted while it is locked
        submission = locked
    return Loaded(submission, competition)


async def _edition(
    session: AsyncSession, competition_id: uuid.UUID, *, lock: bool
) -> Competition | None:
    if not lock:
        return await session.get(Competition, competition_id)
    return await session.get(
        Competition, competition_id, with_for_update={"read": True}, populate_existing=True
    )


# What the entry's institution and organiser wrote for each other: hidden from a caller who
# sees the entry only because the edition's results are out.
INTERNAL_FIELDS = ("return_reason", "withdrawal_reason", "screening_note")


def summary_model(submission: Submission, title: str, *, insider: bool) -> dict[str, Any]:
    """The entry's columns as `SubmissionSummary` shows them to this caller."""
    shown = {c.key: getattr(submission, c.key) for c in Submission.__table__.columns}
    if not insider:
        shown.update(dict.fromkeys(INTERNAL_FIELDS))
    return {**shown, "innovation_title": title}


async def read_model(
    session: AsyncSession, submission: Submission, *, insider: bool = True
) -> dict[str, Any]:
    """The entry as `SubmissionRead` shows it."""
    repo = SubmissionRepository(session)
    titles = await repo.titles([submission.innovation_id])
    answers = await repo.answers(submission.id)
    return {
        **summary_model(submission, titles.get(submission.innovation_id, ""), insider=insider),
        "answers": [
            {"criterion_id": a.criterion_id, "text": a.text, "evidence_links": a.evidence_links}
            for a in answers
        ],
    }


async def get_submission(
    session: AsyncSession, principal: Principal | None, submission_id: uuid.UUID
) -> tuple[Submission, bool]:
    """The entry, and whether the caller sees it as its institution or organiser does."""
    loaded = await _load(session, principal, submission_id)
    visibility = visibility_for(principal)
    return loaded.submission, visibility.inside(loaded.submission, loaded.competition.hub_id)


async def list_submissions(
    session: AsyncSession,
    principal: Principal | None,
    filters: SubmissionFilter,
    sort: SubmissionSort,
    page: PageRequest,
) -> tuple[PageResult[Submission], list[dict[str, Any]]]:
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


async def _audit(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    submission: Submission,
    before: audit.Snapshot | None,
    *,
    reason: str | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
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


# --- the parts an entry names ---------------------------------------------------------------


async def _competition_for_entry(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID
) -> Competition:
    competition = await _edition(session, competition_id, lock=True)
    if competition is None or not competitions.visibility_for(principal).admits(competition):
        raise invalid_field(
            "submission.competition_not_found",
            "/competition_id",
            f"No competition has the id {competition_id}.",
        )
    return competition


def _check_registration(competition: Competition) -> None:
    """Entries are written while registration is open, up to its deadline (inclusive)."""
    found = _registration_problems(competition)
    if found:
        raise _refusal(found)


def _registration_problems(competition: Competition) -> list[Broken]:
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


async def _group(
    session: AsyncSession, competition: Competition, group_id: uuid.UUID
) -> CompetitionGroup:
    group = await session.get(CompetitionGroup, group_id)
    if group is None or group.competition_id != competition.id:
        raise invalid_field(
            "submission.group_not_found", "/group_id", "The group is not one of this competition's."
        )
    return group


async def _check_category(
    session: AsyncSession, competition: Competition, category_id: uuid.UUID
) -> None:
    category = await session.get(CompetitionCategory, category_id)
    if category is None or category.competition_id != competition.id:
        raise invalid_field(
            "submission.category_not_found",
            "/category_id",
            "The category is not one of this competition's.",
        )


async def _own_innovation(
    session: AsyncSession, principal: Principal, innovation_id: uuid.UUID
) -> Innovation:
    innovation = await session.get(Innovation, innovation_id)
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


async def _check_source(
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
    source = await session.get(Innovation, source_id)
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


async def _answers(
    session: AsyncSession,
    competition: Competition,
    group: CompetitionGroup,
    submission_id: uuid.UUID,
    answers: list[Any],
) -> list[SubmissionAnswer]:
    """The answers as rows, each to a criterion of the edition's first round for the group."""
    criteria = await _first_round_criteria(session, competition, group)
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


async def _first_round_criteria(
    session: AsyncSession, competition: Competition, group: CompetitionGroup
) -> list[RoundCriterion]:
    repo = SubmissionRepository(session)
    first = await repo.first_round(competition.id)
    return [] if first is None else await repo.criteria(first.id, group.id)


# --- writing entries ------------------------------------------------------------------------


async def create_submission(
    session: AsyncSession, principal: Principal, data: SubmissionCreate
) -> Submission:
    competition = await _competition_for_entry(session, principal, data.competition_id)
    _check_registration(competition)
    group = await _group(session, competition, data.group_id)
    await _check_category(session, competition, data.category_id)
    innovation = await _own_innovation(session, principal, data.innovation_id)
    await _check_source(session, group, innovation.id, data.source_innovation_id)
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
        status=St.draft,
    )
    answers = await _answers(session, competition, group, submission.id, data.answers)
    repo.add(submission)
    await session.flush()
    session.add_all(answers)
    await session.flush()
    await _audit(
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

    def shape(rows: list[SubmissionAnswer]) -> dict[str, Any]:
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
    loaded = await _load(session, principal, submission_id, for_update=True)
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
    _check_registration(competition)
    group = await _group(session, competition, submission.group_id)
    if changes.get("category_id") is not None:
        await _check_category(session, competition, changes["category_id"])
    if "source_innovation_id" in changes:
        await _check_source(
            session, group, submission.innovation_id, changes["source_innovation_id"]
        )
    repo = SubmissionRepository(session)
    extra: dict[str, Any] = {}
    if data.answers is not None:
        old = await repo.answers(submission.id)
        old_copy = [
            SubmissionAnswer(
                criterion_id=a.criterion_id, text=a.text, evidence_links=list(a.evidence_links)
            )
            for a in old
        ]
        new = await _answers(session, competition, group, submission.id, data.answers)
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
    await _audit(session, principal, "update", submission, before, extra=extra)
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
    if submission.status is not St.draft:
        raise Conflict(
            "submission.not_draft",
            f"The submission is {submission.status.value}: withdraw it instead (a draft only "
            "is deleted).",
            extra={"current_status": submission.status.value},
        )
    before = audit.snapshot(submission)
    await SubmissionRepository(session).delete(submission)
    await session.flush()
    await _audit(session, principal, "delete", submission, before)


# --- the rules ------------------------------------------------------------------------------


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
    group = await session.get(CompetitionGroup, submission.group_id)
    innovation = await session.get(Innovation, submission.innovation_id)
    assert group is not None  # foreign keys
    assert innovation is not None
    found: list[Broken] = []
    if registration:
        found.extend(_registration_problems(competition))
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
        elif not await _source_is_valid(session, submission):
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
    criteria = await _first_round_criteria(session, competition, group)
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


async def _source_is_valid(session: AsyncSession, submission: Submission) -> bool:
    source_id = submission.source_innovation_id
    source = None if source_id is None else await session.get(Innovation, source_id)
    return source is not None and source.status is InnovationStatus.published


def _refusal(found: list[Broken]) -> AppError:
    first = found[0]
    extra: dict[str, Any] = {
        "problems": [{"code": b.code, "message": b.message, **(b.extra or {})} for b in found],
        **(first.extra or {}),
    }
    if first.status == 422:
        errors = [field_error(b.pointer or "", b.code, b.message) for b in found if b.status == 422]
        return Unprocessable(first.code, first.message, errors=errors, extra=extra)
    return Conflict(first.code, first.message, extra=extra)


async def _check_rules(session: AsyncSession, loaded: Loaded, *, registration: bool) -> None:
    found = await broken_rules(
        session, loaded.submission, loaded.competition, registration=registration
    )
    if found:
        raise _refusal(found)


# --- the flow -------------------------------------------------------------------------------


def _check_step(submission: Submission, action: SubmissionAction) -> None:
    sources, _ = TRANSITIONS[action]
    if submission.status in sources:
        return
    allowed = [a.value for a, (s, _) in TRANSITIONS.items() if submission.status in s]
    raise invalid_transition(
        "submission.invalid_transition",
        action.value,
        "the submission",
        submission.status.value,
        allowed,
        targets={a.value: target for a, (_, target) in TRANSITIONS.items()},
    )


def _check_actor(principal: Principal, loaded: Loaded, action: SubmissionAction) -> None:
    submission = loaded.submission
    if action is A.screen:
        if not competitions.runs(principal, loaded.competition):
            raise Forbidden(
                "submission.out_of_scope",
                "Entries are screened by whoever runs the competition (the secretariat; a hub's "
                "admins for its provincial competition).",
            )
        return
    if action in (A.approve, A.return_):
        if not (
            principal.role is Role.local_admin
            and principal.institution_id == submission.institution_id
        ):
            raise Forbidden(
                "submission.out_of_scope",
                "The institution's local admin approves or returns its entries.",
            )
        return
    if not principal.acts_for(submission.institution_id, submission.unit_id):
        raise Forbidden(
            "submission.out_of_scope",
            "An entry is sent and withdrawn by its unit's operators and its institution's "
            "local admins.",
        )


async def transition_submission(
    session: AsyncSession,
    principal: Principal,
    submission_id: uuid.UUID,
    data: SubmissionTransition,
    preconditions: Preconditions,
) -> Submission:
    loaded = await _load(session, principal, submission_id, for_update=True)
    submission, competition = loaded.submission, loaded.competition
    action = data.action
    _check_actor(principal, loaded, action)
    preconditions.check_match(submission.version, entity="submission")
    _check_step(submission, action)
    if action is not A.screen and (data.outcome is not None or data.screening_reason):
        raise invalid_field(
            "submission.screening_fields",
            "/outcome",
            "outcome and screening_reason belong to the screen step.",
        )
    before = audit.snapshot(submission)
    now = dates.now()
    if action is A.submit:
        await _check_rules(session, loaded, registration=True)
        submission.status = St.awaiting_local_admin
        submission.sent_at = now
        submission.return_reason = None
    elif action is A.approve:
        await _check_rules(session, loaded, registration=True)
        first = await SubmissionRepository(session).first_round(competition.id)
        submission.status = St.submitted
        submission.submitted_at = now
        submission.round_id = first.id if first is not None else None
    elif action is A.return_:
        if data.reason is None:
            raise invalid_field(
                "submission.reason_required", "/reason", "Say what the unit should revise."
            )
        submission.status = St.returned
        submission.return_reason = data.reason
    elif action is A.withdraw:
        if competition.status in (*RESULTS_OUT, CompetitionStatus.cancelled):
            raise Conflict(
                "submission.competition_cancelled"
                if competition.status is CompetitionStatus.cancelled
                else "submission.results_published",
                f"The competition is {competition.status.value}: its entries are no longer "
                "withdrawn.",
                extra={"competition_status": competition.status.value},
            )
        submission.status = St.withdrawn
        submission.withdrawn_at = now
        submission.withdrawal_reason = data.reason
    else:
        await _screen(session, loaded, data)
    await session.flush()
    audit_action = "screen" if action is A.screen else action.value
    await _audit(session, principal, audit_action, submission, before, reason=data.reason)
    return submission


async def _screen(session: AsyncSession, loaded: Loaded, data: SubmissionTransition) -> None:
    submission, competition = loaded.submission, loaded.competition
    if competition.status not in SCREENING_OPEN:
        raise Conflict(
            "submission.screening_closed",
            f"The competition is {competition.status.value}: entries are screened while "
            "registration is open or closed, before evaluation.",
            extra={"competition_status": competition.status.value},
        )
    if data.outcome is None:
        raise invalid_field(
            "submission.outcome_required", "/outcome", "Screen the entry `in` or `out`."
        )
    if data.outcome is ScreeningOutcome.out:
        if data.screening_reason is None:
            raise invalid_field(
                "submission.screening_reason_required",
                "/screening_reason",
                "Say why the entry is screened out.",
            )
        submission.status = St.screened_out
        submission.screening_reason = data.screening_reason
    else:
        if data.screening_reason is not None:
            raise invalid_field(
                "submission.screening_reason_not_allowed",
                "/screening_reason",
                "A screening reason explains an entry screened out.",
            )
        await _check_rules(session, loaded, registration=False)
        submission.status = St.screened_in
        submission.screening_reason = None
    submission.screening_outcome = data.outcome
    submission.screening_note = data.reason
    submission.screened_at = dates.now()


async def expire_unsubmitted(
    session: AsyncSession, principal: Principal, competition: Competition
) -> int:
    """When registration closes: the entries never submitted expire (one event each)."""
    expired = await SubmissionRepository(session).expire_unsubmitted(competition.id, dates.now())
    for submission_id, institution_id, previous in expired:
        await audit.record(
            session,
            principal,
            "expire",
            ENTITY,
            submission_id,
            institution_id=institution_id,
            changes={"status": {"before": previous.value, "after": St.expired.value}},
        )
    return len(expired)


# --- the organiser's export -----------------------------------------------------------------


async def export_rows(
    session: AsyncSession, principal: Principal, competition_id: uuid.UUID
) -> AsyncIterator[RowMapping]:
    competition = await competitions.get_competition(session, principal, competition_id)
    if not competitions.runs(principal, competition):
        raise Forbidden(
            "submission.out_of_scope",
            "An edition's entries are exported by whoever runs it (the secretariat; a hub's "
            "admins for its provincial edition).",
        )
    return await SubmissionRepository(session).stream(competition.id)
