"""Report periods: the week closing on the centre's day and time, the month from its start day."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.settings import Settings


@dataclass(frozen=True)
class Period:
    kind: str  # "week" or "month"
    label: str
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive
    zone: ZoneInfo

    @property
    def first_day(self) -> date:
        return self.start.astimezone(self.zone).date()

    @property
    def last_day(self) -> date:
        """The last local day with activity in the period (a week closing Friday 16:00: Friday)."""
        return (self.end.astimezone(self.zone) - timedelta(microseconds=1)).date()


def week_ending(closing_day: date, settings: Settings) -> Period:
    zone = ZoneInfo(settings.timezone)
    end = datetime.combine(closing_day, settings.report_week_close_time, zone)
    start = end - timedelta(days=7)
    year, week, _ = closing_day.isocalendar()
    label = f"Tuần {week:02d}/{year} ({start:%d/%m/%Y %H:%M} – {end:%d/%m/%Y %H:%M})"
    return Period("week", label, start.astimezone(UTC), end.astimezone(UTC), zone)


def last_closed_week(now: datetime, settings: Settings) -> Period:
    """The most recent week that has closed (by default on Friday 16:00) at `now`."""
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    day = local.date()
    while True:
        closes = datetime.combine(day, settings.report_week_close_time, zone)
        if day.weekday() == settings.report_week_close_day and closes <= local:
            return week_ending(day, settings)
        day -= timedelta(days=1)


def month_starting(year: int, month: int, settings: Settings) -> Period:
    zone = ZoneInfo(settings.timezone)
    first = settings.report_month_start_day
    start = datetime.combine(date(year, month, first), time(0), zone)
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    end = datetime.combine(date(next_year, next_month, first), time(0), zone)
    label = f"Tháng {month:02d}/{year}"
    if first != 1:
        label += f" ({start:%d/%m/%Y} – {end - timedelta(days=1):%d/%m/%Y})"
    return Period("month", label, start.astimezone(UTC), end.astimezone(UTC), zone)


def last_closed_month(now: datetime, settings: Settings) -> Period:
    local = now.astimezone(ZoneInfo(settings.timezone))
    year, month = local.year, local.month
    while True:
        period = month_starting(year, month, settings)
        if period.end <= now:
            return period
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)


def parse_period(kind: str, text: str | None, now: datetime, settings: Settings) -> Period:
    """week: '2026-W47' or a date in it ('2026-11-18'); month: '2026-11'. None: the last closed."""
    if kind == "week":
        if not text:
            return last_closed_week(now, settings)
        iso = re.fullmatch(r"(\d{4})-?W(\d{1,2})", text.strip(), re.IGNORECASE)
        if iso:
            closing = date.fromisocalendar(
                int(iso.group(1)), int(iso.group(2)), settings.report_week_close_day + 1
            )
            return week_ending(closing, settings)
        day = date.fromisoformat(text.strip())
        while day.weekday() != settings.report_week_close_day:
            day += timedelta(days=1)
        return week_ending(day, settings)
    if kind == "month":
        if not text:
            return last_closed_month(now, settings)
        found = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
        if not found:
            raise ValueError(f"month period must look like 2026-11, not {text!r}")
        return month_starting(int(found.group(1)), int(found.group(2)), settings)
    raise ValueError(f"unknown period kind {kind!r}")
