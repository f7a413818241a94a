"""The timesheet story in the browser (issue 23): a member logs a week on the phone-sized grid and submits it, a
project manager approves it, finance bills it with a billing run and credits the invoice in full, and the member
sees the week's time unbilled again."""

import re
import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import ensure_person
from tests.web.conftest import assert_accessible, open_as, other_page, session_for, settled, shot
from tests.web.helpers import api_as, no_default_tax_rate, titled_deal
from tests.web.test_screens import UNLABELLED


def iso_week(day: datetime) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def test_log_a_week_approve_bill_credit_and_see_it_unbilled(page: Page, stack: Stack, base_url: str) -> None:
    sales, finance = api_as(stack, base_url, "sales"), api_as(stack, base_url, "finance")
    no_default_tax_rate(finance)
    title = f"Atlas retainer {uuid.uuid4().hex[:4]}"
    deal = titled_deal(sales, title, "20000.00", "Atlas Studio",
                       billing={"type": "time_and_materials", "hourly_rate": "90.00"})
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    project = sales.project_of(deal["id"])
    week = iso_week(datetime.now(UTC) - timedelta(days=7))  # last week: a run as of today bills all of it
    member_id = f"member-{uuid.uuid4().hex[:8]}"
    # Staffed first: a member finds the projects they are booked on (or have logged time on) in their timesheet.
    ensure_person(stack, member_id)
    last_week = (datetime.now(UTC) - timedelta(days=7)).date()
    api_as(stack, base_url, "project_manager").ok("POST", "/api/erp/bookings", 201, json={
        "person_id": member_id, "project_id": project["id"], "week": (last_week - timedelta(days=last_week.weekday()))
        .isoformat(), "hours": "8", "status": "confirmed"})

    # The member logs the week on a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    open_as(page, session_for(stack, "member", user_id=member_id), f"/timesheet?week={week}")
    settled(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Timesheet")
    page.get_by_label("Project", exact=True).last.select_option(label=project["name"])
    page.get_by_role("button", name="Add row").click()
    page.get_by_label(re.compile(f"^Hours on Mon .* for {re.escape(project['name'])}$")).fill("6")
    page.get_by_label(re.compile(f"^Hours on Tue .* for {re.escape(project['name'])}$")).fill("2.5")
    page.locator("details.cell-notes summary").click()
    page.get_by_label(re.compile("^Note for Mon")).fill("Kick-off workshop")
    expect(page.locator("#week-total")).to_have_text("8.50")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the week fits a phone's width"
    assert page.evaluate(UNLABELLED) == []
    assert_accessible(page, "the timesheet grid")
    shot(page, "timesheet-phone")
    page.get_by_role("button", name="Save week").click()
    expect(page.locator("#week-status")).to_have_text("Open")
    expect(page.locator("main")).to_contain_text("8.50 h, 8.50 h billable")
    page.get_by_role("button", name="Submit week").click()
    expect(page.locator("#week-status")).to_have_text("Submitted")
    expect(page.get_by_label(re.compile("^Hours on Mon"))).to_be_disabled()

    # The project manager approves it.
    pm = other_page(page)
    open_as(pm, session_for(stack, "project_manager"), "/approvals")
    settled(pm)
    assert_accessible(pm, "the approvals")
    shot(pm, "approvals")
    approve = pm.get_by_role("button", name=re.compile(f"^Approve {week} of .*{member_id[:8]}"))
    approve.click()
    expect(approve).to_have_count(0)

    # Finance bills the project's approved time and credits the invoice in full.
    desk = other_page(page)
    open_as(desk, session_for(stack, "finance"), f"/projects/{project['id']}")
    settled(desk)
    desk.get_by_role("button", name="Invoice due items").click()
    desk.get_by_role("dialog").get_by_role("button", name="Run billing").click()
    expect(desk.get_by_role("dialog")).to_have_count(0)
    [invoice] = finance.ok("GET", "/api/erp/invoices", params={"project_id": project["id"]})["items"]
    assert invoice["total"] == "765.00"  # 8.5 h x 90.00

    page.reload()
    settled(page)
    expect(page.locator("#week-status")).to_have_text("Approved")
    expect(page.locator("#week-billed")).to_have_text(" · 8.50 h billed")

    desk.goto(f"/#/invoices/{invoice['id']}")
    settled(desk)
    desk.get_by_role("button", name="Credit note").click()
    credit = desk.get_by_role("dialog")
    expect(credit.get_by_label(re.compile("^Amount to credit"))).to_have_value("765.00")
    credit.get_by_label("Reason").fill("Billed to the wrong client")
    credit.get_by_role("button", name="Create credit note").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(re.compile("^Credit note"))

    # The member's time is unbilled again (still approved: the next run bills it).
    page.reload()
    settled(page)
    expect(page.locator("#week-billed")).to_have_text(" · 0.00 h billed")
    entries = finance.ok("GET", "/api/erp/time-entries", params={"person_id": member_id})["items"]
    assert {(e["status"], e["invoice_id"]) for e in entries} == {("approved", None)}
