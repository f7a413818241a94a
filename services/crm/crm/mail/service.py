"""CRM mail: templates (checked when saved), previews, mail composed from a deal, contact or company page, the
outcome of each mail (the sender's hook), consent per address and the one-click unsubscribe.

Inbound mail is `inbound.py`. Sequences sit above this package (they stage their mail through `outgoing.py`); what
stops them here (a reply, an unsubscribe, a bounce) goes through the port `stop_sequences` (crm/ports.py).
"""

import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm.companies.api import Company, CompanyRepository, Contact, ContactRepository
from crm.db import utcnow
from crm.deals.api import Deal, DealRepository
from crm.leads.api import Lead, LeadRepository
from crm.mail import outgoing
from crm.mail.context import EXAMPLE, VARIABLES, Owner, context
from crm.mail.models import ConsentStatus, CrmMail, EmailTemplate, MailSenderProfile, MailState
from crm.mail.repository import (
    ConsentRepository,
    MailRepository,
    SenderRepository,
    TemplateRepository,
    default_sender_name,
)
from crm.mail.schemas import (
    ComposeIn,
    ConsentIn,
    PreviewIn,
    Records,
    RenderedOut,
    SenderOut,
    TemplateIn,
    TemplatePatch,
)
from crm.ports import Port
from crm.settings import CrmSettings
from throughline_events.crm import MailSentV1
from throughline_messaging.aggregate import Cause
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.mail.links import LinkForbidden, verified
from throughline_platform.mail.sender import MailOutcome
from throughline_platform.mail.templates import MailTemplate, RenderedMail, TemplateProblem
from throughline_platform.problems import Conflict, NotFound, Unprocessable


@dataclass(frozen=True)
class StopRequest:
    """Whose active enrolments to stop, and why (a sequences.models.StopReason value)."""

    reason: str
    contact_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    lead_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    emails: frozenset[str] = field(default_factory=frozenset)  # lower case
    enrolment_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


# A reply, an unsubscribe or a bounce stops sequences, in the transaction that records it. Sequences sit above this
# package (they stage their mail through it), so they answer through the port (crm/ports.py); it returns how many
# enrolments it stopped.
stop_sequences: Port[[AsyncSession, StopRequest], Awaitable[int]] = Port("stop the sequences of these people")


# --- templates -----------------------------------------------------------------------------------------


def check_template(template: MailTemplate) -> None:
    """What saving a template (or sending free text) runs: a template that does not compile or names what the
    context will not have is a 422 naming the part and the line."""
    try:
        template.check(VARIABLES)
    except TemplateProblem as problem:
        raise _template_problem(problem) from None


def _template_problem(problem: TemplateProblem) -> Unprocessable:
    return Unprocessable(str(problem), type_slug="template-invalid", part=problem.part, line=problem.line,
                         message=problem.message)


def as_template(row: EmailTemplate) -> MailTemplate:
    return MailTemplate(subject=row.subject, text=row.text_body, html=row.html_body)


async def create_template(uow: UnitOfWork, data: TemplateIn, created_by: str) -> EmailTemplate:
    check_template(MailTemplate(subject=data.subject, text=data.text, html=data.html))
    templates = TemplateRepository(uow.session)
    if await templates.by_name(data.name) is not None:
        raise Conflict(f"A template named {data.name!r} exists already.", type_slug="duplicate-template")
    now = utcnow()
    template = EmailTemplate(id=uuid.uuid4(), name=data.name, subject=data.subject, text_body=data.text,
                             html_body=data.html, version=1, created_by=created_by, created_at=now, updated_at=now)
    templates.add(template)
    await uow.commit()
    return template


async def get_template(uow: UnitOfWork, template_id: uuid.UUID, *, for_update: bool = False) -> EmailTemplate:
    template = await TemplateRepository(uow.session).get(template_id, for_update=for_update)
    if template is None:
        raise NotFound(f"Mail template {template_id} does not exist.")
    return template


async def update_template(uow: UnitOfWork, template_id: uuid.UUID, patch: TemplatePatch) -> EmailTemplate:
    template = await get_template(uow, template_id, for_update=True)
    changes = patch.model_dump(exclude_unset=True)
    for required in ("name", "subject", "text"):
        if required in changes and changes[required] is None:
            raise Unprocessable(f"{required}: a template needs one.")
    renamed = "name" in changes and changes["name"].lower() != template.name.lower()
    if renamed and await TemplateRepository(uow.session).by_name(changes["name"]) is not None:
        raise Conflict(f"A template named {changes['name']!r} exists already.", type_slug="duplicate-template")
    subject = changes.get("subject", template.subject)
    text_body = changes.get("text", template.text_body)
    html_body = changes.get("html", template.html_body)
    check_template(MailTemplate(subject=subject, text=text_body, html=html_body))
    new = (changes.get("name", template.name), subject, text_body, html_body)
    if new == (template.name, template.subject, template.text_body, template.html_body):
        return template
    template.name, template.subject, template.text_body, template.html_body = new
    template.version += 1
    template.updated_at = utcnow()
    await uow.commit()
    return template


async def delete_template(uow: UnitOfWork, template_id: uuid.UUID) -> None:
    template = await get_template(uow, template_id, for_update=True)
    await uow.session.delete(template)
    try:
        await uow.session.flush()
    except IntegrityError:
        raise Conflict("A sequence step uses this template; change the sequence first.",
                       type_slug="template-in-use") from None
    await uow.commit()


# --- records a mail is about ---------------------------------------------------------------------------


@dataclass
class About:
    """The records a mail is about, looked up and completed (a deal names its company and contact)."""

    contact: Contact | None = None
    company: Company | None = None
    deal: Deal | None = None
    lead: Lead | None = None

    def links(self) -> outgoing.Links:
        return outgoing.Links(contact_id=self.contact.id if self.contact else None,
                              company_id=self.company.id if self.company else None,
                              deal_id=self.deal.id if self.deal else None,
                              lead_id=self.lead.id if self.lead else None)


async def about(session: AsyncSession, records: Records) -> About:
    """The live records named (422 for one that does not exist); a deal brings its company and contact, a contact
    its company, unless named otherwise."""
    found = About()
    if records.deal_id is not None:
        found.deal = await DealRepository(session).get(records.deal_id)
        if found.deal is None:
            raise Unprocessable(f"deal_id: deal {records.deal_id} does not exist.")
    contact_id = records.contact_id or (found.deal.contact_id if found.deal else None)
    if contact_id is not None:
        found.contact = await ContactRepository(session).get(contact_id)
        if found.contact is None:
            raise Unprocessable(f"contact_id: contact {contact_id} does not exist.")
    company_id = records.company_id or (found.deal.company_id if found.deal else None) or (
        found.contact.company_id if found.contact else None)
    if company_id is not None:
        found.company = await CompanyRepository(session).get(company_id)
        if found.company is None:
            raise Unprocessable(f"company_id: company {company_id} does not exist.")
    if records.lead_id is not None:
        found.lead = await LeadRepository(session).get(records.lead_id)
        if found.lead is None:
            raise Unprocessable(f"lead_id: lead {records.lead_id} does not exist.")
    return found


def render(template: MailTemplate, values: dict[str, Any]) -> RenderedMail:
    try:
        return template.render(values)
    except TemplateProblem as problem:
        raise _template_problem(problem) from None


async def preview(uow: UnitOfWork, data: PreviewIn, principal: Principal) -> RenderedOut:
    """A template (saved or as typed) rendered for the records named, or with example values when none is."""
    if data.template_id is not None:
        template = as_template(await get_template(uow, data.template_id))
    else:
        assert data.subject is not None and data.text is not None  # the schema requires them together
        template = MailTemplate(subject=data.subject, text=data.text, html=data.html)
    check_template(template)
    named = data.contact_id or data.company_id or data.deal_id or data.lead_id
    if not named:
        rendered = render(template, EXAMPLE)
    else:
        found = await about(uow.session, data)
        profile = await SenderRepository(uow.session).get(principal.user_id)
        owner = Owner(profile.name, profile.email) if profile else Owner(principal.email, principal.email)
        rendered = render(template, context(contact=found.contact, lead=found.lead, company=found.company,
                                            deal=found.deal, owner=owner))
    return RenderedOut(subject=rendered.subject, text=rendered.text, html=rendered.html, example=not named)


# --- compose -------------------------------------------------------------------------------------------


async def send_mail(uow: UnitOfWork, data: ComposeIn, principal: Principal, settings: CrmSettings) -> CrmMail:
    """Render and stage one mail (sent by the scheduler's senders); it is on the timelines at once, as queued."""
    session = uow.session
    found = await about(session, data)
    to = data.to or (found.contact.email if found.contact else None) or (found.lead.email if found.lead else None)
    if to is None and found.company is not None and found.contact is None and found.lead is None:
        to = found.company.email
    if not to:
        raise Unprocessable("to: the contact has no email address; give one.", type_slug="no-recipient")
    if data.template_id is not None:
        template_row = await get_template(uow, data.template_id)
        template = as_template(template_row)
    else:
        assert data.subject is not None and data.text is not None  # the schema requires them together
        template = MailTemplate(subject=data.subject, text=data.text, html=data.html)
        check_template(template)
    now = utcnow()
    profile = await SenderRepository(session).remember(principal.user_id, principal.email or "", now)
    rendered = render(template, context(contact=found.contact, lead=found.lead, company=found.company,
                                        deal=found.deal, owner=Owner(profile.name, profile.email)))
    in_reply_to = references = None
    if data.reply_to_mail_id is not None:
        answered = await MailRepository(session).get(data.reply_to_mail_id)
        if answered is None:
            raise Unprocessable(f"reply_to_mail_id: mail {data.reply_to_mail_id} does not exist.")
        in_reply_to, references = answered.message_id, answered.reference_ids
    to_name = found.contact.full_name if found.contact and to == found.contact.email else ""
    draft = outgoing.Draft(to_address=to, to_name=to_name, rendered=rendered, links=found.links(),
                           sender_name=profile.name, sent_by=principal.user_id, template_id=data.template_id,
                           in_reply_to=in_reply_to, references=references)
    await outgoing.stage(session, [draft], settings, now)
    if found.deal is not None and (found.deal.last_activity_at is None or now > found.deal.last_activity_at):
        found.deal.last_activity_at = now  # a mail to the client is contact with the client: the deal is not idle
    await uow.commit()
    mail = await MailRepository(session).get(draft.mail_id)
    assert mail is not None
    return mail


async def get_mail(uow: UnitOfWork, mail_id: uuid.UUID) -> CrmMail:
    mail = await MailRepository(uow.session).get(mail_id)
    if mail is None:
        raise NotFound(f"Mail {mail_id} does not exist.")
    return mail


# --- outcomes (the sender's hook) ------------------------------------------------------------------------

_RECORD_OUTCOMES = text("""
    UPDATE crm_mails m SET status = v.status, error = v.error, occurred_at = now(), updated_at = now()
    FROM unnest(CAST(:ids AS uuid[]), CAST(:statuses AS text[]), CAST(:errors AS text[])) AS v(id, status, error)
    WHERE m.id = v.id AND m.status = 'queued'
    RETURNING m.id, m.status, m.message_id, m.subject, m.to_addresses, m.contact_id, m.company_id, m.deal_id,
              m.lead_id, m.template_id, m.enrolment_id, m.sequence_id, m.step_position, m.sent_by,
              m.correlation_id, m.occurred_at""").bindparams(bindparam("ids"), bindparam("statuses"),
                                                               bindparam("errors"))


async def record_mail_outcomes(uow: UnitOfWork, outcomes: list[MailOutcome]) -> None:
    """What became of a batch of mails, recorded once (the sender stamps the outbox rows in this transaction): the
    `crm_mails` rows take their status (the timelines show it), each sent mail records `mail.sent`, and a bounced
    sequence mail stops its enrolment (the next step would bounce too)."""
    ours = [o for o in outcomes if o.cause.kind == outgoing.CAUSE_KIND]
    if not ours:
        return
    rows = (await uow.session.execute(_RECORD_OUTCOMES, {
        "ids": [o.cause.id for o in ours], "statuses": [str(o.status) for o in ours],
        "errors": [o.error for o in ours]})).mappings().all()
    bounced: set[uuid.UUID] = set()
    for row in rows:
        if row["status"] == MailState.SENT:
            uow.record(MailSentV1(
                mail_id=row["id"], message_id=row["message_id"], subject=row["subject"], to=list(row["to_addresses"]),
                contact_id=row["contact_id"], company_id=row["company_id"], deal_id=row["deal_id"],
                lead_id=row["lead_id"], template_id=row["template_id"], sequence_id=row["sequence_id"],
                enrolment_id=row["enrolment_id"], step_position=row["step_position"], sent_by=row["sent_by"],
                sent_at=row["occurred_at"]), Cause(row["correlation_id"], str(row["id"])))
        elif row["enrolment_id"] is not None:
            bounced.add(row["enrolment_id"])
    if bounced:
        await stop_sequences(uow.session, StopRequest(reason="bounced", enrolment_ids=frozenset(bounced)))


# --- consent and unsubscribe ---------------------------------------------------------------------------


async def _contact(uow: UnitOfWork, contact_id: uuid.UUID) -> Contact:
    contact = await ContactRepository(uow.session).get(contact_id)
    if contact is None:
        raise NotFound(f"Contact {contact_id} does not exist.")
    return contact


async def consent_of(uow: UnitOfWork, contact_id: uuid.UUID) -> dict[str, Any]:
    contact = await _contact(uow, contact_id)
    consent = await ConsentRepository(uow.session).get(contact.email) if contact.email else None
    if consent is None:
        return {"email": contact.email, "status": "unknown", "source": None, "changed_at": None, "changed_by": None}
    return {"email": contact.email, "status": consent.status, "source": consent.source,
            "changed_at": consent.changed_at, "changed_by": consent.changed_by}


async def set_consent(uow: UnitOfWork, contact_id: uuid.UUID, data: ConsentIn, principal: Principal) -> dict[str, Any]:
    """Record what the contact said (given, or withdrawn), and where; withdrawn stops their sequences now."""
    contact = await _contact(uow, contact_id)
    if not contact.email:
        raise Unprocessable("The contact has no email address: consent is recorded per address.",
                            type_slug="no-recipient")
    await ConsentRepository(uow.session).put(email=contact.email, status=data.status, source=data.source,
                                              changed_at=utcnow(), changed_by=principal.user_id, mail_id=None)
    if data.status == "withdrawn":
        await stop_sequences(uow.session, StopRequest(reason="unsubscribed", contact_ids=frozenset({contact.id}),
                                                      emails=frozenset({contact.email.lower()})))
    await uow.commit()
    return await consent_of(uow, contact_id)


async def unsubscribe_target(uow: UnitOfWork, token: str, settings: CrmSettings) -> CrmMail:
    """The mail a genuine, unexpired unsubscribe link was sent in; 403 for anything forged, altered or made for
    another purpose, 410 for an expired one (nothing is changed either way)."""
    claims = verified(settings.link_signer(), token, outgoing.UNSUBSCRIBE,
                      invalid="This unsubscribe link is not valid.", expired="This unsubscribe link has expired.")
    mail = await MailRepository(uow.session).get(claims.subject)
    if mail is None or not mail.to_addresses:
        raise LinkForbidden("This unsubscribe link is not valid.")
    return mail


async def unsubscribe(uow: UnitOfWork, token: str, settings: CrmSettings, *, one_click: bool) -> CrmMail:
    """Withdraw the address's consent (the first withdrawal is kept) and stop every active enrolment mailing it."""
    mail = await unsubscribe_target(uow, token, settings)
    address = mail.to_addresses[0].lower()
    how = "one-click unsubscribe (List-Unsubscribe-Post)" if one_click else "unsubscribe page"
    await ConsentRepository(uow.session).put(
        email=address, status=ConsentStatus.WITHDRAWN, source=f"{how}, from the mail {mail.subject[:80]!r}",
        changed_at=utcnow(), changed_by=None, mail_id=mail.id, keep_withdrawal=True)
    await stop_sequences(uow.session, StopRequest(
        reason="unsubscribed", emails=frozenset({address}),
        contact_ids=frozenset({mail.contact_id}) if mail.contact_id else frozenset(),
        lead_ids=frozenset({mail.lead_id}) if mail.lead_id else frozenset()))
    await uow.commit()
    return mail


# --- senders -----------------------------------------------------------------------------------------------


async def my_profile_view(uow: UnitOfWork, principal: Principal) -> SenderOut:
    """The caller as a sender: as saved, or as it will be made on their first mail."""
    profile = await SenderRepository(uow.session).get(principal.user_id)
    if profile is not None:
        return SenderOut.model_validate(profile)
    email = principal.email or ""
    return SenderOut(user_id=principal.user_id, email=email, name=default_sender_name(email, principal.user_id))


async def my_profile(uow: UnitOfWork, principal: Principal, name: str | None = None) -> MailSenderProfile:
    """The caller as a sender of CRM mail (made on first use); `name` renames it."""
    profile = await SenderRepository(uow.session).remember(principal.user_id, principal.email or "", utcnow(), name)
    await uow.commit()
    return profile
