"""An expense with VAT in a real browser (issue 26, decision 215): a salesperson enters a receipt of 119.00 at a 19 %
rate picked in the form's "VAT rate" select, finance approves it from the list, and both see its VAT (19.00) and net
(100.00); the dialog and the list pass axe, and the books hold the tax on 1400."""

import re
import uuid
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.erp_books.books import entries_of
from tests.web.conftest import assert_accessible, open_as, other_page, session_for, settled, shot
from tests.web.helpers import RECEIPT_PDF, api_as, won_project
from tests.web.test_screens import UNLABELLED


def test_an_expense_entered_with_a_vat_rate_shows_its_vat_and_net_once_approved(
        page: Page, stack: Stack, base_url: str, tmp_path: Path) -> None:
    finance = api_as(stack, base_url, "finance")
    sales = api_as(stack, base_url, "sales")
    # A rate of the test's own: another test may change or archive the shared ones, or the default.
    rate = finance.ok("POST", "/api/erp/tax-rates", 201, json={
        "name": f"Receipt VAT {uuid.uuid4().hex[:6]}", "category": "standard", "percent": "19"})
    _, project = won_project(sales, f"Receipts with VAT {uuid.uuid4().hex[:4]}", "5000.00", "VAT Receipts Co", 1)
    merchant = f"Stationer {uuid.uuid4().hex[:6]}"
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(RECEIPT_PDF)

    open_as(page, session_for(stack, "sales"), "/expenses?scope=mine")
    page.get_by_role("button", name="New expense").click()
    dialog = page.get_by_role("dialog")
    vat = dialog.get_by_label("VAT rate")
    expect(vat.locator("option:checked")).to_have_text("No VAT")  # the default: no VAT unless a rate is picked
    expect(vat.locator("option", has_text="reverse")).to_have_count(0)  # refused on expenses: not offered
    dialog.get_by_label("Amount").fill("119.00")
    vat.select_option(label=f"{rate['name']} (19 %)")
    dialog.get_by_label("Merchant").fill(merchant)
    dialog.get_by_label("Project").select_option(project["id"])
    dialog.get_by_label("Receipt").set_input_files(str(receipt))
    assert page.evaluate(UNLABELLED) == []
    assert_accessible(page, "the expense dialog with its VAT rate")
    dialog.get_by_role("button", name="Submit for approval").click()
    expect(dialog).to_have_count(0)
    row = page.locator("tr", has_text=merchant)
    expect(row.locator('td[data-label="VAT"]')).to_have_text("EUR 19.00 (19 %)")
    expect(row.locator('td[data-label="Net"]')).to_have_text("EUR 100.00")
    expect(row.locator('td[data-label="Amount"]')).to_have_text("EUR 119.00")

    approver = other_page(page)
    open_as(approver, session_for(stack, "finance"), "/expenses?scope=approve")
    approver.get_by_role("button", name=f"Approve EUR 119.00 at {merchant}").click()
    expect(approver.locator("tr", has_text=merchant)).to_have_count(0)  # no longer waiting
    approver.goto("/#/expenses?scope=all")
    settled(approver)
    approved = approver.locator("tr", has_text=merchant)
    expect(approved).to_contain_text(re.compile("approved", re.IGNORECASE))
    expect(approved.locator('td[data-label="VAT"]')).to_have_text("EUR 19.00 (19 %)")
    expect(approved.locator('td[data-label="Net"]')).to_have_text("EUR 100.00")
    assert_accessible(approver, "the expense list with VAT and net")
    shot(approver, "expenses-vat")

    [expense] = [x for x in sales.ok("GET", "/api/erp/expenses", params={
        "project_id": project["id"], "limit": 50})["items"] if x["merchant"] == merchant]
    assert (expense["status"], expense["tax_rate_id"], expense["tax_amount"], expense["net_amount"]) == (
        "approved", rate["id"], "19.00", "100.00")
    [entry] = entries_of(finance, expense["id"])
    vat_lines = [x for x in entry["lines"] if x["account_code"] == "1400"]
    assert [(Decimal(x["debit"]), Decimal(x["tax_rate"])) for x in vat_lines] == [(Decimal("19.00"), Decimal(19))]


def test_a_member_is_offered_the_vat_rates_for_a_receipt(page: Page, stack: Stack, base_url: str) -> None:
    """Members file most receipts: they read the tax rates (erp.work.read), though not invoices or reports."""
    finance = api_as(stack, base_url, "finance")
    rate = finance.ok("POST", "/api/erp/tax-rates", 201, json={
        "name": f"Member receipt VAT {uuid.uuid4().hex[:6]}", "category": "reduced", "percent": "7"})
    member = api_as(stack, base_url, "member")
    assert any(r["id"] == rate["id"] for r in member.ok("GET", "/api/erp/tax-rates",
                                                        params={"active": "true", "limit": 200})["items"])
    assert member.ok("GET", f"/api/erp/tax-rates/{rate['id']}")["percent"] == "7"
    assert member.get("/api/erp/invoices").status_code == 403  # still no invoices

    open_as(page, session_for(stack, "member"), "/expenses?scope=mine")
    page.get_by_role("button", name="New expense").click()
    vat = page.get_by_role("dialog").get_by_label("VAT rate")
    expect(vat.locator("option", has_text=rate["name"])).to_have_text(f"{rate['name']} (7 %)")
