"""Payloads of the events the ERP publishes (v1 of each)."""

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from throughline_events.envelope import EventPayload, register
from throughline_events.types import CurrencyCode, DecimalString, UtcDateTime


class ScheduleItemRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    label: str
    due_date: date | None
    amount: DecimalString


@register("project.created", 1, "project", "project_id")
class ProjectCreatedV1(EventPayload):
    """The ERP created a project, usually from a won deal, with its billing schedule."""

    project_id: UUID
    name: str
    deal_id: UUID | None = None
    company_id: UUID | None = None
    client_id: UUID
    budget: DecimalString
    currency: CurrencyCode
    owner_id: str | None = None
    billing_type: str
    schedule: list[ScheduleItemRef]
    created_at: UtcDateTime


class _InvoiceFact(EventPayload):
    invoice_id: UUID
    number: str
    company_id: UUID | None = None
    client_id: UUID
    project_id: UUID | None = None
    deal_id: UUID | None = None
    currency: CurrencyCode


@register("invoice.issued", 1, "invoice", "invoice_id")
class InvoiceIssuedV1(_InvoiceFact):
    """An invoice got its number and was issued to the client."""

    total: DecimalString
    issue_date: date
    due_date: date
    issued_at: UtcDateTime


@register("payment.recorded", 1, "invoice", "invoice_id")
class PaymentRecordedV1(_InvoiceFact):
    """A payment, full or partial, was recorded against an issued invoice; `balance_due` is what is left."""

    payment_id: UUID
    amount: DecimalString
    method: str
    paid_on: date
    balance_due: DecimalString
    recorded_at: UtcDateTime


@register("invoice.paid", 1, "invoice", "invoice_id")
class InvoicePaidV1(_InvoiceFact):
    """An invoice was paid in full (its balance due reached zero)."""

    total: DecimalString
    paid_at: UtcDateTime


@register("invoice.overdue", 1, "invoice", "invoice_id")
class InvoiceOverdueV1(_InvoiceFact):
    """An issued invoice is past its due date with a balance due; `reminder_step` names the dunning step."""

    balance_due: DecimalString
    due_date: date
    days_overdue: int
    reminder_step: int | None = None
    noticed_at: UtcDateTime


@register("invoice.sent", 1, "invoice", "invoice_id")
class InvoiceSentV1(_InvoiceFact):
    """An issued invoice was sent to the client by mail, its PDF attached: recorded in the transaction that put the
    mail in the ERP's mail outbox (what became of it, sent, bounced or failed, is on the invoice's mail history)."""

    mail_id: UUID
    message_id: str
    to: list[str]
    subject: str
    total: DecimalString
    balance_due: DecimalString
    sent_by: str | None = None
    sent_at: UtcDateTime


@register("invoice.delivery_failed", 1, "invoice", "invoice_id")
class InvoiceDeliveryFailedV1(_InvoiceFact):
    """A mail of an invoice (the invoice itself, or one of its reminders) could not be delivered, for good: the
    recipients' server refused it (`bounced`, a 5xx reply) or the sender gave up after its retries (`failed`).
    Recorded in the transaction that writes the outcome on the invoice's mail history; the CRM puts it on the
    company timeline, so whoever talks to the client knows the invoice did not arrive."""

    mail_id: UUID
    message_id: str
    mail_kind: Literal["invoice", "reminder"]
    outcome: Literal["failed", "bounced"]
    recipients: list[str]
    error: str | None = None
    failed_at: UtcDateTime


@register("invoice.voided", 1, "invoice", "invoice_id")
class InvoiceVoidedV1(_InvoiceFact):
    """An issued invoice was voided; it no longer counts as receivable."""

    total: DecimalString
    reason: str | None = None
    voided_at: UtcDateTime


class _ExpenseFact(EventPayload):
    expense_id: UUID
    project_id: UUID | None = None
    cost_center_id: UUID | None = None
    amount: DecimalString
    currency: CurrencyCode
    category: str | None = None
    submitted_by: str
    occurred_at: UtcDateTime


@register("expense.submitted", 1, "expense", "expense_id")
class ExpenseSubmittedV1(_ExpenseFact):
    """An expense was submitted for approval."""


@register("expense.approved", 1, "expense", "expense_id")
class ExpenseApprovedV1(_ExpenseFact):
    """An expense was approved; it now counts as a cost of its project or cost center."""

    approved_by: str
    comment: str | None = None


@register("expense.rejected", 1, "expense", "expense_id")
class ExpenseRejectedV1(_ExpenseFact):
    """An expense was rejected."""

    rejected_by: str
    comment: str | None = None


class LedgerLineRef(BaseModel):
    """One line of a posted entry: debit or credit (the other is "0"), in `currency`, on an account."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    account_id: UUID
    account_code: str
    debit: DecimalString
    credit: DecimalString
    currency: CurrencyCode


@register("ledger.entry_posted", 1, "ledger", "entry_id")
class LedgerEntryPostedV1(EventPayload):
    """A journal entry was posted: automatically for a business fact (`source_type`, `source_id`, `kind`: an issued
    invoice, a payment, a credit note, a void, an approved expense) or by hand (`source_type` "manual"). Its lines
    balance in each currency. `entry_date` is when it counts; `fact_date` when its fact happened (later when that
    month was closed)."""

    entry_id: UUID
    number: int
    entry_date: date
    fact_date: date
    source_type: str
    source_id: UUID | None = None
    kind: str
    memo: str | None = None
    created_by: str | None = None
    lines: list[LedgerLineRef]
    posted_at: UtcDateTime


@register("ledger.period_closed", 1, "ledger", "period_id")
class LedgerPeriodClosedV1(EventPayload):
    """A month of the books was closed: nothing is posted dated in it until it is reopened."""

    period_id: UUID
    month: str  # "yyyy-mm"
    closed_by: str
    closed_at: UtcDateTime
