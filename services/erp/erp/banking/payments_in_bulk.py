"""Payments in bulk: the set-based form of `erp.invoices.api.apply_payment`, the import's fast path.

An import records thousands of payments at once. Through `apply_payment` each is an ORM object flushed as an INSERT
of the payment and an UPDATE of its invoice, one statement each: 18,000 statements and their ORM bookkeeping for a
day of 10,000 credits. Here the same rules (`check_payment`), the same effect on each invoice and the same events
(`payment_effect`, both the invoices package's own) are applied to the rows the import locked, and written in two
statements whatever their number: one INSERT of the payments, one UPDATE of the invoices
(tests/erp_billing/test_bank_payments_in_bulk.py makes both paths pay the same invoices and compares the results).
Manual matching, a few payments at a time, takes the plain path.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from erp.banking.matching import Decision
from erp.banking.repository import BankingRepository, CandidateRow
from erp.banking.statement import StatementLine
from erp.db import utcnow
from erp.invoices.api import PaymentMethod, check_payment, payment_effect
from erp.ledger import api as ledger
from throughline_messaging.aggregate import Cause
from throughline_messaging.uow import UnitOfWork
from throughline_platform.context import causation_id_var, correlation_id_var, request_id_var
from throughline_platform.problems import ProblemError


@dataclass(frozen=True)
class Paying:
    """A bank line and what matching decided it pays."""

    line_id: uuid.UUID
    line: StatementLine
    decision: Decision
    bank_account: uuid.UUID  # the ledger account of the line's bank account: its payments are booked there


async def record_payments(uow: UnitOfWork, repo: BankingRepository, invoices: Mapping[uuid.UUID, CandidateRow],
                          paying: Iterable[Paying], recorded_by: str) -> list[dict[str, Any]]:
    """Record every allocation as a bank transfer paid on the line's booking date, with the bank's reference;
    the matches to insert (line, invoice, payment). `invoices` are the rows locked for this transaction; each
    row's ledger moves on with every payment applied to it, so two lines paying one invoice see each other."""
    cause = Cause(correlation_id_var.get(), causation_id_var.get() or request_id_var.get())
    now = utcnow()
    payments: list[dict[str, Any]] = []
    matches: list[dict[str, Any]] = []
    changed: dict[uuid.UUID, CandidateRow] = {}
    booked: list[ledger.PaymentFact] = []  # each payment's entry: the bank line booked to the bank account
    for item in paying:
        line = item.line
        reference = (line.bank_reference or line.end_to_end_id or line.transaction_key)[:200]
        for allocation in item.decision.allocations:
            invoice = invoices[allocation.invoice_id]
            try:
                check_payment(invoice, allocation.amount, line.booking_date, line.currency)
            except ProblemError as exc:  # matching decided on these rows: a refusal here is a bug, told plainly
                exc.extensions.setdefault("invoice_id", str(invoice.id))
                raise
            payment_id = uuid.uuid4()
            effect = payment_effect(invoice, invoice.client_id, invoice.company_id, payment_id, allocation.amount,
                                    line.booking_date, PaymentMethod.BANK_TRANSFER, now)
            invoice.amount_paid, invoice.balance_due = effect.amount_paid, effect.balance_due
            invoice.status, invoice.paid_at = effect.status, effect.paid_at
            changed[invoice.id] = invoice
            for event in effect.events:
                uow.record(event, cause)
            payments.append(_payment_row(payment_id, invoice.id, allocation.amount, invoice.currency,
                                         line.booking_date, reference, recorded_by, now))
            booked.append(ledger.PaymentFact(payment_id, invoice.number, allocation.amount, invoice.currency,
                                             line.booking_date, invoice.client_id, invoice.project_id,
                                             item.bank_account, invoice_id=invoice.id))
            assert item.decision.method is not None
            matches.append({"line_id": item.line_id, "invoice_id": invoice.id,
                            "payment_id": payment_id, "amount": allocation.amount, "method": item.decision.method,
                            "matched_by": recorded_by, "created_at": now, "updated_at": now})
    await repo.insert_payments(payments)
    await repo.update_paid_invoices(list(changed.values()), now)
    await ledger.payments_received(uow, booked)  # one statement for them all, as the payments'
    return matches


def _payment_row(payment_id: uuid.UUID, invoice_id: uuid.UUID, amount: Decimal, currency: str, paid_on: date,
                 reference: str, recorded_by: str, now: datetime) -> dict[str, Any]:
    return {"id": payment_id, "invoice_id": invoice_id, "amount": amount, "currency": currency, "paid_on": paid_on,
            "method": PaymentMethod.BANK_TRANSFER, "reference": reference, "recorded_by": recorded_by,
            "created_at": now, "updated_at": now}
