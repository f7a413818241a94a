"""Input VAT on expenses (issue 26, decision 215): an expense names a tax rate, its VAT is computed from the gross
paid, approval posts the net to the expense account and the tax to 1400, the VAT report shows both by rate and still
equals the tax accounts, costs and re-billing count the net, the reimbursement and the cash forecast the gross.

Everything goes through the gateway. The tests make their own tax rates (unique names) and name them on every
expense and invoice line: other tests change the company's default rate."""

import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, today
from tests.erp_books.books import (
    entries_of,
    trial_balance_difference,
    trial_rows,
    vat,
    vat_delta,
    vat_reconciles,
    vat_rows,
)
from tests.erp_cash.helpers import company_in_eur, new_bill, new_vendor
from tests.erp_costs.helpers import new_cost_center, scalar, suffix, upload_receipt
from tests.support import Api

D = Decimal
EXPENSE_ACCOUNT, VAT_INPUT, EXPENSES_PAYABLE, BANK = "6100", "1400", "2100", "1000"
SOFTWARE = "00000000-0000-4000-8000-000000000004"  # a seeded category, linked to 6100
UNKNOWN = "00000000-0000-4000-8000-00000000dead"


@pytest.fixture(scope="module")
def rates(finance: Api) -> dict[str, dict[str, Any]]:
    """This module's own rates: 19 % standard, 7 % reduced, zero, exempt, reverse charge and an archived 16 %."""
    company_in_eur(finance)
    mark = suffix()
    specs = {"standard": ("standard", "19", None), "reduced": ("reduced", "7", None), "zero": ("zero", "0", None),
             "exempt": ("exempt", "0", "Exempt: medical services"),
             "reverse": ("reverse_charge", "0", "Reverse charge: the recipient owes the VAT"),
             "archived": ("standard", "16", None)}
    made = {key: finance.ok("POST", "/api/erp/tax-rates", 201, json={
        "name": f"Expense VAT {key} {mark}", "category": category, "percent": percent, "legal_note": note})
        for key, (category, percent, note) in specs.items()}
    made["archived"] = finance.ok("PATCH", f"/api/erp/tax-rates/{made['archived']['id']}", json={"active": False})
    return made


@pytest.fixture(scope="module")
def submitter(stack: Stack) -> Iterator[Api]:
    with as_role(stack, "project_manager") as api:
        yield api


def _expense(api: Api, rate: dict[str, Any] | None, amount: str, **fields: Any) -> dict[str, Any]:
    body = {"amount": amount, "currency": "EUR", "expense_date": today().isoformat(), "merchant": f"Shop {suffix()}",
            "category_id": SOFTWARE, **fields} | ({"tax_rate_id": rate["id"]} if rate else {})
    created: dict[str, Any] = api.ok("POST", "/api/erp/expenses", 201, json=body)
    return created


def _submit(submitter: Api, expense: dict[str, Any]) -> None:
    upload_receipt(submitter, expense["id"])  # needed above 50 EUR
    submitter.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")


def _approved(submitter: Api, finance: Api, rate: dict[str, Any] | None, amount: str,
              **fields: Any) -> dict[str, Any]:
    expense = _expense(submitter, rate, amount, **fields)
    _submit(submitter, expense)
    decided: dict[str, Any] = finance.ok("POST", f"/api/erp/expenses/{expense['id']}/approve", json={})
    return decided


def _lines(entry: dict[str, Any]) -> list[tuple[str, Decimal, Decimal, Decimal | None, str | None]]:
    return sorted((x["account_code"], D(x["debit"]), D(x["credit"]),
                   D(x["tax_rate"]) if x["tax_rate"] is not None else None, x["tax_category"])
                  for x in entry["lines"])


def test_an_expense_with_vat_posts_the_net_the_input_vat_and_owes_the_gross(
        stack: Stack, finance: Api, submitter: Api, rates: dict[str, dict[str, Any]]) -> None:
    center = new_cost_center(finance, "Expense VAT")
    # 50.00 paid at 19 %: 50 x 19 / 119 = 7.983... -> 7.98 VAT, 42.02 net.
    expense = _expense(submitter, rates["standard"], "50.00", cost_center_id=center["id"])
    assert (expense["tax_rate_id"], expense["tax_percent"], expense["tax_category"], expense["tax_amount"],
            expense["net_amount"], expense["amount"]) == (rates["standard"]["id"], "19", "standard", "7.98",
                                                          "42.02", "50.00")
    _submit(submitter, expense)
    finance.ok("POST", f"/api/erp/expenses/{expense['id']}/approve", json={})
    [approved] = entries_of(finance, expense["id"])
    assert approved["kind"] == "approved"
    assert _lines(approved) == [
        (VAT_INPUT, D("7.98"), D(0), D(19), "standard"),
        (EXPENSES_PAYABLE, D(0), D("50.00"), None, None),
        (EXPENSE_ACCOUNT, D("42.02"), D(0), D(19), "standard")]
    assert all(x["cost_center_id"] == center["id"] for x in approved["lines"])
    # The P&L shows the net as the cost; the VAT is an asset (deductible), not a cost.
    pnl = finance.ok("GET", "/api/erp/reports/profit-and-loss", params={"cost_center_id": center["id"],
                                                                         "currency": "EUR"})
    assert [(r["code"], D(r["balance"])) for r in pnl["expenses"]] == [(EXPENSE_ACCOUNT, D("42.02"))]
    # The person is paid back what they paid: the gross.
    finance.ok("POST", f"/api/erp/expenses/{expense['id']}/reimburse", json={})
    reimbursed = [e for e in entries_of(finance, expense["id"]) if e["kind"] == "reimbursed"]
    assert [_lines(e) for e in reimbursed] == [[(BANK, D(0), D("50.00"), None, None),
                                                (EXPENSES_PAYABLE, D("50.00"), D(0), None, None)]]
    assert trial_rows(finance, cost_center_id=center["id"]) == {
        BANK: {"debit": D(0), "credit": D("50.00"), "balance": D("-50.00")},
        VAT_INPUT: {"debit": D("7.98"), "credit": D(0), "balance": D("7.98")},
        EXPENSES_PAYABLE: {"debit": D("50.00"), "credit": D("50.00"), "balance": D(0)},
        EXPENSE_ACCOUNT: {"debit": D("42.02"), "credit": D(0), "balance": D("42.02")}}
    assert trial_balance_difference(finance, currency="EUR", cost_center_id=center["id"]) == 0
    # The cost center's own costs (no project) count the net.
    report = finance.ok("GET", "/api/erp/reports/profitability", params={
        "group_by": "cost_center", "cost_center_id": center["id"], "currency": "EUR"})
    assert [D(row["cost_expenses"]) for row in report["items"]] == [D("42.02")]


def test_a_foreign_expense_with_vat_balances_in_the_base_currency(
        finance: Api, submitter: Api, rates: dict[str, dict[str, Any]]) -> None:
    """A USD receipt at 19 %: net, VAT and debt converted one by one at the day's rate (any rounding difference to
    4900/6950); paid back at another rate, the debt leaves at the approval's rate and the difference is realised."""
    center = new_cost_center(finance, "Expense VAT USD")
    spent_on, paid_on = today() - timedelta(days=62), today() - timedelta(days=57)
    for day, rate in ((spent_on, "0.8333"), (paid_on, "0.8500")):
        finance.ok("PUT", "/api/erp/exchange-rates", json={"currency": "USD", "rate_date": str(day), "rate": rate})
    expense = _expense(submitter, rates["standard"], "10.03", currency="USD", expense_date=str(spent_on),
                       cost_center_id=center["id"])
    assert (expense["tax_amount"], expense["net_amount"]) == ("1.60", "8.43")
    _submit(submitter, expense)
    finance.ok("POST", f"/api/erp/expenses/{expense['id']}/approve", json={})
    finance.ok("POST", f"/api/erp/expenses/{expense['id']}/reimburse", json={"paid_at": f"{paid_on}T12:00:00+00:00"})
    approved, reimbursed = sorted(entries_of(finance, expense["id"]), key=lambda e: e["number"])
    base = {x["account_code"]: (D(x["debit_base"]), D(x["credit_base"])) for x in approved["lines"]}
    # 8.43 x 0.8333 = 7.02 and 1.60 x 0.8333 = 1.33, but 10.03 x 0.8333 = 8.36: the cent the split rounds away
    # goes to 6950, so the entry balances in EUR too.
    assert base == {EXPENSE_ACCOUNT: (D("7.02"), D(0)), VAT_INPUT: (D("1.33"), D(0)),
                    EXPENSES_PAYABLE: (D(0), D("8.36")), "6950": (D("0.01"), D(0))}
    paid = {x["account_code"]: (D(x["debit_base"]), D(x["credit_base"])) for x in reimbursed["lines"]}
    # The debt leaves at what it was booked at (8.36); the bank pays 10.03 x 0.85 = 8.53: 0.17 lost.
    assert paid == {EXPENSES_PAYABLE: (D("8.36"), D(0)), BANK: (D(0), D("8.53")), "6950": (D("0.17"), D(0))}
    tb = finance.ok("GET", "/api/erp/reports/trial-balance", params={"basis": "base", "cost_center_id": center["id"]})
    assert D(tb["total_debit"]) == D(tb["total_credit"])
    assert {r["code"]: D(r["balance"]) for r in tb["rows"]}[EXPENSES_PAYABLE] == 0


def test_the_vat_report_has_expense_input_tax_by_rate_and_equals_account_1400(
        stack: Stack, finance: Api, submitter: Api, rates: dict[str, dict[str, Any]]) -> None:
    """A bill and expenses at 19 %, 7 %, zero, exempt and without a rate, booked today: each rate's base and tax in
    the input rows, zero and exempt with their base and no tax, the one without a rate nowhere; and the report's
    input tax is 1400's balance in the trial balance over the same range."""
    day = today().isoformat()
    center = new_cost_center(finance, "Expense VAT report")
    before = vat(finance, date_from=day, date_to=day)
    pm = as_role(stack, "project_manager")
    bill = new_bill(finance, new_vendor(finance)["id"], [
        {"description": "Licences", "unit_price": "500.00", "tax_rate_id": rates["standard"]["id"]}], bill_date=day)
    finance.ok("POST", f"/api/erp/bills/{bill['id']}/submit")
    pm.ok("POST", f"/api/erp/bills/{bill['id']}/approve")
    for rate, amount in (("standard", "119.00"), ("reduced", "53.50"), ("zero", "20.00"), ("exempt", "30.00"),
                         (None, "42.00")):
        _approved(submitter, finance, rates[rate] if rate else None, amount, cost_center_id=center["id"])
    after = vat_reconciles(finance, date_from=day, date_to=day)
    assert vat_delta(vat_rows(after, "input"), vat_rows(before, "input")) == {
        (D(19), "standard"): (D("600.00"), D("114.00")),  # the bill's 500 / 95 and the expense's 100 / 19
        (D(7), "reduced"): (D("50.00"), D("3.50")),
        (D(0), "zero"): (D("20.00"), D(0)),
        (D(0), "exempt"): (D("30.00"), D(0))}
    assert D(after["totals"]["input_tax"]) - D(before["totals"]["input_tax"]) == D("117.50")
    assert D(after["totals"]["input_tax"]) == trial_rows(finance, date_from=day, date_to=day)[VAT_INPUT]["balance"]
    assert not any("carry no VAT" in note for note in after["notes"])
    vat_reconciles(finance)  # over everything booked so far, too
    # The centre's books: 1400 holds exactly the expenses' VAT, the expense account their nets plus the gross of
    # the one without a rate.
    books = trial_rows(finance, cost_center_id=center["id"])
    assert (books[VAT_INPUT]["balance"], books[EXPENSE_ACCOUNT]["balance"]) == (
        D("22.50"), D("100.00") + D("50.00") + D("20.00") + D("30.00") + D("42.00"))
    assert scalar(stack, f"SELECT count(*) FROM journal_lines WHERE cost_center_id = '{center['id']}' "
                         f"AND tax_rate IS NULL AND debit > 0") == "1"  # the expense without a rate: untagged


def test_reverse_charge_unknown_and_archived_rates_are_refused_and_nothing_is_written(
        stack: Stack, finance: Api, submitter: Api, rates: dict[str, dict[str, Any]]) -> None:
    center = new_cost_center(finance, "Expense VAT refused")
    marker = f"refused-{suffix()}"
    base = {"amount": "10.00", "currency": "EUR", "expense_date": today().isoformat(), "merchant": marker,
            "cost_center_id": center["id"]}
    cases = [(rates["reverse"]["id"], "reverse-charge-expense", "vendor bill"),
             (UNKNOWN, "validation-error", "does not exist"),
             (rates["archived"]["id"], "validation-error", "archived")]
    for rate_id, slug, words in cases:
        response = submitter.post("/api/erp/expenses", json={**base, "tax_rate_id": rate_id})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"].endswith(slug) and words in problem["detail"], problem
        assert problem["errors"][0]["field"] == "tax_rate_id", problem
    assert scalar(stack, f"SELECT count(*) FROM expenses WHERE merchant = '{marker}'") == "0"
    # A draft keeps what it had when a change names a refused rate.
    draft = _expense(submitter, rates["standard"], "11.90", cost_center_id=center["id"])
    for rate_id, _, _ in cases:
        refused = submitter.client.patch(f"/api/erp/expenses/{draft['id']}",
                                         json={"tax_rate_id": rate_id, "amount": "99.00"})
        assert refused.status_code == 422, refused.text
    kept = submitter.ok("GET", f"/api/erp/expenses/{draft['id']}")
    assert (kept["tax_rate_id"], kept["amount"], kept["tax_amount"]) == (rates["standard"]["id"], "11.90", "1.90")
    assert scalar(stack, f"SELECT count(*) FROM expense_history WHERE expense_id = '{draft['id']}'") == "1"
    bad = submitter.post("/api/erp/expenses", json={**base, "tax_rate_id": "nineteen"})
    assert bad.status_code == 422


def test_editing_an_expense_recomputes_its_vat_while_it_may_be_edited(
        finance: Api, submitter: Api, rates: dict[str, dict[str, Any]]) -> None:
    center = new_cost_center(finance, "Expense VAT edits")
    path = f"/api/erp/expenses/{_expense(submitter, rates['standard'], '119.00', cost_center_id=center['id'])['id']}"

    def patch(**fields: Any) -> tuple[Any, ...]:
        e = submitter.ok("PATCH", path, json=fields)
        return e["tax_rate_id"], e["tax_percent"], e["tax_category"], e["tax_amount"], e["net_amount"]

    standard, reduced = rates["standard"]["id"], rates["reduced"]["id"]
    assert patch(amount="238.00") == (standard, "19", "standard", "38.00", "200.00")  # the rate kept, VAT again
    assert patch(tax_rate_id=reduced) == (reduced, "7", "reduced", "15.57", "222.43")  # 238 x 7 / 107 = 15.570...
    assert patch(tax_rate_id=None) == (None, None, None, "0.00", "238.00")  # no VAT: the gross is the cost
    assert patch(tax_rate_id=rates["exempt"]["id"]) == (rates["exempt"]["id"], "0", "exempt", "0.00", "238.00")
    # A rate archived after it was chosen stays on the draft through other edits (and when named again).
    doomed = finance.ok("POST", "/api/erp/tax-rates", 201, json={
        "name": f"Expense VAT soon archived {suffix()}", "category": "standard", "percent": "10"})
    assert patch(tax_rate_id=doomed["id"])[3] == "21.64"  # 238 x 10 / 110 = 21.636...
    finance.ok("PATCH", f"/api/erp/tax-rates/{doomed['id']}", json={"active": False})
    assert patch(amount="110.00") == (doomed["id"], "10", "standard", "10.00", "100.00")
    assert patch(tax_rate_id=doomed["id"], description="again")[3] == "10.00"
    # Once submitted it is no longer the submitter's to change (the existing rule), rate included.
    upload_receipt(submitter, path.rsplit("/", 1)[1])
    submitter.ok("POST", f"{path}/submit")
    assert submitter.client.patch(path, json={"tax_rate_id": standard}).status_code == 409
    listed = finance.ok("GET", "/api/erp/expenses", params={"cost_center_id": center["id"]})["items"]
    assert [(e["tax_amount"], e["net_amount"]) for e in listed] == [("10.00", "100.00")]


def test_costs_and_re_billing_count_the_net_and_the_cash_forecast_the_gross(
        finance: Api, submitter: Api, project: dict[str, Any], rates: dict[str, dict[str, Any]]) -> None:
    billable = _approved(submitter, finance, rates["standard"], "119.00", project_id=project["id"], billable=True)
    internal = _approved(submitter, finance, rates["zero"], "20.00", project_id=project["id"])
    plain = _approved(submitter, finance, None, "10.00", project_id=project["id"])
    assert [e["net_amount"] for e in (billable, internal, plain)] == ["100.00", "20.00", "10.00"]
    # Cost: the nets (the VAT is deducted); budget burn likewise, and what waits to be billed at its net.
    report = finance.ok("GET", "/api/erp/reports/profitability", params={"project_id": project["id"]})
    assert [D(row["cost_expenses"]) for row in report["items"]] == [D("130.00")]
    budget = finance.ok("GET", f"/api/erp/projects/{project['id']}/budget")
    assert (D(budget["money"]["actual"]), D(budget["money"]["unbilled"])) == (D("130.00"), D("100.00"))
    # Cash out: the person is owed what they paid, 149.00 gross, until reimbursed.
    cash = finance.ok("GET", "/api/erp/reports/cash-flow", params={"client_id": project["client_id"],
                                                                    "currency": "EUR"})
    assert [D(t["expenses_to_reimburse"]) for t in cash["totals"]] == [D("149.00")]
    # Re-billed at its net, with the invoice's own output VAT on top (19 % here: 19.00).
    draft = finance.ok("POST", "/api/erp/invoices", 201, json={"project_id": project["id"], "lines": [
        {"description": "Consulting", "quantity": "1", "unit_price": "1000.00", "tax_rate": "0"}]})
    finance.ok("POST", f"/api/erp/invoices/{draft['id']}/expenses", json={"tax_rate": "19"})
    invoice = finance.ok("GET", f"/api/erp/invoices/{draft['id']}")
    [line] = [li for li in invoice["lines"] if li["kind"] == "expense"]
    assert (line["expense_id"], D(line["unit_price"]), D(line["net_amount"]), D(line["tax_amount"])) == (
        billable["id"], D("100.00"), D("100.00"), D("19.00"))
    assert (D(invoice["subtotal"]), D(invoice["total"])) == (D("1100.00"), D("1119.00"))
    assert uuid.UUID(billable["tax_rate_id"]) == uuid.UUID(rates["standard"]["id"])
