"""Demo JIPP hubs from DOMAIN.md and the ministry's announcements: East Java, South Sulawesi and
South Sumatra in the network from 2019; the eight pilots of Keputusan Menteri PANRB Nomor 94
Tahun 2020 (those three, Central Java, West Sumatra, Bangka Belitung, South Kalimantan and
Gorontalo); North Sumatra, which signed its commitment on 28 September 2022.

The years follow the announcements; the days are illustrative, and so is North Sumatra's
designation (its decree is not public, so it is left empty). Members are the demo institutions
of each province, and the province's own coordinating bureau.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import HubKind, HubStatus
from app.models.hubs import Hub, HubMember
from app.seed.ids import demo_id

PILOT_DECREE_2020 = "Keputusan Menteri PANRB Nomor 94 Tahun 2020"


@dataclass(frozen=True)
class DemoMember:
    institution: str
    unit: str | None = None  # a unit of `institution` (the host's own units)
    joined: date = date(2020, 3, 2)


@dataclass(frozen=True)
class DemoHub:
    province: str  # "Jawa Timur": the host is "Pemerintah Provinsi <province>"
    committed: date
    designated: date
    decree: str | None
    pilot: bool
    coordinating_unit: str | None = None
    members: tuple[DemoMember, ...] = ()
    contacts: tuple[dict[str, str], ...] = ()

    @property
    def name(self) -> str:
        return f"JIPP Provinsi {self.province}"

    @property
    def host(self) -> str:
        return f"Pemerintah Provinsi {self.province}"


_IN_2019 = date(2019, 3, 1)
_PILOTS = date(2020, 3, 2)  # Keputusan Menteri PANRB 94/2020: the eight pilots
_JATIM_BUREAU = "Biro Organisasi Sekretariat Daerah Provinsi Jawa Timur"
_SUMUT_BUREAU = "Biro Organisasi Sekretariat Daerah Provinsi Sumatera Utara"


def _pilot(province: str, committed: date = date(2020, 2, 3)) -> DemoHub:
    return DemoHub(province, committed, _PILOTS, PILOT_DECREE_2020, pilot=True)


DEMO_HUBS: tuple[DemoHub, ...] = (
    DemoHub(
        "Jawa Timur",
        _IN_2019,
        _PILOTS,
        PILOT_DECREE_2020,
        pilot=True,
        coordinating_unit=_JATIM_BUREAU,
        members=(
            DemoMember("Pemerintah Kota Malang", joined=_IN_2019),
            DemoMember("Pemerintah Provinsi Jawa Timur", _JATIM_BUREAU, joined=_IN_2019),
        ),
    ),
    _pilot("Sulawesi Selatan", _IN_2019),
    _pilot("Sumatera Selatan", _IN_2019),
    _pilot("Jawa Tengah"),
    _pilot("Sumatera Barat"),
    _pilot("Kepulauan Bangka Belitung"),
    _pilot("Kalimantan Selatan"),
    _pilot("Gorontalo"),
    DemoHub(
        "Sumatera Utara",
        date(2022, 9, 28),
        date(2023, 3, 1),
        None,
        pilot=True,  # it joined as a pilot province (daerah percontohan) in 2022
        coordinating_unit=_SUMUT_BUREAU,
        members=(
            DemoMember("Pemerintah Kota Medan", joined=date(2022, 10, 3)),
            DemoMember("Pemerintah Kabupaten Deli Serdang", joined=date(2022, 10, 3)),
            DemoMember("Pemerintah Provinsi Sumatera Utara", _SUMUT_BUREAU, date(2022, 10, 3)),
        ),
        contacts=(
            {
                "name": "Sekretariat JIPP Sumatera Utara",
                "role": "Biro Organisasi Setda Provsu",
                "email": "jipp.sumut@demo.inovasi.id",
            },
        ),
    ),
)


async def load_demo_hubs(session: AsyncSession) -> int:
    """Add whatever demo hubs and memberships are missing (active, with their dates)."""
    added = 0
    for spec in DEMO_HUBS:
        hub_id = demo_id("hub", spec.name)
        if await session.get(Hub, hub_id) is None:
            session.add(
                Hub(
                    id=hub_id,
                    name=spec.name,
                    kind=HubKind.regional,
                    host_institution_id=demo_id("institution", spec.host),
                    coordinating_unit_id=(
                        demo_id("unit", spec.coordinating_unit) if spec.coordinating_unit else None
                    ),
                    status=HubStatus.active,
                    candidate_date=spec.committed,
                    committed_date=spec.committed,
                    designated_date=spec.designated,
                    activated_date=spec.designated,
                    designation_decree_reference=spec.decree,
                    designation_year=spec.designated.year,
                    is_pilot=spec.pilot,
                    contacts=[dict(contact) for contact in spec.contacts],
                )
            )
            await session.flush()
            added += 1
        for member in spec.members:
            member_id = demo_id("hub_member", f"{spec.name}:{member.unit or member.institution}")
            if await session.get(HubMember, member_id) is None:
                session.add(
                    HubMember(
                        id=member_id,
                        hub_id=hub_id,
                        institution_id=demo_id("institution", member.institution),
                        unit_id=demo_id("unit", member.unit) if member.unit else None,
                        joined_date=member.joined,
                    )
                )
                added += 1
    await session.flush()
    return added
