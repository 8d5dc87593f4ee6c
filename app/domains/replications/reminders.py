"""The `reminders.replication-evaluations` job (daily at 08:00 WIB, README "Background
jobs"): a replication implemented 30, 60 and 90 days ago whose evaluation is not recorded yet
reminds its adopter's side (docs/notifications.md), once per replication each time; after
that, nothing more."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.domains.notifications import events
from app.domains.replications.repository import ReplicationRepository
from app.domains.replications.service import ENTITY, sides

EVERY = timedelta(days=30)
TIMES = 3


async def remind_evaluations(session: AsyncSession) -> int:
    """Emit the reminders due today (WIB); how many were emitted (already sent ones are
    not)."""
    today = dates.today_wib()
    emitted = 0
    for replication in await ReplicationRepository(session).implemented_before(today - EVERY):
        implemented = replication.implemented_date
        assert implemented is not None
        # The latest of the reminders due (a worker idle for days sends one, not several).
        nth = min((today - implemented) // EVERY, TIMES)
        if await events.emit(
            session,
            "replication.evaluation_due",
            ENTITY,
            replication.id,
            audience=sides(replication, adopter=True),
            institution_id=replication.adopter_institution_id,
            data={"implemented_date": implemented},
            refs={"innovation": replication.source_innovation_id},
            dedupe=f"replication.evaluation_due:{replication.id}:{nth}",
        ):
            emitted += 1
    return emitted
