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
from tests.erp_books.bank_books import paid_bill, quiet_values, statement_data
from tests.erp_cash.helpers import company_in_eur
from tests.web.conftest import assert_accessible, open_as, session_for, settled, shot
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


def test_money_out_and_set_aside_lines_are_booked_to_the_account_chosen(page: Page, stack: Stack,
                                                                      base_url: str, tmp_path: Path) -> None:
    """A real CAMT.053 statement (tests/fixtures/camt053_bank_books.xml): a credit that is no invoice payment set
    aside to owner's equity, a credit linked to the payment typed in before, the rent booked to 6400, a debit linked
    to the bill payment typed in Bills; each shows the account it went to."""
    finance = api_as(stack, base_url, "finance")
    approver = api_as(stack, base_url, "finance")
    sales = api_as(stack, base_url, "sales")
    company_in_eur(finance)
    bill, bill_payment = paid_bill(finance, approver, f"{random.randint(100, 999)}.{random.randint(10, 99)}")
    project = sales.project_of(sales.won_deal(billing=fixed(1, today() + timedelta(days=365)))["id"])
    typed_in = issued_invoice(finance, project, f"{random.randint(1000, 9999)}.{random.randint(10, 99)}")
    finance.ok("POST", f"/api/erp/invoices/{typed_in['id']}/payments", 201, json={"amount": typed_in["total"]})
    [typed] = finance.ok("GET", f"/api/erp/invoices/{typed_in['id']}/payments")["items"]
    values = quiet_values(bill_paid=bill["total"], bill_reference=bill["vendor_reference"],
                          amount_3=typed_in["total"], ref_3=typed_in["payment_reference"])
    statement = tmp_path / "statement.xml"
    statement.write_bytes(statement_data(values))
    accounts = {a["code"]: a for a in finance.ok("GET", "/api/erp/accounts", params={"limit": 200})["items"]}

    open_as(page, session_for(stack, "finance"), "/bank")
    page.get_by_label("Statement file").set_input_files(str(statement))
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-result").get_by_test_id("import-debits")).to_have_text("3")

    # A credit set aside: the account is chosen (suspense is offered first).
    tag = values["tag"]
    contribution = page.locator("tr", has_text=f"Gesellschafterin {tag}")
    contribution.get_by_role("button", name="Set aside").click()
    dialog = page.get_by_role("dialog")
    choice = dialog.get_by_label("Book against account")
    expect(choice).to_have_value(accounts["1900"]["id"])
    # The statement's own bank account is not offered (a line cannot be booked against the account it is on).
    banks = finance.ok("GET", "/api/erp/bank-accounts")
    [own] = [b["ledger_account_id"] for b in banks if b["account"] == values["iban"]]
    options = choice.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
    assert own not in options and accounts["3000"]["id"] in options
    assert_accessible(page, "the set-aside dialog")
    choice.select_option(accounts["3000"]["id"])
    dialog.get_by_label("What is it?").fill("Capital contribution")
    dialog.get_by_role("button", name="Set it aside").click()
    expect(dialog).to_have_count(0)

    # A credit whose payment was typed in before: linked to it, not paid again.
    page.locator("tr", has_text=typed_in["payment_reference"]).get_by_role("button", name="Typed payment").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Payment")).to_have_value(typed["id"])
    dialog.get_by_role("button", name="Link the payment").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("tr", has_text=typed_in["payment_reference"])).to_have_count(0)

    # Money out: the rent to 6400, the vendor's invoice to its bill payment.
    page.get_by_label("Show").select_option("debit")
    rent = page.locator("tr", has_text=f"Vertrag {tag}")
    rent.get_by_role("button", name="Book to account").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Book against account").select_option(accounts["6400"]["id"])
    dialog.get_by_label("What was it for?").fill("Office rent")
    dialog.get_by_role("button", name="Book it").click()
    expect(dialog).to_have_count(0)
    expect(rent).to_have_count(0)
    paid = page.locator("tr", has_text=bill["vendor_reference"])
    paid.get_by_role("button", name="Bill payment").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Bill payment")).to_have_value(bill_payment["id"])
    assert_accessible(page, "the bill payment dialog")
    shot(page, "bank-bill-payment")
    dialog.get_by_role("button", name="Link the payment").click()
    expect(dialog).to_have_count(0)
    expect(paid).to_have_count(0)

    page.get_by_label("Show").select_option("ignored")
    expect(rent).to_contain_text("Booked to 6400")
    expect(contribution).to_contain_text("Booked to 3000")
    page.get_by_label("Show").select_option("")  # all lines: each says its status in words
    expect(rent.locator(".badge")).to_have_text("Booked to an account")
    settled(page)
    [linked] = finance.ok("GET", "/api/erp/bank-lines", params={"q": bill["vendor_reference"]})["items"]
    assert linked["status"] == "matched" and linked["bill_payment_id"] == bill_payment["id"]
    assert len(finance.ok("GET", f"/api/erp/invoices/{typed_in['id']}/payments")["items"]) == 1
