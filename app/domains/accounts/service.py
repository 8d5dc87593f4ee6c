"""API keys: issuing within the issuer's own reach, listing in scope, revoking."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Forbidden, NotFound, invalid_field
from app.core.pagination import PageRequest
from app.core.security import Principal, generate_api_key
from app.db.repository import PageResult
from app.domains.accounts.repository import ApiKeyRepository
from app.domains.accounts.schemas import ApiKeyCreate, ApiKeyFilter, ApiKeySort
from app.domains.institutions.repository import InstitutionRepository, UnitRepository
from app.models.accounts import ApiKey
from app.models.enums import Role

# Roles a local admin may issue keys for, inside its own institution.
LOCAL_ADMIN_ISSUABLE = frozenset({Role.unit_operator, Role.regional_system})


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


async def _normalise_scope(session: AsyncSession, data: ApiKeyCreate) -> ApiKeyCreate:
    """Check that the scope fields fit the role; a unit operator's institution is its unit's."""
    role = data.role
    allowed = {
        Role.secretariat_admin: set(),
        Role.evaluator: {"institution_id"},
        Role.local_admin: {"institution_id"},
        Role.regional_system: {"institution_id"},
        Role.unit_operator: {"unit_id", "institution_id"},
        Role.hub_admin: {"hub_id"},
    }[role]
    for field in ("institution_id", "unit_id", "hub_id"):
        if getattr(data, field) is not None and field not in allowed:
            raise invalid_field(
                "api_key.scope_not_allowed", f"/{field}", f"A {role.value} has no {field}."
            )
    institution_id = data.institution_id
    if role is Role.unit_operator:
        if data.unit_id is None:
            raise invalid_field(
                "api_key.unit_required", "/unit_id", "A unit_operator key needs a unit."
            )
        unit = await UnitRepository(session).get(data.unit_id)
        if unit is None:
            raise invalid_field("api_key.unit_not_found", "/unit_id", "The unit does not exist.")
        if institution_id is not None and institution_id != unit.institution_id:
            raise invalid_field(
                "api_key.scope_mismatch",
                "/institution_id",
                "The unit belongs to another institution.",
            )
        institution_id = unit.institution_id
    if role in (Role.local_admin, Role.regional_system) and institution_id is None:
        raise invalid_field(
            "api_key.institution_required",
            "/institution_id",
            f"A {role.value} key needs an institution.",
        )
    if role is Role.hub_admin and data.hub_id is None:
        raise invalid_field("api_key.hub_required", "/hub_id", "A hub_admin key needs a hub.")
    if (
        institution_id is not None
        and await InstitutionRepository(session).get(institution_id) is None
    ):
        raise invalid_field(
            "api_key.institution_not_found", "/institution_id", "The institution does not exist."
        )
    if data.expires_at is not None and data.expires_at <= datetime.now(UTC):
        raise invalid_field(
            "api_key.expiry_past", "/expires_at", "The expiry must be in the future."
        )
    return data.model_copy(update={"institution_id": institution_id})


def _ensure_may_issue(issuer: Principal | None, data: ApiKeyCreate) -> None:
    """Nobody grants a role or scope wider than their own. `None` is the operator's CLI."""
    if issuer is None or issuer.role is Role.secretariat_admin:
        return
    if (
        issuer.role is Role.local_admin
        and data.role in LOCAL_ADMIN_ISSUABLE
        and data.institution_id == issuer.institution_id
    ):
        return
    raise Forbidden(
        "api_key.grant_forbidden",
        "A local admin may only issue unit_operator and regional_system keys for its own "
        "institution.",
    )


async def issue_api_key(
    session: AsyncSession, issuer: Principal | None, data: ApiKeyCreate
) -> IssuedKey:
    """Create a key; the secret is returned once and only its digest is stored."""
    data = await _normalise_scope(session, data)
    _ensure_may_issue(issuer, data)
    new = generate_api_key()
    key = ApiKey(
        name=data.name,
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        role=data.role,
        institution_id=data.institution_id,
        unit_id=data.unit_id,
        hub_id=data.hub_id,
        expires_at=data.expires_at,
        created_by_api_key_id=issuer.api_key_id if issuer else None,
    )
    ApiKeyRepository(session).add(key)
    await session.flush()
    await session.refresh(key)
    return IssuedKey(key=key, secret=new.secret)


def _in_scope(principal: Principal, key: ApiKey) -> bool:
    """A local admin reaches only the keys it could have issued: its institution's unit
    operators and regional systems (not its peers' keys, nor evaluators')."""
    if principal.role is Role.secretariat_admin:
        return True
    return (
        principal.role is Role.local_admin
        and key.role in LOCAL_ADMIN_ISSUABLE
        and key.institution_id == principal.institution_id
    )


async def list_api_keys(
    session: AsyncSession,
    principal: Principal,
    filters: ApiKeyFilter,
    sort: ApiKeySort,
    page: PageRequest,
) -> PageResult[ApiKey]:
    if principal.role is not Role.secretariat_admin:
        roles = [r for r in filters.role or LOCAL_ADMIN_ISSUABLE if r in LOCAL_ADMIN_ISSUABLE]
        if filters.institution_id not in (None, principal.institution_id) or not roles:
            return PageResult(
                items=[], next_cursor=None, has_more=False, total=0 if page.include_total else None
            )
        filters = filters.model_copy(
            update={"institution_id": principal.institution_id, "role": sorted(roles)}
        )
    return await ApiKeyRepository(session).list(filters, sort, page)


async def get_api_key(session: AsyncSession, principal: Principal, key_id: uuid.UUID) -> ApiKey:
    key = await ApiKeyRepository(session).get(key_id)
    if key is None or not _in_scope(principal, key):
        raise NotFound("api_key.not_found", f"No API key has the id {key_id}.")
    return key


async def revoke_api_key(session: AsyncSession, principal: Principal, key_id: uuid.UUID) -> None:
    """Revoke a key; it stops working on the next request. Revoking twice is harmless."""
    key = await get_api_key(session, principal, key_id)
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await session.flush()
