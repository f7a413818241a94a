"""A throwaway mail outbox for the mail tests: the platform's table (from its own DDL) in a schema of its own in the
CRM database, next to a table of invoices (the cause) and a history the outcome hook writes, so that no service
ever sees these rows. Used by tests/integration/test_mail_*.py and by the sender process the kill test starts."""

import argparse
import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from sqlalchemy import BigInteger, Column, Integer, MetaData, Table, Text, Uuid, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from throughline_messaging.tables import outbox_table
from throughline_platform.db import new_engine, new_session_factory
from throughline_platform.mail.messages import Attachment, build_message, outgoing_mail
from throughline_platform.mail.outbox import (
    MailCause,
    MailOutbox,
    OutgoingMail,
    create_mail_outbox_sql,
    mail_outbox_table,
)
from throughline_platform.mail.sender import (
    MailOutcome,
    MailSender,
    MailTransaction,
    SenderConfig,
    SessionTransaction,
    SmtpConfig,
)


@dataclass
class Scratch:
    schema: str
    database_url: str
    outbox: MailOutbox
    history: Table
    invoices: Table
    events: Table  # an event outbox, for a unit of work's own staging

    @classmethod
    def named(cls, schema: str, database_url: str) -> "Scratch":
        metadata = MetaData(schema=schema)
        history = Table("mail_history", metadata, Column("id", BigInteger, primary_key=True),
                        Column("mail_id", BigInteger), Column("cause_id", Uuid), Column("status", Text),
                        Column("attempts", Integer), Column("error", Text))
        invoices = Table("invoices", metadata, Column("id", Uuid, primary_key=True), Column("number", Text))
        return cls(schema, database_url, MailOutbox(mail_outbox_table(metadata), notify_channel=schema),
                   history, invoices, outbox_table(metadata))

    async def create(self, conn: asyncpg.Connection) -> None:
        await conn.execute(f"CREATE SCHEMA {self.schema}")
        await conn.execute(f"SET search_path TO {self.schema}")
        for statement in create_mail_outbox_sql():  # the DDL a service's migration runs
            await conn.execute(statement)
        await conn.execute("CREATE TABLE invoices (id UUID PRIMARY KEY, number TEXT NOT NULL)")
        await conn.execute("CREATE TABLE mail_history (id BIGSERIAL PRIMARY KEY, mail_id BIGINT, cause_id UUID, "
                           "status TEXT, attempts INT, error TEXT)")
        await conn.execute("CREATE TABLE outbox (LIKE public.outbox INCLUDING ALL)")
        await conn.execute("SET search_path TO public")


def history_hook(history: Table) -> Callable[[MailTransaction, list[MailOutcome]], Awaitable[None]]:
    """The owning service's hook: a history row per outcome, in the transaction that stamps them recorded."""

    async def record_outcomes(tx: MailTransaction, outcomes: list[MailOutcome]) -> None:
        await tx.session.execute(insert(history), [
            {"mail_id": outcome.mail_id, "cause_id": outcome.cause.id, "status": outcome.status.value,
             "attempts": outcome.attempts, "error": outcome.error} for outcome in outcomes])

    return record_outcomes


def invoice_mail(to: str = "ann@client.example", *, attachment: bytes | None = None,
                 invoice_id: uuid.UUID | None = None) -> OutgoingMail:
    cause = MailCause("invoice", invoice_id or uuid.uuid4())
    message = build_message(
        sender="Studio Billing <billing@studio.example>", to=[to], subject=f"Invoice {cause.id.hex[:8]}",
        text=f"Please find invoice {cause.id} attached.\n", html=f"<p>Please find invoice <b>{cause.id}</b></p>",
        attachments=[Attachment("invoice.pdf", attachment, "application/pdf")] if attachment is not None else [])
    return outgoing_mail(message, cause)


def fast_config(**overrides: object) -> SenderConfig:
    settings: dict[str, object] = dict(batch_size=20, poll_interval=0.05, first_retry=timedelta(milliseconds=50),
                                       max_retry=timedelta(milliseconds=200), max_backoff=0.3, recover_interval=0.2)
    settings.update(overrides)
    return SenderConfig(**settings)  # type: ignore[arg-type]


def smtp_config(port: int) -> SmtpConfig:
    return SmtpConfig(host="127.0.0.1", port=port, timeout=10, local_hostname="throughline-test")


def engine_for(database_url: str) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    engine = new_engine(database_url, pool_size=4, application_name="mail-test")
    return engine, new_session_factory(engine)


async def _run_killable_sender(database_url: str, schema: str, smtp_port: int, seconds: float) -> None:
    """A sender in this process; with THROUGHLINE_FAILPOINTS=mail.after_smtp_accept it dies after the server
    accepted its first message."""
    scratch = Scratch.named(schema, database_url)
    engine, sessions = engine_for(database_url)
    sender: MailSender[SessionTransaction] = MailSender(
        service="mail-test", outbox=scratch.outbox, database_url=database_url, smtp=smtp_config(smtp_port),
        transactions=lambda: SessionTransaction(sessions), on_outcomes=history_hook(scratch.history),
        config=fast_config())
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(seconds)
    await sender.stop()
    await task
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    asyncio.run(_run_killable_sender(args.database_url, args.schema, args.smtp_port, args.seconds))


if __name__ == "__main__":
    main()

