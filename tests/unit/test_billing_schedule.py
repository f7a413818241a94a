"""Billing terms -> schedule: pure rules, no database."""

from datetime import date
from decimal import Decimal

import pytest

from erp.billing.schedule import add_interval, plan_schedule
from throughline_events.billing import FixedInstallments, Milestone, Milestones, Retainer, TimeAndMaterials
from throughline_events.money import round_money, split_by_weights, split_evenly

WON = date(2026, 11, 27)


def test_fixed_installments_put_the_remainder_on_the_last() -> None:
    plan = plan_schedule(FixedInstallments(installments=3, interval="month", start_date=date(2026, 1, 31)),
                         Decimal("100.00"), "EUR", WON)
    assert [i.amount for i in plan.items] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert [i.due_date for i in plan.items] == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)]


@pytest.mark.parametrize(("currency", "total", "expected"), [
    ("JPY", "1000", ["333", "333", "334"]),
    ("KWD", "10.000", ["3.333", "3.333", "3.334"]),
    ("EUR", "0.02", ["0.00", "0.00", "0.02"]),
])
def test_splits_respect_each_currencys_minor_unit(currency: str, total: str, expected: list[str]) -> None:
    assert split_evenly(Decimal(total), 3, currency) == [Decimal(e) for e in expected]


def test_milestones_split_by_percent_and_sum_exactly() -> None:
    terms = Milestones(milestones=[Milestone(name="a", percent=Decimal("33.33")),
                                   Milestone(name="b", percent=Decimal("33.33")),
                                   Milestone(name="c", percent=Decimal("33.34"))])
    plan = plan_schedule(terms, Decimal("999.99"), "USD", WON)
    assert sum(i.amount for i in plan.items) == Decimal("999.99")
    assert [i.due_date for i in plan.items] == [None, None, None]


def test_retainer_and_time_and_materials() -> None:
    retainer = plan_schedule(Retainer(amount=Decimal("5000.00"), interval="quarter", count=3,
                                      start_date=date(2026, 11, 30)), Decimal("15000"), "GBP", WON)
    assert [i.due_date for i in retainer.items] == [date(2026, 11, 30), date(2027, 2, 28), date(2027, 5, 30)]
    tm = plan_schedule(TimeAndMaterials(hourly_rate=Decimal("120"), cap=Decimal("20000")), Decimal("0"), "EUR", WON)
    assert tm.items == [] and tm.hourly_rate == Decimal("120.00") and tm.cap == Decimal("20000.00")


def test_no_terms_means_one_item_on_the_won_date() -> None:
    plan = plan_schedule(None, Decimal("12000"), "EUR", WON)
    assert [(i.due_date, i.amount) for i in plan.items] == [(WON, Decimal("12000.00"))]


def test_weights_and_rounding() -> None:
    assert split_by_weights(Decimal("10"), [Decimal(1), Decimal(2)], "EUR") == [Decimal("3.33"), Decimal("6.67")]
    assert round_money(Decimal("2.675"), "EUR") == Decimal("2.68")
    assert round_money(Decimal("2.665"), "EUR") == Decimal("2.66")  # banker's rounding
    assert add_interval(date(2024, 2, 29), "year", 1) == date(2025, 2, 28)
    assert add_interval(date(2026, 1, 1), "week", 2) == date(2026, 1, 15)
    with pytest.raises(ValueError):
        split_by_weights(Decimal(1), [], "EUR")
