"""Sending an invoice from the web app, in a real browser: the Send dialog comes prefilled from the invoice
template, the mail reaches the embedded SMTP server with the PDF attached, and the link in the `.eml` opens the
client's page (no login) with the payment details; the invoice page then shows the mail as sent. The admin's Sent
mail page lists the message.
"""

import io
import uuid
from datetime import timedelta

import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.erp_billing.helpers import fixed, today
from tests.erp_billing.test_documents import SELLER
from tests.support import wait_for
from tests.web.conftest import assert_accessible, open_as, session_for, settled
from tests.web.helpers import api_as, issued_invoice
from tests.web.test_screens import UNLABELLED
from throughline_platform.mail.mailbox import list_received, read_received


def test_send_an_invoice_and_open_the_clients_page_from_the_mail(page: Page, stack: Stack, base_url: str) -> None:
    finance = api_as(stack, base_url, "finance")
    sales = api_as(stack, base_url, "sales")
    finance.ok("PUT", "/api/erp/settings/company", json=SELLER)
    suffix = uuid.uuid4().hex[:6]
    address = f"ap-{suffix}@client.example"
    company = sales.ok("POST", "/api/crm/companies", 201, json={"name": f"Browser Client {suffix}",
                                                               "domain": f"bc-{suffix}.example", "email": address})
    deal = sales.new_deal(company["id"], billing=fixed(1, today() + timedelta(days=365)))
    sales.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    project = sales.project_of(deal["id"])
    invoice = issued_invoice(finance, project, "640.00")

    open_as(page, session_for(stack, "finance"), f"/invoices/{invoice['id']}")
    # The rendered invoice's SEPA code, as Chromium draws it from the page's SVG, scans as the transfer to make.
    page.get_by_role("button", name="View rendered invoice").click()
    code = page.frame_locator("iframe.invoice-frame").locator("svg.payment-code")
    expect(code).to_be_visible()
    frame_box, modules_box = code.bounding_box(), code.locator("path").bounding_box()
    assert frame_box is not None and modules_box is not None
    assert modules_box["width"] > 0.7 * frame_box["width"]  # the code fills its 30 mm (scaled by its view box)
    scanned = zxingcpp.read_barcode(Image.open(io.BytesIO(code.screenshot())))
    assert scanned is not None and scanned.text.split("\n")[5:10] == [
        SELLER["legal_name"], SELLER["bank_accounts"][0]["iban"].replace(" ", ""), f"EUR{invoice['total']}", "",
        invoice["payment_reference"]]
    page.get_by_role("button", name="Send", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("To")).to_have_value(address)
    expect(dialog.get_by_label("Subject")).to_have_value(f"Invoice {invoice['number']} from {SELLER['legal_name']}")
    expect(dialog.get_by_label("Message")).to_contain_text(invoice["payment_reference"])
    assert_accessible(page, "the send dialog")
    dialog.get_by_label("Subject").fill(f"Your invoice {invoice['number']}")
    dialog.get_by_role("button", name="Send").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    settled(page)
    mail_panel = page.get_by_role("region", name="Mail")
    expect(mail_panel).to_contain_text(address)

    mail_dir = stack.var_dir / "mail"
    kept = wait_for(lambda: next((m for m in list_received(mail_dir, limit=500)
                                  if m.subject == f"Your invoice {invoice['number']}"), None), 20, "the mail")
    assert kept.attachments == (f"{invoice['number']}.pdf",)
    message = read_received(mail_dir, kept.name)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    link = next(word for word in body.get_content().split() if "/api/erp/public/invoices/" in word)

    # The client: another browser context, no session.
    browser = page.context.browser
    assert browser is not None
    client = browser.new_context()
    client_page = client.new_page()
    try:
        client_page.goto(link)
        expect(client_page.get_by_role("heading", level=1)).to_have_text(f"Invoice {invoice['number']}")
        expect(client_page.locator("main")).to_contain_text(invoice["payment_reference"])
        expect(client_page.locator("main")).to_contain_text(f"{invoice['total']} EUR")
        expect(client_page.locator("main")).to_contain_text("DE89 3704 0044 0532 0130 00")
        with client_page.expect_download() as pdf:
            client_page.get_by_role("link", name="Download the PDF").click()
        assert pdf.value.suggested_filename == f"{invoice['number']}.pdf"
        client_page.goto(link[:-3] + ("xyz" if not link.endswith("xyz") else "abc"))
        expect(client_page.get_by_role("heading", level=1)).to_have_text("This link does not work")
        expect(client_page.locator("main")).not_to_contain_text(invoice["number"])
    finally:
        client.close()

    # "Queued" turns into "Sent" on the page by itself (the panel looks again while a mail waits), no reload.
    expect(page.get_by_role("region", name="Mail").locator(".mail-status")).to_have_text("Sent", timeout=20_000)
    assert all(m["status"] == "sent" for m in finance.ok("GET", f"/api/erp/invoices/{invoice['id']}/mails"))
    expect(page.get_by_role("button", name="Send again")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []


def test_the_admin_reads_sent_mail_and_finance_edits_the_invoice_template(page: Page, stack: Stack) -> None:
    open_as(page, session_for(stack, "admin"), "/sent-mail")
    expect(page.get_by_role("heading", name="Sent mail", level=1)).to_be_visible()
    settled(page)
    first = page.locator("main table button.link").first
    if first.count():
        first.click()
        expect(page.locator("#sent-mail-message")).to_be_visible()
    assert page.evaluate(UNLABELLED) == []

    open_as(page, session_for(stack, "finance"), "/settings/invoice-mail")
    expect(page.get_by_role("heading", name="Invoice mail", level=1)).to_be_visible()
    subject = page.get_by_label("Subject of The invoice mail")
    body = page.get_by_label("Body of The invoice mail")
    body.fill("Dear {{ client.name }},\n{{ invoice.totl }}\n")
    form = page.locator("form[aria-labelledby=tpl-invoice]")
    form.get_by_role("button", name="Save template").click()
    expect(form).to_contain_text("line 2")
    body.fill("Dear {{ client.name }},\nplease pay {{ invoice.amount_due }}.\n")
    subject.fill("Invoice {{ invoice.number }}")
    form.get_by_role("button", name="Preview").click()
    expect(form.locator(".template-preview")).to_contain_text("please pay 1190.00 EUR")
