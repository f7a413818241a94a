from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class RecurringKind(StrEnum):
    PAYROLL = "payroll"
    RENT = "rent"
    SOFTWARE = "software"
    TAX = "tax"
    OTHER = "other"


class Direction(StrEnum):
    OUT = "out"  # money leaving (payroll, rent)
    IN = "in"  # money coming in that no invoice records (a grant, a sublet)


class Interval(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class RecurringItem(Entity):
    """A cost (or income) that repeats: it falls on `start_date` and every `interval` after, until `end_date`."""

    __tablename__ = "recurring_items"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # a RecurringKind
    direction: Mapped[str] = mapped_column(String(3))  # a Direction
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[str] = mapped_column(String(10))  # an Interval
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class OpeningBalance(Entity):
    """Cash on hand on a day, entered by finance: the forecast starts from it when no bank statement is newer."""

    __tablename__ = "cash_opening_balances"

    as_of: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(64))


class Scenario(Entity):
    """A saved what-if: a list of adjustments (schemas.Adjustment) applied over the baseline forecast."""

    __tablename__ = "cash_scenarios"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    adjustments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_by: Mapped[str] = mapped_column(String(64))
