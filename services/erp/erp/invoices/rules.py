"""Invoice arithmetic and lifecycle rules (pure: testable without a database).

Each line: net = round(quantity x unit price) to the currency's minor unit (banker's rounding). Tax is computed
per rate, as EN 16931 wants it (BR-CO-17: a rate's tax = its taxable amount x its percent): for each (category,
percent) the tax is round(sum of its lines' net x percent / 100), and each line carries its share of it (the
difference of the rounded running sums), so the lines still add up to the totals. The invoice's subtotal,
tax_total and total are the sums of the line amounts, so a printed invoice adds up line by line and per rate.
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


@dataclass(frozen=True)
class TaxedLine:
    """What the per-rate arithmetic needs of a line: its net, and the group its tax belongs to."""

    net: Decimal
    code: str  # EN 16931 VAT category code (S, Z, E, AE)
    percent: Decimal
    note: str | None = None


@dataclass(frozen=True)
class TaxGroup:
    """One line of an invoice's tax breakdown (EN 16931 BG-23): a category code and percent, its taxable amount,
    its tax, and the legal note an exempt or reverse-charge group prints."""

    code: str
    percent: Decimal
    basis: Decimal
    tax: Decimal
    note: str | None


def line_taxes(lines: list[TaxedLine], currency: str) -> list[Decimal]:
    """Each line's share of its group's tax: round(running net x percent) minus the same before the line, so a
    group's shares add up to round(its net x percent / 100) exactly, and no line is off by more than a minor unit."""
    running: dict[tuple[str, Decimal], Decimal] = {}
    shares = []
    for line in lines:
        key = (line.code, line.percent)
        before = running.get(key, ZERO)
        after = before + line.net
        shares.append(round_money(after * line.percent / Decimal(100), currency)
                      - round_money(before * line.percent / Decimal(100), currency))
        running[key] = after
    return shares


def tax_breakdown(lines: list[TaxedLine], taxes: list[Decimal]) -> list[TaxGroup]:
    """The groups in order of first appearance; a group's note is its lines' distinct notes, joined."""
    groups: dict[tuple[str, Decimal], list[tuple[TaxedLine, Decimal]]] = {}
    for line, tax in zip(lines, taxes, strict=True):
        groups.setdefault((line.code, line.percent), []).append((line, tax))
    result = []
    for (code, percent), members in groups.items():
        notes = list(dict.fromkeys(line.note for line, _ in members if line.note))
        result.append(TaxGroup(code, percent, sum((line.net for line, _ in members), ZERO),
                               sum((tax for _, tax in members), ZERO), " ".join(notes) or None))
    return result


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
