"""The list kit: one envelope, bounded `limit`, signed opaque keyset cursors, optional totals.

Every cursor the service hands out (a list's, the sync feed's) is sealed by `CursorSigner`:
base64url of a version byte, a compact payload and an HMAC-SHA256 tag (16 bytes) under a key
derived from SECRET_KEY for the cursor's purpose (`LIST_CURSOR`, `FEED_CURSOR`), so a cursor of
one purpose is never valid for another. The tag is compared in constant time; a token that is
not the canonical encoding of what was sealed is refused too, so no two spellings of one cursor
exist.

A list cursor's payload is JSON: the last row's sort values (strings, numbers, ISO dates) and a
digest of the list's scope (which list, which sort, which filters, which visibility), so it
carries no readable scope and no Python repr. A cursor that was altered, sealed for another
purpose or another key, or that belongs to another list, sort or filter set, is a 400 problem,
never a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

from app.core.errors import BadRequest

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    """Subclass per item type (`class InstitutionPage(Page[InstitutionRead])`) for clean names."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page."
    )
    has_more: bool
    total: int | None = Field(
        default=None, description="Number of matching records; only with `include_total=true`."
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _restore(value: Any, python_type: type) -> Any:
    if value is None:
        return None
    if python_type in (uuid.UUID, datetime, date) and not isinstance(value, str):
        raise TypeError("cursor value of the wrong type")
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type in (int, float, str, bool):
        if type(value) is not python_type:  # strict: a JSON true is not the integer 1
            raise TypeError("cursor value of the wrong type")
        return value
    return python_type(value)


LIST_CURSOR = "list"
FEED_CURSOR = "sync-feed"

_TOKEN_VERSION = 1
_TAG_BYTES = 16
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,2048}")


class InvalidCursor(ValueError):
    """Not a cursor sealed for this purpose with this key (callers answer their own 400)."""


def _scope_digest(scope: str) -> str:
    return _b64(hashlib.sha256(scope.encode()).digest()[:12])


@dataclass(frozen=True)
class CursorSigner:
    """Seals and opens the service's cursors (see the module's docstring)."""

    key: bytes

    def _tag(self, purpose: str, body: bytes) -> bytes:
        purpose_key = hmac.new(
            self.key, b"inovasi cursor key/" + purpose.encode(), hashlib.sha256
        ).digest()
        return hmac.new(purpose_key, body, hashlib.sha256).digest()[:_TAG_BYTES]

    def seal(self, purpose: str, payload: bytes) -> str:
        body = bytes([_TOKEN_VERSION]) + payload
        return _b64(body + self._tag(purpose, body))

    def unseal(self, purpose: str, token: str) -> bytes:
        """The payload sealed for `purpose`; `InvalidCursor` for anything else."""
        if not _TOKEN.fullmatch(token):
            raise InvalidCursor("not base64url")
        try:
            raw = _unb64(token)
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor("not base64url") from exc
        if _b64(raw) != token:  # another spelling of the same bytes (unused trailing bits)
            raise InvalidCursor("not canonical")
        if len(raw) <= _TAG_BYTES or raw[0] != _TOKEN_VERSION:
            raise InvalidCursor("unknown version")
        body, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if not hmac.compare_digest(tag, self._tag(purpose, body)):
            raise InvalidCursor("bad signature")
        return body[1:]

    def encode(self, scope: str, values: Sequence[Any]) -> str:
        """A list cursor: the last row's sort values, bound to the list's scope."""
        payload = json.dumps(
            {"s": _scope_digest(scope), "v": [_plain(v) for v in values]},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        return self.seal(LIST_CURSOR, payload)

    def decode(self, token: str, scope: str, types: Sequence[type]) -> list[Any]:
        try:
            data = json.loads(self.unseal(LIST_CURSOR, token))
        except (ValueError, UnicodeDecodeError) as exc:  # InvalidCursor, JSONDecodeError
            raise BadRequest("cursor.invalid", "The cursor is not valid.") from exc
        if not isinstance(data, dict) or data.get("s") != _scope_digest(scope):
            raise BadRequest(
                "cursor.mismatch",
                "The cursor belongs to another list, sort order or set of filters.",
            )
        values = data.get("v")
        if not isinstance(values, list) or len(values) != len(types):
            raise BadRequest("cursor.invalid", "The cursor is not valid.")
        try:
            return [_restore(v, t) for v, t in zip(values, types, strict=True)]
        except (TypeError, ValueError, ArithmeticError) as exc:  # ArithmeticError: Decimal
            raise BadRequest("cursor.invalid", "The cursor is not valid.") from exc


def filters_fingerprint(filters: BaseModel | None) -> str:
    """A short digest of the filter values, so a cursor only continues the list it came from."""
    if filters is None:
        return "-"
    raw = json.dumps(filters.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PageRequest:
    limit: int
    cursor: str | None
    include_total: bool
    signer: CursorSigner


async def page_request(
    request: Request,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, 1 to {MAX_LIMIT}.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=2048, description="Opaque cursor from a previous page's `next_cursor`."),
    ] = None,
    include_total: Annotated[
        bool, Query(description="Also count every matching record (slower).")
    ] = False,
) -> PageRequest:
    signer: CursorSigner = request.app.state.cursor_signer
    return PageRequest(limit=limit, cursor=cursor, include_total=include_total, signer=signer)


PageDep = Annotated[PageRequest, Depends(page_request)]
