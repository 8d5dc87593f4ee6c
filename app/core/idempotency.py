"""`Idempotency-Key` (API.md): a retried request with the same key and body replays the first
response; the same key with another body is a 422; while the first is still running, a 409.

The key and the response are written in the request's own transaction, so a key is kept exactly
when what the request did is (a request that failed can be retried with its key). A transaction
advisory lock on (caller, key) tells a retry that the first attempt is still in flight.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import Header
from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, Unprocessable
from app.core.security import Principal
from app.models.sync import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes the request safe to retry: a retry with the same key and body "
        "replays the first response (header `Idempotent-Replayed: true`) without doing "
        "anything again; the same key with another body is a 422, and while the first attempt "
        "is still running a 409. Keys are the caller's own and kept at least 24 hours. Use a "
        "new random value (a UUID) for each distinct request.",
    ),
]

_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:lock_key, 0))")


@dataclass(frozen=True)
class Claim:
    """A request that may go ahead under its key; `remember` stores its response."""

    caller_id: Any
    key: str
    operation: str
    fingerprint: str


@dataclass(frozen=True)
class Replay:
    status_code: int
    body: dict[str, Any]


def fingerprint(operation: str, body: Any) -> str:
    """A SHA-256 of the operation and the body as JSON with sorted keys (so key order and
    spacing do not make two requests differ)."""
    try:
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:  # a lone surrogate, which orjson refuses: escape it as JSON may
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=True).encode()
    return hashlib.sha256(operation.encode() + b"\n" + canonical).hexdigest()


async def claim(
    session: AsyncSession, principal: Principal, key: str, operation: str, body: Any
) -> Claim | Replay:
    """Go ahead (`Claim`), or the first attempt's response to send again (`Replay`)."""
    if not _KEY.match(key):  # the header's own validation says so first; kept for other callers
        raise Unprocessable("idempotency.invalid_key", "The Idempotency-Key is not valid.")
    lock_key = f"idempotency:{principal.id}:{key}"
    locked = (await session.execute(_LOCK, {"lock_key": lock_key})).scalar_one()
    if not locked:
        raise Conflict(
            "idempotency.in_flight",
            "A request with this Idempotency-Key is still being processed; retry later.",
            headers={"Retry-After": "1"},
        )
    digest = fingerprint(operation, body)
    stored = await session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.caller_id == principal.id, IdempotencyKey.key == key
        )
    )
    if stored is not None and stored.expires_at <= datetime.now(UTC):
        await session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.caller_id == principal.id, IdempotencyKey.key == key
            )
        )
        stored = None
    if stored is None:
        return Claim(principal.id, key, operation, digest)
    if stored.operation != operation or stored.fingerprint != digest:
        raise Unprocessable(
            "idempotency.key_reused",
            "This Idempotency-Key was used for a different request (another body or "
            "operation); use a new key for a new request.",
        )
    return Replay(stored.status_code, stored.response)


async def remember(
    session: AsyncSession, claim: Claim, status_code: int, body: dict[str, Any], ttl: timedelta
) -> None:
    """Keep the response for retries, in the request's transaction."""
    now = datetime.now(UTC)
    await session.execute(
        insert(IdempotencyKey).values(
            caller_id=claim.caller_id,
            key=claim.key,
            operation=claim.operation,
            fingerprint=claim.fingerprint,
            status_code=status_code,
            response=body,
            created_at=now,
            expires_at=now + ttl,
        )
    )


async def purge_expired(session: AsyncSession) -> int:
    """Forget expired keys (`inovasi sync-compact`); returns how many."""
    result = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at <= datetime.now(UTC))
    )
    return int(getattr(result, "rowcount", 0) or 0)
