"""Business days and send windows (crm/sequences/calendar.py), with fixed dates: no stack needed."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from crm.sequences.calendar import SendCalendar

BERLIN = "Europe/Berlin"


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(BERLIN))


def test_business_days_skip_weekends_and_the_countrys_public_holidays() -> None:
    german = SendCalendar.of(BERLIN, "DE", business_days_only=True, window=(9, 17))
    # Thursday 2026-12-24: +1 is Monday the 28th (25th and 26th are holidays, then the weekend).
    assert german.add_days(date(2026, 12, 24), 1) == date(2026, 12, 28)
    assert not german.is_send_day(date(2026, 12, 25))
    nowhere = SendCalendar.of(BERLIN, "", business_days_only=True, window=(9, 17))
    assert nowhere.add_days(date(2026, 12, 24), 1) == date(2026, 12, 25)  # no country: weekends only
    assert nowhere.add_days(date(2026, 12, 25), 1) == date(2026, 12, 28)
    unknown = SendCalendar.of(BERLIN, "ZZ", business_days_only=True, window=(9, 17))
    assert unknown.add_days(date(2026, 12, 24), 1) == date(2026, 12, 25)  # not in the package: weekends only
    every_day = SendCalendar.of(BERLIN, "DE", business_days_only=False, window=(9, 17))
    assert every_day.add_days(date(2026, 12, 24), 1) == date(2026, 12, 25)


def test_a_country_whose_weekend_is_friday_and_saturday() -> None:
    saudi = SendCalendar.of("Asia/Riyadh", "SA", business_days_only=True, window=(9, 17))
    # Thursday 2026-10-08 + 1 business day: Sunday the 11th (Friday and Saturday are the weekend there).
    assert saudi.add_days(date(2026, 10, 8), 1) == date(2026, 10, 11)
    assert not saudi.is_send_day(date(2026, 10, 9)) and saudi.is_send_day(date(2026, 10, 11))


def test_the_window_is_in_the_recipients_time_zone() -> None:
    german = SendCalendar.of(BERLIN, "DE", business_days_only=True, window=(9, 17))
    # 07:30 in Berlin on a Monday: waits for 09:00 that day.
    assert german.next_opening(berlin(2026, 12, 7, 7, 30)) == berlin(2026, 12, 7, 9, 0)
    # Inside the window: now.
    assert german.next_opening(berlin(2026, 12, 7, 10, 15)) == berlin(2026, 12, 7, 10, 15)
    # After 17:00 on Wednesday 23 December: Thursday 09:00 (the 24th is a working day in Germany).
    assert german.next_opening(berlin(2026, 12, 23, 17, 0)) == berlin(2026, 12, 24, 9, 0)
    # After 17:00 on the 24th: over Christmas and the weekend to Monday 28th, 09:00.
    assert german.next_opening(berlin(2026, 12, 24, 18, 0)) == berlin(2026, 12, 28, 9, 0)
    # The same UTC moment is inside a New York window and outside a Tokyo one.
    moment = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
    new_york = SendCalendar.of("America/New_York", "US", business_days_only=True, window=(9, 17))
    tokyo = SendCalendar.of("Asia/Tokyo", "JP", business_days_only=True, window=(9, 17))
    assert new_york.next_opening(moment) == moment
    assert tokyo.next_opening(moment).astimezone(tokyo.time_zone).hour == 9


def test_a_delay_keeps_the_time_of_day_and_moves_into_the_window() -> None:
    german = SendCalendar.of(BERLIN, "DE", business_days_only=True, window=(9, 17))
    # Friday 11:00 + 2 business days: Tuesday 11:00.
    assert german.due_after(berlin(2026, 12, 4, 11, 0), 2) == berlin(2026, 12, 8, 11, 0)
    # Friday 16:30 + 1: Monday 16:30, still inside.
    assert german.due_after(berlin(2026, 12, 4, 16, 30), 1) == berlin(2026, 12, 7, 16, 30)
    # Friday 20:00 + 1: Monday 20:00 is outside; Tuesday 09:00.
    assert german.due_after(berlin(2026, 12, 4, 20, 0), 1) == berlin(2026, 12, 8, 9, 0)
    # No delay on a Saturday: Monday 09:00.
    assert german.due_after(berlin(2026, 12, 5, 12, 0), 0) == berlin(2026, 12, 7, 9, 0)
    whole_day = SendCalendar.of(BERLIN, "", business_days_only=False, window=(0, 24))
    assert whole_day.due_after(berlin(2026, 12, 5, 23, 59), 0) == berlin(2026, 12, 5, 23, 59)


def test_daylight_saving_time_changes_keep_the_local_hour() -> None:
    german = SendCalendar.of(BERLIN, "", business_days_only=True, window=(9, 17))
    # Friday 27 March 2026, 10:00 CET + 1 business day: Monday 30 March 10:00 CEST (one hour less in UTC terms).
    due = german.due_after(berlin(2026, 3, 27, 10, 0), 1)
    assert due == berlin(2026, 3, 30, 10, 0)
    assert due.astimezone(UTC).hour == 8
