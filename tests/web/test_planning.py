"""The planning board in a real browser: a project manager books a person on an open deal and on a project from the
board, sees the week over-allocated (the word "Over", not colour alone), staffs the won deal's project from the
deal's booking, and removes a booking from the cell's dialog."""

import re
import uuid

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.erp_planning.test_pipeline import open_deal
from tests.support import Api, wait_for
from tests.web.conftest import open_as, session_for, settled, shot
from tests.web.helpers import api_as, titled_deal
from tests.web.test_screens import UNLABELLED

WEEK = "2027-03-01"  # a Monday


def book(page: Page, name: str, target: str, hours: str, status: str = "tentative") -> None:
    """Add a booking from the board's "Add booking" dialog; `target` is `project:<id>` or `deal:<id>`."""
    page.get_by_role("button", name="Add booking").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Person").select_option(label=name)
    dialog.get_by_label("Project or deal").select_option(value=target)
    dialog.get_by_label("Week").fill(WEEK)
    dialog.get_by_label("Hours").fill(hours)
    dialog.get_by_label("Status").select_option(status)
    assert page.evaluate(UNLABELLED) == []
    dialog.get_by_role("button", name="Book").click()


def test_book_see_over_allocation_and_staff_a_won_project(page: Page, stack: Stack, base_url: str,
                                                           admin: Api) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"Dana Planner {tag}"
    person = admin.ok("POST", "/api/auth/users", 201,
                      json={"email": f"dana-{tag}@example.com", "full_name": name, "role": "viewer"})["id"]
    finance = api_as(stack, base_url, "finance")
    finance.ok("POST", "/api/erp/capacities", 201,
               json={"user_id": person, "hours_per_week": "40", "effective_from": "2026-01-05"})
    sales = api_as(stack, base_url, "sales")
    deal = titled_deal(sales, f"Rebrand {tag}", "18000.00", "Planned Co")
    wait_for(lambda: open_deal(finance, deal["id"]), 15, "the deal in the ERP")
    other = sales.won_deal()
    other_project = sales.project_of(other["id"])

    # A link typed with the API's parameter name (from_week) opens the same weeks.
    open_as(page, session_for(stack, "project_manager"), f"/planning?from_week={WEEK}&weeks=4")
    expect(page.locator(f'#planning-board tr[data-person="{person}"] td[data-week="{WEEK}"]')).to_have_count(1)
    open_as(page, session_for(stack, "project_manager"), f"/planning?from={WEEK}&weeks=4")
    expect(page.get_by_role("heading", name="Planning", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Planning")).to_be_visible()
    row = page.locator(f'#planning-board tr[data-person="{person}"]')
    expect(row.get_by_role("rowheader")).to_have_text(name)
    cell = row.locator(f'td[data-week="{WEEK}"]')
    expect(cell).to_contain_text("0 h / 40 h")

    # A tentative booking on the open deal, from the board.
    book(page, name, f"deal:{deal['id']}", "30")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(cell).to_contain_text("incl. 30 h tentative")
    expect(cell).not_to_contain_text("Over")  # weighted by the first stage's probability: well under 40 h

    # A confirmed booking on a project the same week: beyond capacity, allowed and flagged.
    book(page, name, f"project:{other_project['id']}", "38", status="confirmed")
    expect(page.locator(".toast").last).to_contain_text("beyond capacity")
    expect(cell.locator(".over-flag")).to_have_text("Over")
    # Its name says whose week it is and reads the cell as shown, "Over" included.
    expect(cell.get_by_role("button")).to_have_accessible_name(re.compile(r", week of .*Over"))
    settled(page)
    shot(page, "planning-board")

    # The deal is won: its project is staffed from the deal's booking (confirmed), from the board.
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    project = sales.project_of(deal["id"])
    page.reload()
    page.get_by_role("button", name="Staff a won deal's project").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Project").select_option(value=project["id"])
    dialog.get_by_role("button", name="Staff it").click()
    expect(page.locator(".toast").last).to_contain_text("1 booking moved to the project")
    expect(cell).to_contain_text("68 h / 40 h")
    expect(cell).not_to_contain_text("tentative")
    booked = finance.ok("GET", "/api/erp/bookings", params={"project_id": project["id"]})["items"]
    assert [(b["person_id"], b["status"], b["hours"]) for b in booked] == [(person, "confirmed", "30.00")]

    # Remove the other project's booking from the cell's dialog: back within capacity.
    cell.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("listitem")).to_have_count(2)
    dialog.get_by_role("button", name=f"Remove {other_project['name']}").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(cell).to_contain_text("30 h / 40 h")
    expect(cell.locator(".over-flag")).to_have_count(0)

    # Change the staffed booking's hours from the cell's dialog.
    cell.get_by_role("button").click()
    page.get_by_role("dialog").get_by_role("button", name=f"Edit {project['name']}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Hours")).to_have_value("30.00")
    dialog.get_by_label("Hours").fill("44")
    dialog.get_by_role("button", name="Save").click()
    expect(cell).to_contain_text("44 h / 40 h")
    expect(cell.locator(".over-flag")).to_have_text("Over")
