"""The statements: trial balance, profit and loss, balance sheet, from the journal's lines.

One currency at a time, never converted (the ledger books each fact in its own currency): the company's base
currency unless asked for another; the currencies left out are named in `other_currencies`.

The sums come from the monthly balances for the full months of a range (statements_from_monthly_balances, the
default) or from the lines alone (ERP_STATEMENTS_SOURCE=lines: the reference, and the benchmark's "before")."""

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
from erp.ledger.repository import Amounts, LedgerRepository, StatementRepository
from erp.ledger.schemas import BalanceSheet, ProfitAndLoss, StatementRow, TrialBalance
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


async def report_currency(uow: UnitOfWork, currency: str | None) -> str:
    if currency is not None:
        return currency
    _, base = await company_defaults(uow)
    if base is None:
        raise Unprocessable("Name a currency: the company profile (its base currency) is not set up yet.",
                            field="currency")
    return base


def check_range(date_from: date | None, date_to: date | None) -> date:
    until = date_to or today()
    if date_from is not None and date_from > until:
        raise Unprocessable(f"date_from {date_from} is after date_to {until}.", field="date_from")
    return until


async def _sums(uow: UnitOfWork, currency: str, date_from: date | None, date_to: date, columns: Columns | None,
                filters: Filters, amounts: Amounts = "transaction") -> _Sums:
    accounts: dict[uuid.UUID, Account] = {a.id: a for a in await LedgerRepository(uow.session).all_accounts()}
    if get_settings().statements_source == "lines":
        sums = await StatementRepository(uow.session).sums(
            date_from=date_from, date_to=date_to, columns=columns, project_id=filters.project_id,
            cost_center_id=filters.cost_center_id, client_id=filters.client_id, amounts=amounts)
    else:
        sums = await statements_from_monthly_balances.sums(
            uow.session, date_from=date_from, date_to=date_to, columns=columns, project_id=filters.project_id,
            cost_center_id=filters.cost_center_id, client_id=filters.client_id, amounts=amounts)
    others = sorted({s["currency"] for s in sums if s["currency"] != currency})
    rows = []
    for s in sums:
        if s["currency"] != currency:
            continue
        account = accounts[s["account_id"]]
        debit, credit = s["debit"] or ZERO, s["credit"] or ZERO
        balance = debit - credit if account.type in DEBIT_NORMAL else credit - debit
        rows.append(StatementRow(account_id=account.id, code=account.code, name=account.name,
                                 type=AccountType(account.type), column=s["col"], debit=debit, credit=credit,
                                 balance=balance))
    rows.sort(key=lambda r: (r.code, r.column or ""))
    return _Sums(rows, others)


async def trial_balance(uow: UnitOfWork, *, date_from: date | None, date_to: date | None, currency: str | None,
                        columns: Columns | None, filters: Filters, amounts: Amounts = "transaction") -> TrialBalance:
    until = check_range(date_from, date_to)
    cur = await report_currency(uow, currency)
    sums = await _sums(uow, cur, date_from, until, columns, filters, amounts)
    return TrialBalance(date_from=date_from, date_to=until, currency=cur, columns=columns, rows=sums.rows,
                        total_debit=sum((r.debit for r in sums.rows), ZERO),
                        total_credit=sum((r.credit for r in sums.rows), ZERO),
                        other_currencies=sums.other_currencies)


async def profit_and_loss(uow: UnitOfWork, *, date_from: date | None, date_to: date | None, currency: str | None,
                          columns: Columns | None, filters: Filters,
                          amounts: Amounts = "transaction") -> ProfitAndLoss:
    until = check_range(date_from, date_to)
    cur = await report_currency(uow, currency)
    sums = await _sums(uow, cur, date_from, until, columns, filters, amounts)
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
                         by_column=dict(by_column) if columns else {}, other_currencies=sums.other_currencies)


async def balance_sheet(uow: UnitOfWork, *, date_to: date | None, currency: str | None,
                        filters: Filters, amounts: Amounts = "transaction") -> BalanceSheet:
    """Everything posted up to `date_to`; the result of all periods so far (income minus expenses) is shown as
    part of equity, as no year-end closing entry moves it to retained earnings yet."""
    until = check_range(None, date_to)
    cur = await report_currency(uow, currency)
    sums = await _sums(uow, cur, None, until, None, filters, amounts)

    def of(kind: AccountType) -> list[StatementRow]:
        return [r for r in sums.rows if r.type == kind]

    def total(rows: list[StatementRow]) -> Decimal:
        return sum((r.balance for r in rows), ZERO)

    result = total(of(AccountType.INCOME)) - total(of(AccountType.EXPENSE))
    assets, liabilities, equity = of(AccountType.ASSET), of(AccountType.LIABILITY), of(AccountType.EQUITY)
    return BalanceSheet(as_of=until, currency=cur, assets=assets, liabilities=liabilities, equity=equity,
                        result_to_date=result, total_assets=total(assets),
                        total_liabilities_and_equity=total(liabilities) + total(equity) + result,
                        other_currencies=sums.other_currencies)
