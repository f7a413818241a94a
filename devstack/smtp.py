"""The embedded SMTP server of `make run` and the tests (aiosmtpd): keeps every message it receives as an `.eml`
file under `$THROUGHLINE_VAR/mail/` (throughline_platform.mail.mailbox names and reads them).

It runs as a process of its own, like the broker: the services reach it over TCP as they would a real server, its
work takes none of the supervisor's time, and a test can stop it to see the sender wait. It stops by itself when
the process that started it has gone (`--started-by`), so a killed supervisor leaves no server behind.

Two reserved domains (RFC 2606's `.invalid`, which no real address has) let anyone try the failure paths by hand:
a recipient at `bounce.invalid` is refused for good (550: the mail bounces), one at `defer.invalid` for now (451:
the mail is tried again, then fails). Nothing else is refused; nothing is relayed anywhere.

    python -m devstack.smtp --port 8025 --dir var/mail [--started-by PID]
"""

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from devstack.ports import free_port, port_is_open
from throughline_platform.mail.mailbox import last_sequence, write_eml

BOUNCE_DOMAIN = "bounce.invalid"
DEFER_DOMAIN = "defer.invalid"


class EmbeddedSmtp:
    """The server process, started and stopped by the dev stack (or by a test that wants one of its own)."""

    def __init__(self, mail_dir: Path, log_path: Path, port: int | None = None) -> None:
        self.mail_dir = mail_dir
        self.log_path = log_path
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        """What the services need to send to it, and where the gateway's "Sent mail" page reads what it kept (that
        page is off wherever this is not set: with a real SMTP server, in production)."""
        return {"SMTP_HOST": self.host, "SMTP_PORT": str(self.port), "GATEWAY_SENT_MAIL_DIR": str(self.mail_dir)}

    def start(self, timeout: float = 20) -> None:
        self.launch()
        self.wait_listening(timeout)

    def launch(self) -> None:
        """Start the server without waiting for it to listen."""
        if port_is_open(self.port):
            raise RuntimeError(f"port {self.port} is taken; set SMTP_PORT to another (or SMTP_HOST to a real server)")
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devstack.smtp", "--port", str(self.port), "--dir", str(self.mail_dir),
                 "--started-by", str(os.getpid())],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_listening(self, timeout: float = 20) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while not port_is_open(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"the SMTP server exited; see {self.log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the SMTP server is not listening on {self.port}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class MailStore:
    """The aiosmtpd handler: refuses the reserved domains, writes everything else to its own file."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = mail_dir
        self.sequence = last_sequence(mail_dir)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain == BOUNCE_DOMAIN:
            return "550 5.1.1 No such mailbox here (bounce.invalid always refuses)"
        if domain == DEFER_DOMAIN:
            return "451 4.3.0 Try again later (defer.invalid always defers)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        # What the envelope said, as aiosmtpd's own handlers record it: the Bcc recipients appear only here.
        stamp = (f"X-MailFrom: {envelope.mail_from}\r\nX-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n").encode()
        self.sequence += 1
        # Written in the event loop: a few kB to the page cache, and this process has nothing else to do meanwhile.
        path = write_eml(self.mail_dir, stamp + content, sequence=self.sequence, message_id=_message_id(content))
        return f"250 2.0.0 OK: kept as {path.name}"


def _message_id(content: bytes) -> str | None:
    """The Message-ID header of a message, read from its header block only: the parser is handed the bytes up to
    the first empty line (where it would stop anyway), not the whole message, which it would otherwise split into
    lines to the end (an invoice's 70 kB PDF: a third of this server's CPU per message)."""
    ends = [at for at in (content.find(b"\r\n\r\n"), content.find(b"\n\n")) if at >= 0]
    headers = BytesHeaderParser().parsebytes(content[:min(ends) + 2] if ends else content)
    value = headers.get("Message-ID")
    return str(value).strip() if value else None


async def serve(port: int, mail_dir: Path, started_by: int | None) -> None:
    from aiosmtpd.smtp import SMTP

    handler = MailStore(mail_dir)
    loop = asyncio.get_running_loop()
    # hostname given: aiosmtpd would otherwise look up this host's FQDN, which can take seconds.
    server = await loop.create_server(lambda: SMTP(handler, hostname="throughline-dev-smtp", ident="Throughline dev"),
                                      host="127.0.0.1", port=port)
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    print(f"SMTP server on 127.0.0.1:{port}, keeping mail in {mail_dir}", flush=True)
    async with server:
        while not stopping.is_set():
            if started_by is not None and os.getppid() != started_by:
                break  # re-parented: whoever started us has gone
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), 0.5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="devstack.smtp")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    parser.add_argument("--started-by", type=int, default=None, help="stop once this process is no longer our parent")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    try:  # uvloop (a development requirement, as for the services): its event loop costs less CPU per message
        import uvloop
    except ImportError:
        asyncio.run(serve(args.port, args.dir, args.started_by))
    else:
        uvloop.run(serve(args.port, args.dir, args.started_by))


if __name__ == "__main__":
    main()
