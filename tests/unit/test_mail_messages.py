"""Building messages (stdlib email), what the sender makes of SMTP errors, the development mailbox's files, and
the mail settings a service mixes in."""

import uuid
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPDataError,
    SMTPNotSupported,
    SMTPReadTimeoutError,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPSenderRefused,
    SMTPServerDisconnected,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from throughline_platform.mail.mailbox import eml_file_name, list_received, read_received, write_eml
from throughline_platform.mail.messages import Attachment, build_message, mailbox, outgoing_mail
from throughline_platform.mail.outbox import MailCause
from throughline_platform.mail.sender import Disposition, classify
from throughline_platform.mail.settings import MailSettings

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
CAUSE = MailCause("invoice", uuid.UUID("11111111-2222-3333-4444-555555555555"))


def test_a_message_has_text_and_html_alternatives_and_its_attachment_intact() -> None:
    message = build_message(sender=mailbox("Studio, Inc.", "billing@studio.example"),
                            to=["Ann Müller <ann@client.example>"], cc=["cfo@client.example"],
                            subject="Rechnung 2026-0042 für\r\nBcc: evil@example.com", text="Grüße,\n.\nStudio\n",
                            html="<p>Grüße</p>", attachments=[Attachment("2026-0042.pdf", PDF, "application/pdf")],
                            reply_to="accounts@studio.example")
    mail = outgoing_mail(message, CAUSE, bcc=["archive@studio.example"])
    assert mail.mail_from == "billing@studio.example"
    assert mail.recipients == ("ann@client.example", "cfo@client.example", "archive@studio.example")
    assert mail.message_id.startswith("<") and mail.message_id.endswith("@studio.example>")
    assert b"\r\n" in mail.message and b"\n" not in mail.message.replace(b"\r\n", b"")  # CRLF only
    assert max(mail.message) < 0x80  # 7-bit clean: any server takes it without 8BITMIME
    assert b"archive@studio.example" not in mail.message  # Bcc is envelope only

    parsed = BytesParser(policy=policy.default).parsebytes(mail.message)
    assert parsed["Message-ID"] == mail.message_id
    assert parsed["Subject"] == "Rechnung 2026-0042 für Bcc: evil@example.com"  # one header, no injection
    assert parsed["Bcc"] is None
    assert parsed["From"] == '"Studio, Inc." <billing@studio.example>'
    assert parsed["Reply-To"] == "accounts@studio.example"
    text, html = (parsed.get_body((kind,)) for kind in ("plain", "html"))
    assert text is not None and text.get_content().replace("\r\n", "\n") == "Grüße,\n.\nStudio\n"
    assert html is not None and html.get_content().strip() == "<p>Grüße</p>"
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "2026-0042.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


def test_one_click_unsubscribe_headers_follow_rfc_8058() -> None:
    message = build_message(sender="sales@studio.example", to=["ann@client.example"], subject="Hello", text="Hi",
                            unsubscribe_url="https://app.studio.example/u/TOKEN")
    assert message["List-Unsubscribe"] == "<https://app.studio.example/u/TOKEN>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    with pytest.raises(ValueError, match="http"):
        build_message(sender="sales@studio.example", to=["a@b.example"], subject="s", text="t",
                      unsubscribe_url="mailto:unsubscribe@studio.example")


def test_a_given_message_id_is_kept() -> None:
    message = build_message(sender="a@studio.example", to=["b@client.example"], subject="s", text="t",
                            message_id="<fixed@studio.example>")
    assert outgoing_mail(message, CAUSE).message_id == "<fixed@studio.example>"
    with pytest.raises(ValueError):
        build_message(sender="a@studio.example", to=[], subject="s", text="t")


def refused(*codes: int) -> SMTPRecipientsRefused:
    return SMTPRecipientsRefused([SMTPRecipientRefused(code, "no", f"r{i}@x.example") for i, code in enumerate(codes)])


@pytest.mark.parametrize(("error", "disposition"), [
    (refused(550), Disposition.BOUNCED),
    (refused(550, 553), Disposition.BOUNCED),
    (refused(550, 451), Disposition.DEFERRED),
    (refused(452), Disposition.DEFERRED),
    (SMTPDataError(554, "spam"), Disposition.BOUNCED),
    (SMTPDataError(451, "try later"), Disposition.DEFERRED),
    (SMTPDataError(421, "closing"), Disposition.UNAVAILABLE),
    (SMTPSenderRefused(552, "too big", "a@x"), Disposition.BOUNCED),
    (SMTPSenderRefused(553, "not your address", "a@x"), Disposition.UNAVAILABLE),  # our configuration
    (SMTPSenderRefused(451, "later", "a@x"), Disposition.DEFERRED),
    (SMTPSenderRefused(421, "closing", "a@x"), Disposition.UNAVAILABLE),
    (SMTPAuthenticationError(535, "bad credentials"), Disposition.UNAVAILABLE),
    (SMTPServerDisconnected("gone mid-message"), Disposition.DEFERRED),
    (SMTPReadTimeoutError("hung mid-message"), Disposition.DEFERRED),
    (SMTPNotSupported("SMTPUTF8"), Disposition.FAILED),
    (ValueError("address cannot be sent"), Disposition.FAILED),
])
def test_what_an_smtp_error_means_for_the_message(error: Exception, disposition: Disposition) -> None:
    assert classify(error) is disposition


def test_a_bug_is_not_taken_for_an_smtp_answer() -> None:
    with pytest.raises(KeyError):
        classify(KeyError("a bug"))


def test_the_mailbox_lists_newest_first_and_parses_with_the_stdlib(tmp_path: Path) -> None:
    for sequence, (subject, hour) in enumerate([("first", 9), ("second", 10), ("third", 11)], start=1):
        message = build_message(sender="billing@studio.example", to=[f"{subject}@client.example"], subject=subject,
                                text="t", attachments=[Attachment("a.pdf", PDF, "application/pdf")] if hour == 10
                                else [])
        write_eml(tmp_path, message.as_bytes(), sequence=sequence, message_id=message["Message-ID"],
                  received_at=datetime(2026, 12, 7, hour, tzinfo=UTC))
    (tmp_path / ".half-written.eml.tmp").write_bytes(b"From: x")  # a write in progress is never listed
    listed = list_received(tmp_path)
    assert [m.subject for m in listed] == ["third", "second", "first"]
    assert listed[1].attachments == ("a.pdf",)
    assert listed[0].to == ("third@client.example",)
    assert listed[0].name.startswith("20261207T110000.000000Z-000003-")
    assert listed[0].message_id is not None and listed[0].message_id.strip("<>") in listed[0].name
    assert [m.subject for m in list_received(tmp_path, limit=1, offset=1)] == ["second"]
    assert read_received(tmp_path, listed[2].name)["Subject"] == "first"
    with pytest.raises(FileNotFoundError):
        read_received(tmp_path, "../../etc/passwd")
    assert list_received(tmp_path / "missing") == []


def test_file_names_keep_only_safe_characters() -> None:
    name = eml_file_name(datetime(2026, 12, 7, tzinfo=UTC), 7, "<a/b\\c d@x.example>")
    assert name == "20261207T000000.000000Z-000007-a_b_c_d@x.example.eml"


def test_smtp_settings_may_come_without_the_prefix_and_the_prefixed_one_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    class ErpLike(MailSettings):
        model_config = SettingsConfigDict(env_prefix="ERPLIKE_", extra="ignore")

    monkeypatch.setenv("SMTP_HOST", "smtp.example")
    monkeypatch.setenv("SMTP_PORT", "587")
    monkeypatch.setenv("SMTP_STARTTLS", "true")
    monkeypatch.setenv("ERPLIKE_SMTP_PORT", "2525")
    monkeypatch.setenv("SMTP_FROM", "not-for-us@example.com")  # each service's own: never read unprefixed
    monkeypatch.setenv("ERPLIKE_LINK_SECRET", "k" * 32)
    settings = ErpLike(database_url="postgresql+asyncpg://x/y")
    smtp = settings.smtp()
    assert (smtp.host, smtp.port, smtp.security) == ("smtp.example", 2525, "starttls")
    assert settings.smtp_from == "Throughline <no-reply@throughline.local>"
    signer = settings.link_signer()
    assert signer.verify(signer.sign("x", CAUSE.id, datetime(2099, 1, 1, tzinfo=UTC)), "x").subject == CAUSE.id
    assert "smtp_host" in ErpLike.all_unprefixed()
    with pytest.raises(RuntimeError, match="LINK_SECRET"):
        ErpLike(database_url="x", link_secret="").link_signer()


def test_starttls_and_tls_exclude_each_other() -> None:
    with pytest.raises(ValidationError, match="exclude each other"):
        MailSettings(database_url="x", smtp_starttls=True, smtp_tls=True)
    assert MailSettings(database_url="x", smtp_tls=True).smtp().security == "tls"
    assert MailSettings(database_url="x").smtp().host is None  # not configured: the sender waits and says so


@settings(max_examples=150, deadline=None)
@given(text=st.text(min_size=0, max_size=400), html=st.none() | st.text(max_size=300),
       subject=st.text(max_size=80), contents=st.lists(st.binary(max_size=3000), max_size=3))
def test_the_fast_message_writer_writes_the_standard_librarys_bytes(text: str, html: str | None, subject: str,
                                                                   contents: list[bytes]) -> None:
    """`as_smtp_bytes` (base64 bodies in one piece, header classes made once: decision 217) against the plain path:
    the same message built with the standard library's own `add_attachment` and written by `as_bytes`."""
    from email.message import EmailMessage

    from throughline_platform.mail.messages import SMTP_7BIT, as_smtp_bytes

    attachments = [Attachment(f"part {n}.pdf", content, "application/pdf") for n, content in enumerate(contents)]
    fast = build_message(sender="Studio <billing@studio.example>", to=["ap@client.example"], subject=subject,
                         text=text, html=html, attachments=attachments, message_id="<fixed@studio.example>",
                         date=datetime(2026, 12, 7, 12, 0, tzinfo=UTC))
    plain = EmailMessage(policy=policy.SMTP.clone(cte_type="7bit"))
    for name, value in fast.items():
        if name.lower() not in ("content-type", "content-transfer-encoding", "mime-version"):
            plain[name] = value
    plain.set_content(text)
    if html is not None:
        plain.add_alternative(html, subtype="html")
    if attachments:
        plain.make_mixed(boundary=fast.get_boundary())
    for attachment in attachments:
        plain.add_attachment(attachment.content, maintype="application", subtype="pdf", filename=attachment.filename)
    assert _boundaries_named(as_smtp_bytes(fast)) == _boundaries_named(plain.as_bytes(policy=SMTP_7BIT))


def _boundaries_named(message: bytes) -> bytes:
    """The message with each MIME boundary (random, the stdlib's form) named by its order of appearance."""
    import re

    names: dict[bytes, bytes] = {}
    return re.sub(rb"={15}\d{19}==", lambda m: names.setdefault(m.group(0), b"boundary-%d" % len(names)), message)
