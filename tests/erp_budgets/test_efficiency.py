"""The department efficiency report (per cost center until people carry departments) and the profitability
report's margins, each naming its basis; every figure worked out by hand from the rows the test wrote."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_costs.helpers import RoleApi, as_role, new_client, new_cost_center, new_project, suffix
from tests.support import ensure_person

# The last 30 days (an invoice is issued today): each test's cost center is its own, so its rows hold only its time.
TODAY = datetime.now(UTC).date()
FROM, TO = (TODAY - timedelta(days=30)).isoformat(), TODAY.isoformat()
DAYS = [(TODAY - timedelta(days=n)).isoformat() for n in (10, 9, 8, 7)]


def D(value: Any) -> Decimal:
    return Decimal(str(value))


@pytest.fixture(scope="module")
def studio(stack: Stack, boss: RoleApi) -> dict[str, Any]:
    """A studio cost center with two projects, time in the last 30 days: one with a bill rate of 100
    (10 billable hours + 2 not, by one person of capacity 40 h/week, cost 50/h) and one budgeted at 2,000 for 20 h
    (5 hours by a second person without a capacity, cost 30/h), and an invoice of 1,500 on the first."""
    finance, pm = as_role(stack, "finance"), as_role(stack, "project_manager")
    center = new_cost_center(finance, "Studio")
    client = new_client(boss, stack, currency="EUR")
    rated = new_project(pm, client["id"], budget_amount="0", budget_hours=None, cost_center_id=center["id"])
    fixed = new_project(pm, client["id"], budget_amount="2000.00", budget_hours="20", cost_center_id=center["id"])
    pm.ok("POST", f"/api/erp/projects/{rated['id']}/bill-rates", 201,
          json={"hourly_rate": "100.00", "effective_from": "2025-01-01"})
    designer, writer = f"designer-{suffix()}", f"writer-{suffix()}"
    for person, cost in ((designer, "50.00"), (writer, "30.00")):
        ensure_person(stack, person)  # the person the gateway's user.created would have made
        finance.ok("POST", "/api/erp/cost-rates", 201, json={"user_id": person, "hourly_cost": cost,
                                                             "currency": "EUR", "effective_from": "2025-01-01"})
    pm.ok("POST", "/api/erp/capacities", 201, json={"user_id": designer, "hours_per_week": "40",
                                                    "effective_from": "2025-01-01"})
    entries = [(rated, designer, DAYS[0], "6", True), (rated, designer, DAYS[1], "4", True),
               (rated, designer, DAYS[2], "2", False), (fixed, writer, DAYS[3], "5", True)]
    for project, person, day, hours, billable in entries:
        entry = pm.ok("POST", "/api/erp/time-entries", 201, json={
            "project_id": project["id"], "person_id": person, "work_date": day, "hours": hours,
            "billable": billable})
        finance.ok("POST", f"/api/erp/time-entries/{entry['id']}/approve")
    draft = finance.ok("POST", "/api/erp/invoices", 201, json={
        "project_id": rated["id"],
        "lines": [{"description": "March", "quantity": "1", "unit_price": "1500.00"}]})
    finance.ok("POST", f"/api/erp/invoices/{draft['id']}/issue")
    return {"center": center, "rated": rated, "fixed": fixed, "finance": finance, "pm": pm}


def test_efficiency_per_cost_center(studio: dict[str, Any]) -> None:
    report = studio["finance"].ok("GET", "/api/erp/reports/department-efficiency",
                                  params={"date_from": FROM, "date_to": TO, "group_by": "cost_center"})
    [row] = [r for r in report["items"] if r["cost_center_id"] == studio["center"]["id"]]
    # Revenue earned: the rated project has no schedule and no hours budget, so it earns what was invoiced (1,500);
    # the other earns its budget by the share of its budget hours done (2,000 x 5/20).
    profit = studio["finance"].ok("GET", "/api/erp/reports/profitability", params={
        "group_by": "cost_center", "cost_center_id": studio["center"]["id"], "date_from": FROM, "date_to": TO})
    [center] = profit["items"]
    assert D(row["revenue"]) == D(center["revenue_recognised"]) == D("1500.00") + D("500.00")
    assert D(row["direct_cost"]) == 12 * 50 + 5 * 30
    assert D(row["margin"]) == D("2000.00") - 750 and D(row["margin_percent"]) == D("62.50")
    assert D(row["hours"]) == 17 and D(row["billable_hours"]) == 15
    # Capacity: the designer has 40 h/week, the writer none: the group's capacity is unknown rather than
    # understated.
    assert row["capacity_hours"] is None and row["billable_utilisation_percent"] is None
    assert D(row["revenue_per_billable_hour"]) == (D(2000) / 15).quantize(D("0.01"))
    assert D(row["effective_rate"]) == (D(2000) / 17).quantize(D("0.01"))
    # List rate: only the rated project's 10 billable hours have one (100).
    assert D(row["list_rate"]) == D("100.00")
    assert D(row["effective_vs_list_percent"]) == D("117.65")
    assert row["department"] is None


def test_capacity_is_shared_by_hours_and_utilisation_follows(stack: Stack, studio: dict[str, Any]) -> None:
    # The designer alone, in a week of their own: 8 billable hours of a 40 h week (5 weekdays).
    center = new_cost_center(studio["finance"], "Solo")
    client_id = studio["rated"]["client_id"]
    project = new_project(studio["pm"], client_id, budget_amount="0", budget_hours=None, cost_center_id=center["id"])
    person = f"solo-{suffix()}"
    ensure_person(stack, person)
    studio["pm"].ok("POST", "/api/erp/capacities", 201, json={"user_id": person, "hours_per_week": "40",
                                                              "effective_from": "2025-01-01"})
    studio["pm"].ok("POST", "/api/erp/time-entries", 201, json={
        "project_id": project["id"], "person_id": person, "work_date": "2025-05-06", "hours": "8"})
    report = studio["finance"].ok("GET", "/api/erp/reports/department-efficiency",
                                  params={"date_from": "2025-05-05", "date_to": "2025-05-11"})
    [row] = [r for r in report["items"] if r["cost_center_id"] == center["id"]]
    assert D(row["capacity_hours"]) == 40 and D(row["billable_utilisation_percent"]) == 20


def test_efficiency_refusals(stack: Stack, studio: dict[str, Any]) -> None:
    path = "/api/erp/reports/department-efficiency"
    finance = studio["finance"]
    for params in ({"date_from": "2025-03-02", "date_to": "2025-03-01"},
                   {"date_from": "2024-01-01", "date_to": "2025-03-01"},
                   {"group_by": "team"}, {"date_from": "yesterday"}):
        assert finance.client.get(path, params=params).status_code == 422, params
    departments = finance.client.get(path, params={"group_by": "department", "date_from": FROM, "date_to": TO})
    assert departments.status_code == 422 and "no-departments" in departments.json()["type"]
    for role in ("project_manager", "sales", "viewer"):
        assert as_role(stack, role).client.get(path).status_code == 403, role


def test_the_profitability_margins_name_their_basis(studio: dict[str, Any]) -> None:
    report = studio["finance"].ok("GET", "/api/erp/reports/profitability",
                                  params={"project_id": studio["fixed"]["id"], "date_from": FROM, "date_to": TO})
    [row] = report["items"]
    effort, invoiced = row["margins"]
    # Effort basis: 2,000 x 5/20 earned less 5 h at 30; invoiced basis: nothing invoiced less the same cost.
    assert (effort["basis"], D(effort["revenue"]), D(effort["cost"]), D(effort["margin_percent"])) == (
        "effort", D("500.00"), D("150.00"), D("70.00"))
    assert effort["label"].startswith("Effort basis") and invoiced["label"].startswith("Invoiced basis")
    assert (invoiced["basis"], D(invoiced["revenue"]), invoiced["margin_percent"]) == ("invoiced", D(0), None)
    assert D(effort["margin"]) == D(row["recognised_margin"]) and D(invoiced["margin"]) == D(row["margin"])
