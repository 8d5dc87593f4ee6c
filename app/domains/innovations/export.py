"""The CSV export: stable columns, one row per innovation, written in batches as rows arrive.

Memory stays constant however many rows there are: rows come from a server-side cursor a batch
at a time and each batch is sent before the next is read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import RowMapping

from app.core import dates

# The columns, in order. Stable: new columns are only ever appended.
COLUMNS = (
    "id",
    "title",
    "acronym_expansion",
    "institution_id",
    "institution_name",
    "institution_kind",
    "region_code",
    "unit_id",
    "unit_name",
    "year_started",
    "implemented_date",
    "is_digital",
    "stage",
    "sdgs",
    "category_codes",
    "sustainability_status",
    "status",
    "published_at",
    "created_at",
    "updated_at",
    "version",
    "summary",
)
# Cells a spreadsheet would run as a formula get a leading apostrophe (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ROWS_PER_CHUNK = 500


def cell(value: Any) -> str:
    """One value as CSV text: lists joined by `;`, booleans `true`/`false`, RFC 3339 times
    in UTC (`Z`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return dates.rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


async def csv_chunks(
    rows: AsyncIterator[RowMapping], columns: Sequence[str] = COLUMNS
) -> AsyncIterator[bytes]:
    """The header row, then the rows as CSV, a chunk of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    pending = 0
    async for row in rows:
        writer.writerow([cell(row[name]) for name in columns])
        pending += 1
        if pending >= _ROWS_PER_CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode()
