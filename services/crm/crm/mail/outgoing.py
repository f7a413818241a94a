"""Building and staging the CRM's outgoing mail, for compose and for sequences alike.

A mail is rendered from a template (or free text) with plain data (`context.py`), built with the shared
`build_message` (text and HTML parts, our own Message-ID, RFC 8058 headers for sequence mail), and staged: its
`crm_mails` row and its mail outbox row go into the caller's transaction, which commits them with what caused them
(the compose request, the sequence step run) or not at all. The sender delivers it later; the outcome hook
(`service.record_mail_outcomes`) sets the row's status and records `mail.sent`.
"""

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any

from markupsafe import escape
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm.db import MAIL_OUTBOX
from crm.mail.models import CrmMail, Direction, MailState
from crm.settings import CrmSettings
from throughline_platform.context import correlation_id_var, request_id_var
from throughline_platform.mail.links import LinkSigner
from throughline_platform.mail.messages import build_message, domain_of, mailbox, new_message_id, outgoing_mail
from throughline_platform.mail.outbox import MailCause, OutgoingMail, stage_mail
from throughline_platform.mail.templates import RenderedMail

# The outbox's cause kind of every CRM mail; its cause id is the crm_mails row's id.
CAUSE_KIND = "crm_mail"
# Messages built in a worker thread at a time: big enough to amortise the hop, small enough to keep the event loop
# answering (a small text + HTML message costs 2-3 ms of CPU to build: docs/mail.md).
BUILD_CHUNK = 100
# The purpose of unsubscribe links (inside their signature: a link made for anything else opens nothing here).
UNSUBSCRIBE = "unsubscribe"
UNSUBSCRIBE_LINK_LIFETIME = timedelta(days=365)


@dataclass(frozen=True)
class Links:
    contact_id: uuid.UUID | None = None
    company_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Draft:
    """One rendered mail to one recipient, and what it is about."""

    to_address: str
    to_name: str
    rendered: RenderedMail
    links: Links
    sender_name: str | None = None  # the From's display name; None: the service's (CRM_SMTP_FROM)
    sent_by: str | None = None
    template_id: uuid.UUID | None = None
    in_reply_to: str | None = None  # a reply: the Message-ID it answers, and the thread's References
    references: str | None = None
    # Sequence mail: its enrolment, sequence and step, and the signed unsubscribe URL (footer and RFC 8058 headers).
    enrolment_id: uuid.UUID | None = None
    sequence_id: uuid.UUID | None = None
    step_position: int | None = None
    unsubscribe_url: str | None = None
    mail_id: uuid.UUID = field(default_factory=uuid.uuid4)


def unsubscribe_url(settings: CrmSettings, mail_id: uuid.UUID, signer: LinkSigner) -> str:
    """The public one-click unsubscribe link of a sequence mail: signed for its mail, valid a year (old mail must
    keep working), served by the gateway without a login."""
    token = signer.sign(UNSUBSCRIBE, mail_id, UNSUBSCRIBE_LINK_LIFETIME)
    return f"{settings.public_base_url.rstrip('/')}/api/crm/unsubscribe/{token}"


def _with_footer(rendered: RenderedMail, url: str) -> RenderedMail:
    text = f"{rendered.text.rstrip()}\n\n--\nTo stop receiving these emails, unsubscribe: {url}\n"
    html = None
    if rendered.html is not None:
        html = (f"{rendered.html}\n<p style=\"font-size:12px;color:#667085\">To stop receiving these emails, "
                f"<a href=\"{escape(url)}\">unsubscribe</a>.</p>\n")
    return RenderedMail(subject=rendered.subject, text=text, html=html)


def build(draft: Draft, settings: CrmSettings, now: datetime) -> tuple[dict[str, Any], OutgoingMail]:
    """The `crm_mails` row and the outbox mail of one draft (CPU only: run it in a worker thread for many)."""
    service_name, from_address = parseaddr(settings.smtp_from)
    message_id = new_message_id(domain_of(from_address))
    rendered = draft.rendered if draft.unsubscribe_url is None else _with_footer(draft.rendered, draft.unsubscribe_url)
    headers: dict[str, str] = {}
    if draft.in_reply_to:
        headers["In-Reply-To"] = draft.in_reply_to
        headers["References"] = f"{draft.references} {draft.in_reply_to}".strip() if draft.references \
            else draft.in_reply_to
    to = mailbox(draft.to_name, draft.to_address) if draft.to_name else draft.to_address
    message = build_message(
        sender=mailbox(draft.sender_name or service_name or "Throughline", from_address), to=[to],
        subject=rendered.subject, text=rendered.text, html=rendered.html, reply_to=settings.mail_reply_to,
        message_id=message_id, unsubscribe_url=draft.unsubscribe_url, headers=headers, date=now)
    links = draft.links
    row = {
        "id": draft.mail_id, "direction": Direction.OUTBOUND.value, "status": MailState.QUEUED.value,
        "message_id": message_id, "in_reply_to": draft.in_reply_to, "reference_ids": headers.get("References"),
        "reply_to_mail_id": None, "subject": rendered.subject, "from_address": from_address,
        "to_addresses": [draft.to_address], "text_body": rendered.text, "html_body": rendered.html,
        "attachments": [], "contact_id": links.contact_id, "company_id": links.company_id,
        "deal_id": links.deal_id, "lead_id": links.lead_id, "template_id": draft.template_id,
        "enrolment_id": draft.enrolment_id, "sequence_id": draft.sequence_id, "step_position": draft.step_position,
        "sent_by": draft.sent_by, "error": None,
        "correlation_id": correlation_id_var.get() or request_id_var.get(), "occurred_at": now, "created_at": now,
        "updated_at": now,
    }
    return row, outgoing_mail(message, MailCause(CAUSE_KIND, draft.mail_id))


def build_all(drafts: Sequence[Draft], settings: CrmSettings, now: datetime) -> list[tuple[dict[str, Any],
                                                                                          OutgoingMail]]:
    return [build(draft, settings, now) for draft in drafts]


async def stage(session: AsyncSession, drafts: Sequence[Draft], settings: CrmSettings,
                now: datetime) -> list[dict[str, Any]]:
    """Build the drafts (in a worker thread, in chunks) and stage them in the caller's transaction: their
    `crm_mails` rows and their outbox rows. Returns the rows."""
    built: list[tuple[dict[str, Any], OutgoingMail]] = []
    if len(drafts) == 1:
        built = build_all(drafts, settings, now)
    else:
        for start in range(0, len(drafts), BUILD_CHUNK):
            built += await asyncio.to_thread(build_all, drafts[start:start + BUILD_CHUNK], settings, now)
    if not built:
        return []
    rows = [row for row, _ in built]
    # An INSERT per 1,000 rows (SQLAlchemy's insertmanyvalues): `to_addresses` is an array column, which the
    # unnest-based bulk insert would flatten.
    await session.execute(insert(CrmMail), rows)
    await stage_mail(session, MAIL_OUTBOX, [mail for _, mail in built])
    return rows
