"""Vocabularies shared by models, schemas and policies (values are stored and sent as-is)."""

from __future__ import annotations

from enum import StrEnum


class RegionType(StrEnum):
    provinsi = "provinsi"
    kabupaten = "kabupaten"
    kota = "kota"


class InstitutionKind(StrEnum):
    kementerian = "kementerian"
    lembaga = "lembaga"
    pemprov = "pemprov"
    pemkab = "pemkab"
    pemkot = "pemkot"
    bumn = "bumn"
    bumd = "bumd"


# Kinds that are local governments, and the region type each must sit on.
LOCAL_GOVERNMENT_REGION_TYPE: dict[InstitutionKind, RegionType] = {
    InstitutionKind.pemprov: RegionType.provinsi,
    InstitutionKind.pemkab: RegionType.kabupaten,
    InstitutionKind.pemkot: RegionType.kota,
}
NATIONAL_KINDS = frozenset(
    {InstitutionKind.kementerian, InstitutionKind.lembaga, InstitutionKind.bumn}
)


class Role(StrEnum):
    secretariat_admin = "secretariat_admin"
    local_admin = "local_admin"
    unit_operator = "unit_operator"
    evaluator = "evaluator"
    hub_admin = "hub_admin"
    regional_system = "regional_system"
