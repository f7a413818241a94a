"""Property: whatever sequence of business facts happens (invoices issued, payments, credit notes, voids, expenses
approved with or without VAT, vendor bills approved and paid), after each one the trial balance sums to zero in every
currency, the ledger's receivables equal the open invoices (the AR aging), for the client and overall, the ledger's
payables move with the open bills (the AP aging): their difference stays what it was before the sequence (other
tests' manual entries on 2000 make it non-zero in a shared database; a wrong posting would move it), and the VAT
report still equals the tax accounts.

Hypothesis draws the sequences; each step goes through the real HTTP API, so the examples are few and short
(the facts are what the API allows: a step the rules refuse, such as voiding a paid invoice, is skipped)."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devstack.stack import Stack
from tests.erp_billing.helpers import fixed, issued, line, project_for, today
from tests.erp_books.books import (
    balances,
    open_invoices,
    open_payables,
    open_receivables,
    part,
    settle,
    trial_balance_difference,
    vat_reconciles,
)
from tests.erp_cash.helpers import approved_bill, company_in_eur, new_vendor, tax_rate
from tests.erp_costs.helpers import as_role as service_role
from tests.erp_costs.helpers import new_expense, suffix
from tests.support import Api

D = Decimal
amounts = st.integers(min_value=1, max_value=500_000).map(lambda cents: D(cents) / 100)
rates = st.sampled_from(["0", "7", "19"])
steps = st.one_of(
    st.tuples(st.just("issue"), st.lists(st.tuples(amounts, rates), min_size=1, max_size=3)),
    st.tuples(st.just("pay"), st.integers(0, 9), st.floats(0.05, 1.0)),
    st.tuples(st.just("credit"), st.integers(0, 9), st.floats(0.05, 1.0)),
    st.tuples(st.just("void"), st.integers(0, 9)),
    # An expense's VAT rate: none, or one of the module's own rates (a fixed list: drawn by position).
    st.tuples(st.just("expense"), amounts, st.sampled_from(["none", "0", "7", "19"])),
    st.tuples(st.just("bill"), st.lists(st.tuples(amounts, st.sampled_from(["7", "19"])), min_size=1, max_size=3)),
    st.tuples(st.just("pay_bill"), st.integers(0, 9), st.floats(0.05, 1.0)),
)


@pytest.fixture(scope="module")
def client_project(admin: Api) -> dict[str, Any]:
    return project_for(admin, fixed(1, today() + timedelta(days=400)), amount="5000.00")


@pytest.fixture(scope="module")
def vendor(finance: Api) -> dict[str, Any]:
    company_in_eur(finance)
    return new_vendor(finance) | {"rates": {p: tax_rate(finance, "standard", p)["id"] for p in ("7", "19")}}


@pytest.fixture(scope="module")
def expense_rates(finance: Api) -> dict[str, str]:
    """Rates of this module's own for its expenses (other tests archive or change the shared ones)."""
    mark = suffix()
    return {percent: finance.ok("POST", "/api/erp/tax-rates", 201, json={
        "name": f"Property expense {category} {percent} {mark}", "category": category, "percent": percent})["id"]
        for category, percent in (("zero", "0"), ("reduced", "7"), ("standard", "19"))}


def _bill_step(step: tuple[Any, ...], finance: Api, stack: Stack, vendor: dict[str, Any]) -> None:
    if step[0] == "bill":
        lines = [{"description": "Subcontract", "unit_price": str(amount), "tax_rate_id": vendor["rates"][rate]}
                 for amount, rate in step[1]]
        # Approved by another finance user: bills above 1,000 EUR need finance, and nobody approves their own.
        approved_bill(finance, service_role(stack, "finance"), vendor["id"], lines, bill_date=str(today()))
        return
    bills = [b for b in finance.ok("GET", "/api/erp/bills", params={"vendor_id": vendor["id"], "limit": 200})["items"]
             if b["status"] in ("approved", "partially_paid") and Decimal(b["balance_due"]) > 0]
    if bills:
        bill = sorted(bills, key=lambda b: b["id"])[step[1] % len(bills)]
        finance.ok("POST", f"/api/erp/bills/{bill['id']}/payments", 201, json={
            "amount": str(part(bill["balance_due"], step[2])), "paid_on": str(today())})


def _apply(step: tuple[Any, ...], finance: Api, stack: Stack, project: dict[str, Any],
           vendor: dict[str, Any], expense_rates: dict[str, str]) -> None:
    kind = step[0]
    if kind in ("bill", "pay_bill"):
        _bill_step(step, finance, stack, vendor)
        return
    invoices = open_invoices(finance, project)
    if kind == "issue":
        issued(finance, project, [line("Work", "1", str(amount), rate) for amount, rate in step[1]])
    elif kind == "expense":
        submitter = service_role(stack, "project_manager")
        rate = {"tax_rate_id": expense_rates[step[2]]} if step[2] in expense_rates else {}
        expense = new_expense(submitter, project_id=project["id"], amount=str(min(step[1], D(40))),
                              expense_date=today().isoformat(), **rate)
        submitter.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
        finance.ok("POST", f"/api/erp/expenses/{expense['id']}/approve", json={})
    elif invoices:
        settle(finance, kind, invoices[step[1] % len(invoices)], step[2] if kind != "void" else 1.0)


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=st.lists(steps, min_size=1, max_size=6))
def test_books_balance_and_match_the_open_invoices_after_every_fact(
        sequence: list[tuple[Any, ...]], finance: Api, stack: Stack, client_project: dict[str, Any],
        vendor: dict[str, Any], expense_rates: dict[str, str]) -> None:
    client_id = client_project["client_id"]
    payables_gap = balances(finance, None).get("2000", D(0)) - open_payables(finance)
    for step in sequence:
        _apply(step, finance, stack, client_project, vendor, expense_rates)
        assert trial_balance_difference(finance, currency="EUR") == 0, step
        assert trial_balance_difference(finance, currency="EUR", client_id=client_id) == 0, step
        assert trial_balance_difference(finance, currency="EUR", project_id=client_project["id"]) == 0, step
        assert balances(finance, client_id).get("1100", D(0)) == open_receivables(finance, client_id), step
        assert balances(finance, None).get("1100", D(0)) == open_receivables(finance, None), step
        assert balances(finance, None).get("2000", D(0)) - open_payables(finance) == payables_gap, step
        vat_reconciles(finance)  # bills' and expenses' input VAT included
        # The project's expenses: their VAT on 1400 and their gross owed on 2100, exactly (none is reimbursed here).
        expenses = finance.ok("GET", "/api/erp/expenses", params={
            "project_id": client_project["id"], "status": "approved", "limit": 200})["items"]
        books = balances(finance, None, project_id=client_project["id"])
        assert books.get("1400", D(0)) == sum((D(e["tax_amount"]) for e in expenses), D(0)), step
        assert books.get("2100", D(0)) == sum((D(e["amount"]) for e in expenses), D(0)), step
