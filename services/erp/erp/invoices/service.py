"""Invoices: drafts, issue with gap-free numbering, payments, void, credit notes."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from erp.clients.api import Client, ClientRepository
from erp.clock import today
from erp.db import utcnow
from erp.invoices.billed_work import BILLED_WORK
from erp.invoices.models import OPEN_STATUSES, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, LineKind, Payment
from erp.invoices.repository import InvoiceRepository
from erp.invoices.rules import (
    LineAmounts,
    balance,
    format_number,
    line_amounts,
    payment_reference,
    settled_status,
    totals,
)
from erp.invoices.schemas import CreditNoteIn, InvoiceIn, InvoicePatch, LineIn, PaymentIn
from erp.projects.api import Project, ProjectRepository
from erp.settings import get_settings
from throughline_events import money
from throughline_events.erp import InvoiceIssuedV1, InvoicePaidV1, InvoiceVoidedV1, PaymentRecordedV1
from throughline_events.money import ZERO, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, NotFound, Unprocessable


@dataclass(frozen=True)
class LineSpec:
    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal = ZERO
    kind: LineKind = LineKind.SERVICE
    schedule_item_id: uuid.UUID | None = None
    expense_id: uuid.UUID | None = None


def specs_of(lines: list[LineIn], currency: str) -> list[LineSpec]:
    """The request's lines, each unit price no finer than the currency's minor unit (a JPY price has no decimals:
    the document shows it, and nobody can pay a fraction of a yen)."""
    return [LineSpec(line.description, line.quantity, check_amount(line.unit_price, currency, "unit_price"),
                     line.tax_rate) for line in lines]


def set_lines(invoice: Invoice, specs: list[LineSpec]) -> list[InvoiceLine]:
    """Replace the invoice's lines and recompute its totals (each line rounded, totals = sums)."""
    invoice.lines = []
    for spec in specs:
        append_line(invoice, spec)
    return invoice.lines


def append_line(invoice: Invoice, spec: LineSpec) -> InvoiceLine:
    amounts = line_amounts(spec.quantity, spec.unit_price, spec.tax_rate, invoice.currency)
    line = InvoiceLine(
        id=uuid.uuid4(), invoice_id=invoice.id, position=len(invoice.lines) + 1, kind=spec.kind,
        description=spec.description[:500], quantity=spec.quantity, unit_price=spec.unit_price,
        tax_rate=spec.tax_rate, net_amount=amounts.net, tax_amount=amounts.tax, total_amount=amounts.total,
        schedule_item_id=spec.schedule_item_id, expense_id=spec.expense_id,
    )
    invoice.lines.append(line)
    summed = totals([LineAmounts(x.net_amount, x.tax_amount, x.total_amount) for x in invoice.lines])
    invoice.subtotal, invoice.tax_total, invoice.total = summed.subtotal, summed.tax_total, summed.total
    invoice.balance_due = balance(invoice.total, invoice.amount_paid, invoice.amount_credited)
    return line


def new_invoice(*, client: Client, project: Project | None, currency: str, payment_terms_days: int | None,
                late_fee_percent: Decimal | None, notes: str | None, created_by: str | None,
                kind: InvoiceKind = InvoiceKind.INVOICE) -> Invoice:
    settings = get_settings()
    return Invoice(
        id=uuid.uuid4(), kind=kind, status=InvoiceStatus.DRAFT, client_id=client.id,
        project_id=project.id if project else None, deal_id=project.deal_id if project else None,
        currency=currency,
        payment_terms_days=payment_terms_days if payment_terms_days is not None else client.payment_terms_days,
        late_fee_percent=late_fee_percent if late_fee_percent is not None else settings.late_fee_percent,
        notes=notes, created_by=created_by, lines=[], subtotal=ZERO, tax_total=ZERO, total=ZERO,
        amount_paid=ZERO, amount_credited=ZERO, balance_due=ZERO,
    )


def check_currency(currency: str) -> None:
    """The money module's currency rule, answered as a 422."""
    try:
        money.check_currency(currency)
    except ValueError as exc:
        raise Unprocessable(f"{exc}.") from None


def check_amount(amount: Decimal, currency: str, field: str) -> Decimal:
    """The money module's amount rule (no finer than the currency's minor unit), answered as a 422."""
    try:
        return money.check_amount(amount, currency, field=field)
    except ValueError as exc:
        raise Unprocessable(f"{exc}.") from None


async def create_draft(uow: UnitOfWork, body: InvoiceIn, principal: Principal) -> Invoice:
    project = None
    if body.project_id is not None:
        project = await ProjectRepository(uow.session).get(body.project_id)
        if project is None:
            raise Unprocessable(f"Project {body.project_id} does not exist.")
        if body.client_id is not None and body.client_id != project.client_id:
            raise Unprocessable(f"Project {project.id} belongs to client {project.client_id}, not {body.client_id}.")
    client_id = body.client_id or (project.client_id if project else None)
    if client_id is None:
        raise Unprocessable("Name the client_id or the project_id of the invoice.")
    client = await ClientRepository(uow.session).get(client_id)
    if client is None:
        raise Unprocessable(f"Client {client_id} does not exist.")
    currency = body.currency or (project.currency if project else None) or client.currency
    if currency is None:
        raise Unprocessable("Give the currency: neither a project nor the client defines one.")
    check_currency(currency)
    if project is not None and currency != project.currency:
        raise Unprocessable(f"Project {project.id} is billed in {project.currency}, not {currency}.")
    invoice = new_invoice(client=client, project=project, currency=currency,
                          payment_terms_days=body.payment_terms_days, late_fee_percent=body.late_fee_percent,
                          notes=body.notes, created_by=principal.user_id)
    set_lines(invoice, specs_of(body.lines, currency))
    InvoiceRepository(uow.session).add(invoice)
    await uow.commit()
    return invoice


async def get_invoice(uow: UnitOfWork, invoice_id: uuid.UUID) -> Invoice:
    invoice = await InvoiceRepository(uow.session).get(invoice_id)
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} does not exist.")
    return invoice


@dataclass(frozen=True)
class InvoiceDocument:
    """What a printed invoice shows: the invoice, whom it bills, its payments, the invoice a credit note credits."""

    invoice: Invoice
    client: Client
    payments: list[Payment]
    credited_number: str | None


async def document(uow: UnitOfWork, invoice_id: uuid.UUID) -> InvoiceDocument:
    invoice = await get_invoice(uow, invoice_id)
    repo = InvoiceRepository(uow.session)
    payments, _ = await repo.payments_of(invoice_id, 1000, 0)
    credited = await repo.get(invoice.credit_of_id) if invoice.credit_of_id else None
    return InvoiceDocument(invoice, await _client(uow, invoice), payments, credited.number if credited else None)


async def locked_invoice(uow: UnitOfWork, invoice_id: uuid.UUID) -> Invoice:
    """The invoice, its row locked until the transaction ends (404 if there is none)."""
    invoice = await InvoiceRepository(uow.session).get(invoice_id, for_update=True)
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} does not exist.")
    return invoice


async def update_draft(uow: UnitOfWork, invoice_id: uuid.UUID, body: InvoicePatch) -> Invoice:
    invoice = await locked_invoice(uow, invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(f"Invoice {invoice.number} is {invoice.status}: only drafts can be changed.")
    changes = body.model_dump(exclude_unset=True, exclude={"lines"})
    for field, value in changes.items():
        if field == "payment_terms_days" and value is None:
            raise Unprocessable("payment_terms_days cannot be null.")
        setattr(invoice, field, value)
    if body.lines is not None:
        invoice.lines.clear()
        await uow.session.flush()  # the old lines go before new ones take their positions
        set_lines(invoice, specs_of(body.lines, invoice.currency))
    await uow.commit()
    return invoice


async def delete_draft(uow: UnitOfWork, invoice_id: uuid.UUID) -> None:
    invoice = await locked_invoice(uow, invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(f"Invoice {invoice.number} is {invoice.status}: only drafts can be deleted (void it).")
    await BILLED_WORK.release(uow, invoice)
    await InvoiceRepository(uow.session).delete(invoice)
    await uow.commit()


async def issue_invoice(uow: UnitOfWork, invoice: Invoice, on: date) -> None:
    """Number and issue a draft inside the caller's transaction (the caller holds the invoice row)."""
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(f"Invoice {invoice.id} is already {invoice.status} ({invoice.number}).")
    if invoice.total <= ZERO:
        raise Unprocessable("An invoice must total more than zero to be issued.")
    settings = get_settings()
    sequence = await InvoiceRepository(uow.session).next_number(settings.invoice_prefix, on.year)
    invoice.number = format_number(settings.invoice_prefix, on.year, sequence)
    invoice.payment_reference = payment_reference(invoice.number)
    invoice.status = InvoiceStatus.ISSUED
    invoice.issue_date = on
    invoice.due_date = on + timedelta(days=invoice.payment_terms_days)
    invoice.issued_at = utcnow()
    invoice.balance_due = balance(invoice.total, invoice.amount_paid, invoice.amount_credited)
    client = await _client(uow, invoice)
    invoice.record(InvoiceIssuedV1(
        invoice_id=invoice.id, number=invoice.number, company_id=client.crm_company_id, client_id=client.id,
        project_id=invoice.project_id, deal_id=invoice.deal_id, currency=invoice.currency,
        total=round_money(invoice.total, invoice.currency), issue_date=on, due_date=invoice.due_date,
        issued_at=invoice.issued_at,
    ))


async def issue(uow: UnitOfWork, invoice_id: uuid.UUID) -> Invoice:
    invoice = await locked_invoice(uow, invoice_id)
    if invoice.kind != InvoiceKind.INVOICE:
        raise Conflict("A credit note is issued when it is created.")
    await issue_invoice(uow, invoice, today())
    await uow.commit()
    return invoice


async def _client(uow: UnitOfWork, invoice: Invoice) -> Client:
    client = await ClientRepository(uow.session).get(invoice.client_id)
    assert client is not None  # foreign key
    return client


def _not_open(invoice: Invoice, action: str) -> Conflict:
    reasons: dict[str, str] = {
        InvoiceStatus.DRAFT: "it is a draft (issue it first)", InvoiceStatus.PAID: "it is paid in full",
        InvoiceStatus.CREDITED: "it is fully credited", InvoiceStatus.VOID: "it is void"}
    label = invoice.number or str(invoice.id)
    return Conflict(f"Cannot {action} invoice {label}: {reasons.get(invoice.status, invoice.status)}.",
                    invoice_status=invoice.status)


async def record_payment(uow: UnitOfWork, invoice_id: uuid.UUID, body: PaymentIn,
                         principal: Principal) -> tuple[Payment, Invoice]:
    invoice = await locked_invoice(uow, invoice_id)
    if invoice.kind != InvoiceKind.INVOICE:
        raise Conflict("Payments are recorded against invoices, not credit notes.")
    if invoice.status not in OPEN_STATUSES:
        raise _not_open(invoice, "record a payment on")
    if body.currency is not None and body.currency != invoice.currency:
        raise Unprocessable(f"Invoice {invoice.number} is in {invoice.currency}; the payment is in {body.currency}.")
    check_amount(body.amount, invoice.currency, "amount")
    if body.amount > invoice.balance_due:
        due = round_money(invoice.balance_due, invoice.currency)
        raise Unprocessable(f"The payment of {body.amount} {invoice.currency} is more than the balance due "
                            f"({due} {invoice.currency}): overpayments are refused.",
                            type_slug="overpayment", balance_due=str(due))
    paid_on = body.paid_on or today()
    if paid_on > today():
        raise Unprocessable(f"paid_on {paid_on} is in the future.")
    payment = Payment(id=uuid.uuid4(), invoice_id=invoice.id, amount=body.amount, currency=invoice.currency,
                      paid_on=paid_on, method=body.method, reference=body.reference,
                      recorded_by=principal.user_id)
    InvoiceRepository(uow.session).add(payment)
    invoice.amount_paid += body.amount
    await _settle(uow, invoice)
    client = await _client(uow, invoice)
    assert invoice.number is not None
    invoice.record(PaymentRecordedV1(
        invoice_id=invoice.id, number=invoice.number, company_id=client.crm_company_id, client_id=client.id,
        project_id=invoice.project_id, deal_id=invoice.deal_id, currency=invoice.currency, payment_id=payment.id,
        amount=round_money(body.amount, invoice.currency), method=body.method, paid_on=paid_on,
        balance_due=round_money(invoice.balance_due, invoice.currency), recorded_at=utcnow(),
    ))
    await _record_paid_if_settled(uow, invoice, client)
    await uow.commit()
    return payment, invoice


async def _settle(uow: UnitOfWork, invoice: Invoice) -> None:
    invoice.balance_due = balance(invoice.total, invoice.amount_paid, invoice.amount_credited)
    invoice.status = settled_status(invoice.total, invoice.amount_paid, invoice.amount_credited)


async def _record_paid_if_settled(uow: UnitOfWork, invoice: Invoice, client: Client) -> None:
    if invoice.status == InvoiceStatus.PAID and invoice.paid_at is None:
        invoice.paid_at = utcnow()
        assert invoice.number is not None
        invoice.record(InvoicePaidV1(
            invoice_id=invoice.id, number=invoice.number, company_id=client.crm_company_id, client_id=client.id,
            project_id=invoice.project_id, deal_id=invoice.deal_id, currency=invoice.currency,
            total=round_money(invoice.total, invoice.currency), paid_at=invoice.paid_at,
        ))


async def void(uow: UnitOfWork, invoice_id: uuid.UUID, reason: str | None) -> Invoice:
    invoice = await locked_invoice(uow, invoice_id)
    if invoice.kind != InvoiceKind.INVOICE:
        raise Conflict("A credit note cannot be voided.")
    if invoice.status == InvoiceStatus.DRAFT:
        raise Conflict("A draft has no number to void: delete it instead.", invoice_status=InvoiceStatus.DRAFT)
    if invoice.status == InvoiceStatus.VOID:
        raise Conflict(f"Invoice {invoice.number} is already void.", invoice_status=InvoiceStatus.VOID)
    if invoice.amount_paid > ZERO:
        raise Conflict(f"Invoice {invoice.number} has payments ({round_money(invoice.amount_paid, invoice.currency)} "
                       f"{invoice.currency}): only an invoice without payments can be voided; issue a credit note.",
                       type_slug="has-payments", invoice_status=invoice.status)
    if invoice.amount_credited > ZERO:
        raise Conflict(f"Invoice {invoice.number} has credit notes: it cannot be voided.",
                       type_slug="has-credit-notes", invoice_status=invoice.status)
    invoice.status = InvoiceStatus.VOID
    invoice.voided_at = utcnow()
    invoice.void_reason = reason
    invoice.balance_due = ZERO
    await BILLED_WORK.release(uow, invoice)
    client = await _client(uow, invoice)
    assert invoice.number is not None
    invoice.record(InvoiceVoidedV1(
        invoice_id=invoice.id, number=invoice.number, company_id=client.crm_company_id, client_id=client.id,
        project_id=invoice.project_id, deal_id=invoice.deal_id, currency=invoice.currency,
        total=round_money(invoice.total, invoice.currency), reason=reason, voided_at=invoice.voided_at,
    ))
    await uow.commit()
    return invoice


async def credit_note(uow: UnitOfWork, invoice_id: uuid.UUID, body: CreditNoteIn,
                      principal: Principal) -> Invoice:
    original = await locked_invoice(uow, invoice_id)
    if original.kind != InvoiceKind.INVOICE:
        raise Conflict("A credit note cannot itself be credited.")
    if original.status not in OPEN_STATUSES:
        raise _not_open(original, "credit")
    client = await _client(uow, original)
    project = await ProjectRepository(uow.session).get(original.project_id) if original.project_id else None
    note = new_invoice(client=client, project=project, currency=original.currency, payment_terms_days=0,
                       late_fee_percent=None, notes=body.reason, created_by=principal.user_id,
                       kind=InvoiceKind.CREDIT_NOTE)
    note.credit_of_id = original.id
    note.late_fee_percent = None
    if body.lines is not None:
        specs = [LineSpec(s.description, s.quantity, s.unit_price, s.tax_rate, kind=LineKind.CREDIT)
                 for s in specs_of(body.lines, original.currency)]
    else:
        assert body.amount is not None
        check_amount(body.amount, original.currency, "amount")
        specs = [LineSpec(f"Credit on invoice {original.number}", Decimal(1), body.amount, kind=LineKind.CREDIT)]
    set_lines(note, specs)
    if note.total > original.balance_due:
        due = round_money(original.balance_due, original.currency)
        raise Unprocessable(f"The credit note totals {round_money(note.total, note.currency)} {note.currency}, "
                            f"more than the balance due of {original.number} ({due} {original.currency}).",
                            balance_due=str(due))
    on = today()
    settings = get_settings()
    sequence = await InvoiceRepository(uow.session).next_number(settings.credit_note_prefix, on.year)
    note.number = format_number(settings.credit_note_prefix, on.year, sequence)
    note.status, note.issue_date, note.due_date, note.issued_at = InvoiceStatus.ISSUED, on, on, utcnow()
    note.balance_due = ZERO
    InvoiceRepository(uow.session).add(note)
    original.amount_credited += note.total
    await _settle(uow, original)
    await _record_paid_if_settled(uow, original, client)
    await uow.commit()
    return note


async def time_billed_on_project(uow: UnitOfWork, project_id: uuid.UUID) -> Decimal:
    """Net billed for a project's time so far (time lines and cap adjustments of its live invoices): what a
    time-and-materials cap is measured against."""
    return await InvoiceRepository(uow.session).net_billed(
        project_id, (LineKind.TIME, LineKind.CAP_ADJUSTMENT))
