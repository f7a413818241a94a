"""Payables and cash in the browser: a bill entered, submitted, approved by a project manager and paid; AP aging; an
exchange rate entered; a recurring item; a scenario saved and compared with the baseline on a chart with its table."""

import re
import uuid

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.erp_cash.helpers import company_in_eur, rate_every_currency
from tests.erp_costs.helpers import as_role
from tests.web.conftest import assert_accessible, open_as, other_page, session_for, settled, shot
from tests.web.helpers import api_as
from tests.web.test_screens import UNLABELLED


def test_a_bill_from_entry_to_paid(page: Page, stack: Stack, base_url: str) -> None:
    finance = api_as(stack, base_url, "finance")
    company_in_eur(finance)
    vendor = finance.ok("POST", "/api/erp/vendors", 201, json={
        "name": f"Print Shop {uuid.uuid4().hex[:6]}", "currency": "EUR", "payment_terms_days": 14,
        "iban": "DE89370400440532013000"})
    reference = f"PS-{uuid.uuid4().hex[:6]}"
    open_as(page, session_for(stack, "finance"), "/bills")
    settled(page)
    page.get_by_role("button", name="New bill").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Vendor", exact=True).select_option(vendor["id"])
    dialog.get_by_label("Vendor's invoice number").fill(reference)
    dialog.get_by_label("Description").fill("Brochures")
    dialog.get_by_label("Unit price").fill("250.00")
    assert_accessible(page, "the new bill dialog")
    dialog.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    name = f"{vendor['name']} {reference}"
    page.get_by_role("button", name=f"Submit {name}").click()
    expect(page.get_by_role("button", name=f"Submit {name}")).to_have_count(0)
    # Whoever entered it may not approve it: no Approve button for them.
    expect(page.get_by_role("button", name=f"Approve {name}")).to_have_count(0)

    manager = other_page(page)
    open_as(manager, session_for(stack, "project_manager"), "/bills?status=submitted")
    settled(manager)
    manager.get_by_role("button", name=f"Approve {name}").click()
    expect(manager.get_by_role("button", name=f"Approve {name}")).to_have_count(0)

    page.reload()
    settled(page)
    page.get_by_role("button", name=f"Pay {name}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Amount (EUR)")).to_have_value(re.compile(r"^2\d\d\.\d\d$"))
    dialog.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    row = page.locator("tr", has_text=reference)
    expect(row).to_contain_text("Paid")
    assert page.evaluate(UNLABELLED) == []
    shot(page, "bills")

    page.get_by_role("link", name="AP aging").click()
    settled(page)
    expect(page.locator("main h1")).to_have_text("AP aging")
    assert_accessible(page, "AP aging")
    page.get_by_role("link", name="Vendors").click()
    settled(page)
    expect(page.locator("main")).to_contain_text(vendor["name"])
    assert_accessible(page, "vendors")


def test_rates_recurring_items_and_a_scenario_against_the_baseline(page: Page, stack: Stack, base_url: str) -> None:
    finance = api_as(stack, base_url, "finance")
    company_in_eur(finance)
    open_as(page, session_for(stack, "finance"), "/exchange-rates")
    settled(page)
    form = page.get_by_role("form", name="Enter a rate")
    form.get_by_label("Currency").fill("JPY")
    form.get_by_label(re.compile("^Rate")).fill("0.0061")
    form.get_by_role("button", name="Save rate").click()
    # Other modules may have rated JPY on other days: the row of today's rate is the one entered here.
    expect(page.locator("tr", has_text="JPY").filter(has_text="0.0061 EUR")).to_have_count(1)
    assert_accessible(page, "exchange rates")

    with as_role(stack, "finance") as direct:
        rate_every_currency(stack, direct, page.evaluate("new Date().toISOString().slice(0, 10)"))

    page.get_by_role("link", name="Recurring items").click()
    settled(page)
    page.get_by_role("button", name="New recurring item").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Payroll")
    dialog.get_by_label("Amount").fill("12000.00")
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator("tr", has_text="Payroll").first).to_be_visible()
    assert_accessible(page, "recurring items")

    page.get_by_role("link", name="Forecast & scenarios").click()
    settled(page)
    expect(page.locator("#baseline-lowest")).to_contain_text("in the week of")
    page.get_by_role("button", name="New scenario").click()
    dialog = page.get_by_role("dialog")
    scenario = f"Two designers {uuid.uuid4().hex[:4]}"
    dialog.get_by_label("Name").fill(scenario)
    dialog.get_by_label("Monthly cost").fill("9000.00")
    assert_accessible(page, "the new scenario dialog")
    dialog.get_by_role("button", name="Save scenario").click()
    expect(page.locator("#scenario-lowest")).to_contain_text("in the week of")
    chart = page.locator("figure.chart svg[role=img]")
    expect(chart).to_have_count(1)
    expect(chart.locator("polyline")).to_have_count(2)
    expect(page.get_by_role("columnheader", name="Difference")).to_be_visible()
    # The hire starts today: the first week already costs 9,000.00 more than the baseline.
    first_difference = page.locator("table tbody tr").first.locator("td").last
    expect(first_difference).to_have_text(re.compile(r"^-\s*EUR\s*9,000\.00$"))
    assert page.evaluate(UNLABELLED) == []
    assert_accessible(page, "a scenario against the baseline")
    shot(page, "cash-scenarios")
