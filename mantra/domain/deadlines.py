"""Acknowledgement deadlines (DESIGN section 6).

A partner's deadline is counted in hours of working days: weekends and the
bank holidays of England and Wales (Oxford's) do not count, so 24 hours from
Friday 15:00 ends on Monday 15:00. When the report says it is still
happening, the partner's urgent deadline runs on the clock, weekends included.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from ..models import Partner, as_utc

LOCAL = ZoneInfo("Europe/London")


@lru_cache(maxsize=16)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_hours(start: datetime, hours: float) -> datetime:
    """`start` plus `hours` counted on working days only (local calendar days)."""
    moment = as_utc(start).astimezone(LOCAL)
    left = timedelta(hours=hours)
    while True:
        midnight = datetime.combine(moment.date() + timedelta(days=1), time(), LOCAL)
        if is_working_day(moment.date()):
            if moment + left <= midnight:
                return (moment + left).astimezone(UTC)
            left -= midnight - moment
        moment = midnight


def ack_due(partner: Partner, received: datetime, urgent: bool) -> datetime:
    if urgent:
        return as_utc(received) + timedelta(hours=partner.urgent_ack_sla_hours)
    return add_working_hours(received, partner.ack_sla_hours)
