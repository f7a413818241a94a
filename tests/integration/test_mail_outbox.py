"""The mail outbox and its sender on real parts: PostgreSQL, the embedded SMTP server (aiosmtpd in its own
process), the standard library's parser for what arrived.

A mail commits or rolls back with its cause; it is sent once, attachment intact; two senders at once never send
the same mail; an SMTP server that is down makes mail wait (uncharged) and readiness say so, and everything goes
out once it is back; a permanent refusal is a bounce and a temporary one is retried until it fails, each recorded
once by the owning service's hook, in the transaction that marks the mail; a sender killed after the server
accepted a message sends that one message again, under the same Message-ID, and nothing else twice.

Each test has its own outbox (mail_scratch.py: the platform's DDL in a schema of its own) and, where it counts
files or stops the server, its own SMTP server and mail directory.
"""

import asyncio
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import aiosmtplib
import asyncpg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Row, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from devstack.smtp import EmbeddedSmtp
from devstack.stack import Stack
from tests.integration.mail_scratch import (
    Scratch,
    engine_for,
    fast_config,
    history_hook,
    invoice_mail,
    smtp_config,
)
from throughline_messaging.uow import OutboxWriter, UnitOfWork
from throughline_platform.db import asyncpg_dsn
from throughline_platform.mail.mailbox import list_received, received_files
from throughline_platform.mail.messages import build_message, outgoing_mail
from throughline_platform.mail.outbox import MailCause, OutgoingMail, stage_mail
from throughline_platform.mail.sender import MailOutcome, MailSender, SenderConfig, SmtpConfig

PDF = b"%PDF-1.7\n" + os.urandom(50_000) + b"\n%%EOF\n"


class MailWorld:
    """One test's outbox, database access and SMTP server."""

    def __init__(self, scratch: Scratch, conn: asyncpg.Connection, engine: AsyncEngine,
                 sessions: async_sessionmaker[AsyncSession], smtp: EmbeddedSmtp) -> None:
        self.scratch = scratch
        self.conn = conn
        self.engine = engine
        self.sessions = sessions
        self.smtp = smtp
        self.writer = OutboxWriter("mail-test", scratch.events, notify_channel=f"{scratch.schema}_events")

    def uow(self) -> UnitOfWork:
        """A service's unit of work: what the sender marks rows in, and the hook writes into."""
        return UnitOfWork(self.sessions, self.writer)

    def sender(self, config: SenderConfig | None = None,
               on_outcomes: Callable[[UnitOfWork, list[MailOutcome]], Awaitable[None]] | None = None,
               service: str = "mail-test") -> MailSender[UnitOfWork]:
        return MailSender(service=service, outbox=self.scratch.outbox, database_url=self.scratch.database_url,
                          smtp=smtp_config(self.smtp.port), transactions=self.uow,
                          on_outcomes=on_outcomes or history_hook(self.scratch.history),
                          config=config or fast_config())

    async def stage(self, mails: list[OutgoingMail]) -> None:
        """Each mail with its invoice, committed together."""
        async with self.uow() as uow:
            await uow.session.execute(insert(self.scratch.invoices), [
                {"id": mail.cause.id, "number": mail.subject} for mail in mails])
            await stage_mail(uow.session, self.scratch.outbox, mails)
            await uow.commit()

    async def rows(self) -> list[Row[Any]]:
        table = self.scratch.outbox.table
        async with self.sessions() as session:
            return list((await session.execute(select(table).order_by(table.c.id))).all())

    async def history(self) -> list[Row[Any]]:
        table = self.scratch.history
        async with self.sessions() as session:
            return list((await session.execute(select(table).order_by(table.c.id))).all())

    async def statuses(self) -> Counter[str]:
        return Counter(row.status for row in await self.rows())

    def received(self) -> list[EmailMessage]:
        """What the SMTP server kept, oldest first, parsed by the standard library."""
        return [_parse(path.read_bytes()) for path in reversed(received_files(self.smtp.mail_dir))]


def _parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[EmbeddedSmtp]:
    server = EmbeddedSmtp(tmp_path / "mail", tmp_path / "smtp.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def world(stack: Stack, smtp: EmbeddedSmtp) -> AsyncIterator[MailWorld]:
    url = stack.database_urls["crm"]
    scratch = Scratch.named(f"mail_test_{uuid.uuid4().hex[:10]}", url)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    await scratch.create(conn)
    engine, sessions = engine_for(url)
    try:
        yield MailWorld(scratch, conn, engine, sessions, smtp)
    finally:
        await engine.dispose()
        await conn.execute(f"DROP SCHEMA {scratch.schema} CASCADE")
        await conn.close()


async def until(probe: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await probe():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"gave up waiting {timeout}s for {what}")
        await asyncio.sleep(0.05)


class Running:
    """A sender running in this event loop until the block ends."""

    def __init__(self, sender: MailSender[UnitOfWork]) -> None:
        self.sender = sender
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> MailSender[UnitOfWork]:
        self.task = asyncio.create_task(self.sender.run())
        return self.sender

    async def __aexit__(self, *exc: object) -> None:
        await self.sender.stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 15)


async def all_final(world: MailWorld, count: int) -> bool:
    """`count` mails sent, bounced or failed, and their outcomes recorded by the hook."""
    rows = await world.rows()
    return sum(row.status in ("sent", "bounced", "failed") and row.recorded_at is not None for row in rows) == count


async def test_the_tables_ddl_and_its_metadata_agree(world: MailWorld) -> None:
    def reflected(sync_conn: Any) -> tuple[dict[str, tuple[str, bool]], set[str]]:
        inspector = inspect(sync_conn)
        columns = {c["name"]: (type(c["type"]).__name__, c["nullable"])
                   for c in inspector.get_columns("mail_outbox", schema=world.scratch.schema)}
        indexes = {i["name"] for i in inspector.get_indexes("mail_outbox", schema=world.scratch.schema)}
        return columns, indexes

    async with world.engine.connect() as conn:
        columns, indexes = await conn.run_sync(reflected)
    table = world.scratch.outbox.table
    assert set(columns) == {c.name for c in table.columns}
    assert {name: nullable for name, (_, nullable) in columns.items()} == {c.name: c.nullable for c in table.columns}
    assert indexes >= {i.name for i in table.indexes}
    assert columns["recipients"][0] == "ARRAY" and columns["message"][0] == "BYTEA"


async def test_a_mail_commits_with_its_cause_and_rolls_back_with_it(world: MailWorld) -> None:
    listener = await asyncpg.connect(asyncpg_dsn(world.scratch.database_url))
    woken: list[str] = []
    await listener.add_listener(world.scratch.outbox.notify_channel, lambda *args: woken.append(args[3]))
    try:
        kept, dropped = invoice_mail(), invoice_mail()
        await world.stage([kept])
        async with world.uow() as uow:
            await uow.session.execute(insert(world.scratch.invoices).values(id=dropped.cause.id, number="x"))
            await stage_mail(uow.session, world.scratch.outbox, dropped)
            # no commit: the request failed after staging
        [row] = await world.rows()
        assert (row.message_id, row.cause_kind, row.cause_id) == (kept.message_id, "invoice", kept.cause.id)
        assert (row.status, row.attempts, row.claimed_by, row.finished_at) == ("queued", 0, None, None)
        assert row.message == kept.message and list(row.recipients) == ["ann@client.example"]
        async with world.sessions() as session:
            invoices = (await session.execute(select(world.scratch.invoices.c.id))).scalars().all()
        assert invoices == [kept.cause.id]
        await asyncio.sleep(0.2)
        assert len(woken) == 1  # the committed staging woke the senders; the rolled-back one never did
    finally:
        await listener.close()


async def test_a_mail_is_sent_once_with_its_attachment_intact_and_recorded_by_the_hook(world: MailWorld) -> None:
    mail = invoice_mail("Ann Client <ann@client.example>", attachment=PDF)
    await world.stage([mail])
    async with Running(world.sender()):
        await until(lambda: all_final(world, 1), 15, "the mail to be sent")
    [row] = await world.rows()
    assert (row.status, row.attempts, row.claimed_by, row.last_error) == ("sent", 1, None, None)
    assert row.finished_at is not None and row.recorded_at >= row.finished_at
    [received] = world.received()
    assert received["Message-ID"] == mail.message_id
    assert received["X-RcptTo"] == "ann@client.example"
    [attachment] = list(received.iter_attachments())
    assert attachment.get_filename() == "invoice.pdf"
    assert attachment.get_content() == PDF
    html = received.get_body(("html",))
    assert html is not None and str(mail.cause.id) in html.get_content()
    [entry] = await world.history()
    assert (entry.mail_id, entry.cause_id, entry.status, entry.attempts) == (row.id, mail.cause.id, "sent", 1)
    # Another sender finds nothing left to send.
    async with Running(world.sender()):
        await asyncio.sleep(0.5)
    assert len(world.received()) == 1


async def test_two_senders_at_once_never_send_the_same_mail(world: MailWorld) -> None:
    mails = [invoice_mail(f"client{i}@client.example") for i in range(300)]
    await world.stage(mails)
    config = fast_config(batch_size=10)
    async with Running(world.sender(config, service="mail-test-a")), \
            Running(world.sender(config, service="mail-test-b")):
        await until(lambda: all_final(world, len(mails)), 60, "every mail to be sent")
    sent_by = {name: REGISTRY.get_sample_value("mail_messages_total", {"service": name, "status": "sent"})
               for name in ("mail-test-a", "mail-test-b")}
    assert all(sent_by.values()), f"both senders should have had work: {sent_by}"
    ids = Counter(message["Message-ID"] for message in world.received())
    assert ids == Counter(mail.message_id for mail in mails)  # each exactly once
    assert await world.statuses() == Counter({"sent": len(mails)})
    assert len(await world.history()) == len(mails)


async def test_mail_waits_while_the_smtp_server_is_down_and_goes_out_once_it_is_back(world: MailWorld) -> None:
    first = invoice_mail()
    await world.stage([first])
    sender = world.sender(fast_config(overdue_limit=timedelta(milliseconds=300)))
    async with Running(sender):
        await until(lambda: all_final(world, 1), 15, "the first mail (the sender now holds a connection)")
        world.smtp.stop()
        later = [invoice_mail(f"later{i}@client.example") for i in range(5)]
        await world.stage(later)
        await asyncio.sleep(1.5)  # several tries to reconnect, with backoff
        statuses = await world.statuses()
        assert statuses == Counter({"sent": 1, "queued": 5})
        assert {row.attempts for row in await world.rows() if row.status == "queued"} == {0}  # an outage costs none
        readiness = await sender.readiness()
        assert readiness["ok"] is False
        assert readiness["smtp"] == "unreachable"
        assert readiness["queued"] == 5
        assert readiness["oldest_due_age_seconds"] > 0.3
        assert "SMTP server" in readiness["error"] and "due mail has waited" in readiness["error"]

        world.smtp.start()  # the same port, the same mail directory
        await until(lambda: all_final(world, 6), 15, "the waiting mail to go out")
        readiness = await sender.readiness()
        assert readiness["ok"] is True, readiness
        assert (readiness["smtp"], readiness["queued"]) == ("reachable", 0)
    ids = Counter(message["Message-ID"] for message in world.received())
    assert ids == Counter([first.message_id, *(mail.message_id for mail in later)])
    assert {row.attempts for row in await world.rows()} == {1}


async def test_without_an_smtp_server_configured_mail_waits_and_readiness_says_why(world: MailWorld) -> None:
    await world.stage([invoice_mail()])
    sender: MailSender[UnitOfWork] = MailSender(
        service="mail-test", outbox=world.scratch.outbox, database_url=world.scratch.database_url,
        smtp=SmtpConfig(host=None, port=25), transactions=world.uow, config=fast_config())
    async with Running(sender):
        await asyncio.sleep(0.5)
        readiness = await sender.readiness()
    assert readiness["ok"] is False and "no SMTP server is configured (SMTP_HOST)" in readiness["error"]
    [row] = await world.rows()
    assert (row.status, row.attempts) == ("queued", 0)


async def test_a_permanent_refusal_is_a_bounce_recorded_once_by_the_hook(world: MailWorld) -> None:
    bounced = invoice_mail("nobody@bounce.invalid")
    partly = outgoing_mail_to(["ann@client.example", "gone@bounce.invalid"])
    await world.stage([bounced, partly])
    async with Running(world.sender()):
        await until(lambda: all_final(world, 2), 15, "both outcomes")
    rows = {row.message_id: row for row in await world.rows()}
    assert (rows[bounced.message_id].status, rows[bounced.message_id].attempts) == ("bounced", 1)
    assert rows[bounced.message_id].last_error.startswith("nobody@bounce.invalid: 550")
    # Accepted for one recipient: sent, and the refusal of the other is kept.
    assert rows[partly.message_id].status == "sent"
    assert "gone@bounce.invalid: 550" in rows[partly.message_id].last_error
    [received] = world.received()
    assert received["Message-ID"] == partly.message_id and received["X-RcptTo"] == "ann@client.example"
    outcomes = {(entry.cause_id, entry.status) for entry in await world.history()}
    assert outcomes == {(bounced.cause.id, "bounced"), (partly.cause.id, "sent")}


def outgoing_mail_to(recipients: list[str]) -> OutgoingMail:
    message = build_message(sender="billing@studio.example", to=recipients, subject="Invoice", text="Attached.")
    return outgoing_mail(message, MailCause("invoice", uuid.uuid4()))


async def test_a_temporary_refusal_is_retried_with_backoff_then_fails(world: MailWorld) -> None:
    mail = invoice_mail("busy@defer.invalid")
    await world.stage([mail])
    async with Running(world.sender(fast_config(max_attempts=3))):
        await until(lambda: all_final(world, 1), 15, "the mail to fail")
    [row] = await world.rows()
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error.startswith("busy@defer.invalid: 451")
    # The waits double from first_retry (50 ms): 50 + 100 ms at least between the first try and the last.
    assert (row.finished_at - row.created_at).total_seconds() >= 0.15
    [entry] = await world.history()
    assert (entry.status, entry.attempts) == ("failed", 3)
    assert world.received() == []


async def test_a_failing_hook_never_sends_a_mail_twice_and_its_outcomes_wait_until_it_works(
        world: MailWorld) -> None:
    mail = invoice_mail()
    await world.stage([mail])
    broken = True
    record = history_hook(world.scratch.history)

    async def hook(uow: UnitOfWork, outcomes: list[MailOutcome]) -> None:
        await record(uow, outcomes)
        if broken:
            raise RuntimeError("a bug in the service's hook")

    config = fast_config(recover_interval=0.1, overdue_limit=timedelta(milliseconds=200))
    sender = world.sender(config, on_outcomes=hook)
    async with Running(sender):
        await until(lambda: _statuses_are(world, {"sent": 1}), 15, "the mail to be sent")
        await asyncio.sleep(0.5)  # several recording passes, each rolled back
        [row] = await world.rows()
        assert row.recorded_at is None
        assert await world.history() == []  # the hook's writes were rolled back with it
        readiness = await sender.readiness()
        assert readiness["ok"] is False and readiness["unrecorded_outcomes"] == 1
        assert "to be recorded (RuntimeError: a bug in the service's hook)" in readiness["error"]
        broken = False  # the fix is deployed
        await until(lambda: all_final(world, 1), 15, "the outcome to be recorded")
        assert (await sender.readiness())["ok"] is True
    [entry] = await world.history()
    assert (entry.cause_id, entry.status) == (mail.cause.id, "sent")
    assert len(world.received()) == 1


async def _statuses_are(world: MailWorld, expected: dict[str, int]) -> bool:
    return await world.statuses() == Counter(expected)


async def test_a_sender_cancelled_mid_batch_finishes_the_message_in_hand_and_doubles_nothing(
        world: MailWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    # ServiceRuntime stops its jobs by cancelling them. Here the cancellation comes at the worst moment: right after
    # the server accepted the tenth message, before its mark.
    mails = [invoice_mail(f"client{i}@client.example") for i in range(60)]
    await world.stage(mails)
    sendmail = aiosmtplib.SMTP.sendmail
    accepted = 0

    async def cancelled_after_the_tenth_acceptance(client: aiosmtplib.SMTP, *args: Any, **kwargs: Any) -> Any:
        nonlocal accepted
        result = await sendmail(client, *args, **kwargs)
        accepted += 1
        if accepted == 10:
            task.cancel()
            await asyncio.sleep(0)  # where a cancellation of this very coroutine would strike
        return result

    monkeypatch.setattr(aiosmtplib.SMTP, "sendmail", cancelled_after_the_tenth_acceptance)
    task = asyncio.create_task(world.sender(fast_config(batch_size=50)).run())
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    statuses = await world.statuses()
    # The message in hand was marked, the rest of the batch put back; nothing is left to a dead sender's recovery.
    assert statuses == Counter({"sent": 10, "queued": len(mails) - 10}), statuses
    monkeypatch.undo()
    async with Running(world.sender()):
        await until(lambda: all_final(world, len(mails)), 30, "the rest to be sent")
    ids = Counter(message["Message-ID"] for message in world.received())
    assert ids == Counter(mail.message_id for mail in mails)


@pytest.mark.fault
async def test_a_sender_killed_after_the_server_accepted_sends_only_that_message_again(world: MailWorld) -> None:
    mails = [invoice_mail(f"client{i}@client.example") for i in range(15)]
    await world.stage(mails)
    env = {**os.environ, "THROUGHLINE_FAILPOINTS": "mail.after_smtp_accept"}
    killed = await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "tests.integration.mail_scratch", "--database-url", world.scratch.database_url,
        "--schema", world.scratch.schema, "--smtp-port", str(world.smtp.port)],
        env=env, capture_output=True, timeout=60)
    assert killed.returncode == 137, killed.stderr.decode()[-2000:]
    [accepted] = world.received()  # the server had taken one message when the sender died
    rows = {row.message_id: row for row in await world.rows()}
    assert rows[accepted["Message-ID"]].status == "sending"  # its mark never committed
    assert await world.history() == []

    async with Running(world.sender()):  # the next sender finds the dead one's rows and sends them
        await until(lambda: all_final(world, len(mails)), 30, "every mail to be sent")
    ids = Counter(message["Message-ID"] for message in world.received())
    assert set(ids) == {mail.message_id for mail in mails}
    assert [message_id for message_id, count in ids.items() if count > 1] == [accepted["Message-ID"]]
    assert ids[accepted["Message-ID"]] == 2  # that one message, twice, under the same Message-ID
    assert await world.statuses() == Counter({"sent": len(mails)})
    assert Counter(entry.cause_id for entry in await world.history()) == Counter(m.cause.id for m in mails)


async def test_the_test_stack_runs_an_embedded_smtp_server_that_keeps_mail_under_its_var_dir(stack: Stack) -> None:
    assert stack.smtp is not None
    env = stack.common_env()
    assert (env["SMTP_HOST"], env["SMTP_PORT"]) == ("127.0.0.1", str(stack.smtp.port))
    assert env["GATEWAY_SENT_MAIL_DIR"] == str(stack.var_dir / "mail")
    assert stack.smtp.mail_dir == stack.var_dir / "mail"
    mail = invoice_mail(attachment=b"%PDF-1.7 small")
    await aiosmtplib.send(mail.message, sender=mail.mail_from, recipients=list(mail.recipients),
                          hostname="127.0.0.1", port=stack.smtp.port, start_tls=False,
                          local_hostname="throughline-test")
    [newest, *_] = list_received(stack.var_dir / "mail")
    assert newest.message_id == mail.message_id
    assert newest.attachments == ("invoice.pdf",)
    assert newest.to == ("ann@client.example",)
    assert newest.subject == mail.subject

