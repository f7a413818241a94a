"""When a sequence step may go out: business days (weekends and the country's public holidays, from the `holidays`
package) and the send window, in the recipient's time zone. Pure functions of dates and zones (unit-tested with
fixed dates in tests/crm/test_sequence_calendar.py).

A delay of N days is N business days (or N days, for a sequence that sends every day) after the previous step, at
the same local time of day; a moment outside the window moves to the next opening: later that day, else the next
send day at the window's start.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from crm.zones import zone

WEEKEND = frozenset({5, 6})  # Saturday, Sunday: where the country is unknown or the holidays package lacks it


@lru_cache(maxsize=512)
def _holidays(country: str, year: int) -> tuple[frozenset[date], frozenset[int]]:
    """The public holidays of a country in a year, and its weekend days (0 = Monday). Imported on first use: the
    package takes most of a second to import, which a process that never schedules a step should not pay."""
    if not country:
        return frozenset(), WEEKEND
    import holidays

    try:
        calendar = holidays.country_holidays(country, years=year)
    except NotImplementedError:  # a country the package does not cover: weekends only
        return frozenset(), WEEKEND
    return frozenset(calendar.keys()), frozenset(getattr(calendar, "weekend", WEEKEND))


@dataclass(frozen=True)
class SendCalendar:
    time_zone: ZoneInfo
    country: str = ""  # ISO 3166-1 alpha-2, or empty: weekends only
    business_days_only: bool = True
    window_start_hour: int = 9
    window_end_hour: int = 17  # exclusive; 24 is the end of the day

    @classmethod
    def of(cls, time_zone: str, country: str, *, business_days_only: bool, window: tuple[int, int]) -> "SendCalendar":
        return cls(zone(time_zone), country, business_days_only, window[0], window[1])

    def is_send_day(self, day: date) -> bool:
        if not self.business_days_only:
            return True
        holidays, weekend = _holidays(self.country, day.year)
        return day.weekday() not in weekend and day not in holidays

    def add_days(self, day: date, days: int) -> date:
        """`days` send days after `day` (business days, unless the sequence sends every day)."""
        if not self.business_days_only:
            return day + timedelta(days=days)
        for _ in range(days):
            day += timedelta(days=1)
            while not self.is_send_day(day):
                day += timedelta(days=1)
        return day

    def _window(self, day: date) -> tuple[datetime, datetime]:
        start = datetime.combine(day, time(self.window_start_hour), self.time_zone)
        end = (datetime.combine(day + timedelta(days=1), time(0), self.time_zone) if self.window_end_hour == 24
               else datetime.combine(day, time(self.window_end_hour), self.time_zone))
        return start, end

    def next_opening(self, moment: datetime) -> datetime:
        """The earliest moment at or after `moment` inside the send window of a send day."""
        local = moment.astimezone(self.time_zone)
        day = local.date()
        for _ in range(3660):  # a window opens within days; ten years bounds a calendar that never opens
            if self.is_send_day(day):
                start, end = self._window(day)
                if local < start:
                    return start
                if local < end:
                    return local
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), self.time_zone)
        raise ValueError("the send window never opens")

    def due_after(self, moment: datetime, delay_days: int) -> datetime:
        """When a step `delay_days` after `moment` is due: that many send days later at the same local time, moved
        into the window."""
        if delay_days <= 0:
            return self.next_opening(moment)
        local = moment.astimezone(self.time_zone)
        day = self.add_days(local.date(), delay_days)
        return self.next_opening(datetime.combine(day, local.timetz().replace(tzinfo=None), self.time_zone))
