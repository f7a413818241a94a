"""Invoices a client receives by mail, through the gateway, on real parts: the ERP stages the mail in its outbox,
the scheduler's sender hands it to the stack's embedded SMTP server (aiosmtpd, which keeps an `.eml` per message),
and the tests read what arrived with the standard library's parser and pypdf. The link in the mail opens the
client's page without a login; a forged, altered or expired one opens nothing. Reminders go the same way, and a
client's pause holds them back."""

import io
import uuid
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from devstack.stack import Stack
from tests.erp_billing.helpers import fixed, issued, line, overdue_by, today
from tests.erp_billing.test_documents import IBAN, SELLER
from tests.support import Api, wait_for
from throughline_platform.mail.links import LinkSigner
from throughline_platform.mail.mailbox import parse_eml, received_files


@pytest.fixture(scope="module")
def seller(finance: Api) -> dict[str, Any]:
    profile: dict[str, Any] = finance.ok("PUT", "/api/erp/settings/company", json=SELLER)
    return profile


def client_project(admin: Api, email: str | None) -> dict[str, Any]:
    """A project whose client (a CRM company) has this billing e-mail, or none."""
    suffix = uuid.uuid4().hex[:8]
    body: dict[str, Any] = {"name": f"Client {suffix}", "domain": f"client-{suffix}.example"}
    if email:
        body["email"] = email
    company = admin.ok("POST", "/api/crm/companies", 201, json=body)
    deal = admin.new_deal(company["id"], amount="5000.00", billing=fixed(1, today() + timedelta(days=400)))
    admin.ok("POST", f"/api/crm/deals/{deal['id']}/win")
    return {**admin.project_of(deal["id"]), "crm_company_id": company["id"]}


def received(stack: Stack, message_id: str, timeout: float = 20) -> EmailMessage:
    """The message the embedded SMTP server kept under this Message-ID (waits for it)."""
    mail_dir: Path = stack.var_dir / "mail"
    ident = message_id.strip("<>")

    def found() -> EmailMessage | None:
        for path in received_files(mail_dir):
            if ident in path.name:
                return parse_eml(path.read_bytes())
        return None

    return wait_for(found, timeout, f"the mail {message_id} at the SMTP server")


def copies(stack: Stack, message_id: str) -> int:
    ident = message_id.strip("<>")
    return sum(ident in path.name for path in received_files(stack.var_dir / "mail"))


def pdf_attachment(message: EmailMessage) -> tuple[str, bytes]:
    parts = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert len(parts) == 1, [p.get_content_type() for p in message.iter_attachments()]
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    return parts[0].get_filename() or "", payload


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def mail_status(api: Api, invoice_id: str, mail_id: str, timeout: float = 20) -> str:
    def final() -> str | None:
        mails = api.ok("GET", f"/api/erp/invoices/{invoice_id}/mails")
        status = next(m["status"] for m in mails if m["id"] == mail_id)
        return status if status != "queued" else None

    return wait_for(final, timeout, "the mail's outcome on the invoice's history")


def public(stack: Stack) -> httpx.Client:
    """A browser with no login: the client's."""
    return httpx.Client(base_url=f"http://127.0.0.1:{stack.ports.gateway}", timeout=30)


def test_a_sent_invoice_reaches_the_smtp_server_with_its_pdf_and_its_history_says_sent(
        stack: Stack, admin: Api, finance: Api, seller: dict[str, Any]) -> None:
    project = client_project(admin, "accounts@client.example")
    invoice = issued(finance, project, [line("Design", "2", "450.00")])
    assert invoice["public_url"] is None

    sent = finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/send", 202)
    assert sent["status"] == "queued" and sent["to_addresses"] == ["accounts@client.example"]
    assert sent["subject"] == f"Invoice {invoice['number']} from {SELLER['legal_name']}"

    message = received(stack, sent["message_id"])
    assert message["Message-ID"] == sent["message_id"]
    assert "accounts@client.example" in str(message["To"])
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert invoice["number"] in text and invoice["payment_reference"] in text and sent["public_url"] in text
    filename, pdf = pdf_attachment(message)
    assert filename == f"{invoice['number']}.pdf"
    printed = pdf_text(pdf)
    assert invoice["number"] in printed and SELLER["legal_name"] in printed
    # The very bytes the ERP keeps as the invoice's document.
    assert pdf == finance.client.get(f"/api/erp/invoices/{invoice['id']}/pdf").content

    assert mail_status(finance, invoice["id"], sent["id"]) == "sent"
    after = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")
    assert after["public_url"] == sent["public_url"] and after["sent_at"]
    # invoice.sent on the CRM company's timeline.
    facts = wait_for(lambda: [f for f in admin.ok("GET", "/api/crm/erp-facts",
                                                   params={"company_id": project["crm_company_id"]})
                              if f["kind"] == "invoice.sent"] or None, 20, "invoice.sent on the CRM timeline")
    assert invoice["number"] in facts[0]["summary"] and "accounts@client.example" in facts[0]["summary"]
    assert copies(stack, sent["message_id"]) == 1


def test_a_bounce_is_on_the_invoices_history_and_the_crm_timeline(
        stack: Stack, admin: Api, finance: Api, seller: dict[str, Any]) -> None:
    """The embedded SMTP server refuses mail to bounce.invalid for good (550), as a real recipient's server would."""
    project = client_project(admin, f"ap-{uuid.uuid4().hex[:8]}@client.example")
    invoice = issued(finance, project, [line("Design", "1", "300.00")])
    sent = finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/send", 202, json={"to": ["nobody@bounce.invalid"]})

    assert mail_status(finance, invoice["id"], sent["id"]) == "bounced"
    history = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}/mails")
    assert "550" in next(m["error"] for m in history if m["id"] == sent["id"])
    facts = wait_for(lambda: [f for f in admin.ok("GET", "/api/crm/erp-facts",
                                                   params={"company_id": project["crm_company_id"]})
                              if f["kind"] == "invoice.delivery_failed"] or None, 20,
                     "invoice.delivery_failed on the CRM timeline")
    assert len(facts) == 1
    summary = facts[0]["summary"]
    assert invoice["number"] in summary and "nobody@bounce.invalid" in summary and "refused" in summary
    assert copies(stack, sent["message_id"]) == 0


def test_recipients_subject_and_body_may_be_given(stack: Stack, admin: Api, finance: Api,
                                                  seller: dict[str, Any]) -> None:
    project = client_project(admin, None)
    invoice = issued(finance, project, [line("Build", "1", "300.00")])
    sent = finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/send", 202, json={
        "to": ["Ada Quill <ada@client.example>", "ap@client.example"], "subject": "Your invoice",
        "body": "Hello Ada,\n\nhere it is.\n"})
    message = received(stack, sent["message_id"])
    assert str(message["Subject"]) == "Your invoice"
    assert sorted(sent["to_addresses"]) == ["ada@client.example", "ap@client.example"]
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None and "here it is." in plain.get_content()
    pdf_attachment(message)


def test_a_draft_a_client_without_an_email_and_a_bad_address_are_refused_and_nothing_is_queued(
        stack: Stack, admin: Api, finance: Api, seller: dict[str, Any]) -> None:
    project = client_project(admin, None)
    draft = finance.ok("POST", "/api/erp/invoices", 201, json={"project_id": project["id"], "lines": [line()]})
    refused = finance.client.post(f"/api/erp/invoices/{draft['id']}/send")
    assert refused.status_code == 409 and refused.json()["type"].endswith("invoice-not-issued"), refused.text

    invoice = issued(finance, project, [line()])
    no_one = finance.client.post(f"/api/erp/invoices/{invoice['id']}/send", json={})
    assert no_one.status_code == 422 and no_one.json()["type"].endswith("no-recipient"), no_one.text
    bad = finance.client.post(f"/api/erp/invoices/{invoice['id']}/send", json={"to": ["not an address"]})
    assert bad.status_code == 422 and "to[0]" in bad.json()["detail"], bad.text
    assert finance.ok("GET", f"/api/erp/invoices/{invoice['id']}/mails") == []
    assert finance.ok("GET", f"/api/erp/invoices/{invoice['id']}")["public_url"] is None
    with_sales = admin.client.post(f"/api/erp/invoices/{uuid.uuid4()}/send", json={"to": ["a@b.example"]})
    assert with_sales.status_code == 404


def test_a_template_that_does_not_work_is_refused_naming_the_line_and_a_saved_one_is_used(
        stack: Stack, admin: Api, finance: Api, seller: dict[str, Any]) -> None:
    unknown = finance.client.put("/api/erp/mail-templates/invoice", json={
        "subject": "Invoice {{ invoice.number }}", "body": "Dear {{ client.name }},\n\n{{ invoice.totl }}\n"})
    assert unknown.status_code == 422, unknown.text
    assert "body, line 3" in unknown.json()["detail"] and "invoice.totl" in unknown.json()["detail"]
    broken = finance.client.put("/api/erp/mail-templates/invoice", json={
        "subject": "Invoice", "body": "Hello\n{% if client.name %}\nno end\n"})
    assert broken.status_code == 422 and "body, line" in broken.json()["detail"], broken.text
    assert finance.client.put("/api/erp/mail-templates/nope", json={"subject": "a", "body": "b"}).status_code == 404

    source = {"subject": "{{ company.name }}: invoice {{ invoice.number }}",
              "body": "Dear {{ client.name }},\n{{ invoice.amount_due }} by {{ invoice.due_date }}.\n"
                      "{{ public_url }}\n"}
    project = client_project(admin, "billing@client.example")
    invoice = issued(finance, project, [line("Design", "1", "250.00")])
    preview = finance.ok("POST", "/api/erp/mail-templates/invoice/preview", json={**source,
                                                                                  "invoice_id": invoice["id"]})
    assert preview["subject"] == f"{SELLER['legal_name']}: invoice {invoice['number']}"
    assert "250.00 EUR" in preview["body"]
    try:
        saved = finance.ok("PUT", "/api/erp/mail-templates/invoice", json=source)
        assert saved["is_default"] is False and "invoice.amount_due" in saved["variables"]
        draft = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}/mail-draft")
        assert draft["to"] == ["billing@client.example"] and draft["subject"] == preview["subject"]
        sent = finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/send", 202)
        assert sent["subject"] == preview["subject"]
        received(stack, sent["message_id"])
    finally:
        finance.ok("DELETE", "/api/erp/mail-templates/invoice")
    templates = finance.ok("GET", "/api/erp/mail-templates")
    assert [t["key"] for t in templates] == ["invoice", "reminder-1", "reminder-2", "reminder-3"]
    assert all(t["is_default"] for t in templates)


def test_the_link_in_the_mail_opens_the_clients_page_and_a_forged_or_expired_one_shows_nothing(
        stack: Stack, admin: Api, finance: Api, seller: dict[str, Any]) -> None:
    project = client_project(admin, "pay@client.example")
    invoice = issued(finance, project, [line("Hosting", "1", "120.00")])
    sent = finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/send", 202)
    message = received(stack, sent["message_id"])
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None
    link = next(word for word in plain.get_content().split() if "/api/erp/public/invoices/" in word)
    path = link[link.index("/api/erp/public/"):]
    token = path.rsplit("/", 1)[1]

    with public(stack) as browser:
        page = browser.get(path)
        assert page.status_code == 200, page.text
        html = page.text
        assert invoice["number"] in html and invoice["payment_reference"] in html and "120.00 EUR" in html
        grouped = " ".join(IBAN[i:i + 4] for i in range(0, len(IBAN), 4))
        assert grouped in html and "COBADEFFXXX" in html
        assert "default-src 'none'" in page.headers["content-security-policy"]
        pdf = browser.get(f"{path}/pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert invoice["number"] in pdf_text(pdf.content)

        altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
        forged = LinkSigner("x" * 40).sign("invoice", uuid.UUID(invoice["id"]), timedelta(days=1))
        other_purpose = LinkSigner(stack.link_secrets()["ERP_LINK_SECRET"]).sign(
            "unsubscribe", uuid.UUID(invoice["id"]), timedelta(days=1))
        for bad in (altered, forged, other_purpose):
            for suffix in ("", "/pdf"):
                answer = browser.get(f"/api/erp/public/invoices/{bad}{suffix}")
                assert answer.status_code == 403, (bad, suffix, answer.text)
                assert invoice["number"] not in answer.text and "%PDF" not in answer.text
        expired = LinkSigner(stack.link_secrets()["ERP_LINK_SECRET"]).sign(
            "invoice", uuid.UUID(invoice["id"]), datetime.now(UTC) - timedelta(seconds=1))
        for suffix in ("", "/pdf"):
            answer = browser.get(f"/api/erp/public/invoices/{expired}{suffix}")
            assert answer.status_code == 410, answer.text
            assert invoice["number"] not in answer.text and "expired" in answer.text


def test_reminders_go_by_mail_with_the_invoice_attached_and_a_clients_pause_holds_them(
        stack: Stack, admin: Api, finance: Api, seller: dict[str, Any]) -> None:
    project = client_project(admin, "late@client.example")
    client_id = project["client_id"]
    invoice = issued(finance, project, [line("Retainer", "1", "800.00")], payment_terms_days=0)
    scope = {"as_of": today().isoformat(), "invoice_id": invoice["id"]}
    overdue_by(stack, invoice["id"], 4)

    bad = finance.client.put(f"/api/erp/clients/{client_id}/reminder-pause", json={"reason": "promise"})
    assert bad.status_code == 422, bad.text  # a promise names its day
    paused = finance.ok("PUT", f"/api/erp/clients/{client_id}/reminder-pause", json={
        "reason": "promise", "until": (today() + timedelta(days=5)).isoformat(), "note": "Pays on the 10th"})
    assert paused["reminder_pause"] == "promise"
    assert finance.ok("POST", "/api/erp/reminder-runs", json=scope)["reminders"] == []
    finance.ok("PUT", f"/api/erp/clients/{client_id}/reminder-pause", json={"reason": "dispute"})
    assert finance.ok("POST", "/api/erp/reminder-runs", json=scope)["reminders"] == []
    # A promise whose day has passed holds nothing back.
    finance.ok("PUT", f"/api/erp/clients/{client_id}/reminder-pause", json={
        "reason": "promise", "until": (today() - timedelta(days=1)).isoformat()})
    reminders = finance.ok("POST", "/api/erp/reminder-runs", json=scope)["reminders"]
    assert [(r["step"], r["channel"], r["delivery_status"]) for r in reminders] == [(1, "email", "queued")]
    resumed = finance.ok("DELETE", f"/api/erp/clients/{client_id}/reminder-pause")
    assert resumed["reminder_pause"] is None

    mails = finance.ok("GET", f"/api/erp/invoices/{invoice['id']}/mails")
    assert [(m["kind"], m["reminder_id"]) for m in mails] == [("reminder", reminders[0]["id"])]
    message = received(stack, mails[0]["message_id"])
    assert str(message["Subject"]) == reminders[0]["subject"] and invoice["number"] in reminders[0]["subject"]
    filename, pdf = pdf_attachment(message)
    assert filename == f"{invoice['number']}.pdf" and invoice["number"] in pdf_text(pdf)

    def delivered() -> dict[str, Any] | None:
        items = finance.ok("GET", "/api/erp/reminders", params={"invoice_id": invoice["id"]})["items"]
        return items[0] if items and items[0]["delivery_status"] != "queued" else None

    reminder = wait_for(delivered, 20, "the reminder's outcome")
    assert reminder["delivery_status"] == "sent" and reminder["sent_at"]


def test_a_reminder_template_per_step(stack: Stack, admin: Api, finance: Api, seller: dict[str, Any]) -> None:
    unknown = finance.client.put("/api/erp/mail-templates/reminder-1", json={
        "subject": "Step {{ reminder.stepp }}", "body": "x"})
    assert unknown.status_code == 422 and "subject, line 1" in unknown.json()["detail"], unknown.text
    project = client_project(admin, "steps@client.example")
    invoice = issued(finance, project, [line("Support", "1", "90.00")], payment_terms_days=0)
    overdue_by(stack, invoice["id"], 3)
    finance.ok("PUT", "/api/erp/mail-templates/reminder-1", json={
        "subject": "Friendly nudge: {{ invoice.number }}",
        "body": "Hi {{ client.name }}, {{ invoice.balance_due }} is {{ reminder.days_overdue }} days late.\n"})
    try:
        reminders = finance.ok("POST", "/api/erp/reminder-runs", json={"as_of": today().isoformat(),
                                                                       "invoice_id": invoice["id"]})["reminders"]
    finally:
        finance.ok("DELETE", "/api/erp/mail-templates/reminder-1")
    assert reminders[0]["subject"] == f"Friendly nudge: {invoice['number']}"
    assert "90.00 EUR is 3 days late" in reminders[0]["body"]


def test_the_sent_mail_page_lists_what_the_embedded_smtp_server_kept_for_admins_only(
        stack: Stack, admin: Api, finance: Api, seller: dict[str, Any]) -> None:
    project = client_project(admin, "listed@client.example")
    invoice = issued(finance, project, [line("Audit", "1", "75.00")])
    sent = finance.ok("POST", f"/api/erp/invoices/{invoice['id']}/send", 202)
    received(stack, sent["message_id"])
    assert finance.client.get("/api/mail/sent").status_code == 403
    page = admin.ok("GET", "/api/mail/sent", params={"limit": 200})
    mail = next(m for m in page["items"] if m["message_id"] == sent["message_id"])
    assert mail["to"] == ["listed@client.example"] and mail["attachments"] == [f"{invoice['number']}.pdf"]
    detail = admin.ok("GET", f"/api/mail/sent/{mail['name']}")
    assert invoice["number"] in detail["text"] and detail["parts"][0]["content_type"] == "application/pdf"
    raw = admin.client.get(f"/api/mail/sent/{mail['name']}/raw")
    assert raw.status_code == 200 and parse_eml(raw.content)["Message-ID"] == sent["message_id"]
    assert admin.client.get("/api/mail/sent/..%2Fkeys").status_code == 404
    assert admin.client.get("/api/mail/sent/nothing-here.eml").status_code == 404


def test_the_erp_workers_readiness_includes_its_mail_sender(stack: Stack) -> None:
    ready = httpx.get(f"http://127.0.0.1:{stack.ports.erp_worker}/health/ready", timeout=10).json()
    mail = ready["components"]["mail"]
    assert mail["ok"] is True, mail
    assert {"queued", "sending", "unrecorded_outcomes"} <= set(mail), mail
