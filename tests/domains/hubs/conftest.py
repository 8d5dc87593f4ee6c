"""The hubs' world: two provinces with their local governments, a ministry, and helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.audit import AuditEvent
from app.models.enums import HubStatus, InstitutionKind, Role
from app.models.hubs import Hub
from app.models.institutions import Institution, Unit
from tests.conftest import HubFactory, InstitutionFactory, KeyFactory, UnitFactory

WIB = timezone(timedelta(hours=7))
Headers = dict[str, str]


def today() -> date:
    return datetime.now(WIB).date()


@dataclass
class World:
    """North Sumatra (12: Kota Medan, Kabupaten Deli Serdang, a provincial bureau and a BUMD),
    East Java (35: Kota Malang), Kementerian PANRB with a unit, and the secretariat's headers."""

    client: httpx.AsyncClient
    session: AsyncSession
    auth: KeyFactory
    make_hub: HubFactory
    admin: Headers
    sumut: Institution
    jatim: Institution
    medan: Institution
    deli_serdang: Institution
    malang: Institution
    tirtanadi: Institution
    kemenpan: Institution
    sumut_bureau: Unit
    jatim_bureau: Unit
    medan_dprd: Unit
    kemenpan_deputy: Unit

    async def hub(
        self, host: Institution | None = None, status: HubStatus = HubStatus.active, **fields: Any
    ) -> Hub:
        """A hub of `host` (North Sumatra unless told), active unless told."""
        return await self.make_hub(host or self.sumut, status, **fields)

    async def hub_admin(self, hub: Hub) -> Headers:
        return await self.auth(Role.hub_admin, hub_id=hub.id)

    async def events(self, response: httpx.Response) -> list[AuditEvent]:
        """The audit events the request that gave `response` wrote."""
        request_id = response.headers["x-request-id"]
        found = await self.session.scalars(
            select(AuditEvent).where(AuditEvent.request_id == request_id)
        )
        return list(found)

    async def stored(self, hub: Hub) -> Hub | None:
        """The hub as the database holds it now (None once deleted)."""
        self.session.expunge_all()
        return await self.session.get(Hub, hub.id)


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
    pemprov, pemkot, pemkab = (
        InstitutionKind.pemprov,
        InstitutionKind.pemkot,
        InstitutionKind.pemkab,
    )
    sumut = await make_institution(
        name="Pemerintah Provinsi Sumatera Utara", kind=pemprov, region_code="12"
    )
    jatim = await make_institution(
        name="Pemerintah Provinsi Jawa Timur", kind=pemprov, region_code="35"
    )
    medan = await make_institution(name="Pemerintah Kota Medan", kind=pemkot, region_code="12.71")
    deli = await make_institution(
        name="Pemerintah Kabupaten Deli Serdang", kind=pemkab, region_code="12.07"
    )
    malang = await make_institution(name="Pemerintah Kota Malang", kind=pemkot, region_code="35.73")
    tirtanadi = await make_institution(
        name="Perusahaan Umum Daerah Air Minum Tirtanadi",
        kind=InstitutionKind.bumd,
        region_code="12",
        owner_institution_id=sumut.id,
    )
    kemenpan = await make_institution(
        name="Kementerian Pendayagunaan Aparatur Negara dan Reformasi Birokrasi"
    )
    return World(
        client=client,
        session=session,
        auth=auth,
        make_hub=make_hub,
        admin=admin,
        sumut=sumut,
        jatim=jatim,
        medan=medan,
        deli_serdang=deli,
        malang=malang,
        tirtanadi=tirtanadi,
        kemenpan=kemenpan,
        sumut_bureau=await make_unit(sumut, name="Biro Organisasi Setda Provinsi Sumatera Utara"),
        jatim_bureau=await make_unit(jatim, name="Biro Organisasi Setda Provinsi Jawa Timur"),
        medan_dprd=await make_unit(medan, name="Sekretariat DPRD Kota Medan"),
        kemenpan_deputy=await make_unit(kemenpan, name="Deputi Bidang Pelayanan Publik"),
    )
