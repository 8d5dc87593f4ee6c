"""Messages from templates (Jinja2), one per event kind and language, in `templates/<lang>/`.

A kind's `.txt` template has two blocks: `subject` (one line) and `body` (paragraphs split by
a blank line). Its plain text is the body in the language's `_layout.txt` (the link, the
footer); its HTML the same paragraphs, escaped, in `_layout.html`. Undefined values are
errors (`StrictUndefined`): `tests/domains/notifications/test_templates.py` renders every kind
in both languages with exactly the values its events carry (`EventKind.fields` and `refs`),
so a template that names another value fails there, never at send time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

LANGUAGES = ("id", "en")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    # The body alone (no link, no footer): the in-app notification's text.
    body: str


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("app.domains.notifications", "templates"),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(kind: str, language: str, values: dict[str, Any]) -> Rendered:
    """The message of `kind` in `language` with `values` (the event's fields and refs, and
    `name`, `link`, `base_url`)."""
    if language not in LANGUAGES:
        raise ValueError(f"no templates for language {language!r}")
    env = environment()
    template = env.get_template(f"{language}/{kind}.txt")
    context = template.new_context(dict(values))
    subject = " ".join("".join(template.blocks["subject"](context)).split())
    body = "".join(template.blocks["body"](context)).strip()
    link = values.get("link")
    text = env.get_template(f"{language}/_layout.txt").render(
        body=body, link=link, base_url=values["base_url"]
    )
    paragraphs = [part.strip() for part in body.split("\n\n") if part.strip()]
    html = env.get_template(f"{language}/_layout.html").render(
        subject=subject, paragraphs=paragraphs, link=link, base_url=values["base_url"]
    )
    return Rendered(subject=subject, text=text, html=html, body=body)


def render_written(language: str, subject: str, body: str, values: dict[str, Any]) -> Rendered:
    """A message a person wrote (an organiser's mailing; its placeholders already filled in
    for the recipient, and never a template: it is text) in the language's layouts."""
    env = environment()
    subject = " ".join(subject.split())
    body = body.strip()
    link = values.get("link")
    text = env.get_template(f"{language}/_layout.txt").render(
        body=body, link=link, base_url=values["base_url"]
    )
    paragraphs = [part.strip() for part in body.split("\n\n") if part.strip()]
    html = env.get_template(f"{language}/_layout.html").render(
        subject=subject, paragraphs=paragraphs, link=link, base_url=values["base_url"]
    )
    return Rendered(subject=subject, text=text, html=html, body=body)
