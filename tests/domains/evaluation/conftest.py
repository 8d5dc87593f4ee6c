"""The evaluation's world: a national edition in evaluation with a general group, a category
and two rounds (the first with KIPP 2023's general criteria, quota 3 and the tier top_45; the
last with two criteria on a 1..5 scale, quota 1 and the tier top_5), entries screened in from
Pemkot Medan (12.71), Pemkot Surabaya (35.78) and a ministry, and evaluator accounts: one of
Pemprov Sumatera Utara (12: same province as Medan), one of the ministry, two academics without
an institution. Everything is stored straight in the database; the tests use the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models.accounts import User
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
    InnovationStatus,
    InstitutionKind,
    Role,
    RoundKind,
    ScreeningOutcome,
    SubmissionStatus,
)
from app.models.institutions import Institution, Unit
from app.models.submissions import Submission, SubmissionAnswer
from tests.conftest import (
    InnovationFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
    UserFactory,
    bearer_for,
)
from tests.domains.competitions.conftest import KIPP_2023_UMUM
from tests.fixtures.etag import if_match

Headers = dict[str, str]
FINAL_CRITERIA = (("Presentasi", 40), ("Wawancara", 60))


@dataclass
class EvalWorld:
    client: httpx.AsyncClient
    session: AsyncSession
    settings: Settings
    auth: KeyFactory
    make_user: UserFactory
    make_innovation: InnovationFactory
    make_unit: UnitFactory
    admin: Headers
    kemenpan: Institution
    ministry: Institution
    sumut: Institution
    medan: Institution
    surabaya: Institution
    units: dict[uuid.UUID, Unit]
    competition: Competition
    umum: CompetitionGroup
    category: CompetitionCategory
    round1: CompetitionRound
    round2: CompetitionRound
    criteria1: list[RoundCriterion]
    criteria2: list[RoundCriterion]
    # Evaluators by name: sumut (Pemprov Sumut), ministry (the ministry), dosen_a, dosen_b.
    evaluators: dict[str, User] = field(default_factory=dict)

    def headers(self, user: User) -> Headers:
        return bearer_for(self.settings, user)

    async def evaluator(self, name: str, institution: Institution | None = None) -> User:
        user = await self.make_user(
            Role.evaluator,
            name=f"Penilai {name}",
            institution_id=institution.id if institution else None,
        )
        self.evaluators[name] = user
        return user

    async def entry(
        self,
        institution: Institution,
        *,
        submitted_at: datetime | None = None,
        round_: CompetitionRound | None = None,
        status: SubmissionStatus = SubmissionStatus.screened_in,
        title: str | None = None,
    ) -> Submission:
        """A screened-in entry of a new published innovation of the institution, in round 1
        (unless told), with answers to round 1's criteria."""
        unit = self.units[institution.id]
        innovation = await self.make_innovation(
            unit,
            status=InnovationStatus.published,
            **({"title": title} if title else {}),
        )
        submission = Submission(
            competition_id=self.competition.id,
            group_id=self.umum.id,
            category_id=self.category.id,
            innovation_id=innovation.id,
            institution_id=institution.id,
            unit_id=unit.id,
            status=status,
            round_id=(round_ or self.round1).id,
            sent_at=submitted_at or datetime.now(UTC),
            submitted_at=submitted_at or datetime.now(UTC),
            screening_outcome=ScreeningOutcome.in_,
            screened_at=datetime.now(UTC),
        )
        self.session.add(submission)
        await self.session.flush()
        for criterion in self.criteria1:
            self.session.add(
                SubmissionAnswer(
                    submission_id=submission.id, criterion_id=criterion.id, text="Jawaban."
                )
            )
        await self.session.flush()
        return submission

    # --- the API ----------------------------------------------------------------------------

    async def assign(
        self, round_: CompetitionRound, submission: Submission, evaluator: User, **kw: Any
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/rounds/{round_.id}/assignments",
            json={"submission_id": str(submission.id), "evaluator_id": str(evaluator.id)},
            headers=kw.get("headers", self.admin),
        )

    async def assigned(
        self, round_: CompetitionRound, submission: Submission, evaluator: User
    ) -> dict[str, Any]:
        response = await self.assign(round_, submission, evaluator)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def sheet(
        self, round_: CompetitionRound, value: int | Decimal | list[int | Decimal]
    ) -> list[dict[str, Any]]:
        """Scores for every criterion of the round: one value for all, or one per criterion."""
        criteria = self.criteria1 if round_.id == self.round1.id else self.criteria2
        values = value if isinstance(value, list) else [value] * len(criteria)
        return [
            {"criterion_id": str(c.id), "score": str(v)}
            for c, v in zip(criteria, values, strict=True)
        ]

    async def score(
        self,
        assignment: dict[str, Any],
        evaluator: User,
        scores: list[dict[str, Any]],
        *,
        submit: bool = True,
        **body: Any,
    ) -> httpx.Response:
        return await self.client.put(
            f"/v1/assignments/{assignment['id']}/scores",
            json={"scores": scores, "submit": submit, **body},
            headers=await if_match(
                self.client, f"/v1/assignments/{assignment['id']}/scores", self.headers(evaluator)
            ),
        )

    async def scored(
        self,
        round_: CompetitionRound,
        submission: Submission,
        evaluator: User,
        value: int | Decimal | list[int | Decimal],
    ) -> dict[str, Any]:
        """Assign, score every criterion with `value` and submit."""
        assignment = await self.assigned(round_, submission, evaluator)
        response = await self.score(assignment, evaluator, self.sheet(round_, value))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def ranking(self, round_: CompetitionRound, headers: Headers | None = None) -> Any:
        response = await self.client.get(
            f"/v1/rounds/{round_.id}/ranking", headers=headers or self.admin
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def close(self, round_: CompetitionRound, **body: Any) -> httpx.Response:
        return await self.client.post(
            f"/v1/rounds/{round_.id}/close", json=body, headers=self.admin
        )


@pytest.fixture
async def ew(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    auth: KeyFactory,
    make_user: UserFactory,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_innovation: InnovationFactory,
) -> EvalWorld:
    kemenpan = await make_institution("Kementerian PANRB Uji", InstitutionKind.kementerian)
    ministry = await make_institution("Kementerian Kesehatan Uji", InstitutionKind.kementerian)
    sumut = await make_institution("Pemprov Sumatera Utara Uji", InstitutionKind.pemprov, "12")
    medan = await make_institution("Pemkot Medan Uji", InstitutionKind.pemkot, "12.71")
    surabaya = await make_institution("Pemkot Surabaya Uji", InstitutionKind.pemkot, "35.78")
    units = {i.id: await make_unit(i) for i in (ministry, sumut, medan, surabaya)}
    now = datetime.now(UTC)
    competition = Competition(
        code=f"KIPP-{uuid.uuid4().hex[:8].upper()}",
        name="KIPP Uji 2026",
        year=2026,
        scope=CompetitionScope.national,
        organiser_institution_id=kemenpan.id,
        legal_basis=[],
        registration_opens_at=now - timedelta(days=60),
        registration_closes_at=now - timedelta(days=30),
        status=CompetitionStatus.evaluation,
    )
    session.add(competition)
    await session.flush()
    umum = CompetitionGroup(competition_id=competition.id, code="umum", name="Umum")
    category = CompetitionCategory(competition_id=competition.id, code="digital", name="Digital")
    round1 = CompetitionRound(
        competition_id=competition.id,
        position=1,
        kind=RoundKind.desk_evaluation,
        name="Evaluasi Proposal",
        advance_quota=3,
        award_tier="top_45",
    )
    round2 = CompetitionRound(
        competition_id=competition.id,
        position=2,
        kind=RoundKind.interview,
        name="Presentasi dan Wawancara",
        advance_quota=1,
        award_tier="top_5",
    )
    session.add_all([umum, category, round1, round2])
    await session.flush()
    criteria1 = [
        RoundCriterion(
            competition_id=competition.id,
            round_id=round1.id,
            group_id=umum.id,
            position=i,
            name=name,
            weight=weight,
            min_score=0,
            max_score=100,
        )
        for i, (name, weight) in enumerate(KIPP_2023_UMUM, start=1)
    ]
    criteria2 = [
        RoundCriterion(
            competition_id=competition.id,
            round_id=round2.id,
            group_id=umum.id,
            position=i,
            name=name,
            weight=weight,
            min_score=1,
            max_score=5,
        )
        for i, (name, weight) in enumerate(FINAL_CRITERIA, start=1)
    ]
    session.add_all(criteria1 + criteria2)
    await session.flush()
    for item in (competition, round1, round2):
        await session.refresh(item)
    world = EvalWorld(
        client=client,
        session=session,
        settings=settings,
        auth=auth,
        make_user=make_user,
        make_innovation=make_innovation,
        make_unit=make_unit,
        admin=await auth(Role.secretariat_admin),
        kemenpan=kemenpan,
        ministry=ministry,
        sumut=sumut,
        medan=medan,
        surabaya=surabaya,
        units=units,
        competition=competition,
        umum=umum,
        category=category,
        round1=round1,
        round2=round2,
        criteria1=criteria1,
        criteria2=criteria2,
    )
    await world.evaluator("sumut", sumut)
    await world.evaluator("ministry", ministry)
    await world.evaluator("dosen_a")
    await world.evaluator("dosen_b")
    return world


__all__ = ["EvalWorld", "date"]
