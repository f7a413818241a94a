import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class CostRate(Entity):
    """What an hour of a person costs the company, from `effective_from` until the next rate."""

    __tablename__ = "cost_rates"

    user_id: Mapped[str] = mapped_column(String(64))
    hourly_cost: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    currency: Mapped[str] = mapped_column(String(3))
    effective_from: Mapped[date] = mapped_column(Date)


class ListRate(Entity):
    """What an hour of a person is billed at by default (their list rate), from `effective_from` until the next rate:
    what the department report compares the effective rate with. A project's own bill rate (`BillRate`) wins on
    that project's invoices."""

    __tablename__ = "list_rates"

    user_id: Mapped[str] = mapped_column(String(64))
    hourly_rate: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    currency: Mapped[str] = mapped_column(String(3))
    effective_from: Mapped[date] = mapped_column(Date)


class BillRate(Entity):
    """What an hour on a project is billed at (in the project's currency), from `effective_from`."""

    __tablename__ = "bill_rates"

    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("projects.id"))
    hourly_rate: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    effective_from: Mapped[date] = mapped_column(Date)


class Capacity(Entity):
    """The hours a person can work per week, from `effective_from` until the next entry."""

    __tablename__ = "capacities"

    user_id: Mapped[str] = mapped_column(String(64))
    hours_per_week: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    effective_from: Mapped[date] = mapped_column(Date)
