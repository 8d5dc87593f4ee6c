"""The submissions' world, on top of the competitions' one: an open national KIPP edition (a
general group with KIPP 2023's first-round criteria, a replication group that names a source
innovation, a category, a second round), Pemkot Medan (two units) and Pemkot Surabaya (one),
published innovations of theirs with an implementation date and an SDG, a key per role, and
helpers that create a submission and walk it through the API, and store awards directly."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.competitions import (
    Competition,
    CompetitionCategory,
    CompetitionGroup,
    CompetitionRound,
    RoundCriterion,
)
from app.models.enums import (
    CompetitionStatus,
    HubStatus,
    InnovationStatus,
    InstitutionKind,
    Role,
    RoundKind,
    ScreeningOutcome,
    ScreeningReason,
    SubmissionStatus,
)
from app.models.hubs import Hub
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from app.models.submissions import Award, Submission, SubmissionAnswer
from tests.conftest import (
    HubFactory,
    InnovationFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
)
from tests.domains.competitions.conftest import KIPP_2023_UMUM
from tests.domains.competitions.conftest import World as CompetitionWorld

Headers = dict[str, str]
S = CompetitionStatus
PATH = "/v1/submissions"
# The replication group's first-round criteria (weights summing to 100).
REPLIKASI = (("Inovasi Sumber", 40), ("Adaptasi", 60))


@dataclass
class Edition:
    """An edition with its general and replication groups, a category, two rounds, and the
    first round's criteria per group (in position order)."""

    competition: Competition
    umum: CompetitionGroup
    replikasi: CompetitionGroup
    category: CompetitionCategory
    round1: CompetitionRound
    round2: CompetitionRound
    criteria: dict[uuid.UUID, list[RoundCriterion]] = field(default_factory=dict)

    @property
    def id(self) -> uuid.UUID:
        return self.competition.id

    def answers(self, group: CompetitionGroup | None = None) -> list[dict[str, Any]]:
        """A complete set of answers for the group's first-round criteria (general unless told)."""
        group = group or self.umum
        return [
            {
                "criterion_id": str(c.id),
                "text": f"Jawaban untuk {c.name}.",
                "evidence_links": [f"https://contoh.go.id/bukti/{c.position}"],
            }
            for c in self.criteria[group.id]
        ]


@dataclass
class World(CompetitionWorld):
    """Adds Pemkot Surabaya with a unit, a second Medan unit, an open KIPP edition, published
    innovations of Medan's first unit and of Surabaya, and a key per role."""

    make_innovation: InnovationFactory
    surabaya: Institution
    surabaya_unit: Unit
    medan_unit2: Unit
    kipp: Edition
    inov: Innovation  # Medan's first unit
    inov_sby: Innovation  # Surabaya's unit
    operator: Headers  # Medan's first unit
    operator2: Headers  # Medan's second unit
    local: Headers  # Medan
    operator_sby: Headers
    local_sby: Headers
    evaluator: Headers
    regional: Headers  # regional_system of Medan
    hub_admin_sumut: Headers

    # --- editions ---------------------------------------------------------------------------

    async def edition(
        self,
        status: CompetitionStatus = S.registration_open,
        hub: Hub | None = None,
        umum: dict[str, Any] | None = None,
        replikasi: dict[str, Any] | None = None,
        **fields: Any,
    ) -> Edition:
        """An edition with its structure: the general group with KIPP 2023's eight criteria,
        the replication group (source innovation required) with two, round 2 without any."""
        competition = await self.competition(status, hub, **fields)
        umum_group = await self.group(competition, "umum", **(umum or {}))
        rules = {"requires_source_innovation": True, **(replikasi or {})}
        replikasi_group = await self.group(competition, "replikasi", **rules)
        category = await self.category(competition, "pelayanan_publik")
        round1 = await self.round(competition, 1, name="Evaluasi Proposal")
        round2 = await self.round(competition, 2, kind=RoundKind.interview, name="Wawancara")
        edition = Edition(competition, umum_group, replikasi_group, category, round1, round2)
        for group, weights in ((umum_group, KIPP_2023_UMUM), (replikasi_group, REPLIKASI)):
            edition.criteria[group.id] = [
                await self.criterion(round1, group, weight, name=name, position=position)
                for position, (name, weight) in enumerate(weights, start=1)
            ]
            # Round 2 has criteria too: they are not answered at registration.
            await self.criterion(round2, group, 100, name="Presentasi", position=1)
        return edition

    async def set_status(self, edition: Edition, status: CompetitionStatus) -> None:
        """Move the edition straight in the database (the competitions' own tests cover how)."""
        values: dict[str, Any] = {"status": status}
        if status is S.cancelled:
            values.update(cancelled_at=datetime.now(UTC), cancellation_reason="Dibatalkan.")
        await self.session.execute(
            update(Competition).where(Competition.id == edition.id).values(**values)
        )
        await self.session.flush()

    async def set_group(self, group: CompetitionGroup, **rules: Any) -> None:
        await self.session.execute(
            update(CompetitionGroup).where(CompetitionGroup.id == group.id).values(**rules)
        )
        await self.session.flush()

    # --- innovations and awards ---------------------------------------------------------------

    async def innovation(
        self,
        unit: Unit | None = None,
        implemented: date | None = date(2021, 7, 1),
        status: InnovationStatus = InnovationStatus.published,
        **fields: Any,
    ) -> Innovation:
        """A published innovation of `unit` (Medan's first unless told), implemented on
        `implemented` (None: no date)."""
        fields["implemented_date"] = implemented
        fields.setdefault("year_started", implemented.year if implemented else 2020)
        return await self.make_innovation(unit or self.medan_unit, status, **fields)

    async def set_innovation(self, innovation: Innovation, **values: Any) -> None:
        await self.session.execute(
            update(Innovation).where(Innovation.id == innovation.id).values(**values)
        )
        await self.session.flush()

    async def award(
        self,
        innovation: Innovation,
        tier: str = "top_45",
        year: int = 2022,
        competition: Competition | None = None,
    ) -> Award:
        award = Award(
            innovation_id=innovation.id,
            institution_id=innovation.institution_id,
            competition_id=competition.id if competition else None,
            tier=tier,
            year=year,
            title=f"{tier.replace('_', ' ').title()} KIPP {year}",
        )
        return await self._add(award)

    async def entry_row(
        self,
        edition: Edition,
        innovation: Innovation,
        status: str,
        group: CompetitionGroup | None = None,
        **fields: Any,
    ) -> Submission:
        """A submission stored straight in the database at `status` (to fill a cap quickly),
        with a complete set of answers."""
        group = group or edition.umum
        if status not in ("draft", "awaiting_local_admin", "returned", "expired", "withdrawn"):
            fields.setdefault("round_id", edition.round1.id)
        if status in ("screened_in", "screened_out"):
            outcome = ScreeningOutcome.in_ if status == "screened_in" else ScreeningOutcome.out
            fields.setdefault("screening_outcome", outcome)
            fields.setdefault("screened_at", datetime.now(UTC))
            if status == "screened_out":
                fields.setdefault("screening_reason", ScreeningReason.other)
        submission = Submission(
            competition_id=edition.id,
            group_id=group.id,
            category_id=edition.category.id,
            innovation_id=innovation.id,
            institution_id=innovation.institution_id,
            unit_id=innovation.unit_id,
            status=SubmissionStatus(status),
            **fields,
        )
        await self._add(submission)
        for criterion in edition.criteria[group.id]:
            self.session.add(
                SubmissionAnswer(
                    submission_id=submission.id, criterion_id=criterion.id, text="Jawaban."
                )
            )
        await self.session.flush()
        return submission

    # --- the API --------------------------------------------------------------------------------

    async def create(
        self,
        innovation: Innovation | None = None,
        headers: Headers | None = None,
        edition: Edition | None = None,
        group: CompetitionGroup | None = None,
        **body: Any,
    ) -> httpx.Response:
        """POST /submissions for `innovation` (w.inov) in `edition` (w.kipp), general group,
        with every answer, as Medan's first unit's operator unless told."""
        edition = edition or self.kipp
        group = group or edition.umum
        innovation = innovation or self.inov
        payload: dict[str, Any] = {
            "competition_id": str(edition.id),
            "group_id": str(group.id),
            "category_id": str(edition.category.id),
            "innovation_id": str(innovation.id),
            # A group of another edition has no criteria here: no answers to give.
            "answers": edition.answers(group) if group.id in edition.criteria else [],
        }
        payload.update(body)
        return await self.client.post(PATH, json=payload, headers=headers or self.operator)

    async def draft(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """A draft created through the API (the response body)."""
        response = await self.create(*args, **kwargs)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def get(self, submission_id: str, headers: Headers | None = None) -> httpx.Response:
        return await self.client.get(
            f"{PATH}/{submission_id}", headers=self.admin if headers is None else headers
        )

    async def etag(self, submission_id: str) -> str:
        response = await self.get(submission_id)
        assert response.status_code == 200, response.text
        return response.headers["ETag"]

    async def step(
        self, submission_id: str, action: str, headers: Headers, **body: Any
    ) -> httpx.Response:
        """One transition, with the current ETag as If-Match."""
        tag = await self.etag(submission_id)
        return await self.client.post(
            f"{PATH}/{submission_id}/transitions",
            json={"action": action, **body},
            headers={**headers, "If-Match": tag},
        )

    async def ok(
        self, submission_id: str, action: str, headers: Headers, **body: Any
    ) -> dict[str, Any]:
        response = await self.step(submission_id, action, headers, **body)
        assert response.status_code == 200, f"{action}: {response.text}"
        result: dict[str, Any] = response.json()
        return result

    async def move(
        self,
        submission: dict[str, Any],
        target: str,
        *,
        operator: Headers | None = None,
        local: Headers | None = None,
        screener: Headers | None = None,
    ) -> dict[str, Any]:
        """Walk a draft through the API to `target` (awaiting_local_admin, returned, submitted,
        screened_in, screened_out, withdrawn)."""
        operator, local, screener = operator or self.operator, local or self.local, screener
        screener = screener or self.admin
        sid = submission["id"]
        if target == "draft":
            return submission
        body = await self.ok(sid, "submit", operator)
        if target == "awaiting_local_admin":
            return body
        if target == "returned":
            return await self.ok(sid, "return", local, reason="Lengkapi bukti dukung.")
        if target == "withdrawn":
            return await self.ok(sid, "withdraw", operator, reason="Tidak jadi ikut.")
        body = await self.ok(sid, "approve", local)
        if target == "submitted":
            return body
        if target == "screened_in":
            return await self.ok(sid, "screen", screener, outcome="in")
        assert target == "screened_out", target
        return await self.ok(sid, "screen", screener, outcome="out", screening_reason="incomplete")

    async def at(
        self, target: str, innovation: Innovation | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """A new submission of `innovation` (a fresh Medan innovation unless told) at `target`."""
        innovation = innovation or await self.innovation()
        return await self.move(await self.draft(innovation), target, **kwargs)

    async def row(self, submission_id: str | uuid.UUID) -> Submission:
        """The submission as the database holds it now."""
        found = await self.stored(Submission, submission_id)
        assert found is not None
        return found

    async def answers_of(self, submission_id: str | uuid.UUID) -> dict[str, str]:
        rows = await self.session.scalars(
            select(SubmissionAnswer).where(
                SubmissionAnswer.submission_id == uuid.UUID(str(submission_id))
            )
        )
        return {str(a.criterion_id): a.text for a in rows}

    async def count(self) -> int:
        self.session.expunge_all()
        return int(await self.session.scalar(select(func.count()).select_from(Submission)) or 0)


def codes(problem: dict[str, Any]) -> list[str]:
    """The codes of every failing rule a refusal names."""
    return [p["code"] for p in problem.get("problems", [])]


# A role that may never call the operation, or one whose scope does not reach the record.
FORBIDDEN_CODES = {"auth.role_forbidden", "submission.out_of_scope"}


def forbidden(response: httpx.Response) -> dict[str, Any]:
    """A 403 problem: the role, or the caller's scope, refuses."""
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == 403
    assert body["code"] in FORBIDDEN_CODES, body
    return body


@pytest.fixture
async def w(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    admin: Headers,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_hub: HubFactory,
    make_innovation: InnovationFactory,
) -> World:
    pemprov = InstitutionKind.pemprov
    kemenpan = await make_institution(
        name="Kementerian Pendayagunaan Aparatur Negara dan Reformasi Birokrasi"
    )
    sumut = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara", kind=pemprov, region_code="12"
    )
    jatim = await make_institution(
        name="Pemerintah Provinsi Jawa Timur", kind=pemprov, region_code="35"
    )
    medan = await make_institution(
        name="Pemerintah Kota Medan", kind=InstitutionKind.pemkot, region_code="12.71"
    )
    surabaya = await make_institution(
        name="Pemerintah Kota Surabaya", kind=InstitutionKind.pemkot, region_code="35.78"
    )
    medan_unit = await make_unit(medan, name="Sekretariat DPRD Kota Medan")
    medan_unit2 = await make_unit(medan, name="Dinas Kependudukan Kota Medan")
    surabaya_unit = await make_unit(surabaya, name="Dinas Kesehatan Kota Surabaya")
    hub_sumut = await make_hub(sumut, HubStatus.active, name="JIPP Provinsi Sumatera Utara")
    base: dict[str, Any] = {
        "client": client,
        "session": session,
        "auth": auth,
        "make_hub": make_hub,
        "admin": admin,
        "kemenpan": kemenpan,
        "sumut": sumut,
        "jatim": jatim,
        "medan": medan,
        "medan_unit": medan_unit,
        "hub_sumut": hub_sumut,
        "hub_jatim": await make_hub(jatim, HubStatus.active, name="JIPP Provinsi Jawa Timur"),
        "central_hub": await make_hub(None, HubStatus.active, name="JIPP Kementerian Kesehatan"),
    }
    # A first pass to build the edition and the innovations with the base world's helpers.
    partial = CompetitionWorld(**base)
    kipp = await World.edition(partial, code="KIPP-UJI", name="KIPP Uji")  # type: ignore[arg-type]
    return World(
        **base,
        make_innovation=make_innovation,
        surabaya=surabaya,
        surabaya_unit=surabaya_unit,
        medan_unit2=medan_unit2,
        kipp=kipp,
        inov=await make_innovation(
            medan_unit, InnovationStatus.published, title="SIKULIN", sdgs=[16]
        ),
        inov_sby=await make_innovation(
            surabaya_unit, InnovationStatus.published, title="SAYANG WARGA", sdgs=[3]
        ),
        operator=await auth(Role.unit_operator, unit_id=medan_unit.id),
        operator2=await auth(Role.unit_operator, unit_id=medan_unit2.id),
        local=await auth(Role.local_admin, institution_id=medan.id),
        operator_sby=await auth(Role.unit_operator, unit_id=surabaya_unit.id),
        local_sby=await auth(Role.local_admin, institution_id=surabaya.id),
        evaluator=await auth(Role.evaluator),
        regional=await auth(Role.regional_system, institution_id=medan.id),
        hub_admin_sumut=await auth(Role.hub_admin, hub_id=hub_sumut.id),
    )
