"""The finance reports: profitability (per project, client, cost center), cash-flow forecast, AR aging and
utilisation. The database aggregates the ledger; the rules on top are pure functions below."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

from erp.reports.repository import (
    AR_AGING,
    CAPACITIES,
    CASH_FLOW,
    FAR_FUTURE,
    FAR_PAST,
    PROFITABILITY_KEYS,
    UTILISATION,
    ReportRepository,
    edge_months,
    profitability_sql,
)
from erp.reports.schemas import (
    MARGIN_BASES,
    AgingReport,
    AgingRow,
    AgingTotals,
    CashFlowPeriod,
    CashFlowReport,
    CashFlowTotals,
    GroupBy,
    Margin,
    ProfitabilityReport,
    ProfitabilityRow,
    ProfitabilityTotals,
    UtilisationReport,
    UtilisationRow,
    UtilisationWeek,
)
from throughline_events import money
from throughline_events.money import MINOR_UNITS, round_money
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Unprocessable

ZERO = Decimal(0)


def _check_currency(code: str | None) -> None:
    """A currency filter must name an ISO 4217 currency (the money module's rule, answered as a 422)."""
    if code is not None:
        try:
            money.check_currency(code)
        except ValueError as exc:
            raise Unprocessable(f"{exc}.") from None


def percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    if not whole:
        return None
    return (part * 100 / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class _Sums:
    """One group's figures as the database summed them."""

    currency: str
    keys: dict[str, Any]
    projects: int
    revenue_invoiced: Decimal
    revenue_recognised: Decimal
    cost_time: Decimal
    cost_expenses: Decimal
    budget_amount: Decimal
    hours: Decimal
    billable_hours: Decimal
    budget_hours: Decimal | None
    unpriced_hours: Decimal
    unconverted_expenses: int

    def row(self) -> ProfitabilityRow:
        cost_total = self.cost_time + self.cost_expenses
        margin = self.revenue_invoiced - cost_total
        recognised_margin = self.revenue_recognised - cost_total
        margins = [Margin(basis=basis, label=MARGIN_BASES[basis], revenue=revenue, cost=cost_total, margin=value,
                          margin_percent=percent(value, revenue))
                   for basis, revenue, value in (("effort", self.revenue_recognised, recognised_margin),
                                                 ("invoiced", self.revenue_invoiced, margin))]
        return ProfitabilityRow(
            **self.keys, projects=self.projects, currency=self.currency, margins=margins,
            revenue_invoiced=self.revenue_invoiced, revenue_recognised=self.revenue_recognised,
            cost_time=self.cost_time, cost_expenses=self.cost_expenses, cost_total=cost_total, margin=margin,
            margin_percent=percent(margin, self.revenue_invoiced), recognised_margin=recognised_margin,
            recognised_margin_percent=percent(recognised_margin, self.revenue_recognised),
            budget_amount=self.budget_amount, budget_burn_percent=percent(cost_total, self.budget_amount),
            hours_logged=self.hours, billable_hours=self.billable_hours, budget_hours=self.budget_hours,
            hours_burn_percent=percent(self.hours, self.budget_hours), unpriced_hours=self.unpriced_hours,
            unconverted_expenses=self.unconverted_expenses,
        )


def _sums(row: dict[str, Any]) -> _Sums:
    """A group as the database summed it: money already rounded per project."""
    return _Sums(
        currency=row["currency"], keys={key: row[key] for key in PROFITABILITY_KEYS}, projects=int(row["projects"]),
        revenue_invoiced=row["revenue_invoiced"], revenue_recognised=row["revenue_recognised"],
        cost_time=row["cost_time"], cost_expenses=row["cost_expenses"], budget_amount=row["budget_amount"],
        hours=row["hours"], billable_hours=row["billable_hours"], budget_hours=row["budget_hours"],
        unpriced_hours=row["unpriced_hours"], unconverted_expenses=int(row["unconverted_expenses"]),
    )


async def profitability(uow: UnitOfWork, *, group_by: GroupBy, date_from: date | None, date_to: date | None,
                        client_id: uuid.UUID | None, project_id: uuid.UUID | None,
                        cost_center_id: uuid.UUID | None, currency: str | None, status: str | None,
                        limit: int, offset: int) -> ProfitabilityReport:
    """The database rounds, groups, orders and pages (at 20,000 projects, building every project in Python took
    0.7 CPU s and 200+ MB per request); here only the page's rows and the totals become models."""
    _check_currency(currency)
    if date_from and date_to and date_from > date_to:
        raise Unprocessable("date_from must not be after date_to.")
    # A cost center also carries the approved expenses booked on it without a project (not with filters that
    # select projects: those expenses belong to no client, project or status).
    with_center_expenses = group_by == "cost_center" and client_id is None and project_id is None and status is None
    period_from, period_to = date_from or FAR_PAST, date_to or FAR_FUTURE
    rows = await ReportRepository(uow.session).rows(
        profitability_sql(group_by, with_center_expenses),
        client_id=client_id, project_id=project_id, cost_center_id=cost_center_id, currency=currency,
        status=status, date_from=period_from, date_to=period_to, **edge_months(period_from, period_to), limit=limit,
        offset=offset, currency_codes=list(MINOR_UNITS), currency_places=list(MINOR_UNITS.values()))
    items = [_sums(r).row() for r in rows if r["part"] == "item"]
    totals = [r for r in rows if r["part"] == "totals"]
    return ProfitabilityReport(
        group_by=group_by, date_from=date_from, date_to=date_to, items=items,
        total=sum(int(r["groups"]) for r in totals), limit=limit, offset=offset,
        totals=[_totals(r) for r in totals],
    )


def _totals(row: dict[str, Any]) -> ProfitabilityTotals:
    """One currency's totals: sums of the rounded project figures, whatever the page."""
    cost_total = row["cost_time"] + row["cost_expenses"]
    margin = row["revenue_invoiced"] - cost_total
    return ProfitabilityTotals(currency=row["currency"], revenue_invoiced=row["revenue_invoiced"],
                               revenue_recognised=row["revenue_recognised"], cost_time=row["cost_time"],
                               cost_expenses=row["cost_expenses"], cost_total=cost_total, margin=margin,
                               margin_percent=percent(margin, row["revenue_invoiced"]), hours_logged=row["hours"])


# --- cash flow ------------------------------------------------------------------------------------


def period_start(day: date, interval: Literal["week", "month"]) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_period(start: date, interval: Literal["week", "month"]) -> date:
    if interval == "week":
        return start + timedelta(weeks=1)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def periods(date_from: date, date_to: date, interval: Literal["week", "month"]) -> list[tuple[date, date]]:
    out, start = [], period_start(date_from, interval)
    while start <= date_to:
        end = next_period(start, interval)
        out.append((start, end - timedelta(days=1)))
        start = end
    return out


async def cash_flow(uow: UnitOfWork, *, interval: Literal["week", "month"], date_from: date | None,
                    date_to: date | None, client_id: uuid.UUID | None, currency: str | None,
                    today: date) -> CashFlowReport:
    _check_currency(currency)
    start = date_from or today
    end = date_to or (start + timedelta(weeks=12) if interval == "week" else start + timedelta(days=183))
    if start > end:
        raise Unprocessable("date_from must not be after date_to.")
    if len(periods(start, end, interval)) > 260:
        raise Unprocessable("The forecast covers at most 260 periods; narrow date_from..date_to.")
    slots = periods(start, end, interval)
    first = slots[0][0]
    rows = await ReportRepository(uow.session).rows(CASH_FLOW, client_id=client_id, currency=currency)
    cells: dict[tuple[date, str], dict[str, Decimal]] = defaultdict(
        lambda: {"invoices": ZERO, "schedule": ZERO, "expenses": ZERO})
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for r in rows:
        cur, amount = r["currency"], round_money(Decimal(r["amount"]), r["currency"])
        expected: date = r["expected_on"] or first
        if expected > slots[-1][1]:
            if r["source"] != "expenses":
                totals[cur]["beyond"] += amount
            continue
        if r["source"] == "invoices" and expected < first:
            totals[cur]["overdue"] += amount
        # Anything expected before the horizon (overdue, past schedule dates, owed expenses) is expected now.
        slot = period_start(max(expected, first), interval)
        cells[(slot, cur)][r["source"]] += amount
    items: list[CashFlowPeriod] = []
    currencies = sorted({cur for _, cur in cells} | set(totals))
    for cur in currencies:
        running = ZERO
        for s, e in slots:
            cell = cells.get((s, cur), {"invoices": ZERO, "schedule": ZERO, "expenses": ZERO})
            inflow = cell["invoices"] + cell["schedule"]
            net = inflow - cell["expenses"]
            running += net
            items.append(CashFlowPeriod(period_start=s, period_end=e, currency=cur, invoices_due=cell["invoices"],
                                        schedule_items=cell["schedule"], inflow=inflow,
                                        expenses_to_reimburse=cell["expenses"], net=net, cumulative_net=running))
    summary = []
    for cur in currencies:
        mine = [i for i in items if i.currency == cur]
        invoices = sum((i.invoices_due for i in mine), ZERO)
        schedule = sum((i.schedule_items for i in mine), ZERO)
        expenses = sum((i.expenses_to_reimburse for i in mine), ZERO)
        summary.append(CashFlowTotals(currency=cur, overdue_invoices=totals[cur]["overdue"], invoices_due=invoices,
                                      schedule_items=schedule, inflow=invoices + schedule,
                                      expenses_to_reimburse=expenses, net=invoices + schedule - expenses,
                                      beyond_horizon_inflow=totals[cur]["beyond"]))
    return CashFlowReport(interval=interval, date_from=start, date_to=end, items=items, totals=summary)


# --- AR aging -------------------------------------------------------------------------------------

BUCKETS = ("not_due", "days_0_30", "days_31_60", "days_61_90", "days_90_plus")
_SQL_BUCKETS = ("not_due", "d0_30", "d31_60", "d61_90", "d90_plus")


async def ar_aging(uow: UnitOfWork, *, as_of: date, client_id: uuid.UUID | None, currency: str | None,
                   limit: int, offset: int) -> AgingReport:
    _check_currency(currency)
    rows = await ReportRepository(uow.session).rows(AR_AGING, as_of=as_of, client_id=client_id, currency=currency)
    items = []
    for r in rows:
        cur = r["currency"]
        buckets = {b: round_money(Decimal(r[s] or 0), cur) for b, s in zip(BUCKETS, _SQL_BUCKETS, strict=True)}
        items.append(AgingRow(client_id=r["client_id"], client_name=r["client_name"], currency=cur, **buckets,
                              total=sum(buckets.values(), ZERO), invoices=int(r["invoices"])))
    totals: dict[str, dict[str, Any]] = {}
    for item in items:
        t = totals.setdefault(item.currency, {b: ZERO for b in (*BUCKETS, "total")} | {"invoices": 0})
        for b in (*BUCKETS, "total", "invoices"):
            t[b] += getattr(item, b)
    return AgingReport(as_of=as_of, items=items[offset:offset + limit], total=len(items), limit=limit,
                       offset=offset, totals=[AgingTotals(currency=c, **t) for c, t in sorted(totals.items())])


# --- utilisation ----------------------------------------------------------------------------------


def capacity_on(series: Iterable[tuple[date, Decimal]], day: date) -> Decimal | None:
    """The weekly capacity in force on `day` (the latest entry starting on or before it)."""
    current = None
    for starts, hours in series:
        if starts <= day:
            current = hours
    return current


async def utilisation(uow: UnitOfWork, *, date_from: date | None, date_to: date | None, person_id: str | None,
                      project_id: uuid.UUID | None, today: date, limit: int, offset: int) -> UtilisationReport:
    start = period_start(date_from or today - timedelta(weeks=4), "week")
    end = period_start(date_to or today, "week") + timedelta(days=6)
    if start > end:
        raise Unprocessable("date_from must not be after date_to.")
    if (end - start).days > 7 * 260:
        raise Unprocessable("Utilisation covers at most 260 weeks; narrow date_from..date_to.")
    repo = ReportRepository(uow.session)
    logged = await repo.rows(UTILISATION, date_from=start, date_to=end, person_id=person_id, project_id=project_id)
    series: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    for r in await repo.rows(CAPACITIES, person_id=person_id):
        series[r["user_id"]].append((r["effective_from"], Decimal(r["hours_per_week"])))
    hours: dict[tuple[str, date], tuple[Decimal, Decimal]] = {
        (r["person_id"], r["week"]): (Decimal(r["hours"]), Decimal(r["billable_hours"] or 0)) for r in logged}
    people = sorted({p for p, _ in hours} | ({p for p in series if project_id is None}))
    weeks = [s for s, _ in periods(start, end, "week")]
    rows = []
    team_capacity = team_hours = team_hours_with_capacity = team_billable = ZERO
    for person in people:
        person_weeks = []
        cap_total: Decimal | None = None
        h_total = b_total = ZERO
        for week in weeks:
            cap = capacity_on(series.get(person, []), week)
            h, b = hours.get((person, week), (ZERO, ZERO))
            person_weeks.append(UtilisationWeek(week_start=week, capacity_hours=cap, hours=h, billable_hours=b,
                                                utilisation_percent=percent(h, cap),
                                                billable_utilisation_percent=percent(b, cap)))
            if cap is not None:
                cap_total = (cap_total or ZERO) + cap
                team_hours_with_capacity += h
            h_total, b_total = h_total + h, b_total + b
        team_capacity += cap_total or ZERO
        team_hours += h_total
        team_billable += b_total
        rows.append(UtilisationRow(person_id=person, capacity_hours=cap_total, hours=h_total, billable_hours=b_total,
                                   utilisation_percent=percent(h_total, cap_total),
                                   billable_utilisation_percent=percent(b_total, cap_total), weeks=person_weeks))
    return UtilisationReport(date_from=start, date_to=end, items=rows[offset:offset + limit], total=len(rows),
                             limit=limit, offset=offset, capacity_hours=team_capacity, hours=team_hours,
                             billable_hours=team_billable,
                             utilisation_percent=percent(team_hours_with_capacity, team_capacity))
