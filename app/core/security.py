"""Who is calling: API keys, the principal they resolve to, and the per-endpoint access policy.

Every `/v1` route depends on exactly one `Access` policy. The policy is data (roles, whether
anonymous callers are allowed, a one-line rule for scope) so the OpenAPI document and the
authorization tests can be generated from the route table.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.core.errors import Forbidden, Unauthorized
from app.db.session import SessionDep
from app.models.enums import Role

API_KEY_PREFIX = "inv_"
_DISPLAY_PREFIX_LEN = 12


@dataclass(frozen=True)
class NewApiKey:
    secret: str
    prefix: str
    secret_hash: bytes


def hash_api_key(secret: str) -> bytes:
    """SHA-256 suffices: keys carry 256 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(secret.encode()).digest()


def generate_api_key() -> NewApiKey:
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return NewApiKey(
        secret=secret, prefix=secret[:_DISPLAY_PREFIX_LEN], secret_hash=hash_api_key(secret)
    )


@dataclass(frozen=True)
class Principal:
    """The caller: a role and the scope it acts in."""

    role: Role
    api_key_id: uuid.UUID
    name: str
    institution_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    hub_id: uuid.UUID | None = None

    @property
    def is_secretariat(self) -> bool:
        return self.role is Role.secretariat_admin


_bearer = HTTPBearer(auto_error=False, description="An API key (`inv_...`) or an access token.")


async def current_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """Resolve the bearer credential to a principal; None for anonymous callers."""
    if credentials is None:
        if request.headers.get("authorization"):
            raise Unauthorized(
                "auth.malformed", "The Authorization header must be `Bearer <token>`."
            )
        return None
    from app.domains.accounts.repository import ApiKeyRepository

    repo = ApiKeyRepository(session)
    key = await repo.get_by_hash(hash_api_key(credentials.credentials))
    now = datetime.now(UTC)
    if key is None or key.revoked_at is not None or (key.expires_at and key.expires_at <= now):
        # One answer for unknown, revoked and expired keys: nothing to learn by probing.
        raise Unauthorized("auth.invalid_credentials", "The credentials are not valid.")
    await repo.touch_last_used(
        request.app.state.engine,
        key.id,
        key.last_used_at,
        now,
        request.app.state.settings.api_key_last_used_resolution_seconds,
    )
    return Principal(
        role=key.role,
        api_key_id=key.id,
        name=key.name,
        institution_id=key.institution_id,
        unit_id=key.unit_id,
        hub_id=key.hub_id,
    )


class Access:
    """An endpoint's access policy: which roles may call it, and whether anonymous callers may."""

    def __init__(self, *roles: Role, anonymous: bool = False, scope: str = "") -> None:
        self.roles = frozenset(roles)
        self.anonymous = anonymous
        self.scope = scope

    def dep(self) -> Any:
        """This policy as a route dependency (for routes that do not need the principal)."""
        return Depends(self)

    def describe(self) -> str:
        who = "anyone, including anonymous callers" if self.anonymous else ""
        if not self.anonymous:
            who = ", ".join(sorted(r.value for r in self.roles)) or "nobody"
        return f"Who may call: {who}." + (f" Scope: {self.scope}" if self.scope else "")

    async def __call__(
        self, principal: Annotated[Principal | None, Depends(current_principal)]
    ) -> Principal | None:
        if principal is None:
            if self.anonymous:
                return None
            raise Unauthorized("auth.required", "This operation needs a bearer token.")
        if not self.anonymous and principal.role not in self.roles:
            raise Forbidden(
                "auth.role_forbidden", f"The role {principal.role.value} may not do this."
            )
        return principal


ALL_ROLES = tuple(Role)
