"""Every record is editable where it is shown: company (with the billing details finance keeps), contacts (list and
page), deal (amount, close date, owner, billing terms), lead (its message, qualify, disqualify with a reason, convert
keeping the message on the timeline)."""

import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import Api, wait_for
from tests.web.conftest import ADMIN, assert_accessible, login, open_as, session_for, shot
from tests.web.helpers import api_as, titled_deal


def test_edit_a_company_and_its_billing_details(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    company = sales.new_company(f"Beacon Labs {uuid.uuid4().hex[:4]}")
    login(page)
    page.goto(f"/#/companies/{company['id']}")
    page.get_by_role("button", name="Edit", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(re.compile("^Email")).fill("accounts@beacon.example")
    dialog.get_by_label("Address").fill("1 Harbour Street\nBristol")
    dialog.get_by_label("Industry").fill("Robotics")
    with Api.login(stack, *ADMIN) as admin:
        me = admin.ok("GET", "/api/auth/me")
    dialog.get_by_label("Owner").select_option(me["id"])
    assert_accessible(page, "the company dialog")
    dialog.get_by_role("button", name="Save company").click()
    expect(page.get_by_role("main")).to_contain_text("Robotics")
    saved = sales.ok("GET", f"/api/crm/companies/{company['id']}")
    assert saved["email"] == "accounts@beacon.example" and saved["address"] == "1 Harbour Street\nBristol"
    assert saved["industry"] == "Robotics" and saved["owner_id"] == me["id"]
    assert saved["version"] == company["version"] + 1

    # The ERP's client arrives through company.created; finance (here the admin) sets its billing details.
    finance = api_as(stack, base_url, "finance")
    wait_for(lambda: finance.ok("GET", "/api/erp/clients", params={"crm_company_id": company["id"]})["items"] or None,
             15, "the ERP client of the company")
    page.reload()
    page.get_by_role("button", name="Edit billing details").click()
    billing = page.get_by_role("dialog")
    billing.get_by_label("Billing address").fill("Beacon Labs Ltd\nPO Box 7\nBristol")
    billing.get_by_label("VAT ID").fill("GB123456789")
    billing.get_by_label("Payment terms (days)").fill("14")
    assert_accessible(page, "the billing dialog")
    billing.get_by_role("button", name="Save billing details").click()
    expect(page.locator("#client-tax-id")).to_have_text("GB123456789")
    client = finance.ok("GET", "/api/erp/clients", params={"crm_company_id": company["id"]})["items"][0]
    assert client["billing_address"] == "Beacon Labs Ltd\nPO Box 7\nBristol" and client["payment_terms_days"] == 14
    # The billing email is the company's, replicated to the ERP.
    wait_for(lambda: finance.ok("GET", f"/api/erp/clients/{client['id']}")["email"] == "accounts@beacon.example"
             or None, 15, "the company's email to reach the ERP client")
    shot(page, "company")


def test_sales_sees_no_billing_editor_and_viewers_no_editors(page: Page, stack: Stack, base_url: str) -> None:
    company = api_as(stack, base_url, "sales").new_company(f"Readonly Co {uuid.uuid4().hex[:4]}")
    open_as(page, session_for(stack, "sales"), f"/companies/{company['id']}")
    expect(page.get_by_role("button", name="Edit", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Edit billing details")).to_have_count(0)
    viewer = page.context.browser.new_context(base_url=base_url)  # type: ignore[union-attr]
    try:
        other = viewer.new_page()
        open_as(other, session_for(stack, "viewer"), f"/companies/{company['id']}")
        expect(other.get_by_role("heading", name=company["name"], level=1)).to_be_visible()
        expect(other.get_by_role("button", name="Edit", exact=True)).to_have_count(0)
        expect(other.get_by_role("button", name="New contact")).to_have_count(0)
    finally:
        viewer.close()


def test_contacts_list_page_and_editing(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    company = sales.new_company(f"Contact Co {uuid.uuid4().hex[:4]}")
    last = f"Curie {uuid.uuid4().hex[:6]}"
    login(page)
    page.goto(f"/#/companies/{company['id']}")
    page.get_by_role("button", name="New contact").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("First name").fill("Marie")
    dialog.get_by_label("Last name").fill(last)
    dialog.get_by_label("Email").fill(f"marie-{uuid.uuid4().hex[:6]}@contact.example")
    expect(dialog.get_by_label("Company")).to_have_value(company["id"])
    assert_accessible(page, "the contact dialog")
    dialog.get_by_role("button", name="Create contact").click()
    page.get_by_role("link", name=f"Marie {last}").click()
    expect(page.get_by_role("heading", name=f"Marie {last}", level=1)).to_be_visible()
    page.get_by_role("button", name="Edit").click()
    edit = page.get_by_role("dialog")
    edit.get_by_label("Job title").fill("Head of research")
    edit.get_by_label("Phone").fill("+44 20 7946 0000")
    edit.get_by_role("button", name="Save contact").click()
    expect(page.get_by_role("main")).to_contain_text("Head of research")
    page.get_by_role("button", name="Log activity").click()
    activity = page.get_by_role("dialog")
    activity.get_by_label("Subject").fill("Intro call")
    activity.get_by_role("button", name="Log it").click()
    expect(page.get_by_role("list", name="Timeline")).to_contain_text("Call: Intro call")
    assert_accessible(page, "the contact page")
    contact_url = page.url

    page.goto("/#/contacts")
    page.get_by_label("Search name, email or phone").fill(last)
    page.get_by_role("button", name="Search").click()
    rows = page.locator("main tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(company["name"])
    shot(page, "contacts")
    contact = sales.ok("GET", "/api/crm/contacts", params={"q": last})["items"][0]
    assert contact["title"] == "Head of research" and contact["phone"] == "+44 20 7946 0000"
    assert contact["company_id"] == company["id"]
    page.goto(contact_url)
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete contact").click()
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    assert sales.ok("GET", "/api/crm/contacts", params={"q": last})["total"] == 0


def test_edit_a_deal_amount_close_date_owner_and_billing(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    with Api.login(stack, *ADMIN) as admin:
        me = admin.ok("GET", "/api/auth/me")
    deal = titled_deal(sales, f"Orbit redesign {uuid.uuid4().hex[:4]}", "10000.00", "Orbit")
    close = (date.today() + timedelta(days=45)).isoformat()
    login(page)
    page.goto(f"/#/deals/{deal['id']}")
    page.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Amount", exact=True).fill("18000.00")
    dialog.get_by_label("Expected close").fill(close)
    dialog.get_by_label("Owner").select_option(me["id"])
    dialog.get_by_label("Billing terms").select_option("retainer")
    dialog.get_by_label("Periods").fill("6")
    assert_accessible(page, "the deal dialog")
    dialog.get_by_role("button", name="Save deal").click()
    expect(page.locator("#deal-amount")).to_have_text("EUR 18,000.00")
    expect(page.locator("#deal-owner")).to_have_text("Administrator")
    saved = sales.ok("GET", f"/api/crm/deals/{deal['id']}")
    assert saved["amount"] == "18000.00" and saved["expected_close_date"] == close and saved["owner_id"] == me["id"]
    # The retainer defaulted to the amount over six periods: 3,000.00 each, which the CRM accepts on win.
    assert saved["billing"]["type"] == "retainer" and saved["billing"]["amount"] == "3000.00"
    assert saved["billing"]["count"] == 6

    # A close date in year 9999 is refused by the form itself; nothing is saved.
    page.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Expected close").fill("9999-12-31")
    dialog.get_by_role("button", name="Save deal").click()
    expect(dialog).to_be_visible()
    assert dialog.get_by_label("Expected close").evaluate("el => el.validity.rangeOverflow")
    dialog.get_by_role("button", name="Cancel").click()
    assert sales.ok("GET", f"/api/crm/deals/{deal['id']}")["expected_close_date"] == close


def test_a_lead_page_qualify_disqualify_and_convert_keeping_the_message(page: Page, stack: Stack,
                                                                        base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    company = f"Quarry Tiles {uuid.uuid4().hex[:4]}"
    message = "We sell tiles online and our shop is slow; can you rebuild it before spring?"
    lead = sales.ok("POST", "/api/crm/leads", 201, json={
        "first_name": "Quinn", "last_name": "Mason", "email": f"quinn-{uuid.uuid4().hex[:6]}@quarry.example",
        "company_name": company, "source": "website", "message": message})
    login(page)
    page.goto("/#/leads")
    page.locator("tr", has_text=company).get_by_role("link", name="Quinn Mason").click()
    expect(page.locator("#lead-message-text")).to_have_text(message)
    assert_accessible(page, "the lead page")
    page.get_by_role("button", name="Qualify", exact=True).click()
    expect(page.locator("#lead-status")).to_have_text("Qualified")
    page.get_by_role("button", name="Disqualify").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Disqualify").click()  # the reason is required
    expect(dialog).to_be_visible()
    dialog.get_by_label(re.compile("^Reason")).fill("Budget is a tenth of a rebuild")
    assert_accessible(page, "the disqualify dialog")
    dialog.get_by_role("button", name="Disqualify").click()
    expect(page.locator("#lead-status")).to_have_text("Disqualified")
    expect(page.locator("#lead-disqualified-reason")).to_have_text("Budget is a tenth of a rebuild")
    expect(page.get_by_role("button", name="Convert")).to_have_count(0)
    shot(page, "lead")
    page.get_by_role("button", name="Requalify").click()
    expect(page.locator("#lead-status")).to_have_text("New")
    page.get_by_role("button", name="Convert").click()
    convert = page.get_by_role("dialog")
    convert.get_by_label("Amount", exact=True).fill("15000")
    convert.get_by_role("button", name="Convert").click()
    expect(page.locator("#deal-status")).to_have_text("Open")
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline).to_contain_text("Message from Quinn Mason (website)")
    expect(timeline).to_contain_text(message)
    converted = sales.ok("GET", f"/api/crm/leads/{lead['id']}")
    assert converted["status"] == "converted" and converted["disqualified_reason"] is None
    page.goto(f"/#/leads/{lead['id']}")
    expect(page.locator("#lead-converted")).to_contain_text("Converted on")
    page.locator("#lead-converted").get_by_role("link", name="contact").click()
    expect(page.get_by_role("list", name="Timeline")).to_contain_text(message)
