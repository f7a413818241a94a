"""Building a message with the standard library's `email` package: text and HTML alternatives, attachments, a
stable Message-ID, and headers such as RFC 8058's one-click unsubscribe."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr

from throughline_platform.mail.outbox import MailCause, OutgoingMail

# CRLF line ends as SMTP wants them, and 7-bit transfer encodings (quoted-printable, base64) for anything that is
# not ASCII, so that every server takes the message whether or not it offers 8BITMIME.
SMTP_7BIT = policy.SMTP.clone(cte_type="7bit")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def new_message_id(domain: str) -> str:
    """A globally unique Message-ID on our own domain (the sender's), angle brackets included."""
    return f"<{uuid.uuid4().hex}@{domain}>"


def domain_of(address: str) -> str:
    """The domain of an address (`Billing <billing@studio.example>` -> `studio.example`)."""
    _, addr_spec = parseaddr(address)
    if "@" not in addr_spec:
        raise ValueError(f"not an e-mail address: {address!r}")
    return addr_spec.rsplit("@", 1)[1]


def build_message(*, sender: str, to: Sequence[str], subject: str, text: str, html: str | None = None,
                  attachments: Sequence[Attachment] = (), cc: Sequence[str] = (), reply_to: str | None = None,
                  message_id: str | None = None, unsubscribe_url: str | None = None,
                  headers: Mapping[str, str] | None = None, date: datetime | None = None) -> EmailMessage:
    """A message with a plain-text part, an HTML alternative if given, and the attachments.

    `unsubscribe_url` (an https URL that unsubscribes on a POST, with no further step) adds RFC 8058's
    `List-Unsubscribe` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, which mail clients show as an
    unsubscribe button. Line breaks in the subject become spaces: a rendered subject cannot inject headers."""
    if not to:
        raise ValueError("a message needs at least one recipient")
    message = EmailMessage(policy=SMTP_7BIT)
    message["Message-ID"] = message_id or new_message_id(domain_of(sender))
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["From"] = sender
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if reply_to:
        message["Reply-To"] = reply_to
    message["Subject"] = " ".join(subject.split())
    if unsubscribe_url is not None:
        if not unsubscribe_url.startswith("https://") and not unsubscribe_url.startswith("http://"):
            raise ValueError("an unsubscribe link must be an http(s) URL (RFC 8058)")
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)
    return message


def outgoing_mail(message: EmailMessage, cause: MailCause, *, bcc: Sequence[str] = ()) -> OutgoingMail:
    """The message as it will be staged: its bytes, and the envelope taken from its headers (From; To, Cc and
    `bcc`, which is not written into the message)."""
    message_id = message["Message-ID"]
    if not message_id:
        raise ValueError("the message has no Message-ID")
    _, mail_from = parseaddr(str(message["From"]))
    recipients = tuple(dict.fromkeys(
        address for _, address in getaddresses([str(value) for value in
                                                 [*message.get_all("To", []), *message.get_all("Cc", []), *bcc]])
        if address))
    if not mail_from or not recipients:
        raise ValueError("the message needs a From and at least one recipient")
    return OutgoingMail(message_id=str(message_id), mail_from=mail_from, recipients=recipients,
                        subject=str(message["Subject"] or ""), message=message.as_bytes(policy=SMTP_7BIT),
                        cause=cause)


def mailbox(name: str, address: str) -> str:
    """`Name <address>`, quoted as needed (`mailbox("Studio, Inc.", "a@b.example")`)."""
    local, _, domain = address.partition("@")
    return str(Address(display_name=name, username=local, domain=domain))
