"""The CRM's mail: templates people write, every mail sent or received (the timelines show them), who agreed to
sequence mail and who withdrew, and each sender's name for the `owner` of a template."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm.db import Base, Entity


class Direction(StrEnum):
    """The `crm_mails.direction` column."""

    OUTBOUND = "outbound"
    INBOUND = "inbound"


class MailState(StrEnum):
    """The `crm_mails.status` column: an outbound mail is queued until the sender's outcome is recorded (sent,
    bounced, failed); an inbound one is received."""

    QUEUED = "queued"
    SENT = "sent"
    BOUNCED = "bounced"
    FAILED = "failed"
    RECEIVED = "received"


class ConsentStatus(StrEnum):
    """The `mail_consents.status` column. No row: nothing recorded (sequence mail may go, as B2B outreach under
    legitimate interest); withdrawn: never again by a sequence."""

    GIVEN = "given"
    WITHDRAWN = "withdrawn"


class EmailTemplate(Entity):
    """A mail's subject, text and HTML as Jinja2 templates (checked when saved: docs/crm-communications.md)."""

    __tablename__ = "mail_templates"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(64))


class CrmMail(Entity):
    """One mail the CRM sent or received, linked to what it is about. An outbound mail's row is written in the
    transaction that stages it in the mail outbox (`cause_id` there is this id); its status follows the sender's
    outcome. `message_id` is what replies name in In-Reply-To (threading)."""

    __tablename__ = "crm_mails"
    __table_args__ = (
        UniqueConstraint("direction", "message_id", name="uq_crm_mails_direction_message_id"),
        Index("ix_crm_mails_contact", "contact_id", "occurred_at"),
        Index("ix_crm_mails_company", "company_id", "occurred_at"),
        Index("ix_crm_mails_deal", "deal_id", "occurred_at"),
    )

    direction: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    message_id: Mapped[str] = mapped_column(String(255))
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    # The References header (message ids, space-separated): threading falls back to it.
    reference_ids: Mapped[str | None] = mapped_column(Text)
    # The mail of ours this one answers (found by In-Reply-To / References).
    reply_to_mail_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    subject: Mapped[str] = mapped_column(Text)
    from_address: Mapped[str] = mapped_column(String(320))
    to_addresses: Mapped[list[str]] = mapped_column(ARRAY(String(320)))
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # Inbound: what came with it, listed (name, type, size, sha256), not kept.
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    company_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    deal_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lead_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    template_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # A sequence mail: its enrolment and step (position); the step run row names this mail.
    enrolment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    sequence_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    step_position: Mapped[int | None] = mapped_column(Integer)
    sent_by: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    # The request (or event chain) that caused it: the mail.sent event recorded later carries it on.
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    # Sent, bounced, failed (the sender's outcome) or received; staged mail shows its created_at meanwhile.
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MailConsent(Base):
    """Whether an address agreed to sequence mail or withdrew, where that came from, and when. Keyed by the address
    (lower case), not the contact: a lead and the contact it becomes are one person, and an unsubscribe link
    must keep working whatever record the address moves to."""

    __tablename__ = "mail_consents"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_by: Mapped[str | None] = mapped_column(String(64))
    # The mail whose unsubscribe link was used, when that is how it was withdrawn.
    mail_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class MailSenderProfile(Base):
    """A user who sends CRM mail: the address the token says, the name the From shows (templates' `owner`)."""

    __tablename__ = "mail_senders"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
