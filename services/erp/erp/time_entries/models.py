import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class TimeEntryStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"  # billable approved time is billed by the next billing run


class TimeEntry(Entity):
    """Hours a person worked on a project on a day. Billed (time and materials) once approved and billable;
    `invoice_id` is set by the billing run that bills it, after which the entry is frozen."""

    __tablename__ = "time_entries"

    person_id: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("projects.id"))
    work_date: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    billable: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=TimeEntryStatus.OPEN)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("invoices.id"))
    invoice_line_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("invoice_lines.id"))
    beyond_cap: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[str] = mapped_column(String(64))
