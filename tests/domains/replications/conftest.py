"""The replications' world: Pemkot Malang (two units, the source of most replications: its
published SAMBAT ONLINE), Pemkot Medan (two units, the usual adopter), Pemkot Surabaya (one
unit, with a published innovation of its own), East Java and North Sumatra with their active
hubs, a key per role, and helpers that request a replication and walk it through the API
(docs/replications.md is the contract)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import RowMapping, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dates import today_wib
from app.models.audit import AuditEvent
from app.models.enums import HubStatus, InnovationStatus, InstitutionKind, Role
from app.models.hubs import Hub
from app.models.innovations import Innovation
from app.models.institutions import Institution, Unit
from tests.conftest import (
    HubFactory,
    InnovationFactory,
    InstitutionFactory,
    KeyFactory,
    UnitFactory,
)

Headers = dict[str, str]
PATH = "/v1/replications"

# Each status, the actions it allows (docs/replications.md, "States and steps").
ACTIONS = (
    "approve",
    "reject",
    "sign_agreement",
    "start_implementation",
    "complete_implementation",
    "evaluate",
    "discontinue",
)
ALLOWED: dict[str, set[str]] = {
    "requested": {"approve", "reject", "discontinue"},
    "approved": {"sign_agreement", "discontinue"},
    "agreement_signed": {"start_implementation", "discontinue"},
    "implementing": {"complete_implementation", "discontinue"},
    "implemented": {"evaluate", "discontinue"},
    "evaluated": {"discontinue"},
    "rejected": set(),
    "discontinued": set(),
}
# The status each action leads to, and the date it sets.
TARGET = {
    "approve": ("approved", "approved_date"),
    "reject": ("rejected", "rejected_date"),
    "sign_agreement": ("agreement_signed", "agreement_date"),
    "start_implementation": ("implementing", "implementation_started_date"),
    "complete_implementation": ("implemented", "implemented_date"),
    "evaluate": ("evaluated", "evaluated_date"),
    "discontinue": ("discontinued", "discontinued_date"),
}
# The forward path, each status with the action that reaches it from the one before.
PATH_TO: list[tuple[str, str]] = [
    ("approved", "approve"),
    ("agreement_signed", "sign_agreement"),
    ("implementing", "start_implementation"),
    ("implemented", "complete_implementation"),
    ("evaluated", "evaluate"),
]
DATE_FIELDS = (
    "requested_date",
    "approved_date",
    "rejected_date",
    "agreement_date",
    "implementation_started_date",
    "implemented_date",
    "evaluated_date",
    "discontinued_date",
)
MEASURES: list[dict[str, Any]] = [
    {
        "indicator": "Rata-rata waktu penanganan aduan",
        "before": 72,
        "after": 6,
        "unit": "jam",
        "note": "Aduan warga dijawab di hari yang sama.",
    }
]
# What each step needs besides its action.
STEP_BODIES: dict[str, dict[str, Any]] = {
    "approve": {},
    "reject": {"reason": "Belum siap berbagi kode sumber."},
    "sign_agreement": {},
    "start_implementation": {},
    "complete_implementation": {},
    "evaluate": {"benefit_measures": MEASURES},
    "discontinue": {"reason": "Anggaran dialihkan."},
}


def today() -> str:
    return today_wib().isoformat()


def days_ago(days: int) -> str:
    """The WIB date `days` before today (negative: after), as `YYYY-MM-DD`."""
    return (today_wib() - timedelta(days=days)).isoformat()


@dataclass
class World:
    """Malang (source side of most replications), Medan (the usual adopter), Surabaya, the two
    provinces with their hubs, published innovations of Malang's first unit and of Surabaya,
    and headers per role."""

    client: httpx.AsyncClient
    session: AsyncSession
    auth: KeyFactory
    make_innovation: InnovationFactory
    jatim: Institution
    sumut: Institution
    malang: Institution
    malang_a: Unit
    malang_b: Unit
    medan: Institution
    medan_unit: Unit
    medan_unit2: Unit
    surabaya: Institution
    sby_unit: Unit
    hub_jatim: Hub
    hub_sumut: Hub
    inov: Innovation  # Malang's first unit, published
    inov_sby: Innovation  # Surabaya's unit, published
    admin: Headers
    local_malang: Headers
    operator_malang_a: Headers
    operator_malang_b: Headers
    local_medan: Headers
    operator_medan: Headers
    operator_medan2: Headers
    regional_medan: Headers
    local_sby: Headers
    operator_sby: Headers
    local_jatim: Headers  # an institution with no part in any replication
    hub_admin_jatim: Headers
    hub_admin_sumut: Headers
    evaluator: Headers
    anonymous: Headers

    # --- innovations --------------------------------------------------------------------------

    async def innovation(
        self,
        unit: Unit | None = None,
        status: InnovationStatus = InnovationStatus.published,
        **fields: Any,
    ) -> Innovation:
        """An innovation of `unit` (Malang's first unless told), published unless told."""
        return await self.make_innovation(unit or self.malang_a, status, **fields)

    async def set_innovation(self, innovation: Innovation, **values: Any) -> None:
        await self.session.execute(
            update(Innovation).where(Innovation.id == innovation.id).values(**values)
        )
        await self.session.flush()

    # --- the API ------------------------------------------------------------------------------

    async def create(
        self,
        source: Innovation | None = None,
        unit: Unit | None = None,
        headers: Headers | None = None,
        **body: Any,
    ) -> httpx.Response:
        """POST /replications of `source` (w.inov) into `unit` (Medan's first), scope full, as
        that unit's operator unless told."""
        payload: dict[str, Any] = {
            "source_innovation_id": str((source or self.inov).id),
            "adopter_unit_id": str((unit or self.medan_unit).id),
            "scope": "full",
        }
        payload.update(body)
        return await self.client.post(
            PATH, json=payload, headers=self.operator_medan if headers is None else headers
        )

    async def request(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """A replication requested through the API (the response body)."""
        response = await self.create(*args, **kwargs)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def get(self, replication_id: str, headers: Headers | None = None) -> httpx.Response:
        return await self.client.get(
            f"{PATH}/{replication_id}", headers=self.admin if headers is None else headers
        )

    async def etag(self, replication_id: str) -> str:
        response = await self.get(replication_id)
        assert response.status_code == 200, response.text
        return response.headers["ETag"]

    async def step(
        self, replication_id: str, action: str, headers: Headers, **body: Any
    ) -> httpx.Response:
        """One transition, with the current ETag as If-Match."""
        tag = await self.etag(replication_id)
        return await self.client.post(
            f"{PATH}/{replication_id}/transitions",
            json={"action": action, **body},
            headers={**headers, "If-Match": tag},
        )

    async def ok(
        self, replication_id: str, action: str, headers: Headers, **body: Any
    ) -> dict[str, Any]:
        response = await self.step(replication_id, action, headers, **body)
        assert response.status_code == 200, f"{action}: {response.text}"
        result: dict[str, Any] = response.json()
        return result

    async def patch(
        self, replication_id: str, headers: Headers | None = None, **body: Any
    ) -> httpx.Response:
        """PATCH with the current ETag, as Medan's first unit's operator unless told."""
        tag = await self.etag(replication_id)
        return await self.client.patch(
            f"{PATH}/{replication_id}",
            json=body,
            headers={**(self.operator_medan if headers is None else headers), "If-Match": tag},
        )

    async def move(
        self,
        replication: dict[str, Any],
        target: str,
        *,
        source_side: Headers | None = None,
        adopter_side: Headers | None = None,
    ) -> dict[str, Any]:
        """Walk a requested replication through the API to `target`; `rejected` and
        `discontinued` straight from `requested`. The source side is Malang's local admin, the
        adopter side Medan's first unit's operator, unless told."""
        source_side = source_side or self.local_malang
        adopter_side = adopter_side or self.operator_medan
        rid = replication["id"]
        if target == "requested":
            return replication
        if target in ("rejected", "discontinued"):
            action = "reject" if target == "rejected" else "discontinue"
            return await self.ok(rid, action, source_side, **STEP_BODIES[action])
        body = replication
        for status, action in PATH_TO:
            headers = source_side if action == "approve" else adopter_side
            body = await self.ok(rid, action, headers, **STEP_BODIES[action])
            if status == target:
                return body
        raise AssertionError(f"no status {target}")

    async def at(
        self,
        target: str,
        source: Innovation | None = None,
        unit: Unit | None = None,
        headers: Headers | None = None,
        *,
        source_side: Headers | None = None,
        adopter_side: Headers | None = None,
        **body: Any,
    ) -> dict[str, Any]:
        """A new replication requested by `headers` and walked to `target`; the adopter side's
        steps are taken by the requester."""
        requested = await self.request(source, unit, headers, **body)
        return await self.move(
            requested,
            target,
            source_side=source_side,
            adopter_side=adopter_side or headers,
        )

    async def lineage(
        self, innovation: Innovation | str | uuid.UUID, headers: Headers | None = None
    ) -> httpx.Response:
        innovation_id = innovation.id if isinstance(innovation, Innovation) else innovation
        return await self.client.get(
            f"/v1/innovations/{innovation_id}/lineage",
            headers=self.admin if headers is None else headers,
        )

    # --- the database -------------------------------------------------------------------------

    async def row(self, replication_id: str | uuid.UUID) -> RowMapping | None:
        """The replication as the database holds it now (None once deleted)."""
        result = await self.session.execute(
            text("SELECT * FROM replications WHERE id = :id"),
            {"id": uuid.UUID(str(replication_id))},
        )
        return result.mappings().one_or_none()

    async def stored(self, replication_id: str | uuid.UUID) -> RowMapping:
        found = await self.row(replication_id)
        assert found is not None
        return found

    async def count(self, source: Innovation | None = None) -> int:
        """How many replications of `source` (w.inov) the database holds."""
        result = await self.session.execute(
            text("SELECT count(*) FROM replications WHERE source_innovation_id = :id"),
            {"id": (source or self.inov).id},
        )
        return int(result.scalar_one())

    async def events(self, response: httpx.Response) -> list[AuditEvent]:
        """The audit events the request that gave `response` wrote."""
        request_id = response.headers["x-request-id"]
        found = await self.session.scalars(
            select(AuditEvent).where(AuditEvent.request_id == request_id).order_by(AuditEvent.id)
        )
        return list(found)

    async def event(self, response: httpx.Response, action: str) -> AuditEvent:
        """The one replication event the request wrote, with this action."""
        events = [e for e in await self.events(response) if e.entity_type == "replication"]
        assert len(events) == 1, [(e.action, e.entity_type) for e in events]
        (found,) = events
        assert found.action == action
        return found


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
    pemprov, pemkot = InstitutionKind.pemprov, InstitutionKind.pemkot
    jatim = await make_institution(
        name="Pemerintah Provinsi Jawa Timur", kind=pemprov, region_code="35"
    )
    sumut = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara", kind=pemprov, region_code="12"
    )
    malang = await make_institution(name="Pemerintah Kota Malang", kind=pemkot, region_code="35.73")
    medan = await make_institution(name="Pemerintah Kota Medan", kind=pemkot, region_code="12.71")
    surabaya = await make_institution(
        name="Pemerintah Kota Surabaya", kind=pemkot, region_code="35.78"
    )
    malang_a = await make_unit(malang, name="Dinas Komunikasi dan Informatika Kota Malang")
    malang_b = await make_unit(malang, name="Dinas Kesehatan Kota Malang")
    medan_unit = await make_unit(medan, name="Sekretariat DPRD Kota Medan")
    medan_unit2 = await make_unit(medan, name="Dinas Kependudukan Kota Medan")
    sby_unit = await make_unit(surabaya, name="Dinas Kesehatan Kota Surabaya")
    hub_jatim = await make_hub(jatim, HubStatus.active, name="JIPP Provinsi Jawa Timur")
    hub_sumut = await make_hub(sumut, HubStatus.active, name="JIPP Provinsi Sumatera Utara")
    published = InnovationStatus.published
    return World(
        client=client,
        session=session,
        auth=auth,
        make_innovation=make_innovation,
        jatim=jatim,
        sumut=sumut,
        malang=malang,
        malang_a=malang_a,
        malang_b=malang_b,
        medan=medan,
        medan_unit=medan_unit,
        medan_unit2=medan_unit2,
        surabaya=surabaya,
        sby_unit=sby_unit,
        hub_jatim=hub_jatim,
        hub_sumut=hub_sumut,
        inov=await make_innovation(malang_a, published, title="SAMBAT ONLINE"),
        inov_sby=await make_innovation(sby_unit, published, title="SAYANG WARGA"),
        admin=admin,
        local_malang=await auth(Role.local_admin, institution_id=malang.id),
        operator_malang_a=await auth(Role.unit_operator, unit_id=malang_a.id),
        operator_malang_b=await auth(Role.unit_operator, unit_id=malang_b.id),
        local_medan=await auth(Role.local_admin, institution_id=medan.id),
        operator_medan=await auth(Role.unit_operator, unit_id=medan_unit.id),
        operator_medan2=await auth(Role.unit_operator, unit_id=medan_unit2.id),
        regional_medan=await auth(Role.regional_system, institution_id=medan.id),
        local_sby=await auth(Role.local_admin, institution_id=surabaya.id),
        operator_sby=await auth(Role.unit_operator, unit_id=sby_unit.id),
        local_jatim=await auth(Role.local_admin, institution_id=jatim.id),
        hub_admin_jatim=await auth(Role.hub_admin, hub_id=hub_jatim.id),
        hub_admin_sumut=await auth(Role.hub_admin, hub_id=hub_sumut.id),
        evaluator=await auth(Role.evaluator),
        anonymous={},
    )
