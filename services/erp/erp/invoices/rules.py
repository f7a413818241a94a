"""Invoice arithmetic and lifecycle rules (pure: testable without a database).

Each line: net = round(quantity x unit price), tax = round(net x rate / 100), both to the currency's minor
unit (banker's rounding); the invoice totals are the sums of the rounded line amounts, so a printed invoice
always adds up line by line.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from erp.invoices.models import OPEN_STATUSES, InvoiceStatus
from throughline_events.money import ZERO, round_money


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal


def line_amounts(quantity: Decimal, unit_price: Decimal, tax_rate: Decimal, currency: str) -> LineAmounts:
    net = round_money(quantity * unit_price, currency)
    tax = round_money(net * tax_rate / Decimal(100), currency)
    return LineAmounts(net, tax, net + tax)


def totals(lines: list[LineAmounts]) -> Totals:
    subtotal = sum((line.net for line in lines), ZERO)
    tax_total = sum((line.tax for line in lines), ZERO)
    return Totals(subtotal, tax_total, subtotal + tax_total)


def format_number(prefix: str, year: int, sequence: int) -> str:
    """`INV-2026-00042`: five digits, growing past 99999 rather than wrapping."""
    return f"{prefix}-{year}-{sequence:05d}"


def balance(total: Decimal, paid: Decimal, credited: Decimal) -> Decimal:
    return total - paid - credited


def settled_status(total: Decimal, paid: Decimal, credited: Decimal) -> InvoiceStatus:
    """The status of an issued invoice from its ledger: open, partly paid, paid or fully credited."""
    if balance(total, paid, credited) > ZERO:
        return InvoiceStatus.PARTIALLY_PAID if paid > ZERO else InvoiceStatus.ISSUED
    return InvoiceStatus.PAID if paid > ZERO or credited == ZERO else InvoiceStatus.CREDITED


def is_overdue(status: str, due_date: date | None, balance_due: Decimal, as_of: date) -> bool:
    return status in OPEN_STATUSES and due_date is not None and due_date < as_of and balance_due > ZERO


def payment_reference(number: str) -> str:
    """The invoice's structured creditor reference (ISO 11649 "RF" reference) made from its number:
    INV-2026-00042 -> RF36INV202600042. A payer's bank carries it unchanged to our bank statement, where
    reconciliation finds the invoice by it; its two check digits catch a mistyped reference. The invoice number
    is unique, so the reference is too (at most 21 characters after "RF" and the check digits)."""
    reference = "".join(ch for ch in number.upper() if ch.isalnum())
    if not 0 < len(reference) <= 21:
        raise ValueError(f"invoice number {number!r} cannot make an RF reference")
    rf = f"RF{mod_97_10.calc_check_digits(reference + 'RF')}{reference}"
    assert iso11649.is_valid(rf)
    return rf
