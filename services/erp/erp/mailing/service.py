"""Invoices and reminders by mail (docs/erp-invoicing-out.md, "Sending"), on the platform's mail mechanism.

Sending stages the mail (its PDF attached, its Message-ID ours) in the ERP's mail outbox, writes the invoice's mail
history row and records `invoice.sent`, all in one transaction: the sender (erp.mail_jobs) delivers it later, and
its outcome hook (`record_outcomes`) sets the history row to sent, failed or bounced. The mail carries a signed,
expiring link to the client's page (`public_invoice`), which shows the invoice and its payment details without a
login. Subject and body come from editable templates (`invoice`, `reminder-<step>`), Jinja2 in the platform's
sandbox, checked when saved.
"""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from email.utils import parseaddr
from typing import Any

from erp.clients.api import Client, ClientRepository
from erp.db import MAIL_OUTBOX, utcnow
from erp.documents.api import InvoiceContent, KeptPdf, UnitsOfWork, content, pdf_of
from erp.invoices.api import Invoice, InvoiceKind, InvoiceStatus, get_invoice, locked_invoice
from erp.mailing.models import InvoiceMail, MailKind, MailState, MailTemplateRow
from erp.mailing.repository import MailingRepository
from erp.mailing.schemas import SendIn, TemplateIn
from erp.settings import ErpSettings, get_settings
from throughline_events.erp import InvoiceDeliveryFailedV1, InvoiceSentV1
from throughline_events.money import round_money
from throughline_messaging.aggregate import Cause
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.mail.links import LinkForbidden, verified
from throughline_platform.mail.messages import (
    Attachment,
    build_message,
    domain_of,
    mailbox,
    new_message_id,
    outgoing_mail,
)
from throughline_platform.mail.outbox import MailCause, MailStatus, stage_mail
from throughline_platform.mail.sender import MailOutcome
from throughline_platform.mail.templates import MailTemplate, RenderedMail, TemplateProblem, Variables
from throughline_platform.problems import Conflict, NotFound, Unprocessable

# The outbox's cause kind of every ERP mail; its cause id is the invoice_mails row's id.
CAUSE_KIND = "invoice_mail"
# The purpose signed into the client page's links: a link made for anything else opens nothing here.
LINK_PURPOSE = "invoice"
PUBLIC_PATH = "/api/erp/public/invoices"

_INVOICE = {name: None for name in ("number", "issue_date", "due_date", "total", "balance_due", "amount_due",
                                    "currency", "payment_reference")}
INVOICE_VARIABLES: Variables = {"invoice": _INVOICE, "client": {"name": None}, "company": {"name": None},
                                "public_url": None}
REMINDER_VARIABLES: Variables = {**INVOICE_VARIABLES,
                                 "reminder": {"step": None, "days_overdue": None, "late_fee": None}}

DEFAULT_INVOICE = MailTemplate(
    subject="Invoice {{ invoice.number }} from {{ company.name }}",
    text="""Dear {{ client.name }},

please find attached our invoice {{ invoice.number }} of {{ invoice.issue_date }} for {{ invoice.total }}, due on \
{{ invoice.due_date }}.

Please transfer {{ invoice.amount_due }} to the account shown on the invoice, quoting the reference \
{{ invoice.payment_reference }}.

You can see the invoice and its payment details online:
{{ public_url }}

Kind regards,
{{ company.name }}
""")

DEFAULT_REMINDER = MailTemplate(
    subject="Reminder {{ reminder.step }}: invoice {{ invoice.number }} is {{ reminder.days_overdue }} days overdue",
    text="""Dear {{ client.name }},

our invoice {{ invoice.number }} of {{ invoice.issue_date }} was due on {{ invoice.due_date }}. \
{{ invoice.balance_due }} is still open.
{% if reminder.late_fee %}A late fee of {{ reminder.late_fee }} has been added to the invoice.
{% endif %}
Please transfer the balance at your earliest convenience, quoting the reference {{ invoice.payment_reference }}. \
The invoice is attached.
{% if public_url %}
You can see the invoice and its payment details online:
{{ public_url }}
{% endif %}
Kind regards,
{{ company.name }}
""")

_KEY = re.compile(r"^(invoice|reminder-([1-9][0-9]?))$")


# --- templates -----------------------------------------------------------------------------------------------


def template_keys(settings: ErpSettings) -> list[str]:
    """`invoice`, and one `reminder-<n>` per reminder step (ERP_REMINDER_STEPS)."""
    return ["invoice", *(f"reminder-{n}" for n in range(1, len(settings.reminder_step_days()) + 1))]


def _check_key(key: str) -> None:
    if not _KEY.match(key) or key not in template_keys(get_settings()):
        known = ", ".join(template_keys(get_settings()))
        raise NotFound(f"There is no mail template {key!r}: the templates are {known}.")


def default_of(key: str) -> MailTemplate:
    return DEFAULT_INVOICE if key == "invoice" else DEFAULT_REMINDER


def variables_of(key: str) -> Variables:
    return INVOICE_VARIABLES if key == "invoice" else REMINDER_VARIABLES


@dataclass(frozen=True)
class Templates:
    """The templates in force: the saved ones, else the defaults."""

    saved: Mapping[str, MailTemplateRow]

    def get(self, key: str) -> MailTemplate:
        row = self.saved.get(key)
        return MailTemplate(subject=row.subject, text=row.body) if row is not None else default_of(key)

    def render(self, key: str, context: Mapping[str, Any]) -> RenderedMail:
        try:
            return self.get(key).render(context)
        except TemplateProblem as exc:
            raise _unprocessable(key, exc) from None


async def templates(uow: UnitOfWork) -> Templates:
    return Templates(await MailingRepository(uow.session).templates())


def _unprocessable(key: str, exc: TemplateProblem) -> Unprocessable:
    field = "body" if exc.part in ("text", "html") else "subject"
    where = f"{field}, line {exc.line}" if exc.line is not None else field
    return Unprocessable(f"The {key} template does not work: {where}: {exc.message}.", type_slug="template-problem",
                         errors=[{"field": field, "line": exc.line, "message": exc.message, "type": "template"}])


def check_template(key: str, subject: str, body: str) -> MailTemplate:
    template = MailTemplate(subject=subject, text=body)
    try:
        template.check(variables_of(key))
    except TemplateProblem as exc:
        raise _unprocessable(key, exc) from None
    return template


async def list_templates(uow: UnitOfWork) -> list[dict[str, Any]]:
    saved = await MailingRepository(uow.session).templates()
    result = []
    for key in template_keys(get_settings()):
        row = saved.get(key)
        template = Templates(saved).get(key)
        result.append({"key": key, "subject": template.subject, "body": template.text, "is_default": row is None,
                       "variables": _variable_names(variables_of(key)),
                       "updated_at": row.updated_at if row else None, "updated_by": row.updated_by if row else None})
    return result


def _variable_names(variables: Variables, prefix: str = "") -> list[str]:
    names: list[str] = []
    for name, inner in variables.items():
        names += _variable_names(inner, f"{prefix}{name}.") if inner else [f"{prefix}{name}"]
    return names


async def save_template(uow: UnitOfWork, key: str, body: TemplateIn, principal: Principal) -> dict[str, Any]:
    """Save a template once it compiles and names only what its mails will have (422 naming the line)."""
    _check_key(key)
    check_template(key, body.subject, body.body)
    repo = MailingRepository(uow.session)
    row = await repo.template(key)
    if row is None:
        repo.add_template(MailTemplateRow(id=uuid.uuid4(), key=key, subject=body.subject, body=body.body,
                                          updated_by=principal.user_id))
    else:
        row.subject, row.body, row.updated_by = body.subject, body.body, principal.user_id
    await uow.commit()
    return next(t for t in await list_templates(uow) if t["key"] == key)


async def reset_template(uow: UnitOfWork, key: str) -> dict[str, Any]:
    _check_key(key)
    repo = MailingRepository(uow.session)
    row = await repo.template(key)
    if row is not None:
        await repo.delete_template(row)
    await uow.commit()
    return next(t for t in await list_templates(uow) if t["key"] == key)


SAMPLE_CONTEXT: dict[str, Any] = {
    "invoice": {"number": "INV-2026-0001", "issue_date": "2026-12-01", "due_date": "2026-12-31",
                "total": "1190.00 EUR", "balance_due": "1190.00 EUR", "amount_due": "1190.00 EUR",
                "currency": "EUR", "payment_reference": "RF18539007547034"},
    "client": {"name": "Acme Ltd"}, "company": {"name": "Your company"},
    "public_url": "https://example.invalid/api/erp/public/invoices/...",
    "reminder": {"step": 1, "days_overdue": 3, "late_fee": ""},
}


async def preview(uow: UnitOfWork, key: str, subject: str | None, body: str | None,
                  invoice_id: uuid.UUID | None) -> dict[str, str]:
    """A template (the saved one, or the source given) rendered for an invoice, or for sample data."""
    _check_key(key)
    saved = (await templates(uow)).get(key)
    template = check_template(key, subject if subject is not None else saved.subject,
                              body if body is not None else saved.text)
    context = SAMPLE_CONTEXT
    if invoice_id is not None:
        invoice = await get_invoice(uow, invoice_id)
        client = await _client(uow, invoice)
        doc, _ = await content(uow, invoice_id)
        context = {**invoice_context(invoice, client, _company_name(doc), invoice.public_url or ""),
                   "reminder": SAMPLE_CONTEXT["reminder"]}
    try:
        rendered = template.render(context)
    except TemplateProblem as exc:
        raise _unprocessable(key, exc) from None
    return {"subject": rendered.subject, "body": rendered.text}


# --- what a mail says ------------------------------------------------------------------------------------------


def _money(amount: Decimal, currency: str) -> str:
    return f"{round_money(amount, currency)} {currency}"


def invoice_context(invoice: Invoice, client: Client, company_name: str, public_url: str) -> dict[str, Any]:
    """What the templates see: plain strings, never the ORM objects."""
    c = invoice.currency
    return {
        "invoice": {"number": invoice.number or "", "issue_date": str(invoice.issue_date or ""),
                    "due_date": str(invoice.due_date or ""), "total": _money(invoice.total, c),
                    "balance_due": _money(invoice.balance_due, c), "amount_due": _money(invoice.balance_due, c),
                    "currency": c, "payment_reference": invoice.payment_reference or ""},
        "client": {"name": client.name}, "company": {"name": company_name}, "public_url": public_url,
    }


def reminder_context(invoice: Invoice, client: Client, *, step: int, days_overdue: int,
                     late_fee: Decimal) -> dict[str, Any]:
    seller = invoice.seller or {}
    return {**invoice_context(invoice, client, str(seller.get("legal_name") or "Accounts"), invoice.public_url or ""),
            "reminder": {"step": step, "days_overdue": days_overdue,
                         "late_fee": _money(late_fee, invoice.currency) if late_fee > 0 else ""}}


def _company_name(doc: InvoiceContent) -> str:
    return doc.seller.name if doc.seller is not None else "Accounts"


async def _client(uow: UnitOfWork, invoice: Invoice) -> Client:
    client = await ClientRepository(uow.session).get(invoice.client_id)
    assert client is not None  # foreign key
    return client


async def default_recipients(uow: UnitOfWork, client: Client) -> list[str]:
    """Whom an invoice goes to by default: the client's billing email, else its contacts that have one."""
    if client.email:
        return [client.email]
    if client.crm_company_id is None:
        return []
    contacts = await ClientRepository(uow.session).contacts_of(client.crm_company_id, False)
    return list(dict.fromkeys(c.email for c in contacts if c.email))


_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def _check_recipients(to: list[str]) -> list[str]:
    cleaned = []
    for position, address in enumerate(to):
        _, addr_spec = parseaddr(address)
        if not addr_spec or not _ADDRESS.match(addr_spec) or len(addr_spec) > 320:
            raise Unprocessable(f"to[{position}]: {address!r} is not an e-mail address.", type_slug="bad-recipient",
                                errors=[{"field": f"to.{position}", "message": "not an e-mail address",
                                         "type": "email"}])
        cleaned.append(addr_spec)
    return list(dict.fromkeys(cleaned))


def public_url(settings: ErpSettings, invoice_id: uuid.UUID) -> str:
    token = settings.link_signer().sign(LINK_PURPOSE, invoice_id, timedelta(days=settings.invoice_link_days))
    return f"{settings.public_base_url.rstrip('/')}{PUBLIC_PATH}/{token}"


def _issued(doc: KeptPdf) -> None:
    if doc.is_draft:
        raise Conflict("The invoice is a draft: issue it before sending it (a draft has no number and may still "
                       "change).", type_slug="invoice-not-issued")


def _sendable(invoice: Invoice) -> None:
    if invoice.status == InvoiceStatus.DRAFT:
        raise Conflict("The invoice is a draft: issue it before sending it (a draft has no number and may still "
                       "change).", type_slug="invoice-not-issued")
    if invoice.status == InvoiceStatus.VOID:
        raise Conflict(f"Invoice {invoice.number} is void: it is not sent any more.", type_slug="invoice-void")


async def stage_invoice_mail(uow: UnitOfWork, *, invoice: Invoice, pdf: bytes, company_name: str, to: list[str],
                             subject: str, text: str, kind: MailKind, reminder_id: uuid.UUID | None,
                             sent_by: str | None) -> dict[str, Any]:
    """The mail (its PDF attached) in the ERP's mail outbox and its row in the invoice's mail history, in the
    caller's transaction (the caller commits). Returns the history row."""
    settings = get_settings()
    _, from_address = parseaddr(settings.smtp_from)
    mail_id = uuid.uuid4()
    now = utcnow()
    message = build_message(
        sender=mailbox(company_name, from_address), to=to, subject=subject, text=text,
        attachments=[Attachment(f"{invoice.number or 'invoice'}.pdf", pdf, "application/pdf")],
        message_id=new_message_id(domain_of(from_address)), date=now,
        headers={"X-Throughline-Invoice": invoice.number or str(invoice.id)})
    outgoing = outgoing_mail(message, MailCause(CAUSE_KIND, mail_id))
    row = {"id": mail_id, "invoice_id": invoice.id, "kind": kind.value, "reminder_id": reminder_id,
           "message_id": outgoing.message_id, "to_addresses": list(to), "subject": outgoing.subject,
           "status": MailState.QUEUED.value, "error": None, "sent_by": sent_by, "finished_at": None,
           "created_at": now, "updated_at": now}
    await MailingRepository(uow.session).add_mails([row])
    await stage_mail(uow.session, MAIL_OUTBOX, outgoing)
    return row


async def send_invoice(uow: UnitOfWork, documents: UnitsOfWork, invoice_id: uuid.UUID, body: SendIn,
                       principal: Principal) -> dict[str, Any]:
    """Send an issued invoice: its mail staged, its history row, `invoice.sent` and its client-page link, in one
    transaction. 409 for a draft or a void invoice, 422 without a recipient or for a template that fails."""
    settings = get_settings()
    to = _check_recipients(body.to) if body.to else None
    # The PDF first, in units of work of its own (rendered and kept the first time), before this request's
    # transaction takes a connection; then the invoice locked.
    kept = await pdf_of(documents, invoice_id, check=_issued)
    pdf = kept.pdf
    invoice = await locked_invoice(uow, invoice_id, lines=False)  # the mail needs none of its lines
    _sendable(invoice)
    if kept.revision != invoice.document_revision:
        raise Conflict(f"Invoice {invoice.number} changed while it was being sent; send it again.",
                       type_slug="invoice-changed")
    client = await _client(uow, invoice)
    if to is None:
        to = await default_recipients(uow, client)
        if not to:
            raise Unprocessable(f"The client {client.name} has no e-mail address (nor any contact with one): name "
                                "the recipients in `to`, or set the client's e-mail.", type_slug="no-recipient",
                                errors=[{"field": "to", "message": "no recipient", "type": "missing"}])
    link = public_url(settings, invoice.id)
    company_name = kept.seller_name or "Accounts"
    subject, text = body.subject, body.body
    if subject is None or text is None:
        rendered = (await templates(uow)).render("invoice", invoice_context(invoice, client, company_name, link))
        subject = subject if subject is not None else rendered.subject
        text = text if text is not None else rendered.text
    row = await stage_invoice_mail(uow, invoice=invoice, pdf=pdf, company_name=company_name, to=to, subject=subject,
                                   text=text, kind=MailKind.INVOICE, reminder_id=None, sent_by=principal.user_id)
    now = row["created_at"]
    invoice.public_url, invoice.sent_at = link, now
    assert invoice.number is not None  # issued
    invoice.record(InvoiceSentV1(
        invoice_id=invoice.id, number=invoice.number, company_id=client.crm_company_id, client_id=client.id,
        project_id=invoice.project_id, deal_id=invoice.deal_id, currency=invoice.currency, mail_id=row["id"],
        message_id=row["message_id"], to=to, subject=row["subject"],
        total=round_money(invoice.total, invoice.currency),
        balance_due=round_money(invoice.balance_due, invoice.currency), sent_by=principal.user_id, sent_at=now))
    await uow.commit()
    return {**row, "public_url": link}


async def mail_draft(uow: UnitOfWork, invoice_id: uuid.UUID) -> dict[str, Any]:
    """What the send dialog starts from: the default recipients and the template rendered for this invoice."""
    invoice = await get_invoice(uow, invoice_id)
    _sendable(invoice)
    client = await _client(uow, invoice)
    doc, _ = await content(uow, invoice_id)
    link = invoice.public_url or public_url(get_settings(), invoice.id)
    rendered = (await templates(uow)).render("invoice", invoice_context(invoice, client, _company_name(doc), link))
    return {"to": await default_recipients(uow, client), "subject": rendered.subject, "body": rendered.text}


async def mails_of(uow: UnitOfWork, invoice_id: uuid.UUID) -> list[InvoiceMail]:
    await get_invoice(uow, invoice_id)
    return await MailingRepository(uow.session).of_invoice(invoice_id)


# --- outcomes --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderOutcome:
    reminder_id: uuid.UUID
    status: MailState
    error: str | None


async def record_outcomes(uow: UnitOfWork, outcomes: list[MailOutcome]) -> list[ReminderOutcome]:
    """What became of a batch of ERP mails, on each invoice's mail history (the sender stamps the outbox rows in
    this transaction, so each outcome is recorded once). Returns the reminders' outcomes, for erp.reminders."""
    ours = [o for o in outcomes if o.cause.kind == CAUSE_KIND]
    if not ours:
        return []
    rows = await MailingRepository(uow.session).record(
        [o.cause.id for o in ours], [_state(o.status).value for o in ours], [o.error for o in ours])
    for row in rows:
        if row["status"] in (MailState.FAILED, MailState.BOUNCED):  # the sales side hears of a mail that never came
            uow.record(InvoiceDeliveryFailedV1(
                invoice_id=row["invoice_id"], number=row["number"], company_id=row["company_id"],
                client_id=row["client_id"], project_id=row["project_id"], deal_id=row["deal_id"],
                currency=row["currency"], mail_id=row["id"], message_id=row["message_id"], mail_kind=row["kind"],
                outcome=row["status"], recipients=list(row["to_addresses"]), error=row["error"],
                failed_at=row["finished_at"]), Cause(None, None))
    return [ReminderOutcome(row["reminder_id"], MailState(row["status"]), row["error"])
            for row in rows if row["reminder_id"] is not None]


def _state(status: MailStatus) -> MailState:
    return {MailStatus.SENT: MailState.SENT, MailStatus.BOUNCED: MailState.BOUNCED}.get(status, MailState.FAILED)


# --- the client's page -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicInvoice:
    doc: InvoiceContent
    status: str
    balance_due: Decimal
    is_credit_note: bool


async def public_invoice(uow: UnitOfWork, token: str) -> PublicInvoice:
    """The invoice a genuine, unexpired link opens: 403 for a forged or altered one, 410 for an expired one."""
    invoice_id = verify_link(token)
    invoice = await get_invoice(uow, invoice_id)
    if invoice.status == InvoiceStatus.DRAFT:  # cannot happen for a link we sent; show nothing if it does
        raise LinkForbidden("This link is not valid.")
    doc, _ = await content(uow, invoice_id)
    return PublicInvoice(doc=doc, status=invoice.status, balance_due=round_money(invoice.balance_due, invoice.currency),
                         is_credit_note=invoice.kind == InvoiceKind.CREDIT_NOTE)


async def public_pdf(documents: UnitsOfWork, token: str) -> tuple[str, bytes]:
    invoice_id = verify_link(token)
    kept = await pdf_of(documents, invoice_id, check=_not_a_draft)
    return f"{kept.number}.pdf", kept.pdf


def _not_a_draft(doc: KeptPdf) -> None:
    if doc.is_draft:  # cannot happen for a link we sent; show nothing if it does
        raise LinkForbidden("This link is not valid.")


def verify_link(token: str) -> uuid.UUID:
    return verified(get_settings().link_signer(), token, LINK_PURPOSE,
                    invalid="This link is not valid: it was not made by us, or it was changed.",
                    expired="This link has expired. Ask us for the invoice again and we will send a new link.").subject
