"""The chart, manual entries and periods over HTTP: who may do what, and bad input answered precisely with nothing
written."""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, issued, line, pay, today
from tests.erp_books.books import balances, entries_of
from tests.support import Api, ensure_person


def account(api: Api, code: str) -> dict[str, Any]:
    items = api.ok("GET", "/api/erp/accounts", params={"q": code})["items"]
    found: dict[str, Any] = next(a for a in items if a["code"] == code)
    return found


def test_the_default_chart_and_editing_it(finance: Api) -> None:
    chart = finance.ok("GET", "/api/erp/accounts", params={"limit": 200})["items"]
    roles = {a["role"]: a for a in chart if a["role"]}
    for role in ("bank", "accounts_receivable", "accounts_payable", "vat_output", "vat_input",
                 "vat_output_reverse_charge", "revenue", "revenue_reverse_charge", "fx_gain", "fx_loss", "equity",
                 "retained_earnings", "suspense", "expense_travel", "expense_other"):
        assert role in roles, role
    assert roles["revenue"]["type"] == "income" and roles["bank"]["type"] == "asset"

    office = finance.ok("POST", "/api/erp/accounts", 201, json={"code": "6210", "name": "Office supplies",
                                                               "type": "expense"})
    assert finance.post("/api/erp/accounts", json={"code": "6210", "name": "Again", "type": "expense"}
                        ).status_code == 409
    assert finance.post("/api/erp/accounts", json={"code": "7000", "name": "Odd", "type": "gains"}).status_code == 422
    nowhere = finance.post("/api/erp/accounts", json={"code": "6220", "name": "Odd", "type": "expense",
                                                       "expense_category_id": "00000000-0000-4000-8000-0000000000ff"})
    assert nowhere.status_code == 422 and nowhere.json()["type"].endswith("/unknown-expense-category")
    linked = finance.ok("PATCH", f"/api/erp/accounts/{office['id']}",
                        json={"expense_category_id": "00000000-0000-4000-8000-000000000005"})  # Equipment
    assert linked["expense_category_id"] == "00000000-0000-4000-8000-000000000005"
    renamed = finance.ok("PATCH", f"/api/erp/accounts/{office['id']}", json={"name": "Office and supplies"})
    assert renamed["name"] == "Office and supplies" and renamed["type"] == "expense"
    # A default account is renamed or renumbered, never deactivated: the automatic postings book to it.
    refused = finance.client.patch(f"/api/erp/accounts/{roles['bank']['id']}", json={"active": False})
    assert refused.status_code == 409 and refused.json()["type"].endswith("/system-account")


def test_manual_entries_balance_record_their_author_and_refuse_bad_input(stack: Stack, finance: Api) -> None:
    rent, payable = account(finance, "6400"), account(finance, "2000")
    before = finance.ok("GET", "/api/erp/journal-entries", params={"limit": 1})["total"]

    def entry(lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return {"entry_date": today().isoformat(), "memo": "Accrued rent", "lines": lines, **extra}

    def side(acc: dict[str, Any], debit: str = "0", credit: str = "0", currency: str = "EUR") -> dict[str, Any]:
        return {"account_id": acc["id"], "currency": currency, "debit": debit, "credit": credit}

    unbalanced = finance.post("/api/erp/journal-entries", json=entry([side(rent, debit="100.00"),
                                                                      side(payable, credit="90.00")]))
    assert unbalanced.status_code == 422 and unbalanced.json()["type"].endswith("/unbalanced-entry")
    assert unbalanced.json()["unbalanced"] == {"EUR": "10.00"}
    # Balanced in total but not per currency.
    mixed = finance.post("/api/erp/journal-entries", json=entry([side(rent, debit="100.00"),
                                                                 side(payable, credit="100.00", currency="USD")]))
    assert mixed.status_code == 422
    nowhere = {**payable, "id": "00000000-0000-4000-8000-0000000000ff"}
    unknown = finance.post("/api/erp/journal-entries", json=entry([side(rent, debit="5.00"),
                                                                   side(nowhere, credit="5.00")]))
    assert unknown.status_code == 422 and unknown.json()["type"].endswith("/unknown-account")
    for bad in (side(rent, debit="-5.00"), side(rent, debit="5.00", credit="5.00"), side(rent, debit="1e20"),
                side(rent, debit="5.001"), side(rent, debit="5.00", currency="EURO")):
        response = finance.post("/api/erp/journal-entries", json=entry([bad, side(payable, credit="5.00")]))
        assert response.status_code == 422, (bad, response.text)
    one_line = finance.post("/api/erp/journal-entries", json=entry([side(rent, debit="5.00")]))
    assert one_line.status_code == 422
    assert finance.ok("GET", "/api/erp/journal-entries", params={"limit": 1})["total"] == before  # nothing written

    sales = as_role(stack, "sales")
    assert sales.post("/api/erp/journal-entries", json=entry([side(rent, debit="5.00"),
                                                              side(payable, credit="5.00")])).status_code == 403
    posted = finance.ok("POST", "/api/erp/journal-entries", 201, json=entry([side(rent, debit="2400.00"),
                                                                           side(payable, credit="2400.00")]))
    assert posted["source_type"] == "manual" and posted["kind"] == "adjustment"
    assert posted["created_by"] and posted["created_by"].startswith("finance-")
    assert posted["created_by_name"] == posted["created_by"]  # the directory names test users by their id
    assert [(x["account_code"], x["debit"]) for x in posted["lines"]] == [("6400", "2400.0000"), ("2000", "0.0000")]


def test_who_reads_the_books(stack: Stack, finance: Api) -> None:
    for role, status in (("viewer", 200), ("finance", 200), ("sales", 403), ("project_manager", 403)):
        api = as_role(stack, role)
        for path in ("/api/erp/accounts", "/api/erp/journal-entries", "/api/erp/periods",
                     "/api/erp/reports/trial-balance?currency=EUR"):
            assert api.client.get(path).status_code == status, (role, path)
    viewer = as_role(stack, "viewer")
    assert viewer.post("/api/erp/periods/2020-03/close").status_code == 403


def test_a_closed_month_refuses_manual_entries_and_moves_late_facts_to_the_next_open_one(
        stack: Stack, finance: Api, project: dict[str, Any]) -> None:
    month, after = "2021-03", "2021-04"
    closed = finance.ok("POST", f"/api/erp/periods/{month}/close", json={"reason": "Q1 filed"})
    assert closed["status"] == "closed" and closed["closed_by"].startswith("finance-")
    assert finance.post(f"/api/erp/periods/{month}/close").status_code == 409
    assert finance.post(f"/api/erp/periods/{(today() + timedelta(days=40)):%Y-%m}/close").status_code == 422
    assert finance.post("/api/erp/periods/2021-13/close").status_code == 422

    bank, equity = account(finance, "1000"), account(finance, "3000")
    refused = finance.post("/api/erp/journal-entries", json={
        "entry_date": "2021-03-15", "memo": "Capital paid in",
        "lines": [{"account_id": bank["id"], "currency": "EUR", "debit": "10.00"},
                  {"account_id": equity["id"], "currency": "EUR", "credit": "10.00"}]})
    assert refused.status_code == 422 and refused.json()["type"].endswith("/period-closed")

    # A payment booked late, dated in the closed month: recorded all the same, its entry in the next open month.
    invoice = issued(finance, project, [line(unit_price="300.00")])
    payment = pay(finance, invoice["id"], "300.00", paid_on="2021-03-20")
    [entry] = entries_of(finance, payment["payment"]["id"])
    assert (entry["fact_date"], entry["entry_date"]) == ("2021-03-20", f"{after}-01")
    assert balances(finance, project["client_id"])["1100"] == Decimal(0)

    assert finance.post(f"/api/erp/periods/{month}/reopen", json={}).status_code == 422  # a reason is required
    as_sales = as_role(stack, "sales")
    assert as_sales.post(f"/api/erp/periods/{month}/reopen", json={"reason": "fix"}).status_code == 403
    # Reopened by a finance admin the directory knows by name: the log names them (the close, by an id-named user).
    fiona = f"fiona-{uuid.uuid4().hex[:6]}"
    ensure_person(stack, fiona, name="Fiona Reyes")
    with as_role(stack, "finance", user_id=fiona) as reopener:
        reopened = reopener.ok("POST", f"/api/erp/periods/{month}/reopen", json={"reason": "Late supplier invoice"})
    assert reopened["status"] == "open"
    assert [(x["action"], x["reason"], x["actor_name"]) for x in reopened["log"]] == [
        ("closed", "Q1 filed", closed["closed_by"]), ("reopened", "Late supplier invoice", "Fiona Reyes")]
    assert reopened["log"][1]["actor_id"] == fiona
    assert finance.post(f"/api/erp/periods/{month}/reopen", json={"reason": "again"}).status_code == 409
    listed = finance.ok("GET", "/api/erp/periods", params={"months": 120})["items"]
    assert any(p["month"] == month and p["status"] == "open" and len(p["log"]) == 2 for p in listed)
    assert date.fromisoformat(listed[0]["month"] + "-01") == today().replace(day=1)
