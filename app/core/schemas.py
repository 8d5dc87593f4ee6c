"""Base classes of the wire format: what a caller sends and what the service answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """A request body or a filter: an unknown member is a 422, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ReadModel(BaseModel):
    """A response body, read from an ORM record's attributes."""

    model_config = ConfigDict(from_attributes=True)
