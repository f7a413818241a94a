"""The department efficiency report (per cost center of the projects, or per department of the people, each
project's figures shared out by its people's time) and the profitability report's margins, each naming its basis;
every figure worked out by hand from the rows the test wrote."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_costs.helpers import (
    RoleApi,
    as_role,
    new_client,
    new_cost_center,
    new_expense,
    new_project,
    suffix,
)
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


def test_efficiency_per_department_shares_each_project_out(stack: Stack, boss: RoleApi,
                                                           studio: dict[str, Any]) -> None:
    """A project budgeted at 1,000 for 3 hours, worked in a week of 2013 (no other test's time is there) by two
    designers (1 h each, cost 50 and 20) and a writer (1 h, cost 30): its revenue follows the hours, its cost of
    time what each department's hours cost, its expenses the hours; a cost center's expense without a project goes
    to its submitter's department. The parts add up to the project's figures to the cent."""
    finance, pm = studio["finance"], studio["pm"]
    design, writing = f"Design {suffix()}", f"Writing {suffix()}"
    center = new_cost_center(finance, "Shared")
    project = new_project(pm, studio["rated"]["client_id"], budget_amount="1000.00", budget_hours="3",
                          cost_center_id=center["id"])
    week = {"date_from": "2013-02-04", "date_to": "2013-02-10"}
    people = [(f"d1-{suffix()}", design, "50.00", "40"), (f"d2-{suffix()}", design, "20.00", "20"),
              (f"w1-{suffix()}", writing, "30.00", "40")]
    for person, department, cost, capacity in people:
        ensure_person(stack, person)
        boss.ok("PATCH", f"/api/erp/people/{person}", json={"department": department})
        finance.ok("POST", "/api/erp/cost-rates", 201, json={"user_id": person, "hourly_cost": cost,
                                                             "currency": "EUR", "effective_from": "2013-01-01"})
        pm.ok("POST", "/api/erp/capacities", 201, json={"user_id": person, "hours_per_week": capacity,
                                                        "effective_from": "2013-01-01"})
        entry = pm.ok("POST", "/api/erp/time-entries", 201, json={
            "project_id": project["id"], "person_id": person, "work_date": "2013-02-05", "hours": "1"})
        finance.ok("POST", f"/api/erp/time-entries/{entry['id']}/approve")
    # Approved expenses: 10.00 on the project, and 7.00 with 19 % VAT in it (1.12; decision 215) on the cost center
    # alone, submitted by a writer.
    vat = finance.ok("POST", "/api/erp/tax-rates", 201, json={"name": f"Efficiency VAT {suffix()}",
                                                             "category": "standard", "percent": "19"})
    submitter = as_role(stack, "member")
    boss.ok("PATCH", f"/api/erp/people/{submitter.user_id}", json={"department": writing})
    for where in ({"project_id": project["id"]}, {"cost_center_id": center["id"], "tax_rate_id": vat["id"]}):
        amount = "10.00" if "project_id" in where else "7.00"
        expense = new_expense(submitter, amount=amount, expense_date="2013-02-06", **where)
        submitter.ok("POST", f"/api/erp/expenses/{expense['id']}/submit")
        finance.ok("POST", f"/api/erp/expenses/{expense['id']}/approve")

    path = "/api/erp/reports/department-efficiency"
    report = finance.ok("GET", path, params={**week, "group_by": "department"})
    assert report["group_by"] == "department"
    rows = {r["department"]: r for r in report["items"] if r["department"] in (design, writing)}
    # Revenue 1,000 by hours, 2:1: the cent the split leaves goes to the last part (Writing).
    assert (D(rows[design]["revenue"]), D(rows[writing]["revenue"])) == (D("666.66"), D("333.34"))
    # Cost of time by what the hours cost (70 : 30, not 2:1 by hours), expenses by hours (6.66 : 3.34), and the
    # cost center's expense without a project, at its net, to its submitter's department (Writing).
    assert D(rows[design]["direct_cost"]) == D("70.00") + D("6.66")
    assert D(rows[writing]["direct_cost"]) == D("30.00") + D("3.34") + D("5.88")
    assert D(rows[design]["margin"]) == D("666.66") - D("76.66")
    assert (D(rows[design]["hours"]), D(rows[writing]["hours"])) == (D(2), D(1))
    # Capacity: each person's week counted once, in their department: 40 + 20 and 40.
    assert (D(rows[design]["capacity_hours"]), D(rows[writing]["capacity_hours"])) == (D(60), D(40))
    assert D(rows[design]["billable_utilisation_percent"]) == D("3.33")
    assert D(rows[writing]["effective_rate"]) == D("333.34")
    assert all(r["cost_center_id"] is None for r in rows.values())

    # The same week by cost center: the center's row is the departments' rows added up.
    by_center = finance.ok("GET", path, params={**week, "group_by": "cost_center"})
    [center_row] = [r for r in by_center["items"] if r["cost_center_id"] == center["id"]]
    assert D(center_row["revenue"]) == D(rows[design]["revenue"]) + D(rows[writing]["revenue"]) == 1000
    assert D(center_row["direct_cost"]) == D(rows[design]["direct_cost"]) + D(rows[writing]["direct_cost"])
    assert D(center_row["hours"]) == 3 and center_row["department"] is None
