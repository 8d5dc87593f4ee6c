"""Ranking and closing a round: the organiser reads the ranking of the submitted evaluations
(ranking.py computes it) and closes the round, which records each entry's outcome, advances the
best entries and eliminates the rest (docs/evaluation.md).
"""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.errors import Conflict, Unprocessable, field_error
from app.core.security import Principal
from app.domains.audit import service as audit
from app.domains.competitions import access as competitions
from app.domains.evaluation import ranking
from app.domains.evaluation.access import round_of, run_round
from app.domains.evaluation.repository import EntryRow, EvaluationRepository
from app.domains.evaluation.schemas import (
    EvaluatorTotalRead,
    RankingEntry,
    RoundClose,
    RoundCloseResult,
    RoundRanking,
)
from app.models.competitions import CompetitionRound
from app.models.enums import AssignmentStatus, RoundOutcome, RoundStatus, SubmissionStatus
from app.models.evaluation import RoundResult

TIE_BREAK = (
    "Score, highest first (entries without a submitted evaluation last); then the smaller "
    "spread; then the earlier submission to the organiser; then the smaller submission id."
)


async def _ranked(
    session: AsyncSession, round_: CompetitionRound
) -> tuple[list[EntryRow], list[ranking.Ranked], dict[uuid.UUID, RoundResult]]:
    repo = EvaluationRepository(session)
    closed = round_.status is RoundStatus.closed
    entries = await (
        repo.entries_with_results(round_.id) if closed else repo.entries_in_round(round_.id)
    )
    criteria = [
        ranking.Criterion(c.id, c.group_id, c.weight, c.min_score, c.max_score)
        for c in await repo.criteria(round_.id)
    ]
    evaluations = [
        ranking.Evaluation(assignment_id, submission_id, evaluator_id, scores)
        for assignment_id, submission_id, evaluator_id, scores in await repo.submitted_scores(
            round_.id
        )
    ]
    settings = ranking.Settings(
        advance_quota=round_.advance_quota,
        passing_grade=round_.passing_grade,
        spread_threshold=round_.spread_threshold,
        normalise=round_.normalise_scores,
    )
    ranked = ranking.rank(
        criteria,
        [ranking.Entry(e.id, e.group_id, e.submitted_at) for e in entries],
        evaluations,
        settings,
    )
    results = await repo.results(round_.id) if closed else {}
    return entries, ranked, results


async def get_ranking(
    session: AsyncSession, principal: Principal, round_id: uuid.UUID
) -> RoundRanking:
    round_, competition = await round_of(session, principal, round_id)
    if not competitions.runs(principal, competition):
        raise competitions.out_of_scope()
    entries, ranked, results = await _ranked(session, round_)
    by_id = {e.id: e for e in entries}
    repo = EvaluationRepository(session)
    active = await repo.active(round_.id)
    pending = Counter(a.submission_id for a in active if a.status is AssignmentStatus.assigned)
    names = await repo.names(
        sorted({t.evaluator_id for item in ranked for t in item.totals}, key=str)
    )
    items = []
    for item in ranked:
        entry = by_id[item.submission_id]
        result = results.get(item.submission_id)
        items.append(
            RankingEntry(
                rank=item.rank,
                submission_id=item.submission_id,
                innovation_id=entry.innovation_id,
                innovation_title=entry.innovation_title,
                institution_id=entry.institution_id,
                institution_name=entry.institution_name,
                group_id=entry.group_id,
                score=None if item.score is None else float(item.score),
                spread=None if item.spread is None else float(item.spread),
                flagged=item.flagged,
                evaluations=[
                    EvaluatorTotalRead(
                        assignment_id=t.assignment_id,
                        evaluator_id=t.evaluator_id,
                        evaluator_name=names.get(t.evaluator_id, ""),
                        total=float(t.total),
                        counted=float(t.counted),
                    )
                    for t in item.totals
                ],
                pending_evaluations=pending[item.submission_id],
                advances=(
                    result.outcome is RoundOutcome.advanced if result is not None else item.advances
                ),
                outcome=None if result is None else result.outcome,
            )
        )
    return RoundRanking(
        round_id=round_.id,
        status=round_.status,
        normalise_scores=round_.normalise_scores,
        spread_threshold=float(round_.spread_threshold),
        advance_quota=round_.advance_quota,
        passing_grade=None if round_.passing_grade is None else float(round_.passing_grade),
        tie_break=TIE_BREAK,
        entries=items,
    )


async def close_round(
    session: AsyncSession,
    principal: Principal,
    round_id: uuid.UUID,
    data: RoundClose,
    preconditions: Preconditions,
) -> RoundCloseResult:
    """Close the round: refused while assignments are unscored or entries unassigned unless
    forced with a reason; records each entry's score, rank and outcome; moves the advancing
    entries to the next round (or makes them finalists after the last one), giving them the
    round's tier, and eliminates the rest."""
    round_, competition = await run_round(session, principal, round_id)
    preconditions.check_match(round_.version, entity="round")
    repo = EvaluationRepository(session)
    earlier = await repo.open_earlier_round(round_)
    if earlier is not None:
        raise Conflict(
            "round.earlier_open",
            f"Round {earlier.position} ({earlier.name}) is still open: rounds close in order.",
        )
    if data.force and data.reason is None:
        raise Unprocessable(
            "round.reason_required",
            "Say why the round is closed with evaluations missing.",
            errors=[field_error("/reason", "round.reason_required", "Say why.")],
        )
    entries = await repo.entries_in_round(round_.id)
    in_round = {e.id for e in entries}
    # Assignments of entries no longer evaluated here (disqualified since) do not hold it up.
    active = [a for a in await repo.active(round_.id) if a.submission_id in in_round]
    unscored = [a for a in active if a.status is AssignmentStatus.assigned]
    covered = {a.submission_id for a in active}
    unassigned = [e for e in entries if e.id not in covered]
    if (unscored or unassigned) and not data.force:
        raise Conflict(
            "round.unscored",
            f"{len(unscored)} assignments are not submitted and {len(unassigned)} entries have "
            "no evaluator: finish the evaluation, or close with force and a reason.",
            extra={
                "unscored_assignments": [str(a.id) for a in unscored],
                "unassigned_submissions": [str(e.id) for e in unassigned],
            },
        )
    _, ranked, _ = await _ranked(session, round_)
    following = await repo.next_round(round_)
    now = dates.now()
    submissions = {
        s.id: s for s in await repo.lock_submissions([item.submission_id for item in ranked])
    }
    advanced = 0
    for item in ranked:
        outcome = RoundOutcome.advanced if item.advances else RoundOutcome.eliminated
        repo.add_result(
            RoundResult(
                round_id=round_.id,
                submission_id=item.submission_id,
                score=item.score,
                rank=item.rank,
                outcome=outcome,
            )
        )
        submission = submissions[item.submission_id]
        before = audit.snapshot(submission)
        if item.advances:
            advanced += 1
            if round_.award_tier is not None:
                submission.final_tier = round_.award_tier
            if following is not None:
                submission.round_id = following.id
            else:
                submission.status = SubmissionStatus.finalist
        else:
            submission.status = SubmissionStatus.eliminated
        await session.flush()
        await audit.record(
            session,
            principal,
            "advance" if item.advances else "eliminate",
            "submission",
            submission.id,
            institution_id=submission.institution_id,
            changes=audit.diff(before, audit.snapshot(submission)),
        )
    before_round = audit.snapshot(round_)
    round_.status = RoundStatus.closed
    round_.closed_at = now
    round_.close_reason = data.reason if data.force else None
    await session.flush()
    await audit.record(
        session,
        principal,
        "close",
        "competition_round",
        round_.id,
        institution_id=competition.organiser_institution_id,
        changes=audit.diff(before_round, audit.snapshot(round_)),
        reason=data.reason,
    )
    return RoundCloseResult(
        round_id=round_.id,
        status=round_.status,
        closed_at=now,
        advanced=advanced,
        eliminated=len(ranked) - advanced,
        next_round_id=following.id if following is not None else None,
    )
