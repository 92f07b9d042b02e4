"""When the centre opens next, by its profile's schedule and the working-day calendar: the
conversation tells a citizen when staff will answer, the console sorts what came in overnight."""

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.settings import Settings
from bot.workdays import WorkCalendar


def next_opening(now: datetime, profile: Mapping[str, Any], settings: Settings) -> datetime | None:
    """None while the centre is open (profile `schedule`), else when it opens next."""
    zone = ZoneInfo(settings.timezone)
    local = now.astimezone(zone)
    schedule = profile.get("schedule") or {}
    calendar = WorkCalendar(settings.holidays, settings.working_days)
    for days_ahead in range(15):
        day = (local + timedelta(days=days_ahead)).date()
        if calendar.is_holiday(day):
            continue
        for start, end in schedule.get(day.isoweekday(), []):
            opens = datetime.combine(day, _clock(start), zone)
            closes = datetime.combine(day, _clock(end), zone)
            if days_ahead == 0 and opens <= local < closes:
                return None
            if opens > local:
                return opens
    return None


def _clock(hhmm: str) -> time:
    return datetime.strptime(str(hhmm), "%H:%M").time()
