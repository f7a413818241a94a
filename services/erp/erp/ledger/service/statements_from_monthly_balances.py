"""The statements' sums at volume: the full months of a range from the monthly balances (one row per month,
account, currency, client, project and cost center, kept by the triggers of migration 0023), the days before the
first and after the last full month from the journal's lines.

The same figures as summing the lines (`StatementRepository.sums`, the reference, kept: ERP_STATEMENTS_SOURCE=lines;
tests/erp_books/test_statements_from_monthly_balances.py proves them equal on random data). A year over a million
lines reads a few tens of thousands of summary rows instead of half a million lines (docs/erp-ledger.md, "Cost")."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from erp.ledger.repository import Amounts, StatementRepository


@dataclass(frozen=True)
class Split:
    """`months`: [first, until) as first days of months (None: unbounded), or None when no month is full;
    `lines`: the inclusive date ranges outside them (start None: from the start)."""

    months: tuple[date | None, date | None] | None
    lines: list[tuple[date | None, date]]


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def split(date_from: date | None, date_to: date) -> Split:
    """The range [date_from, date_to] (date_from None: from the start) as its full months and the days around."""
    first = None if date_from is None else date_from if date_from.day == 1 else _next_month(date_from)
    # The first day after the last full month: date_to's month when it ends there, else that month's first day.
    until: date | None
    if date_to == date.max:
        until = None
    else:
        following = date_to + timedelta(days=1)
        until = following.replace(day=1)
    if first is not None and until is not None and first >= until:
        return Split(None, [(date_from, date_to)])
    lines: list[tuple[date | None, date]] = []
    if date_from is not None and first is not None and date_from < first:
        lines.append((date_from, first - timedelta(days=1)))
    if until is not None and until <= date_to:
        lines.append((until, date_to))
    return Split((first, until), lines)


async def sums(session: AsyncSession, *, date_from: date | None, date_to: date, columns: str | None,
               project_id: uuid.UUID | None, cost_center_id: uuid.UUID | None, client_id: uuid.UUID | None,
               amounts: Amounts = "transaction") -> list[dict[str, Any]]:
    """As `StatementRepository.sums`: debit and credit per account, currency and column over the range."""
    parts = split(date_from, date_to)
    return await StatementRepository(session).sums_from_monthly_balances(
        months=parts.months, line_ranges=parts.lines, columns=columns, project_id=project_id,
        cost_center_id=cost_center_id, client_id=client_id, amounts=amounts)
