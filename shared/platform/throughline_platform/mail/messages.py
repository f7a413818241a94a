"""Building a message with the standard library's `email` package: text and HTML alternatives, attachments, a
stable Message-ID, and headers such as RFC 8058's one-click unsubscribe."""

import base64
import io
import secrets
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.generator import BytesGenerator
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses, parseaddr

from throughline_platform.mail.outbox import MailCause, OutgoingMail


# CRLF line ends as SMTP wants them, and 7-bit transfer encodings (quoted-printable, base64) for anything that is
# not ASCII, so that every server takes the message whether or not it offers 8BITMIME.
class _HeaderRegistry(HeaderRegistry):
    """The stdlib's header registry, making each header's class once: its own `__getitem__` builds a new class (a
    `type()` call) for every header set or counted, some 30 per message."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls


SMTP_7BIT = policy.SMTP.clone(cte_type="7bit", header_factory=_HeaderRegistry())
# The stdlib encodes an attachment in lines of max_line_length // 4 * 3 bytes (57 with SMTP's 78), one
# binascii call per line, as base64.encodebytes does in one call: the same text, without ~1,200 Python-level calls
# for a 70 kB PDF.
assert SMTP_7BIT.max_line_length is not None and SMTP_7BIT.max_line_length // 4 * 3 == 57  # base64.MAXBINSIZE


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
    if attachments:
        # Our boundary, which no part can hold: base64 has no '-', and a random one the text or HTML could only
        # hold by chance. Left to the stdlib, it is chosen while writing, with a multiline regex run over the
        # whole message (the PDF's 70 kB) to be sure.
        boundary = _boundary(text, html)
        message.make_mixed(boundary=boundary)
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        # The part's headers as the stdlib writes them (an empty content), then its base64 body encoded in one
        # call: the same text as add_attachment(content) makes (see SMTP_7BIT), a fraction of the CPU.
        message.add_attachment(b"", maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.filename)
        parts = message.get_payload()
        assert isinstance(parts, list)
        part = parts[-1]
        assert isinstance(part, Message) and part["Content-Transfer-Encoding"] == "base64"
        part.set_payload(base64.encodebytes(attachment.content).decode("ascii"))
    return message


def _boundary(*texts: str | None) -> str:
    while True:
        boundary = f"==============={secrets.randbelow(sys.maxsize):019d}=="  # as the stdlib's, less guessable
        if not any(text is not None and boundary in text for text in texts):
            return boundary


class _Generator(BytesGenerator):
    """The stdlib's generator, writing a base64 body in one piece rather than line by line (its `_write_lines`:
    two calls per 76 characters, most of the CPU of a message with a PDF). Same bytes: a base64 body's only line
    breaks are newlines, each becomes the policy's line separator, and it has nothing else to escape."""

    def _handle_text(self, msg: Message) -> None:
        payload = msg.get_payload()
        if (isinstance(payload, str) and payload.isascii() and not self._mangle_from_  # type: ignore[attr-defined]
                and str(msg.get("Content-Transfer-Encoding", "")).lower() == "base64"):
            self.write(payload.replace("\n", self._NL))  # type: ignore[attr-defined]
            return
        super()._handle_text(msg)  # type: ignore[misc]

    # What the stdlib dispatches any non-text part to (application/pdf among them): the class attribute is bound to
    # the base class's function, so it is set again here.
    _writeBody = _handle_text  # the stdlib's name


def as_smtp_bytes(message: EmailMessage) -> bytes:
    """`message.as_bytes(policy=SMTP_7BIT)`, with base64 bodies written in one piece (see `_Generator`)."""
    out = io.BytesIO()
    _Generator(out, mangle_from_=False, policy=SMTP_7BIT).flatten(message, unixfrom=False)
    return out.getvalue()


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
                        subject=str(message["Subject"] or ""), message=as_smtp_bytes(message),
                        cause=cause)


def mailbox(name: str, address: str) -> str:
    """`Name <address>`, quoted as needed (`mailbox("Studio, Inc.", "a@b.example")`)."""
    local, _, domain = address.partition("@")
    return str(Address(display_name=name, username=local, domain=domain))
