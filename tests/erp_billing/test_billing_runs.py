"""Billing runs: every due schedule item invoiced exactly once, however often and concurrently the run goes;
time and materials billed from approved billable time at the hourly rate, up to the cap."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, d, fixed, project_for, today
from tests.support import Api, ensure_person, wait_for


def run(api: Api, as_of: date, project: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"as_of": as_of.isoformat(), **extra}
    if project is not None:
        body["project_id"] = project["id"]
    result: dict[str, Any] = api.ok("POST", "/api/erp/billing-runs", 201, json=body)
    return result


def schedule(api: Api, project: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = api.ok("GET", f"/api/erp/projects/{project['id']}/billing-schedule")
    return result


def test_each_due_item_is_invoiced_exactly_once(stack: Stack, admin: Api, finance: Api) -> None:
    start = today() - timedelta(days=110)
    project = project_for(admin, fixed(4, start), amount="10000.00")  # 2500.00 each, monthly from `start`
    items = schedule(finance, project)["items"]
    month_ago = today() - timedelta(days=30)
    due_now = [i for i in items if date.fromisoformat(i["due_date"]) <= month_ago]
    assert len(due_now) == 3 and all(date.fromisoformat(i["due_date"]) <= today() for i in items)

    first = run(finance, month_ago, project)
    assert first["invoices_created"] == 3 and first["items_invoiced"] == 3
    invoices = first["invoices"]
    assert all(i["status"] == "issued" and i["number"].startswith("INV-") for i in invoices)
    assert sorted(i["schedule_item_id"] for i in invoices) == sorted(i["id"] for i in due_now)
    assert all(i["lines"][0]["kind"] == "schedule" and i["total"] == "2500.00" for i in invoices)
    assert all(i["deal_id"] == project["deal_id"] for i in invoices)
    assert run(finance, month_ago, project)["invoices_created"] == 0  # again: nothing new

    # Five runs at once, as of today: the last item is invoiced once, by one of them.
    def concurrent_run(_: int) -> int:
        with as_role(stack, "finance", direct=True) as api:
            response = api.post("/api/erp/billing-runs", json={"as_of": today().isoformat(),
                                                               "project_id": project["id"]})
            assert response.status_code in (201, 409), response.text
            return int(response.json().get("invoices_created", 0))

    with ThreadPoolExecutor(max_workers=5) as pool:
        assert sum(pool.map(concurrent_run, range(5))) == 1
    after = schedule(finance, project)["items"]
    assert all(i["status"] == "invoiced" and i["invoice_id"] for i in after)
    listed = finance.ok("GET", "/api/erp/invoices", params={"project_id": project["id"]})
    assert listed["total"] == 4
    assert sum(d(i["total"]) for i in listed["items"]) == d("10000.00")  # the schedule, billed exactly
    runs = finance.ok("GET", "/api/erp/billing-runs", params={"limit": 10})
    assert runs["items"][0]["as_of"] and runs["total"] >= 7


def test_voiding_gives_the_item_back_to_the_next_run(admin: Api, finance: Api) -> None:
    project = project_for(admin, fixed(1, today() - timedelta(days=1)), amount="900.00")
    invoice = run(finance, today(), project)["invoices"][0]
    finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/void", json={"reason": "wrong address"})
    assert schedule(finance, project)["items"][0]["status"] == "pending"
    again = run(finance, today(), project)["invoices"]
    assert len(again) == 1 and again[0]["number"] != invoice["number"] and again[0]["total"] == "900.00"
    assert run(finance, today(), project)["invoices_created"] == 0


def test_draft_runs_and_milestones_when_reached(admin: Api, finance: Api, stack: Stack) -> None:
    billing = {"type": "milestones", "milestones": [
        {"name": "Kickoff", "percent": "40"},
        {"name": "Launch", "percent": "60", "due_date": (today() + timedelta(days=90)).isoformat()}]}
    project = project_for(admin, billing, amount="5000.00")
    assert run(finance, today(), project)["invoices_created"] == 0  # not reached, not due
    kickoff = schedule(finance, project)["items"][0]
    with as_role(stack, "viewer") as viewer:
        assert viewer.post(f"/api/erp/schedule-items/{kickoff['id']}/reach").status_code == 403
    with as_role(stack, "project_manager") as pm:
        reached = pm.ok("POST", f"/api/erp/schedule-items/{kickoff['id']}/reach")
    assert reached["reached_at"] is not None
    drafts = run(finance, today(), project, issue=False)["invoices"]
    assert [(i["status"], i["number"], i["total"]) for i in drafts] == [("draft", None, "2000.00")]
    assert finance.post(f"/api/erp/schedule-items/{kickoff['id']}/reach").status_code == 409  # already invoiced
    issued = finance.ok("POST", f"/api/erp/invoices/{drafts[0]['id']}/issue")
    assert issued["status"] == "issued"
    launch = schedule(finance, project)["items"][1]
    finance.ok("POST", f"/api/erp/schedule-items/{launch['id']}/reach")  # reached early: billed before its date
    assert run(finance, today(), project)["invoices"][0]["total"] == "3000.00"


@pytest.fixture(scope="module", autouse=True)
def people(stack: Stack) -> None:
    """The people whose time these tests book (the gateway's users would have made them)."""
    for person, name in (("ada", "Ada Lovelace"), ("grace", "Grace Hopper"), ("linus", "Linus Torvalds")):
        ensure_person(stack, person, name=name)


def book(api: Api, project: dict[str, Any], hours: str, day: date, *, approve: bool = True, billable: bool = True,
         person: str = "ada") -> dict[str, Any]:
    entry: dict[str, Any] = api.ok("POST", "/api/erp/time-entries", 201, json={
        "project_id": project["id"], "person_id": person, "work_date": day.isoformat(), "hours": hours,
        "billable": billable, "description": "Build"})
    if approve:
        entry = api.ok("POST", f"/api/erp/time-entries/{entry['id']}/approve")
    return entry


def test_time_and_materials_bills_approved_billable_time_up_to_the_cap(admin: Api, finance: Api) -> None:
    project = project_for(admin, {"type": "time_and_materials", "hourly_rate": "100.00", "cap": "1000.00"},
                          amount="1000.00")
    day = today() - timedelta(days=3)
    billed = book(finance, project, "4", day)
    book(finance, project, "2", day, billable=False)
    waiting = book(finance, project, "3", day, approve=False, person="grace")

    first = run(finance, today(), project)
    assert first["time_entries_invoiced"] == 1
    invoice = first["invoices"][0]
    assert [(x["kind"], x["quantity"], x["unit_price"], x["net_amount"]) for x in invoice["lines"]] == [
        ("time", "4", "100.00", "400.00")]
    # The client reads whose time it is by the person's name, not their id.
    assert invoice["lines"][0]["description"] == f"{day.isoformat()} Ada Lovelace - Build"
    assert finance.ok("GET", f"/api/erp/time-entries/{billed['id']}")["invoice_id"] == invoice["id"]
    assert finance.client.patch(f"/api/erp/time-entries/{billed['id']}", json={"hours": "5"}).status_code == 409
    assert finance.client.delete(f"/api/erp/time-entries/{billed['id']}").status_code == 409

    finance.ok("POST", f"/api/erp/time-entries/{waiting['id']}/approve")
    book(finance, project, "5", day, person="grace")  # 3 h + 5 h = 800.00, but only 600.00 of the cap is left
    second = run(finance, today(), project)["invoices"][0]
    assert [x["kind"] for x in second["lines"]] == ["time", "time", "cap_adjustment"]
    assert second["lines"][-1]["net_amount"] == "-200.00" and second["total"] == "600.00"

    late = book(finance, project, "1", today(), person="linus")
    third = run(finance, today(), project)  # the cap is used up: nothing more is billed
    assert third["invoices_created"] == 0
    assert finance.ok("GET", f"/api/erp/time-entries/{late['id']}")["beyond_cap"] is True
    total = sum(d(i["total"]) for i in finance.ok("GET", "/api/erp/invoices",
                                                  params={"project_id": project["id"]})["items"])
    assert total == d("1000.00")


def test_deleting_or_voiding_a_time_invoice_gives_its_time_back_to_the_next_run(admin: Api, finance: Api) -> None:
    project = project_for(admin, {"type": "time_and_materials", "hourly_rate": "50.00"}, amount="1000.00")
    entry = book(finance, project, "2", today() - timedelta(days=2))

    def billed_on() -> str | None:
        invoice_id: str | None = finance.ok("GET", f"/api/erp/time-entries/{entry['id']}")["invoice_id"]
        return invoice_id

    draft = run(finance, today(), project, issue=False)["invoices"][0]
    assert billed_on() == draft["id"]
    assert finance.client.delete(f"/api/erp/invoices/{draft['id']}").status_code == 204
    assert billed_on() is None

    issued = run(finance, today(), project)["invoices"][0]
    assert billed_on() == issued["id"] and issued["total"] == "100.00"
    finance.ok("POST", f"/api/erp/invoices/{issued['id']}/void", json={"reason": "wrong rate"})
    assert billed_on() is None
    again = run(finance, today(), project)["invoices"]
    assert [i["total"] for i in again] == ["100.00"] and billed_on() == again[0]["id"]


def test_the_scheduler_runs_the_billing_run(finance: Api) -> None:
    def scheduled() -> dict[str, Any] | None:
        runs = finance.ok("GET", "/api/erp/billing-runs", params={"limit": 200})["items"]
        return next((r for r in runs if r["triggered_by"] == "scheduler"), None)

    run = wait_for(scheduled, 30, "the worker's scheduled billing run")
    started_on = date.fromisoformat(run["as_of"])
    assert today() - timedelta(days=1) <= started_on <= today()  # as of the day the worker started
    assert run["issue"] is True and run["project_id"] is None


def test_a_run_dated_in_the_future_is_refused(admin: Api, finance: Api) -> None:
    project = project_for(admin, fixed(2, today() + timedelta(days=3)), amount="800.00")
    for as_of in (today() + timedelta(days=1), date(9999, 12, 31)):
        response = finance.post("/api/erp/billing-runs", json={"as_of": as_of.isoformat(), "project_id": project["id"]})
        assert response.status_code == 422, response.text
        problem = response.json()  # tomorrow: the run's own rule; 9999-12-31: outside every business date first
        assert problem["errors"][0]["field"].endswith("as_of"), response.text
        assert "in the future" in problem["detail"] or "dates lie between" in problem["detail"], response.text
    assert all(i["status"] == "pending" for i in schedule(finance, project)["items"])  # nothing billed
    assert finance.ok("GET", "/api/erp/invoices", params={"project_id": project["id"]})["total"] == 0
    assert run(finance, today(), project)["invoices_created"] == 0  # today is fine: nothing is due yet
