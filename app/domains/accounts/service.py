"""People, API keys and sign-in. Accounts follow the programme's hierarchy (DOMAIN.md section 2):
the secretariat grants any role; a local admin grants unit operators (and regional-system keys)
of its own institution only; nobody grants a role or scope wider than their own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import dates
from app.core.concurrency import Preconditions
from app.core.config import Settings
from app.core.errors import (
    Conflict,
    ConstraintError,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    field_error,
    invalid_field,
    register_constraint_errors,
)
from app.core.lifecycle import visible_or_404
from app.core.pagination import PageRequest
from app.core.passwords import hash_password, verify_password
from app.core.ratelimit import RateLimiter
from app.core.security import Principal
from app.core.tokens import AccessToken, issue_access_token
from app.db.repository import PageResult
from app.domains.accounts.credentials import generate_api_key
from app.domains.accounts.repository import ApiKeyRepository, UserRepository
from app.domains.accounts.schemas import (
    ApiKeyCreate,
    ApiKeyFilter,
    ApiKeySort,
    PasswordChange,
    UserCreate,
    UserFilter,
    UserSort,
    UserUpdate,
)
from app.domains.audit import service as audit
from app.domains.hubs.repository import HubRepository
from app.domains.institutions.repository import InstitutionRepository, UnitRepository
from app.domains.notifications import audience, events
from app.models.accounts import ApiKey, User
from app.models.enums import Role

register_constraint_errors(
    {
        "uq_users_email": ConstraintError(
            409, "user.duplicate_email", "Another account has this email.", "/email"
        ),
    }
)

Entity = Literal["api_key", "user"]

# What a local admin may grant, inside its own institution.
LOCAL_ADMIN_GRANTS: dict[Entity, frozenset[Role]] = {
    "api_key": frozenset({Role.unit_operator, Role.regional_system}),
    "user": frozenset({Role.unit_operator}),
}
LOCAL_ADMIN_ISSUABLE = LOCAL_ADMIN_GRANTS["api_key"]

# Which scope fields each role takes.
_SCOPE_FIELDS: dict[Role, frozenset[str]] = {
    Role.secretariat_admin: frozenset(),
    Role.evaluator: frozenset({"institution_id"}),
    Role.local_admin: frozenset({"institution_id"}),
    Role.regional_system: frozenset({"institution_id"}),
    Role.unit_operator: frozenset({"unit_id", "institution_id"}),
    Role.hub_admin: frozenset({"hub_id"}),
}
_LABEL = {"api_key": "key", "user": "account"}


@dataclass(frozen=True)
class ScopeFields:
    """The scope columns of an account or key (role-dependent; see `_SCOPE_FIELDS`)."""

    institution_id: uuid.UUID | None
    unit_id: uuid.UUID | None
    hub_id: uuid.UUID | None


async def _resolve_scope(
    session: AsyncSession, entity: Entity, role: Role, given: ScopeFields
) -> ScopeFields:
    """Check the scope fields fit the role; a unit operator's institution is its unit's."""
    label = f"A {role.value} {_LABEL[entity]}"
    for field in ("institution_id", "unit_id", "hub_id"):
        if getattr(given, field) is not None and field not in _SCOPE_FIELDS[role]:
            raise invalid_field(
                f"{entity}.scope_not_allowed", f"/{field}", f"A {role.value} has no {field}."
            )
    institution_id = given.institution_id
    if role is Role.unit_operator:
        if given.unit_id is None:
            raise invalid_field(f"{entity}.unit_required", "/unit_id", f"{label} needs a unit.")
        unit = await UnitRepository(session).get(given.unit_id)
        if unit is None:
            raise invalid_field(f"{entity}.unit_not_found", "/unit_id", "The unit does not exist.")
        if institution_id is not None and institution_id != unit.institution_id:
            raise invalid_field(
                f"{entity}.scope_mismatch",
                "/institution_id",
                "The unit belongs to another institution.",
            )
        institution_id = unit.institution_id
    if role in (Role.local_admin, Role.regional_system) and institution_id is None:
        raise invalid_field(
            f"{entity}.institution_required", "/institution_id", f"{label} needs an institution."
        )
    if role is Role.hub_admin and given.hub_id is None:
        raise invalid_field(f"{entity}.hub_required", "/hub_id", f"{label} needs a hub.")
    if given.hub_id is not None and await HubRepository(session).get(given.hub_id) is None:
        raise invalid_field(f"{entity}.hub_not_found", "/hub_id", "The hub does not exist.")
    if (
        institution_id is not None
        and await InstitutionRepository(session).get(institution_id) is None
    ):
        raise invalid_field(
            f"{entity}.institution_not_found",
            "/institution_id",
            "The institution does not exist.",
        )
    return ScopeFields(institution_id, given.unit_id, given.hub_id)


def _ensure_may_grant(
    entity: Entity, granter: Principal | None, role: Role, institution_id: uuid.UUID | None
) -> None:
    """Nobody grants a role or scope wider than their own. `None` is the operator's CLI."""
    if granter is None or granter.is_secretariat:
        return
    if (
        granter.role is Role.local_admin
        and role in LOCAL_ADMIN_GRANTS[entity]
        and institution_id == granter.institution_id
    ):
        return
    roles = " and ".join(sorted(r.value for r in LOCAL_ADMIN_GRANTS[entity]))
    raise Forbidden(
        f"{entity}.grant_forbidden",
        f"A local admin may only create {roles} {_LABEL[entity]}s for its own institution.",
    )


# --- API keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str


async def issue_api_key(
    session: AsyncSession, issuer: Principal | None, data: ApiKeyCreate
) -> IssuedKey:
    """Create a key; the secret is returned once and only its digest is stored."""
    scope = await _resolve_scope(
        session, "api_key", data.role, ScopeFields(data.institution_id, data.unit_id, data.hub_id)
    )
    if data.expires_at is not None and data.expires_at <= datetime.now(UTC):
        raise invalid_field(
            "api_key.expiry_past", "/expires_at", "The expiry must be in the future."
        )
    _ensure_may_grant("api_key", issuer, data.role, scope.institution_id)
    new = generate_api_key()
    key = ApiKey(
        name=data.name,
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        role=data.role,
        institution_id=scope.institution_id,
        unit_id=scope.unit_id,
        hub_id=scope.hub_id,
        expires_at=data.expires_at,
        created_by_api_key_id=issuer.api_key_id if issuer else None,
        created_by_user_id=issuer.user_id if issuer else None,
    )
    ApiKeyRepository(session).add(key)
    await session.flush()
    await session.refresh(key)
    await audit.record(
        session,
        issuer,
        "create",
        "api_key",
        key.id,
        institution_id=key.institution_id,
        after=audit.snapshot(key),
    )
    return IssuedKey(key=key, secret=new.secret)


def _key_in_scope(principal: Principal, key: ApiKey) -> bool:
    """A local admin reaches only the keys it could have issued: its institution's unit
    operators and regional systems (not its peers' keys, nor evaluators')."""
    if principal.is_secretariat:
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
    visible, institution_id = principal.institution_filter(filters.institution_id)
    roles = filters.role
    if not principal.is_secretariat:
        # A local admin reaches only the roles it may issue.
        roles = sorted(r for r in roles or LOCAL_ADMIN_ISSUABLE if r in LOCAL_ADMIN_ISSUABLE)
    if not visible or (not principal.is_secretariat and not roles):
        return PageResult.empty(page)
    filters = filters.model_copy(update={"institution_id": institution_id, "role": roles})
    return await ApiKeyRepository(session).list(filters, sort, page)


async def get_api_key(session: AsyncSession, principal: Principal, key_id: uuid.UUID) -> ApiKey:
    return visible_or_404(
        await ApiKeyRepository(session).get(key_id),
        lambda key: _key_in_scope(principal, key),
        lambda: NotFound("api_key.not_found", f"No API key has the id {key_id}."),
    )


async def revoke_api_key(session: AsyncSession, principal: Principal, key_id: uuid.UUID) -> None:
    """Revoke a key; it stops working on the next request. Revoking twice changes nothing."""
    key = await get_api_key(session, principal, key_id)
    if key.revoked_at is None:
        before = audit.snapshot(key)
        key.revoked_at = datetime.now(UTC)
        await session.flush()
        await audit.record(
            session,
            principal,
            "revoke",
            "api_key",
            key.id,
            institution_id=key.institution_id,
            before=before,
            after=audit.snapshot(key),
        )


# --- users ----------------------------------------------------------------------------------


def _duplicate_email() -> Conflict:
    message = "Another account has this email."
    return Conflict(
        "user.duplicate_email", message, errors=[field_error("/email", "duplicate", message)]
    )


async def create_user(session: AsyncSession, creator: Principal | None, data: UserCreate) -> User:
    """Create a person's account inside the creator's reach; the password is stored hashed."""
    role = Role(data.role)
    scope = await _resolve_scope(
        session, "user", role, ScopeFields(data.institution_id, data.unit_id, data.hub_id)
    )
    _ensure_may_grant("user", creator, role, scope.institution_id)
    repo = UserRepository(session)
    if await repo.get_by_email(data.email) is not None:
        raise _duplicate_email()
    user = User(
        email=data.email,
        name=data.name,
        role=role,
        institution_id=scope.institution_id,
        unit_id=scope.unit_id,
        hub_id=scope.hub_id,
        password_hash=await hash_password(data.password),
        created_by_user_id=creator.user_id if creator else None,
        created_by_api_key_id=creator.api_key_id if creator else None,
    )
    repo.add(user)
    await session.flush()
    await session.refresh(user)
    await audit.record(
        session,
        creator,
        "create",
        "user",
        user.id,
        institution_id=user.institution_id,
        after=audit.snapshot(user),
    )
    # A security message: the person learns an account exists in their name.
    await events.emit(
        session,
        "account.created",
        "user",
        user.id,
        audience=[audience.person(user.id)],
        actor=creator,
        institution_id=user.institution_id,
        data={"role": user.role},
    )
    return user


async def _tell_password_changed(session: AsyncSession, principal: Principal, user: User) -> None:
    """A security message to the account's owner, even when the owner changed it (so a
    stolen session that changed it is noticed); it names no password."""
    await events.emit(
        session,
        "account.password_changed",
        "user",
        user.id,
        audience=[audience.person(user.id)],
        actor=principal,
        institution_id=user.institution_id,
        include_actor=True,
    )


async def list_users(
    session: AsyncSession,
    principal: Principal,
    filters: UserFilter,
    sort: UserSort,
    page: PageRequest,
) -> PageResult[User]:
    """The secretariat lists everyone; a local admin its own institution's accounts."""
    visible, institution_id = principal.institution_filter(filters.institution_id)
    if not visible:
        return PageResult.empty(page)
    filters = filters.model_copy(update={"institution_id": institution_id})
    return await UserRepository(session).list(filters, sort, page)


async def get_user(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, *, for_update: bool = False
) -> User:
    return visible_or_404(
        await UserRepository(session).get(user_id, for_update=for_update),
        lambda user: principal.reaches_institution(user.institution_id),
        lambda: NotFound("user.not_found", f"No account has the id {user_id}."),
    )


async def update_user(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    data: UserUpdate,
    preconditions: Preconditions,
) -> User:
    """Change an account. A local admin manages its institution's unit operators only; nobody
    disables their own account (so the last admin cannot lock everyone out by mistake)."""
    user = await get_user(session, principal, user_id, for_update=True)
    if not principal.is_secretariat and user.role not in LOCAL_ADMIN_GRANTS["user"]:
        raise Forbidden(
            "user.manage_forbidden", "A local admin manages its institution's unit operators only."
        )
    preconditions.check_match(user.version, entity="user")
    changes = data.model_dump(exclude_unset=True)
    for field in ("email", "name", "is_active"):
        if field in changes and changes[field] is None:
            raise invalid_field(f"user.{field}_required", f"/{field}", f"{field} cannot be null.")
    if changes.get("is_active") is False and principal.user_id == user.id:
        raise Conflict("user.self_deactivation", "You cannot disable your own account.")
    if "unit_id" in changes:
        await _check_unit_move(session, user, changes["unit_id"])
    if "email" in changes and changes["email"] != user.email.lower():
        other = await UserRepository(session).get_by_email(changes["email"])
        if other is not None and other.id != user.id:
            raise _duplicate_email()
    before = audit.snapshot(user)
    password = changes.pop("password", None)
    if password is not None:
        user.password_hash = await hash_password(password)
        user.password_changed_at = datetime.now(UTC)
    for field, value in changes.items():
        setattr(user, field, value)
    await session.flush()
    await audit.record(
        session,
        principal,
        "update",
        "user",
        user.id,
        institution_id=user.institution_id,
        before=before,
        after=audit.snapshot(user),
    )
    if password is not None:
        await _tell_password_changed(session, principal, user)
    return user


async def _check_unit_move(session: AsyncSession, user: User, unit_id: uuid.UUID | None) -> None:
    if user.role is not Role.unit_operator:
        raise invalid_field(
            "user.scope_not_allowed", "/unit_id", "Only a unit operator has a unit."
        )
    if unit_id is None:
        raise invalid_field("user.unit_required", "/unit_id", "A unit operator needs a unit.")
    unit = await UnitRepository(session).get(unit_id)
    if unit is None or unit.institution_id != user.institution_id:
        raise invalid_field(
            "user.unit_not_found", "/unit_id", "No unit of this account's institution has this id."
        )


async def change_my_password(
    session: AsyncSession,
    limiter: RateLimiter | None,
    principal: Principal,
    data: PasswordChange,
    address: str | None,
) -> None:
    """A person changes its own password; every token issued before stops working.

    A wrong current password counts as a failed sign-in (same throttle), so a stolen token
    cannot be used to guess the password faster than the sign-in form allows."""
    if principal.user_id is None or principal.email is None:
        raise Forbidden("auth.not_a_person", "An API key has no password.")
    await _check_throttle(limiter, principal.email, address)
    user = await UserRepository(session).get(principal.user_id, for_update=True)
    if user is None or not await verify_password(data.current_password, user.password_hash):
        if limiter is not None:
            await limiter.record_login_failure(principal.email, address)
        raise invalid_field(
            "user.wrong_password", "/current_password", "The current password is wrong."
        )
    before = audit.snapshot(user)
    user.password_hash = await hash_password(data.new_password)
    user.password_changed_at = datetime.now(UTC)
    await session.flush()
    await audit.record(
        session,
        principal,
        "password_change",
        "user",
        user.id,
        institution_id=user.institution_id,
        before=before,
        after=audit.snapshot(user),
    )
    await _tell_password_changed(session, principal, user)


# --- sign-in --------------------------------------------------------------------------------


def _user_principal(user: User) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        role=user.role,
        name=user.name,
        email=user.email,
        institution_id=user.institution_id,
        unit_id=user.unit_id,
        hub_id=user.hub_id,
    )


async def _check_throttle(limiter: RateLimiter | None, email: str, address: str | None) -> None:
    if limiter is None:
        return
    retry_after = await limiter.login_retry_after(email, address)
    if retry_after is not None:
        raise TooManyRequests(
            "auth.too_many_failures",
            "Too many failed sign-ins for this account or address; try again later.",
            retry_after=retry_after,
        )


async def create_access_token(
    session: AsyncSession,
    settings: Settings,
    limiter: RateLimiter | None,
    email: str,
    password: str,
    address: str | None,
) -> AccessToken:
    """Exchange email and password for an access token.

    Unknown emails, wrong passwords and disabled accounts get the same 401 after the same work;
    after repeated failures for the account or the address, attempts get 429 until the window
    passes (counted outside the transaction, so a refused attempt still counts)."""
    await _check_throttle(limiter, email, address)
    user = await UserRepository(session).get_by_email(email)
    valid = await verify_password(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        if limiter is not None:
            await limiter.record_login_failure(email, address)
        raise Unauthorized(
            "auth.invalid_credentials",
            "The email or password is wrong, or the account is disabled.",
        )
    now = datetime.now(UTC)
    await UserRepository(session).record_login(user.id, now)
    await audit.record(
        session,
        _user_principal(user),
        "login",
        "user",
        user.id,
        institution_id=user.institution_id,
        changes=audit.diff(
            {"last_login_at": dates.jsonable(user.last_login_at)},
            {"last_login_at": dates.jsonable(now)},
        ),
    )
    return issue_access_token(settings, user.id, user.password_changed_at, now)
