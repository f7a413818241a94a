"""Automation rules: triggers (stage entered, deal idle, lead created, deal won), actions (task from a
template, assign owner, set field, log note); the scheduler catches up and never fires twice a day."""

from typing import Any

from devstack.stack import Stack
from tests.crm.helpers import age_deal, new_lead, suffix
from tests.support import Api, fixed_terms, wait_for

PROPOSAL = "00000000-0000-4000-8000-000000000103"
QUALIFIED = "00000000-0000-4000-8000-000000000102"


def _rule(api: Api, **body: Any) -> dict[str, Any]:
    rule: dict[str, Any] = api.ok("POST", "/api/crm/automation-rules", 201, json={"name": f"Rule {suffix()}", **body})
    return rule


def test_stage_entered_creates_task_logs_note_and_sets_fields_once_a_day(sales: Api) -> None:
    rule = _rule(sales, trigger="stage_entered", stage_id=PROPOSAL, actions=[
        {"type": "create_task", "title": "Send proposal for {title}", "due_in_hours": 48},
        {"type": "log_note", "subject": "Entered Proposal: {title}"},
        {"type": "set_field", "field": "expected_close_date", "value": "2027-06-30"},
    ])
    try:
        company = sales.new_company()
        deal = sales.new_deal(company["id"], owner_id=f"owner-{suffix()}")
        sales.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": PROPOSAL})
        tasks = sales.ok("GET", "/api/crm/tasks", params={"deal_id": deal["id"]})["items"]
        assert [t["title"] for t in tasks] == [f"Send proposal for {deal['title']}"]
        assert tasks[0]["assignee_id"] == deal["owner_id"] and tasks[0]["automation_rule_id"] == rule["id"]
        notes = sales.ok("GET", "/api/crm/activities", params={"deal_id": deal["id"], "kind": "note"})["items"]
        assert [n["subject"] for n in notes] == [f"Entered Proposal: {deal['title']}"]
        moved = sales.ok("GET", f"/api/crm/deals/{deal['id']}")
        assert moved["expected_close_date"] == "2027-06-30"
        assert moved["last_activity_at"] is None  # an automated note is not customer activity

        # Back and forth on the same day: the rule does not fire again for this deal.
        sales.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": QUALIFIED})
        sales.ok("POST", f"/api/crm/deals/{deal['id']}/stage", json={"stage_id": PROPOSAL})
        assert sales.ok("GET", "/api/crm/tasks", params={"deal_id": deal["id"]})["total"] == 1
        firings = sales.ok("GET", f"/api/crm/automation-rules/{rule['id']}/firings", params={"record_id": deal["id"]})
        assert len(firings) == 1
    finally:
        assert sales.client.delete(f"/api/crm/automation-rules/{rule['id']}").status_code == 204


def test_lead_created_and_deal_won_triggers(sales: Api) -> None:
    s = suffix()
    on_lead = _rule(sales, trigger="lead_created", actions=[
        {"type": "assign_owner", "owner_id": f"sdr-{s}"},
        {"type": "set_field", "field": "status", "value": "contacted"},
        {"type": "create_task", "title": "Call {title}", "due_in_hours": 2}])
    on_won = _rule(sales, trigger="deal_won", actions=[
        {"type": "create_task", "title": "Hand over {title} to delivery", "assignee": f"pm-{s}"}])
    try:
        lead = new_lead(sales, first_name="Lee", last_name=f"Won {s}")
        assert lead["owner_id"] == f"sdr-{s}" and lead["status"] == "contacted"
        lead_tasks = sales.ok("GET", "/api/crm/tasks", params={"lead_id": lead["id"]})["items"]
        assert [(t["title"], t["assignee_id"]) for t in lead_tasks] == [(f"Call Lee Won {s}", f"sdr-{s}")]

        won = sales.won_deal(billing=fixed_terms(1))
        handover = sales.ok("GET", "/api/crm/tasks", params={"deal_id": won["id"]})["items"]
        assert [(t["title"], t["assignee_id"]) for t in handover] == [
            (f"Hand over {won['title']} to delivery", f"pm-{s}")]
    finally:
        for rule in (on_lead, on_won):
            sales.client.delete(f"/api/crm/automation-rules/{rule['id']}")


def test_idle_rule_fires_from_the_scheduler_catches_up_and_never_twice(sales: Api, stack: Stack) -> None:
    s = suffix()
    owner = f"idle-owner-{s}"
    company = sales.new_company()
    quiet = sales.new_deal(company["id"], owner_id=owner)
    fresh = sales.new_deal(company["id"], owner_id=owner)
    # The deal went quiet 10 days ago, while nothing was evaluating rules (as after downtime).
    age_deal(stack, quiet["id"], 10)
    rule = _rule(sales, trigger="deal_idle", idle_days=7, actions=[
        {"type": "create_task", "title": "Revive {title}", "due_in_hours": 0}])
    try:
        # The scheduler (crm-worker, every second in tests) finds it on its own.
        def revived() -> list[dict[str, Any]] | None:
            items: list[dict[str, Any]] = sales.ok("GET", "/api/crm/tasks", params={"deal_id": quiet["id"]})["items"]
            return items or None

        tasks = wait_for(revived, 20, "the scheduler's task for the idle deal")
        assert [t["title"] for t in tasks] == [f"Revive {quiet['title']}"]
        # More runs, by hand and by the scheduler: still one firing, one task.
        assert sales.ok("POST", "/api/crm/automation-runs")["fired"] == 0
        assert sales.ok("POST", "/api/crm/automation-runs", json={})["fired"] == 0
        assert sales.ok("GET", "/api/crm/tasks", params={"deal_id": quiet["id"]})["total"] == 1
        assert len(sales.ok("GET", f"/api/crm/automation-rules/{rule['id']}/firings",
                            params={"record_id": quiet["id"]})) == 1
        assert sales.ok("GET", "/api/crm/tasks", params={"deal_id": fresh["id"]})["total"] == 0  # not idle
        assert sales.post("/api/crm/automation-runs", json={"as_of": "2999-01-01T00:00:00Z"}).status_code == 422
    finally:
        sales.client.delete(f"/api/crm/automation-rules/{rule['id']}")


def test_rule_validation(sales: Api, viewer: Api) -> None:
    bad: list[dict[str, Any]] = [
        {"trigger": "stage_entered", "actions": [{"type": "log_note", "subject": "x"}]},  # no stage
        {"trigger": "deal_idle", "actions": [{"type": "log_note", "subject": "x"}]},  # no idle_days
        {"trigger": "deal_won", "actions": []},
        {"trigger": "deal_won", "actions": [{"type": "launch_rocket"}]},
        {"trigger": "deal_won", "actions": [{"type": "set_field", "field": "status", "value": "new"}]},
        {"trigger": "lead_created", "actions": [{"type": "set_field", "field": "status", "value": "converted"}]},
        {"trigger": "deal_won", "actions": [{"type": "set_field", "field": "expected_close_date", "value": "soon"}]},
        {"trigger": "stage_entered", "stage_id": "00000000-0000-4000-8000-00000000dead",
         "actions": [{"type": "log_note", "subject": "x"}]},
    ]
    for body in bad:
        response = sales.post("/api/crm/automation-rules", json={"name": "bad", **body})
        assert response.status_code == 422, body
    assert viewer.post("/api/crm/automation-rules", json={
        "name": "v", "trigger": "deal_won", "actions": [{"type": "log_note", "subject": "x"}]}).status_code == 403
    paused = _rule(sales, trigger="deal_won", actions=[{"type": "log_note", "subject": "x"}])
    assert sales.ok("PATCH", f"/api/crm/automation-rules/{paused['id']}", json={"active": False})["active"] is False
    sales.client.delete(f"/api/crm/automation-rules/{paused['id']}")
