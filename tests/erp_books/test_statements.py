"""The statements, and how they reconcile with the reports the ERP had before the books: the profit and loss's
revenue with the profitability report, the ledger's receivables with the AR aging, on the same data."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

from devstack.stack import Stack
from tests.erp_billing.helpers import fixed, issued, line, pay, project_for, today
from tests.erp_books.books import balances, open_receivables
from tests.erp_costs.helpers import as_role as service_role
from tests.erp_costs.helpers import new_cost_center, new_expense
from tests.support import Api

D = Decimal


def _revenue(pnl: dict[str, Any]) -> Decimal:
    return sum((D(r["balance"]) for r in pnl["income"] if r["code"] in ("4000", "4100", "4200")), D(0))


def test_pnl_revenue_equals_profitability_and_ar_equals_aging(admin: Api, finance: Api, stack: Stack) -> None:
    projects = [project_for(admin, fixed(1, today() + timedelta(days=400)), amount="9000.00") for _ in range(2)]
    first, second = projects
    a = issued(finance, first, [line("Design", "3", "400.00", "19"), line("Hosting", "1", "99.00", "7")])
    b = issued(finance, first, [line("Audit", "1", "750.00", "19")])
    c = issued(finance, second, [line("Build", "10", "120.00", "0")])
    voided = issued(finance, second, [line("Mistake", "1", "999.00", "19")])
    pay(finance, a["id"], "500.00")
    pay(finance, c["id"], "1200.00")
    finance.ok("POST", f"/api/erp/invoices/{b['id']}/credit-note", 201, json={"amount": "119.00", "reason": "fee"})
    finance.ok("POST", f"/api/erp/invoices/{voided['id']}/void", json={"reason": "typo"})

    day = today().isoformat()
    for project in projects:
        profitability = finance.ok("GET", "/api/erp/reports/profitability", params={
            "project_id": project["id"], "date_from": day, "date_to": day, "currency": "EUR"})
        [row] = profitability["items"]
        pnl = finance.ok("GET", "/api/erp/reports/profit-and-loss", params={
            "project_id": project["id"], "date_from": day, "date_to": day, "currency": "EUR"})
        assert _revenue(pnl) == D(row["revenue_invoiced"]), project["name"]
        assert balances(finance, project["client_id"])["1100"] == open_receivables(finance, project["client_id"])
    # 1299 + 750 - the credit note (119, untaxed)
    assert _revenue(finance.ok("GET", "/api/erp/reports/profit-and-loss", params={
        "project_id": first["id"], "date_from": day, "date_to": day, "currency": "EUR"})) == D("1930.00")

    # Columns: one P&L with the result per project, equal to each project's own.
    by_project = finance.ok("GET", "/api/erp/reports/profit-and-loss", params={
        "date_from": day, "date_to": day, "currency": "EUR", "columns": "project"})["by_column"]
    assert D(by_project[first["id"]]) == D("1930.00") and D(by_project[second["id"]]) == D("1200.00")


def test_trial_balance_sums_to_zero_and_the_balance_sheet_balances(finance: Api, stack: Stack) -> None:
    trial = finance.ok("GET", "/api/erp/reports/trial-balance", params={"currency": "EUR"})
    assert D(trial["total_debit"]) == D(trial["total_credit"]) > 0
    sheet = finance.ok("GET", "/api/erp/reports/balance-sheet", params={"currency": "EUR"})
    assert D(sheet["total_assets"]) == D(sheet["total_liabilities_and_equity"])
    assert finance.client.get("/api/erp/reports/trial-balance",
                              params={"currency": "EUR", "date_from": "2026-05-01",
                                      "date_to": "2026-04-01"}).status_code == 422
    assert finance.client.get("/api/erp/reports/trial-balance", params={"currency": "euro"}).status_code == 422


def test_an_approved_expense_books_to_its_category_account_and_cost_center(finance: Api, stack: Stack) -> None:
    submitter, approver = service_role(stack, "project_manager"), service_role(stack, "finance")
    center = new_cost_center(approver, "Studio")
    expense = new_expense(submitter, cost_center_id=center["id"], amount="42.00", expense_date=today().isoformat(),
                          category_id="00000000-0000-4000-8000-000000000004")  # Software
    submitter.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
    approver.ok("POST", f"/api/erp/expenses/{expense['id']}/approve", json={})
    pnl = finance.ok("GET", "/api/erp/reports/profit-and-loss", params={
        "cost_center_id": center["id"], "currency": "EUR"})
    assert [(r["code"], D(r["balance"])) for r in pnl["expenses"]] == [("6100", D("42.00"))]
    assert D(pnl["result"]) == D("-42.00")
    approver.ok("POST", f"/api/erp/expenses/{expense['id']}/reimburse", json={})
    trial = finance.ok("GET", "/api/erp/reports/trial-balance", params={
        "cost_center_id": center["id"], "currency": "EUR"})
    by_code = {r["code"]: D(r["balance"]) for r in trial["rows"]}
    assert by_code == {"1000": D("-42.00"), "2100": D(0), "6100": D("42.00")}
