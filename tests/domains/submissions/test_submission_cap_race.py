"""Concurrent approvals racing for the last places under a group's cap: exactly as many win as
there are places. The usual `client` shares one rolled-back session, where requests cannot
race; here the app runs on an engine of its own with the real unit of work (one connection and
transaction per request, as in production) over data committed for the test and removed after
it, as tests/core/test_errors.py does for the connection pool."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.session import create_engine, create_sessionmaker
from app.domains.accounts.schemas import ApiKeyCreate
from app.domains.accounts.service import issue_api_key
from app.main import create_app
from app.models.accounts import ApiKey
from app.models.audit import AuditEvent
from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.enums import (
    CompetitionScope,
    CompetitionStatus,
    InnovationStage,
    InnovationStatus,
    InstitutionKind,
    Role,
    RoundKind,
    SubmissionStatus,
)
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from app.models.submissions import Submission, SubmissionAnswer
from tests.conftest import COMPLETE_SECTIONS, client_for, make_settings
from tests.domains.competitions.conftest import KIPP_2023_UMUM


@dataclass
class Committed:
    """What the race runs on, committed; `ids` of every row made, to remove them after."""

    engine: AsyncEngine
    local: dict[str, str] = field(default_factory=dict)
    competition_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    institution_ids: list[uuid.UUID] = field(default_factory=list)
    key_ids: list[uuid.UUID] = field(default_factory=list)
    innovation_ids: list[uuid.UUID] = field(default_factory=list)
    unit_ids: list[uuid.UUID] = field(default_factory=list)


async def _build(
    session: AsyncSession, c: Committed, cap: int, taken: int, racers: int
) -> list[str]:
    """An open edition whose general group takes `cap` entries per institution, `taken` of them
    already submitted, and `racers` entries waiting for the local admin; their ids."""
    suffix = uuid.uuid4().hex[:8]
    organiser = Institution(name=f"Kementerian Balapan {suffix}", kind=InstitutionKind.kementerian)
    medan = Institution(
        name=f"Pemerintah Kota Balapan {suffix}", kind=InstitutionKind.pemkot, region_code="12.71"
    )
    session.add_all([organiser, medan])
    await session.flush()
    c.institution_ids += [organiser.id, medan.id]
    unit = Unit(institution_id=medan.id, name=f"Unit Balapan {suffix}")
    session.add(unit)
    await session.flush()
    c.unit_ids.append(unit.id)
    now = datetime.now(UTC)
    competition = Competition(
        code=f"RACE-{suffix.upper()}",
        name="Kompetisi Balapan",
        year=2026,
        scope=CompetitionScope.national,
        organiser_institution_id=organiser.id,
        legal_basis=[],
        sdg_required=True,
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=now + timedelta(days=30),
        status=CompetitionStatus.registration_open,
    )
    session.add(competition)
    await session.flush()
    c.competition_id = competition.id
    group = CompetitionGroup(
        competition_id=competition.id,
        code="umum",
        name="Kelompok Umum",
        min_implementation_months=0,
        max_submissions_per_institution=cap,
        ineligible_award_tiers=[],
        requires_source_innovation=False,
        source_award_tiers=[],
    )
    category = CompetitionCategory(competition_id=competition.id, code="umum", name="Umum")
    round_ = CompetitionRound(
        competition_id=competition.id, position=1, kind=RoundKind.desk_evaluation, name="Tahap 1"
    )
    session.add_all([group, category, round_])
    await session.flush()
    c.group_id = group.id
    criteria = [
        RoundCriterion(
            competition_id=competition.id,
            round_id=round_.id,
            group_id=group.id,
            position=position,
            name=name,
            weight=weight,
        )
        for position, (name, weight) in enumerate(KIPP_2023_UMUM, start=1)
    ]
    session.add_all(criteria)
    await session.flush()
    waiting: list[str] = []
    for index in range(taken + racers):
        innovation = Innovation(
            institution_id=medan.id,
            unit_id=unit.id,
            status=InnovationStatus.published,
            published_at=now,
            title=f"BALAPAN-{suffix}-{index}",
            year_started=2021,
            implemented_date=date(2021, 7, 1),
            is_digital=True,
            stage=InnovationStage.penerapan,
            sdgs=[16],
            sections=dict(COMPLETE_SECTIONS),
        )
        session.add(innovation)
        await session.flush()
        c.innovation_ids.append(innovation.id)
        status = (
            SubmissionStatus.submitted if index < taken else SubmissionStatus.awaiting_local_admin
        )
        submission = Submission(
            competition_id=competition.id,
            group_id=group.id,
            category_id=category.id,
            innovation_id=innovation.id,
            institution_id=medan.id,
            unit_id=unit.id,
            status=status,
            round_id=round_.id if index < taken else None,
            sent_at=now,
            submitted_at=now if index < taken else None,
        )
        session.add(submission)
        await session.flush()
        session.add_all(
            SubmissionAnswer(submission_id=submission.id, criterion_id=k.id, text="Jawaban.")
            for k in criteria
        )
        if index >= taken:
            waiting.append(str(submission.id))
    issued = await issue_api_key(
        session,
        None,
        ApiKeyCreate(name="race local admin", role=Role.local_admin, institution_id=medan.id),
    )
    c.key_ids.append(issued.key.id)
    c.local = {"Authorization": f"Bearer {issued.secret}"}
    await session.flush()
    return waiting


async def _clean(session: AsyncSession, c: Committed) -> None:
    """Remove every row the race made, its audit events included (the trail is append-only for
    the app; a test database's owner may bypass that trigger for its own rows)."""
    if c.competition_id is not None:
        await session.execute(
            delete(Submission).where(Submission.competition_id == c.competition_id)
        )
        await session.execute(delete(Competition).where(Competition.id == c.competition_id))
    if c.innovation_ids:
        await session.execute(delete(Innovation).where(Innovation.id.in_(c.innovation_ids)))
    if c.key_ids:
        await session.execute(delete(ApiKey).where(ApiKey.id.in_(c.key_ids)))
    if c.unit_ids:
        await session.execute(delete(Unit).where(Unit.id.in_(c.unit_ids)))
    if c.institution_ids:
        await session.execute(delete(Institution).where(Institution.id.in_(c.institution_ids)))
    await session.commit()
    ours = [str(i) for i in (*c.key_ids, *c.institution_ids, *c.unit_ids, *c.innovation_ids)]
    if c.competition_id is not None:
        ours.append(str(c.competition_id))
    try:
        await session.execute(text("SET LOCAL session_replication_role = replica"))
        await session.execute(
            delete(AuditEvent).where(
                or_(
                    AuditEvent.institution_id.in_(c.institution_ids), AuditEvent.entity_id.in_(ours)
                )
            )
        )
        await session.commit()
    except Exception:  # not the database's owner: the events stay (they name no live rows)
        await session.rollback()


@pytest.fixture
async def race(database_url: URL) -> AsyncIterator[Committed]:
    settings = make_settings(database_url)
    engine = create_engine(database_url, settings)
    committed = Committed(engine=engine)
    try:
        yield committed
    finally:
        async with create_sessionmaker(engine)() as session:
            await _clean(session, committed)
        await engine.dispose()


# Every database call of the app's sessions, slowed: the requests' reads and writes interleave
# (a check-then-write without a lock lets several approvals through).
SLOWED = ("execute", "scalar", "scalars", "get", "flush")


def slow_sessions(monkeypatch: pytest.MonkeyPatch, seconds: float = 0.02) -> None:
    for name in SLOWED:
        original = getattr(AsyncSession, name)

        async def slowed(
            self: AsyncSession, *args: Any, _original: Any = original, **kwargs: Any
        ) -> Any:
            await asyncio.sleep(seconds)
            return await _original(self, *args, **kwargs)

        monkeypatch.setattr(AsyncSession, name, slowed)


async def _run(
    race: Committed,
    database_url: URL,
    cap: int,
    taken: int,
    racers: int,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> list[httpx.Response]:
    async with create_sessionmaker(race.engine)() as session:
        waiting = await _build(session, race, cap, taken, racers)
        await session.commit()
    if monkeypatch is not None:
        slow_sessions(monkeypatch)
    app = create_app(make_settings(database_url), engine=race.engine)
    try:
        async with client_for(app) as client:
            tags = {}
            for sid in waiting:
                got = await client.get(f"/v1/submissions/{sid}", headers=race.local)
                assert got.status_code == 200, got.text
                tags[sid] = got.headers["ETag"]
            return list(
                await asyncio.gather(
                    *(
                        client.post(
                            f"/v1/submissions/{sid}/transitions",
                            json={"action": "approve"},
                            headers={**race.local, "If-Match": tags[sid]},
                        )
                        for sid in waiting
                    )
                )
            )
    finally:
        await app.state.rate_limiter.aclose()


async def _statuses(race: Committed) -> dict[str, int]:
    async with create_sessionmaker(race.engine)() as session:
        rows = await session.execute(
            select(Submission.status, func.count())
            .where(Submission.competition_id == race.competition_id)
            .group_by(Submission.status)
        )
        return {status.value: count for status, count in rows.all()}


@pytest.mark.parametrize(
    ("cap", "taken", "racers", "slowed"),
    [(1, 0, 3, False), (3, 2, 5, False), (2, 1, 4, True)],
    ids=["first_place", "last_of_three", "interleaved"],
)
async def test_concurrent_approvals_for_the_last_place_one_wins(
    race: Committed,
    database_url: URL,
    monkeypatch: pytest.MonkeyPatch,
    cap: int,
    taken: int,
    racers: int,
    slowed: bool,
) -> None:
    responses = await _run(race, database_url, cap, taken, racers, monkeypatch if slowed else None)
    won = [r for r in responses if r.status_code == 200]
    lost = [r for r in responses if r.status_code != 200]
    assert len(won) == 1, [r.text for r in responses]
    assert won[0].json()["status"] == "submitted"
    for response in lost:
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "submission.over_cap", response.text
    assert await _statuses(race) == {
        "submitted": cap,
        "awaiting_local_admin": racers - 1,
    }
