import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, String, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from erp.db import Entity


class MailKind(StrEnum):
    INVOICE = "invoice"  # the invoice sent (POST /api/erp/invoices/{id}/send)
    REMINDER = "reminder"  # a reminder step (a reminder run)


class MailState(StrEnum):
    """What became of one mail of an invoice: the sender's outcome, recorded by its hook (service.record_outcomes)."""

    QUEUED = "queued"  # in the mail outbox, not delivered yet (or being retried)
    SENT = "sent"  # the SMTP server accepted it
    FAILED = "failed"  # given up after the retries
    BOUNCED = "bounced"  # refused for good


class InvoiceMail(Entity):
    """One mail about an invoice, its PDF attached: the invoice's mail history."""

    __tablename__ = "invoice_mails"

    invoice_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("invoices.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # a MailKind
    reminder_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    to_addresses: Mapped[list[str]] = mapped_column(ARRAY(String(320)))
    subject: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=MailState.QUEUED)
    error: Mapped[str | None] = mapped_column(Text)
    sent_by: Mapped[str | None] = mapped_column(String(64))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MailTemplateRow(Entity):
    """An edited mail template (`invoice`, `reminder-1`, ...); a key without a row uses the built-in default."""

    __tablename__ = "mail_templates"

    key: Mapped[str] = mapped_column(String(40), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(64))
