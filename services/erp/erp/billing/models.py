import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp.db import Entity


class BillingType(StrEnum):
    """How a won deal's billing terms bill it (docs/erp-billing.md)."""

    SINGLE = "single"  # no terms: the full amount on the won date
    FIXED = "fixed"
    MILESTONES = "milestones"
    RETAINER = "retainer"
    TIME_AND_MATERIALS = "time_and_materials"  # no items: billing runs bill approved time, up to the cap


class ScheduleItemStatus(StrEnum):
    PENDING = "pending"
    INVOICED = "invoiced"  # on a live invoice; pending again if that invoice is voided or its draft deleted


class BillingSchedule(Entity):
    __tablename__ = "billing_schedules"

    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("projects.id"), unique=True)
    billing_type: Mapped[str] = mapped_column(String(30))  # a BillingType
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    hourly_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    cap: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    terms: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    items: Mapped[list["ScheduleItem"]] = relationship(order_by="ScheduleItem.position", lazy="selectin",
                                                       cascade="all, delete-orphan")


class ScheduleItem(Entity):
    __tablename__ = "schedule_items"

    schedule_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("billing_schedules.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    status: Mapped[str] = mapped_column(String(20), default=ScheduleItemStatus.PENDING)
    reached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class BillingRun(Entity):
    """One execution of the billing run (by hand or by the scheduler): what it invoiced."""

    __tablename__ = "billing_runs"

    as_of: Mapped[date] = mapped_column(Date)
    issue: Mapped[bool] = mapped_column(default=True)
    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    triggered_by: Mapped[str] = mapped_column(String(64))
    invoices_created: Mapped[int] = mapped_column(Integer, default=0)
    items_invoiced: Mapped[int] = mapped_column(Integer, default=0)
    time_entries_invoiced: Mapped[int] = mapped_column(Integer, default=0)
