"""The budget panel of a project's page (burn bars, figures, alerts, editing), its margin on both bases, labelled,
and the department efficiency report, in Chromium."""

import re
import uuid
from datetime import date
from typing import Any

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import Api, ensure_person, wait_for
from tests.web.conftest import assert_accessible, open_as, session_for, settled, shot
from tests.web.helpers import api_as


def test_a_project_manager_sees_the_burn_and_its_alerts_and_raises_the_budget(page: Page, stack: Stack,
                                                                              base_url: str) -> None:
    pm_id = str(uuid.uuid4())
    pm, finance, admin = (api_as(stack, base_url, "project_manager", pm_id), api_as(stack, base_url, "finance"),
                          api_as(stack, base_url, "admin"))
    client = _client_of(admin, admin.new_company(f"Burn Co {uuid.uuid4().hex[:4]}")["name"])
    admin.ok("PATCH", f"/api/erp/clients/{client['id']}", json={"currency": "EUR"})
    center = finance.ok("POST", "/api/erp/cost-centers", 201, json={"code": f"ST-{uuid.uuid4().hex[:4]}",
                                                                    "name": "Studio"})
    project = pm.ok("POST", "/api/erp/projects", 201, json={
        "name": f"Burnt site {uuid.uuid4().hex[:4]}", "client_id": client["id"], "budget_amount": "1000.00",
        "budget_hours": "10", "owner_id": pm_id, "cost_center_id": center["id"]})
    person = f"designer-{uuid.uuid4().hex[:6]}"
    ensure_person(stack, person)  # the person the gateway's user.created would have made
    finance.ok("POST", "/api/erp/cost-rates", 201, json={"user_id": person, "hourly_cost": "40.00",
                                                         "currency": "EUR", "effective_from": "2026-01-01"})
    today = date.today().isoformat()
    pm.ok("POST", "/api/erp/time-entries", 201, json={"project_id": project["id"], "person_id": person,
                                                      "work_date": today, "hours": "6"})

    open_as(page, session_for(stack, "project_manager", user_id=pm_id), f"/projects/{project['id']}")
    settled(page)
    panel = page.locator("#budget-panel")
    expect(panel).to_contain_text("6.00 h of 10.00 h · 60.0%")
    expect(panel).to_contain_text("EUR 240.00 of EUR 1,000.00 · 24.0%")  # 6 h at the cost rate of 40
    expect(page.locator("#budget-alerts")).to_contain_text("50 % of the hours budget reached")
    expect(page.locator(".nav a[data-path='/efficiency']")).to_have_count(0)  # finance's report, not a PM's
    margins = page.locator("#margin-panel")
    expect(margins.locator("dt")).to_have_text(["Effort basis", "Invoiced basis"])
    expect(margins.locator("[data-basis=effort]")).to_contain_text("Effort basis: revenue earned")
    expect(margins.locator("[data-basis=invoiced]")).to_contain_text("Invoiced basis: net invoiced")
    assert_accessible(page, "a project's budget panel")
    shot(page, "project-budget")

    panel.get_by_role("button", name="Edit budget").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(re.compile("^Budget hours")).fill("20")
    dialog.get_by_label(re.compile("^Alert thresholds")).fill("25, 50")
    dialog.get_by_role("button", name="Save").click()
    expect(panel).to_contain_text("6.00 h of 20.00 h · 30.0%")
    expect(panel).to_contain_text("Alerts at 25, 50 % of the budget.")
    # 6 h of the new 20 h crossed 25 %: the change of budget alerted at once.
    expect(page.locator("#budget-alerts li")).to_have_count(2)
    expect(page.locator("#budget-alerts li").first).to_contain_text("25 % of the hours budget reached")
    bell = pm.ok("GET", "/api/notifications")["items"]
    assert any(n["kind"] == "budget_threshold" and project["id"] in n["link"] for n in bell)

    # A viewer sees the panel without the edit button.
    open_as(page, session_for(stack, "viewer"), f"/projects/{project['id']}")
    page.reload()  # the same page: the new session is read on load
    settled(page)
    expect(page.locator("#budget-panel")).to_contain_text("6.00 h of 20.00 h")
    expect(page.locator("#budget-panel").get_by_role("button", name="Edit budget")).to_have_count(0)

    # Finance reads the department efficiency report: the studio's 6 hours cost 240, and have no list (bill) rate.
    open_as(page, session_for(stack, "finance"), f"/efficiency?date_from={today[:8]}01&date_to={today}")
    page.reload()
    settled(page)
    expect(page.locator(".nav a[data-path='/efficiency']")).to_have_attribute("aria-current", "page")
    expect(page.locator(".nav a[data-path='/reports']")).not_to_have_attribute("aria-current", "page")
    row = page.locator("tr", has_text=center["code"])
    expect(row.locator("td[data-label='Direct cost']")).to_have_text("EUR 240.00")
    expect(row.locator("td[data-label='List rate']")).to_have_text("—")
    shot(page, "department-efficiency")

    # By the people's department: the designer's department (a name of this test's own) carries the project's
    # revenue and cost, as the only department that logged time on it.
    department = f"Design {uuid.uuid4().hex[:6]}"
    admin.ok("PATCH", f"/api/erp/people/{person}", json={"department": department})
    page.get_by_label("Group by").select_option("department")
    page.get_by_role("button", name="Show").click()
    settled(page)
    expect(page.get_by_role("columnheader", name="Department")).to_be_visible()
    row = page.locator("tr", has_text=department)
    expect(row.locator("td[data-label='Direct cost']")).to_have_text("EUR 240.00")
    expect(page.locator("main")).to_contain_text("shared out by their hours")
    assert "group_by=department" in page.url
    assert_accessible(page, "the department efficiency report by department")
    shot(page, "department-efficiency-by-department")



def _client_of(api: Api, name: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        items = api.ok("GET", "/api/erp/clients", params={"q": name})["items"]
        return items[0] if items else None

    return wait_for(found, 15, f"the client replica of {name}")
