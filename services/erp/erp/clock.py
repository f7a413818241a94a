"""The ERP's calendar day: today in UTC, the day invoices are issued, runs bill up to and reports count from."""

from datetime import UTC, date, datetime


def today() -> date:
    return datetime.now(UTC).date()
