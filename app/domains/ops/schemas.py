from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ReplicaHealth(BaseModel):
    """The read replica (DATABASE_READ_URL), when one is configured."""

    status: Literal["ok", "unavailable"] = Field(
        description="`unavailable`: it did not answer; public reads go to the primary meanwhile."
    )
    lag_seconds: float | None = Field(
        default=None,
        description="How far its replay is behind the primary: 0 when it has replayed all it "
        "received, else the age of the last transaction it replayed. Absent when unavailable.",
    )


class Health(BaseModel):
    status: str
    replica: ReplicaHealth | None = Field(
        default=None, description="Only when a read replica is configured."
    )
