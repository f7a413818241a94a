"""The statements: trial balance, profit and loss, balance sheet, from the journal's lines.

Basis "currency" (the default): one currency at a time, never converted (the ledger books each fact in its own
currency): the company's base currency unless asked for another; the currencies left out are named in
`other_currencies`. Basis "base": every currency, from the lines' base-currency amounts (filled at posting time);
the lines that have none are left out and listed in `unconverted`.

The per-currency sums come from the monthly balances for the full months of a range (statements_from_monthly_balances,
the default) or from the lines alone (ERP_STATEMENTS_SOURCE=lines: the reference, and the benchmark's "before"); the
base-currency ones always from the lines (they list what was not converted)."""

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from erp.clock import today
from erp.company.api import defaults as company_defaults
from erp.ledger.chart import DEBIT_NORMAL, AccountType
from erp.ledger.models import Account
from erp.ledger.repository import LedgerRepository, StatementRepository
from erp.ledger.schemas import BalanceSheet, Basis, ProfitAndLoss, StatementRow, TrialBalance, Unconverted
from erp.ledger.service import statements_from_monthly_balances
from erp.settings import get_settings
from throughline_events.money import ZERO
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Unprocessable

Columns = Literal["project", "cost_center"]


@dataclass(frozen=True)
class Filters:
    project_id: uuid.UUID | None = None
    cost_center_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None


@dataclass(frozen=True)
class _Sums:
    rows: list[StatementRow]
    other_currencies: list[str]
    unconverted: list[Unconverted]


async def report_currency(uow: UnitOfWork, currency: str | None, basis: Basis = "currency") -> str:
    if currency is not None and basis == "currency":
        return currency
    _, base = await company_defaults(uow)
    if base is None:
        raise Unprocessable("Name a currency: the company profile (its base currency) is not set up yet."
                            if basis == "currency" else
                            "The company profile (its base currency) is not set up yet: there is no base currency "
                            "to report in.", field="currency" if basis == "currency" else "basis")
    if currency is not None and currency != base:
        raise Unprocessable(f"basis=base reports in the base currency, {base}: leave currency out (or ask for "
                            f"{currency} alone with basis=currency).", field="currency")
    return base


def check_range(date_from: date | None, date_to: date | None) -> date:
    until = date_to or today()
    if date_from is not None and date_from > until:
        raise Unprocessable(f"date_from {date_from} is after date_to {until}.", field="date_from")
    return until


async def _sums(uow: UnitOfWork, currency: str, date_from: date | None, date_to: date, columns: Columns | None,
                filters: Filters, basis: Basis = "currency") -> _Sums:
    accounts: dict[uuid.UUID, Account] = {a.id: a for a in await LedgerRepository(uow.session).all_accounts()}
    if basis == "base":
        return _base_sums(await StatementRepository(uow.session).base_sums(
            date_from=date_from, date_to=date_to, columns=columns, project_id=filters.project_id,
            cost_center_id=filters.cost_center_id, client_id=filters.client_id), accounts)
    if get_settings().statements_source == "lines":
        sums = await StatementRepository(uow.session).sums(
            date_from=date_from, date_to=date_to, columns=columns, project_id=filters.project_id,
            cost_center_id=filters.cost_center_id, client_id=filters.client_id)
    else:
        sums = await statements_from_monthly_balances.sums(
            uow.session, date_from=date_from, date_to=date_to, columns=columns, project_id=filters.project_id,
            cost_center_id=filters.cost_center_id, client_id=filters.client_id)
    others = sorted({s["currency"] for s in sums if s["currency"] != currency})
    rows = []
    for s in sums:
        debit, credit = s["debit"] or ZERO, s["credit"] or ZERO
        if s["currency"] != currency or (debit == ZERO and credit == ZERO):  # 0 in it: an exchange difference
            continue
        rows.append(_row(accounts[s["account_id"]], s["col"], debit, credit))
    rows.sort(key=lambda r: (r.code, r.column or ""))
    return _Sums(rows, others, [])


def _row(account: Account, column: str | None, debit: Decimal, credit: Decimal) -> StatementRow:
    balance = debit - credit if account.type in DEBIT_NORMAL else credit - debit
    return StatementRow(account_id=account.id, code=account.code, name=account.name, type=AccountType(account.type),
                        column=column, debit=debit, credit=credit, balance=balance)


def _base_sums(sums: list[dict[str, object]], accounts: dict[uuid.UUID, Account]) -> _Sums:
    """All currencies together, in their base amounts; per currency, what has none."""
    base: dict[tuple[uuid.UUID, str | None], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    left_out: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    for s in sums:
        if s["debit_base"] is not None:
            amounts = base[(s["account_id"], s["col"])]  # type: ignore[index]
            amounts[0] += s["debit_base"]  # type: ignore[operator]
            amounts[1] += s["credit_base"]  # type: ignore[operator]
        if s["unconverted_lines"]:
            out = left_out[str(s["currency"])]
            out[0] += s["unconverted_debit"]  # type: ignore[operator]
            out[1] += s["unconverted_credit"]  # type: ignore[operator]
            out[2] += s["unconverted_lines"]  # type: ignore[operator]
    rows = [_row(accounts[account_id], column, debit, credit)
            for (account_id, column), (debit, credit) in base.items() if debit != ZERO or credit != ZERO]
    rows.sort(key=lambda r: (r.code, r.column or ""))
    unconverted = [Unconverted(currency=c, debit=d, credit=cr, lines=int(n))
                   for c, (d, cr, n) in sorted(left_out.items())]
    return _Sums(rows, [], unconverted)


async def trial_balance(uow: UnitOfWork, *, date_from: date | None, date_to: date | None, currency: str | None,
                        columns: Columns | None, filters: Filters, basis: Basis = "currency") -> TrialBalance:
    until = check_range(date_from, date_to)
    cur = await report_currency(uow, currency, basis)
    sums = await _sums(uow, cur, date_from, until, columns, filters, basis)
    return TrialBalance(date_from=date_from, date_to=until, currency=cur, columns=columns, rows=sums.rows,
                        total_debit=sum((r.debit for r in sums.rows), ZERO),
                        total_credit=sum((r.credit for r in sums.rows), ZERO),
                        other_currencies=sums.other_currencies, basis=basis, unconverted=sums.unconverted)


async def profit_and_loss(uow: UnitOfWork, *, date_from: date | None, date_to: date | None, currency: str | None,
                          columns: Columns | None, filters: Filters, basis: Basis = "currency") -> ProfitAndLoss:
    until = check_range(date_from, date_to)
    cur = await report_currency(uow, currency, basis)
    sums = await _sums(uow, cur, date_from, until, columns, filters, basis)
    income = [r for r in sums.rows if r.type == AccountType.INCOME]
    expenses = [r for r in sums.rows if r.type == AccountType.EXPENSE]
    by_column: dict[str, Decimal] = defaultdict(Decimal)
    for row in income:
        by_column[row.column or ""] += row.balance
    for row in expenses:
        by_column[row.column or ""] -= row.balance
    total_income = sum((r.balance for r in income), ZERO)
    total_expenses = sum((r.balance for r in expenses), ZERO)
    return ProfitAndLoss(date_from=date_from, date_to=until, currency=cur, columns=columns, income=income,
                         expenses=expenses, total_income=total_income, total_expenses=total_expenses,
                         result=total_income - total_expenses,
                         by_column=dict(by_column) if columns else {}, other_currencies=sums.other_currencies,
                         basis=basis, unconverted=sums.unconverted)


async def balance_sheet(uow: UnitOfWork, *, date_to: date | None, currency: str | None,
                        filters: Filters, basis: Basis = "currency") -> BalanceSheet:
    """Everything posted up to `date_to`; the result of all periods so far (income minus expenses) is shown as
    part of equity, as no year-end closing entry moves it to retained earnings yet."""
    until = check_range(None, date_to)
    cur = await report_currency(uow, currency, basis)
    sums = await _sums(uow, cur, None, until, None, filters, basis)

    def of(kind: AccountType) -> list[StatementRow]:
        return [r for r in sums.rows if r.type == kind]

    def total(rows: list[StatementRow]) -> Decimal:
        return sum((r.balance for r in rows), ZERO)

    result = total(of(AccountType.INCOME)) - total(of(AccountType.EXPENSE))
    assets, liabilities, equity = of(AccountType.ASSET), of(AccountType.LIABILITY), of(AccountType.EQUITY)
    return BalanceSheet(as_of=until, currency=cur, assets=assets, liabilities=liabilities, equity=equity,
                        result_to_date=result, total_assets=total(assets),
                        total_liabilities_and_equity=total(liabilities) + total(equity) + result,
                        other_currencies=sums.other_currencies, basis=basis, unconverted=sums.unconverted)
