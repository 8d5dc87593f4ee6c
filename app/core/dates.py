"""The programme's calendar and the API's instants.

Dates are Indonesian (WIB, UTC+7) calendar dates. Instants are written in UTC with `Z`
everywhere the API shows one (JSON bodies, problem members, CSV exports): `UtcDateTime` in
schemas, `rfc3339` where a value is written by hand, `jsonable` for JSON built from records.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import PlainSerializer
from pydantic_core import to_jsonable_python

WIB = timezone(timedelta(hours=7), "WIB")


def today_wib() -> date:
    """Today's date in Western Indonesia (WIB)."""
    return datetime.now(WIB).date()


def now() -> datetime:
    """The current instant (UTC). Deadline checks call it through this module, so a test can
    put the clock a second before or after a deadline."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC (a naive value is taken to be UTC already)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    """The instant as every response writes it: RFC 3339 in UTC with `Z`
    (`2026-03-01T01:00:00Z`, microseconds when there are any)."""
    return as_utc(value).isoformat().replace("+00:00", "Z")


def _to_utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, dict):
        return {key: _to_utc(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_utc(item) for item in value]
    return value


def jsonable(value: Any) -> Any:
    """`value` as JSON-ready data (pydantic's rules), its instants in UTC with `Z`: for JSON
    the API stores and shows again (the audit trail's changes, problem members)."""
    return to_jsonable_python(_to_utc(value))


# A schema's instant: any offset in, UTC out (Python and JSON alike; `Z` in JSON). The schema
# stays `{"type": "string", "format": "date-time"}`. Every response field that holds an
# instant uses it (tests/core/test_timestamps.py walks the response models).
UTC_SERIALIZER = PlainSerializer(as_utc, return_type=datetime)
UtcDateTime = Annotated[datetime, UTC_SERIALIZER]
