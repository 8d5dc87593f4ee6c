"""The `reminders.approvals` job (hourly, README "Background jobs"): before an edition's
registration closes, the local admins of each institution with entries still waiting for their
approval are reminded, 72 hours before and again 24 hours before (docs/notifications.md);
each reminder once per institution, edition and window, however many ticks and workers see
it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.domains.notifications import audience, events
from app.domains.submissions.repository import SubmissionRepository

LEAD_TIMES = (timedelta(hours=72), timedelta(hours=24))


async def remind_approvals(session: AsyncSession) -> int:
    """Emit the reminders due now; how many were emitted (already sent ones are not)."""
    now = dates.now()
    repo = SubmissionRepository(session)
    emitted = 0
    for competition in await repo.registration_closing(now, now + max(LEAD_TIMES)):
        closes_at = competition.registration_closes_at
        assert closes_at is not None
        lead = events.window(closes_at - now, LEAD_TIMES)
        assert lead is not None
        hours = int(lead.total_seconds() // 3600)
        waiting = await repo.awaiting_by_institution(competition.id)
        for institution_id, count in sorted(waiting.items(), key=lambda i: str(i[0])):
            key = (
                f"submission.approval_reminder:{competition.id}:{institution_id}:{hours}h:"
                f"{closes_at.isoformat()}"
            )
            if await events.emit(
                session,
                "submission.approval_reminder",
                "competition",
                competition.id,
                audience=[audience.local_admins(institution_id)],
                institution_id=institution_id,
                data={"count": count, "closes_at": events.wib(closes_at)},
                refs={"competition": competition.id},
                dedupe=key,
            ):
                emitted += 1
    return emitted
