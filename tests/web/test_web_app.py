"""The web app in a real browser (headless Chromium), against the real services through the gateway."""

import json
import re
import uuid
from decimal import Decimal

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from devstack.stack import Stack
from tests.support import wait_for
from tests.web.conftest import ADMIN, assert_accessible, login, open_as, other_page, session_for, settled, shot
from tests.web.helpers import (
    api_as,
    issued_invoice,
    no_default_tax_rate,
    stage_id,
    submitted_expense,
    titled_deal,
    won_project,
)


def eur(text: str) -> Decimal:
    """The EUR amount in a figure like "EUR 12,000.00 · USD 5.00" (0 when none)."""
    match = re.search(r"EUR\s*([\d,]+\.\d{2})", text)
    return Decimal(match.group(1).replace(",", "")) if match else Decimal(0)


def test_login_logout_and_session_expiry(page: Page, stack: Stack, base_url: str) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Throughline")).to_be_visible()
    shot(page, "login")
    page.get_by_label("Email").fill(ADMIN[0])
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password.")

    login(page)
    expect(page.locator("#me-email")).to_have_text(ADMIN[0])
    expect(page.locator("#kpi-won")).to_be_visible()
    stored = json.loads(page.evaluate("localStorage.getItem('throughline.session')"))
    assert stored["refresh_token"] and stored["access_token"]

    # An access token past its time is renewed with the refresh token, without bothering the user.
    stale = {**stored, "expires_at": 0}
    page.evaluate("s => localStorage.setItem('throughline.session', s)", json.dumps(stale))
    page.reload()
    expect(page.locator("#me-email")).to_have_text(ADMIN[0])
    renewed = json.loads(page.evaluate("localStorage.getItem('throughline.session')"))
    assert renewed["access_token"] != stored["access_token"]
    assert renewed["expires_at"] > 0

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    assert page.evaluate("localStorage.getItem('throughline.session')") is None

    # A session that can no longer be renewed ends on the login screen with a readable reason.
    dead = {**stale, "refresh_token": "not-a-token"}
    page.evaluate("s => localStorage.setItem('throughline.session', s)", json.dumps(dead))
    page.reload()
    expect(page.get_by_text("Your session has expired. Please log in again.")).to_be_visible()
    expect(page.get_by_label("Email")).to_be_visible()


def test_navigation_and_actions_follow_the_role(page: Page, stack: Stack) -> None:
    open_as(page, session_for(stack, "sales"), "/pipeline")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Leads")).to_be_visible()
    expect(nav.get_by_role("link", name="Invoices")).to_have_count(0)
    expect(page.get_by_role("button", name="New deal")).to_be_visible()

    viewer = other_page(page)
    open_as(viewer, session_for(stack, "viewer"), "/pipeline")
    expect(viewer.locator("#me-role")).to_have_text("viewer")
    expect(viewer.get_by_text("Read-only: your role cannot change deals.")).to_be_visible()
    expect(viewer.get_by_role("button", name="New deal")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Win")).to_have_count(0)

    finance = other_page(page)
    open_as(finance, session_for(stack, "finance"), "/invoices")
    finance_nav = finance.get_by_role("navigation", name="Main")
    expect(finance_nav.get_by_role("link", name="Invoices")).to_be_visible()
    expect(finance_nav.get_by_role("link", name="Leads")).to_have_count(0)
    expect(finance.get_by_role("button", name="New draft invoice")).to_be_visible()


def test_drag_a_deal_to_won_and_see_its_project(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    title = f"Atlas rebrand {uuid.uuid4().hex[:4]}"
    deal = titled_deal(sales, title, "24000.00", "Atlas Studio")
    login(page)
    page.goto("/#/pipeline")
    card = page.locator(f"article.deal-card[data-deal-id='{deal['id']}']")
    expect(card).to_be_visible()

    # Other tests' live events re-render the board; a drag that started on a card the re-render replaced does
    # nothing, as it would for a person, who would simply drag again. So drag again, a few times at most.
    qualified = stage_id(sales, "Qualified")
    for _ in range(3):
        card.drag_to(page.locator("section.column[data-stage-name='Qualified']"))
        try:
            wait_for(lambda: sales.ok("GET", f"/api/crm/deals/{deal['id']}")["stage_id"] == qualified, 5,
                     "the drag to move the deal to Qualified")
            break
        except AssertionError:
            continue
    assert sales.ok("GET", f"/api/crm/deals/{deal['id']}")["stage_id"] == qualified
    expect(page.locator("section.column[data-stage-name='Qualified']").locator(
        f"[data-deal-id='{deal['id']}']")).to_be_visible()

    # Keyboard alternative to dragging: the card's stage menu.
    page.get_by_label(f"Move {title} to stage").select_option(label="Proposal")
    expect(page.locator("section.column[data-stage-name='Proposal']").locator(
        f"[data-deal-id='{deal['id']}']")).to_be_visible()
    shot(page, "pipeline")

    dialog = page.get_by_role("dialog")
    for _ in range(3):  # as above: a re-render during the drag swallows it
        page.locator(f"article.deal-card[data-deal-id='{deal['id']}']").drag_to(
            page.locator("section.column[data-stage-name='Won']"))
        try:
            dialog.wait_for(state="visible", timeout=5_000)
            break
        except PlaywrightTimeoutError:
            continue
    expect(dialog).to_contain_text(f"Win “{title}”")
    dialog.get_by_label("Billing terms").select_option("fixed")
    dialog.get_by_label("Installments").fill("2")
    dialog.get_by_label("First invoice on").fill("2027-01-15")
    assert_accessible(page, "the win dialog")
    dialog.get_by_role("button", name="Mark as won").click()
    expect(page.locator(f"[data-deal-id='{deal['id']}']")).to_have_count(0)
    won = sales.ok("GET", f"/api/crm/deals/{deal['id']}")
    assert won["status"] == "won"
    assert won["billing"]["installments"] == 2

    page.goto(f"/#/deals/{deal['id']}")
    expect(page.locator("#deal-status")).to_have_text("Won")
    project_link = page.locator("#deal-project a")
    expect(project_link).to_have_text(title)  # the ERP's project.created arrives live, or is already there
    shot(page, "deal")
    project_link.click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    schedule = page.locator("section[aria-labelledby='pj-schedule'] tbody tr")
    expect(schedule).to_have_count(2)
    expect(schedule.nth(0)).to_contain_text("EUR 12,000.00")
    expect(schedule.nth(1)).to_contain_text("15 Feb 2027")
    shot(page, "project")


def test_issue_pay_credit_and_void_invoices(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    finance = api_as(stack, base_url, "finance")
    no_default_tax_rate(finance)
    _, project = won_project(sales, f"Harbor portal {uuid.uuid4().hex[:4]}", "9000.00", "Harbor Labs", installments=3)
    first_due = finance.ok("GET", f"/api/erp/projects/{project['id']}/billing-schedule")["items"][0]["due_date"]
    login(page)
    page.goto(f"/#/projects/{project['id']}")
    page.get_by_role("button", name="Invoice due items").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Due by").fill(first_due)
    dialog.get_by_label(re.compile("Issue the invoices now")).uncheck()
    dialog.get_by_role("button", name="Run billing").click()
    first_item = page.locator("section[aria-labelledby='pj-schedule'] tbody tr").nth(0)
    expect(first_item).to_contain_text("Invoiced")
    first_item.get_by_role("link", name="Open").click()

    expect(page.locator("#invoice-status")).to_have_text("Draft")
    page.get_by_role("button", name="Issue").click()
    expect(page.locator("#invoice-status")).to_have_text("Issued")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Invoice \S+-\d+"))
    number = page.get_by_role("heading", level=1).inner_text().removeprefix("Invoice ")

    page.get_by_role("button", name="Record payment").click()
    pay = page.get_by_role("dialog")
    expect(pay.get_by_label(re.compile("^Amount"))).to_have_value("3000.00")
    pay.get_by_label(re.compile("^Amount")).fill("1000.00")
    pay.get_by_label("Reference").fill("Wire 4711")
    pay.get_by_role("button", name="Record payment").click()
    expect(page.locator("#invoice-status")).to_have_text("Partially paid")
    expect(page.locator("#invoice-balance")).to_have_text("EUR 2,000.00")

    page.get_by_role("button", name="Credit note").click()
    credit = page.get_by_role("dialog")
    credit.get_by_label(re.compile("^Amount to credit")).fill("500.00")
    credit.get_by_label("Reason").fill("Goodwill for the late delivery")
    credit.get_by_role("button", name="Create credit note").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Credit note"))
    page.get_by_role("link", name="The original invoice").click()
    expect(page.locator("#invoice-balance")).to_have_text("EUR 1,500.00")

    page.get_by_role("button", name="Record payment").click()
    page.get_by_role("dialog").get_by_role("button", name="Record payment").click()
    expect(page.locator("#invoice-status")).to_have_text("Paid")
    expect(page.locator("#invoice-balance")).to_have_text("EUR 0.00")
    payments = page.locator("section[aria-labelledby='inv-pay'] table").first.locator("tbody tr")
    expect(payments).to_have_count(2)
    expect(payments.nth(0)).to_contain_text("Wire 4711")
    expect(page.get_by_role("button", name="Record payment")).to_have_count(0)

    # Let the live refresh for the payment (invoice.paid) pass, so the screenshot shows a settled page.
    page.wait_for_function("() => (document.body.dataset.seenEvents || '').includes('invoice.paid')"
                           " && !document.body.dataset.refreshPending")
    page.get_by_role("button", name="View rendered invoice").click()
    rendered = page.frame_locator("iframe.invoice-frame")
    expect(rendered.locator("body")).to_contain_text(number)
    shot(page, "invoice")

    unpaid = issued_invoice(finance, project, "750.00", "Extra hosting")
    page.goto(f"/#/invoices/{unpaid['id']}")
    page.get_by_role("button", name="Void").click()
    page.get_by_role("dialog").get_by_label("Reason").fill("Sent by mistake")
    page.get_by_role("dialog").get_by_role("button", name="Void invoice").click()
    expect(page.locator("#invoice-status")).to_have_text("Void")
    assert finance.ok("GET", f"/api/erp/invoices/{unpaid['id']}")["status"] == "void"


def test_approve_and_reject_expenses(page: Page, stack: Stack, base_url: str) -> None:
    consultant = api_as(stack, base_url, "sales")
    _, project = won_project(consultant, f"Expense trail {uuid.uuid4().hex[:4]}", "5000.00", "Trail Co", 1)
    merchant = f"Rail Europe {uuid.uuid4().hex[:4]}"
    approve_me = submitted_expense(consultant, "86.40", merchant, project["id"])
    reject_me = submitted_expense(consultant, "312.00", f"Gadget Shop {uuid.uuid4().hex[:4]}", project["id"])
    login(page)
    page.goto("/#/expenses")
    expect(page.locator("#expense-scope")).to_have_value("approve")
    page.get_by_role("button", name=f"Approve EUR 86.40 at {merchant}").click()
    wait_for(lambda: consultant.ok("GET", f"/api/erp/expenses/{approve_me['id']}")["status"] == "approved", 10,
             "the expense to be approved")
    expect(page.get_by_role("button", name=f"Approve EUR 86.40 at {merchant}")).to_have_count(0)
    shot(page, "expenses")

    page.get_by_role("button", name=f"Reject EUR 312.00 at {reject_me['merchant']}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Reject").click()  # the reason is required: nothing is sent yet
    expect(dialog).to_be_visible()
    dialog.get_by_label(re.compile("^Why")).fill("Personal purchase")
    dialog.get_by_role("button", name="Reject").click()
    expect(dialog).to_have_count(0)
    rejected = consultant.ok("GET", f"/api/erp/expenses/{reject_me['id']}")
    assert rejected["status"] == "rejected"


def test_dashboard_figures_change_as_deals_are_won(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    login(page)
    won_figure = page.locator("[data-testid='kpi-won-value']")
    cash_figure = page.locator("[data-testid='kpi-cash-value']")
    expect(won_figure).to_be_visible()
    settled(page)
    before, cash_before = eur(won_figure.inner_text()), eur(cash_figure.inner_text())
    deal = titled_deal(sales, f"Dashboard proof {uuid.uuid4().hex[:4]}", "7777.00", "Proof Ltd")
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    # deal.won reaches the page through /api/live and the dashboard refreshes itself (no reload here).
    wait_for(lambda: eur(won_figure.inner_text()) - before >= Decimal("7777.00") or None, 10,
             "the won figure to grow by the new deal")
    # ...and once the ERP has the project, its first installment (due today) is cash expected.
    wait_for(lambda: eur(cash_figure.inner_text()) - cash_before >= Decimal("7777.00") or None, 15,
             "the cash expected to grow by the new installment")
    expect(page.get_by_role("link", name=deal["title"])).to_be_visible()
    shot(page, "dashboard")


def test_missing_records_and_pages_read_clearly(page: Page) -> None:
    login(page)
    page.goto(f"/#/deals/{uuid.uuid4()}")
    expect(page.get_by_role("heading", name="Deal not found")).to_be_visible()
    page.goto(f"/#/invoices/{uuid.uuid4()}")
    expect(page.get_by_role("heading", name="Invoice not found")).to_be_visible()
    page.goto("/#/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
