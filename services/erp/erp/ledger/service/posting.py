"""What each business fact posts (docs/erp-ledger.md has the table). The packages where the facts happen
(invoicing, bank reconciliation, expenses) call these through `erp.ledger.api` in the transaction of the change;
they pass their own objects, read here only through the small protocols below (the ledger is below them and
imports none of them).

Every posting is keyed by (source type, source id, kind): a replay of the same fact writes nothing.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from erp.ledger.chart import AccountRole, account_id
from erp.ledger.models import EntryKind, SourceType
from erp.ledger.repository import LedgerRepository
from erp.ledger.service.journal import Posted, Posting, PostingLine, base_and_rates, post_all, post_reversal
from erp.taxes.api import TaxCategory
from throughline_events.money import ZERO
from throughline_messaging.uow import UnitOfWork

LATE_FEE = "late_fee"  # erp.invoices' line kind of a reminder's fee


class InvoiceLineFact(Protocol):
    @property
    def description(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def net_amount(self) -> Decimal: ...
    @property
    def tax_amount(self) -> Decimal: ...
    @property
    def tax_rate(self) -> Decimal: ...
    @property
    def tax_category(self) -> str: ...


class InvoiceFact(Protocol):
    """An issued invoice or credit note as the ledger reads it (`erp.invoices.api.Invoice` is one)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def number(self) -> str | None: ...
    @property
    def currency(self) -> str: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def client_id(self) -> uuid.UUID: ...
    @property
    def project_id(self) -> uuid.UUID | None: ...
    @property
    def issue_date(self) -> date | None: ...
    @property
    def lines(self) -> Sequence[InvoiceLineFact]: ...


def revenue_account(line: InvoiceLineFact) -> AccountRole:
    if line.kind == LATE_FEE:
        return AccountRole.REVENUE_LATE_FEES
    if line.tax_category == TaxCategory.REVERSE_CHARGE:
        return AccountRole.REVENUE_REVERSE_CHARGE  # shown apart: the VAT report lists these sales on their own
    return AccountRole.REVENUE


def _sales_lines(invoice: InvoiceFact, lines: Iterable[InvoiceLineFact]) -> list[PostingLine]:
    """Revenue per line and output VAT per rate, as credits (an invoice's; a credit note swaps them)."""
    currency = invoice.currency
    # Each revenue line carries its VAT rate and category: the VAT report reads the taxable base per rate from
    # these lines (decision 180).
    result = [PostingLine(revenue_account(line), currency, credit=line.net_amount, description=line.description,
                          tax_rate=line.tax_rate, tax_category=line.tax_category)
              for line in lines if line.net_amount != ZERO]
    taxes: dict[tuple[Decimal, str], Decimal] = defaultdict(Decimal)
    for line in lines:
        taxes[(line.tax_rate, line.tax_category)] += line.tax_amount
    result += [PostingLine(AccountRole.VAT_OUTPUT, currency, credit=tax, tax_rate=rate, tax_category=category,
                           description=f"VAT {rate.normalize():f} %")
               for (rate, category), tax in taxes.items() if tax != ZERO]
    return result


def _swap(lines: Iterable[PostingLine]) -> list[PostingLine]:
    return [PostingLine(line.account, line.currency, debit=line.credit, credit=line.debit,
                        description=line.description, tax_rate=line.tax_rate, tax_category=line.tax_category)
            for line in lines]


def _negative_as_other_side(lines: Iterable[PostingLine]) -> list[PostingLine]:
    """A negative line (a cap adjustment takes money off an invoice) is the other side, positive."""
    return [PostingLine(line.account, line.currency, debit=-line.credit, credit=-line.debit,
                        description=line.description, tax_rate=line.tax_rate, tax_category=line.tax_category)
            if line.debit < ZERO or line.credit < ZERO else line for line in lines]


def invoice_issued_posting(invoice: InvoiceFact, on: date) -> Posting:
    """Accounts receivable debited with the total; revenue per line and output VAT per rate credited."""
    lines = [PostingLine(AccountRole.ACCOUNTS_RECEIVABLE, invoice.currency, debit=invoice.total,
                         description=f"Invoice {invoice.number}"), *_sales_lines(invoice, invoice.lines)]
    return Posting(SourceType.INVOICE, invoice.id, EntryKind.ISSUED, on, _negative_as_other_side(lines),
                   memo=f"Invoice {invoice.number} issued", client_id=invoice.client_id,
                   project_id=invoice.project_id)


async def invoice_issued(uow: UnitOfWork, invoice: InvoiceFact, on: date) -> list[Posted]:
    return await post_all(uow, [invoice_issued_posting(invoice, on)])


async def credit_note_issued(uow: UnitOfWork, note: InvoiceFact, credited_number: str | None,
                             on: date) -> list[Posted]:
    """The mirror of an invoice: revenue and output VAT debited, accounts receivable credited."""
    lines = [PostingLine(AccountRole.ACCOUNTS_RECEIVABLE, note.currency, credit=note.total,
                         description=f"Credit note {note.number} on {credited_number}"),
             *_swap(_sales_lines(note, note.lines))]
    return await post_all(uow, [Posting(
        SourceType.CREDIT_NOTE, note.id, EntryKind.ISSUED, on, _negative_as_other_side(lines),
        memo=f"Credit note {note.number} on invoice {credited_number}", client_id=note.client_id,
        project_id=note.project_id)])


async def invoice_voided(uow: UnitOfWork, invoice: InvoiceFact, on: date) -> Posted | None:
    """The reversal of the invoice's issue entry."""
    return await post_reversal(uow, source_type=SourceType.INVOICE, source_id=invoice.id, of_kind=EntryKind.ISSUED,
                               kind=EntryKind.VOIDED, fact_date=on, memo=f"Invoice {invoice.number} voided")


async def late_fee_added(uow: UnitOfWork, invoice: InvoiceFact, line_id: uuid.UUID, line: InvoiceLineFact,
                         on: date) -> list[Posted]:
    """A line added to an issued invoice (a reminder's late fee): receivable up by the line's total."""
    lines = [PostingLine(AccountRole.ACCOUNTS_RECEIVABLE, invoice.currency,
                         debit=line.net_amount + line.tax_amount, description=f"Invoice {invoice.number}"),
             *_sales_lines(invoice, [line])]
    return await post_all(uow, [Posting(
        SourceType.INVOICE_LINE, line_id, EntryKind.LATE_FEE, on, lines,
        memo=f"{line.description} on invoice {invoice.number}", client_id=invoice.client_id,
        project_id=invoice.project_id)])


@dataclass(frozen=True)
class PaymentFact:
    """A payment received on an invoice (the invoices' own row, or a bank import's)."""

    payment_id: uuid.UUID
    invoice_number: str | None
    amount: Decimal
    currency: str
    paid_on: date
    client_id: uuid.UUID | None
    project_id: uuid.UUID | None
    # The bank account it came into: a bank import's names its statement's account; a payment typed by hand, 1000.
    bank_account: AccountRole | uuid.UUID = AccountRole.BANK
    invoice_id: uuid.UUID | None = None  # its invoice: the receivable leaves the books at the invoice's rate


def payment_posting(payment: PaymentFact, receivable_rate: Decimal | None = None) -> Posting:
    """In the base currency, the bank at the payment day's rate and the receivable at `receivable_rate` (its
    invoice's): their difference is the realised exchange gain or loss (`journal.in_base`)."""
    return Posting(SourceType.PAYMENT, payment.payment_id, EntryKind.RECEIVED, payment.paid_on, [
        PostingLine(payment.bank_account, payment.currency, debit=payment.amount),
        PostingLine(AccountRole.ACCOUNTS_RECEIVABLE, payment.currency, credit=payment.amount,
                    rate=receivable_rate)],
        memo=f"Payment on invoice {payment.invoice_number}", client_id=payment.client_id,
        project_id=payment.project_id)


async def booked_rates(uow: UnitOfWork, facts: Sequence[tuple[uuid.UUID | None, str]], source_type: str,
                       kind: str, account: AccountRole) -> dict[uuid.UUID, Decimal]:
    """The rate at which each foreign fact's entry booked `account` (base over amount: an invoice's receivable, an
    expense's debt to its payer), so that settling it in full takes out exactly what it put in: one query, none
    when all (`facts`: source id and currency) are in the base currency. A fact booked unconverted (no rate that
    day) or before the ledger has none."""
    base, _ = await base_and_rates(uow.session, set())
    ids = {source_id for source_id, currency in facts if source_id is not None and currency != base}
    if base is None or not ids:
        return {}
    booked = await LedgerRepository(uow.session).booked(list(ids), source_type, kind, account_id(account))
    return {source_id: base_amount / amount for source_id, (amount, base_amount) in booked.items() if amount > ZERO}


async def payments_received(uow: UnitOfWork, payments: Sequence[PaymentFact]) -> list[Posted]:
    """Bank debited, accounts receivable credited: one entry per payment, all in one statement (a bank import's
    thousands too). A payment matched from a bank line is the bank line's booking in the books. A foreign
    invoice paid at another rate than it was issued at posts its exchange gain or loss in the base currency."""
    rates = await booked_rates(uow, [(p.invoice_id, p.currency) for p in payments], SourceType.INVOICE,
                               EntryKind.ISSUED, AccountRole.ACCOUNTS_RECEIVABLE)
    return await post_all(uow, [payment_posting(p, rates.get(p.invoice_id) if p.invoice_id else None)
                                for p in payments])


@dataclass(frozen=True)
class ExpenseFact:
    """An expense as the books see it: `amount` is the gross paid (what the company owes its payer); `tax_amount`
    the input VAT in it at `tax_rate` / `tax_category` (decision 215), 0 without a rate (`tax_rate` None: the
    expense names no rate and stays out of the VAT report)."""

    expense_id: uuid.UUID
    amount: Decimal
    currency: str
    expense_date: date
    description: str
    account: AccountRole | uuid.UUID  # see `expense_account`
    project_id: uuid.UUID | None
    cost_center_id: uuid.UUID | None
    tax_amount: Decimal = ZERO
    tax_rate: Decimal | None = None
    tax_category: str | None = None

    @property
    def net(self) -> Decimal:
        return self.amount - self.tax_amount


def expense_approved_lines(expense: ExpenseFact) -> list[PostingLine]:
    """The expense's account debited with the net and input VAT with the tax, both tagged with the rate (as a bill's
    lines are: the VAT report reads base and tax per rate from them, decision 180); what the company owes the person
    who paid it credited with the gross. A zero or exempt rate tags the net and posts no tax line (the journal drops
    lines of zero), so its base still shows in the VAT report."""
    cur = expense.currency
    return [
        PostingLine(expense.account, cur, debit=expense.net, description=expense.description,
                    tax_rate=expense.tax_rate, tax_category=expense.tax_category),
        PostingLine(AccountRole.VAT_INPUT, cur, debit=expense.tax_amount, description="Input VAT",
                    tax_rate=expense.tax_rate, tax_category=expense.tax_category),
        PostingLine(AccountRole.EXPENSES_PAYABLE, cur, credit=expense.amount)]


async def expense_approved(uow: UnitOfWork, expense: ExpenseFact) -> list[Posted]:
    """Posted in the approval's transaction, once (keyed by the expense and `approved`)."""
    return await post_all(uow, [Posting(
        SourceType.EXPENSE, expense.expense_id, EntryKind.APPROVED, expense.expense_date,
        expense_approved_lines(expense), memo=f"Expense approved: {expense.description}",
        project_id=expense.project_id, cost_center_id=expense.cost_center_id)])


async def expense_reimbursed(uow: UnitOfWork, expense: ExpenseFact, on: date) -> list[Posted]:
    """The debt to the person settled from the bank, the gross they paid (in the base currency: the debt at the
    approval's rate, the bank at the day's; a difference is an exchange gain or loss)."""
    rates = await booked_rates(uow, [(expense.expense_id, expense.currency)], SourceType.EXPENSE, EntryKind.APPROVED,
                               AccountRole.EXPENSES_PAYABLE)
    return await post_all(uow, [Posting(
        SourceType.EXPENSE, expense.expense_id, EntryKind.REIMBURSED, on, [
            PostingLine(AccountRole.EXPENSES_PAYABLE, expense.currency, debit=expense.amount,
                        rate=rates.get(expense.expense_id)),
            PostingLine(AccountRole.BANK, expense.currency, credit=expense.amount)],
        memo=f"Expense reimbursed: {expense.description}", project_id=expense.project_id,
        cost_center_id=expense.cost_center_id)])
