"""Demo data from DOMAIN.md: real institutions and units, loaded idempotently with stable ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.passwords import hash_password
from app.domains.accounts.credentials import API_KEY_PREFIX, hash_api_key
from app.models.accounts import ApiKey, User
from app.models.enums import InstitutionKind, Role
from app.models.institutions import Institution, Unit
from app.seed.demo_competitions import load_demo_competitions
from app.seed.demo_evaluation import load_demo_evaluation
from app.seed.demo_hubs import load_demo_hubs
from app.seed.demo_innovations import load_demo_innovations
from app.seed.demo_network import load_demo_network
from app.seed.demo_replications import load_demo_replications
from app.seed.ids import demo_id


@dataclass(frozen=True)
class DemoUnit:
    name: str
    children: tuple[DemoUnit, ...] = ()
    region_code: str | None = None


@dataclass(frozen=True)
class DemoInstitution:
    name: str
    short_name: str
    kind: InstitutionKind
    region_code: str | None
    units: tuple[DemoUnit, ...] = field(default_factory=tuple)
    owner: str | None = None


DEMO_INSTITUTIONS: tuple[DemoInstitution, ...] = (
    DemoInstitution(
        "Kementerian Pendayagunaan Aparatur Negara dan Reformasi Birokrasi",
        "Kementerian PANRB",
        InstitutionKind.kementerian,
        None,
        (DemoUnit("Deputi Bidang Pelayanan Publik"),),
    ),
    DemoInstitution(
        "Pemerintah Provinsi Sumatera Utara",
        "Pemprov Sumut",
        InstitutionKind.pemprov,
        "12",
        (DemoUnit("Biro Organisasi Sekretariat Daerah Provinsi Sumatera Utara"),),
    ),
    DemoInstitution(
        "Pemerintah Kota Medan",
        "Pemkot Medan",
        InstitutionKind.pemkot,
        "12.71",
        (
            DemoUnit("Sekretariat DPRD Kota Medan", region_code="12.71"),
            DemoUnit("Bagian Organisasi Sekretariat Daerah Kota Medan", region_code="12.71"),
        ),
    ),
    DemoInstitution(
        "Pemerintah Kabupaten Deli Serdang",
        "Pemkab Deli Serdang",
        InstitutionKind.pemkab,
        "12.07",
        (
            DemoUnit("Bagian Organisasi Sekretariat Daerah Kabupaten Deli Serdang"),
            DemoUnit("Dinas Pendidikan Kabupaten Deli Serdang"),
        ),
    ),
    DemoInstitution(
        "Pemerintah Kota Malang",
        "Pemkot Malang",
        InstitutionKind.pemkot,
        "35.73",
        (
            DemoUnit(
                "Dinas Pendidikan dan Kebudayaan Kota Malang",
                (
                    DemoUnit("SMP Negeri 10 Kota Malang"),
                    DemoUnit("SMP Negeri 13 Kota Malang"),
                    DemoUnit("SMP Negeri 2 Kota Malang"),
                ),
            ),
            DemoUnit("Bagian Organisasi Sekretariat Daerah Kota Malang"),
        ),
    ),
    DemoInstitution(
        "Pemerintah Provinsi Jawa Timur",
        "Pemprov Jatim",
        InstitutionKind.pemprov,
        "35",
        (DemoUnit("Biro Organisasi Sekretariat Daerah Provinsi Jawa Timur"),),
    ),
    # Hosts of the demo JIPP hubs (app/seed/demo_hubs.py).
    *(
        DemoInstitution(f"Pemerintah Provinsi {name}", short, InstitutionKind.pemprov, code)
        for name, short, code in (
            ("Sulawesi Selatan", "Pemprov Sulsel", "73"),
            ("Sumatera Selatan", "Pemprov Sumsel", "16"),
            ("Jawa Tengah", "Pemprov Jateng", "33"),
            ("Sumatera Barat", "Pemprov Sumbar", "13"),
            ("Kepulauan Bangka Belitung", "Pemprov Babel", "19"),
            ("Kalimantan Selatan", "Pemprov Kalsel", "63"),
            ("Gorontalo", "Pemprov Gorontalo", "75"),
        )
    ),
    DemoInstitution(
        "Perusahaan Umum Daerah Air Minum Tirtanadi",
        "Perumda Tirtanadi",
        InstitutionKind.bumd,
        "12",
        (DemoUnit("Cabang Medan Kota"),),
        owner="Pemerintah Provinsi Sumatera Utara",
    ),
)


# Demo sign-ins, documented in the README. Demo data is refused in production (see the CLI).
DEMO_PASSWORD = "inovasi-demo-2026"  # noqa: S105 - public demo credential
DEMO_REGIONAL_SYSTEM_KEY = API_KEY_PREFIX + "demo-regional-system-pemkot-medan-0001"
# JIPP Sumatera Utara (app/seed/demo_hubs.py), the demo hub admin's hub.
DEMO_HUB_ID = demo_id("hub", "JIPP Provinsi Sumatera Utara")


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    role: Role
    institution: str | None = None
    unit: str | None = None
    hub_id: uuid.UUID | None = None


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("sekretariat@demo.inovasi.id", "Admin Sekretariat KIPP", Role.secretariat_admin),
    DemoAccount(
        "admin.medan@demo.inovasi.id",
        "Admin Lokal Pemkot Medan",
        Role.local_admin,
        institution="Pemerintah Kota Medan",
    ),
    DemoAccount(
        "operator.dprd.medan@demo.inovasi.id",
        "Operator Sekretariat DPRD Kota Medan",
        Role.unit_operator,
        institution="Pemerintah Kota Medan",
        unit="Sekretariat DPRD Kota Medan",
    ),
    DemoAccount("evaluator@demo.inovasi.id", "Evaluator KIPP", Role.evaluator),
    DemoAccount("penilai.a@demo.inovasi.id", "Penilai KIPP (Akademisi A)", Role.evaluator),
    DemoAccount("penilai.b@demo.inovasi.id", "Penilai KIPP (Akademisi B)", Role.evaluator),
    DemoAccount(
        "hub.sumut@demo.inovasi.id", "Admin JIPP Sumatera Utara", Role.hub_admin, hub_id=DEMO_HUB_ID
    ),
)


async def _add_accounts(session: AsyncSession) -> int:
    added = 0
    password_hash: str | None = None
    for spec in DEMO_ACCOUNTS:
        user_id = demo_id("user", spec.email)
        if await session.get(User, user_id) is not None:
            continue
        password_hash = password_hash or await hash_password(DEMO_PASSWORD)
        session.add(
            User(
                id=user_id,
                email=spec.email,
                name=spec.name,
                role=spec.role,
                institution_id=demo_id("institution", spec.institution)
                if spec.institution
                else None,
                unit_id=demo_id("unit", spec.unit) if spec.unit else None,
                hub_id=spec.hub_id,
                password_hash=password_hash,
            )
        )
        added += 1
    key_id = demo_id("api_key", "regional system Pemkot Medan")
    if await session.get(ApiKey, key_id) is None:
        session.add(
            ApiKey(
                id=key_id,
                name="Demo: SIPINTER sync, Pemkot Medan",
                prefix=DEMO_REGIONAL_SYSTEM_KEY[:12],
                secret_hash=hash_api_key(DEMO_REGIONAL_SYSTEM_KEY),
                role=Role.regional_system,
                institution_id=demo_id("institution", "Pemerintah Kota Medan"),
            )
        )
        added += 1
    await session.flush()
    return added


async def _add_units(
    session: AsyncSession,
    institution_id: uuid.UUID,
    units: tuple[DemoUnit, ...],
    parent_id: uuid.UUID | None,
) -> int:
    added = 0
    for spec in units:
        unit_id = demo_id("unit", spec.name)
        if await session.get(Unit, unit_id) is None:
            session.add(
                Unit(
                    id=unit_id,
                    institution_id=institution_id,
                    parent_unit_id=parent_id,
                    name=spec.name,
                    region_code=spec.region_code,
                )
            )
            await session.flush()
            added += 1
        added += await _add_units(session, institution_id, spec.children, unit_id)
    return added


async def load_demo(session: AsyncSession) -> int:
    """Add whatever demo records are missing; returns how many were added."""
    added = 0
    for spec in DEMO_INSTITUTIONS:
        institution_id = demo_id("institution", spec.name)
        if await session.get(Institution, institution_id) is None:
            session.add(
                Institution(
                    id=institution_id,
                    name=spec.name,
                    short_name=spec.short_name,
                    kind=spec.kind,
                    region_code=spec.region_code,
                    owner_institution_id=demo_id("institution", spec.owner) if spec.owner else None,
                )
            )
            await session.flush()
            added += 1
        added += await _add_units(session, institution_id, spec.units, None)
    added += await load_demo_hubs(session)  # before the accounts: the hub admin names its hub
    added += await _add_accounts(session)
    added += await load_demo_innovations(session)
    added += await load_demo_network(session)  # shows innovations of the hubs' members
    added += await load_demo_competitions(session)  # enters the demo innovations
    added += await load_demo_replications(session)  # after the competitions: an award
    return added + await load_demo_evaluation(session)  # through the services, last
