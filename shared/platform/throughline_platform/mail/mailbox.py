"""The development mailbox: every message the embedded SMTP server received, one `.eml` file each.

`make run` and the tests start an SMTP server (`devstack.smtp`) that writes here, `$THROUGHLINE_VAR/mail/`; the
gateway's admin-only "Sent mail" page lists it with `list_received` and shows one with `read_received`. Only
the standard library: the server imports this module, and nothing else of the mail package.

A file is named `<received, UTC>-<sequence>-<Message-ID>.eml` (`20261207T101502.123456Z-000042-3f2a...@studio
.example.eml`), so that a directory listing is in the order received and shows which message each file is. It
is written under a temporary name (starting with a dot) and renamed, so a reader never sees half a message.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

SUFFIX = ".eml"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=-]")
_NAME = re.compile(r"^(\d{8}T\d{6}\.\d{6}Z)-(\d{6,})-[A-Za-z0-9._@+=-]*\.eml$")


def eml_file_name(received_at: datetime, sequence: int, message_id: str | None) -> str:
    stamp = received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    ident = _UNSAFE.sub("_", (message_id or "no-message-id").strip().strip("<>"))[:120]
    return f"{stamp}-{sequence:06d}-{ident}{SUFFIX}"


def last_sequence(directory: Path) -> int:
    """The highest sequence number in `directory` (0 if none): a restarted server continues after it."""
    highest = 0
    if directory.is_dir():
        for path in directory.iterdir():
            match = _NAME.match(path.name)
            if match:
                highest = max(highest, int(match.group(2)))
    return highest


def write_eml(directory: Path, data: bytes, *, sequence: int, message_id: str | None,
              received_at: datetime | None = None) -> Path:
    """Write one received message atomically (a temporary name, then a rename in the same directory)."""
    name = eml_file_name(received_at or datetime.now(UTC), sequence, message_id)
    final = directory / name
    temporary = directory / f".{name}.tmp"
    with temporary.open("wb") as out:
        out.write(data)
    temporary.replace(final)
    return final


@dataclass(frozen=True)
class ReceivedMail:
    name: str  # the file name, what `read_received` takes
    received_at: datetime
    message_id: str | None
    sender: str
    # Where the server delivered it: the envelope recipients the server recorded (Bcc included), else To.
    to: tuple[str, ...]
    subject: str
    date: datetime | None  # the message's own Date header
    attachments: tuple[str, ...]  # file names
    size: int  # bytes


def received_files(directory: Path) -> list[Path]:
    """The `.eml` files, newest first."""
    if not directory.is_dir():
        return []
    return sorted((p for p in directory.iterdir() if _NAME.match(p.name)), key=lambda p: p.name, reverse=True)


def list_received(directory: Path, *, limit: int = 50, offset: int = 0) -> list[ReceivedMail]:
    """One page of the received messages, newest first, parsed with the standard library."""
    return [_summary(path) for path in received_files(directory)[offset:offset + limit]]


def read_received(directory: Path, name: str) -> EmailMessage:
    """One received message, by its file name (a name of this directory's, never a path)."""
    if not _NAME.match(name):
        raise FileNotFoundError(name)
    return parse_eml((directory / name).read_bytes())


def parse_eml(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)  # what policy.default makes
    return message


def _summary(path: Path) -> ReceivedMail:
    data = path.read_bytes()
    message = parse_eml(data)
    match = _NAME.match(path.name)
    assert match is not None
    received_at = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    try:
        date = parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    recipients = message.get_all("X-RcptTo") or message.get_all("To") or []
    to = tuple(address for _, address in getaddresses([str(v) for v in recipients]) if address)
    return ReceivedMail(
        name=path.name, received_at=received_at, message_id=str(message["Message-ID"] or "") or None,
        sender=str(message["From"] or ""), to=to, subject=str(message["Subject"] or ""), date=date,
        attachments=tuple(part.get_filename() or "" for part in message.iter_attachments()), size=len(data))
