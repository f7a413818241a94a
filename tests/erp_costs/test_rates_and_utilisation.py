"""Cost rates per person, bill rates per project, weekly capacity, and the utilisation report."""

from decimal import Decimal

from devstack.stack import Stack
from tests.erp_costs.helpers import RoleApi, as_role, new_client, new_project, suffix
from tests.support import ensure_person


def test_cost_rates_are_a_dated_series_finance_only(stack: Stack, boss: RoleApi) -> None:
    finance, pm = as_role(stack, "finance"), as_role(stack, "project_manager")
    person = f"person-{suffix()}"
    finance.ok("POST", "/api/erp/cost-rates", 201,
               json={"user_id": person, "hourly_cost": "50.00", "currency": "EUR", "effective_from": "2026-01-01"})
    finance.ok("POST", "/api/erp/cost-rates", 201,
               json={"user_id": person, "hourly_cost": "60.00", "currency": "EUR", "effective_from": "2026-06-01"})
    on = {"user_id": person}
    effective = finance.ok("GET", "/api/erp/cost-rates/effective", params={**on, "on": "2026-05-31"})
    assert effective["hourly_cost"] == "50.00"
    assert Decimal(finance.ok("GET", "/api/erp/cost-rates/effective", params={**on, "on": "2026-06-01"})[
        "hourly_cost"]) == Decimal("60")
    assert finance.get("/api/erp/cost-rates/effective", params={**on, "on": "2025-12-31"}).status_code == 404
    # Reading them is finance's too (issue 23): a project manager sees no one's cost.
    assert pm.get("/api/erp/cost-rates/effective", params={**on, "on": "2026-06-01"}).status_code == 403
    assert pm.get("/api/erp/cost-rates", params=on).status_code == 403
    assert finance.ok("GET", "/api/erp/cost-rates", params=on)["total"] == 2

    refused = [
        (pm, {"hourly_cost": "70.00", "currency": "EUR", "effective_from": "2026-09-01"}, 403),
        (finance, {"hourly_cost": "-1", "currency": "EUR", "effective_from": "2026-09-01"}, 422),
        (finance, {"hourly_cost": "70.00", "currency": "ZZZ", "effective_from": "2026-09-01"}, 422),
        (finance, {"hourly_cost": "70.001", "currency": "EUR", "effective_from": "2026-09-01"}, 422),
        (finance, {"hourly_cost": "70.00", "currency": "EUR", "effective_from": "2026-06-01"}, 409),
    ]
    for who, body, status in refused:
        response = who.post("/api/erp/cost-rates", json={"user_id": person, **body})
        assert response.status_code == status, (body, response.text)
    assert finance.ok("GET", "/api/erp/cost-rates", params=on)["total"] == 2


def test_bill_rates_per_project(stack: Stack, boss: RoleApi) -> None:
    pm, sales = as_role(stack, "project_manager"), as_role(stack, "sales")
    project = new_project(pm, new_client(boss, stack, currency="JPY")["id"], budget_amount="1000000")
    path = f"/api/erp/projects/{project['id']}/bill-rates"
    pm.ok("POST", path, 201, json={"hourly_rate": "15000", "effective_from": "2026-01-01"})
    assert pm.post(path, json={"hourly_rate": "15000.5", "effective_from": "2026-02-01"}).status_code == 422
    assert pm.post(path, json={"hourly_rate": "16000", "effective_from": "2026-01-01"}).status_code == 409
    assert sales.post(path, json={"hourly_rate": "1", "effective_from": "2026-03-01"}).status_code == 403
    assert pm.post("/api/erp/projects/00000000-0000-4000-8000-00000000dead/bill-rates",
                   json={"hourly_rate": "1", "effective_from": "2026-03-01"}).status_code == 404
    rates = sales.ok("GET", path)
    assert [(Decimal(r["hourly_rate"]), r["effective_from"]) for r in rates] == [(Decimal(15000), "2026-01-01")]


def test_utilisation_hours_against_weekly_capacity(stack: Stack, boss: RoleApi) -> None:
    pm = as_role(stack, "project_manager")
    project = new_project(pm, new_client(boss, stack)["id"])
    person, idle = f"dev-{suffix()}", f"idle-{suffix()}"
    for someone in (person, idle):
        ensure_person(stack, someone)
    pm.ok("POST", "/api/erp/capacities", 201, json={"user_id": person, "hours_per_week": "40",
                                                      "effective_from": "2026-01-01"})
    pm.ok("POST", "/api/erp/capacities", 201, json={"user_id": person, "hours_per_week": "20",
                                                      "effective_from": "2026-03-16"})
    pm.ok("POST", "/api/erp/capacities", 201, json={"user_id": idle, "hours_per_week": "32",
                                                      "effective_from": "2026-01-01"})
    assert pm.post("/api/erp/capacities", json={"user_id": person, "hours_per_week": "169",
                                                "effective_from": "2026-05-01"}).status_code == 422
    assert as_role(stack, "viewer").post("/api/erp/capacities", json={
        "user_id": person, "hours_per_week": "10", "effective_from": "2026-05-01"}).status_code == 403
    # Week of Monday 2026-03-09: 8 + 8 + 4 h (4 h not billable); week of 2026-03-16: 10 h.
    for day, hours, billable in (("2026-03-09", "8", True), ("2026-03-10", "8", True), ("2026-03-11", "4", False),
                                 ("2026-03-17", "10", True)):
        pm.ok("POST", "/api/erp/time-entries", 201, json={"project_id": project["id"], "person_id": person,
                                                          "work_date": day, "hours": hours, "billable": billable})
    report = pm.ok("GET", "/api/erp/reports/utilisation",
                   params={"date_from": "2026-03-11", "date_to": "2026-03-18", "person_id": person})
    assert (report["date_from"], report["date_to"]) == ("2026-03-09", "2026-03-22")  # whole weeks
    [row] = report["items"]
    assert [(w["week_start"], Decimal(w["capacity_hours"]), Decimal(w["hours"]), Decimal(w["billable_hours"]),
             Decimal(w["utilisation_percent"]), Decimal(w["billable_utilisation_percent"])) for w in row["weeks"]] == [
        ("2026-03-09", Decimal(40), Decimal(20), Decimal(16), Decimal(50), Decimal(40)),
        ("2026-03-16", Decimal(20), Decimal(10), Decimal(10), Decimal(50), Decimal(50)),
    ]
    assert Decimal(row["capacity_hours"]) == 60 and Decimal(row["hours"]) == 30
    assert Decimal(row["utilisation_percent"]) == 50 and Decimal(row["billable_utilisation_percent"]) == Decimal(
        "43.33")
    idle_row = pm.ok("GET", "/api/erp/reports/utilisation", params={
        "date_from": "2026-03-09", "date_to": "2026-03-15", "person_id": idle})["items"][0]
    assert Decimal(idle_row["hours"]) == 0 and Decimal(idle_row["utilisation_percent"]) == 0
    bad = pm.get("/api/erp/reports/utilisation", params={"date_from": "2026-04-01", "date_to": "2026-03-01"})
    assert bad.status_code == 422 and "date_from" in bad.json()["detail"]
