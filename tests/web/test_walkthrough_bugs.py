"""The bugs a new user hit in the walkthrough of issue 24, each shown fixed in a real browser."""

import json
import re
import uuid
from datetime import date
from pathlib import Path

from playwright.sync_api import Browser, Page, Route, expect

from devstack.stack import Stack
from tests.support import wait_for
from tests.web.conftest import assert_accessible, login, settled, shot
from tests.web.helpers import RECEIPT_PDF, api_as, issued_invoice, titled_deal, won_project


def test_the_win_dialog_shows_only_the_chosen_billing_type(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    deal = sales.ok("POST", "/api/crm/deals", 201, json={
        "title": f"Plain deal {uuid.uuid4().hex[:4]}", "company_id": sales.new_company()["id"], "amount": "9000.00",
        "currency": "EUR"})
    login(page)
    page.goto(f"/#/deals/{deal['id']}")
    page.get_by_role("button", name="Win").click()
    dialog = page.get_by_role("dialog")
    fields = {"fixed": "Installments", "milestones": "Milestones", "retainer": "Periods",
              "time_and_materials": "Hourly rate"}
    for chosen in fields:
        dialog.get_by_label("Billing terms").select_option(chosen)
        for kind, name in fields.items():
            control = dialog.get_by_label(re.compile(f"^{name}"))
            if kind == chosen:
                expect(control).to_be_visible()
            else:
                expect(control).to_be_hidden()
        assert_accessible(page, f"the win dialog with {chosen} terms")


def test_a_retainer_won_with_the_defaults_bills_the_deal_amount(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    deal = sales.ok("POST", "/api/crm/deals", 201, json={
        "title": f"Care plan {uuid.uuid4().hex[:4]}", "company_id": sales.new_company()["id"], "amount": "24000.00",
        "currency": "EUR"})
    login(page)
    page.goto(f"/#/deals/{deal['id']}")
    page.get_by_role("button", name="Win").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Billing terms").select_option("retainer")
    expect(dialog.get_by_label("Amount per period")).to_have_value("4000.00")
    dialog.get_by_label("Periods").fill("12")
    expect(dialog.get_by_label("Amount per period")).to_have_value("2000.00")
    expect(dialog).to_contain_text("12 \u00d7 2000.00 = EUR 24,000.00 (the deal's amount)")
    shot(page, "win-dialog", full_page=False)
    dialog.get_by_role("button", name="Mark as won").click()
    expect(page.locator("#deal-status")).to_have_text("Won")
    won = sales.ok("GET", f"/api/crm/deals/{deal['id']}")
    assert won["billing"]["type"] == "retainer" and won["billing"]["amount"] == "2000.00"
    assert won["billing"]["count"] == 12


def test_no_null_under_the_projects_filter(page: Page) -> None:
    login(page)
    page.goto("/#/projects")
    settled(page)
    expect(page.locator("main div.filters")).to_be_visible()
    assert "null" not in page.locator("main").inner_text()


def _receipt(tmp_path: Path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(RECEIPT_PDF)
    return str(path)


def test_the_expense_dialog_submits_its_own_draft_after_a_missing_receipt(page: Page, stack: Stack, base_url: str,
                                                                          tmp_path: Path) -> None:
    sales = api_as(stack, base_url, "sales")
    _, project = won_project(sales, f"Receipts {uuid.uuid4().hex[:4]}", "5000.00", "Receipt Co", 1)
    merchant = f"Hotel Central {uuid.uuid4().hex[:6]}"
    login(page)
    page.goto("/#/expenses?scope=mine")
    page.get_by_role("button", name="New expense").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Amount").fill("240.00")
    dialog.get_by_label("Merchant").fill(merchant)
    dialog.get_by_label("Project").select_option(project["id"])
    assert_accessible(page, "the expense dialog")
    dialog.get_by_role("button", name="Submit for approval").click()
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("saved as a draft but not submitted")
    # What to do on this screen, not the API path to upload to (the ERP's text, for API clients).
    expect(alert).to_contain_text("need a receipt. Choose the receipt's file and submit again.")
    expect(alert).not_to_contain_text("/api/")
    dialog.get_by_label("Receipt").set_input_files(_receipt(tmp_path))
    dialog.get_by_role("button", name="Submit for approval").click()
    expect(dialog).to_have_count(0)
    expenses = sales.ok("GET", "/api/erp/expenses", params={"limit": 200})["items"]
    mine = [x for x in expenses if x["merchant"] == merchant]
    assert len(mine) == 1 and mine[0]["status"] == "submitted" and mine[0]["has_receipt"] is True


def test_a_draft_can_be_finished_or_deleted_from_the_list(page: Page, stack: Stack, base_url: str,
                                                         tmp_path: Path) -> None:
    login(page)
    me = page.evaluate("JSON.parse(localStorage.getItem('throughline.session')).me.id")
    sales = api_as(stack, base_url, "sales")
    _, project = won_project(sales, f"Drafts {uuid.uuid4().hex[:4]}", "5000.00", "Draft Co", 1)
    admin_like = api_as(stack, base_url, "admin", user_id=me)  # the logged-in admin's own drafts
    body = {"amount": "120.00", "currency": "EUR", "expense_date": date.today().isoformat(),
            "project_id": project["id"]}
    finish = admin_like.ok("POST", "/api/erp/expenses", 201, json={**body, "merchant": f"Taxi {uuid.uuid4().hex[:6]}"})
    orphan = admin_like.ok("POST", "/api/erp/expenses", 201, json={**body, "merchant": f"Oops {uuid.uuid4().hex[:6]}"})
    page.goto("/#/expenses?scope=mine")
    page.get_by_role("button", name=f"Submit EUR 120.00 at {finish['merchant']}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Receipt").set_input_files(_receipt(tmp_path))
    dialog.get_by_role("button", name="Submit for approval").click()
    expect(dialog).to_have_count(0)
    assert admin_like.ok("GET", f"/api/erp/expenses/{finish['id']}")["status"] == "submitted"
    # Only drafts go, and only their submitter's (or an admin's) hand deletes them.
    assert admin_like.client.delete(f"/api/erp/expenses/{finish['id']}").status_code == 409
    assert api_as(stack, base_url, "sales").client.delete(f"/api/erp/expenses/{orphan['id']}").status_code == 403
    page.get_by_role("button", name=f"Delete the draft of EUR 120.00 at {orphan['merchant']}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete draft").click()
    expect(page.locator("tr", has_text=orphan["merchant"])).to_have_count(0)
    assert admin_like.get(f"/api/erp/expenses/{orphan['id']}").status_code == 404


def test_undated_forecast_rows_add_up(page: Page) -> None:
    """Several undated rows of one currency (as a filtered or future report may give) are summed, not replaced."""
    def forecast(route: Route) -> None:
        response = route.fetch()
        report = response.json()
        report["by_month"] = [
            {"currency": "EUR", "month": None, "count": 1, "amount": "1000.00", "weighted_amount": "100.00"},
            {"currency": "EUR", "month": None, "count": 1, "amount": "2000.00", "weighted_amount": "250.00"},
        ]
        route.fulfill(response=response, body=json.dumps(report))

    login(page)
    page.route("**/api/crm/reports/forecast*", forecast)
    page.goto("/#/forecast?currency=EUR")
    expect(page.get_by_role("main")).to_contain_text("Open deals without an expected close date: EUR 350.00 weighted.")


def test_the_rendered_invoice_fits_a_phone(browser: Browser, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    finance = api_as(stack, base_url, "finance")
    _, project = won_project(sales, f"Phone invoice {uuid.uuid4().hex[:4]}", "3000.00", "Phone Co", 1)
    invoice = issued_invoice(finance, project, "1234.56", "Workshop")
    context = browser.new_context(base_url=base_url, viewport={"width": 390, "height": 844}, locale="en-GB",
                                  timezone_id="UTC", is_mobile=True, has_touch=True)
    context.set_default_timeout(15_000)
    phone = context.new_page()
    try:
        login(phone)
        phone.goto(f"/#/invoices/{invoice['id']}")
        phone.get_by_role("button", name="View rendered invoice").click()
        frame = phone.locator("iframe.invoice-frame")
        expect(frame).to_be_visible()
        expect(phone.frame_locator("iframe.invoice-frame").locator("table.totals")).to_contain_text("1,234.56")
        scale = float(phone.locator(".invoice-fit").get_attribute("data-scale") or "1")
        assert scale < 1
        box = frame.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        shot(phone, "phone-invoice")
    finally:
        context.close()


def test_a_live_update_waits_while_a_card_is_held_on_the_board(page: Page, stack: Stack, base_url: str) -> None:
    sales = api_as(stack, base_url, "sales")
    held = titled_deal(sales, f"Held card {uuid.uuid4().hex[:4]}", "5000.00", "Held Co")
    login(page)
    page.goto("/#/pipeline")
    card = page.locator(f"article.deal-card[data-deal-id='{held['id']}']")
    expect(card).to_be_visible()
    page.wait_for_function("() => document.body.dataset.live === 'ready'")
    box = card.locator(".meta").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    # A new deal arrives live while the button is held: the board must not be re-rendered under the pointer.
    newcomer = titled_deal(sales, f"Newcomer {uuid.uuid4().hex[:4]}", "7000.00", "New Co")
    page.wait_for_function("() => (document.body.dataset.seenEvents || '').includes('deal.created')"
                           " && document.body.dataset.refreshPending === 'true'")
    page.wait_for_timeout(1500)
    expect(page.locator(f"[data-deal-id='{newcomer['id']}']")).to_have_count(0)
    target = page.locator("section.column[data-stage-name='Proposal']").bounding_box()
    assert target is not None
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 40, steps=12)
    page.mouse.up()
    proposal = next(s["id"] for p in sales.ok("GET", "/api/crm/pipelines") if p["is_default"]
                    for s in p["stages"] if s["name"] == "Proposal")
    wait_for(lambda: sales.ok("GET", f"/api/crm/deals/{held['id']}")["stage_id"] == proposal or None, 10,
             "the held card to move to Proposal")
    assert sales.ok("GET", f"/api/crm/deals/{newcomer['id']}")["stage_id"] != proposal
    # Once released, the board catches up with what arrived meanwhile.
    expect(page.locator(f"[data-deal-id='{newcomer['id']}']")).to_be_visible()
