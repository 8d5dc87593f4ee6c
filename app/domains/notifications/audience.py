"""Who an event is for, named by role and scope as the authorization rules name who may see
its record, and resolved to people (active accounts) when the event is dispatched.

An audience is a list of parts, each JSON (it travels in the job's payload):

- `{"user": id}`: one person (an evaluator of an assignment, the account just created);
- `{"role": "local_admin", "institution": id}`: an institution's local admins;
- `{"role": "unit_operator", "unit": id}`: a unit's operators;
- `{"role": "hub_admin", "hub": id}`: a hub's admins;
- `{"role": "secretariat_admin"}`: the secretariat.

Nothing else: a part of any other shape is refused when the event is emitted (`check`), so an
event cannot name a wider audience than these scopes. `NotificationRepository.recipients`
resolves them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from app.models.enums import Role

Part = dict[str, str]


def person(user_id: uuid.UUID) -> Part:
    return {"user": str(user_id)}


def local_admins(institution_id: uuid.UUID) -> Part:
    return {"role": Role.local_admin.value, "institution": str(institution_id)}


def unit_operators(unit_id: uuid.UUID) -> Part:
    return {"role": Role.unit_operator.value, "unit": str(unit_id)}


def hub_admins(hub_id: uuid.UUID) -> Part:
    return {"role": Role.hub_admin.value, "hub": str(hub_id)}


def secretariat() -> Part:
    return {"role": Role.secretariat_admin.value}


_SHAPES = {
    frozenset({"user"}): None,
    frozenset({"role", "institution"}): Role.local_admin.value,
    frozenset({"role", "unit"}): Role.unit_operator.value,
    frozenset({"role", "hub"}): Role.hub_admin.value,
    frozenset({"role"}): Role.secretariat_admin.value,
}


def check(parts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parts as given, each checked to be one of the shapes above (ValueError if not)."""
    checked = list(parts)
    for part in checked:
        keys = frozenset(part)
        if keys not in _SHAPES or part.get("role") != _SHAPES[keys]:
            raise ValueError(f"not an audience part: {part!r}")
        for key, value in part.items():
            if key != "role":
                uuid.UUID(value)
    return checked
