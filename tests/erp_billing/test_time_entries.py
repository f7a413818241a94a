"""Time entries: booking, the 24-hour day, approval, filters and roles."""

from datetime import timedelta
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, fixed, project_for, today
from tests.support import Api, ensure_person


@pytest.fixture(scope="module")
def project(admin: Api) -> dict[str, Any]:
    return project_for(admin, fixed(1, today() + timedelta(days=400)), amount="1000.00")


def test_book_change_approve_delete(stack: Stack, project: dict[str, Any]) -> None:
    day = today() - timedelta(days=1)
    ensure_person(stack, "bob")
    with as_role(stack, "project_manager", user_id="pm-ann") as pm:
        entry = pm.ok("POST", "/api/erp/time-entries", 201, json={
            "project_id": project["id"], "work_date": day.isoformat(), "hours": "7.5", "description": "Wireframes"})
        assert (entry["person_id"], entry["hours"], entry["billable"], entry["status"]) == (
            "pm-ann", "7.50", True, "open")  # the caller's own time by default
        own = pm.post(f"/api/erp/time-entries/{entry['id']}/approve")  # nobody approves their own time
        assert own.status_code == 403 and own.json()["type"].endswith("/own-time"), own.text
        with as_role(stack, "project_manager", user_id="pm-bea") as other_pm:
            approved = other_pm.ok("POST", f"/api/erp/time-entries/{entry['id']}/approve")
        assert approved["status"] == "approved" and approved["approved_by"] == "pm-bea"
        changed = pm.ok("PATCH", f"/api/erp/time-entries/{entry['id']}", json={"hours": "6", "billable": False})
        assert (changed["hours"], changed["billable"], changed["status"]) == ("6.00", False, "open")
        other = pm.ok("POST", "/api/erp/time-entries", 201, json={
            "project_id": project["id"], "person_id": "bob", "work_date": day.isoformat(), "hours": "2"})
        page = pm.ok("GET", "/api/erp/time-entries", params={"project_id": project["id"]})
        assert page["total"] == 2 and page["total_hours"] == "8.00"
        mine = pm.ok("GET", "/api/erp/time-entries", params={"project_id": project["id"], "person_id": "bob"})
        assert [e["id"] for e in mine["items"]] == [other["id"]]
        assert pm.ok("GET", "/api/erp/time-entries", params={"project_id": project["id"], "billable": "false"}
                     )["total"] == 1
        assert pm.client.delete(f"/api/erp/time-entries/{other['id']}").status_code == 204
        assert pm.get(f"/api/erp/time-entries/{other['id']}").status_code == 404


def test_bad_hours_and_days_over_24_hours(stack: Stack, project: dict[str, Any]) -> None:
    day = (today() - timedelta(days=2)).isoformat()
    ensure_person(stack, "carol")
    with as_role(stack, "finance") as finance:
        for hours in ("0", "-1", "24.5", "25", "1.234", "abc"):
            response = finance.post("/api/erp/time-entries", json={
                "project_id": project["id"], "person_id": "carol", "work_date": day, "hours": hours})
            assert response.status_code == 422, (hours, response.text)
            assert response.json()["detail"]
        finance.ok("POST", "/api/erp/time-entries", 201, json={
            "project_id": project["id"], "person_id": "carol", "work_date": day, "hours": "20"})
        over = finance.post("/api/erp/time-entries", json={
            "project_id": project["id"], "person_id": "carol", "work_date": day, "hours": "4.25"})
        assert over.status_code == 422 and "24" in over.json()["detail"]
        finance.ok("POST", "/api/erp/time-entries", 201, json={
            "project_id": project["id"], "person_id": "carol", "work_date": day, "hours": "4"})
        unknown = finance.post("/api/erp/time-entries", json={
            "project_id": "00000000-0000-4000-8000-000000000002", "work_date": day, "hours": "1"})
        assert unknown.status_code == 422
        assert finance.ok("GET", "/api/erp/time-entries", params={"person_id": "carol", "date_from": day,
                                                                 "date_to": day})["total_hours"] == "24.00"


def test_roles(stack: Stack, project: dict[str, Any]) -> None:
    body = {"project_id": project["id"], "work_date": today().isoformat(), "hours": "1"}
    for role in ("sales", "viewer"):
        with as_role(stack, role) as api:
            assert api.post("/api/erp/time-entries", json=body).status_code == 403, role
            assert api.ok("GET", "/api/erp/time-entries", params={"project_id": project["id"]})["total"] >= 0
    with as_role(stack, "admin") as admin_api:
        assert admin_api.post("/api/erp/time-entries", json=body).status_code == 201
