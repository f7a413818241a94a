"""Quotes in Chromium (issue 25): sales builds a quote on the deal page from the catalogue and sends it; the client
opens the link in the mail the embedded SMTP server received (its .eml, parsed with the stdlib email package),
reads the quote and accepts it by typing their name; the deal is won and the ERP project appears with the quote's
lines as its budget lines."""

import re
import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import Api, wait_for
from tests.web.conftest import (
    AXE_FAILS_ON,
    AXE_RUN,
    _axe_source,
    assert_accessible,
    open_as,
    other_page,
    session_for,
    settled,
    shot,
)
from tests.web.helpers import api_as, no_default_tax_rate, titled_deal

LINK = re.compile(r"https?://\S+/api/crm/public-quotes/[A-Za-z0-9_-]+")


def received(stack: Stack, subject: str) -> EmailMessage | None:
    assert stack.smtp is not None
    for path in stack.smtp.mail_dir.glob("*.eml"):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if message["Subject"] == subject:
            assert isinstance(message, EmailMessage)
            return message
    return None


def assert_page_accessible(page: Page, where: str) -> None:
    """axe on a page outside the app (the client's quote page has no app shell for `settled` to wait for)."""
    page.evaluate(_axe_source())
    violations = page.evaluate(AXE_RUN, list(AXE_FAILS_ON))
    assert not violations, f"axe on {where}: {violations}"


def catalogue(api: Api) -> tuple[dict[str, Any], dict[str, Any]]:
    s = uuid.uuid4().hex[:6]
    workshop = api.ok("POST", "/api/crm/quote-catalogue", 201, json={
        "name": f"Discovery workshop {s}", "kind": "fixed", "unit_price": "3000.00", "currency": "EUR"})
    build = api.ok("POST", "/api/crm/quote-catalogue", 201, json={
        "name": f"Design and build {s}", "kind": "hourly", "unit_price": "120.00", "currency": "EUR"})
    return workshop, build


def test_a_client_accepts_a_quote_through_the_mailed_link_and_the_project_gets_its_lines(
        page: Page, stack: Stack, base_url: str) -> None:
    user = f"web-quoter-{uuid.uuid4().hex[:6]}"
    sales = api_as(stack, base_url, "sales", user_id=user)
    no_default_tax_rate(api_as(stack, base_url, "finance"))  # the quote's totals below are untaxed
    workshop, build = catalogue(sales)
    deal = titled_deal(sales, f"Relaunch {uuid.uuid4().hex[:6]}", "1000.00", "Quote Co")
    company = sales.ok("GET", f"/api/crm/companies/{deal['company_id']}")
    open_as(page, session_for(stack, "sales", user_id=user), f"/deals/{deal['id']}")
    settled(page)

    # Sales: a quote from two catalogue services, sent by mail.
    page.locator("#new-quote").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Service").select_option(workshop["id"])
    dialog.get_by_role("button", name="Add a line").click()
    dialog.get_by_label("Service").nth(1).select_option(build["id"])
    dialog.get_by_label("Quantity or hours").nth(1).fill("75")
    dialog.get_by_label("Discount %").fill("10")
    dialog.get_by_role("button", name="Create draft").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    quotes = page.locator("#deal-quotes")
    expect(quotes).to_contain_text("Draft")
    expect(quotes).to_contain_text("10,800.00")
    quotes.get_by_role("button", name="Preview").click()
    expect(page.locator("dialog[open] .quote-total")).to_contain_text("10,800.00")
    assert_accessible(page, "the quote preview")
    page.locator("dialog[open]").get_by_role("button", name="Close").click()
    quotes.get_by_role("button", name="Send").click()
    client_address = f"client-{uuid.uuid4().hex[:6]}@quote-co.example"
    page.locator("dialog[open]").get_by_label("To").fill(client_address)
    page.locator("dialog[open]").get_by_role("button", name="Send quote").click()
    expect(quotes).to_contain_text(f"to {client_address}")
    shot(page, "deal-quotes")

    # The client: the link in the mail the SMTP server kept.
    message = wait_for(lambda: received(stack, f"Quote: {deal['title']} for {company['name']}"), 30, "the quote mail")
    assert client_address in str(message["To"])
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    found = LINK.search(text.get_content())
    assert found is not None
    client = other_page(page)
    client.goto(f"{base_url}{urlsplit(found.group(0)).path}")
    expect(client.locator("h1")).to_have_text(deal["title"])
    expect(client.locator("tfoot")).to_contain_text("10,800.00 EUR")
    assert_page_accessible(client, "the client's quote page")
    client.get_by_label("Your full name").fill("Jana Novak")
    client.get_by_role("button", name="Accept the quote").click()
    expect(client.locator("h1")).to_have_text("Quote accepted")

    # Sales: the deal is won on the quote; the ERP project has the quote's lines.
    project = sales.project_of(deal["id"], timeout=30)
    page.goto(f"{base_url}/#/projects/{project['id']}")
    settled(page)
    lines = page.locator("#budget-lines")
    expect(lines).to_contain_text(workshop["name"])
    expect(lines).to_contain_text(build["name"])
    expect(lines).to_contain_text("9,000.00")
    page.goto(f"{base_url}/#/deals/{deal['id']}")
    settled(page)
    expect(page.locator("#deal-status")).to_have_text("Won")
    expect(page.locator("#deal-quotes")).to_contain_text("Accepted")
