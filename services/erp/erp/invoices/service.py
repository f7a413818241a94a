"""Invoices: drafts, issue with gap-free numbering, payments, void, credit notes."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

from erp.clients.api import Client, ClientRepository, bill_to, default_tax
from erp.clock import today
from erp.company.api import current_seller
from erp.company.api import defaults as company_defaults
from erp.db import utcnow
from erp.invoices.billed_work import BILLED_WORK
from erp.invoices.models import OPEN_STATUSES, Invoice, InvoiceKind, InvoiceLine, InvoiceStatus, LineKind, Payment
from erp.invoices.repository import InvoiceRepository
from erp.invoices.rules import (
    LineAmounts,
    TaxedLine,
    balance,
    format_number,
    line_amounts,
    line_taxes,
    payment_reference,
    settled_status,
    totals,
)
from erp.invoices.schemas import CreditNoteIn, InvoiceIn, InvoicePatch, LineIn, PaymentIn
from erp.ledger import api as ledger
from erp.projects.api import Project, ProjectRepository
from erp.settings import get_settings
from erp.taxes.api import EN16931_CODE, TaxChoice, choice_of, fallback_choice
from throughline_events import EventPayload, money
from throughline_events.erp import InvoiceIssuedV1, InvoicePaidV1, InvoiceVoidedV1, PaymentRecordedV1
from throughline_events.money import ZERO, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.problems import Conflict, NotFound, Unprocessable

# Lines that bill work (a schedule item, time, an expense): removing one from a draft would strand that work, so a
# PATCH keeps them (by id); deleting the draft gives the work back.
BILLED_WORK_KINDS = frozenset({LineKind.SCHEDULE, LineKind.TIME, LineKind.EXPENSE})


@dataclass(frozen=True)
class LineSpec:
    """A line to write. Its tax: `tax` (a rate, resolved by the caller), else `tax_rate` as a bare percent."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal = ZERO
    kind: LineKind = LineKind.SERVICE
    schedule_item_id: uuid.UUID | None = None
    expense_id: uuid.UUID | None = None
    tax: TaxChoice | None = None


class _ClientTax:
    """The client's default tax, looked up once and only if a line needs it."""

    def __init__(self, uow: UnitOfWork, client: Client) -> None:
        self.uow, self.client = uow, client
        self.choice: TaxChoice | None = None

    async def get(self) -> TaxChoice:
        if self.choice is None:
            self.choice = await default_tax(self.uow, self.client)
        return self.choice


async def tax_of(uow: UnitOfWork, line: LineIn, index: int, client_tax: _ClientTax) -> TaxChoice:
    """A requested line's tax: the rate it names, a bare percent, or the client's default."""
    if line.tax_rate_id is not None:
        return await choice_of(uow, line.tax_rate_id, field=f"lines.{index}.tax_rate_id")
    if line.tax_rate is not None:
        return fallback_choice(line.tax_rate)
    return await client_tax.get()


async def specs_of(uow: UnitOfWork, client: Client, lines: list[LineIn], currency: str,
                   kind: LineKind = LineKind.SERVICE) -> list[LineSpec]:
    client_tax = _ClientTax(uow, client)
    specs = []
    for index, line in enumerate(lines):
        if line.id is not None:
            raise Unprocessable(f"lines.{index}.id: only a PATCH of a draft names existing lines.",
                                errors=[{"field": f"lines.{index}.id", "message": "not allowed here",
                                         "type": "line_id"}])
        tax = await tax_of(uow, line, index, client_tax)
        # Each unit price no finer than the currency's minor unit (a JPY price has no decimals: the document shows
        # it, and nobody can pay a fraction of a yen).
        unit_price = check_amount(line.unit_price, currency, f"lines.{index}.unit_price")
        specs.append(LineSpec(line.description, line.quantity, unit_price, tax.percent, kind=kind, tax=tax))
    return specs


def set_lines(invoice: Invoice, specs: list[LineSpec]) -> list[InvoiceLine]:
    """Replace the invoice's lines and recompute its totals (each line rounded, totals = sums)."""
    invoice.lines = []
    for spec in specs:
        append_line(invoice, spec)
    return invoice.lines


def append_line(invoice: Invoice, spec: LineSpec) -> InvoiceLine:
    """Add a line at the end and update the totals. A line added last takes its rate's tax from the running sum
    (see `rules.line_taxes`), which leaves every earlier line's share as it was: so no line already there changes,
    on a draft or on an issued invoice (a reminder's late fee). On an issued invoice the document revision goes up:
    its printed document is rendered again, the earlier one kept."""
    tax = spec.tax or fallback_choice(spec.tax_rate)
    line = InvoiceLine(
        id=uuid.uuid4(), invoice_id=invoice.id, position=len(invoice.lines) + 1, kind=spec.kind,
        description=spec.description[:500], quantity=spec.quantity, unit_price=spec.unit_price,
        schedule_item_id=spec.schedule_item_id, expense_id=spec.expense_id,
    )
    _set_tax(line, tax)
    code = EN16931_CODE[line.tax_category]
    before = sum((x.net_amount for x in invoice.lines
                  if EN16931_CODE[x.tax_category] == code and x.tax_rate == line.tax_rate), ZERO)
    line.net_amount = line_amounts(line.quantity, line.unit_price, ZERO, invoice.currency).net
    line.tax_amount = line_taxes([TaxedLine(before, code, line.tax_rate), TaxedLine(line.net_amount, code,
                                                                                    line.tax_rate)],
                                 invoice.currency)[1]
    line.total_amount = line.net_amount + line.tax_amount
    invoice.lines.append(line)
    invoice.subtotal += line.net_amount
    invoice.tax_total += line.tax_amount
    invoice.total += line.total_amount
    invoice.balance_due = balance(invoice.total, invoice.amount_paid, invoice.amount_credited)
    if invoice.status != InvoiceStatus.DRAFT:
        invoice.document_revision = (invoice.document_revision or 1) + 1
    return line


def _set_tax(line: InvoiceLine, tax: TaxChoice) -> None:
    line.tax_rate, line.tax_rate_id, line.tax_category, line.tax_note = tax.percent, tax.rate_id, tax.category, tax.note


def recompute(invoice: Invoice) -> None:
    """Every line's net, its share of its rate's tax, and the invoice's totals (see `rules`): for a draft whose
    lines were changed in place."""
    for line in invoice.lines:
        line.net_amount = line_amounts(line.quantity, line.unit_price, ZERO, invoice.currency).net
    taxes = line_taxes([TaxedLine(line.net_amount, EN16931_CODE[line.tax_category], line.tax_rate)
                        for line in invoice.lines], invoice.currency)
    for line, tax in zip(invoice.lines, taxes, strict=True):
        line.tax_amount, line.total_amount = tax, line.net_amount + tax
    summed = totals([LineAmounts(x.net_amount, x.tax_amount, x.total_amount) for x in invoice.lines])
    invoice.subtotal, invoice.tax_total, invoice.total = summed.subtotal, summed.tax_total, summed.total
    invoice.balance_due = balance(invoice.total, invoice.amount_paid, invoice.amount_credited)


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
        currency = (await company_defaults(uow))[1]
    if currency is None:
        raise Unprocessable("Give the currency: neither a project, the client nor the company profile defines one.")
    check_currency(currency)
    if project is not None and currency != project.currency:
        raise Unprocessable(f"Project {project.id} is billed in {project.currency}, not {currency}.")
    invoice = new_invoice(client=client, project=project, currency=currency,
                          payment_terms_days=body.payment_terms_days, late_fee_percent=body.late_fee_percent,
                          notes=body.notes, created_by=principal.user_id)
    set_lines(invoice, await specs_of(uow, client, body.lines, currency))
    InvoiceRepository(uow.session).add(invoice)
    await uow.commit()
    return invoice


async def get_invoice(uow: UnitOfWork, invoice_id: uuid.UUID, *, lines: bool = True) -> Invoice:
    """The invoice (404 if there is none); `lines=False` leaves its lines unloaded (touching them raises)."""
    invoice = await InvoiceRepository(uow.session).get(invoice_id, lines=lines)
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} does not exist.")
    return invoice


async def credited_number(uow: UnitOfWork, invoice: Invoice) -> str | None:
    """The number of the invoice a credit note credits."""
    credited = await InvoiceRepository(uow.session).get(invoice.credit_of_id) if invoice.credit_of_id else None
    return credited.number if credited else None


async def locked_invoice(uow: UnitOfWork, invoice_id: uuid.UUID, *, lines: bool = True) -> Invoice:
    """The invoice, its row locked until the transaction ends (404 if there is none). `lines=False` leaves its
    lines unloaded (touching them raises): for work on the invoice's own columns, such as sending it."""
    invoice = await InvoiceRepository(uow.session).get(invoice_id, for_update=True, lines=lines)
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
        await _replace_lines(uow, invoice, body.lines)
    await uow.commit()
    return invoice


async def _replace_lines(uow: UnitOfWork, invoice: Invoice, lines: list[LineIn]) -> None:
    """The draft's lines become `lines`, in that order: a line with an `id` is changed in place (it keeps its kind
    and what it bills, and its tax unless a new one is given), a line without is added, a line left out is
    removed, unless it bills work (409: delete the draft to give the work back)."""
    existing = {line.id: line for line in invoice.lines}
    named = [line.id for line in lines if line.id is not None]
    for index, line in enumerate(lines):
        if line.id is not None and line.id not in existing:
            raise Unprocessable(f"lines.{index}.id: {line.id} is not a line of this invoice.",
                                errors=[{"field": f"lines.{index}.id", "message": "not a line of this invoice",
                                         "type": "line_id"}])
    if len(set(named)) != len(named):
        raise Unprocessable("A line is named twice.")
    for index, line in enumerate(lines):  # each unit price no finer than the currency's minor unit
        check_amount(line.unit_price, invoice.currency, f"lines.{index}.unit_price")
    dropped = [line for line in invoice.lines if line.id not in set(named)]
    stranded = [line for line in dropped if line.kind in BILLED_WORK_KINDS]
    if stranded:
        raise Conflict(f"Line {stranded[0].position} ({stranded[0].description!r}) bills {stranded[0].kind} work: "
                       "keep it (name its id) or delete the draft to give the work back.", type_slug="billed-line")
    client = await _client(uow, invoice)
    client_tax = _ClientTax(uow, client)
    taxes = [await tax_of(uow, line, index, client_tax) if line.id is None or line.tax_rate_id is not None
             or line.tax_rate is not None else None for index, line in enumerate(lines)]
    for row in dropped:
        invoice.lines.remove(row)
    await uow.session.flush()  # removed lines go, and kept ones move aside, before the new positions are taken
    for offset, row in enumerate(invoice.lines, start=len(existing) + len(lines) + 1):
        row.position = offset
    await uow.session.flush()
    kept: list[InvoiceLine] = []
    for position, (line, tax) in enumerate(zip(lines, taxes, strict=True), start=1):
        if line.id is not None:
            row = existing[line.id]
            row.description, row.quantity, row.unit_price = line.description, line.quantity, line.unit_price
        else:
            row = InvoiceLine(id=uuid.uuid4(), invoice_id=invoice.id, kind=LineKind.SERVICE,
                              description=line.description, quantity=line.quantity, unit_price=line.unit_price,
                              net_amount=ZERO, tax_amount=ZERO, total_amount=ZERO)
        if tax is not None:
            _set_tax(row, tax)
        row.position = position
        kept.append(row)
    invoice.lines = kept
    recompute(invoice)


async def delete_draft(uow: UnitOfWork, invoice_id: uuid.UUID) -> None:
    invoice = await locked_invoice(uow, invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict(f"Invoice {invoice.number} is {invoice.status}: only drafts can be deleted (void it).")
    await BILLED_WORK.release(uow, invoice)
    await InvoiceRepository(uow.session).delete(invoice)
    await uow.commit()


SellerSnapshot = dict[str, Any] | None


async def issue_invoice(uow: UnitOfWork, invoice: Invoice, on: date,
                        seller: SellerSnapshot | Literal["current"] = "current") -> None:
    """Number and issue a draft inside the caller's transaction (the caller holds the invoice row). The seller
    (the company profile, `seller`: fetched unless the caller, issuing many, passes it) and the bill-to are copied
    onto the invoice: what it prints from now on."""
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
    invoice.seller = await current_seller(uow) if seller == "current" else seller
    invoice.bill_to = bill_to(client)
    invoice.record(InvoiceIssuedV1(
        invoice_id=invoice.id, number=invoice.number, company_id=client.crm_company_id, client_id=client.id,
        project_id=invoice.project_id, deal_id=invoice.deal_id, currency=invoice.currency,
        total=round_money(invoice.total, invoice.currency), issue_date=on, due_date=invoice.due_date,
        issued_at=invoice.issued_at,
    ))
    await ledger.invoice_issued(uow, invoice, on)


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


def _not_open(invoice: "PayableInvoice", action: str) -> Conflict:
    reasons: dict[str, str] = {
        InvoiceStatus.DRAFT: "it is a draft (issue it first)", InvoiceStatus.PAID: "it is paid in full",
        InvoiceStatus.CREDITED: "it is fully credited", InvoiceStatus.VOID: "it is void"}
    label = invoice.number or str(invoice.id)
    return Conflict(f"Cannot {action} invoice {label}: {reasons.get(invoice.status, invoice.status)}.",
                    invoice_status=invoice.status)


async def record_payment(uow: UnitOfWork, invoice_id: uuid.UUID, body: PaymentIn,
                         principal: Principal) -> tuple[Payment, Invoice]:
    invoice = await locked_invoice(uow, invoice_id)
    payment = await apply_payment(uow, invoice, body.amount, body.paid_on or today(), body.method, body.reference,
                                  principal.user_id, currency=body.currency)
    await uow.commit()
    return payment, invoice


class PayableInvoice(Protocol):
    """What the payment rules read of an invoice: an `Invoice`, or the row of one that a set-based caller (bank
    reconciliation's import) reads and writes itself."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def number(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def amount_paid(self) -> Decimal: ...
    @property
    def amount_credited(self) -> Decimal: ...
    @property
    def balance_due(self) -> Decimal: ...
    @property
    def paid_at(self) -> datetime | None: ...
    @property
    def project_id(self) -> uuid.UUID | None: ...
    @property
    def deal_id(self) -> uuid.UUID | None: ...


def check_payment(invoice: PayableInvoice, amount: Decimal, paid_on: date, currency: str | None = None) -> None:
    """The payment rules, answered as problems: an issued or part-paid invoice (not a credit note), in its currency,
    no finer than its minor unit, never more than its balance due, never paid in the future."""
    if invoice.kind != InvoiceKind.INVOICE:
        raise Conflict("Payments are recorded against invoices, not credit notes.")
    if invoice.status not in OPEN_STATUSES:
        raise _not_open(invoice, "record a payment on")
    if currency is not None and currency != invoice.currency:
        raise Unprocessable(f"Invoice {invoice.number} is in {invoice.currency}; the payment is in {currency}.")
    check_amount(amount, invoice.currency, "amount")
    if amount > invoice.balance_due:
        due = round_money(invoice.balance_due, invoice.currency)
        raise Unprocessable(f"The payment of {amount} {invoice.currency} is more than the balance due "
                            f"({due} {invoice.currency}): overpayments are refused.",
                            type_slug="overpayment", balance_due=str(due))
    if paid_on > today():
        raise Unprocessable(f"paid_on {paid_on} is in the future.")


@dataclass(frozen=True)
class PaymentEffect:
    """What a payment (already checked) does to its invoice: the new ledger and status, when it was settled, and
    its events: `payment.recorded`, and `invoice.paid` when it settles the invoice."""

    amount_paid: Decimal
    balance_due: Decimal
    status: InvoiceStatus
    paid_at: datetime | None
    events: tuple[EventPayload, ...]


def payment_effect(invoice: PayableInvoice, client_id: uuid.UUID, company_id: uuid.UUID | None,
                   payment_id: uuid.UUID, amount: Decimal, paid_on: date, method: str, now: datetime) -> PaymentEffect:
    assert invoice.number is not None  # issued: checked by check_payment
    paid = invoice.amount_paid + amount
    balance_due = balance(invoice.total, paid, invoice.amount_credited)
    status = settled_status(invoice.total, paid, invoice.amount_credited)
    events: list[EventPayload] = [PaymentRecordedV1(
        invoice_id=invoice.id, number=invoice.number, company_id=company_id, client_id=client_id,
        project_id=invoice.project_id, deal_id=invoice.deal_id, currency=invoice.currency, payment_id=payment_id,
        amount=round_money(amount, invoice.currency), method=method, paid_on=paid_on,
        balance_due=round_money(balance_due, invoice.currency), recorded_at=now)]
    paid_at = invoice.paid_at
    if status == InvoiceStatus.PAID and paid_at is None:
        paid_at = now
        events.append(InvoicePaidV1(
            invoice_id=invoice.id, number=invoice.number, company_id=company_id, client_id=client_id,
            project_id=invoice.project_id, deal_id=invoice.deal_id, currency=invoice.currency,
            total=round_money(invoice.total, invoice.currency), paid_at=paid_at))
    return PaymentEffect(paid, balance_due, status, paid_at, tuple(events))


async def apply_payment(uow: UnitOfWork, invoice: Invoice, amount: Decimal, paid_on: date, method: str,
                        reference: str | None, recorded_by: str, *, currency: str | None = None) -> Payment:
    """Record a payment inside the caller's transaction (the caller holds the invoice row locked, and commits):
    the payment rules, the new balance and status, `payment.recorded` and, when settled, `invoice.paid`."""
    check_payment(invoice, amount, paid_on, currency)
    payment = Payment(id=uuid.uuid4(), invoice_id=invoice.id, amount=amount, currency=invoice.currency,
                      paid_on=paid_on, method=method, reference=reference, recorded_by=recorded_by)
    InvoiceRepository(uow.session).add(payment)
    client = await _client(uow, invoice)
    effect = payment_effect(invoice, client.id, client.crm_company_id, payment.id, amount, paid_on, method, utcnow())
    invoice.amount_paid, invoice.balance_due, invoice.status = effect.amount_paid, effect.balance_due, effect.status
    invoice.paid_at = effect.paid_at
    for event in effect.events:
        invoice.record(event)
    await ledger.payments_received(uow, [ledger.PaymentFact(
        payment.id, invoice.number, amount, invoice.currency, paid_on, invoice.client_id, invoice.project_id,
        invoice_id=invoice.id)])
    return payment


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
    await ledger.invoice_voided(uow, invoice, today())
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
        specs = await specs_of(uow, client, body.lines, original.currency, kind=LineKind.CREDIT)
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
    note.seller, note.bill_to = await current_seller(uow), bill_to(client)
    InvoiceRepository(uow.session).add(note)
    await ledger.credit_note_issued(uow, note, original.number, on)
    original.amount_credited += note.total
    await _settle(uow, original)
    if original.status == InvoiceStatus.CREDITED:
        # Credited in full, nothing paid: the invoice is cancelled as a void would cancel it, so the work it
        # billed (its time entries, expenses, schedule item) is unbilled again. A partial credit is a price
        # concession: the work stays billed on the invoice.
        await BILLED_WORK.release(uow, original)
    await _record_paid_if_settled(uow, original, client)
    await uow.commit()
    return note


async def time_billed_on_project(uow: UnitOfWork, project_id: uuid.UUID) -> Decimal:
    """Net billed for a project's time so far (time lines and cap adjustments of its live invoices): what a
    time-and-materials cap is measured against."""
    return await InvoiceRepository(uow.session).net_billed(
        project_id, (LineKind.TIME, LineKind.CAP_ADJUSTMENT))
