"""Project budgets: the figures (each reconciled by hand from the rows the test wrote), the thresholds' alerts
(written with the change that crossed them, once per threshold and budget), setting a budget, and who may."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_costs.helpers import (
    RoleApi,
    as_role,
    new_client,
    new_expense,
    new_project,
    scalar,
    sql,
    suffix,
    upload_receipt,
)
from tests.support import ensure_person

TODAY = datetime.now(UTC).date().isoformat()


def D(value: Any) -> Decimal:
    return Decimal(str(value))


def log(pm: RoleApi, project: dict[str, Any], person: str, day: str, hours: str, **fields: Any) -> dict[str, Any]:
    entry: dict[str, Any] = pm.ok("POST", "/api/erp/time-entries", 201, json={
        "project_id": project["id"], "person_id": person, "work_date": day, "hours": hours, **fields})
    return entry


def alerts_sent(stack: Stack, project_id: str) -> list[dict[str, Any]]:
    """The project.budget_threshold_reached events in the outbox, oldest first."""
    rows = sql(stack, "SELECT convert_from(value, 'UTF8') FROM outbox WHERE event_type = "
                      f"'project.budget_threshold_reached' AND message_key = '{project_id}' ORDER BY id")
    return [json.loads("|".join(row))["data"] for row in rows]


@pytest.fixture(scope="module")
def people(stack: Stack, boss: RoleApi) -> dict[str, Any]:
    finance, pm = as_role(stack, "finance"), as_role(stack, "project_manager")
    dev = f"dev-{suffix()}"
    ensure_person(stack, dev)  # the person the gateway's user.created would have made
    finance.ok("POST", "/api/erp/cost-rates", 201, json={"user_id": dev, "hourly_cost": "50.00", "currency": "EUR",
                                                         "effective_from": "2026-01-01"})
    return {"finance": finance, "pm": pm, "dev": dev, "client": new_client(boss, stack, currency="EUR")}


def test_budget_figures_add_up_from_the_rows(stack: Stack, people: dict[str, Any]) -> None:
    pm, finance, dev = people["pm"], people["finance"], people["dev"]
    project = new_project(pm, people["client"]["id"], budget_amount="5000.00", budget_hours="100")
    pm.ok("POST", f"/api/erp/projects/{project['id']}/bill-rates", 201,
          json={"hourly_rate": "120.00", "effective_from": "2026-01-01"})
    approved = log(pm, project, dev, "2026-11-02", "6")
    log(pm, project, dev, "2026-11-03", "2.5")  # open: actual, not unbilled
    log(pm, project, dev, "2026-11-04", "1.5", billable=False)
    finance.ok("POST", f"/api/erp/time-entries/{approved['id']}/approve")
    expense = new_expense(pm, project_id=project["id"], amount="80.00", billable=True)
    upload_receipt(pm, expense["id"])
    pm.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
    finance.ok("POST", f"/api/erp/expenses/{expense['id']}/approve", json={})
    draft = finance.ok("POST", "/api/erp/invoices", 201, json={"project_id": project["id"], "lines": [
        {"description": "Kick-off", "quantity": "1", "unit_price": "700.00"}]})
    finance.ok("POST", f"/api/erp/invoices/{draft['id']}/issue")

    budget = pm.ok("GET", f"/api/erp/projects/{project['id']}/budget")
    hours, money = budget["hours"], budget["money"]
    assert D(hours["budget"]) == 100 and D(hours["actual"]) == D("10.00")
    assert D(hours["unbilled"]) == 6 and D(hours["invoiced"]) == 0
    assert D(hours["forecast_at_completion"]) == D(hours["actual"])  # nothing booked ahead
    assert D(hours["burn_percent"]) == D("10.00")
    # Money burnt: 10 h at the cost rate of 50 + the approved expense of 80.
    assert D(money["actual"]) == D("580.00") and D(money["burn_percent"]) == D("11.60")
    # Unbilled: the 6 approved billable hours at the bill rate of 120 + the billable expense not yet invoiced.
    assert D(money["unbilled"]) == D(6 * 120 + 80)
    assert D(money["invoiced"]) == D("700.00")
    assert budget["thresholds"] == [50, 80, 100] and budget["phases"] == [] and budget["alerts"] == []
    assert budget["unpriced_hours"] == "0.00" and budget["unrated_hours"] == "0.00"
    # The same hours as the time entries' own sums.
    assert D(scalar(stack, f"SELECT sum(hours) FROM time_entries WHERE project_id = '{project['id']}'")) == 10


def test_each_threshold_alerts_once_in_the_transaction_of_the_time_that_crossed_it(
        stack: Stack, people: dict[str, Any]) -> None:
    pm, dev = people["pm"], people["dev"]
    project = new_project(pm, people["client"]["id"], budget_amount="0", budget_hours="10", owner_id=pm.user_id)
    log(pm, project, dev, "2026-11-09", "4.5")
    assert alerts_sent(stack, project["id"]) == []
    crossing = log(pm, project, dev, "2026-11-10", "0.5")  # 5 h of 10: 50 %
    sent = alerts_sent(stack, project["id"])
    assert [(a["measure"], a["threshold_percent"], a["actual"], a["budget"]) for a in sent] == [
        ("hours", 50, "5.00", "10.00")]
    assert sent[0]["owner_id"] == pm.user_id and sent[0]["currency"] is None
    # Written in the entry's transaction: the alert row has the entry's xmin (the outbox row's is changed by the
    # relay marking it published).
    assert scalar(stack, f"SELECT count(*) FROM time_entries t JOIN project_budget_alerts a "
                         f"ON a.project_id = t.project_id "
                         f"WHERE t.id = '{crossing['id']}' AND a.xmin = t.xmin") == "1"
    log(pm, project, dev, "2026-11-11", "1")  # 60 %: nothing new
    assert len(alerts_sent(stack, project["id"])) == 1
    log(pm, project, dev, "2026-11-12", "5")  # 110 %: 80 and 100 at once
    assert [a["threshold_percent"] for a in alerts_sent(stack, project["id"])] == [50, 80, 100]

    # A raised budget arms the thresholds again: 11 h of 40 is below 50 % ...
    raised = pm.ok("PUT", f"/api/erp/projects/{project['id']}/budget", json={"budget_hours": "40"})
    assert D(raised["hours"]["burn_percent"]) == D("27.50") and len(raised["alerts"]) == 3
    assert len(alerts_sent(stack, project["id"])) == 3
    log(pm, project, dev, "2026-11-13", "9")  # ... 20 h of 40 crosses 50 % of the new budget
    latest = alerts_sent(stack, project["id"])[-1]
    assert (latest["threshold_percent"], latest["budget"], latest["actual"]) == (50, "40.00", "20.00")

    # The project manager's bell has the alerts; another user's has none of them.
    bell = pm.ok("GET", "/api/erp/notifications")["items"]
    mine = [n for n in bell if n["kind"] == "budget_threshold" and n["link"] == f"#/projects/{project['id']}"]
    assert len(mine) == 4 and "50 % of the hours budget" in mine[0]["title"]
    other = people["finance"].ok("GET", "/api/erp/notifications")["items"]
    assert not [n for n in other if n["link"] == f"#/projects/{project['id']}"]


def test_approved_expense_crossing_the_money_budget_alerts(stack: Stack, people: dict[str, Any]) -> None:
    pm, finance = people["pm"], people["finance"]
    project = new_project(pm, people["client"]["id"], budget_amount="100.00", budget_hours=None)
    pm.ok("PUT", f"/api/erp/projects/{project['id']}/budget", json={"thresholds": [75]})
    expense = new_expense(pm, project_id=project["id"], amount="80.00")
    upload_receipt(pm, expense["id"])
    pm.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
    assert alerts_sent(stack, project["id"]) == []  # a submitted expense is no cost yet
    finance.ok("POST", f"/api/erp/expenses/{expense['id']}/approve", json={})
    sent = alerts_sent(stack, project["id"])
    assert [(a["measure"], a["threshold_percent"], a["actual"], a["currency"]) for a in sent] == [
        ("money", 75, "80.00", "EUR")]


def test_setting_a_budget_checks_its_input_and_its_caller(stack: Stack, people: dict[str, Any]) -> None:
    pm = people["pm"]
    project = new_project(pm, people["client"]["id"])
    path = f"/api/erp/projects/{project['id']}/budget"
    for body, where in (({"thresholds": [0, 50]}, "thresholds"), ({"thresholds": [50, 50]}, "thresholds"),
                        ({"thresholds": []}, "thresholds"), ({"budget_hours": "-1"}, "budget_hours"),
                        ({"budget_amount": "1.001"}, "budget_amount"), ({"colour": "red"}, "colour")):
        response = pm.client.put(path, json=body)
        assert response.status_code == 422, (body, response.text)
        assert where in response.text
    assert pm.client.put(path, json={"budget_amount": None}).status_code == 422
    assert pm.client.put(f"/api/erp/projects/{suffix()}0000-0000-0000-0000-000000000000/budget",
                         json={}).status_code == 422
    missing = pm.client.put("/api/erp/projects/00000000-0000-4000-8000-000000000000/budget", json={})
    assert missing.status_code == 404
    for role in ("sales", "viewer"):
        assert as_role(stack, role).client.put(path, json={"budget_hours": "1"}).status_code == 403
    assert D(scalar(stack, f"SELECT budget_hours FROM projects WHERE id = '{project['id']}'")) == 100  # unchanged
    changed = people["finance"].ok("PUT", path, json={"budget_hours": "250", "budget_amount": "12000.50",
                                                      "thresholds": [90, 25]})
    assert changed["thresholds"] == [25, 90] and D(changed["hours"]["budget"]) == 250
    assert D(changed["money"]["budget"]) == D("12000.50")
    assert as_role(stack, "viewer").ok("GET", path)["thresholds"] == [25, 90]


def test_a_milestones_project_shows_its_phases_with_what_was_invoiced(stack: Stack, boss: RoleApi,
                                                                     people: dict[str, Any]) -> None:
    finance, pm = people["finance"], people["pm"]
    billing = {"type": "milestones", "milestones": [{"name": "Kickoff", "percent": "40"},
                                                    {"name": "Launch", "percent": "60", "due_date": "2027-03-01"}]}
    deal = boss.won_deal(billing=billing, amount="5000.00")
    project = boss.project_of(deal["id"])
    kickoff = finance.ok("GET", f"/api/erp/projects/{project['id']}/billing-schedule")["items"][0]
    pm.ok("POST", f"/api/erp/schedule-items/{kickoff['id']}/reach")
    run = finance.ok("POST", "/api/erp/billing-runs", 201, json={"as_of": TODAY, "project_id": project["id"]})
    [invoice] = run["invoices"]
    finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/credit-note", 201,
               json={"reason": "Scope cut", "amount": "500.00"})
    phases = pm.ok("GET", f"/api/erp/projects/{project['id']}/budget")["phases"]
    assert [(p["label"], p["budget"], p["invoiced"]) for p in phases] == [
        ("Kickoff", "2000.00", "1500.00"), ("Launch", "3000.00", "0.00")]
    assert phases[1]["due_date"] == "2027-03-01" and phases[0]["status"] == "invoiced"


def test_billed_time_moves_from_unbilled_to_invoiced_and_back_when_voided(stack: Stack, boss: RoleApi,
                                                                         people: dict[str, Any]) -> None:
    finance, pm, dev = people["finance"], people["pm"], people["dev"]
    deal = boss.won_deal(billing={"type": "time_and_materials", "hourly_rate": "90.00"}, amount="9000.00")
    project = boss.project_of(deal["id"])
    for day, hours in (("2026-11-16", "3"), ("2026-11-17", "2")):
        finance.ok("POST", f"/api/erp/time-entries/{log(pm, project, dev, day, hours)['id']}/approve")
    path = f"/api/erp/projects/{project['id']}/budget"
    before = pm.ok("GET", path)
    assert (D(before["hours"]["unbilled"]), D(before["money"]["unbilled"])) == (D(5), D("450.00"))  # the T&M rate
    run = finance.ok("POST", "/api/erp/billing-runs", 201, json={"as_of": TODAY, "project_id": project["id"]})
    [invoice] = run["invoices"]
    billed = pm.ok("GET", path)
    assert (D(billed["hours"]["unbilled"]), D(billed["hours"]["invoiced"])) == (D(0), D(5))
    assert (D(billed["money"]["unbilled"]), D(billed["money"]["invoiced"])) == (D(0), D("450.00"))
    finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/void", json={"reason": "Wrong client"})
    voided = pm.ok("GET", path)
    assert (D(voided["hours"]["unbilled"]), D(voided["hours"]["invoiced"]), D(voided["money"]["invoiced"])) == (
        D(5), D(0), D(0))
    assert D(voided["hours"]["actual"]) == 5  # billing moves no burn


def test_the_forecast_adds_the_hours_booked_from_this_week_on_at_each_persons_cost_rate(
        stack: Stack, people: dict[str, Any]) -> None:
    """The budget's one statement (decision 201) reads the bookings through the planning's public module: weeks from
    today on count, earlier ones do not; hours of a person without a cost rate in the project's currency add hours
    but no money."""
    pm, dev = people["pm"], people["dev"]
    unrated = f"nora-{suffix()}"
    ensure_person(stack, unrated)
    project = new_project(pm, people["client"]["id"], budget_amount="10000.00", budget_hours="100")
    log(pm, project, dev, "2026-11-02", "4")
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    for person, week, hours in ((dev, monday - timedelta(days=7), "30"), (dev, monday + timedelta(days=7), "16"),
                                (dev, monday + timedelta(days=14), "8.5"), (unrated, monday + timedelta(days=7), "10")):
        pm.ok("POST", "/api/erp/bookings", 201, json={"person_id": person, "project_id": project["id"],
                                                       "week": week.isoformat(), "hours": hours,
                                                       "status": "confirmed"})
    budget = pm.ok("GET", f"/api/erp/projects/{project['id']}/budget")
    hours, money = budget["hours"], budget["money"]
    assert (D(hours["actual"]), D(hours["booked_remaining"]), D(hours["forecast_at_completion"])) == (
        D(4), D("34.50"), D("38.50"))
    # 24.5 h of the dev at 50.00; nora's 10 h have no cost rate.
    assert (D(money["actual"]), D(money["booked_remaining"]), D(money["forecast_at_completion"])) == (
        D("200.00"), D("1225.00"), D("1425.00"))
    assert D(hours["forecast_percent"]) == D("38.50")


def test_a_budget_changed_through_the_project_alerts_in_that_transaction(stack: Stack, people: dict[str, Any]) -> None:
    pm, dev = people["pm"], people["dev"]
    project = new_project(pm, people["client"]["id"], budget_amount="0", budget_hours="20", owner_id=pm.user_id)
    log(pm, project, dev, "2026-11-16", "6")  # 30 %: nothing yet
    assert alerts_sent(stack, project["id"]) == []
    pm.ok("PATCH", f"/api/erp/projects/{project['id']}", json={"name": "Renamed, budget as it was"})
    assert alerts_sent(stack, project["id"]) == []
    pm.ok("PATCH", f"/api/erp/projects/{project['id']}", json={"budget_hours": "7"})  # 6 h of 7: 85.7 %
    sent = alerts_sent(stack, project["id"])
    assert [(a["measure"], a["threshold_percent"], a["budget"], a["actual"]) for a in sent] == [
        ("hours", 50, "7.00", "6.00"), ("hours", 80, "7.00", "6.00")]
    # Written with the PATCH: the alerts' rows have the project row's xmin.
    assert scalar(stack, f"SELECT count(*) FROM project_budget_alerts a JOIN projects p ON p.id = a.project_id "
                         f"WHERE p.id = '{project['id']}' AND a.xmin = p.xmin") == "2"
    pm.ok("PATCH", f"/api/erp/projects/{project['id']}", json={"budget_amount": "100.00"})  # 6 h x 50.00 = 300 %
    assert [a["threshold_percent"] for a in alerts_sent(stack, project["id"]) if a["measure"] == "money"] == [
        50, 80, 100]
