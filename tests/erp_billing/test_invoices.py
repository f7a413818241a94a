"""Invoices against the real stack: totals, gap-free numbering under concurrency, payments, void, credit notes."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest
from stdnum import iso11649

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, d, draft, fixed, issued, line, pay, project_for, today
from tests.erp_billing.pdfcheck import pdf_text
from tests.support import Api


@pytest.fixture(scope="module")
def project(admin: Api) -> dict[str, Any]:
    return project_for(admin, fixed(1, date(2030, 1, 1)), amount="50000.00")


def test_totals_round_each_line_per_currency(admin: Api, finance: Api, project: dict[str, Any]) -> None:
    invoice = draft(finance, project, [line("Design", "3", "19.99", "19"), line("Hosting", "1", "10.00", "7"),
                                       line("Travel", "2.5", "0.33", "0")])
    # 3 x 19.99 = 59.97, tax 19 % = 11.3943 -> 11.39; 10.00 + 0.70; 2.5 x 0.33 = 0.825 -> 0.82 (half-even).
    assert [(x["net_amount"], x["tax_amount"], x["total_amount"]) for x in invoice["lines"]] == [
        ("59.97", "11.39", "71.36"), ("10.00", "0.70", "10.70"), ("0.82", "0.00", "0.82")]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == ("70.79", "12.09", "82.88")
    assert invoice["status"] == "draft" and invoice["number"] is None and invoice["balance_due"] == "82.88"
    assert invoice["deal_id"] == project["deal_id"] and invoice["client_id"] == project["client_id"]

    yen = project_for(admin, fixed(1, date(2030, 1, 1)), amount="100000", currency="JPY")
    jpy = draft(finance, yen, [line("Workshop", "2.5", "333", "10")])
    # 832.5 yen rounds half-even to 832; tax 83.2 -> 83; no minor unit.
    assert (jpy["subtotal"], jpy["tax_total"], jpy["total"], jpy["currency"]) == ("832", "83", "915", "JPY")
    # A unit price finer than the currency's minor unit is refused, not rounded away (docs/decisions.md).
    for project_of_currency, price in ((yen, "333.5"), (project, "0.333")):
        refused = finance.post("/api/erp/invoices", json={"project_id": project_of_currency["id"],
                                                          "lines": [line("Workshop", "3", price, "10")]})
        assert refused.status_code == 422 and "unit_price" in refused.json()["detail"], refused.text


def test_issue_assigns_the_next_number_and_due_date(finance: Api, project: dict[str, Any]) -> None:
    first = issued(finance, project, payment_terms_days=14)
    second = issued(finance, project)
    year = today().year
    pattern = re.compile(rf"^INV-{year}-(\d{{5}})$")
    n1, n2 = (int(pattern.match(x["number"]).group(1)) for x in (first, second))  # type: ignore[union-attr]
    assert n2 == n1 + 1
    assert first["status"] == "issued" and first["issue_date"] == today().isoformat()
    assert first["due_date"] == (today() + timedelta(days=14)).isoformat()
    assert second["payment_terms_days"] == 30  # the client's default terms
    # Each issued invoice carries its own ISO 11649 creditor reference, made from its number.
    for invoice in (first, second):
        reference = invoice["payment_reference"]
        assert iso11649.is_valid(reference) and reference.endswith(invoice["number"].replace("-", ""))
    assert first["payment_reference"] != second["payment_reference"]
    again = finance.post(f"/api/erp/invoices/{first['id']}/issue")
    assert again.status_code == 409
    assert finance.ok("GET", f"/api/erp/invoices/{first['id']}")["number"] == first["number"]
    # An issued invoice is frozen.
    assert finance.client.patch(f"/api/erp/invoices/{first['id']}", json={"notes": "x"}).status_code == 409
    assert finance.client.delete(f"/api/erp/invoices/{first['id']}").status_code == 409


def test_concurrent_issue_requests_give_gap_free_unique_numbers(stack: Stack, finance: Api,
                                                               project: dict[str, Any]) -> None:
    drafts = [draft(finance, project)["id"] for _ in range(30)]
    zero = draft(finance, project, [line(unit_price="0")])["id"]  # refused: rolls back, must not burn a number

    with as_role(stack, "finance", direct=True) as api:  # httpx clients are thread-safe: one pool, many requests
        def issue(invoice_id: str) -> tuple[int, Any]:
            response = api.post(f"/api/erp/invoices/{invoice_id}/issue")
            return response.status_code, response.json()

        # Every draft issued twice at once, the zero invoice in between: 30 successes, 30 conflicts, 1 refusal.
        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(issue, [*drafts, zero, *drafts]))
    statuses = sorted(status for status, _ in results)
    assert statuses.count(200) == 30 and statuses.count(409) == 30 and statuses.count(422) == 1, statuses
    numbers = sorted(int(body["number"].rsplit("-", 1)[1]) for status, body in results if status == 200)
    assert len(set(numbers)) == 30
    assert numbers == list(range(numbers[0], numbers[0] + 30)), numbers  # no gap, no duplicate
    after = issued(finance, project)
    assert int(after["number"].rsplit("-", 1)[1]) == numbers[-1] + 1  # the refused issue burnt no number


def test_partial_and_full_payment_and_overpayment_refused(finance: Api, project: dict[str, Any]) -> None:
    invoice = issued(finance, project, [line("Build", "1", "1000.00", "20")])  # 1200.00
    assert invoice["total"] == "1200.00"
    first = pay(finance, invoice["id"], "500.00", method="card", paid_on=today().isoformat(), reference="r-1")
    assert first["payment"]["method"] == "card" and first["payment"]["paid_on"] == today().isoformat()
    assert first["invoice"]["status"] == "partially_paid" and first["invoice"]["balance_due"] == "700.00"

    over = finance.post(f"/api/erp/invoices/{invoice['id']}/payments", json={"amount": "700.01"})
    assert over.status_code == 422 and over.json()["balance_due"] == "700.00"
    assert "overpayment" in over.json()["type"]
    for bad in ({"amount": "-5"}, {"amount": "0"}, {"amount": "1.001"}, {"amount": "10", "currency": "USD"},
                {"amount": "10", "paid_on": (today() + timedelta(days=2)).isoformat()},
                {"amount": "10", "method": "barter"}, {"amount": 10.5}):
        response = finance.post(f"/api/erp/invoices/{invoice['id']}/payments", json=bad)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["detail"]
    unchanged = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")
    assert (unchanged["amount_paid"], unchanged["balance_due"]) == ("500.00", "700.00")  # nothing half-written

    last = pay(finance, invoice["id"], "700.00")
    assert last["invoice"]["status"] == "paid" and last["invoice"]["balance_due"] == "0.00"
    assert last["invoice"]["paid_at"] is not None
    assert finance.post(f"/api/erp/invoices/{invoice['id']}/payments", json={"amount": "1"}).status_code == 409
    payments = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}/payments")
    assert [p["amount"] for p in payments["items"]] == ["500.00", "700.00"] and payments["total"] == 2

    on_draft = finance.post(f"/api/erp/invoices/{draft(finance, project)['id']}/payments", json={"amount": "1"})
    assert on_draft.status_code == 409


def test_void_only_without_payments(finance: Api, project: dict[str, Any]) -> None:
    paid = issued(finance, project)
    pay(finance, paid["id"], "100.00")
    refused = finance.post(f"/api/erp/invoices/{paid['id']}/void", json={"reason": "typo"})
    assert refused.status_code == 409 and "payments" in refused.json()["detail"]
    partial = issued(finance, project)
    pay(finance, partial["id"], "10.00")
    assert finance.post(f"/api/erp/invoices/{partial['id']}/void").status_code == 409

    clean = issued(finance, project)
    voided = finance.ok("POST", f"/api/erp/invoices/{clean['id']}/void", json={"reason": "wrong client"})
    assert voided["status"] == "void" and voided["balance_due"] == "0.00" and voided["void_reason"] == "wrong client"
    assert voided["number"] == clean["number"]  # the number stays used: no gap
    assert finance.post(f"/api/erp/invoices/{clean['id']}/void").status_code == 409
    assert finance.post(f"/api/erp/invoices/{clean['id']}/payments", json={"amount": "1"}).status_code == 409
    assert finance.post(f"/api/erp/invoices/{draft(finance, project)['id']}/void").status_code == 409


def test_credit_notes_reduce_the_balance(finance: Api, project: dict[str, Any]) -> None:
    invoice = issued(finance, project, [line("Build", "10", "100.00", "0")])  # 1000.00
    note = finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/credit-note", 201,
                      json={"reason": "two days not delivered", "lines": [line("Build (credited)", "2", "100.00")]})
    assert note["kind"] == "credit_note" and note["credit_of_id"] == invoice["id"]
    assert re.match(rf"^CN-{today().year}-\d{{5}}$", note["number"]) and note["total"] == "200.00"
    after = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")
    assert (after["amount_credited"], after["balance_due"], after["status"]) == ("200.00", "800.00", "issued")

    too_much = finance.post(f"/api/erp/invoices/{invoice['id']}/credit-note",
                            json={"reason": "x", "amount": "800.01"})
    assert too_much.status_code == 422
    assert finance.post(f"/api/erp/invoices/{invoice['id']}/credit-note", json={"amount": "1"}).status_code == 422
    assert finance.post(f"/api/erp/invoices/{invoice['id']}/void").status_code == 409  # credited: not voidable

    pay(finance, invoice["id"], "300.00")
    rest = finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/credit-note", 201,
                      json={"reason": "goodwill", "amount": "500.00"})
    settled = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")
    assert (settled["status"], settled["balance_due"], settled["amount_credited"]) == ("paid", "0.00", "700.00")
    notes = finance.ok("GET", "/api/erp/invoices", params={"credit_of_id": invoice["id"]})
    assert {n["id"] for n in notes["items"]} == {note["id"], rest["id"]}
    assert d(settled["total"]) == d(settled["amount_paid"]) + d(settled["amount_credited"])

    fully = issued(finance, project)
    finance.ok("POST", f"/api/erp/invoices/{fully['id']}/credit-note", 201, json={"reason": "cancelled",
                                                                                "amount": fully["total"]})
    assert finance.ok("GET", f"/api/erp/invoices/{fully['id']}")["status"] == "credited"


def test_overdue_by_due_date(finance: Api, project: dict[str, Any]) -> None:
    invoice = issued(finance, project, payment_terms_days=10)
    assert invoice["overdue"] is False
    due = date.fromisoformat(invoice["due_date"])
    on_due_date = finance.ok("GET", "/api/erp/invoices", params={
        "overdue": "true", "as_of": due.isoformat(), "project_id": project["id"], "limit": 200})
    assert invoice["id"] not in {i["id"] for i in on_due_date["items"]}
    later = finance.ok("GET", "/api/erp/invoices", params={
        "overdue": "true", "as_of": (due + timedelta(days=1)).isoformat(), "project_id": project["id"], "limit": 200})
    assert invoice["id"] in {i["id"] for i in later["items"]}
    pay(finance, invoice["id"], invoice["total"])
    paid = finance.ok("GET", "/api/erp/invoices", params={
        "overdue": "true", "as_of": (due + timedelta(days=1)).isoformat(), "project_id": project["id"], "limit": 200})
    assert invoice["id"] not in {i["id"] for i in paid["items"]}


def test_draft_edit_delete_and_bad_input(finance: Api, project: dict[str, Any]) -> None:
    invoice = draft(finance, project)
    edited = finance.ok("PATCH", f"/api/erp/invoices/{invoice['id']}",
                        json={"lines": [line("A", "2", "50.00", "10"), line("B")], "notes": "Thanks"})
    assert [x["position"] for x in edited["lines"]] == [1, 2] and edited["total"] == "210.00"
    assert finance.client.delete(f"/api/erp/invoices/{invoice['id']}").status_code == 204
    assert finance.get(f"/api/erp/invoices/{invoice['id']}").status_code == 404

    bad_bodies = [
        {"project_id": project["id"], "lines": []},
        {"project_id": project["id"], "lines": [line(quantity="-1")]},
        {"project_id": project["id"], "lines": [line(tax_rate="101")]},
        {"project_id": project["id"], "lines": [line(unit_price="-3")]},
        {"project_id": project["id"], "currency": "XYZ", "lines": [line()]},
        {"project_id": project["id"], "currency": "USD", "lines": [line()]},  # the project bills in EUR
        {"client_id": project["client_id"], "currency": "ABC", "lines": [line()]},
        {"lines": [line()]},
        {"project_id": "00000000-0000-4000-8000-000000000001", "lines": [line()]},
    ]
    for body in bad_bodies:
        response = finance.post("/api/erp/invoices", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert finance.get("/api/erp/invoices/00000000-0000-4000-8000-000000000001").status_code == 404


def test_roles(stack: Stack, finance: Api, project: dict[str, Any]) -> None:
    invoice = draft(finance, project)
    for role in ("sales", "project_manager", "viewer"):
        with as_role(stack, role) as api:
            assert api.post("/api/erp/invoices", json={"project_id": project["id"], "lines": [line()]}
                            ).status_code == 403, role
            assert api.post(f"/api/erp/invoices/{invoice['id']}/issue").status_code == 403, role
            assert api.post(f"/api/erp/invoices/{invoice['id']}/payments", json={"amount": "1"}).status_code == 403
            assert api.post("/api/erp/billing-runs", json={"as_of": "2020-01-01"}).status_code == 403, role
            assert api.post("/api/erp/reminder-runs", json={"as_of": "2020-01-01"}).status_code == 403, role
            assert api.ok("GET", f"/api/erp/invoices/{invoice['id']}")["id"] == invoice["id"]
    assert finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")["status"] == "draft"


def test_pdf_rendering(finance: Api, project: dict[str, Any]) -> None:
    many = [line(f"Sprint {n} (design & build) Größe Łódź Ωmega", "1", "100.00", "19") for n in range(70)]
    invoice = issued(finance, project, many)
    response = finance.get(f"/api/erp/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="{invoice["number"]}.pdf"'
    pages = pdf_text(response.content)
    assert len(pages) >= 2
    text = "\n".join(pages)
    assert invoice["number"] in pages[0]
    assert "Sprint 69 (design & build) Größe Łódź Ωmega" in text  # any Unicode, as typed
    assert "8,330.00 EUR" in pages[-1]  # the total (70 x 119.00), on the last page
    assert f"{len(pages)} / {len(pages)}" in pages[-1]


def test_html_rendering(finance: Api, project: dict[str, Any]) -> None:
    invoice = issued(finance, project, [line("Design <b>sprint</b>", "2", "1234.50", "19")])
    pay(finance, invoice["id"], "100.00")
    response = finance.get(f"/api/erp/invoices/{invoice['id']}/html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    assert f"Invoice {invoice['number']}" in page
    assert "Design &lt;b&gt;sprint&lt;/b&gt;" in page and "<b>sprint" not in page  # escaped
    assert "2,938.11 EUR" in page  # the total; the document is the invoice as issued, payments are the ledger's


def test_concurrent_payments_never_overpay(stack: Stack, finance: Api, project: dict[str, Any]) -> None:
    invoice = issued(finance, project, [line("Build", "1", "1000.00")])

    with as_role(stack, "finance", direct=True) as api:
        def pay_300(_: int) -> int:
            return api.post(f"/api/erp/invoices/{invoice['id']}/payments", json={"amount": "300.00"}).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = sorted(pool.map(pay_300, range(6)))
    assert statuses == [201, 201, 201, 422, 422, 422]
    after = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")
    assert (after["amount_paid"], after["balance_due"], after["status"]) == ("900.00", "100.00", "partially_paid")


def test_void_and_draft_delete_give_billable_expenses_back(stack: Stack, finance: Api,
                                                           project: dict[str, Any]) -> None:
    with as_role(stack, "sales") as sales, as_role(stack, "project_manager") as pm:
        expenses = []
        for _ in range(2):
            expense = sales.ok("POST", "/api/erp/expenses", 201, json={
                "amount": "30.00", "currency": "EUR", "expense_date": today().isoformat(), "merchant": "Print shop",
                "project_id": project["id"], "billable": True})
            sales.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
            pm.ok("POST", f"/api/erp/expenses/{expense['id']}/approve")
            expenses.append(expense)
    voided = draft(finance, project)
    finance.ok("POST", f"/api/erp/invoices/{voided['id']}/expenses", json={"expense_ids": [expenses[0]["id"]]})
    finance.ok("POST", f"/api/erp/invoices/{voided['id']}/issue")
    finance.ok("POST", f"/api/erp/invoices/{voided['id']}/void")
    deleted = draft(finance, project)
    finance.ok("POST", f"/api/erp/invoices/{deleted['id']}/expenses", json={"expense_ids": [expenses[1]["id"]]})
    assert finance.ok("GET", f"/api/erp/expenses/{expenses[1]['id']}")["billing_status"] == "invoiced"
    assert finance.client.delete(f"/api/erp/invoices/{deleted['id']}").status_code == 204
    for expense in expenses:
        again = finance.ok("GET", f"/api/erp/expenses/{expense['id']}")
        assert (again["billing_status"], again["invoice_id"]) == ("unbilled", None)
