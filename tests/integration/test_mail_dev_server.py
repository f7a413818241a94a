"""The embedded SMTP server of `make run` and the tests (devstack/smtp.py), on its own: what it keeps, what it
refuses, and that it does not outlive the process that started it."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import aiosmtplib
import pytest

from devstack.smtp import EmbeddedSmtp
from throughline_platform.mail.mailbox import list_received, received_files
from throughline_platform.mail.messages import build_message


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedSmtp]:
    smtp = EmbeddedSmtp(tmp_path / "mail", tmp_path / "smtp.log")
    smtp.start()
    yield smtp
    smtp.stop()


async def send(server: EmbeddedSmtp, recipients: list[str], subject: str) -> None:
    message = build_message(sender="billing@studio.example", to=recipients[:1], subject=subject, text="Hello.\n")
    await aiosmtplib.send(message.as_bytes(), sender="billing@studio.example", recipients=recipients,
                          hostname=server.host, port=server.port, start_tls=False, local_hostname="test")


async def test_each_message_is_kept_in_order_as_an_eml_file_named_after_it(server: EmbeddedSmtp) -> None:
    for number in range(3):
        await send(server, ["ann@client.example", "bcc@studio.example"], f"number {number}")
    files = received_files(server.mail_dir)
    assert [path.name.split("-")[1] for path in reversed(files)] == ["000001", "000002", "000003"]
    assert not [p for p in server.mail_dir.iterdir() if p.name.startswith(".")]  # no temporary file left
    newest = BytesParser(policy=policy.default).parsebytes(files[0].read_bytes())
    assert newest["Subject"] == "number 2"
    assert newest["Message-ID"].strip("<>") in files[0].name
    assert newest["X-RcptTo"] == "ann@client.example, bcc@studio.example"  # the envelope, Bcc included
    assert [m.subject for m in list_received(server.mail_dir)] == ["number 2", "number 1", "number 0"]


async def test_a_restarted_server_numbers_on_from_what_it_kept(server: EmbeddedSmtp) -> None:
    await send(server, ["ann@client.example"], "before")
    server.stop()
    server.start()
    await send(server, ["ann@client.example"], "after")
    assert [path.name.split("-")[1] for path in received_files(server.mail_dir)] == ["000002", "000001"]


async def test_the_reserved_domains_refuse_for_good_or_for_now(server: EmbeddedSmtp) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as bounced:
        await send(server, ["nobody@bounce.invalid"], "x")
    assert bounced.value.recipients[0].code == 550
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as deferred:
        await send(server, ["busy@defer.invalid"], "x")
    assert deferred.value.recipients[0].code == 451
    assert received_files(server.mail_dir) == []


def test_the_server_stops_by_itself_when_whoever_started_it_dies(tmp_path: Path) -> None:
    starter = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from devstack.smtp import EmbeddedSmtp; "
        "s = EmbeddedSmtp(Path(sys.argv[1]) / 'mail', Path(sys.argv[1]) / 'smtp.log'); s.start(); "
        "print(s.process.pid, flush=True); time.sleep(600)"), str(tmp_path)], stdout=subprocess.PIPE)
    server_pid = 0
    try:
        assert starter.stdout is not None
        server_pid = int(starter.stdout.readline())
        starter.kill()  # SIGKILL: no teardown
        starter.wait()
        deadline = time.monotonic() + 10
        while _alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(server_pid), "the SMTP server outlived the process that started it"
    finally:
        starter.kill()
        starter.wait()
        if _alive(server_pid):
            os.kill(server_pid, signal.SIGKILL)  # a failed run must not leak


def _alive(pid: int) -> bool:
    if not pid:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"
