import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class Channel(StrEnum):
    EMAIL = "email"  # a mail in the ERP's mail outbox, the invoice attached, when the client has an e-mail address
    LOG = "log"  # a log line otherwise


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # committed, its mail not staged yet
    QUEUED = "queued"  # its mail is in the outbox, waiting for the sender
    SENT = "sent"  # the SMTP server accepted it
    LOGGED = "logged"
    FAILED = "failed"
    BOUNCED = "bounced"


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
