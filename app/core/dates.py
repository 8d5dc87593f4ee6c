"""The programme's calendar: dates are Indonesian (WIB, UTC+7) calendar dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")


def today_wib() -> date:
    """Today's date in Western Indonesia (WIB)."""
    return datetime.now(WIB).date()
