"""Inbound mail, as inbound-parse services post it: stored once (by Message-ID), threaded onto the contact, company,
deal or lead it belongs to, and a reply stops that person's sequences.

Threading: the In-Reply-To and References ids are looked up among the mails we sent (and received); the first one
found gives the records. Else the sender's address finds a contact (then its company), or a lead. Else, with
CRM_INBOUND_CREATES_LEADS, the sender becomes a lead; otherwise the mail is kept unmatched (`GET /mails?unmatched=
true`). Attachments are listed (name, type, size, sha256) and not kept: the CRM is not a file store, and what a
stranger attaches is not something to keep by default.
"""

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from email.utils import getaddresses, parseaddr

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from crm.companies.api import ContactRepository
from crm.db import utcnow
from crm.deals.api import DealRepository
from crm.leads.api import Lead, add_lead
from crm.mail.models import CrmMail, Direction, MailState
from crm.mail.repository import MailRepository
from crm.mail.schemas import InboundMailIn, InboundOut
from crm.mail.service import StopRequest, stop_sequences
from crm.settings import CrmSettings
from throughline_events.crm import MailReplyReceivedV1
from throughline_messaging.aggregate import Cause
from throughline_messaging.uow import UnitOfWork
from throughline_platform.context import correlation_id_var, request_id_var
from throughline_platform.problems import Unauthorized, Unprocessable

_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    sha256: str | None

    def listed(self) -> dict[str, object]:
        return {"filename": self.filename, "content_type": self.content_type, "size": self.size,
                "sha256": self.sha256}


def check_secret(settings: CrmSettings, header: str | None, basic_password: str | None) -> None:
    """401 unless the X-Inbound-Secret header (or basic auth's password) is the configured secret, compared in
    constant time. No secret configured: nothing gets in."""
    secret = settings.inbound_secret.encode()
    offered = (header if header is not None else basic_password or "").encode()
    if not secret or not hmac.compare_digest(offered, secret):
        raise Unauthorized("Inbound mail needs the configured secret (X-Inbound-Secret or basic auth).",
                           type_slug="inbound-secret-invalid")


def message_ids(header: str | None) -> list[str]:
    return _MESSAGE_ID.findall(header or "")


def _own_message_id(data: InboundMailIn, sender: str) -> str:
    """The mail's Message-ID; one made from its content when it has none, so that the service posting it again
    (they retry) does not store it twice."""
    found = message_ids(data.message_id)
    if found:
        return found[0]
    digest = hashlib.sha256("\0".join((sender, data.subject, data.text or "", data.html or "")).encode()).hexdigest()
    return f"<{digest[:40]}@inbound.invalid>"


def _names(display: str) -> tuple[str, str]:
    first, _, last = display.strip().partition(" ")
    return first[:100], last[:100]


async def receive(uow: UnitOfWork, data: InboundMailIn, attachments: list[Attachment],
                  settings: CrmSettings) -> InboundOut:
    session = uow.session
    display, sender = parseaddr(data.sender)
    if "@" not in sender:
        raise Unprocessable(f"sender: {data.sender!r} is not an email address.")
    message_id = _own_message_id(data, sender)
    mails = MailRepository(session)
    existing = await mails.inbound_by_message_id(message_id)
    if existing is not None:
        return InboundOut(id=existing.id, duplicate=True, contact_id=existing.contact_id, deal_id=existing.deal_id,
                          lead_id=existing.lead_id, matched_by=None, stopped_enrolments=0)
    contact_id = company_id = deal_id = lead_id = reply_to = None
    matched_by: str | None = None
    thread = [*message_ids(data.in_reply_to), *reversed(message_ids(data.references))]
    for answered in await mails.by_message_ids(list(dict.fromkeys(thread))):
        contact_id, company_id, deal_id, lead_id = (answered.contact_id, answered.company_id, answered.deal_id,
                                                    answered.lead_id)
        reply_to, matched_by = answered.id, "message_id"
        break
    if matched_by is None:
        contact = await ContactRepository(session).find_by_email(sender)
        if contact is not None:
            contact_id, company_id, matched_by = contact.id, contact.company_id, "sender"
        else:
            lead = (await session.execute(select(Lead).where(
                func.lower(Lead.email) == sender.lower(), Lead.deleted_at.is_(None)).order_by(
                Lead.created_at.desc()).limit(1))).scalars().first()
            if lead is not None:
                lead_id, matched_by = lead.id, "sender"
            elif settings.inbound_creates_leads:
                first, last = _names(display or sender.split("@", 1)[0])
                created = await add_lead(uow, {"first_name": first, "last_name": last, "email": sender,
                                               "source": "other", "message": f"Arrived by email: {data.subject}"},
                                         created_by="inbound-mail")
                lead_id = created.id
    now = utcnow()
    mail_id = uuid.uuid4()
    recipients = [address for _, address in getaddresses(data.recipients) if address]
    inserted = (await session.execute(pg_insert(CrmMail).values(
        id=mail_id, direction=Direction.INBOUND, status=MailState.RECEIVED, message_id=message_id,
        in_reply_to=next(iter(message_ids(data.in_reply_to)), None), reference_ids=data.references,
        reply_to_mail_id=reply_to, subject=" ".join(data.subject.split())[:998], from_address=sender,
        to_addresses=recipients, text_body=data.text, html_body=data.html,
        attachments=[a.listed() for a in attachments], contact_id=contact_id, company_id=company_id,
        deal_id=deal_id, lead_id=lead_id, correlation_id=correlation_id_var.get() or request_id_var.get(),
        occurred_at=now, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(constraint="uq_crm_mails_direction_message_id").returning(CrmMail.id))).first()
    if inserted is None:  # the same mail, posted twice at once: the other request stored it (and did the rest)
        await session.rollback()
        stored = await mails.inbound_by_message_id(message_id)
        assert stored is not None
        return InboundOut(id=stored.id, duplicate=True, contact_id=stored.contact_id, deal_id=stored.deal_id,
                          lead_id=stored.lead_id, matched_by=None, stopped_enrolments=0)
    stopped = 0
    if contact_id is not None or lead_id is not None:
        # A reply (or any mail from them) is the conversation sequences wait for: theirs stop now.
        stopped = await stop_sequences(session, StopRequest(
            reason="replied", emails=frozenset({sender.lower()}),
            contact_ids=frozenset({contact_id}) if contact_id else frozenset(),
            lead_ids=frozenset({lead_id}) if lead_id else frozenset()))
        uow.record(MailReplyReceivedV1(
            mail_id=mail_id, message_id=message_id, reply_to_mail_id=reply_to, from_address=sender,
            subject=data.subject[:998], contact_id=contact_id, company_id=company_id, deal_id=deal_id,
            lead_id=lead_id, stopped_enrolments=stopped, received_at=now),
            Cause(correlation_id_var.get() or request_id_var.get(), request_id_var.get()))
    if deal_id is not None:
        deal = await DealRepository(session).get(deal_id)
        if deal is not None and (deal.last_activity_at is None or now > deal.last_activity_at):
            deal.last_activity_at = now  # the client wrote: the deal is not idle
    await uow.commit()
    return InboundOut(id=mail_id, duplicate=False, contact_id=contact_id, deal_id=deal_id, lead_id=lead_id,
                      matched_by=matched_by, stopped_enrolments=stopped)
