"""What the test client checks on every JSON response it receives (tests/conftest.py): every
instant is written in UTC with `Z` (tests/core/test_timestamps.py), and a problem's messages
are sentences joined the one way (`app.core.errors.join_messages`: never `.;` or `..`)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from typing import Any

import httpx

# A date and a time of day: what could be an instant (a bare date is a calendar date).
_LOOKS_LIKE_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_JSON_TYPES = ("application/json", "application/problem+json")
# Documents that describe requests, whose examples give instants in WIB as a caller may.
_DESCRIPTIONS = frozenset({"/openapi.json"})
# Messages joined by hand: "…id X.; Innovation Y…", "…done..", "…;." (an ellipsis is fine).
_BADLY_JOINED = re.compile(r"\.;|;\.|(?<!\.)\.\.(?!\.)")


def is_instant(text: str) -> bool:
    """Whether `text` parses as a date and time (with or without an offset)."""
    if not _LOOKS_LIKE_INSTANT.match(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def offenders(value: Any, pointer: str = "") -> list[str]:
    """The JSON pointers (with their values) of the instants in `value` not written in UTC
    with `Z`."""
    if isinstance(value, str):
        return [f"{pointer or '/'}: {value}"] if is_instant(value) and value[-1] != "Z" else []
    if isinstance(value, dict):
        return [o for key, item in value.items() for o in offenders(item, f"{pointer}/{key}")]
    if isinstance(value, list):
        return [o for i, item in enumerate(value) for o in offenders(item, f"{pointer}/{i}")]
    return []


def response_offenders(response: httpx.Response) -> list[str]:
    """The instants of a read response's JSON or CSV body and headers not in UTC with `Z`
    (HTTP-date headers such as `Date` are not instants of this form)."""
    found = [
        f"header {name}: {value}"
        for name, value in response.headers.items()
        if is_instant(value) and value[-1] != "Z"
    ]
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if media in _JSON_TYPES and response.content:
        found += offenders(json.loads(response.content))
    elif media == "text/csv":
        rows = csv.reader(io.StringIO(response.text))
        found += [
            f"csv row {r} column {c}: {cell}"
            for r, row in enumerate(rows)
            for c, cell in enumerate(row)
            if is_instant(cell) and cell[-1] != "Z"
        ]
    return found


def assert_instants_in_utc(response: httpx.Response) -> None:
    found = response_offenders(response)
    assert found == [], (
        f"{response.request.method} {response.request.url.path} wrote instants not in UTC "
        f"with Z: {found}"
    )


def badly_joined(problem: Any) -> list[str]:
    """The `detail` and `errors[].message` of a problem body that join messages badly."""
    if not isinstance(problem, dict):
        return []
    texts = [problem.get("detail")] + [
        e.get("message") for e in problem.get("errors") or [] if isinstance(e, dict)
    ]
    return [t for t in texts if isinstance(t, str) and _BADLY_JOINED.search(t)]


async def check_response(response: httpx.Response) -> None:
    """An httpx response hook: a JSON response's instants are UTC with `Z`, a problem's
    messages are well joined (streamed bodies, such as the CSV exports, are left to the test)."""
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if media in _JSON_TYPES and response.request.url.path not in _DESCRIPTIONS:
        await response.aread()
        assert_instants_in_utc(response)
    if media == "application/problem+json" and response.content:
        joined = badly_joined(json.loads(response.content))
        assert joined == [], f"{response.request.url.path}: messages joined badly: {joined}"
