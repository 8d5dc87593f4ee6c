"""Organiser mail: a message a person writes to an audience, filled in for each recipient.

The text is never a template (a person's text run as Jinja could reach the server's
objects): it may hold only the placeholders below, replaced as plain text.
"""

from __future__ import annotations

import re

from app.models.notifications import Mailing

PLACEHOLDERS = ("name",)
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def unknown_placeholders(text: str) -> list[str]:
    return sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - set(PLACEHOLDERS))


def personalise(mailing: Mailing, name: str) -> tuple[str, str]:
    values = {"name": name}

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)

    return fill(mailing.subject), fill(mailing.body)
