"""Reading what the session's embedded SMTP server kept (one .eml file per message, named after its Message-ID),
and the data the mail tests share."""

import uuid
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from devstack.stack import Stack
from tests.crm.helpers import suffix
from tests.support import Api, wait_for


def mail_dir(stack: Stack) -> Path:
    assert stack.smtp is not None, "the mail tests read the embedded SMTP server's files"
    return stack.smtp.mail_dir


def eml_files(stack: Stack, message_id: str) -> list[Path]:
    """The files of one Message-ID (more than one: it was delivered more than once)."""
    bare = message_id.strip("<>")
    return sorted(p for p in mail_dir(stack).glob("*.eml") if p.name.endswith(f"-{bare}.eml"))


def parse(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def delivered(stack: Stack, message_id: str, timeout: float = 30) -> EmailMessage:
    """The message once the SMTP server kept it, exactly once."""
    files = wait_for(lambda: eml_files(stack, message_id) or None, timeout, f"{message_id} delivered")
    assert len(files) == 1, f"{message_id} delivered {len(files)} times"
    return parse(files[0])


def parts(message: EmailMessage) -> tuple[str, str | None]:
    """The text and the HTML part."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    return text.get_content(), html.get_content() if html is not None else None


def wait_mail_status(api: Api, mail_id: str, status: str = "sent", timeout: float = 30) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        mail: dict[str, Any] = api.ok("GET", f"/api/crm/mails/{mail_id}")
        return mail if mail["status"] == status else None

    return wait_for(probe, timeout, f"mail {mail_id} {status}", interval=0.2)


def person(api: Api, *, time_zone: str | None = None, country: str | None = None) -> dict[str, Any]:
    """A company and a contact at it, with an address of their own."""
    s = suffix()
    company: dict[str, Any] = api.ok("POST", "/api/crm/companies", 201, json={
        "name": f"Northwind {s}", "domain": f"northwind-{s}.example",
        **({"country": country} if country else {}), **({"time_zone": time_zone} if time_zone else {})})
    contact: dict[str, Any] = api.ok("POST", "/api/crm/contacts", 201, json={
        "first_name": "Jana", "last_name": f"Novak {s}", "email": f"jana-{s}@northwind-{s}.example",
        "company_id": company["id"]})
    return {"company": company, "contact": contact}


def template(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": f"Template {uuid.uuid4().hex[:8]}", "subject": "Hello {{ contact.first_name }}",
            "text": "Hi {{ contact.first_name }},\nabout {{ company.name }}.\n{{ owner.name }}",
            "html": "<p>Hi {{ contact.first_name }},</p><p>about {{ company.name }}.</p>", **fields}
    created: dict[str, Any] = api.ok("POST", "/api/crm/mail-templates", 201, json=body)
    return created
