"""The competitions' world: Kementerian PANRB (the national organiser), North Sumatra and East
Java with their active regional hubs, a central hub, and helpers that store editions and their
structure straight into the database (the API is what the tests exercise)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
    HubStatus,
    InstitutionKind,
    Role,
    RoundKind,
)
from app.models.hubs import Hub
from app.models.institutions import Institution, Unit
from tests.conftest import HubFactory, InstitutionFactory, KeyFactory, UnitFactory

Headers = dict[str, str]
S = CompetitionStatus
M = TypeVar("M")

# KIPP 2023, general group (DOMAIN.md section 3, src): the criteria and their weights (sum 100).
KIPP_2023_UMUM = (
    ("Ringkasan", 0),
    ("Latar Belakang dan Tujuan", 10),
    ("Kebaruan", 15),
    ("Implementasi", 5),
    ("Signifikansi dan Dampak", 30),
    ("Adaptabilitas", 20),
    ("Sumber Daya", 5),
    ("Keberlanjutan", 15),
)
# Every status past the draft, and those that still change (profile fields).
PAST_DRAFT = [s for s in S if s is not S.draft]
FINAL = [S.closed, S.cancelled]
LIVE = [s for s in PAST_DRAFT if s not in FINAL]


def now() -> datetime:
    return datetime.now(UTC)


def at(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp of a response, parsed (None stays None)."""
    return None if value is None else datetime.fromisoformat(value)


@dataclass
class World:
    """Kementerian PANRB with a unit, North Sumatra (12) and East Java (35) with their active
    regional hubs, Kota Medan with a unit, a central hub of another ministry, and the
    secretariat's headers."""

    client: httpx.AsyncClient
    session: AsyncSession
    auth: KeyFactory
    make_hub: HubFactory
    admin: Headers
    kemenpan: Institution
    sumut: Institution
    jatim: Institution
    medan: Institution
    medan_unit: Unit
    hub_sumut: Hub
    hub_jatim: Hub
    central_hub: Hub

    async def hub_admin(self, hub: Hub | None = None) -> Headers:
        """A hub admin of `hub` (North Sumatra's unless told)."""
        return await self.auth(Role.hub_admin, hub_id=(hub or self.hub_sumut).id)

    async def callers(self) -> dict[str, Headers]:
        """Every role that runs no competition, by name."""
        return {
            "local_admin": await self.auth(Role.local_admin, institution_id=self.medan.id),
            "unit_operator": await self.auth(Role.unit_operator, unit_id=self.medan_unit.id),
            "evaluator": await self.auth(Role.evaluator),
            "regional_system": await self.auth(Role.regional_system, institution_id=self.medan.id),
        }

    async def competition(
        self,
        status: CompetitionStatus = S.draft,
        hub: Hub | None = None,
        scope: CompetitionScope | None = None,
        **fields: Any,
    ) -> Competition:
        """An edition stored directly: national and organised by Kementerian PANRB, or with a
        hub provincial and organised by its host. Past its draft it has a registration window
        that opened yesterday and closes in 30 days; a cancelled one has its reason."""
        scope = scope or (CompetitionScope.provincial if hub else CompetitionScope.national)
        fields.setdefault("code", f"KIPP-{uuid.uuid4().hex[:8].upper()}")
        fields.setdefault("name", "Kompetisi Inovasi Pelayanan Publik 2026")
        fields.setdefault("year", 2026)
        fields.setdefault("legal_basis", [])
        fields.setdefault("sdg_required", True)
        if hub is not None:
            fields.setdefault("organiser_institution_id", hub.host_institution_id)
        fields.setdefault("organiser_institution_id", self.kemenpan.id)
        if status is not S.draft:
            fields.setdefault("registration_opens_at", now() - timedelta(days=1))
            fields.setdefault("registration_closes_at", now() + timedelta(days=30))
        if status is S.cancelled:
            fields.setdefault("cancellation_reason", "Diganti pemantauan inovasi.")
            fields.setdefault("cancelled_at", now())
        competition = Competition(
            scope=scope, hub_id=hub.id if hub else None, status=status, **fields
        )
        return await self._add(competition)

    async def group(
        self, competition: Competition, code: str = "umum", **fields: Any
    ) -> CompetitionGroup:
        fields.setdefault("name", f"Kelompok {code.title()}")
        fields.setdefault("min_implementation_months", 0)
        fields.setdefault("ineligible_award_tiers", [])
        fields.setdefault("requires_source_innovation", False)
        fields.setdefault("source_award_tiers", [])
        group = CompetitionGroup(competition_id=competition.id, code=code, **fields)
        return await self._add(group)

    async def category(
        self, competition: Competition, code: str = "digital", **fields: Any
    ) -> CompetitionCategory:
        fields.setdefault("name", f"Kategori {code.title()}")
        category = CompetitionCategory(competition_id=competition.id, code=code, **fields)
        return await self._add(category)

    async def round(
        self, competition: Competition, position: int = 1, **fields: Any
    ) -> CompetitionRound:
        fields.setdefault("kind", RoundKind.desk_evaluation)
        fields.setdefault("name", f"Tahap {position}")
        round_ = CompetitionRound(competition_id=competition.id, position=position, **fields)
        return await self._add(round_)

    async def criterion(
        self, round_: CompetitionRound, group: CompetitionGroup, weight: int, **fields: Any
    ) -> RoundCriterion:
        fields.setdefault("name", f"Kriteria {uuid.uuid4().hex[:6]}")
        fields.setdefault("position", 1)
        fields.setdefault("min_score", 0)
        fields.setdefault("max_score", 100)
        criterion = RoundCriterion(
            competition_id=round_.competition_id,
            round_id=round_.id,
            group_id=group.id,
            weight=weight,
            **fields,
        )
        return await self._add(criterion)

    async def kipp_2023(
        self, competition: Competition
    ) -> tuple[CompetitionGroup, CompetitionCategory, CompetitionRound]:
        """KIPP 2023's general group, one category and a desk evaluation with the eight
        criteria of 2023 (weights summing to 100): a structure registration can open with."""
        group = await self.group(competition, "umum", name="Kelompok Umum")
        category = await self.category(competition, "pelayanan_publik")
        round_ = await self.round(competition, 1, name="Evaluasi Proposal")
        for position, (name, weight) in enumerate(KIPP_2023_UMUM, start=1):
            await self.criterion(round_, group, weight, name=name, position=position)
        return group, category, round_

    async def ready(self, hub: Hub | None = None, **fields: Any) -> Competition:
        """A draft whose window closes in 30 days and whose structure is complete."""
        fields.setdefault("registration_opens_at", now() - timedelta(days=1))
        fields.setdefault("registration_closes_at", now() + timedelta(days=30))
        competition = await self.competition(S.draft, hub, **fields)
        await self.kipp_2023(competition)
        return competition

    async def _add(self, record: M) -> M:
        self.session.add(record)
        await self.session.flush()
        return record

    async def events(self, response: httpx.Response) -> list[AuditEvent]:
        """The audit events the request that gave `response` wrote."""
        request_id = response.headers["x-request-id"]
        found = await self.session.scalars(
            select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.id)
        )
        return list(found)

    async def stored(self, model: type[M], id_: uuid.UUID | str) -> M | None:
        """The record as the database holds it now (None once deleted)."""
        self.session.expunge_all()
        return await self.session.get(model, uuid.UUID(str(id_)))


@pytest.fixture
async def w(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: KeyFactory,
    admin: Headers,
    make_institution: InstitutionFactory,
    make_unit: UnitFactory,
    make_hub: HubFactory,
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
    return World(
        client=client,
        session=session,
        auth=auth,
        make_hub=make_hub,
        admin=admin,
        kemenpan=kemenpan,
        sumut=sumut,
        jatim=jatim,
        medan=medan,
        medan_unit=await make_unit(medan, name="Sekretariat DPRD Kota Medan"),
        hub_sumut=await make_hub(sumut, HubStatus.active, name="JIPP Provinsi Sumatera Utara"),
        hub_jatim=await make_hub(jatim, HubStatus.active, name="JIPP Provinsi Jawa Timur"),
        central_hub=await make_hub(None, HubStatus.active, name="JIPP Kementerian Kesehatan"),
    )


async def close_rounds(w: World, competition: Competition, headers: dict[str, str]) -> None:
    """Close every round of the edition (in evaluation, with no entries: nothing to score)."""
    rounds = await w.client.get(f"/v1/competitions/{competition.id}/rounds", headers=headers)
    assert rounds.status_code == 200, rounds.text
    for round_ in rounds.json()["items"]:
        closed = await w.client.post(f"/v1/rounds/{round_['id']}/close", json={}, headers=headers)
        assert closed.status_code == 200, closed.text
