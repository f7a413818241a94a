"""Billing terms -> schedule items (pure functions: the rules, testable without a database)."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from erp.billing.models import BillingType
from throughline_events.billing import FixedInstallments, Milestones, Retainer, TimeAndMaterials
from throughline_events.money import round_money, split_by_weights, split_evenly

Terms = FixedInstallments | Milestones | Retainer | TimeAndMaterials


@dataclass(frozen=True)
class PlannedItem:
    label: str
    due_date: date | None
    amount: Decimal


@dataclass(frozen=True)
class PlannedSchedule:
    billing_type: BillingType
    items: list[PlannedItem]
    hourly_rate: Decimal | None = None
    cap: Decimal | None = None


def plan_schedule(terms: Terms | None, amount: Decimal, currency: str, won_on: date) -> PlannedSchedule:
    if terms is None:
        return PlannedSchedule(BillingType.SINGLE, [PlannedItem("Full amount", won_on, round_money(amount, currency))])
    if isinstance(terms, FixedInstallments):
        parts = split_evenly(amount, terms.installments, currency)
        return PlannedSchedule(BillingType.FIXED, [
            PlannedItem(f"Installment {i + 1} of {terms.installments}",
                        add_interval(terms.start_date, terms.interval, i), part)
            for i, part in enumerate(parts)
        ])
    if isinstance(terms, Milestones):
        parts = split_by_weights(amount, [m.percent for m in terms.milestones], currency)
        return PlannedSchedule(BillingType.MILESTONES, [
            PlannedItem(m.name, m.due_date, part) for m, part in zip(terms.milestones, parts, strict=True)
        ])
    if isinstance(terms, Retainer):
        per_period = round_money(terms.amount, currency)
        return PlannedSchedule(BillingType.RETAINER, [
            PlannedItem(f"Retainer {i + 1} of {terms.count}", add_interval(terms.start_date, terms.interval, i),
                        per_period)
            for i in range(terms.count)
        ])
    # Time and materials: nothing is billed up front; billing runs bill approved time, up to the cap.
    return PlannedSchedule(BillingType.TIME_AND_MATERIALS, [], hourly_rate=round_money(terms.hourly_rate, currency),
                           cap=round_money(terms.cap, currency) if terms.cap is not None else None)


def add_interval(start: date, interval: str, times: int) -> date:
    if interval == "week":
        return start + timedelta(weeks=times)
    months = {"month": 1, "quarter": 3, "year": 12}[interval] * times
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    # The 31st of a short month falls on its last day.
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
