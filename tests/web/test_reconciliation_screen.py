"""Bank reconciliation in a real browser: import a CAMT.053 statement, read its counts, match the line that waits
by hand, and find its invoice paid."""

import random
import uuid
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.erp_billing import bank_files
from tests.erp_billing.helpers import fixed, today
from tests.web.conftest import open_as, session_for, settled, shot
from tests.web.helpers import api_as, issued_invoice
from tests.web.test_screens import UNLABELLED


def test_import_a_statement_and_reconcile_what_waits(page: Page, stack: Stack, base_url: str,
                                                      tmp_path: Path) -> None:
    finance = api_as(stack, base_url, "finance")
    sales = api_as(stack, base_url, "sales")
    deal = sales.won_deal(billing=fixed(1, today() + timedelta(days=365)))
    project = sales.project_of(deal["id"])
    by_reference = issued_invoice(finance, project, f"{random.randint(1000, 9999)}.{random.randint(10, 99)}")
    by_hand = issued_invoice(finance, project, f"{random.randint(1000, 9999)}.{random.randint(10, 99)}")
    payer = f"Unknown Payer {uuid.uuid4().hex[:6].upper()} AG"
    statement = tmp_path / "statement.xml"
    statement.write_bytes(bank_files.fill(
        "camt053_v08.xml", msg_id="WEB", booked=today().isoformat(), tag=bank_files.tag(), closing="25000.00",
        amount_a=by_reference["total"], payer_a="Accounts Payable", iban_a="DE89370400440532013000",
        ref_a=by_reference["payment_reference"],
        amount_b="0.11", payer_b="Nobody", ref_b_typed="-",
        amount_c=by_hand["total"], payer_c=payer, iban_c="FR1420041010050500013M02606",
        amount_d="0.12", payer_d="Nobody", amount_e="0.13", payer_e="Nobody", ref_e="-"))

    open_as(page, session_for(stack, "finance"), "/bank")
    expect(page.get_by_role("heading", name="Bank reconciliation", level=1)).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Bank")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []
    page.get_by_label("Statement file").set_input_files(str(statement))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#import-result")).to_contain_text("nothing imported yet")
    expect(page.locator("#import-result")).to_contain_text(by_reference["payment_reference"])
    page.get_by_role("button", name="Import", exact=True).click()
    result = page.locator("#import-result")
    expect(result.get_by_test_id("import-lines")).to_have_text("6")
    expect(result.get_by_test_id("import-matched")).to_have_text("1")
    expect(result.get_by_test_id("import-unmatched")).to_have_text("4")
    expect(result.get_by_test_id("import-debits")).to_have_text("1")
    expect(result.get_by_test_id("import-duplicates")).to_have_text("0")
    assert finance.ok("GET", f"/api/erp/invoices/{by_reference['id']}")["status"] == "paid"

    waiting = page.locator("tr", has_text=payer)
    expect(waiting).to_contain_text("none of a client the payer is known to be")
    shot(page, "bank-reconciliation")
    waiting.get_by_role("button", name="Match").click()
    dialog = page.get_by_role("dialog")
    amount = dialog.get_by_label(f"Amount for {by_hand['number']}")
    expect(amount).to_have_value(by_hand["total"])  # the one open invoice of the line's amount, filled in
    expect(dialog.locator("#match-left")).to_have_text("EUR 0.00")
    dialog.get_by_role("button", name="Record the payments").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("tr", has_text=payer)).to_have_count(0)  # no longer waiting

    page.get_by_label("Show").select_option("matched")
    matched = page.locator("tr", has_text=payer)
    expect(matched).to_contain_text(by_hand["number"])
    matched.get_by_role("link", name=by_hand["number"]).click()
    expect(page.locator("#invoice-status")).to_have_text("Paid")
    settled(page)
    line = finance.ok("GET", "/api/erp/bank-lines", params={"q": payer})["items"][0]
    assert line["status"] == "matched" and line["matches"][0]["method"] == "manual"

    # The same file again: nothing recorded twice, and the screen says so.
    page.goto("/#/bank")
    page.get_by_label("Statement file").set_input_files(str(statement))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-result")).to_contain_text("Imported before: nothing recorded again")
    expect(page.locator("#import-result").get_by_test_id("import-duplicates")).to_have_text("6")
    assert len(finance.ok("GET", f"/api/erp/invoices/{by_hand['id']}/payments")["items"]) == 1
