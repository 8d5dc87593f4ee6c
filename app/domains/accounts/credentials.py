"""Credentials: API keys (the secret, its digest, its display prefix) and the bearer credential
turned into the principal it stands for.

`Credentials` is the service's `app.core.security.CredentialResolver`: the app factory installs
it at start-up, and every route's policy asks it who a bearer credential belongs to. Core names
no domain; this is where an API key or an access token is told apart, looked up and refused.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import Request

from app.core.config import Settings
from app.core.errors import Unauthorized
from app.core.security import Principal
from app.core.tokens import TokenExpired, decode_access_token, password_epoch
from app.db.reads import Reader, reader_of
from app.domains.accounts.repository import key_for_caller, touch_last_used, user_for_caller
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


def caller_principal(kind: Literal["user", "api_key"], row: Mapping[str, Any]) -> Principal:
    """From a caller lookup's row (`repository.KEY_BY_HASH` / `USER_FOR_TOKEN`)."""
    return Principal(
        kind=kind,
        id=row["id"],
        role=Role(row["role"]),
        name=row["name"],
        email=row.get("email"),
        institution_id=row["institution_id"],
        unit_id=row["unit_id"],
        hub_id=row["hub_id"],
    )


async def principal_from_access_token(
    reader: Reader, settings: Settings, token: str
) -> Principal | None:
    """The person an access token stands for, if the token is valid and the account still
    active with the same password; None otherwise."""
    claims = decode_access_token(settings, token)
    if claims is None:
        return None
    user = await user_for_caller(reader, claims.user_id)
    if (
        user is None
        or not user["is_active"]
        or password_epoch(user["password_changed_at"]) != claims.password_epoch
    ):
        return None
    return caller_principal("user", user)


def _invalid_credentials() -> Unauthorized:
    return Unauthorized(
        "auth.invalid_credentials", "The credentials are not valid.", bearer_error="invalid_token"
    )


def _expired(detail: str) -> Unauthorized:
    return Unauthorized("auth.token_expired", detail, bearer_error="invalid_token")


class Credentials:
    """Resolve a bearer credential (an API key or an access token) to its principal.

    Unknown and revoked keys, bad tokens and disabled accounts all get the same 401
    `auth.invalid_credentials`: there is nothing to learn by probing. A genuine access token or
    API key past its expiry gets `auth.token_expired`, so its holder knows to sign in again (or
    to ask for a new key); both send `WWW-Authenticate: Bearer error="invalid_token"`.

    Built once per app with its settings, so a request reads only the app's reader (and, for a
    key, its engine) from the app's state.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.last_used_resolution_seconds = settings.api_key_last_used_resolution_seconds

    async def __call__(self, request: Request, credential: str) -> Principal:
        reader = reader_of(request)
        if credential.startswith(API_KEY_PREFIX):
            return await self._api_key_principal(request, reader, credential)
        try:
            principal = await principal_from_access_token(reader, self.settings, credential)
        except TokenExpired:
            raise _expired("The access token has expired; sign in again.") from None
        if principal is None:
            raise _invalid_credentials()
        return principal

    async def _api_key_principal(self, request: Request, reader: Reader, secret: str) -> Principal:
        key = await key_for_caller(reader, hash_api_key(secret))
        now = datetime.now(UTC)
        if key is None or key["revoked_at"] is not None:
            raise _invalid_credentials()
        if key["expires_at"] and key["expires_at"] <= now:
            raise _expired("The API key has expired; ask for a new one.")
        await touch_last_used(
            request.app.state.engine,
            key["id"],
            key["last_used_at"],
            now,
            self.last_used_resolution_seconds,
        )
        return caller_principal("api_key", key)
