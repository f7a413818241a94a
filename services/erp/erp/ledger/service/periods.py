"""Accounting periods: calendar months, open until finance closes them.

A closed month refuses postings dated in it. A manual entry dated in it is refused (422); an automatic posting
of a fact that happened in it (a payment booked late, a bank statement imported after the close) is dated the
first day of the first open month after it, keeping the fact's own date (`fact_date`): the business change is
never refused because its books are closed, and the closed month's figures never move (docs/erp-ledger.md). The
dating happens in the database, in the trigger every entry passes (migration 0018: one statement per posting);
closing takes the lock that trigger shares.
"""

import uuid
from dataclasses import dataclass
from datetime import date

from erp.clock import today
from erp.db import utcnow
from erp.ledger.models import Period, PeriodAction, PeriodLog, PeriodStatus
from erp.ledger.repository import LedgerRepository
from throughline_events.erp import LedgerPeriodClosedV1
from throughline_messaging.aggregate import Cause
from throughline_messaging.uow import UnitOfWork
from throughline_platform.auth import Principal
from throughline_platform.context import causation_id_var, correlation_id_var, request_id_var
from throughline_platform.problems import Conflict, Unprocessable


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def months_before(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str) -> date:
    """`yyyy-mm` as the month's first day (422 otherwise)."""
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        return date(int(year), int(month), 1)
    except ValueError:
        raise Unprocessable(f"{text!r} is not a month: write it yyyy-mm (2026-11).", field="month") from None


def label(month: date) -> str:
    return f"{month:%Y-%m}"


async def is_closed(uow: UnitOfWork, day: date) -> bool:
    """Whether `day`'s month is closed (the manual entry's 422; the automatic postings' dates are set where every
    entry passes, the trigger of migration 0018, which also guards a manual entry against a close meanwhile)."""
    return month_of(day) in await LedgerRepository(uow.session).closed_months(month_of(day), month_of(day))


async def close_period(uow: UnitOfWork, principal: Principal, month_text: str, reason: str | None) -> Period:
    month = parse_month(month_text)
    if next_month(month) > today():
        raise Unprocessable(f"{label(month)} has not ended yet: only a past month can be closed.",
                            type_slug="period-not-ended")
    repo = LedgerRepository(uow.session)
    await repo.take_periods_lock()  # waits for the postings in flight; later ones see the close
    period = await repo.period(month, for_update=True)
    if period is not None and period.status == PeriodStatus.CLOSED:
        raise Conflict(f"{label(month)} is already closed.", type_slug="period-closed")
    now = utcnow()
    if period is None:
        period = Period(id=uuid.uuid4(), month=month, status=PeriodStatus.CLOSED)
        repo.add(period)
    period.status, period.closed_at, period.closed_by = PeriodStatus.CLOSED, now, principal.user_id
    repo.add(PeriodLog(id=uuid.uuid4(), period_id=period.id, action=PeriodAction.CLOSED, reason=reason,
                       actor_id=principal.user_id, actor_role=principal.role))
    uow.record(LedgerPeriodClosedV1(period_id=period.id, month=label(month), closed_by=principal.user_id,
                                    closed_at=now), _cause())
    await uow.commit()
    return period


async def reopen_period(uow: UnitOfWork, principal: Principal, month_text: str, reason: str) -> Period:
    month = parse_month(month_text)
    repo = LedgerRepository(uow.session)
    period = await repo.period(month, for_update=True)
    if period is None or period.status != PeriodStatus.CLOSED:
        raise Conflict(f"{label(month)} is not closed.", type_slug="period-open")
    period.status = PeriodStatus.OPEN
    repo.add(PeriodLog(id=uuid.uuid4(), period_id=period.id, action=PeriodAction.REOPENED, reason=reason,
                       actor_id=principal.user_id, actor_role=principal.role))
    await uow.commit()
    return period


@dataclass(frozen=True)
class MonthState:
    month: date
    status: PeriodStatus
    period: Period | None
    log: list[PeriodLog]


async def months(uow: UnitOfWork, since: date, until: date) -> list[MonthState]:
    """Every month from `since` to `until` (first days), newest first, with its status and log."""
    repo = LedgerRepository(uow.session)
    periods = {p.month: p for p in await repo.periods(since, until)}
    logs: dict[uuid.UUID, list[PeriodLog]] = {}
    for entry in await repo.period_log([p.id for p in periods.values()]) if periods else []:
        logs.setdefault(entry.period_id, []).append(entry)
    result = []
    month = since
    while month <= until:
        period = periods.get(month)
        status = PeriodStatus(period.status) if period else PeriodStatus.OPEN
        result.append(MonthState(month, status, period, logs.get(period.id, []) if period else []))
        month = next_month(month)
    return result[::-1]


def _cause() -> Cause:
    return Cause(correlation_id_var.get(), causation_id_var.get() or request_id_var.get())
