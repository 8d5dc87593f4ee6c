"""Access tokens for people: short-lived JWTs (HS256) signed with the first of the configured
keys and verified with any of them, so keys rotate without signing everyone out at once."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from app.core.config import Settings

_ALGORITHM = "HS256"
_LEEWAY_SECONDS = 5


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    # The account's password epoch when the token was issued (see `password_epoch`).
    password_epoch: int


def password_epoch(changed_at: datetime) -> int:
    """A password change moves this on, which invalidates every token issued before it."""
    return int(changed_at.timestamp() * 1_000_000)


def issue_access_token(
    settings: Settings, user_id: uuid.UUID, changed_at: datetime, now: datetime | None = None
) -> AccessToken:
    now = now or datetime.now(UTC)
    kid, secret = settings.signing_keys[0]
    ttl = settings.access_token_ttl_seconds
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=ttl),
        "jti": secrets.token_urlsafe(12),
        "pwe": password_epoch(changed_at),
    }
    token = jwt.encode(claims, secret, algorithm=_ALGORITHM, headers={"kid": kid})
    return AccessToken(token=token, expires_in=ttl)


class TokenExpired(Exception):
    """A token signed by a known key whose `exp` has passed: the caller answers 401
    `auth.token_expired`, so a client knows to refresh or sign in again."""


def decode_access_token(settings: Settings, token: str) -> TokenClaims | None:
    """The token's claims if it is well-formed, signed by a known key, for this issuer and
    audience and not expired; otherwise None (the caller answers 401 whatever the reason).

    Raises `TokenExpired` for a genuine token past its expiry: PyJWT checks `exp` only after
    the signature, so a forged token never gets that answer."""
    try:
        header = jwt.get_unverified_header(token)
        secret = dict(settings.signing_keys).get(str(header.get("kid")))
        if secret is None or header.get("alg") != _ALGORITHM:
            return None
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
        return TokenClaims(user_id=uuid.UUID(str(claims["sub"])), password_epoch=int(claims["pwe"]))
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired from exc
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None
