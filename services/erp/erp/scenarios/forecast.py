"""The forward cash forecast, without a database: flows of money (each with its day, currency and what it belongs
to), what-if adjustments over them, and the week-by-week projection from an opening balance.

The service gathers the flows (erp.scenarios.repository), applies a scenario's adjustments here, converts every
flow into the base currency at the rate of the forecast's first day (no forward rates are kept), and projects.
"""

import dataclasses
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from erp.billing.api import add_interval
from throughline_events.money import ZERO, round_money

INFLOWS = ("invoices", "schedule", "pipeline", "other_in")
OUTFLOWS = ("bills", "expenses", "recurring", "hires")
ONE = Decimal(1)


@dataclass(frozen=True)
class Flow:
    source: str  # one of INFLOWS or OUTFLOWS
    amount: Decimal  # > 0 in `currency`; a pipeline flow's full amount, before its probability
    currency: str
    on: date
    client_id: uuid.UUID | None = None  # whose payment it is (invoices, schedule items, deals)
    deal_id: uuid.UUID | None = None
    bill_id: uuid.UUID | None = None
    probability: Decimal = ONE  # 0..1: a deal's chance of being won


@dataclass(frozen=True)
class Week:
    start: date
    opening: Decimal
    sums: dict[str, Decimal]
    closing: Decimal

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def inflow(self) -> Decimal:
        return sum((self.sums[s] for s in INFLOWS), ZERO)

    @property
    def outflow(self) -> Decimal:
        return sum((self.sums[s] for s in OUTFLOWS), ZERO)


@dataclass(frozen=True)
class Projection:
    weeks: list[Week]
    lowest_balance: Decimal
    lowest_week: date
    beyond_in: Decimal
    beyond_out: Decimal


# --- adjustments: each a function of the flows ------------------------------------------------------


def client_pays_late(flows: list[Flow], client_id: uuid.UUID, days: int) -> list[Flow]:
    """Everything the client pays (invoices, schedule items, its deals) arrives `days` later."""
    shift = timedelta(days=days)
    return [dataclasses.replace(f, on=f.on + shift) if f.client_id == client_id and f.source in INFLOWS else f
            for f in flows]


def deal_lost(flows: list[Flow], deal_id: uuid.UUID) -> list[Flow]:
    return [f for f in flows if f.deal_id != deal_id]


def deal_won(flows: list[Flow], deal_id: uuid.UUID, shift_days: int) -> list[Flow]:
    """The deal is certain (probability 1), its billing moved by `shift_days` when it is won on another day than
    expected."""
    shift = timedelta(days=shift_days)
    return [dataclasses.replace(f, probability=ONE, on=f.on + shift) if f.deal_id == deal_id else f for f in flows]


def bill_paid_early(flows: list[Flow], bill_id: uuid.UUID, pay_on: date) -> list[Flow]:
    return [dataclasses.replace(f, on=pay_on) if f.bill_id == bill_id else f for f in flows]


def repeating(source: str, amount: Decimal, currency: str, start: date, end: date | None, until: date,
              interval: str, since: date | None = None) -> list[Flow]:
    """A flow on `start` and every `interval` (week, month, quarter, year) after, up to `end` and `until`, leaving
    out those before `since`. The 31st of a short month falls on its last day, as in billing schedules."""
    out, n = [], 0
    last = min(end, until) if end is not None else until
    if since is not None and interval == "week" and since > start:
        n = (since - start).days // 7  # skip the weeks before `since` without walking them
    while (day := add_interval(start, interval, n)) <= last:
        if since is None or day >= since:
            out.append(Flow(source, amount, currency, day))
        n += 1
    return out


# --- the projection -------------------------------------------------------------------------------


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def project(flows: Iterable[Flow], rates: dict[str, Decimal], base: str, opening: Decimal, as_of: date,
            weeks: int) -> Projection:
    """Weeks from the Monday of `as_of`. A flow due before it (an overdue invoice, an owed expense) is expected in
    the first week; one after the last week is counted apart (`beyond_*`). The flows of a week, source, currency and
    probability are summed first, then weighted, converted and rounded once (thousands of bills cost one
    multiplication per week and currency, not one each)."""
    first = week_start(as_of)
    horizon_end = first + timedelta(weeks=weeks) - timedelta(days=1)
    groups: dict[tuple[int, str, str, Decimal], Decimal] = {}
    for flow in flows:
        index = -1 if flow.on > horizon_end else max(0, (flow.on - first).days // 7)
        key = (index, flow.source, flow.currency, flow.probability)
        groups[key] = groups.get(key, ZERO) + flow.amount
    zero = round_money(ZERO, base)  # 0.00 in the base currency's minor unit, so every figure reads alike
    cells: dict[int, dict[str, Decimal]] = {i: dict.fromkeys(INFLOWS + OUTFLOWS, zero) for i in range(-1, weeks)}
    for (index, source, currency, probability), amount in groups.items():
        cells[index][source] += round_money(amount * probability * rates[currency], base)
    out: list[Week] = []
    balance = round_money(opening, base)
    for i in range(weeks):
        sums = cells[i]
        closing = balance + sum((sums[s] for s in INFLOWS), ZERO) - sum((sums[s] for s in OUTFLOWS), ZERO)
        out.append(Week(first + timedelta(weeks=i), balance, sums, closing))
        balance = closing
    lowest = min(out, key=lambda w: (w.closing, w.start))
    beyond = cells[-1]
    return Projection(out, lowest.closing, lowest.start, sum((beyond[s] for s in INFLOWS), zero),
                      sum((beyond[s] for s in OUTFLOWS), zero))
