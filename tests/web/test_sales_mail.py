"""The sales mail screens in Chromium (issue 25): compose and send from a deal page (the mail arrives at the embedded
SMTP server), mail templates with their line-numbered mistakes, a sequence of two steps, enrolling a contact, and the
step status; the contact page's consent."""

import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from devstack.stack import Stack
from tests.support import Api, wait_for
from tests.web.conftest import open_as, session_for, settled, shot
from tests.web.helpers import api_as


def _mail_dir(stack: Stack) -> Path:
    assert stack.smtp is not None
    return stack.smtp.mail_dir


def _received(stack: Stack, subject: str) -> EmailMessage | None:
    for path in _mail_dir(stack).glob("*.eml"):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if message["Subject"] == subject:
            assert isinstance(message, EmailMessage)
            return message
    return None


def _people(api: Api) -> dict[str, Any]:
    s = uuid.uuid4().hex[:8]
    company = api.ok("POST", "/api/crm/companies", 201,
                     json={"name": f"Fjord Studio {s}", "domain": f"fjord-{s}.example"})
    contact = api.ok("POST", "/api/crm/contacts", 201, json={
        "first_name": "Ingrid", "last_name": f"Berg {s}", "email": f"ingrid-{s}@fjord-{s}.example",
        "company_id": company["id"]})
    deal = api.ok("POST", "/api/crm/deals", 201, json={
        "title": f"Brand refresh {s}", "company_id": company["id"], "contact_id": contact["id"],
        "amount": "8000.00", "currency": "EUR"})
    return {"company": company, "contact": contact, "deal": deal, "suffix": s}


def test_compose_and_send_from_a_deal_page(page: Page, stack: Stack, base_url: str) -> None:
    user = f"web-seller-{uuid.uuid4().hex[:6]}"
    api = api_as(stack, base_url, "sales", user_id=user)
    people = _people(api)
    open_as(page, session_for(stack, "sales", user_id=user), f"/deals/{people['deal']['id']}")
    settled(page)
    page.locator("#send-email").click()
    dialog = page.locator("dialog[open]")
    subject = f"Next steps for {{{{ deal.title }}}} {people['suffix']}"
    dialog.locator("#compose-subject").fill(subject)
    dialog.locator("#compose-text").fill("Hi {{ contact.first_name }},\nhere is the plan.")
    dialog.locator("#compose-preview").click()
    expected = f"Next steps for {people['deal']['title']} {people['suffix']}"
    expect(dialog.locator("#preview-subject")).to_have_text(expected)
    expect(dialog.locator("#preview-text")).to_contain_text("Hi Ingrid,")
    # A mistake is named with its line, in the dialog.
    dialog.locator("#compose-text").fill("Hi {{ contact.frist_name }}")
    dialog.locator("#compose-preview").click()
    expect(dialog.locator("#template-error")).to_contain_text("Text, line 1")
    dialog.locator("#compose-text").fill("Hi {{ contact.first_name }},\nhere is the plan.")
    dialog.get_by_role("button", name="Send").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    message = wait_for(lambda: _received(stack, expected), 30, "the mail at the SMTP server")
    assert people["contact"]["email"] in str(message["To"])
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and "here is the plan." in text.get_content()
    # On the deal's timeline, as sent once the sender's outcome is recorded.
    for _ in range(60):
        page.reload()
        settled(page)
        if page.locator(".timeline li.mail", has_text="Sent").count():
            break
        page.wait_for_timeout(500)
    expect(page.locator(".timeline li.mail").first).to_contain_text(f"Email sent: {expected}")
    shot(page, "deal-mail-sent")


def test_a_sequence_of_two_steps_enrol_a_contact_and_see_the_step_status(page: Page, stack: Stack,
                                                                          base_url: str) -> None:
    user = f"web-seller-{uuid.uuid4().hex[:6]}"
    api = api_as(stack, base_url, "sales", user_id=user)
    people = _people(api)
    open_as(page, session_for(stack, "sales", user_id=user), "/mail-templates")
    settled(page)
    # A template, made on its screen; its mistake is refused with the line first.
    page.locator("#new-template").click()
    dialog = page.locator("dialog[open]")
    name = f"Intro {people['suffix']}"
    dialog.locator("#template-name").fill(name)
    dialog.locator("#template-subject").fill("Hello {{ contact.first_name }}")
    dialog.locator("#template-text").fill("line one\n{{ company.nmae }}")
    dialog.get_by_role("button", name="Create template").click()
    expect(dialog.locator(".error")).to_contain_text("line 2")
    dialog.locator("#template-text").fill("Hi {{ contact.first_name }} at {{ company.name }}")
    dialog.get_by_role("button", name="Create template").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    # In the list (the toast saying it was saved may name it too, for a moment).
    expect(page.locator("main").get_by_text(name, exact=True).first).to_be_visible()

    page.goto("/#/sequences")
    settled(page)
    page.locator("#new-sequence").click()
    dialog = page.locator("dialog[open]")
    dialog.locator("#sequence-name").fill(f"Welcome {people['suffix']}")
    dialog.locator("[name=window_start_hour]").fill("0")
    dialog.locator("[name=window_end_hour]").fill("24")
    dialog.locator("[name=business_days_only]").select_option("false")
    dialog.locator("#add-step").click()
    rows = dialog.locator(".step-row")
    expect(rows).to_have_count(2)
    for n in range(2):
        rows.nth(n).locator("[name=template_id]").select_option(label=name)
    rows.nth(1).locator("[name=delay_days]").fill("0")
    dialog.get_by_role("button", name="Create sequence").click()
    page.wait_for_url("**/#/sequences/*")
    settled(page)
    expect(page.locator("#sequence-step-list li")).to_have_count(2)

    page.locator("#enrol").click()
    page.locator("dialog[open] #enrol-contact").select_option(people["contact"]["id"])
    page.locator("dialog[open]").get_by_role("button", name="Enrol").click()
    expect(page.locator("dialog[open]")).to_have_count(0)
    row = page.locator("tr[data-enrolment-id]")
    for _ in range(60):
        page.reload()
        settled(page)
        if row.locator("[data-status=sent]").count() == 2:
            break
        page.wait_for_timeout(500)
    expect(row.locator("li [data-status=sent]")).to_have_count(2)
    expect(row.locator("td").nth(1)).to_contain_text("Completed")
    assert wait_for(lambda: _received(stack, "Hello Ingrid"), 10, "the sequence's mail")
    shot(page, "sequence-steps-sent")

    # The contact page: the enrolment, the mails on the timeline, consent recorded with its source.
    page.goto(f"/#/contacts/{people['contact']['id']}")
    settled(page)
    expect(page.locator("#consent-status")).to_contain_text("Unknown")
    expect(page.locator(".timeline li.mail")).to_have_count(2)
    page.locator("#record-consent").click()
    dialog = page.locator("dialog[open]")
    dialog.locator("[name=status]").select_option("withdrawn")
    dialog.locator("[name=source]").fill("asked by phone")
    dialog.get_by_role("button", name="Record").click()
    expect(page.locator("#consent-source")).to_have_text("asked by phone")
    expect(page.locator("#consent-status")).to_contain_text("Withdrawn")
    shot(page, "contact-consent")
