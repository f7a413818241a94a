"""Invoices a client can receive, in the browser: the company profile and a tax rate set up in Settings, a draft's
lines edited with a tax rate, the issued invoice's seller, bill-to, tax per rate and RF reference, and its PDF
opened with the session's token (a blob, never a 401)."""

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, Route, expect

from devstack.stack import Stack
from tests.support import Api
from tests.web.conftest import login, settled, shot
from tests.web.helpers import api_as, no_default_tax_rate, won_project
from tests.web.test_screens import UNLABELLED


@pytest.fixture
def finance(stack: Stack, base_url: str) -> Iterator[Api]:
    api = api_as(stack, base_url, "finance")
    yield api
    no_default_tax_rate(api)  # settings made here must not tax the other tests' invoices
    api.client.close()


def test_set_up_the_company_and_a_tax_rate_edit_a_draft_issue_and_open_its_pdf(
        page: Page, stack: Stack, base_url: str, finance: Api) -> None:
    sales = api_as(stack, base_url, "sales")
    _, project = won_project(sales, f"Atlas rebrand {uuid.uuid4().hex[:4]}", "4000.00", "Atlas Works", 1)
    login(page)

    page.goto("/#/settings")
    form = page.locator("form.company-form")
    form.get_by_label("Legal name").fill("Northwind Design GmbH")
    form.get_by_label("Address").fill("Kastanienallee 7")
    form.get_by_label("Postal code").fill("10435")
    form.get_by_label("City").fill("Berlin")
    form.get_by_label(re.compile("^Country")).fill("DE")
    form.get_by_label(re.compile("^VAT ID")).fill("DE136695976")
    form.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 01")  # one digit wrong
    form.get_by_label(re.compile("^BIC")).fill("COBADEFFXXX")
    form.get_by_label("Base currency").fill("EUR")
    form.get_by_role("button", name="Save company").click()
    expect(form.locator(".error")).to_contain_text("bank_accounts.0.iban")
    form.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    # Waits for the save itself: another test may have set a company up already, so no banner goes away.
    with page.expect_response(lambda r: r.url.endswith("/api/erp/settings/company") and r.request.method == "PUT"
                              ) as saved:
        form.get_by_role("button", name="Save company").click()
    assert saved.value.status == 200
    expect(page.locator("#company-missing")).to_have_count(0)
    company = finance.ok("GET", "/api/erp/settings/company")
    assert (company["legal_name"], company["vat_id"], company["bank_accounts"][0]["iban"]) == (
        "Northwind Design GmbH", "DE136695976", "DE89370400440532013000")

    rate_name = f"Books {uuid.uuid4().hex[:4]}"
    page.get_by_role("button", name="Add tax rate").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill(rate_name)
    dialog.get_by_label("Category").select_option("reduced")
    dialog.get_by_label("Percent").fill("7")
    dialog.get_by_role("button", name="Add tax rate").click()
    expect(page.locator(f"tr[data-rate='{rate_name}']")).to_contain_text("7 %")
    shot(page, "settings")

    draft = finance.ok("POST", "/api/erp/invoices", 201, json={
        "project_id": project["id"], "lines": [{"description": "Logo concepts", "quantity": "1",
                                                "unit_price": "1200.00", "tax_rate": "19"}]})
    page.goto(f"/#/invoices/{draft['id']}")
    editor = page.locator("form.line-editor")
    editor.get_by_label("Description of line 1").fill("Logo concepts, three routes")
    editor.get_by_role("button", name="Add line").click()
    editor.get_by_label("Description of line 2").fill("Brand book (printed)")
    editor.get_by_label("Quantity of line 2").fill("2")
    editor.get_by_label("Unit price of line 2").fill("150.00")
    editor.get_by_label("Tax rate of line 2").select_option(label=f"{rate_name} (7 %)")
    editor.get_by_role("button", name="Save lines").click()
    expect(page.locator("#tax-breakdown")).to_contain_text("VAT 7 %")
    saved = finance.ok("GET", f"/api/erp/invoices/{draft['id']}")
    assert [(x["description"], x["tax_rate"], x["tax_category"]) for x in saved["lines"]] == [
        ("Logo concepts, three routes", "19", "standard"), ("Brand book (printed)", "7", "reduced")]
    assert saved["lines"][0]["id"] == draft["lines"][0]["id"]  # changed in place
    assert (saved["tax_total"], saved["total"]) == ("249.00", "1749.00")  # 228.00 + 21.00

    page.get_by_role("button", name="Issue").click()
    expect(page.locator("#invoice-status")).to_have_text("Issued")
    issued = finance.ok("GET", f"/api/erp/invoices/{draft['id']}")
    expect(page.locator("#invoice-reference")).to_have_text(issued["payment_reference"])
    expect(page.locator("#invoice-seller")).to_contain_text("Northwind Design GmbH")
    expect(page.locator("#invoice-seller")).to_contain_text("VAT ID DE136695976")
    expect(page.locator("#invoice-bill-to")).to_contain_text("Atlas Works")
    expect(page.locator("#tax-breakdown")).to_contain_text("VAT 19 %")
    expect(page.locator("#invoice-total")).to_contain_text("EUR 1,749.00")
    shot(page, "invoice-issued")

    # The app fetches the PDF with its token and opens the bytes as a blob: URL. The page's CSP (connect-src
    # 'self') keeps scripts from fetching blob: URLs, so the bytes are checked as they pass to the app: the route
    # forwards the app's own request to the gateway and hands the real answer on unchanged.
    seen: list[tuple[int, str, bytes]] = []

    def forward(route: Route) -> None:
        answer = route.fetch()
        seen.append((answer.status, answer.headers["content-type"], answer.body()))
        route.fulfill(response=answer)

    page.route(f"**/api/erp/invoices/{draft['id']}/pdf", forward)
    with page.expect_popup() as opened:
        page.get_by_role("button", name="Open PDF").click()
    pdf_page = opened.value
    assert pdf_page.url.startswith("blob:")
    page.unroute(f"**/api/erp/invoices/{draft['id']}/pdf")
    [(status, content_type, body)] = seen
    assert status == 200 and content_type == "application/pdf", (status, content_type)
    assert body[:5] == b"%PDF-" and len(body) > 10_000
    # The link is the app's, with the token; the bare URL stays closed to a browser without one.
    assert page.request.get(f"/api/erp/invoices/{draft['id']}/pdf").status == 401
    pdf_page.close()


def test_the_billing_run_dialog_is_due_by_today(page: Page, stack: Stack, base_url: str, finance: Api) -> None:
    sales = api_as(stack, base_url, "sales")
    _, project = won_project(sales, f"Dune site {uuid.uuid4().hex[:4]}", "3000.00", "Dune Co", 3)
    login(page)
    page.goto(f"/#/projects/{project['id']}")
    page.get_by_role("button", name="Invoice due items").click()
    due_by = page.get_by_role("dialog").get_by_label(re.compile("^Due by"))
    today = datetime.now(UTC).date().isoformat()
    expect(due_by).to_have_value(today)
    expect(due_by).to_have_attribute("max", today)
    page.keyboard.press("Escape")


def test_settings_and_a_draft_line_editor_have_labelled_controls(page: Page, stack: Stack, base_url: str,
                                                                   finance: Api) -> None:
    sales = api_as(stack, base_url, "sales")
    _, project = won_project(sales, f"Label check {uuid.uuid4().hex[:4]}", "1000.00", "Label Co", 1)
    draft = finance.ok("POST", "/api/erp/invoices", 201, json={
        "project_id": project["id"], "lines": [{"description": "Check", "quantity": "1", "unit_price": "10.00"}]})
    login(page)
    for path in ("/settings", f"/invoices/{draft['id']}"):
        page.goto(f"/#{path}")
        settled(page)
        expect(page.locator("main h1")).to_be_visible()
        expect(page.locator("main .error")).to_have_count(0)
        assert page.evaluate(UNLABELLED) == [], path
