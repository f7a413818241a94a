"""The bell through the gateway, real services and PostgreSQL: notifications appear from what really happened (a
lead assigned, a task due, an expense submitted, a won deal's invoice overdue: the deal.won event made the ERP
project its owner's), each only for the user it concerns, leave once handled, and are marked read per user."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.stack import Stack
from tests.erp_billing.helpers import fixed, issued, line, overdue_by, today
from tests.support import Api, person_of

PASSWORD = "bells ring twice 9"


def _user(admin: Api, stack: Stack, role: str, name: str) -> tuple[str, Api]:
    email = f"bell-{uuid.uuid4().hex[:8]}@example.com"
    user = admin.ok("POST", "/api/auth/users", 201,
                    json={"email": email, "password": PASSWORD, "role": role, "full_name": name})
    person_of(admin, user["id"])  # their expenses are booked once the ERP knows them
    return user["id"], Api.login(stack, email, PASSWORD)


def _bell(api: Api) -> dict[str, Any]:
    body: dict[str, Any] = api.ok("GET", "/api/notifications")
    assert body["unavailable"] == []
    return body


def _about(api: Api, record_id: str) -> list[dict[str, Any]]:
    return [n for n in _bell(api)["items"] if record_id in n["key"]]


def test_notifications_come_from_real_events_for_the_right_user_and_are_marked_read(admin: Api,
                                                                                    stack: Stack) -> None:
    sally_id, sally = _user(admin, stack, "sales", "Sally Seller")
    sam_id, sam = _user(admin, stack, "sales", "Sam Seller")
    pete_id, pete = _user(admin, stack, "project_manager", "Pete Manager")
    _, fin = _user(admin, stack, "finance", "Fiona Finance")
    assert _bell(sally)["items"] == [] and _bell(sally)["unread"] == 0

    # A lead assigned to Sally (by Sam): hers, not Sam's.
    lead = sam.ok("POST", "/api/crm/leads", 201, json={
        "first_name": "Ola", "last_name": "Nordmann", "company_name": "Fjord AS",
        "email": f"ola-{uuid.uuid4().hex[:6]}@fjord.example", "owner_id": sally_id})
    [assigned] = _about(sally, lead["id"])
    assert (assigned["kind"], assigned["title"], assigned["link"], assigned["read"]) == (
        "lead_assigned", "Lead assigned to you: Ola Nordmann", f"#/leads/{lead['id']}", False)
    assert _about(sam, lead["id"]) == []

    # A task of Sally's due yesterday; one due next week does not ring yet.
    due = sam.ok("POST", "/api/crm/tasks", 201, json={
        "title": "Call Ola back", "assignee_id": sally_id,
        "due_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()})
    later = sam.ok("POST", "/api/crm/tasks", 201, json={
        "title": "Quarterly check-in", "assignee_id": sally_id,
        "due_at": (datetime.now(UTC) + timedelta(days=7)).isoformat()})
    [task] = _about(sally, due["id"])
    assert task["kind"] == "task_due" and task["title"] == "Task overdue: Call Ola back"
    assert _about(sally, later["id"]) == [] and _about(sam, due["id"]) == []

    # Sally's deal is won: the ERP's project is hers (deal.won), and its invoice, once overdue, rings for her.
    company = sally.new_company()
    deal = sally.new_deal(company["id"], amount="900.00", billing=fixed(1, today() + timedelta(days=400)),
                          owner_id=sally_id)
    sally.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    project = sally.project_of(deal["id"])
    assert project["owner_id"] == sally_id
    invoice = issued(fin, project, [line(unit_price="300.00")])
    assert _about(sally, invoice["id"]) == []  # not overdue yet
    overdue_by(stack, invoice["id"], 5)
    [overdue] = _about(sally, invoice["id"])
    assert overdue["kind"] == "invoice_overdue" and overdue["link"] == f"#/invoices/{invoice['id']}"
    assert f"Invoice {invoice['number']} overdue" in overdue["title"] and "5 days past due" in overdue["detail"]
    assert _about(sam, invoice["id"]) == [] and _about(fin, invoice["id"]) == []

    # Pete submits an expense: finance may approve it, Pete himself and sales may not.
    expense = pete.ok("POST", "/api/erp/expenses", 201, json={
        "amount": "40.00", "currency": "EUR", "expense_date": today().isoformat(), "project_id": project["id"],
        "merchant": "Rail ticket"})
    assert _about(fin, expense["id"]) == []  # a draft needs nobody
    pete.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
    [approve] = _about(fin, expense["id"])
    assert approve["kind"] == "expense_to_approve"
    assert approve["title"] == "Expense to approve: 40.00 EUR at Rail ticket"
    assert _about(pete, expense["id"]) == [] and _about(sally, expense["id"]) == []
    fin.ok("POST", f"/api/erp/expenses/{expense['id']}/approve")
    assert _about(fin, expense["id"]) == []  # decided: it leaves the bell

    # Read marks are per user and per notification.
    before = _bell(sally)
    assert before["unread"] == 3
    after = sally.ok("POST", "/api/notifications/read", json={"keys": [assigned["key"]]})
    assert after["unread"] == 2 and next(n for n in after["items"] if n["key"] == assigned["key"])["read"] is True
    everything = sally.ok("POST", "/api/notifications/read-all")
    assert everything["unread"] == 0 and len(everything["items"]) == 3
    assert _bell(sally)["unread"] == 0
    # A new one rings again; handling one takes it away.
    sam.ok("POST", "/api/crm/tasks", 201, json={"title": "Send the proposal", "assignee_id": sally_id,
                                                "due_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat()})
    assert _bell(sally)["unread"] == 1
    sally.ok("PATCH", f"/api/crm/leads/{lead['id']}", json={"status": "contacted"})
    assert _about(sally, lead["id"]) == []
    assert sally.post("/api/notifications/read", json={"keys": []}).status_code == 422
    for api in (sally, sam, pete, fin):
        api.client.close()
    assert pete_id and sam_id
