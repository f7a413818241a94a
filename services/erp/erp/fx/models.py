from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class RateSource(StrEnum):
    MANUAL = "manual"  # entered on the screen or the API
    CSV = "csv"  # imported from a CSV file


class ExchangeRate(Entity):
    """One day's rate of a currency against the company's base currency: one unit of `currency` is worth `rate`
    units of `base_currency`. The base is kept on the row, so changing the company's base currency never turns
    yesterday's EUR rates into rates against something else: they simply stop applying."""

    __tablename__ = "exchange_rates"

    base_currency: Mapped[str] = mapped_column(String(3))
    currency: Mapped[str] = mapped_column(String(3))
    rate_date: Mapped[date] = mapped_column(Date)
    rate: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    source: Mapped[str] = mapped_column(String(10))  # a RateSource
    entered_by: Mapped[str] = mapped_column(String(64))
