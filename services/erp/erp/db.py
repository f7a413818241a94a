"""The ERP's metadata: its own tables plus the shared outbox, inbox and idempotency keys, and the mail outbox
(docs/mail.md)."""

from sqlalchemy.orm import DeclarativeBase

from throughline_messaging.tables import idempotency_table, service_metadata
from throughline_platform.db import EntityColumns, utcnow
from throughline_platform.mail.outbox import MailOutbox, mail_outbox_table

metadata, outbox, inbox = service_metadata()
# Invoices and reminders sent by mail: a row staged in the transaction that sends, delivered by the scheduler's
# senders (erp.invoice_mail.jobs).
MAIL_OUTBOX = MailOutbox(mail_outbox_table(metadata), notify_channel="mail_erp")
idempotency = idempotency_table(metadata)

__all__ = ["MAIL_OUTBOX", "Base", "Entity", "idempotency", "inbox", "metadata", "outbox", "utcnow"]


class Base(DeclarativeBase):
    metadata = metadata


class Entity(EntityColumns, Base):
    __abstract__ = True
