"""Expenses: entering, auto-categorising, receipts, the approval chain by amount and role, history, events."""

import json
import uuid
from decimal import Decimal
from typing import Any

from devstack.stack import Stack
from tests.erp_costs.helpers import (
    PNG,
    RoleApi,
    as_role,
    new_client,
    new_cost_center,
    new_expense,
    new_project,
    scalar,
    sql,
    suffix,
    upload_receipt,
)
from tests.support import ensure_person

TRAVEL = "00000000-0000-4000-8000-000000000001"
MEALS = "00000000-0000-4000-8000-000000000003"


def _project(stack: Stack, boss: RoleApi, currency: str = "EUR") -> dict[str, Any]:
    return new_project(boss, new_client(boss, stack, currency=currency)["id"])


def test_rules_categorise_and_a_manual_choice_wins(stack: Stack, boss: RoleApi) -> None:
    sales, finance = as_role(stack, "sales"), as_role(stack, "finance")
    center = new_cost_center(boss)
    taxi = new_expense(sales, cost_center_id=center["id"], merchant="Uber BV", description="Airport")
    assert (taxi["category_id"], taxi["category_source"]) == (TRAVEL, "rule")
    # Whole words only: "dinner" is a meal, not an "inn".
    dinner = new_expense(sales, cost_center_id=center["id"], merchant="Chez Paul", description="Team dinner")
    assert (dinner["category_id"], dinner["category_source"]) == (MEALS, "rule")
    unknown = new_expense(sales, cost_center_id=center["id"], merchant="Zyx Ltd", description=None)
    assert unknown["category_id"] is None and unknown["category_source"] is None
    manual = new_expense(sales, cost_center_id=center["id"], merchant="Uber BV", category_id=MEALS)
    assert (manual["category_id"], manual["category_source"]) == (MEALS, "manual")

    # Finance adds a category and a rule; a more urgent (lower) priority beats the seeded rules.
    word = f"acme{suffix()}"
    category = finance.ok("POST", "/api/erp/expense-categories", 201, json={"name": f"Training {word}"})
    assert finance.post("/api/erp/expense-categories", json={"name": f"training {word}"}).status_code == 409
    assert sales.post("/api/erp/expense-categories", json={"name": f"Nope {word}"}).status_code == 403
    rule = finance.ok("POST", "/api/erp/expense-category-rules", 201,
                      json={"category_id": category["id"], "field": "merchant", "pattern": word, "priority": 10})
    assert finance.post("/api/erp/expense-category-rules",
                        json={"category_id": category["id"], "field": "merchant", "pattern": word}).status_code == 409
    suggested = sales.ok("GET", "/api/erp/expense-categories/suggest",
                         params={"merchant": f"{word.upper()} Academy", "description": "train ticket"})
    assert suggested["category"]["id"] == category["id"] and suggested["rule"]["id"] == rule["id"]
    course = new_expense(sales, cost_center_id=center["id"], merchant=f"{word} academy", description="train")
    assert course["category_id"] == category["id"]
    # Changing the merchant of a rule-filed expense files it again; the manual one keeps its category.
    moved = sales.ok("PATCH", f"/api/erp/expenses/{course['id']}", json={"merchant": "Deutsche Bahn rail"})
    assert (moved["category_id"], moved["category_source"]) == (TRAVEL, "rule")
    kept = sales.ok("PATCH", f"/api/erp/expenses/{manual['id']}", json={"merchant": "Pizza Hut"})
    assert (kept["category_id"], kept["category_source"]) == (MEALS, "manual")
    assert finance.delete(f"/api/erp/expense-category-rules/{rule['id']}").status_code == 204
    after = sales.ok("GET", "/api/erp/expense-categories/suggest", params={"merchant": f"{word} Academy"})
    assert after["category"] is None


def test_receipt_upload_policy_and_download(stack: Stack, boss: RoleApi) -> None:
    pm = as_role(stack, "project_manager")
    center = new_cost_center(boss)
    big = new_expense(pm, cost_center_id=center["id"], amount="120.00", merchant="Hotel Adlon")
    refused = pm.post(f"/api/erp/expenses/{big['id']}/submit")
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/receipt-required") and "receipt" in refused.json()["detail"]
    assert pm.ok("GET", f"/api/erp/expenses/{big['id']}")["status"] == "draft"
    assert scalar(stack, f"SELECT count(*) FROM outbox WHERE message_key = '{big['id']}'") == "0"

    assert upload_receipt(pm, big["id"], b"MZ\x90\x00", "application/x-msdownload", expected=415)["status"] == 415
    assert upload_receipt(pm, big["id"], b"", "image/png", expected=422)["status"] == 422
    other = as_role(stack, "sales")
    assert upload_receipt(other, big["id"], expected=403)["status"] == 403
    assert pm.ok("GET", f"/api/erp/expenses/{big['id']}")["has_receipt"] is False

    receipt = upload_receipt(pm, big["id"])
    assert receipt["size_bytes"] == len(PNG) and receipt["content_type"] == "image/png"
    downloaded = other.get(f"/api/erp/expenses/{big['id']}/receipt")
    assert downloaded.status_code == 200 and downloaded.content == PNG
    assert downloaded.headers["content-type"] == "image/png"
    submitted = pm.ok("POST", f"/api/erp/expenses/{big['id']}/submit")
    assert submitted["status"] == "submitted" and submitted["has_receipt"] is True
    # Once submitted, the receipt is evidence: it cannot be replaced.
    assert upload_receipt(pm, big["id"], expected=409)["status"] == 409

    small = new_expense(pm, cost_center_id=center["id"], amount="50.00")  # at the limit: no receipt needed
    assert pm.ok("POST", f"/api/erp/expenses/{small['id']}/submit")["status"] == "submitted"


def test_approval_chain_by_amount_and_role(stack: Stack, boss: RoleApi) -> None:
    sales, pm, finance = as_role(stack, "sales"), as_role(stack, "project_manager"), as_role(stack, "finance")
    viewer = as_role(stack, "viewer")
    center = new_cost_center(boss)

    def submitted(amount: str, by: RoleApi = sales) -> dict[str, Any]:
        expense = new_expense(by, cost_center_id=center["id"], amount=amount)
        if Decimal(amount) > 50:
            upload_receipt(by, expense["id"])
        done: dict[str, Any] = by.ok("POST", f"/api/erp/expenses/{expense['id']}/submit",
                                     json={"comment": "client visit"})
        return done

    at_limit, above = submitted("1000.00"), submitted("1000.01")
    assert (at_limit["required_approval"], above["required_approval"]) == ("manager", "finance")

    for who in (viewer, sales):
        denied = who.post(f"/api/erp/expenses/{at_limit['id']}/approve")
        assert denied.status_code == 403, who
    too_big = pm.post(f"/api/erp/expenses/{above['id']}/approve", json={"comment": "fine by me"})
    assert too_big.status_code == 403 and "above 1000" in too_big.json()["detail"]
    assert pm.post(f"/api/erp/expenses/{above['id']}/reject", json={"comment": "no"}).status_code == 403
    assert pm.ok("GET", f"/api/erp/expenses/{above['id']}")["status"] == "submitted"

    approved = pm.ok("POST", f"/api/erp/expenses/{at_limit['id']}/approve", json={"comment": "ok"})
    assert approved["status"] == "approved" and approved["decided_by"] == pm.user_id
    assert pm.post(f"/api/erp/expenses/{at_limit['id']}/approve").status_code == 409  # decided once
    assert finance.ok("POST", f"/api/erp/expenses/{above['id']}/approve")["status"] == "approved"

    # Nobody approves their own, not even finance or an admin.
    own = submitted("30.00", by=finance)
    refused = finance.post(f"/api/erp/expenses/{own['id']}/approve")
    assert refused.status_code == 403 and refused.json()["type"].endswith("/own-expense")
    boss_own = submitted("30.00", by=boss)
    assert boss.post(f"/api/erp/expenses/{boss_own['id']}/approve").status_code == 403
    assert viewer.post("/api/erp/expenses", json={"amount": "5", "currency": "EUR", "expense_date": "2026-11-01",
                                                  "cost_center_id": center["id"]}).status_code == 403

    events = sql(stack, "SELECT message_key, event_type FROM outbox WHERE event_type LIKE 'expense.%' "
                        f"AND message_key IN ('{at_limit['id']}', '{above['id']}', '{own['id']}') ORDER BY id")
    assert [tuple(e) for e in events if e[0] == at_limit["id"]] == [
        (at_limit["id"], "expense.submitted"), (at_limit["id"], "expense.approved")]
    assert [e[1] for e in events if e[0] == own["id"]] == ["expense.submitted"]


def test_reject_resubmit_history_and_events(stack: Stack, boss: RoleApi) -> None:
    sales, pm = as_role(stack, "sales"), as_role(stack, "project_manager")
    center = new_cost_center(boss)
    expense = new_expense(sales, cost_center_id=center["id"], amount="45.00", merchant="Cafe Central")
    path = f"/api/erp/expenses/{expense['id']}"
    sales.ok("POST", f"{path}/submit")
    assert sales.patch(path, json={"amount": "44.00"}).status_code == 409  # submitted: frozen
    assert pm.post(f"{path}/reject", json={}).status_code == 422  # a rejection says why
    rejected = pm.ok("POST", f"{path}/reject", json={"comment": "Split the tip out"})
    assert rejected["status"] == "rejected"
    fixed = sales.ok("PATCH", path, json={"amount": "40.00"})
    assert fixed["status"] == "rejected" and Decimal(fixed["amount"]) == Decimal("40.00")
    sales.ok("POST", f"{path}/submit", json={"comment": "tip removed"})
    pm.ok("POST", f"{path}/approve", json={"comment": "thanks"})

    history = sales.ok("GET", f"{path}/history")
    assert [(h["action"], h["from_status"], h["to_status"]) for h in history] == [
        ("created", None, "draft"), ("submitted", "draft", "submitted"), ("rejected", "submitted", "rejected"),
        ("updated", "rejected", "rejected"), ("submitted", "rejected", "submitted"),
        ("approved", "submitted", "approved")]
    assert [h["comment"] for h in history if h["comment"]] == ["Split the tip out", "tip removed", "thanks"]
    assert {h["actor_id"] for h in history} == {sales.user_id, pm.user_id}
    types = [row[0] for row in sql(stack, f"SELECT event_type FROM outbox WHERE message_key = '{expense['id']}' "
                                          "ORDER BY id")]
    assert types == ["expense.submitted", "expense.rejected", "expense.submitted", "expense.approved"]
    envelope = json.loads(scalar(stack, "SELECT convert_from(value, 'UTF8') FROM outbox WHERE message_key = "
                                        f"'{expense['id']}' AND event_type = 'expense.approved'"))
    assert envelope["data"]["amount"] == "40.00" and envelope["data"]["category"] == "Meals"
    assert envelope["data"]["approved_by"] == pm.user_id and envelope["data"]["comment"] == "thanks"


def test_billable_expenses_wait_unbilled_per_project(stack: Stack, boss: RoleApi) -> None:
    sales, pm = as_role(stack, "sales"), as_role(stack, "project_manager")
    project = _project(stack, boss)
    billable = new_expense(sales, project_id=project["id"], amount="30.00", billable=True, merchant="Print shop")
    internal = new_expense(sales, project_id=project["id"], amount="20.00", billable=False)
    pending = new_expense(sales, project_id=project["id"], amount="10.00", billable=True)
    for expense in (billable, internal, pending):
        sales.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
    for expense in (billable, internal):
        pm.ok("POST", f"/api/erp/expenses/{expense['id']}/approve")
    unbilled = sales.ok("GET", f"/api/erp/projects/{project['id']}/unbilled-expenses")
    assert [e["id"] for e in unbilled["items"]] == [billable["id"]] and unbilled["total"] == 1
    assert unbilled["items"][0]["billing_status"] == "unbilled" and unbilled["items"][0]["invoice_id"] is None
    assert sales.ok("GET", f"/api/erp/expenses/{internal['id']}")["billing_status"] == "not_billable"
    listed = sales.ok("GET", "/api/erp/expenses", params={"project_id": project["id"], "status": "submitted"})
    assert [e["id"] for e in listed["items"]] == [pending["id"]]

    # Finance puts them on the project's next (draft) invoice: one expense line each, at cost.
    finance = as_role(stack, "finance")
    draft = finance.ok("POST", "/api/erp/invoices", 201, json={"project_id": project["id"], "lines": [
        # Its own rate, 0 %: the default rate depends on the company profile other tests may have set.
        {"description": "Consulting", "quantity": "1", "unit_price": "1000.00", "tax_rate": "0"}]})
    path = f"/api/erp/invoices/{draft['id']}/expenses"
    assert pm.post(path).status_code == 403
    refused = finance.post(path, json={"expense_ids": [pending["id"]]})
    assert refused.status_code == 409 and "not yet invoiced" in refused.json()["detail"]
    billed = finance.ok("POST", path, json={"tax_rate": "20"})
    assert [(e["id"], e["billing_status"], e["invoice_id"]) for e in billed] == [
        (billable["id"], "invoiced", draft["id"])]
    invoice = finance.ok("GET", f"/api/erp/invoices/{draft['id']}")
    [line] = [li for li in invoice["lines"] if li["kind"] == "expense"]
    assert Decimal(line["net_amount"]) == Decimal("30.00") and line["expense_id"] == billable["id"]
    assert Decimal(invoice["subtotal"]) == Decimal("1030.00") and Decimal(invoice["total"]) == Decimal("1036.00")
    assert sales.ok("GET", f"/api/erp/projects/{project['id']}/unbilled-expenses")["total"] == 0
    again = finance.post(path)
    assert again.status_code == 422 and "no approved billable expense" in again.json()["detail"]
    history = sales.ok("GET", f"/api/erp/expenses/{billable['id']}/history")
    assert history[-1]["action"] == "invoiced"


def test_bad_expenses_get_precise_problems_and_nothing_is_written(stack: Stack, boss: RoleApi) -> None:
    sales = as_role(stack, "sales")
    project = _project(stack, boss, currency="EUR")
    center = new_cost_center(boss)
    inactive = new_cost_center(boss)
    boss.ok("PATCH", f"/api/erp/cost-centers/{inactive['id']}", json={"active": False})
    marker = f"refused-{suffix()}"
    base = {"amount": "10.00", "currency": "EUR", "expense_date": "2026-11-01", "merchant": marker,
            "cost_center_id": center["id"]}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"currency": "ABC"}, "ISO 4217"),
        ({"currency": "eur"}, "currency"),
        ({"amount": "10.005"}, "more decimals than EUR"),
        ({"cost_center_id": None}, "project_id, a cost_center_id or both"),
        ({"cost_center_id": inactive["id"]}, "inactive"),
        ({"project_id": "00000000-0000-4000-8000-00000000dead"}, "does not exist"),
        ({"billable": True}, "needs a project_id"),
        ({"billable": True, "project_id": project["id"], "currency": "USD"}, "project's currency (EUR)"),
        ({"category_id": "00000000-0000-4000-8000-00000000dead"}, "category"),
        ({"expense_date": "2026-02-30"}, "expense_date"),
        ({"surprise": 1}, "surprise"),
    ]
    for fields, words in cases:
        response = sales.post("/api/erp/expenses", json={**base, **fields})
        assert response.status_code == 422, (fields, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert words in response.json()["detail"], (fields, response.json()["detail"])
    assert scalar(stack, f"SELECT count(*) FROM expenses WHERE merchant = '{marker}'") == "0"
    assert sales.post("/api/erp/expenses/00000000-0000-4000-8000-00000000dead/submit").status_code == 404


def test_an_expense_names_its_submitter(stack: Stack, boss: RoleApi) -> None:
    """The list and every answer carry the submitter's name from the people directory (the screens showed an email
    or a user id)."""
    person = f"ines-{uuid.uuid4().hex[:6]}"
    ensure_person(stack, person, name="Inés Navarro")
    submitter = as_role(stack, "member", user_id=person)
    center = new_cost_center(boss)
    made = new_expense(submitter, cost_center_id=center["id"], amount="12.00")
    assert (made["submitted_by"], made["submitter_name"]) == (person, "Inés Navarro")
    listed = boss.ok("GET", "/api/erp/expenses", params={"cost_center_id": center["id"]})["items"]
    assert [(x["id"], x["submitter_name"]) for x in listed] == [(made["id"], "Inés Navarro")]
    submitted = submitter.ok("POST", f"/api/erp/expenses/{made['id']}/submit")
    assert submitted["submitter_name"] == "Inés Navarro"
