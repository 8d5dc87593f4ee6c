"""The list kit: one envelope, bounded `limit`, signed opaque keyset cursors, optional totals.

A cursor carries the last row's sort values and the list's scope (which list, which sort, which
filters), signed with HMAC-SHA256 under SECRET_KEY. A cursor that was altered, or that belongs to
another list, sort or filter set, is a 400 problem, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
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


@dataclass(frozen=True)
class CursorSigner:
    key: bytes

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.key, payload, hashlib.sha256).digest()[:16]

    def encode(self, scope: str, values: Sequence[Any]) -> str:
        payload = json.dumps(
            {"s": scope, "v": [_plain(v) for v in values]}, separators=(",", ":")
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def decode(self, token: str, scope: str, types: Sequence[type]) -> list[Any]:
        try:
            body, mac = token.split(".", 1)
            payload = _unb64(body)
            if not hmac.compare_digest(self._mac(payload), _unb64(mac)):
                raise ValueError("bad signature")
            data = json.loads(payload)
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest("cursor.invalid", "The cursor is not valid.") from exc
        if not isinstance(data, dict) or data.get("s") != scope:
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
