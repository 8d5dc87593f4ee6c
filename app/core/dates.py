"""The programme's calendar: dates are Indonesian (WIB, UTC+7) calendar dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def today_wib() -> date:
    """Today's date in Western Indonesia (WIB)."""
    return datetime.now(WIB).date()


def now() -> datetime:
    """The current instant (UTC). Deadline checks call it through this module, so a test can
    put the clock a second before or after a deadline."""
    return datetime.now(UTC)
