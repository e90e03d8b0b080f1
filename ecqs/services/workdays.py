"""Working-day arithmetic with Chinese public holidays and make-up working days.

chinese-calendar knows the State Council's schedule for the years it ships; for a year it does
not know yet we fall back to Monday-Friday and log it, rather than failing a deadline.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger("ecqs.workdays")
CN = ZoneInfo("Asia/Shanghai")  # the one time zone of the product: display, "today", working days


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(CN)
        return value.date()
    return value


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        log.warning("no holiday schedule for %s; counting Monday-Friday", day.year)
        return day.weekday() < 5


def add_working_days(start: date | datetime, days: int) -> date:
    """The date `days` working days after `start` (the start day itself is not counted)."""
    day = _as_date(start)
    step = 1 if days >= 0 else -1
    remaining = abs(days)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date | datetime, end: date | datetime) -> int:
    """Working days after `start` up to and including `end`; negative when end is earlier."""
    a, b = _as_date(start), _as_date(end)
    if a == b:
        return 0
    sign = 1 if b > a else -1
    lo, hi = (a, b) if b > a else (b, a)
    count = 0
    day = lo
    while day < hi:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return sign * count


def today() -> date:
    return datetime.now(CN).date()
