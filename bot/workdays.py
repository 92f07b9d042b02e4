"""Working days in Vietnam: weekends, the public holidays, and the days the government swaps.

The `holidays` package knows the fixed and the lunar holidays (Tết, the Hùng Kings'
commemoration day). Each year the government also announces extra days off and Saturdays worked
in exchange; those come from the `HOLIDAYS` and `WORKING_DAYS` settings.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from functools import lru_cache

import holidays as public_holidays

COUNTRY = "VN"


@lru_cache(maxsize=32)
def _national(year: int) -> frozenset[date]:
    return frozenset(public_holidays.country_holidays(COUNTRY, years=year))


class WorkCalendar:
    """Which days the centre works: Monday to Friday, less holidays, plus swapped days."""

    def __init__(
        self, extra_days_off: Iterable[date] = (), extra_working_days: Iterable[date] = ()
    ):
        self.extra_days_off = frozenset(extra_days_off)
        self.extra_working_days = frozenset(extra_working_days)

    def is_holiday(self, day: date) -> bool:
        """A public holiday or an announced day off (weekends are the schedule's business)."""
        if day in self.extra_working_days:
            return False
        return day in self.extra_days_off or day in _national(day.year)

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        return day.weekday() < 5 and not self.is_holiday(day)

    def add_working_days(self, start: date, days: int) -> date:
        """The day `days` working days after `start` (the start day itself never counts)."""
        current, counted = start, 0
        while counted < days:
            current += timedelta(days=1)
            if self.is_working_day(current):
                counted += 1
        return current
