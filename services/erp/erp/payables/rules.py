"""Bill arithmetic (pure): each line's net is round(quantity x unit price); the tax the vendor charges is computed
per rate like an invoice's (erp.invoices' `line_taxes`: each line its share of its group's rounded tax), and so is
the tax a reverse-charge line makes the buyer owe at the default rate, which is not paid to the vendor."""

from dataclasses import dataclass
from decimal import Decimal

from erp.invoices.api import TaxedLine, line_taxes
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
