"""The `competitions.close-registration` job: an edition open past its deadline closes
registration as its organiser's `close_registration` would, recorded as `system`."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from app.core import dates
from app.core.config import Settings
from app.domains.competitions.service import close_registrations_past_deadline
from app.domains.jobs import builtin
from app.domains.jobs.kinds import JobContext
from app.models.audit import AuditEvent
from app.models.competitions import Competition
from app.models.enums import CompetitionStatus, SubmissionStatus
from tests.domains.submissions.conftest import World


async def test_the_deadline_job_closes_registration_and_expires_what_was_never_submitted(
    w: World, settings: Settings
) -> None:
    draft = await w.draft(w.inov)
    other = await w.edition(code="KIPP-LATER")  # its deadline is still ahead
    now = dates.now()
    await w.session.execute(
        update(Competition)
        .where(Competition.id == w.kipp.id)
        .values(
            registration_opens_at=now - timedelta(days=30),
            registration_closes_at=now - timedelta(minutes=1),
        )
    )
    await w.session.flush()
    job = builtin.CLOSE_REGISTRATION
    await job.handler(JobContext(w.session, settings, uuid.uuid4(), 1), {})
    await w.session.flush()

    closed = await w.session.get(Competition, w.kipp.id, populate_existing=True)
    assert closed is not None
    assert closed.status is CompetitionStatus.registration_closed
    later = await w.session.get(Competition, other.id, populate_existing=True)
    assert later is not None
    assert later.status is CompetitionStatus.registration_open
    assert (await w.row(draft["id"])).status is SubmissionStatus.expired
    events = (
        await w.session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_id.in_([str(w.kipp.id), draft["id"]]),
                AuditEvent.actor_kind == "system",
            )
        )
    ).all()
    assert sorted((e.entity_type, e.action) for e in events) == [
        ("competition", "close_registration"),
        ("submission", "expire"),
    ]
    # run again (the next tick): nothing left to close
    assert await close_registrations_past_deadline(w.session) == 0
