"""CSV exports of invoices, payments, time entries and expenses, filtered by a date range.

Every cell goes through `throughline_platform.csv_safety` (a merchant named `=HYPERLINK(...)` is written as text),
money is rounded to its currency's minor units, and the sheet names clients, projects, categories and invoice
numbers rather than ids. People are user ids here (`person_id`, `recorded_by`, `submitted_by`): the ERP does not
hold names; the gateway, which holds the users, adds each one's name and email beside the id on the way out
(gateway/exports.py)."""

import io
from datetime import date
from decimal import Decimal
from typing import Literal

from erp.exports import repository
from throughline_events.money import round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.csv_safety import csv_writer
from throughline_platform.problems import Unprocessable

Kind = Literal["invoices", "payments", "time-entries", "expenses"]
_MONEY = {"subtotal", "tax_total", "total", "amount_paid", "amount_credited", "balance_due", "amount", "vat",
          "net_amount"}


async def export(uow: UnitOfWork, kind: Kind, date_from: date | None, date_to: date | None) -> str:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise Unprocessable("date_from is after date_to.", type_slug="bad-date-range")
    columns, rows = await repository.rows(uow.session, kind, date_from, date_to)
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(columns)
    currency_at = columns.index("currency") if "currency" in columns else None
    for row in rows:
        currency = row[currency_at] if currency_at is not None else ""
        writer.writerow([_cell(name, value, currency) for name, value in zip(columns, row, strict=True)])
    return out.getvalue()


def _cell(name: str, value: object, currency: str) -> object:
    if name in _MONEY and isinstance(value, Decimal):
        return round_money(value, currency)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def filename(kind: Kind, date_from: date | None, date_to: date | None) -> str:
    span = f"{date_from or 'start'}_{date_to or 'today'}" if date_from or date_to else "all"
    return f"{kind}_{span}.csv"
