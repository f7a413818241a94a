"""Every screen renders with labelled controls; the sales screens work; the app fits a phone."""

import re
import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from devstack.stack import Stack
from tests.support import Api, wait_for
from tests.web.conftest import ADMIN, AXE_FAILS_ON, AXE_RUN, _axe_source, assert_accessible, login, settled, shot
from tests.web.helpers import api_as, titled_deal

SCREENS = ["/", "/pipeline", "/companies", "/contacts", "/leads", "/tasks", "/forecast", "/projects", "/invoices",
           "/expenses", "/reports", "/setup", "/setup/users", "/setup/pipelines", "/setup/automation",
           "/setup/lead-capture", "/settings", "/bank", "/mail-templates", "/sequences", "/search", "/search?q=studio",
           "/import",
           "/settings/invoice-mail", "/sent-mail", "/people", "/timesheet", "/approvals", "/efficiency", "/planning",
           "/bills", "/vendors", "/ap-aging", "/cash-scenarios", "/recurring-items", "/exchange-rates",
           "/books", "/books?statement=profit-and-loss&columns=project&currency=EUR",
           "/books?statement=balance-sheet&currency=EUR", "/books/accounts", "/books/journal", "/books/periods",
           "/books/vat"]

# Every visible form control has an accessible name (a <label>, aria-label or aria-labelledby); every button too.
UNLABELLED = """() => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const named = (el) => (el.labels && el.labels.length) || el.getAttribute('aria-label')
    || el.getAttribute('aria-labelledby');
  const controls = [...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(visible);
  const buttons = [...document.querySelectorAll('button, a[href]')].filter(visible);
  return [
    ...controls.filter((el) => !named(el)).map((el) => el.outerHTML.slice(0, 120)),
    ...buttons.filter((el) => !(el.textContent.trim() || el.getAttribute('aria-label')))
      .map((el) => el.outerHTML.slice(0, 120)),
  ];
}"""


def test_every_screen_renders_with_labelled_controls(page: Page) -> None:
    login(page)
    for path in SCREENS:
        page.goto(f"/#{path}")
        settled(page)
        expect(page.locator("main h1")).to_be_visible()
        expect(page.locator("main .error")).to_have_count(0)
        assert page.evaluate(UNLABELLED) == [], path
        # Nothing prints a missing value as a word (the Projects filter once showed "null" under it).
        assert not re.search(r"\b(null|undefined|NaN)\b", page.locator("main").inner_text()), path
        assert_accessible(page, path)
        if path == "/reports":
            shot(page, "reports")


def test_keyboard_reaches_the_skip_link_and_logs_in(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_label("Email")).to_be_focused()
    assert_accessible(page, "the login screen")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.get_by_label("Email").fill(ADMIN[0])
    page.get_by_label("Password").fill(ADMIN[1])
    page.get_by_label("Password").press("Enter")
    expect(page.locator("#me-email")).to_have_text(ADMIN[0])
    # Dialogs are keyboard-usable: Escape closes them without doing anything.
    page.goto("/#/companies")
    page.get_by_role("button", name="New company").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.get_by_role("dialog").get_by_label("Name")).to_be_focused()
    assert_accessible(page, "the new company dialog")
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)


def test_convert_a_lead_and_follow_up_on_the_company(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    admin = Api.login(stack, *ADMIN)  # a fresh token: the session's may be older than its 15 minutes
    company_name = f"Lumen Works {uuid.uuid4().hex[:4]}"
    lead = sales.ok("POST", "/api/crm/leads", 201, json={
        "first_name": "Ada", "last_name": "Quill", "email": f"ada-{uuid.uuid4().hex[:6]}@lumen.example",
        "company_name": company_name, "source": "referral", "message": "We need a new website by spring."})
    me = admin.ok("GET", "/api/auth/me")
    due = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    overdue_task = admin.ok("POST", "/api/crm/tasks", 201, json={
        "title": f"Call back {company_name}", "due_at": due, "assignee_id": me["id"]})
    login(page)

    page.goto("/#/leads")
    row = page.locator("tr", has_text=company_name)
    expect(row).to_contain_text("Ada Quill")
    expect(row).to_contain_text(str(lead["score"]))
    shot(page, "leads")
    row.get_by_role("button", name="Convert").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Amount").fill("8000")
    dialog.get_by_role("button", name="Convert").click()
    expect(page.locator("#deal-status")).to_have_text("Open")
    converted = sales.ok("GET", f"/api/crm/leads/{lead['id']}")
    assert converted["deal_id"] and page.url.endswith(f"/deals/{converted['deal_id']}")

    page.get_by_role("link", name=company_name).click()
    expect(page.get_by_role("heading", name=company_name, level=1)).to_be_visible()
    page.get_by_role("button", name="Log activity").click()
    activity = page.get_by_role("dialog")
    activity.get_by_label("Kind").select_option("meeting")
    activity.get_by_label("Subject").fill("Kickoff workshop agreed")
    activity.get_by_role("button", name="Log it").click()
    expect(page.get_by_role("list", name="Timeline")).to_contain_text("Meeting: Kickoff workshop agreed")

    page.goto("/#/tasks")
    overdue = page.locator("section[aria-labelledby='tasks-Overdue']")
    expect(overdue).to_contain_text(overdue_task["title"])
    shot(page, "tasks")
    overdue.get_by_role("button", name=f"Complete {overdue_task['title']}").click()
    expect(overdue).not_to_contain_text(overdue_task["title"])
    assert admin.ok("GET", f"/api/crm/tasks/{overdue_task['id']}")["status"] == "done"
    admin.client.close()

    titled_deal(sales, "Forecast sample", "12000.00", "Forecast Co", stage="Proposal", close_in_days=20)
    page.goto("/#/forecast")
    expect(page.locator("figure.chart svg")).to_be_visible()
    expect(page.get_by_role("link", name="Forecast sample").first).to_be_visible()
    shot(page, "forecast")


def test_fits_a_phone(browser: Browser, base_url: str) -> None:
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844}, locale="en-GB",
                                  timezone_id="UTC", is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        login(page)
        for path in ("/", "/pipeline", "/invoices", "/reports", "/contacts", "/setup/users", "/setup/lead-capture"):
            page.goto(f"/#{path}")
            settled(page)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            assert_accessible(page, f"{path} on a phone")
        menu = page.get_by_role("button", name="Menu")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(page.get_by_role("link", name="Invoices")).to_be_hidden()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        page.get_by_role("link", name="Pipeline").click()
        expect(page.get_by_role("heading", name="Pipeline", level=1)).to_be_visible()
        expect(page.get_by_role("link", name="Invoices")).to_be_hidden()
        shot(page, "phone-pipeline")
        page.goto("/#/")
        shot(page, "phone-dashboard")
    finally:
        context.close()


def tab_to(page: Page, name: str, limit: int = 80) -> None:
    """Press Tab until the focused control's accessible text is `name` (the keyboard's only way there)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => { const el = document.activeElement;"
                                " return (el.getAttribute('aria-label') || el.textContent || '').trim(); }")
        if focused == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_the_key_flows_work_by_keyboard_alone(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    company = f"Keyboard Co {uuid.uuid4().hex[:4]}"
    lead = sales.ok("POST", "/api/crm/leads", 201, json={
        "first_name": "Kay", "last_name": "Board", "email": f"kay-{uuid.uuid4().hex[:6]}@keys.example",
        "company_name": f"Keys {uuid.uuid4().hex[:4]}", "message": "Typing only, please."})
    deal = titled_deal(sales, f"Keyed deal {uuid.uuid4().hex[:4]}", "3000.00", "Keyed")
    login(page)

    # Create a company and edit it.
    page.goto("/#/companies")
    settled(page)
    tab_to(page, "New company")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog").get_by_label("Name")).to_be_focused()
    page.keyboard.type(company)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=company, level=1)).to_be_visible()
    settled(page)
    tab_to(page, "Edit")
    page.keyboard.press("Enter")
    page.get_by_role("dialog").get_by_label("Industry").focus()
    page.keyboard.type("Accessibility")
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_contain_text("Accessibility")

    # Qualify a lead from its page.
    page.goto(f"/#/leads/{lead['id']}")
    settled(page)
    tab_to(page, "Qualify")
    page.keyboard.press("Enter")
    expect(page.locator("#lead-status")).to_have_text("Qualified")

    # Move a deal on the board with its stage menu (the keyboard's drag).
    page.goto("/#/pipeline")
    settled(page)
    tab_to(page, f"Move {deal['title']} to stage")
    page.keyboard.press("ArrowDown")
    wait_for(lambda: sales.ok("GET", f"/api/crm/deals/{deal['id']}")["stage_id"] != deal["stage_id"] or None, 10,
             "the deal to move by keyboard")

    # Add a stage on the setup screen; Escape leaves a dialog without a change.
    page.goto("/#/setup/pipelines")
    settled(page)
    tab_to(page, "New pipeline")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert_accessible(page, "the pipelines setup after the keyboard flow")


def test_the_quote_screens_have_labelled_controls_and_pass_axe(page: Page, stack: Stack, base_url: str) -> None:
    """Issue 25: the deal page's Quotes section, its quote dialog and preview, and the client's public page."""
    sales = api_as(stack, base_url, "sales")
    deal = titled_deal(sales, f"Quoted {uuid.uuid4().hex[:4]}", "5000.00", "Quoted Co")
    service = sales.ok("POST", "/api/crm/quote-catalogue", 201, json={
        "name": f"Audit {uuid.uuid4().hex[:6]}", "kind": "fixed", "unit_price": "5000.00", "currency": "EUR"})
    quote = sales.ok("POST", f"/api/crm/deals/{deal['id']}/quotes", 201, json={
        "lines": [{"catalogue_item_id": service["id"]}],
        "valid_until": (datetime.now(UTC) + timedelta(days=20)).date().isoformat()})
    login(page)
    page.goto(f"/#/deals/{deal['id']}")
    settled(page)
    expect(page.locator("#deal-quotes")).to_contain_text("Draft")
    assert page.evaluate(UNLABELLED) == []
    assert_accessible(page, "the deal page's quotes")
    page.locator("#new-quote").click()
    assert page.evaluate(UNLABELLED) == []
    assert_accessible(page, "the quote dialog")
    page.keyboard.press("Escape")
    page.locator("#deal-quotes").get_by_role("button", name="Preview").click()
    assert_accessible(page, "the quote preview")
    page.keyboard.press("Escape")
    sent = sales.ok("POST", f"/api/crm/quotes/{quote['id']}/send", json={"to": "client@quoted.example"})
    mail = sales.ok("GET", f"/api/crm/mails/{sent['mail_id']}")  # its text is kept when it is queued
    link = re.search(r"/api/crm/public-quotes/[A-Za-z0-9_-]+", mail["text_body"])
    assert link is not None
    page.goto(link.group(0))
    expect(page.get_by_label("Your full name")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    page.evaluate(_axe_source())
    assert page.evaluate(AXE_RUN, list(AXE_FAILS_ON)) == []
