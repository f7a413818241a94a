import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity
from throughline_messaging.aggregate import RecordsEvents


class BookingStatus(StrEnum):
    TENTATIVE = "tentative"  # pencilled in: counts weighted by its deal's probability while it names a deal
    CONFIRMED = "confirmed"  # the person works on the project that week (only a project's booking is confirmed)


class Booking(RecordsEvents, Entity):
    """Hours of a person planned on a project, or on an open CRM deal, in one week (the Monday it starts).

    A booking names a project or a deal. A deal's booking is tentative; when the deal is won, staffing its project
    (`service.staff_from_deal`) gives the deal's bookings to the project: `project_id` is set, `deal_id` stays as
    where the booking came from."""

    __tablename__ = "bookings"

    person_id: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("projects.id"))
    deal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    week: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    status: Mapped[str] = mapped_column(String(10), default=BookingStatus.TENTATIVE)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(64))
