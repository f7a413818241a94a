"""Property, in the base currency: whatever sequence of USD facts happens (invoices issued, paid in part or in full
on days of other rates, credited, voided) in EUR books, after each one every entry still balances in USD and the
trial balance sums to zero in EUR (rounding and realised gains and losses closed on 4900/6950), nothing is left
unconverted when every day has its rate, and the USD receivables still equal the open invoices."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.erp_billing.helpers import fixed, issued, line, project_for, today
from tests.erp_books.books import balances, open_invoices, open_receivables, settle, trial_balance_difference
from tests.erp_cash.helpers import company_in_eur
from tests.support import Api

D = Decimal
DAYS_AGO_AND_RATES = {0: "0.9213", 3: "0.9377", 9: "0.8891", 15: "1.0042"}
amounts = st.integers(min_value=1, max_value=500_000).map(lambda cents: D(cents) / 100)
steps = st.one_of(
    st.tuples(st.just("issue"), st.lists(st.tuples(amounts, st.sampled_from(["0", "7", "19"])), min_size=1,
                                         max_size=3)),
    st.tuples(st.just("pay"), st.integers(0, 9), st.floats(0.05, 1.0), st.sampled_from(sorted(DAYS_AGO_AND_RATES))),
    st.tuples(st.just("credit"), st.integers(0, 9), st.floats(0.05, 1.0)),
    st.tuples(st.just("void"), st.integers(0, 9)),
)


@pytest.fixture(scope="module")
def usd_project(admin: Api, finance: Api) -> dict[str, Any]:
    company_in_eur(finance)
    for days_ago, rate in DAYS_AGO_AND_RATES.items():
        finance.ok("PUT", "/api/erp/exchange-rates", json={
            "currency": "USD", "rate_date": str(today() - timedelta(days=days_ago)), "rate": rate})
    return project_for(admin, fixed(1, today() + timedelta(days=400)), amount="5000.00", currency="USD")


def _apply(step: tuple[Any, ...], finance: Api, project: dict[str, Any]) -> None:
    kind = step[0]
    invoices = open_invoices(finance, project)
    if kind == "issue":
        issued(finance, project, [line("Work", "1", str(amount), rate) for amount, rate in step[1]])
    elif invoices:
        settle(finance, kind, invoices[step[1] % len(invoices)], step[2] if kind != "void" else 1.0,
               paid_on=today() - timedelta(days=step[3]) if kind == "pay" else None)


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=st.lists(steps, min_size=1, max_size=6))
def test_foreign_books_balance_in_the_base_currency_after_every_fact(
        sequence: list[tuple[Any, ...]], finance: Api, usd_project: dict[str, Any]) -> None:
    client_id = usd_project["client_id"]
    for step in sequence:
        _apply(step, finance, usd_project)
        assert trial_balance_difference(finance, currency="USD", client_id=client_id) == 0, step
        assert trial_balance_difference(finance, basis="base", client_id=client_id) == 0, step
        assert trial_balance_difference(finance, basis="base") == 0, step  # the whole books too
        base = finance.ok("GET", "/api/erp/reports/trial-balance", params={"basis": "base", "client_id": client_id})
        assert base["unconverted"] == [], step
        assert balances(finance, client_id, "USD").get("1100", D(0)) == open_receivables(finance, client_id, "USD")
