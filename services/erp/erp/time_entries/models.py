import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity
from throughline_messaging.aggregate import RecordsEvents


class TimeEntryStatus(StrEnum):
    OPEN = "open"
    APPROVED = "approved"  # billable approved time is billed by the next billing run


class WeekStatus(StrEnum):
    OPEN = "open"  # no row: a week nobody has submitted yet
    SUBMITTED = "submitted"  # waiting for a project manager; locked meanwhile
    APPROVED = "approved"  # its entries are approved; locked for good (corrections go into an open week)
    RETURNED = "returned"  # sent back with a comment: open again


LOCKED_WEEKS = (WeekStatus.SUBMITTED, WeekStatus.APPROVED)


class TimeEntry(Entity):
    """Hours a person worked on a project on a day. Billed (time and materials) once approved and billable;
    `invoice_id` and `invoice_line_id` are set by the billing run that bills it, after which the entry is frozen:
    a correction (`corrects_id`, hours that may be negative) changes what was billed instead."""

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
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("time_entries.id"))


class TimesheetWeek(RecordsEvents, Entity):
    """A person's week (Monday to Sunday) once it was submitted: whether it waits, was approved or returned. The
    time entries package owns it because every write of an entry obeys its lock."""

    __tablename__ = "timesheet_weeks"

    person_id: Mapped[str] = mapped_column(String(64))
    week_start: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)
