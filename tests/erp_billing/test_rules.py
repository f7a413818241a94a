"""The pure billing rules: line rounding per currency, totals, numbering, settled status, dunning steps."""

from datetime import date
from decimal import Decimal

from erp.invoices.rules import format_number, is_overdue, line_amounts, settled_status, totals
from erp.reminders.service import Step, due_steps


def test_lines_round_half_even_to_the_currency_and_totals_add_up() -> None:
    eur = line_amounts(Decimal("3"), Decimal("19.99"), Decimal("19"), "EUR")
    assert (eur.net, eur.tax, eur.total) == (Decimal("59.97"), Decimal("11.39"), Decimal("71.36"))
    assert line_amounts(Decimal("1"), Decimal("0.125"), Decimal("0"), "EUR").net == Decimal("0.12")  # half-even
    assert line_amounts(Decimal("1"), Decimal("0.135"), Decimal("0"), "EUR").net == Decimal("0.14")
    jpy = line_amounts(Decimal("3"), Decimal("333.5"), Decimal("10"), "JPY")
    assert (jpy.net, jpy.tax) == (Decimal("1000"), Decimal("100"))
    kwd = line_amounts(Decimal("1"), Decimal("1.23456"), Decimal("0"), "KWD")
    assert kwd.net == Decimal("1.235")  # three minor digits
    summed = totals([eur, line_amounts(Decimal("1"), Decimal("10"), Decimal("7"), "EUR")])
    assert (summed.subtotal, summed.tax_total, summed.total) == (Decimal("69.97"), Decimal("12.09"),
                                                                 Decimal("82.06"))


def test_numbers_and_statuses() -> None:
    assert format_number("INV", 2026, 42) == "INV-2026-00042"
    assert format_number("INV", 2026, 123456) == "INV-2026-123456"
    assert settled_status(Decimal(100), Decimal(0), Decimal(0)) == "issued"
    assert settled_status(Decimal(100), Decimal(40), Decimal(0)) == "partially_paid"
    assert settled_status(Decimal(100), Decimal(0), Decimal(40)) == "issued"
    assert settled_status(Decimal(100), Decimal(60), Decimal(40)) == "paid"
    assert settled_status(Decimal(100), Decimal(0), Decimal(100)) == "credited"
    assert settled_status(Decimal(100), Decimal(100), Decimal(0)) == "paid"


def test_overdue_and_due_steps() -> None:
    due = date(2026, 11, 1)
    assert not is_overdue("issued", due, Decimal(10), date(2026, 11, 1))
    assert is_overdue("partially_paid", due, Decimal(10), date(2026, 11, 2))
    assert not is_overdue("paid", due, Decimal(0), date(2027, 1, 1))
    assert not is_overdue("draft", None, Decimal(10), date(2027, 1, 1))
    steps = [Step(1, 3), Step(2, 7), Step(3, 14)]
    assert due_steps(steps, 2, set()) == []
    assert due_steps(steps, 3, set()) == [Step(1, 3)]
    assert due_steps(steps, 30, {1}) == [Step(2, 7), Step(3, 14)]  # caught up after downtime
    assert due_steps(steps, 30, {1, 2, 3}) == []
