"""Periodic jobs. A schedule ticks at WIB midnight (UTC+7, Asia/Jakarta, as the programme speaks) +
`offset` + k x `every`; each worker enqueues the latest tick with the dedupe key
`schedule:<name>:<tick in WIB>`, so a tick is one job however many workers see it, and a tick
missed while no worker ran is run once when one starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.core.dates import WIB

__all__ = ["SCHEDULES", "WIB", "Schedule", "schedule"]


@dataclass(frozen=True)
class Schedule:
    name: str
    kind: str
    every: timedelta
    offset: timedelta = timedelta(0)
    payload: dict[str, Any] = field(default_factory=dict)

    def latest_tick(self, now: datetime) -> datetime:
        """The last tick at or before `now`, in WIB."""
        local = now.astimezone(WIB)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0) + self.offset
        ticks = (local - start) // self.every
        return start + ticks * self.every

    def dedupe_key(self, tick: datetime) -> str:
        return f"schedule:{self.name}:{tick.astimezone(WIB).isoformat()}"


SCHEDULES: list[Schedule] = []


def schedule(entry: Schedule, schedules: list[Schedule] | None = None) -> Schedule:
    target = SCHEDULES if schedules is None else schedules
    if any(s.name == entry.name for s in target):
        raise ValueError(f"schedule {entry.name!r} exists")
    target.append(entry)
    return entry
