import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class Channel(StrEnum):
    EMAIL = "email"  # SMTP, when ERP_SMTP_HOST is set and the client has an email address
    LOG = "log"  # a log line otherwise


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # committed, not delivered yet
    SENT = "sent"
    LOGGED = "logged"
    FAILED = "failed"


class Reminder(Entity):
    """One dunning step sent for one invoice (unique per invoice and step): what, when, to whom."""

    __tablename__ = "reminders"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id"))
    step: Mapped[int] = mapped_column(Integer)
    days_after_due: Mapped[int] = mapped_column(Integer)
    days_overdue: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    recipient: Mapped[str | None] = mapped_column(String(320))
    channel: Mapped[str] = mapped_column(String(10))  # a Channel
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    balance_due: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    late_fee: Mapped[Decimal] = mapped_column(Numeric(18, 4), default=Decimal(0))
    delivery_status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    delivery_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
