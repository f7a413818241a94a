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
loss (docs/erp-ledger.md, currencies in the books).
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from erp.invoices.api import TaxedLine, line_taxes
from erp.ledger.api import AccountRole, PostingLine
from erp.payables.models import Bill, BillLine
from erp.taxes.api import EN16931_CODE, TaxCategory
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


REVERSE_CHARGE = TaxCategory.REVERSE_CHARGE  # no VAT charged, the buyer owes it

# The ledger's source types and entry kind of payables (its `source_type` column is open text).
BILL = "bill"
BILL_PAYMENT = "bill_payment"
PAID = "paid"


def bill_approved_lines(bill: Bill) -> list[PostingLine]:
    """Each expense line carries the VAT rate that applies to it (a reverse-charge line: the self-assessed rate) and
    input VAT is one line per rate and category, so that the VAT report reads base and tax per rate from the ledger
    (decision 180)."""
    cur = bill.currency
    fx = bill.exchange_rate  # a foreign bill's, of its bill date: its lines in the base currency
    lines = [PostingLine(AccountRole.EXPENSE_OTHER, cur, debit=line.net, description=line.description[:200],
                         tax_rate=_applied_rate(line), tax_category=line.tax_category, rate=fx)
             for line in bill.lines if line.net > 0]
    charged: dict[tuple[Decimal, str], Decimal] = defaultdict(Decimal)
    owed: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in bill.lines:
        charged[(line.tax_percent, line.tax_category)] += line.tax_amount
        owed[line.reverse_charge_percent] += line.reverse_charge_tax
    lines += [PostingLine(AccountRole.VAT_INPUT, cur, debit=tax, description="Input VAT", tax_rate=rate,
                          tax_category=category, rate=fx)
              for (rate, category), tax in charged.items() if tax > 0]
    for rate, tax in owed.items():
        if tax > 0:
            lines += [PostingLine(AccountRole.VAT_INPUT_REVERSE_CHARGE, cur, debit=tax,
                                  description="Reverse charge: input VAT", tax_rate=rate, tax_category=REVERSE_CHARGE,
                                  rate=fx),
                      PostingLine(AccountRole.VAT_OUTPUT_REVERSE_CHARGE, cur, credit=tax,
                                  description="Reverse charge: VAT owed", tax_rate=rate, tax_category=REVERSE_CHARGE,
                                  rate=fx)]
    if bill.total > 0:
        lines.append(PostingLine(AccountRole.ACCOUNTS_PAYABLE, cur, credit=bill.total,
                                 description=f"Bill {bill.vendor_reference}"[:200], rate=fx))
    return lines


def _applied_rate(line: BillLine) -> Decimal:
    return line.reverse_charge_percent if line.tax_category == REVERSE_CHARGE else line.tax_percent


def bill_paid_lines(bill: Bill, amount: Decimal) -> list[PostingLine]:
    """The payable leaves the books at the bill's rate, the bank at the payment day's: the difference is the
    realised exchange gain or loss (the ledger posts it, in the base currency)."""
    return [PostingLine(AccountRole.ACCOUNTS_PAYABLE, bill.currency, debit=amount, rate=bill.exchange_rate),
            PostingLine(AccountRole.BANK, bill.currency, credit=amount)]
