"""The cash forecast's projection and what-ifs, and a bill's arithmetic: pure functions, no database."""

import uuid
from datetime import date
from decimal import Decimal

from erp.payables.rules import LineInput, bill_totals
from erp.scenarios import forecast as fc

D = Decimal
CLIENT, DEAL, BILL = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
MONDAY = date(2027, 3, 1)


def _flows() -> list[fc.Flow]:
    return [
        fc.Flow("invoices", D("1000.00"), "EUR", date(2027, 2, 20), client_id=CLIENT),  # overdue: week 0
        fc.Flow("invoices", D("500.00"), "USD", date(2027, 3, 10), client_id=CLIENT),  # week 1, at 0.9
        fc.Flow("pipeline", D("10000.00"), "EUR", date(2027, 3, 16), deal_id=DEAL, probability=D("0.25")),
        fc.Flow("bills", D("300.00"), "EUR", date(2027, 3, 22), bill_id=BILL),  # week 3
        fc.Flow("recurring", D("50.00"), "EUR", date(2027, 9, 1)),  # beyond the horizon
    ]


RATES = {"EUR": D(1), "USD": D("0.9")}


def test_projection_weeks_balances_and_lowest() -> None:
    p = fc.project(_flows(), RATES, "EUR", D("-100.00"), MONDAY, 4)
    assert [w.start for w in p.weeks] == [date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 15), date(2027, 3, 22)]
    assert [w.sums["invoices"] for w in p.weeks] == [D("1000.00"), D("450.00"), D("0.00"), D("0.00")]
    assert p.weeks[2].sums["pipeline"] == D("2500.00")  # weighted by its probability
    assert [w.closing for w in p.weeks] == [D("900.00"), D("1350.00"), D("3850.00"), D("3550.00")]
    assert (p.lowest_balance, p.lowest_week) == (D("900.00"), date(2027, 3, 1))
    assert (p.beyond_in, p.beyond_out) == (D("0.00"), D("50.00"))


def test_what_ifs() -> None:
    late = fc.client_pays_late(_flows(), CLIENT, 14)
    assert [f.on for f in late if f.client_id == CLIENT] == [date(2027, 3, 6), date(2027, 3, 24)]
    assert fc.deal_lost(_flows(), DEAL) == [f for f in _flows() if f.deal_id != DEAL]
    won = [f for f in fc.deal_won(_flows(), DEAL, 7) if f.deal_id == DEAL]
    assert (won[0].probability, won[0].on) == (D(1), date(2027, 3, 23))
    early = [f for f in fc.bill_paid_early(_flows(), BILL, date(2027, 3, 2)) if f.bill_id == BILL]
    assert early[0].on == date(2027, 3, 2)
    # The 31st of a short month falls on its last day; nothing after the end date or the horizon.
    monthly = fc.repeating("hires", D("3000.00"), "EUR", date(2027, 1, 31), date(2027, 4, 15), date(2027, 12, 31),
                           "month")
    assert [f.on for f in monthly] == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]
    # Occurrences before `since` (paid already) are left out; weekly ones are not even walked.
    weekly = fc.repeating("recurring", D("10.00"), "EUR", date(2020, 1, 6), None, date(2027, 3, 15), "week",
                          since=MONDAY)
    assert [f.on for f in weekly] == [date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 15)]


def test_bill_tax_per_rate_and_reverse_charge() -> None:
    totals = bill_totals([LineInput(D(3), D("33.33"), "standard", D(19), D(0)),
                          LineInput(D(1), D("0.01"), "standard", D(19), D(0)),
                          LineInput(D(1), D("200.00"), "reverse_charge", D(0), D(19))], "EUR")
    # 19 % of the standard group's 100.00 is 19.00, shared between its lines; the reverse-charge line owes 38.00.
    assert [(r.net, r.tax, r.reverse_charge_tax) for r in totals.lines] == [
        (D("99.99"), D("19.00"), D("0.00")), (D("0.01"), D("0.00"), D("0.00")), (D("200.00"), D("0.00"), D("38.00"))]
    assert (totals.subtotal, totals.tax_total, totals.reverse_charge_tax, totals.total) == (
        D("300.00"), D("19.00"), D("38.00"), D("319.00"))
