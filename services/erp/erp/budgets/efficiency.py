"""The department efficiency report: per cost center of the projects worked on, or per department of the people who
worked, and currency over a period: revenue earned and direct cost (the profitability report's effort basis),
margin, billable utilisation, revenue per billable hour, effective rate vs list rate (docs/erp-delivery.md).

Revenue and cost are earned per project. By cost center each project's figures go to its cost center whole; by
department they are shared out between the departments of the people who logged time on the project in the period,
by their hours on it (decision 212): a project's departments' shares always add up to its figures exactly."""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from erp.budgets.repository import CAPACITY_IN_PERIOD, CENTER_EXPENSES_BY_DEPARTMENT, EFFICIENCY_TIME, rows
from erp.budgets.schemas import EfficiencyReport, EfficiencyRow
from erp.reports.api import percent, profitability
from throughline_events.money import ZERO, round_money, split_by_weights
from throughline_messaging.uow import UnitOfWork
from throughline_platform.problems import Unprocessable

GroupBy = Literal["department", "cost_center"]

MAX_PERIOD_DAYS = 366
RATE = Decimal("0.01")
HOURS = Decimal("0.01")
EVERYTHING = 1_000_000  # the profitability report's page size when the report needs every group


@dataclass
class _Group:
    """One row's sums: money from the profitability report, time from the time entries."""

    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    hours: Decimal = ZERO
    billable_hours: Decimal = ZERO
    list_value: Decimal = ZERO
    rated_hours: Decimal = ZERO
    capacity: Decimal = ZERO
    capacity_unknown: bool = False  # someone in the group has no capacity: utilisation would be understated
    names: dict[str, Any] = field(default_factory=dict)  # the cost center's id, code and name


# A group: (cost center id or department, currency); None is "no cost center" / "no department".
_Key = tuple[uuid.UUID | str | None, str]


def _per(amount: Decimal, hours: Decimal) -> Decimal | None:
    return (amount / hours).quantize(RATE) if hours else None


async def department_efficiency(uow: UnitOfWork, *, group_by: GroupBy, date_from: date,
                                date_to: date) -> EfficiencyReport:
    if date_from > date_to:
        raise Unprocessable("date_from must not be after date_to.")
    if (date_to - date_from).days >= MAX_PERIOD_DAYS:
        raise Unprocessable(f"The report covers at most {MAX_PERIOD_DAYS} days; narrow date_from..date_to.")
    time = await rows(uow.session, EFFICIENCY_TIME, date_from=date_from, date_to=date_to)
    by_department = group_by == "department"

    def key_of(r: dict[str, Any]) -> _Key:
        return (r["department"] if by_department else r["cost_center_id"]), r["currency"]

    groups: dict[_Key, _Group] = defaultdict(_Group)
    if by_department:
        await _money_by_department(uow, groups, time, date_from, date_to)
    else:
        await _money_by_cost_center(uow, groups, date_from, date_to)
    await _add_time(uow, groups, time, key_of, date_from, date_to)
    items = [_row(key, g, by_department) for key, g in groups.items()
             if g.revenue or g.cost or g.hours]  # a group where nothing happened in the period is left out
    # By name (the department, or the cost center's code, as the profitability report orders them), "none" last.
    items.sort(key=lambda r: (*_order(r.department if by_department else r.cost_center_code), r.currency))
    return EfficiencyReport(group_by=group_by, date_from=date_from, date_to=date_to, items=items)


async def _money_by_cost_center(uow: UnitOfWork, groups: dict[_Key, _Group], date_from: date, date_to: date) -> None:
    """Revenue and cost per cost center: the profitability report's rows by cost center (its center-only expenses
    included), so that both reports say the same."""
    money = await profitability(uow, group_by="cost_center", date_from=date_from, date_to=date_to, client_id=None,
                                project_id=None, cost_center_id=None, currency=None, status=None, limit=EVERYTHING,
                                offset=0)
    for row in money.items:
        g = groups[(row.cost_center_id, row.currency)]
        g.revenue, g.cost = row.revenue_recognised, row.cost_total
        g.names = {"cost_center_id": row.cost_center_id, "cost_center_code": row.cost_center_code,
                   "cost_center_name": row.cost_center_name}


async def _money_by_department(uow: UnitOfWork, groups: dict[_Key, _Group], time: list[dict[str, Any]],
                               date_from: date, date_to: date) -> None:
    """Each project's figures of the period shared out between the departments of the people who logged time on it
    in the period: its cost of time by what each department's hours cost (at their cost rates), its revenue and its
    expenses by their hours. `split_by_weights` makes a project's parts add up to its figures to the cent. A project
    with money but no hours in the period, and a person without a department, count under no department. Expenses
    on a cost center without a project go to the department of the person who submitted them."""
    hours: dict[uuid.UUID, dict[str | None, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    costs: dict[uuid.UUID, dict[str | None, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in time:
        hours[r["project_id"]][r["department"]] += r["hours"]
        costs[r["project_id"]][r["department"]] += r["cost_value"]
    money = await profitability(uow, group_by="project", date_from=date_from, date_to=date_to, client_id=None,
                                project_id=None, cost_center_id=None, currency=None, status=None, limit=EVERYTHING,
                                offset=0)
    for row in money.items:
        if not (row.revenue_recognised or row.cost_total):
            continue
        assert row.project_id is not None  # grouped by project
        # In one order (departments by name, none last), so that the cent a split leaves goes to the same one. Only
        # departments whose hours add up to more than nothing (corrections can take a department's hours back).
        departments = sorted((d for d, h in hours[row.project_id].items() if h > 0), key=_order)
        by_hours = [hours[row.project_id][d] for d in departments]
        by_cost = [costs[row.project_id][d] for d in departments]
        if not departments:
            departments, by_hours = [None], [Decimal(1)]
        if len(by_cost) != len(departments) or min(by_cost) < 0 or not sum(by_cost):
            by_cost = by_hours  # no cost rates in the project's currency: cost follows the hours too
        parts = zip(departments, split_by_weights(row.revenue_recognised, by_hours, row.currency),
                    split_by_weights(row.cost_time, by_cost, row.currency),
                    split_by_weights(row.cost_expenses, by_hours, row.currency), strict=True)
        for department, revenue, time_cost, expenses in parts:
            g = groups[(department, row.currency)]
            g.revenue += revenue
            g.cost += time_cost + expenses
    for r in await rows(uow.session, CENTER_EXPENSES_BY_DEPARTMENT, date_from=date_from, date_to=date_to):
        groups[(r["department"], r["currency"])].cost += round_money(r["amount"], r["currency"])


async def _add_time(uow: UnitOfWork, groups: dict[_Key, _Group], time: list[dict[str, Any]], key_of: Any,
                    date_from: date, date_to: date) -> None:
    """Hours, billable hours and list value per group; a person's capacity is shared between the groups they logged
    time in, by their hours in each."""
    people = sorted({r["person_id"] for r in time})
    capacity = {r["user_id"]: Decimal(r["capacity_hours"]) for r in await rows(
        uow.session, CAPACITY_IN_PERIOD, people=people, date_from=date_from, date_to=date_to)}
    person_hours: dict[str, Decimal] = defaultdict(Decimal)
    for r in time:
        person_hours[r["person_id"]] += r["hours"]
    for r in time:
        g = groups[key_of(r)]
        g.hours += r["hours"]
        g.billable_hours += r["billable_hours"]
        g.list_value += r["list_value"] or ZERO
        g.rated_hours += r["rated_hours"]
        if r["person_id"] in capacity:
            g.capacity += capacity[r["person_id"]] * r["hours"] / person_hours[r["person_id"]]
        else:
            g.capacity_unknown = True


def _order(name: str | None) -> tuple[bool, str]:
    """By name, in code point order (as the profitability report sorts cost centers), "none" last."""
    return name is None, name or ""


def _row(key: _Key, g: _Group, by_department: bool) -> EfficiencyRow:
    group, currency = key
    margin = g.revenue - g.cost
    capacity = None if g.capacity_unknown or not g.hours else round(g.capacity, 2)
    effective, listed = _per(g.revenue, g.hours), _per(g.list_value, g.rated_hours)
    names = g.names or {"cost_center_id": None if by_department else group, "cost_center_code": None,
                        "cost_center_name": None}
    return EfficiencyRow(
        department=group if by_department and isinstance(group, str) else None, **names, currency=currency,
        revenue=g.revenue, direct_cost=g.cost, margin=margin, margin_percent=percent(margin, g.revenue),
        hours=g.hours.quantize(HOURS), billable_hours=g.billable_hours.quantize(HOURS), capacity_hours=capacity,
        billable_utilisation_percent=percent(g.billable_hours, capacity),
        revenue_per_billable_hour=_per(g.revenue, g.billable_hours), effective_rate=effective, list_rate=listed,
        effective_vs_list_percent=percent(effective, listed) if effective is not None else None)
