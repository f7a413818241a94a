"""The people directory and the member role (issue 23): who sees whose cost rate, what finance sets, which time and
expenses are refused (and that nothing is written then), and what a member may read."""

import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_costs.helpers import RoleApi, as_role, new_client, new_cost_center, new_project, scalar
from tests.support import ensure_person

DAY = date.today() - timedelta(days=1)


@pytest.fixture(scope="module")
def project(boss: RoleApi, stack: Stack) -> dict[str, Any]:
    return new_project(boss, new_client(boss, stack)["id"])


def entries_of(stack: Stack, person_id: str) -> int:
    return int(scalar(stack, f"SELECT count(*) FROM time_entries WHERE person_id = '{person_id}'"))


def test_finance_sets_department_cost_center_capacity_and_dated_rates(stack: Stack, boss: RoleApi) -> None:
    with as_role(stack, "member") as member, as_role(stack, "finance") as finance:
        center = new_cost_center(boss, "Studio")
        changed = finance.ok("PATCH", f"/api/erp/people/{member.user_id}", json={
            "department": "Design", "cost_center_id": center["id"],
            "weekly_capacity": {"hours_per_week": "32", "effective_from": "2026-01-01"},
            "cost_rate": {"hourly_rate": "45.50", "currency": "EUR", "effective_from": "2026-01-01"},
            "list_rate": {"hourly_rate": "120", "currency": "EUR", "effective_from": "2026-01-01"}})
        assert (changed["department"], changed["cost_center_id"]) == ("Design", center["id"])
        assert changed["weekly_capacity"]["hours_per_week"] == "32.00"
        assert (changed["cost_rate"]["hourly_rate"], changed["list_rate"]["hourly_rate"]) == ("45.50", "120.00")
        # A later rate starts a new entry (history kept); the same start date corrects its entry.
        finance.ok("PATCH", f"/api/erp/people/{member.user_id}", json={
            "cost_rate": {"hourly_rate": "50", "currency": "EUR", "effective_from": "2026-06-01"}})
        again = finance.ok("PATCH", f"/api/erp/people/{member.user_id}", json={
            "cost_rate": {"hourly_rate": "52", "currency": "EUR", "effective_from": "2026-06-01"}})
        assert [(r["hourly_rate"], r["effective_from"]) for r in again["cost_rate_history"]] == [
            ("52.00", "2026-06-01"), ("45.50", "2026-01-01")]
        assert again["cost_rate"]["hourly_rate"] == "52.00"
        # They are the cost rates the reports price time with (erp.rates), not a copy.
        assert finance.ok("GET", "/api/erp/cost-rates", params={"user_id": member.user_id})["total"] == 2

        # An inactive cost center: 422, and nothing of the request is written (the department neither).
        closed = new_cost_center(boss, "Closed")
        boss.ok("PATCH", f"/api/erp/cost-centers/{closed['id']}", json={"active": False})
        refused = finance.patch(f"/api/erp/people/{member.user_id}", json={
            "department": "Elsewhere", "cost_center_id": closed["id"]})
        assert refused.status_code == 422 and refused.json()["type"].endswith("/inactive-cost-center")
        assert finance.ok("GET", f"/api/erp/people/{member.user_id}")["department"] == "Design"
        assert finance.get("/api/erp/people/nobody-here").status_code == 404


def test_cost_rates_are_for_finance_admin_and_the_person_themselves(stack: Stack, boss: RoleApi) -> None:
    with as_role(stack, "member") as member, as_role(stack, "member") as colleague, \
            as_role(stack, "project_manager") as pm, as_role(stack, "finance") as finance:
        for person_id in (member.user_id, colleague.user_id):
            finance.ok("PATCH", f"/api/erp/people/{person_id}", json={
                "cost_rate": {"hourly_rate": "40", "currency": "EUR", "effective_from": "2026-01-01"}})
        for api in (pm, member):
            assert api.get("/api/erp/cost-rates").status_code == 403
            assert api.get("/api/erp/cost-rates/effective",
                           params={"user_id": colleague.user_id, "on": "2026-02-01"}).status_code == 403
            seen = api.ok("GET", f"/api/erp/people/{colleague.user_id}")
            assert (seen["cost_rate"], seen["cost_rate_history"], seen["cost_rate_visible"]) == (None, [], False)
        own = member.ok("GET", f"/api/erp/people/{member.user_id}")
        assert own["cost_rate"]["hourly_rate"] == "40.00" and own["cost_rate_visible"]
        listed = {p["id"]: p for p in member.ok("GET", "/api/erp/people", params={"limit": 200})["items"]}
        assert listed[member.user_id]["cost_rate"] is not None and listed[colleague.user_id]["cost_rate"] is None
        by_finance = {p["id"]: p for p in finance.ok("GET", "/api/erp/people", params={"limit": 200})["items"]}
        assert by_finance[colleague.user_id]["cost_rate"]["hourly_rate"] == "40.00"
        assert finance.ok("GET", "/api/erp/cost-rates", params={"user_id": colleague.user_id})["total"] == 1
        # Only finance (and admin) change a person.
        assert pm.patch(f"/api/erp/people/{member.user_id}", json={"department": "X"}).status_code == 403
        assert member.patch(f"/api/erp/people/{member.user_id}", json={"department": "X"}).status_code == 403


def test_time_is_refused_for_unknown_inactive_or_another_person_and_nothing_is_written(
        stack: Stack, boss: RoleApi, project: dict[str, Any]) -> None:
    body = {"project_id": project["id"], "work_date": DAY.isoformat(), "hours": "2"}
    gone = f"gone-{uuid.uuid4().hex[:8]}"
    ensure_person(stack, gone, active=False)
    with as_role(stack, "member") as member, as_role(stack, "member") as colleague, \
            as_role(stack, "project_manager") as pm:
        # A member books their own time without naming themselves.
        own = member.ok("POST", "/api/erp/time-entries", 201, json=body)
        assert own["person_id"] == member.user_id
        for api, person_id, status, slug in (
                (member, colleague.user_id, 403, "others-time"),  # a member, for someone else
                (pm, "not-a-user", 422, "unknown-person"),
                (pm, gone, 422, "inactive-person")):
            refused = api.post("/api/erp/time-entries", json={**body, "person_id": person_id})
            assert refused.status_code == status and refused.json()["type"].endswith(f"/{slug}"), refused.text
            assert entries_of(stack, person_id) == 0
        # Nor may a member change or delete someone else's entry; a project manager books and changes anyone's.
        theirs = pm.ok("POST", "/api/erp/time-entries", 201, json={**body, "person_id": colleague.user_id})
        assert member.patch(f"/api/erp/time-entries/{theirs['id']}", json={"hours": "1"}).status_code == 403
        assert member.delete(f"/api/erp/time-entries/{theirs['id']}").status_code == 403
        assert member.ok("PATCH", f"/api/erp/time-entries/{own['id']}", json={"hours": "3"})["hours"] == "3.00"
        # Over 24 h in a day for one person, and time on an archived project.
        over = member.post("/api/erp/time-entries", json={**body, "hours": "21.5"})
        assert over.status_code == 422 and over.json()["type"].endswith("/day-over-24-hours")
        archived = new_project(boss, project["client_id"])
        boss.ok("PATCH", f"/api/erp/projects/{archived['id']}", json={"status": "completed"})
        closed = member.post("/api/erp/time-entries", json={**body, "project_id": archived["id"]})
        assert closed.status_code == 409 and closed.json()["type"].endswith("/project-archived")
        assert entries_of(stack, member.user_id) == 1


def test_an_expense_needs_an_active_person(stack: Stack, project: dict[str, Any]) -> None:
    gone = f"gone-{uuid.uuid4().hex[:8]}"
    ensure_person(stack, gone, active=False)
    with as_role(stack, "member", user_id=gone) as inactive:
        refused = inactive.post("/api/erp/expenses", json={"amount": "12.00", "currency": "EUR", "project_id":
                                                           project["id"], "expense_date": DAY.isoformat(),
                                                           "merchant": "Cafe"})
        assert refused.status_code == 422 and refused.json()["type"].endswith("/inactive-person")
    assert scalar(stack, f"SELECT count(*) FROM expenses WHERE submitted_by = '{gone}'") == "0"


def test_a_member_sees_their_own_work_only(stack: Stack, boss: RoleApi, project: dict[str, Any]) -> None:
    other_project = new_project(boss, project["client_id"])
    with as_role(stack, "member") as member, as_role(stack, "member") as colleague:
        mine = member.ok("POST", "/api/erp/time-entries", 201, json={
            "project_id": project["id"], "work_date": DAY.isoformat(), "hours": "1"})
        theirs = colleague.ok("POST", "/api/erp/time-entries", 201, json={
            "project_id": other_project["id"], "work_date": DAY.isoformat(), "hours": "1"})
        # Time entries: their own, whatever they ask for.
        listed = member.ok("GET", "/api/erp/time-entries", params={"limit": 500})
        assert {e["person_id"] for e in listed["items"]} == {member.user_id}
        assert member.get("/api/erp/time-entries", params={"person_id": colleague.user_id}).status_code == 403
        assert member.get(f"/api/erp/time-entries/{theirs['id']}").status_code == 403
        assert member.ok("GET", f"/api/erp/time-entries/{mine['id']}")["id"] == mine["id"]
        # Projects: those they work on.
        assert [p["id"] for p in member.ok("GET", "/api/erp/projects", params={"limit": 200})["items"]] == [
            project["id"]]
        assert member.ok("GET", f"/api/erp/projects/{project['id']}")["id"] == project["id"]
        assert member.get(f"/api/erp/projects/{other_project['id']}").status_code == 403
        # Expenses: their own.
        expense = member.ok("POST", "/api/erp/expenses", 201, json={
            "amount": "9.90", "currency": "EUR", "expense_date": DAY.isoformat(), "merchant": "Print shop",
            "project_id": project["id"]})
        other_expense = colleague.ok("POST", "/api/erp/expenses", 201, json={
            "amount": "19.90", "currency": "EUR", "expense_date": DAY.isoformat(), "merchant": "Frames",
            "project_id": other_project["id"]})
        assert {e["id"] for e in member.ok("GET", "/api/erp/expenses", params={"limit": 200})["items"]} == {
            expense["id"]}
        assert member.get(f"/api/erp/expenses/{other_expense['id']}").status_code == 403
        # Never invoices, reports (cost, margin), cost rates, clients or the CRM.
        for path in ("/api/erp/invoices", "/api/erp/reports/profitability", "/api/erp/cost-rates",
                     "/api/erp/clients", "/api/erp/capacities", "/api/crm/companies"):
            assert member.get(path).status_code == 403, path
