"""Chromium: the committed HubSpot exports imported through the Import screen (mapping proposed, one column changed
by keyboard, preview, import, report), an export downloaded with names, and the bell (open by keyboard, mark one
read, mark all read)."""

import csv
import io
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import Api
from tests.web.conftest import ADMIN, assert_accessible, login, settled, shot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _read(page: Page, entity: str, fixture: str) -> None:
    page.get_by_label("Import", exact=True).select_option(entity)
    page.locator("#import-file").set_input_files(str(FIXTURES / fixture))
    page.get_by_role("button", name="Read the file").click()
    expect(page.locator("#import-mapping table")).to_be_visible()


def test_import_the_hubspot_exports_with_the_mapping_screen(page: Page, stack: Stack) -> None:
    login(page)
    page.goto("/#/import")
    settled(page)
    expect(page.locator("main h1")).to_have_text("Import and export")

    _read(page, "companies", "hubspot-companies.csv")
    expect(page.get_by_label("Import the column Company Domain Name as")).to_have_value("domain")
    expect(page.get_by_label("Import the column Record ID as")).to_have_value("")
    page.get_by_role("button", name="Import 4 rows").click()
    expect(page.locator("#import-summary")).to_contain_text("0 refused")

    _read(page, "contacts", "hubspot-contacts.csv")
    for column, field in (("First Name", "first_name"), ("Last Name", "last_name"), ("Email", "email"),
                          ("Company Name", "company_name"), ("Job Title", "title"), ("Contact owner", "")):
        expect(page.get_by_label(f"Import the column {column} as")).to_have_value(field)
    # The user adjusts the mapping, by keyboard: the phone column is not to be imported.
    phone = page.get_by_label("Import the column Phone Number as")
    phone.focus()
    phone.select_option("")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-summary")).to_contain_text("6 rows")
    expect(page.locator("#preview-summary")).to_contain_text("0 refused")
    preview = page.locator("#import-preview table")
    expect(preview).to_contain_text("Öztürk")
    expect(preview).to_contain_text("Nordwind Logistik GmbH")
    expect(preview.locator("th", has_text="Phone")).to_have_count(0)
    assert "null" not in page.locator("main").inner_text()
    assert_accessible(page, "the import screen with mapping and preview")
    shot(page, "import-preview")
    page.get_by_role("button", name="Import 6 rows").click()
    expect(page.locator("#import-summary")).to_contain_text("0 refused")
    expect(page.locator("#import-report tbody tr")).to_have_count(6)
    assert_accessible(page, "the import report")

    with Api.login(stack, *ADMIN) as admin:
        maya = admin.ok("GET", "/api/crm/contacts", params={"q": "maya.lindqvist@nordwind-logistik.example"})["items"]
        assert len(maya) == 1 and maya[0]["title"] == "Head of Operations" and maya[0]["company_id"]
        company = admin.ok("GET", f"/api/crm/companies/{maya[0]['company_id']}")
        assert company["domain"] == "nordwind-logistik.example"

    # An export downloads from the same screen, with names.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export contacts (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert download.value.suggested_filename == "contacts.csv"
    assert any(r["company_name"] == "Nordwind Logistik GmbH" for r in rows)


def test_the_bell_shows_what_needs_the_user_and_marks_it_read(page: Page, stack: Stack) -> None:
    with Api.login(stack, *ADMIN) as admin:
        me = admin.ok("GET", "/api/auth/me")
        name = f"Bellamy {uuid.uuid4().hex[:5]}"
        lead = admin.ok("POST", "/api/crm/leads", 201, json={
            "first_name": name, "email": f"{uuid.uuid4().hex[:8]}@bell.example", "owner_id": me["id"]})
        admin.ok("POST", "/api/notifications/read-all")  # start from nothing unread
        second = admin.ok("POST", "/api/crm/leads", 201, json={
            "first_name": f"{name} Two", "email": f"{uuid.uuid4().hex[:8]}@bell.example", "owner_id": me["id"]})
    login(page)
    settled(page)
    bell = page.locator("#bell")
    expect(bell).to_have_attribute("aria-label", "Notifications: 1 unread")
    bell.focus()
    page.keyboard.press("Enter")
    panel = page.locator("#bell-panel")
    expect(panel).to_be_visible()
    item = panel.locator(f"li[data-key*='{second['id']}']")
    expect(item).to_contain_text(f"Lead assigned to you: {name} Two")
    expect(item).to_have_class("unread")
    expect(panel.locator(f"li[data-key*='{lead['id']}']")).to_have_class("read")
    assert_accessible(page, "the open bell")
    shot(page, "bell", full_page=False)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bell).to_be_focused()

    page.keyboard.press("Enter")
    item.get_by_role("button", name=f"Mark read: Lead assigned to you: {name} Two").click()
    expect(item).to_have_class("read")
    expect(bell).to_have_attribute("aria-label", "Notifications: none unread")
    # A link takes the user to the lead.
    item.get_by_role("link").click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#/leads/{second['id']}")
    expect(panel).to_be_hidden()

    # Mark all read: a third assignment rings, and one click clears the count.
    with Api.login(stack, *ADMIN) as admin:
        third = admin.ok("POST", "/api/crm/leads", 201, json={
            "first_name": f"{name} Three", "email": f"{uuid.uuid4().hex[:8]}@bell.example", "owner_id": me["id"]})
    bell.click()
    expect(panel.locator(f"li[data-key*='{third['id']}']")).to_have_class("unread")
    expect(bell).to_have_attribute("aria-label", "Notifications: 1 unread")
    panel.get_by_role("button", name="Mark all read").click()
    expect(bell).to_have_attribute("aria-label", "Notifications: none unread")
    expect(panel.locator(f"li[data-key*='{third['id']}']")).to_have_class("read")
    expect(bell).to_be_focused()
