"""The VAT report: output tax from invoices and credit notes, input tax from bills and expenses, reverse charge
apart, per period and rate, read from the journal's lines so that it reconciles with the tax accounts
(docs/erp-ledger.md, "VAT report"; decisions 180-181, 215).

Every line on the four tax accounts (2200 VAT output, 2210 VAT output reverse charge, 1400 VAT input, 1410 VAT input
reverse charge) lands in exactly one row, so the report's totals ARE those accounts' balances in the trial balance
over the same range. The taxable base is the lines that carry a tax category off the tax accounts: revenue lines of
invoices, credit notes and late fees (income accounts), expense lines of bills and of expenses that name a rate
(expense accounts; an expense's net, its VAT having been computed from the gross paid). An expense without a rate
posts its gross untagged: no base, no tax."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal

from erp.ledger.chart import AccountRole, AccountType, account_id
from erp.ledger.repository import LedgerRepository, ReportRepository
from erp.ledger.schemas import ReverseChargeRow, VatPeriod, VatReport, VatRow, VatTotals
from erp.ledger.service.statements import check_range, report_currency
from erp.taxes.api import TaxCategory
from throughline_events.money import ZERO
from throughline_messaging.uow import UnitOfWork

Period = Literal["month", "quarter"]

VAT_OUTPUT = account_id(AccountRole.VAT_OUTPUT)
VAT_OUTPUT_RC = account_id(AccountRole.VAT_OUTPUT_REVERSE_CHARGE)
VAT_INPUT = account_id(AccountRole.VAT_INPUT)
VAT_INPUT_RC = account_id(AccountRole.VAT_INPUT_REVERSE_CHARGE)
TAX_ACCOUNTS = (VAT_OUTPUT, VAT_OUTPUT_RC, VAT_INPUT, VAT_INPUT_RC)

NOTES = [
    "Input tax comes from vendor bills and from expenses that name a VAT rate (the tax computed from the gross "
    "paid). An expense entered without a rate is booked at its gross and adds neither input tax nor a taxable base "
    "here.",
    "Amounts in one currency, never converted; other_currencies names those posted in the range but left out.",
]

_Key = tuple[Decimal | None, str | None]


@dataclass
class _Cell:
    base: Decimal = ZERO
    tax: Decimal = ZERO
    tax_in: Decimal = ZERO  # reverse-charge purchases: the tax deducted again (1410)


@dataclass
class _Period:
    output: dict[_Key, _Cell] = field(default_factory=lambda: defaultdict(_Cell))
    rc_sales: dict[_Key, _Cell] = field(default_factory=lambda: defaultdict(_Cell))
    input: dict[_Key, _Cell] = field(default_factory=lambda: defaultdict(_Cell))
    rc_purchases: dict[_Key, _Cell] = field(default_factory=lambda: defaultdict(_Cell))


def _add(bucket: _Period, row: dict[str, Any], account_type: str) -> None:
    """Put one summed line (account, rate, category) in its place: tax accounts by account, the rest by type."""
    account, category = row["account_id"], row["tax_category"]
    key: _Key = (row["tax_rate"], category)
    debit, credit = row["debit"] or ZERO, row["credit"] or ZERO
    if account == VAT_OUTPUT:
        bucket.output[key].tax += credit - debit
    elif account == VAT_INPUT:
        bucket.input[key].tax += debit - credit
    elif account == VAT_OUTPUT_RC:
        bucket.rc_purchases[(row["tax_rate"], TaxCategory.REVERSE_CHARGE)].tax += credit - debit
    elif account == VAT_INPUT_RC:
        bucket.rc_purchases[(row["tax_rate"], TaxCategory.REVERSE_CHARGE)].tax_in += debit - credit
    elif account_type == AccountType.INCOME:
        (bucket.rc_sales if category == TaxCategory.REVERSE_CHARGE else bucket.output)[key].base += credit - debit
    elif account_type == AccountType.EXPENSE:
        if category == TaxCategory.REVERSE_CHARGE:
            bucket.rc_purchases[(row["tax_rate"], TaxCategory.REVERSE_CHARGE)].base += debit - credit
        else:
            bucket.input[key].base += debit - credit


def _order(key: _Key) -> tuple[bool, Decimal, str]:
    rate, category = key
    return rate is None, rate if rate is not None else ZERO, category or ""


def _rows(cells: dict[_Key, _Cell]) -> list[VatRow]:
    return [VatRow(tax_rate=k[0], tax_category=k[1], taxable_base=c.base, tax=c.tax)
            for k, c in sorted(cells.items(), key=lambda kc: _order(kc[0])) if c.base or c.tax]


def _totals(periods: list[_Period]) -> VatTotals:
    def total(of: Callable[[_Period], dict[_Key, _Cell]], part: Callable[[_Cell], Decimal]) -> Decimal:
        return sum((part(c) for p in periods for c in of(p).values()), ZERO)

    output = total(lambda p: p.output, lambda c: c.tax)
    rc_output = total(lambda p: p.rc_purchases, lambda c: c.tax)
    input_ = total(lambda p: p.input, lambda c: c.tax)
    rc_input = total(lambda p: p.rc_purchases, lambda c: c.tax_in)
    return VatTotals(output_tax=output, input_tax=input_, reverse_charge_output_tax=rc_output,
                     reverse_charge_input_tax=rc_input,
                     reverse_charge_sales=total(lambda p: p.rc_sales, lambda c: c.base),
                     net_payable=output + rc_output - input_ - rc_input)


def _span(start: date, period: Period) -> tuple[str, date]:
    """The period's label and last day."""
    months = 3 if period == "quarter" else 1
    year, month = divmod(start.month - 1 + months, 12)
    end = date(start.year + year, month + 1, 1) - timedelta(days=1)
    label = f"{start.year}-Q{(start.month - 1) // 3 + 1}" if period == "quarter" else f"{start:%Y-%m}"
    return label, end


async def vat_report(uow: UnitOfWork, *, date_from: date | None, date_to: date | None, currency: str | None,
                     period: Period) -> VatReport:
    until = check_range(date_from, date_to)
    cur = await report_currency(uow, currency)
    types = {a.id: a.type for a in await LedgerRepository(uow.session).all_accounts()}
    sums = await ReportRepository(uow.session).vat_sums(period=period, date_from=date_from, date_to=until,
                                                         tax_accounts=TAX_ACCOUNTS)
    buckets: dict[date, _Period] = defaultdict(_Period)
    for row in sums:
        if row["currency"] == cur:
            _add(buckets[row["period"]], row, types[row["account_id"]])
    periods = []
    for start, bucket in sorted(buckets.items()):
        label, end = _span(start, period)
        out = VatPeriod(period=label, date_from=max(start, date_from) if date_from else start, date_to=min(end, until),
                        output=_rows(bucket.output), reverse_charge_sales=_rows(bucket.rc_sales),
                        input=_rows(bucket.input),
                        reverse_charge_purchases=[
                            ReverseChargeRow(tax_rate=k[0], taxable_base=c.base, output_tax=c.tax, input_tax=c.tax_in)
                            for k, c in sorted(bucket.rc_purchases.items(), key=lambda kc: _order(kc[0]))
                            if c.base or c.tax or c.tax_in],
                        totals=_totals([bucket]))
        if out.output or out.reverse_charge_sales or out.input or out.reverse_charge_purchases:
            periods.append(out)
    return VatReport(date_from=date_from, date_to=until, currency=cur, period=period, periods=periods,
                     totals=_totals(list(buckets.values())),
                     other_currencies=sorted({r["currency"] for r in sums if r["currency"] != cur}), notes=NOTES)
