"""Institutions and their units: the rules of DOMAIN.md section 3 on kinds, regions and trees."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.concurrency import Preconditions
from app.core.errors import (
    Conflict,
    ConstraintError,
    Forbidden,
    NotFound,
    invalid_field,
    register_constraint_errors,
)
from app.core.pagination import PageRequest
from app.core.security import Principal
from app.db.repository import PageResult
from app.domains.audit import service as audit
from app.domains.institutions.repository import InstitutionRepository, UnitRepository
from app.domains.institutions.schemas import (
    InstitutionCreate,
    InstitutionFilter,
    InstitutionSort,
    InstitutionUpdate,
    UnitCreate,
    UnitFilter,
    UnitSort,
    UnitUpdate,
)
from app.domains.regions.repository import RegionRepository
from app.models.enums import LOCAL_GOVERNMENT_REGION_TYPE, NATIONAL_KINDS, InstitutionKind, Role
from app.models.institutions import Institution, Unit

register_constraint_errors(
    {
        "uq_institutions_name": ConstraintError(
            409, "institution.duplicate_name", "Another institution has this name.", "/name"
        ),
        "uq_institutions_local_government_region": ConstraintError(
            409,
            "institution.duplicate_local_government",
            "Another local government already sits on this region.",
            "/region_code",
        ),
        "uq_units_sibling_name": ConstraintError(
            409,
            "unit.duplicate_name",
            "A unit with this name already sits at the same place in this institution.",
            "/name",
        ),
    }
)


async def _check_institution_shape(
    session: AsyncSession,
    kind: InstitutionKind,
    region_code: str | None,
    owner_institution_id: uuid.UUID | None,
    self_id: uuid.UUID | None,
) -> str | None:
    """Validate kind, region and owner together; return the region code to store."""
    if kind is not InstitutionKind.bumd and owner_institution_id is not None:
        raise invalid_field(
            "institution.owner_not_allowed",
            "/owner_institution_id",
            "Only a bumd has an owning institution.",
        )
    if kind in NATIONAL_KINDS:
        if region_code is not None:
            raise invalid_field(
                "institution.region_not_allowed",
                "/region_code",
                f"A {kind.value} is national and has no region.",
            )
        return None
    if kind is InstitutionKind.bumd:
        if owner_institution_id is None:
            raise invalid_field(
                "institution.owner_required",
                "/owner_institution_id",
                "A bumd must name the local government that owns it.",
            )
        if owner_institution_id == self_id:
            raise invalid_field(
                "institution.owner_self", "/owner_institution_id", "A bumd cannot own itself."
            )
        owner = await InstitutionRepository(session).get(owner_institution_id)
        if owner is None:
            raise invalid_field(
                "institution.owner_not_found",
                "/owner_institution_id",
                "The owning institution does not exist.",
            )
        if owner.kind not in LOCAL_GOVERNMENT_REGION_TYPE:
            raise invalid_field(
                "institution.owner_not_local_government",
                "/owner_institution_id",
                f"A bumd is owned by a local government, not a {owner.kind.value}.",
            )
        if region_code is not None and region_code != owner.region_code:
            raise invalid_field(
                "institution.region_mismatch",
                "/region_code",
                f"A bumd sits on its owner's region ({owner.region_code}).",
            )
        return owner.region_code
    expected = LOCAL_GOVERNMENT_REGION_TYPE[kind]
    if region_code is None:
        raise invalid_field(
            "institution.region_required",
            "/region_code",
            f"A {kind.value} must name its region (a {expected.value} code).",
        )
    region = await RegionRepository(session).get(region_code)
    if region is None:
        raise invalid_field(
            "institution.region_not_found", "/region_code", f"No region has the code {region_code}."
        )
    if region.type is not expected:
        raise invalid_field(
            "institution.region_mismatch",
            "/region_code",
            f"A {kind.value} sits on a {expected.value} code; {region_code} ({region.name}) "
            f"is a {region.type.value}.",
        )
    return region_code


async def list_institutions(
    session: AsyncSession, filters: InstitutionFilter, sort: InstitutionSort, page: PageRequest
) -> PageResult[Institution]:
    return await InstitutionRepository(session).list(filters, sort, page)


async def get_institution(
    session: AsyncSession, institution_id: uuid.UUID, *, for_update: bool = False
) -> Institution:
    institution = await InstitutionRepository(session).get(institution_id, for_update=for_update)
    if institution is None:
        raise NotFound("institution.not_found", f"No institution has the id {institution_id}.")
    return institution


async def create_institution(
    session: AsyncSession, actor: Principal | None, data: InstitutionCreate
) -> Institution:
    region_code = await _check_institution_shape(
        session, data.kind, data.region_code, data.owner_institution_id, None
    )
    institution = Institution(
        name=data.name,
        short_name=data.short_name,
        kind=data.kind,
        region_code=region_code,
        owner_institution_id=data.owner_institution_id,
    )
    repo = InstitutionRepository(session)
    repo.add(institution)
    await session.flush()
    await audit_write(session, actor, "create", institution, None)
    return institution


async def audit_write(
    session: AsyncSession,
    actor: Principal | None,
    action: str,
    record: Institution | Unit,
    before: audit.Snapshot | None,
) -> None:
    entity = "institution" if isinstance(record, Institution) else "unit"
    institution_id = record.id if isinstance(record, Institution) else record.institution_id
    after = None if action == "delete" else audit.snapshot(record)
    await audit.record(
        session,
        actor,
        action,
        entity,
        record.id,
        institution_id=institution_id,
        before=before,
        after=after,
    )


async def update_institution(
    session: AsyncSession,
    actor: Principal | None,
    institution_id: uuid.UUID,
    data: InstitutionUpdate,
    preconditions: Preconditions,
) -> Institution:
    """Apply the fields sent; the merged record must satisfy the same rules as a new one."""
    institution = await get_institution(session, institution_id, for_update=True)
    preconditions.check_match(institution.version, entity="institution")
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise invalid_field("institution.name_required", "/name", "The name cannot be removed.")
    if "kind" in changes and changes["kind"] is None:
        raise invalid_field("institution.kind_required", "/kind", "The kind cannot be removed.")
    kind = changes.get("kind", institution.kind)
    owner_id = changes.get("owner_institution_id", institution.owner_institution_id)
    region_code = changes.get("region_code", institution.region_code)
    if kind is InstitutionKind.bumd and "region_code" not in changes:
        region_code = None  # follows the owner
    if kind in NATIONAL_KINDS and "region_code" not in changes and "kind" in changes:
        region_code = None
    region_code = await _check_institution_shape(
        session, kind, region_code, owner_id, institution.id
    )
    if (
        kind not in LOCAL_GOVERNMENT_REGION_TYPE
        and institution.kind in LOCAL_GOVERNMENT_REGION_TYPE
        and await InstitutionRepository(session).owns_bumd(institution.id)
    ):
        raise Conflict(
            "institution.owns_bumd",
            "This local government owns a bumd; it cannot become another kind.",
        )
    repo = InstitutionRepository(session)
    if (
        region_code is not None
        and region_code != institution.region_code
        and await repo.has_units_outside(institution.id, region_code)
    ):
        raise Conflict(
            "institution.units_outside_region",
            f"Some of this institution's units sit outside {region_code}; move them first.",
        )
    if kind in LOCAL_GOVERNMENT_REGION_TYPE and region_code != institution.region_code:
        # A bumd sits on its owner's region: keep the owned ones with it.
        await repo.move_owned_bumds(institution.id, region_code)
    before = audit.snapshot(institution)
    for field, value in changes.items():
        if field != "region_code":
            setattr(institution, field, value)
    institution.region_code = region_code
    await session.flush()
    await audit_write(session, actor, "update", institution, before)
    return institution


async def delete_institution(
    session: AsyncSession,
    actor: Principal | None,
    institution_id: uuid.UUID,
    preconditions: Preconditions,
) -> None:
    """Delete an institution; 409 while it still has units or owns a bumd."""
    institution = await get_institution(session, institution_id, for_update=True)
    preconditions.check_match(institution.version, entity="institution")
    repo = InstitutionRepository(session)
    if await repo.has_units(institution.id):
        raise Conflict(
            "institution.has_units", "This institution still has units; delete them first."
        )
    if await repo.owns_bumd(institution.id):
        raise Conflict(
            "institution.owns_bumd", "This local government owns a bumd; delete that one first."
        )
    before = audit.snapshot(institution)
    await repo.delete(institution)
    await session.flush()
    await audit_write(session, actor, "delete", institution, before)


# --- units ----------------------------------------------------------------------------------


def _ensure_manages_units(principal: Principal, institution_id: uuid.UUID) -> None:
    if principal.role is Role.secretariat_admin:
        return
    if principal.role is Role.local_admin and principal.institution_id == institution_id:
        return
    raise Forbidden(
        "unit.out_of_scope",
        "Only this institution's local admin or the secretariat manage its units.",
    )


async def list_units(
    session: AsyncSession,
    institution_id: uuid.UUID,
    filters: UnitFilter,
    sort: UnitSort,
    page: PageRequest,
) -> PageResult[Unit]:
    await get_institution(session, institution_id)
    return await UnitRepository(session).list(institution_id, filters, sort, page)


async def get_unit(session: AsyncSession, unit_id: uuid.UUID) -> Unit:
    unit = await UnitRepository(session).get(unit_id)
    if unit is None:
        raise NotFound("unit.not_found", f"No unit has the id {unit_id}.")
    return unit


async def check_unit_region(
    session: AsyncSession, institution: Institution, region_code: str | None
) -> None:
    if region_code is None:
        return
    if await RegionRepository(session).get(region_code) is None:
        raise invalid_field(
            "unit.region_not_found", "/region_code", f"No region has the code {region_code}."
        )
    home = institution.region_code
    if home is not None and region_code != home and not region_code.startswith(home + "."):
        raise invalid_field(
            "unit.region_outside_institution",
            "/region_code",
            f"The unit must sit inside its institution's region {home}.",
        )


async def check_parent(
    session: AsyncSession,
    institution_id: uuid.UUID,
    parent_id: uuid.UUID,
    unit_id: uuid.UUID | None,
) -> None:
    repo = UnitRepository(session)
    parent = await repo.get(parent_id)
    if parent is None:
        raise invalid_field(
            "unit.parent_not_found", "/parent_unit_id", "The parent unit does not exist."
        )
    if parent.institution_id != institution_id:
        raise invalid_field(
            "unit.parent_other_institution",
            "/parent_unit_id",
            "The parent unit belongs to another institution.",
        )
    if unit_id is not None and await repo.is_ancestor_or_self(unit_id, parent_id):
        raise invalid_field(
            "unit.cycle",
            "/parent_unit_id",
            "A unit cannot sit under itself or under one of its own sub-units.",
        )


async def create_unit(
    session: AsyncSession, principal: Principal, institution_id: uuid.UUID, data: UnitCreate
) -> Unit:
    _ensure_manages_units(principal, institution_id)
    # The row lock serialises tree changes inside one institution (no racing moves into a cycle).
    institution = await get_institution(session, institution_id, for_update=True)
    if data.parent_unit_id is not None:
        await check_parent(session, institution_id, data.parent_unit_id, None)
    await check_unit_region(session, institution, data.region_code)
    unit = Unit(
        institution_id=institution_id,
        parent_unit_id=data.parent_unit_id,
        name=data.name,
        region_code=data.region_code,
    )
    UnitRepository(session).add(unit)
    await session.flush()
    await audit_write(session, principal, "create", unit, None)
    return unit


async def update_unit(
    session: AsyncSession,
    principal: Principal,
    unit_id: uuid.UUID,
    data: UnitUpdate,
    preconditions: Preconditions,
) -> Unit:
    unit = await get_unit(session, unit_id)
    _ensure_manages_units(principal, unit.institution_id)
    institution = await get_institution(session, unit.institution_id, for_update=True)
    await session.refresh(unit)
    preconditions.check_match(unit.version, entity="unit")
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise invalid_field("unit.name_required", "/name", "The name cannot be removed.")
    if changes.get("parent_unit_id") is not None:
        await check_parent(session, unit.institution_id, changes["parent_unit_id"], unit.id)
    if "region_code" in changes:
        await check_unit_region(session, institution, changes["region_code"])
    before = audit.snapshot(unit)
    for field, value in changes.items():
        setattr(unit, field, value)
    await session.flush()
    await audit_write(session, principal, "update", unit, before)
    return unit


async def delete_unit(
    session: AsyncSession, principal: Principal, unit_id: uuid.UUID, preconditions: Preconditions
) -> None:
    """Delete a unit; 409 while sub-units sit under it."""
    unit = await get_unit(session, unit_id)
    _ensure_manages_units(principal, unit.institution_id)
    # Same lock as create and move: no sub-unit can be added under it while it goes.
    await get_institution(session, unit.institution_id, for_update=True)
    await session.refresh(unit)
    preconditions.check_match(unit.version, entity="unit")
    repo = UnitRepository(session)
    if await repo.has_sub_units(unit.id):
        raise Conflict("unit.has_sub_units", "Sub-units sit under this unit; move or delete them.")
    before = audit.snapshot(unit)
    await repo.delete(unit)
    await session.flush()
    await audit_write(session, principal, "delete", unit, before)
