"""Reminder e-mails go out through SMTP when ERP_SMTP_HOST is set: a tiny SMTP server receives one."""

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from erp.reminders.service import _send_mail
from erp.settings import ErpSettings


class _Smtp(socketserver.StreamRequestHandler):
    received: list[bytes] = []

    def handle(self) -> None:
        self.wfile.write(b"220 test ESMTP\r\n")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                body = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    body += chunk
                self.received.append(body)
                self.wfile.write(b"250 queued\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_reminder_mail_is_sent_over_smtp(smtp_port: int) -> None:
    settings = ErpSettings(smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_from="billing@studio.example")
    _send_mail(settings, "ap@client.example", "Reminder 1: invoice INV-2026-00007 is 3 days overdue",
               "Dear Client,\n\n100.00 EUR is still open.")
    message = b"".join(_Smtp.received).decode()
    assert "To: ap@client.example" in message and "From: billing@studio.example" in message
    assert "INV-2026-00007" in message and "100.00 EUR is still open." in message


def test_unreachable_smtp_raises_an_os_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connection refused
        with pytest.raises(OSError):
            _send_mail(ErpSettings(smtp_host="127.0.0.1", smtp_port=port), "a@b.example", "s", "b")
