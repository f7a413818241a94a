"""The books in a real browser: the trial balance of an issued and paid invoice, a manual entry posted from the
journal, an account added to the chart, a month closed and reopened with its reason; the pages pass the
labelled-controls and axe checks, and a role that does not read the books finds no Books in its menu."""

import re
import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.erp_billing.helpers import fixed, today
from tests.erp_cash.helpers import company_in_eur
from tests.support import ensure_person
from tests.web.conftest import assert_accessible, open_as, session_for, settled, shot
from tests.web.helpers import api_as, issued_invoice
from tests.web.test_screens import UNLABELLED


def r_side(side: str) -> re.Pattern[str]:
    """A trial-balance balance as shown: an amount in euros and its side."""
    return re.compile(rf"^EUR [0-9,]+\.[0-9]{{2}} {side}$")


def test_statements_journal_chart_and_close(page: Page, stack: Stack, base_url: str) -> None:
    finance = api_as(stack, base_url, "finance")
    sales = api_as(stack, base_url, "sales")
    project = sales.project_of(sales.won_deal(billing=fixed(1, today() + timedelta(days=365)))["id"])
    invoice = issued_invoice(finance, project, "1234.00")
    finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/payments", 201, json={"amount": "234.00"})

    me = str(uuid.uuid4())
    ensure_person(stack, me, name="Noor Haddad")  # the period log names who closed and reopened
    open_as(page, session_for(stack, "finance", user_id=me), "/books?currency=EUR")
    expect(page.get_by_role("heading", name="Books", level=1)).to_be_visible()
    statement = page.locator("#statement")
    expect(statement).to_contain_text("Trial balance")
    debit, credit = statement.get_by_test_id("total-debit"), statement.get_by_test_id("total-credit")
    expect(debit).not_to_have_text("")
    assert debit.inner_text() == credit.inner_text()  # the books balance
    expect(statement.locator("tr", has_text="Accounts receivable")).to_be_visible()
    # Debit- and credit-normal accounts side by side: each balance says its side.
    expect(statement.locator("tr", has_text="Accounts receivable").locator("td").last).to_have_text(r_side("Dr"))
    expect(statement.locator("tr", has_text="Revenue, services").locator("td").last).to_have_text(r_side("Cr"))
    page.get_by_label("Statement", exact=True).select_option("profit-and-loss")
    page.get_by_role("button", name="Show").click()
    expect(statement).to_contain_text("Profit and loss")
    expect(statement.locator("tr", has_text="Revenue, services")).to_be_visible()
    shot(page, "books-statements")

    page.get_by_role("link", name="Journal").click()
    expect(page.locator("tr", has_text=f"Invoice {invoice['number']} issued")).to_be_visible()
    page.get_by_role("button", name="New journal entry").click()
    dialog = page.get_by_role("dialog")
    assert_accessible(page, "the new journal entry dialog")
    dialog.get_by_label("Memo").fill("Owner's capital paid in")
    dialog.get_by_label("Account, line 1").select_option(label="1000 Bank")
    dialog.get_by_label("Debit, line 1").fill("500.00")
    dialog.get_by_label("Account, line 2").select_option(label="3000 Owner's equity")
    dialog.get_by_label("Credit, line 2").fill("400.00")
    dialog.get_by_role("button", name="Post the entry").click()
    expect(dialog.get_by_role("alert")).to_contain_text("does not balance")  # and nothing was posted
    dialog.get_by_label("Credit, line 2").fill("500.00")
    dialog.get_by_role("button", name="Post the entry").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("tr", has_text="Owner's capital paid in")).to_contain_text("3000 Owner's equity")
    shot(page, "books-journal")

    page.get_by_role("link", name="Chart of accounts").click()
    code = f"69{today():%d}"
    page.get_by_role("button", name="New account").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Code").fill(code)
    dialog.get_by_label("Name").fill("Training")
    dialog.get_by_role("button", name="Save").click()
    expect(page.locator(f'tr[data-account="{code}"]')).to_contain_text("Training")
    assert page.evaluate(UNLABELLED) == []

    page.get_by_role("link", name="Periods").click()
    month = (today().replace(day=1) - timedelta(days=400)).strftime("%Y-%m")
    row = page.locator(f'tr[data-month="{month}"]')
    row.get_by_role("button", name=f"Close {month}").click()
    expect(row).to_contain_text("Closed")
    row.get_by_role("button", name=f"Reopen {month}").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Reason").fill("A late bill from a supplier")
    dialog.get_by_role("button", name="Reopen").click()
    expect(row).to_contain_text("A late bill from a supplier")
    expect(row).to_contain_text("by Noor Haddad")
    expect(row.get_by_role("button", name=f"Close {month}")).to_be_visible()
    settled(page)
    shot(page, "books-periods")


def test_statements_in_the_base_currency(page: Page, stack: Stack, base_url: str) -> None:
    """A USD invoice issued at 0.90 and paid at 0.95 shows its exchange gain in the EUR statement of all
    currencies; an invoice in a currency without a rate is listed as not converted."""
    finance = api_as(stack, base_url, "finance")
    sales = api_as(stack, base_url, "sales")
    company_in_eur(finance)
    paid_on = today() - timedelta(days=12)
    for day, rate in ((today(), "0.9000"), (paid_on, "0.9500")):
        finance.ok("PUT", "/api/erp/exchange-rates", json={"currency": "USD", "rate_date": str(day), "rate": rate})
    usd = sales.project_of(sales.won_deal(billing=fixed(1, today() + timedelta(days=365)), currency="USD")["id"])
    invoice = issued_invoice(finance, usd, "1000.00")
    finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/payments", 201,
               json={"amount": "1000.00", "paid_on": str(paid_on)})
    stack.postgres.psql("erp", "DELETE FROM exchange_rates WHERE currency = 'ISK'")  # type: ignore[union-attr]
    isk = sales.project_of(sales.won_deal(billing=fixed(1, today() + timedelta(days=365)), currency="ISK")["id"])
    issued_invoice(finance, isk, "5000")

    open_as(page, session_for(stack, "finance"), "/books")
    page.get_by_label("Currencies", exact=True).select_option("base")
    page.get_by_label("From").fill(str(paid_on - timedelta(days=1)))
    page.get_by_role("button", name="Show").click()
    statement = page.locator("#statement")
    expect(statement.get_by_role("heading", level=2)).to_contain_text("all currencies in EUR")
    expect(statement.locator("tr", has_text="Foreign exchange gains")).to_be_visible()
    debit, credit = statement.get_by_test_id("total-debit"), statement.get_by_test_id("total-credit")
    expect(debit).not_to_have_text("")
    assert debit.inner_text() == credit.inner_text()  # the books balance in the base currency too
    expect(statement.get_by_test_id("unconverted")).to_contain_text("ISK")
    assert_accessible(page, "the statements in the base currency")
    shot(page, "books-base-currency")

    page.get_by_label("Currencies", exact=True).select_option("currency")
    page.get_by_label("Currency", exact=True).fill("USD")
    page.get_by_role("button", name="Show").click()
    expect(statement.get_by_role("heading", level=2)).to_contain_text("in USD")
    expect(statement.locator("tr", has_text="Foreign exchange gains")).to_have_count(0)  # 0 in USD: no row
    expect(statement.get_by_test_id("unconverted")).to_have_count(0)


def test_the_books_are_not_in_the_menu_of_those_who_do_not_read_them(page: Page, stack: Stack) -> None:
    open_as(page, session_for(stack, "project_manager"), "/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Reports")).to_be_visible()
    expect(nav.get_by_role("link", name="Books")).to_have_count(0)
