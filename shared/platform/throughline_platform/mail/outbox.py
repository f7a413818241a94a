"""The mail outbox: a mail is a row written in the same transaction as what caused it, sent later by the sender.

A row holds the message exactly as it will go out (rendered, attachments included, its Message-ID in its
headers): editing a template later never changes a queued mail, and sending it again after a crash sends the
same bytes under the same Message-ID. Defined once here, added to each service's own metadata and migrations,
as the event outbox is (`throughline_messaging.tables`).
"""

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


class MailStatus(StrEnum):
    QUEUED = "queued"  # waiting to be sent (first time, or again after a temporary failure)
    SENDING = "sending"  # claimed by a sender that is handing it to the SMTP server now
    SENT = "sent"  # the SMTP server accepted it (for at least one recipient)
    FAILED = "failed"  # given up: temporary failures until the last attempt, or a message no server can take
    BOUNCED = "bounced"  # the SMTP server refused it for good (a 5xx reply)


FINAL_STATUSES = (MailStatus.SENT, MailStatus.BOUNCED, MailStatus.FAILED)


def _final_statuses() -> str:
    return ", ".join(f"'{status}'" for status in FINAL_STATUSES)


@dataclass(frozen=True)
class MailCause:
    """What a mail was sent for, so that the owning service can record the outcome on its records: ("invoice", its
    id), ("sequence_step", its id)."""

    kind: str
    id: uuid.UUID


@dataclass(frozen=True)
class OutgoingMail:
    """One message ready to be staged: the bytes as they will be sent, and their envelope.

    Build it with `throughline_platform.mail.messages.outgoing_mail`, which takes the envelope from the
    message's headers."""

    message_id: str  # as in the Message-ID header, angle brackets included
    mail_from: str  # the envelope sender (a bare address): where bounces go
    recipients: tuple[str, ...]  # the envelope recipients: To, Cc and Bcc (the Bcc header itself is not sent)
    subject: str  # for people reading the outbox; the message carries its own
    message: bytes  # RFC 5322, CRLF line ends, 7-bit clean
    cause: MailCause


@dataclass(frozen=True)
class MailOutbox:
    """A service's mail outbox table and the NOTIFY channel that wakes its senders when mail is committed."""

    table: Table
    notify_channel: str


def mail_outbox_table(metadata: MetaData) -> Table:
    statuses = ", ".join(f"'{status}'" for status in MailStatus)
    return Table(
        "mail_outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("message_id", String(255), nullable=False, unique=True),
        Column("cause_kind", String(50), nullable=False),
        Column("cause_id", Uuid, nullable=False),
        Column("mail_from", String(320), nullable=False),
        Column("recipients", ARRAY(String(320)), nullable=False),
        Column("subject", Text, nullable=False),
        Column("message", LargeBinary, nullable=False),
        Column("status", String(16), nullable=False, server_default=MailStatus.QUEUED.value),
        # Attempts the SMTP server answered (accepted, refused or failed). A sender that could not reach the
        # server at all charges no attempt: an outage is not the mail's fault, and it waits however long it lasts.
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("last_error", Text, nullable=True),
        # The sender holding a `sending` row: the key of the advisory lock it holds while it lives (sender.py).
        Column("claimed_by", BigInteger, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("finished_at", DateTime(timezone=True), nullable=True),  # when it was sent, bounced or failed
        # When the owning service's outcome hook recorded that outcome (history, events), in the same transaction.
        Column("recorded_at", DateTime(timezone=True), nullable=True),
        CheckConstraint(f"status IN ({statuses})", name="status"),
        # The senders claim due mail through this; it holds only what waits, however big the table grows.
        Index("ix_mail_outbox_due", "next_attempt_at", "id", postgresql_where=text("status = 'queued'")),
        # Finding the rows a dead sender left in `sending`.
        Index("ix_mail_outbox_sending", "claimed_by", postgresql_where=text("status = 'sending'")),
        # Outcomes the owning service has not recorded yet (sender.py records them in batches).
        Index("ix_mail_outbox_unrecorded", "id",
              postgresql_where=text(f"recorded_at IS NULL AND status IN ({_final_statuses()})")),
        # The owning service's view: the mails of an invoice, of a sequence step.
        Index("ix_mail_outbox_cause", "cause_kind", "cause_id"),
    )


# A staged message is mostly base64 (a PDF's), which PostgreSQL's pglz cannot shrink, yet with the default storage
# it tries on every INSERT before giving up: about 1.1 ms of the database's CPU for an invoice's 70 kB message, for
# the same bytes stored. EXTERNAL keeps it out of line (TOAST) without that attempt. A service's migration runs it
# after creating the table (the ERP's 0026, the CRM's 0011).
MAIL_OUTBOX_STORAGE_SQL = "ALTER TABLE mail_outbox ALTER COLUMN message SET STORAGE EXTERNAL"
MAIL_OUTBOX_DEFAULT_STORAGE_SQL = "ALTER TABLE mail_outbox ALTER COLUMN message SET STORAGE EXTENDED"  # downgrades


def create_mail_outbox_sql() -> list[str]:
    """DDL for a service's Alembic migration, so every service creates the same table as `mail_outbox_table`."""
    statuses = ", ".join(f"'{status}'" for status in MailStatus)
    return [
        f"""
        CREATE TABLE mail_outbox (
            id BIGSERIAL PRIMARY KEY,
            message_id VARCHAR(255) NOT NULL,
            cause_kind VARCHAR(50) NOT NULL,
            cause_id UUID NOT NULL,
            mail_from VARCHAR(320) NOT NULL,
            recipients VARCHAR(320)[] NOT NULL,
            subject TEXT NOT NULL,
            message BYTEA NOT NULL,
            status VARCHAR(16) NOT NULL DEFAULT 'queued',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            last_error TEXT,
            claimed_by BIGINT,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            finished_at TIMESTAMPTZ,
            recorded_at TIMESTAMPTZ,
            CONSTRAINT uq_mail_outbox_message_id UNIQUE (message_id),
            CONSTRAINT ck_mail_outbox_status CHECK (status IN ({statuses}))
        )""",
        "CREATE INDEX ix_mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE status = 'queued'",
        "CREATE INDEX ix_mail_outbox_sending ON mail_outbox (claimed_by) WHERE status = 'sending'",
        "CREATE INDEX ix_mail_outbox_unrecorded ON mail_outbox (id) "
        f"WHERE recorded_at IS NULL AND status IN ({_final_statuses()})",
        "CREATE INDEX ix_mail_outbox_cause ON mail_outbox (cause_kind, cause_id)",
    ]


_STAGED_COLUMNS = ("message_id", "cause_kind", "cause_id", "mail_from", "recipients", "subject", "message")


@functools.lru_cache(maxsize=64)
def _stage_statement(outbox: MailOutbox) -> Insert:
    """`INSERT INTO mail_outbox (...) SELECT <the row> WHERE (SELECT pg_notify(<channel>, '')) IS NOT NULL`: the
    row and the senders' wake-up in one statement (one round trip, not two). The subquery depends on no row, so
    PostgreSQL runs it once per execution, and it is always true; the NOTIFY is delivered at COMMIT (never for a
    rollback), once per transaction however often it was asked for. Built once per outbox."""
    table = outbox.table
    row = select(*(bindparam(name, type_=table.c[name].type) for name in _STAGED_COLUMNS))
    wake = select(func.pg_notify(outbox.notify_channel, "")).scalar_subquery()
    return insert(table).from_select(_STAGED_COLUMNS, row.where(wake.is_not(None)), include_defaults=False)


async def stage_mail(session: AsyncSession, outbox: MailOutbox, mails: OutgoingMail | Sequence[OutgoingMail]) -> int:
    """Add mails to the outbox in the caller's transaction: they are sent only if it commits, and it cannot commit
    without them. Also asks PostgreSQL to wake the senders at COMMIT (a rolled-back NOTIFY is never delivered).
    Returns how many were staged."""
    batch = [mails] if isinstance(mails, OutgoingMail) else list(mails)
    if not batch:
        return 0
    rows = [{
        "message_id": mail.message_id,
        "cause_kind": mail.cause.kind,
        "cause_id": mail.cause.id,
        "mail_from": mail.mail_from,
        "recipients": list(mail.recipients),
        "subject": mail.subject,
        "message": mail.message,
    } for mail in batch]
    await session.execute(_stage_statement(outbox), rows[0] if len(rows) == 1 else rows)
    return len(batch)
