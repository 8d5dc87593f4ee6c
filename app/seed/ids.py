"""Stable ids of the demo records: the same name gives the same id on every load, so loading
the demo twice adds nothing and the README can name a record's id."""

from __future__ import annotations

import uuid

DEMO_NAMESPACE = uuid.UUID("5b0f4a55-8d0e-4a43-9a57-6f1d3c2b7e10")


def demo_id(kind: str, name: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{name}")
