"""The weekly timesheet: the grid saved whole, copy last week, the timer, submit / return / approve, the locked
week (through every endpoint), corrections, and billed time given back by a full credit note or a void."""

import json
from datetime import date, timedelta
from typing import Any

import pytest

from devstack.stack import Stack
from tests.erp_billing.helpers import as_role, project_for, today
from tests.erp_costs.helpers import scalar, sql
from tests.support import Api, ensure_person

T_AND_M = {"type": "time_and_materials", "hourly_rate": "100.00"}


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@pytest.fixture(scope="module")
def project(admin: Api) -> dict[str, Any]:
    return project_for(admin, T_AND_M, amount="50000.00")


@pytest.fixture(scope="module")
def other_project(admin: Api) -> dict[str, Any]:
    return project_for(admin, T_AND_M, amount="50000.00")


def grid(project: dict[str, Any], monday: date, hours: dict[int, str], billable: bool = True,
         notes: dict[int, str] | None = None) -> dict[str, Any]:
    return {"project_id": project["id"], "billable": billable, "cells": [
        {"work_date": (monday + timedelta(days=day)).isoformat(), "hours": h, "note": (notes or {}).get(day)}
        for day, h in hours.items()]}


def cells(week: dict[str, Any]) -> dict[tuple[str, bool, str], tuple[str, str | None]]:
    return {(r["project_id"], r["billable"], c["work_date"]): (c["hours"], c["note"])
            for r in week["rows"] for c in r["cells"] if c["entry_ids"]}


def test_week_saved_whole_submitted_returned_approved_and_locked(
        stack: Stack, project: dict[str, Any], other_project: dict[str, Any]) -> None:
    monday = monday_of(today()) - timedelta(days=21)
    week, path = iso_week(monday), f"/api/erp/timesheets/mia-{monday}/{iso_week(monday)}"
    member = as_role(stack, "member", user_id=f"mia-{monday}")
    pm = as_role(stack, "project_manager", user_id="pm-paul")
    first = member.ok("PUT", path, json={"rows": [
        grid(project, monday, {0: "8", 1: "4"}, notes={0: "Wireframes"}),
        grid(other_project, monday, {2: "2"}, billable=False)]})
    assert (first["week"], first["week_start"], first["status"], first["locked"]) == (
        week, monday.isoformat(), "open", False)
    assert (first["total"], first["billable_total"]) == ("14.00", "12.00")
    assert first["day_totals"][:3] == ["8.00", "4.00", "2.00"] and len(first["days"]) == 7
    monday_entry = next(c for r in first["rows"] for c in r["cells"] if c["hours"] == "8.00")["entry_ids"]

    second = member.ok("PUT", path, json={"rows": [
        grid(project, monday, {0: "6"}, notes={0: "Wireframes"}),
        grid(other_project, monday, {2: "2"}, billable=False)]})
    assert cells(second) == {
        (project["id"], True, monday.isoformat()): ("6.00", "Wireframes"),
        (other_project["id"], False, (monday + timedelta(days=2)).isoformat()): ("2.00", None)}
    # The changed cell keeps its entry; Tuesday's entry is gone.
    assert next(c for r in second["rows"] for c in r["cells"] if c["hours"] == "6.00")["entry_ids"] == monday_entry
    assert member.ok("GET", "/api/erp/time-entries", params={"person_id": f"mia-{monday}"})["total"] == 2

    # Bad input: a precise 4xx, nothing written.
    for bad_week in ("2026-W60", "2026-49", "W49"):
        assert member.client.put(f"/api/erp/timesheets/mia-{monday}/{bad_week}", json={"rows": []}).status_code == 422
    outside = member.client.put(path, json={"rows": [grid(project, monday, {7: "1"})]})
    assert outside.status_code == 422 and "not in the week" in outside.json()["detail"], outside.text
    over = member.client.put(path, json={"rows": [grid(project, monday, {0: "20"}),
                                                  grid(other_project, monday, {0: "5"})]})
    assert over.status_code == 422 and over.json()["type"].endswith("/day-over-24-hours"), over.text
    assert cells(member.ok("GET", path)) == cells(second)
    # Only one's own week: another's is for project managers.
    assert member.client.put(f"/api/erp/timesheets/someone-else/{week}", json={"rows": []}).status_code == 403
    assert member.get(f"/api/erp/timesheets/someone-else/{week}").status_code == 403
    assert as_role(stack, "viewer").client.put(path, json={"rows": []}).status_code == 403

    submitted = member.ok("POST", f"{path}/submit")
    assert (submitted["status"], submitted["locked"]) == ("submitted", True)
    locked = member.client.put(path, json={"rows": []})
    assert locked.status_code == 409 and locked.json()["type"].endswith("/week-locked"), locked.text
    assert member.post("/api/erp/time-entries", json={"project_id": project["id"], "work_date": monday.isoformat(),
                                                      "hours": "1"}).status_code == 409
    assert member.post(f"{path}/approve").status_code == 403  # a member approves nothing
    assert member.get("/api/erp/timesheets").status_code == 403  # nor lists what waits for approval
    assert [w["week"] for w in pm.ok("GET", "/api/erp/timesheets")["items"]
            if w["person_id"] == f"mia-{monday}"] == [week]

    returned = pm.ok("POST", f"{path}/return", json={"comment": "Wednesday is billable"})
    assert (returned["status"], returned["comment"], returned["locked"]) == ("returned", "Wednesday is billable",
                                                                            False)
    member.ok("PUT", path, json={"rows": [grid(project, monday, {0: "6", 2: "2"}, notes={0: "Wireframes"})]})
    member.ok("POST", f"{path}/submit")
    approved = pm.ok("POST", f"{path}/approve")
    assert (approved["status"], approved["decided_by"], approved["locked"]) == ("approved", "pm-paul", True)
    entries = member.ok("GET", "/api/erp/time-entries", params={"person_id": f"mia-{monday}"})["items"]
    assert {e["status"] for e in entries} == {"approved"} and {e["approved_by"] for e in entries} == {"pm-paul"}
    assert pm.post(f"{path}/approve").status_code == 409  # approved once

    # Locked for good, through every endpoint.
    entry = entries[0]
    assert member.client.patch(f"/api/erp/time-entries/{entry['id']}", json={"hours": "1"}).status_code == 409
    assert pm.client.patch(f"/api/erp/time-entries/{entry['id']}", json={"hours": "1"}).status_code == 409
    assert member.client.delete(f"/api/erp/time-entries/{entry['id']}").status_code == 409
    assert pm.post("/api/erp/time-entries", json={"project_id": project["id"], "person_id": f"mia-{monday}",
                                                  "work_date": monday.isoformat(), "hours": "1"}).status_code == 409
    assert member.post(f"{path}/copy-last-week").status_code == 409
    # A correction goes into an open week, linked to its original.
    in_locked_week = member.post(f"/api/erp/time-entries/{entry['id']}/corrections",
                                 json={"hours": "-1", "work_date": monday.isoformat()})
    assert in_locked_week.status_code == 409, in_locked_week.text
    correction = member.ok("POST", f"/api/erp/time-entries/{entry['id']}/corrections", 201,
                           json={"hours": "-1", "work_date": (monday + timedelta(days=7)).isoformat()})
    assert (correction["hours"], correction["corrects_id"], correction["status"]) == ("-1.00", entry["id"], "open")
    too_much = member.post(f"/api/erp/time-entries/{entry['id']}/corrections",
                           json={"hours": "-24", "work_date": (monday + timedelta(days=7)).isoformat()})
    assert too_much.status_code == 422 and too_much.json()["type"].endswith("/correction-below-zero")
    # The correction's week saves back as it is, its cell below zero; a new cell below zero is refused.
    next_week = f"/api/erp/timesheets/mia-{monday}/{iso_week(monday + timedelta(days=7))}"
    shown = member.ok("GET", next_week)
    assert [hours for hours, _ in cells(shown).values()] == ["-1.00"]
    as_shown = {"rows": [{"project_id": r["project_id"], "billable": r["billable"], "cells": [
        {"work_date": c["work_date"], "hours": c["hours"], "note": c["note"]} for c in r["cells"] if c["entry_ids"]]}
        for r in shown["rows"]]}
    assert cells(member.ok("PUT", next_week, json=as_shown)) == cells(shown)
    negative = member.client.put(next_week, json={"rows": [grid(project, monday + timedelta(days=7), {1: "-2"})]})
    assert negative.status_code == 422 and negative.json()["type"].endswith("/hours-not-positive"), negative.text

    week_id = scalar(stack, f"SELECT id FROM timesheet_weeks WHERE person_id = 'mia-{monday}'")
    types = [row[0] for row in sql(stack, f"SELECT event_type FROM outbox WHERE message_key = '{week_id}' "
                                          "ORDER BY id")]
    assert types == ["time.week_submitted", "time.week_submitted", "time.week_approved"]
    envelope = json.loads(scalar(stack, "SELECT convert_from(value, 'UTF8') FROM outbox WHERE message_key = "
                                        f"'{week_id}' AND event_type = 'time.week_approved'"))
    assert envelope["data"]["hours"] == "8.00" and envelope["data"]["billable_hours"] == "8.00"
    assert envelope["data"]["week"] == week and envelope["data"]["approved_by"] == "pm-paul"


def test_nobody_approves_their_own_week(stack: Stack, project: dict[str, Any]) -> None:
    monday = monday_of(today()) - timedelta(days=35)
    pm = as_role(stack, "project_manager", user_id=f"pm-own-{monday}")
    path = f"/api/erp/timesheets/pm-own-{monday}/{iso_week(monday)}"
    pm.ok("PUT", path, json={"rows": [grid(project, monday, {0: "3"})]})
    pm.ok("POST", f"{path}/submit")
    own = pm.post(f"{path}/approve")
    assert own.status_code == 403 and own.json()["type"].endswith("/own-week"), own.text
    with as_role(stack, "admin", user_id=f"pm-own-{monday}") as same_person_as_admin:
        assert same_person_as_admin.post(f"{path}/approve").status_code == 403
    assert pm.post(f"{path}/return", json={"comment": ""}).status_code in (403, 422)
    assert as_role(stack, "admin").ok("POST", f"{path}/approve")["status"] == "approved"


def test_copy_last_week_and_the_timer(stack: Stack, project: dict[str, Any], admin: Api) -> None:
    monday = monday_of(today()) - timedelta(days=49)
    person = f"tim-{monday}"
    member = as_role(stack, "member", user_id=person)
    last, this = f"/api/erp/timesheets/{person}/{iso_week(monday)}", \
        f"/api/erp/timesheets/{person}/{iso_week(monday + timedelta(days=7))}"
    assert member.post(f"{this}/copy-last-week").json()["type"].endswith("/nothing-to-copy")
    member.ok("PUT", last, json={"rows": [grid(project, monday, {0: "7.5", 4: "3"}, notes={4: "Review"})]})
    copied = member.ok("POST", f"{this}/copy-last-week")
    assert cells(copied) == {(project["id"], True, (monday + timedelta(days=7)).isoformat()): ("7.50", None),
                             (project["id"], True, (monday + timedelta(days=11)).isoformat()): ("3.00", "Review")}
    again = member.post(f"{this}/copy-last-week")
    assert again.status_code == 409 and again.json()["type"].endswith("/week-not-empty")

    timer_path = f"/api/erp/timesheets/{person}/timer"
    assert member.ok("GET", timer_path) is None
    started = member.ok("POST", timer_path, 201, json={"project_id": project["id"], "note": "Call"})
    assert started["project_id"] == project["id"]
    assert member.post(timer_path, json={"project_id": project["id"]}).json()["type"].endswith("/timer-running")
    assert member.ok("GET", f"/api/erp/timesheets/{person}/{iso_week(today())}")["timer"]["note"] == "Call"
    booked = member.ok("POST", f"{timer_path}/stop", 201)
    assert (booked["hours"], booked["work_date"], booked["description"], booked["person_id"]) == (
        "0.01", today().isoformat(), "Call", person)
    assert member.post(f"{timer_path}/stop").status_code == 404
    member.ok("POST", timer_path, 201, json={"project_id": project["id"]})
    assert member.client.delete(timer_path).status_code == 204
    assert member.ok("GET", timer_path) is None
    assert member.post("/api/erp/timesheets/someone-else/timer", json={"project_id": project["id"]}
                       ).status_code == 403


def test_billed_time_is_frozen_and_comes_back_on_a_full_credit_or_a_void(
        stack: Stack, admin: Api, finance: Api) -> None:
    project = project_for(admin, T_AND_M, amount="50000.00")
    monday = monday_of(today()) - timedelta(days=14)
    person = f"bill-{monday}"
    member = as_role(stack, "member", user_id=person)
    path = f"/api/erp/timesheets/{person}/{iso_week(monday)}"
    member.ok("PUT", path, json={"rows": [grid(project, monday, {0: "2", 1: "3"}),
                                          grid(project, monday, {2: "1"}, billable=False)]})
    member.ok("POST", f"{path}/submit")
    as_role(stack, "project_manager").ok("POST", f"{path}/approve")

    def billing_run() -> dict[str, Any]:
        [invoice] = finance.ok("POST", "/api/erp/billing-runs", 201, json={
            "as_of": today().isoformat(), "issue": True, "project_id": project["id"]})["invoices"]
        return finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")  # type: ignore[no-any-return]

    def billed() -> dict[str, str | None]:
        items = finance.ok("GET", "/api/erp/time-entries", params={"project_id": project["id"]})["items"]
        return {e["hours"]: e["invoice_line_id"] for e in items if e["billable"]}

    invoice = billing_run()
    lines = {line["id"]: line for line in invoice["lines"]}
    assert sorted(lines[line_id]["quantity"] for line_id in billed().values()) == ["2", "3"]
    assert invoice["subtotal"] == "500.00"
    entry = finance.ok("GET", "/api/erp/time-entries", params={"project_id": project["id"], "invoiced": "true"}
                       )["items"][0]
    frozen = finance.client.patch(f"/api/erp/time-entries/{entry['id']}", json={"description": "x"})
    assert frozen.status_code == 409 and frozen.json()["type"].endswith("/entry-billed"), frozen.text
    assert finance.client.delete(f"/api/erp/time-entries/{entry['id']}").status_code == 409

    # A partial credit is a concession: the time stays billed.
    finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/credit-note", 201, json={"reason": "Goodwill",
                                                                                  "amount": "100.00"})
    assert None not in billed().values()
    # Credited in full: exactly those entries are unbilled again, and the next run bills them once more.
    finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/credit-note", 201, json={"reason": "Wrong client",
                                                                                  "amount": "400.00"})
    assert set(billed().values()) == {None}
    again = billing_run()
    assert again["subtotal"] == "500.00" and None not in billed().values()
    finance.ok("POST", f"/api/erp/invoices/{again['id']}/void", json={"reason": "Duplicate"})
    assert set(billed().values()) == {None}


def test_a_member_logs_and_changes_only_their_own_time(stack: Stack, project: dict[str, Any]) -> None:
    day = (monday_of(today()) - timedelta(days=63)).isoformat()
    member = as_role(stack, "member", user_id=f"own-{day}")
    mine = member.ok("POST", "/api/erp/time-entries", 201, json={"project_id": project["id"], "work_date": day,
                                                                 "hours": "2"})
    assert mine["person_id"] == f"own-{day}"  # without person_id: the caller's own time
    assert member.ok("PATCH", f"/api/erp/time-entries/{mine['id']}", json={"hours": "3"})["hours"] == "3.00"
    others = member.post("/api/erp/time-entries", json={"project_id": project["id"], "person_id": "someone-else",
                                                        "work_date": day, "hours": "1"})
    assert others.status_code == 403 and others.json()["type"].endswith("/others-time"), others.text
    ensure_person(stack, "someone-else")  # a person the project manager may book for
    theirs = as_role(stack, "project_manager").ok("POST", "/api/erp/time-entries", 201, json={
        "project_id": project["id"], "person_id": "someone-else", "work_date": day, "hours": "1"})
    assert member.client.patch(f"/api/erp/time-entries/{theirs['id']}", json={"hours": "2"}).status_code == 403
    assert member.client.delete(f"/api/erp/time-entries/{theirs['id']}").status_code == 403
    assert member.post(f"/api/erp/time-entries/{theirs['id']}/corrections", json={"hours": "1"}).status_code == 403
    assert member.post(f"/api/erp/time-entries/{mine['id']}/approve").status_code == 403
    assert member.client.delete(f"/api/erp/time-entries/{mine['id']}").status_code == 204
