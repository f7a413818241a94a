"""Follow-up tasks: due lists per user (overdue, today, upcoming), complete/reopen; idle deals flagged."""

from datetime import UTC, datetime, timedelta
from typing import Any

from devstack.stack import Stack
from tests.crm.helpers import age_deal, suffix
from tests.support import Api


def _task(api: Api, due: datetime, **extra: Any) -> dict[str, Any]:
    task: dict[str, Any] = api.ok("POST", "/api/crm/tasks", 201,
                                  json={"title": f"Follow up {suffix()}", "due_at": due.isoformat(), **extra})
    return task


def test_due_lists_per_user_and_complete_reopen(sales: Api) -> None:
    user = f"rep-{suffix()}"
    now = datetime.now(UTC)
    tz = "UTC"
    end_of_day = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    overdue = _task(sales, now - timedelta(days=2), assignee_id=user)
    today = _task(sales, now + (end_of_day - now) / 2, assignee_id=user)
    upcoming = _task(sales, end_of_day + timedelta(days=2), assignee_id=user)
    far = _task(sales, end_of_day + timedelta(days=40), assignee_id=user)
    _task(sales, now - timedelta(days=1), assignee_id=f"other-{suffix()}")
    lists = sales.ok("GET", "/api/crm/tasks/due", params={"assignee_id": user, "tz": tz})
    assert [t["id"] for t in lists["overdue"]] == [overdue["id"]]
    assert [t["id"] for t in lists["today"]] == [today["id"]]
    assert [t["id"] for t in lists["upcoming"]] == [upcoming["id"]]
    wide = sales.ok("GET", "/api/crm/tasks/due", params={"assignee_id": user, "days": 60})
    assert [t["id"] for t in wide["upcoming"]] == [upcoming["id"], far["id"]]

    done = sales.ok("POST", f"/api/crm/tasks/{overdue['id']}/complete")
    assert done["status"] == "done" and done["completed_by"] == "sales-1" and done["completed_at"]
    assert sales.post(f"/api/crm/tasks/{overdue['id']}/complete").status_code == 409
    assert sales.ok("GET", "/api/crm/tasks/due", params={"assignee_id": user})["overdue"] == []
    reopened = sales.ok("POST", f"/api/crm/tasks/{overdue['id']}/reopen")
    assert reopened["status"] == "open" and reopened["completed_at"] is None
    assert sales.post(f"/api/crm/tasks/{overdue['id']}/reopen").status_code == 409
    moved = sales.ok("PATCH", f"/api/crm/tasks/{overdue['id']}", json={"due_at": upcoming["due_at"]})
    assert moved["due_at"] == upcoming["due_at"]
    after = sales.ok("GET", "/api/crm/tasks/due", params={"assignee_id": user})
    assert after["overdue"] == [] and len(after["upcoming"]) == 2
    assert sales.ok("GET", "/api/crm/tasks", params={"assignee_id": user, "status": "open"})["total"] == 4


def test_my_due_list_defaults_to_the_caller_and_timezones_define_today(sales: Api) -> None:
    mine = _task(sales, datetime.now(UTC) - timedelta(minutes=5))  # assignee defaults to the caller
    assert mine["assignee_id"] == "sales-1"
    assert mine["id"] in [t["id"] for t in sales.ok("GET", "/api/crm/tasks/due")["overdue"]]
    assert sales.get("/api/crm/tasks/due", params={"tz": "Mars/Olympus"}).status_code == 422
    tokyo = sales.ok("GET", "/api/crm/tasks/due", params={"tz": "Asia/Tokyo"})
    assert tokyo["timezone"] == "Asia/Tokyo"


def test_task_validation_and_links(sales: Api, viewer: Api) -> None:
    company = sales.new_company()
    deal = sales.new_deal(company["id"])
    linked = _task(sales, datetime.now(UTC) + timedelta(days=1), deal_id=deal["id"], company_id=company["id"])
    assert sales.ok("GET", "/api/crm/tasks", params={"deal_id": deal["id"]})["items"][0]["id"] == linked["id"]
    for body in ({"title": "x", "due_at": "2027-01-01T10:00:00"},  # no offset
                 {"title": "", "due_at": "2027-01-01T10:00:00Z"},
                 {"title": "x"},
                 {"title": "x", "due_at": "2027-01-01T10:00:00Z", "deal_id": "00000000-0000-4000-8000-00000000dead"}):
        response = sales.post("/api/crm/tasks", json=body)
        assert response.status_code == 422, body
    assert viewer.post("/api/crm/tasks", json={"title": "x", "due_at": "2027-01-01T10:00:00Z"}).status_code == 403
    assert viewer.post(f"/api/crm/tasks/{linked['id']}/complete").status_code == 403
    assert sales.post("/api/crm/tasks/00000000-0000-4000-8000-00000000dead/complete").status_code == 404


def test_deals_without_activity_for_n_days_are_flagged(sales: Api, stack: Stack) -> None:
    company = sales.new_company()
    quiet = sales.new_deal(company["id"], owner_id=f"idle-{suffix()}")
    busy = sales.new_deal(company["id"], owner_id=quiet["owner_id"])
    for deal in (quiet, busy):
        age_deal(stack, deal["id"], 20)
    sales.ok("POST", "/api/crm/activities", 201, json={"kind": "call", "subject": "Check-in", "deal_id": busy["id"]})
    quiet_now = sales.ok("GET", f"/api/crm/deals/{quiet['id']}")
    assert quiet_now["is_idle"] is True and quiet_now["idle_days"] == 20
    busy_now = sales.ok("GET", f"/api/crm/deals/{busy['id']}")
    assert busy_now["is_idle"] is False and busy_now["idle_days"] == 0
    idle = sales.ok("GET", "/api/crm/deals", params={"owner_id": quiet["owner_id"], "idle": "true"})
    assert [d["id"] for d in idle["items"]] == [quiet["id"]]
    assert sales.ok("GET", "/api/crm/deals", params={"owner_id": quiet["owner_id"], "idle_days": 30})["total"] == 0
