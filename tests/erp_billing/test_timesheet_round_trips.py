"""The timesheet's save answers with the week it wrote without reading it again, and in few statements (issue 23's
speed goal: save and load p95 <= 50 ms through the gateway).

Through the gateway: after every kind of save (new cells, changed hours, a note alone, a cell left out, a cell of
two entries rewritten, nothing changed, a timer running) the PUT's answer is exactly what a GET of the week answers
next. In the process, on the test stack's PostgreSQL: the statements a week's load and save send, counted by an
event listener on the engine, so that a round trip added back shows here before it shows in the bench."""

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.stack import Stack
from erp.timesheets import service
from erp.timesheets.schemas import WeekIn
from tests.erp_billing.helpers import as_role, project_for, today
from tests.statements_sent import statements_sent
from tests.support import Api, ensure_person
from throughline_platform.auth import Principal
from throughline_platform.db import new_engine

T_AND_M = {"type": "time_and_materials", "hourly_rate": "100.00"}


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def row(project: dict[str, Any], monday: date, cells: dict[int, tuple[str, str | None]],
        billable: bool = True) -> dict[str, Any]:
    return {"project_id": project["id"], "billable": billable, "cells": [
        {"work_date": (monday + timedelta(days=day)).isoformat(), "hours": hours, "note": note}
        for day, (hours, note) in cells.items()]}


@pytest.fixture(scope="module")
def projects(admin: Api) -> list[dict[str, Any]]:
    return [project_for(admin, T_AND_M, amount="50000.00") for _ in range(3)]


def test_every_save_answers_what_the_next_read_shows(stack: Stack, projects: list[dict[str, Any]]) -> None:
    a, b, c = projects
    person = f"ada-{uuid.uuid4().hex[:8]}"
    ensure_person(stack, person)
    member = as_role(stack, "member", user_id=person)
    monday = today() - timedelta(days=today().weekday()) - timedelta(days=14)
    path = f"/api/erp/timesheets/{person}/{iso_week(monday)}"

    def save(rows: list[dict[str, Any]]) -> dict[str, Any]:
        answer: dict[str, Any] = member.ok("PUT", path, json={"rows": rows})
        assert answer == member.ok("GET", path), rows
        return answer

    first = save([row(a, monday, {0: ("8", "Wireframes"), 1: ("4", None)}),
                  row(b, monday, {2: ("2", None)}, billable=False)])
    assert (first["total"], first["billable_total"], len(first["rows"])) == ("14.00", "12.00", 2)
    # Hours changed, a note alone changed, a cell left out, a new row on a third project.
    second = save([row(a, monday, {0: ("8", "Wireframes v2"), 1: ("5.5", None)}),
                   row(c, monday, {3: ("1.25", "Review")})])
    assert [r["project_id"] for r in second["rows"]] == sorted(
        [a["id"], c["id"]], key=lambda p: next(x["name"].lower() for x in projects if x["id"] == p))
    assert second["total"] == "14.75"
    # A cell of two entries (the second logged through the API) rewritten: one entry left, with the new hours.
    member.ok("POST", "/api/erp/time-entries", 201, json={
        "project_id": a["id"], "work_date": (monday + timedelta(days=1)).isoformat(), "hours": "1",
        "description": "Call"})
    merged = member.ok("GET", path)
    tuesday = next(r for r in merged["rows"] if r["project_id"] == a["id"])["cells"][1]
    assert (tuesday["hours"], tuesday["note"], len(tuesday["entry_ids"])) == ("6.50", "Call", 2)
    third = save([row(a, monday, {0: ("8", "Wireframes v2"), 1: ("3", "Calls")}),
                  row(c, monday, {3: ("1.25", "Review")})])
    tuesday = next(r for r in third["rows"] if r["project_id"] == a["id"])["cells"][1]
    assert (tuesday["hours"], tuesday["note"], len(tuesday["entry_ids"])) == ("3.00", "Calls", 1)
    # With a timer running; then a save that changes nothing.
    member.ok("POST", f"/api/erp/timesheets/{person}/timer", 201,
              json={"project_id": b["id"], "billable": False, "note": "Support"})
    fourth = save([row(a, monday, {0: ("8", "Wireframes v2"), 1: ("3", "Calls")}),
                   row(c, monday, {3: ("1.25", "Review")})])
    assert fourth["timer"]["project_id"] == b["id"] and fourth["timer"]["note"] == "Support"
    assert fourth == third | {"timer": fourth["timer"]}
    assert member.client.delete(f"/api/erp/timesheets/{person}/timer").status_code == 204
    # Everything left out: an empty week.
    assert save([])["rows"] == []


@pytest.fixture
async def engine(stack: Stack) -> AsyncIterator[AsyncEngine]:
    engine = new_engine(stack.database_urls["erp"], pool_size=2)
    yield engine
    await engine.dispose()


async def test_a_week_is_read_in_two_statements_and_saved_in_few(
        stack: Stack, engine: AsyncEngine, projects: list[dict[str, Any]]) -> None:
    a, b, _ = projects
    person = f"bo-{uuid.uuid4().hex[:8]}"
    ensure_person(stack, person)
    principal = Principal(user_id=person, email=f"{person}@example.com", role="member", token="")
    monday = today() - timedelta(days=today().weekday()) - timedelta(days=7)
    week = WeekIn.model_validate({"rows": [row(a, monday, {d: ("1.50", None) for d in range(5)}),
                                           row(b, monday, {d: ("2", "Support") for d in range(5)}, billable=False)]})
    first, _ = await statements_sent(engine, lambda uow: service.save(uow, person, monday, week, principal))
    assert first.total == Decimal("17.50")

    loaded, load_sent = await statements_sent(engine, lambda uow: service.week(uow, person, monday, principal))
    assert loaded == first
    # The entries, then the week's row, the timer and the project names in one.
    assert len(load_sent) == 2, load_sent

    # One cell changed (its hours rise: the budget's thresholds are checked for its project alone).
    week.rows[0].cells[0].hours = week.rows[0].cells[0].hours + 1
    saved, save_sent = await statements_sent(engine, lambda uow: service.save(uow, person, monday, week, principal))
    assert saved.total == Decimal("18.50")
    assert saved == (await statements_sent(engine, lambda uow: service.week(uow, person, monday, principal)))[0]
    # The week's entries locked; the person, the week's lock and row, the days' locks; the change; the days' totals;
    # the budget's lock and burn; the week's row, timer and names for the answer. Nothing read after the COMMIT.
    assert len(save_sent) == 10, save_sent
    assert not [s for s in save_sent if "FROM time_entries" in s and "FOR UPDATE" not in s
                and "sum(" not in s.lower()], save_sent

    # A note alone changed burns nothing: no threshold check.
    week.rows[1].cells[0].note = "Support, on call"
    _, note_sent = await statements_sent(engine, lambda uow: service.save(uow, person, monday, week, principal))
    assert not [s for s in note_sent if "budget" in s], note_sent
    assert len(note_sent) == len(save_sent) - 2, note_sent

    # Nothing changed: the entries and the answer's statement.
    _, same_sent = await statements_sent(engine, lambda uow: service.save(uow, person, monday, week, principal))
    assert len(same_sent) == 2, same_sent


def test_a_submitted_week_waits_in_the_approvers_bell_until_decided(stack: Stack,
                                                                    projects: list[dict[str, Any]]) -> None:
    person, approver = f"cy-{uuid.uuid4().hex[:8]}", f"pm-{uuid.uuid4().hex[:8]}"
    ensure_person(stack, person, name="Cy Twombly")
    ensure_person(stack, approver)
    member, pm = as_role(stack, "member", user_id=person), as_role(stack, "project_manager", user_id=approver)
    monday = today() - timedelta(days=today().weekday()) - timedelta(days=28)
    path = f"/api/erp/timesheets/{person}/{iso_week(monday)}"
    member.ok("PUT", path, json={"rows": [row(projects[0], monday, {0: ("7.5", None), 1: ("8", None)})]})

    def waiting(api: Api) -> list[dict[str, Any]]:
        return [n for n in api.ok("GET", "/api/erp/notifications")["items"]
                if n["kind"] == "week_to_approve" and "Cy Twombly" in n["title"]]

    assert waiting(pm) == []  # open weeks wait for nobody
    member.ok("POST", f"{path}/submit")
    [item] = waiting(pm)
    assert (item["title"], item["detail"], item["link"]) == (
        f"Week {iso_week(monday)} to approve: Cy Twombly", "15.5 h submitted", "#/approvals")
    # The approver's own submitted week waits in other approvers' bells, not in their own.
    own = f"/api/erp/timesheets/{approver}/{iso_week(monday)}"
    pm.ok("PUT", own, json={"rows": [row(projects[0], monday, {2: ("6", None)})]})
    pm.ok("POST", f"{own}/submit")
    other = as_role(stack, "project_manager", user_id=f"pm-{uuid.uuid4().hex[:8]}")
    assert [n for n in pm.ok("GET", "/api/erp/notifications")["items"] if approver in n["title"]] == []
    assert len([n for n in other.ok("GET", "/api/erp/notifications")["items"] if approver in n["title"]]) == 1
    pm.ok("POST", f"{path}/return", json={"comment": "Tuesday was a holiday"})
    assert waiting(pm) == []
    member.ok("POST", f"{path}/submit")
    [again] = waiting(pm)
    assert again["key"] != item["key"]  # submitted again: news again, even if the first was marked read
    pm.ok("POST", f"{path}/approve")
    assert waiting(pm) == []
