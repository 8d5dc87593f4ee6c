"""Every event kind has its templates in both languages, and every template a kind; each
renders with exactly the values its events carry (the kind's fields and refs, and `name`,
`link`, `base_url`): a template naming any other value fails here (StrictUndefined), never
when a message is sent."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

import pytest
from jinja2 import UndefinedError

from app.domains.notifications import kinds
from app.domains.notifications.rendering import LANGUAGES, render

BASE = "https://portal.inovasi.test"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "notifications.md"
LAYOUTS = {"_layout.txt", "_layout.html"}


def _templates(language: str) -> set[str]:
    folder = files("app.domains.notifications") / "templates" / language
    return {entry.name for entry in folder.iterdir() if entry.name not in LAYOUTS}


def _values(kind: kinds.EventKind) -> dict[str, object]:
    values: dict[str, object] = {f"{field}": f"<{field}>" for field in kind.fields}
    values.update({ref: f"<{ref}>" for ref in kind.refs})
    return {**values, "name": "Budi", "link": f"{BASE}/x", "base_url": BASE}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_has_a_template_and_every_template_a_kind(language: str) -> None:
    expected = {f"{name}.txt" for name in kinds.KINDS}
    found = _templates(language)
    assert sorted(expected - found) == [], "kinds without a template"
    assert sorted(found - expected) == [], "templates without a kind"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_each_kind_renders_with_exactly_its_values(name: str, language: str) -> None:
    kind = kinds.get(name)
    rendered = render(name, language, _values(kind))
    assert rendered.subject
    assert "\n" not in rendered.subject
    assert rendered.body.startswith("Yth. Budi," if language == "id" else "Dear Budi,")
    assert f"{BASE}/x" in rendered.text
    assert f'href="{BASE}/x"' in rendered.html
    shown = rendered.subject + rendered.body
    # Each ref is a name the message shows (a kind that carries a value it never shows
    # carries it for nothing).
    for ref in kind.refs:
        assert f"<{ref}>" in shown, f"{name} ({language}) never shows {ref}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(kinds.KINDS))
def test_a_missing_value_fails_the_render(name: str, language: str) -> None:
    """StrictUndefined holds: each value the kind carries is needed to render it."""
    kind = kinds.get(name)
    for left_out in [*kind.fields, *kind.refs, "name"]:
        values = _values(kind)
        del values[left_out]
        with pytest.raises(UndefinedError):
            render(name, language, values)


def test_the_docs_list_every_kind_with_its_payload() -> None:
    """docs/notifications.md has one row per kind, naming its fields and refs and whether it
    is essential, and no row for a kind that does not exist."""
    pattern = re.compile(r"^\| `([a-z_]+\.[a-z_]+)` \|(.*)$", re.M)
    rows = {match.group(1): match.group(2) for match in pattern.finditer(DOCS.read_text())}
    assert sorted(rows) == sorted(kinds.KINDS)
    for name, row in rows.items():
        cells = [cell.strip() for cell in row.split("|")]
        kind = kinds.get(name)
        fields, refs, essential = cells[2], cells[3], cells[4]
        for field in kind.fields:
            assert field in fields, f"{name}: {field} not in the docs' fields"
        assert [r.strip().split(" ")[0] for r in refs.split(",") if r.strip()] == list(kind.refs), (
            name
        )
        assert essential == ("**yes**" if kind.essential else "no"), name
