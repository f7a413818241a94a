"""The VAT report in a real browser: an invoice at 19 % shows in the month's output VAT with the same totals as the
API, the journal downloads as CSV and as a DATEV Buchungsstapel from the same page, and the page passes axe; the
viewer reads it and may download too."""

import csv
import io
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from devstack.stack import Stack
from tests.erp_billing.helpers import fixed, today
from tests.web.conftest import assert_accessible, open_as, session_for, shot
from tests.web.helpers import api_as
from tests.web.test_screens import UNLABELLED


def test_vat_report_and_journal_downloads(page: Page, browser: Browser, stack: Stack, base_url: str) -> None:
    finance = api_as(stack, base_url, "finance")
    sales = api_as(stack, base_url, "sales")
    project = sales.project_of(sales.won_deal(billing=fixed(1, today() + timedelta(days=365)))["id"])
    draft = finance.ok("POST", "/api/erp/invoices", 201, json={"project_id": project["id"], "lines": [
        {"description": "Brand workshop", "quantity": "1", "unit_price": "1000.00", "tax_rate": "19"}]})
    finance.ok("POST", f"/api/erp/invoices/{draft['id']}/issue")
    day, month = today().isoformat(), today().strftime("%Y-%m")
    report = finance.ok("GET", "/api/erp/reports/vat", params={"currency": "EUR", "date_from": f"{month}-01",
                                                                "date_to": day})
    assert Decimal(report["totals"]["output_tax"]) >= Decimal("190.00")

    open_as(page, session_for(stack, "finance"), "/books?currency=EUR")
    page.get_by_role("link", name="VAT report").click()
    page.get_by_label("Currency").fill("EUR")
    page.get_by_role("button", name="Show").click()
    section = page.locator("#vat-report")
    expect(section).to_contain_text("in EUR")
    period = section.locator(f'[data-period="{month}"]')
    expect(period.locator("tr", has_text="19 %").first).to_be_visible()
    net = Decimal(report["totals"]["net_payable"])
    shown = section.get_by_test_id("net-payable").inner_text()
    assert f"{abs(net):,.2f}".replace(",", "") in shown.replace(",", "").replace("\u202f", "").replace(" ", ""), shown
    expect(section).to_contain_text("expenses that name a VAT rate")
    expect(period.get_by_role("heading", name="Input VAT: vendor bills and expenses")).to_be_visible()
    expect(section).not_to_contain_text("null")  # an absent part is left out, not written as text
    assert page.evaluate(UNLABELLED) == []
    assert_accessible(page, "the VAT report")
    shot(page, "books-vat")

    with page.expect_download() as download:
        page.get_by_role("button", name="Download journal (CSV)").click()
    assert download.value.suggested_filename == f"journal_{month}-01_{day}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"), newline="")))
    assert any(r["account_code"] == "2200" and r["tax_rate"] == "19" for r in rows)
    with page.expect_download() as datev:
        page.get_by_role("button", name="Download journal (DATEV)").click()
    assert datev.value.suggested_filename == f"EXTF_Buchungsstapel_{month}-01_{day}.csv"
    content = Path(datev.value.path()).read_bytes()
    assert content.startswith(b'"EXTF";700;21;"Buchungsstapel";13;') and "Schlüssel".encode("cp1252") in content

    context = browser.new_context(base_url=base_url, locale="en-GB", timezone_id="UTC")
    viewer = context.new_page()
    open_as(viewer, session_for(stack, "viewer"), "/books/vat?currency=EUR")
    expect(viewer.locator("#vat-report")).to_contain_text("VAT report")
    expect(viewer.get_by_role("button", name="Download journal (DATEV)")).to_be_visible()
    context.close()
