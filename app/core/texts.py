"""Text PostgreSQL can store: the one check every JSON request body goes through.

PostgreSQL stores neither a NUL character nor half of a surrogate pair, in a text column or
inside `jsonb` (where it fails the whole statement with "unsupported Unicode escape sequence").
Rather than each schema guarding each of its strings, a request body is checked once, before its
fields are validated: the first key or string that cannot be stored is a 422 pointing at it.
JSON can carry either only as a `\\u` escape, so a body without one is not even parsed here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from app.core.errors import Unprocessable, field_error

UNSTORABLE_CODE = "text.unstorable"
UNSTORABLE_MESSAGE = (
    "This text holds a character that cannot be stored (NUL, or half of a surrogate pair)."
)

# A NUL escape or a surrogate escape (a pair may be valid: the parsed body decides).
_SUSPECT = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")
_F = TypeVar("_F", bound=Callable[..., Any])


def storable(text: str) -> bool:
    """Whether PostgreSQL can store `text`: no NUL, no lone surrogate."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(text: str) -> str:
    """A key or value as it can be stored and shown: NULs and lone surrogates escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def _segment(key: str) -> str:
    """One JSON pointer segment (RFC 6901), shown as it can be stored."""
    return shown(key).replace("~", "~0").replace("/", "~1")


def unstorable_pointer(value: Any, pointer: str = "") -> str | None:
    """The JSON pointer of the first key or string of `value` that cannot be stored, if any."""
    if isinstance(value, str):
        return pointer if not storable(value) else None
    if isinstance(value, dict):
        for key, nested in value.items():
            here = f"{pointer}/{_segment(str(key))}"
            if not storable(str(key)):
                return here
            found = unstorable_pointer(nested, here)
            if found is not None:
                return found
    if isinstance(value, list):
        for position, nested in enumerate(value):
            found = unstorable_pointer(nested, f"{pointer}/{position}")
            if found is not None:
                return found
    return None


def check_json_body(body: bytes) -> None:
    """Raise a 422 `text.unstorable` at the first text of the JSON `body` that cannot be stored.

    A body that is not JSON passes: request validation answers it (400 or 422)."""
    if not _SUSPECT.search(body):
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        return
    pointer = unstorable_pointer(parsed)
    if pointer is not None:
        raise Unprocessable(
            "validation_failed",
            "The request is not valid; see `errors`.",
            errors=[field_error(pointer, UNSTORABLE_CODE, UNSTORABLE_MESSAGE)],
        )


def checks_its_own_text(endpoint: _F) -> _F:
    """Mark an endpoint that checks its body's texts itself (a sync batch fails only the item
    that holds one), so that the route does not refuse the whole body."""
    endpoint.__dict__["checks_its_own_text"] = True
    return endpoint


def route_checks_text(endpoint: Callable[..., Any]) -> bool:
    """Whether the route checks its body's texts (every route, unless the endpoint opts out)."""
    return not getattr(endpoint, "checks_its_own_text", False)
