"""The `reminders.round-closing` job (hourly, README "Background jobs"): before an open round
closes, each evaluator with assignments not yet submitted is reminded, 48 hours before and
again 24 hours before (docs/notifications.md); each reminder once per evaluator, round and
window, however many ticks and workers see it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.domains.evaluation.repository import EvaluationRepository
from app.domains.notifications import audience, events

LEAD_TIMES = (timedelta(hours=48), timedelta(hours=24))


async def remind_closing_rounds(session: AsyncSession) -> int:
    """Emit the reminders due now; how many were emitted (already sent ones are not)."""
    now = dates.now()
    repo = EvaluationRepository(session)
    emitted = 0
    for round_ in await repo.rounds_closing(now, now + max(LEAD_TIMES)):
        assert round_.closes_at is not None
        lead = events.window(round_.closes_at - now, LEAD_TIMES)
        assert lead is not None
        hours = int(lead.total_seconds() // 3600)
        for evaluator_id, unscored in sorted(
            (await repo.unsubmitted_by_evaluator(round_.id)).items(), key=lambda i: str(i[0])
        ):
            # The deadline is part of the key: a round given a later deadline reminds again.
            key = (
                f"round.closing_soon:{round_.id}:{evaluator_id}:{hours}h:"
                f"{round_.closes_at.isoformat()}"
            )
            if await events.emit(
                session,
                "round.closing_soon",
                "competition_round",
                round_.id,
                audience=[audience.person(evaluator_id)],
                data={"unscored": unscored, "closes_at": events.wib(round_.closes_at)},
                refs={"competition": round_.competition_id, "round": round_.id},
                dedupe=key,
            ):
                emitted += 1
    return emitted
