"""Bill arithmetic and postings (pure): each line's net is round(quantity x unit price); the tax the vendor charges
is computed per rate like an invoice's (erp.invoices' `line_taxes`: each line its share of its group's rounded tax),
and so is the tax a reverse-charge line makes the buyer owe at the default rate, which is not paid to the vendor.

What a bill posts (in its own currency; the ledger balances per currency):
- approved: Dr other expenses (the nets), Dr input VAT (the vendor's tax), Cr accounts payable (the total); a
  reverse-charge line adds Dr input VAT (reverse charge) / Cr output VAT (reverse charge), which cancel out in the
  VAT return but are shown in it;
- a payment: Dr accounts payable / Cr bank.
In the base currency, a foreign bill's lines are converted at the rate it stored (its bill date's), and a payment's
payable too, its bank at the payment day's rate: the ledger posts the difference as the realised exchange gain or
loss (docs/erp-books.md, currencies in the books).
"""

from dataclasses import dataclass
from decimal import Decimal

from erp.invoices.api import TaxedLine, line_taxes
from erp.ledger.api import AccountRole, PostingLine
from erp.payables.models import Bill
from erp.taxes.api import EN16931_CODE
from throughline_events.money import ZERO, round_money


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal
    tax_category: str
    tax_percent: Decimal
    reverse_charge_percent: Decimal  # 0 unless the line is reverse charge


@dataclass(frozen=True)
class LineResult:
    net: Decimal
    tax: Decimal
    reverse_charge_tax: Decimal


@dataclass(frozen=True)
class BillTotals:
    lines: list[LineResult]
    subtotal: Decimal
    tax_total: Decimal
    reverse_charge_tax: Decimal
    total: Decimal  # what the vendor is paid: subtotal + tax_total


def bill_totals(lines: list[LineInput], currency: str) -> BillTotals:
    nets = [round_money(line.quantity * line.unit_price, currency) for line in lines]
    charged = line_taxes([TaxedLine(net, EN16931_CODE[line.tax_category], line.tax_percent)
                          for net, line in zip(nets, lines, strict=True)], currency)
    # Self-assessed tax, grouped apart ("RC") so it never rounds together with what the vendor charged.
    owed = line_taxes([TaxedLine(net, "RC", line.reverse_charge_percent)
                       for net, line in zip(nets, lines, strict=True)], currency)
    results = [LineResult(n, t, r) for n, t, r in zip(nets, charged, owed, strict=True)]
    subtotal = sum(nets, ZERO)
    tax_total = sum(charged, ZERO)
    return BillTotals(results, subtotal, tax_total, sum(owed, ZERO), subtotal + tax_total)


# The ledger's source types and entry kind of payables (its `source_type` column is open text).
BILL = "bill"
BILL_PAYMENT = "bill_payment"
PAID = "paid"


def bill_approved_lines(bill: Bill) -> list[PostingLine]:
    cur = bill.currency
    rate = bill.exchange_rate  # a foreign bill's, of its bill date: its lines in the base currency
    lines = [PostingLine(AccountRole.EXPENSE_OTHER, cur, debit=line.net, description=line.description[:200],
                         tax_rate=line.tax_percent, tax_category=line.tax_category, rate=rate)
             for line in bill.lines if line.net > 0]
    if bill.tax_total > 0:
        lines.append(PostingLine(AccountRole.VAT_INPUT, cur, debit=bill.tax_total, description="Input VAT",
                                 rate=rate))
    if bill.reverse_charge_tax > 0:
        lines += [PostingLine(AccountRole.VAT_INPUT_REVERSE_CHARGE, cur, debit=bill.reverse_charge_tax,
                              description="Reverse charge: input VAT", rate=rate),
                  PostingLine(AccountRole.VAT_OUTPUT_REVERSE_CHARGE, cur, credit=bill.reverse_charge_tax,
                              description="Reverse charge: VAT owed", rate=rate)]
    if bill.total > 0:
        lines.append(PostingLine(AccountRole.ACCOUNTS_PAYABLE, cur, credit=bill.total,
                                 description=f"Bill {bill.vendor_reference}"[:200], rate=rate))
    return lines


def bill_paid_lines(bill: Bill, amount: Decimal) -> list[PostingLine]:
    """The payable leaves the books at the bill's rate, the bank at the payment day's: the difference is the
    realised exchange gain or loss (the ledger posts it, in the base currency)."""
    return [PostingLine(AccountRole.ACCOUNTS_PAYABLE, bill.currency, debit=amount, rate=bill.exchange_rate),
            PostingLine(AccountRole.BANK, bill.currency, credit=amount)]
