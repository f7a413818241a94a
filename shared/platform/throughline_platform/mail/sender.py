"""The mail sender: takes due mail from a service's mail outbox and hands it to an SMTP server, never twice but in
one window, which it keeps to one message.

A sender is a background job of the scheduler role (`run()` until `stop()`); a service may run several, in one
process or many. Each holds one PostgreSQL connection of its own, on which it
- holds a session advisory lock on a random key for as long as it lives: its identity and its proof of life;
- listens for the NOTIFY that staging a mail sends at commit (polling is the fallback);
- claims a batch of due rows (`FOR UPDATE SKIP LOCKED`, so two senders never take the same row), marking them
  `sending` and stamping them with its key;
- puts back to `queued` rows a dead sender left in `sending`: the key they carry is no longer locked by anyone
  (`pg_try_advisory_xact_lock` succeeds), which PostgreSQL guarantees as soon as that sender's connection is gone.

It sends over one SMTP connection (aiosmtplib), kept open across batches and reopened when it drops, one message
at a time, and marks each message `sent` in a transaction of its own right after the server accepted it, in which
the service's outcome hook runs too (history rows, outbox events: committed with the mark, or not at all).

The one window: a sender that dies after the server accepted a message and before that mark commits leaves the
row in `sending`; the next sender to look puts it back, and it is sent again, the same bytes under the same
Message-ID (receivers that dedupe by Message-ID see it once). A sender is in that window for one message at a
time, so a crash doubles at most one message per sender. Every other failure is decided before the server
accepted anything: nothing is lost, nothing else is sent twice.

What the SMTP server answers decides the rest (`classify`): a permanent refusal of the message (5xx to RCPT or
DATA) is `bounced`; a temporary one (4xx, a dropped connection or a timeout mid-message) is tried again after a
backoff that doubles, and `failed` after `max_attempts`; a server that cannot be reached or used (refused
connection, failed TLS or login, 421, 5xx to MAIL FROM, which is our configuration's fault, not the message's)
charges the mail nothing: it waits, the sender retries with backoff however long that lasts, and readiness says so.
"""

import asyncio
import contextlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from types import TracebackType
from typing import Any, Generic, Literal, Protocol, Self, TypeVar

import asyncpg
import structlog
from aiosmtplib import (
    SMTP,
    SMTPDataError,
    SMTPException,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponse,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)
from prometheus_client import Counter, Gauge
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from throughline_platform import failpoints
from throughline_platform.db import asyncpg_dsn
from throughline_platform.mail.outbox import MailCause, MailOutbox, MailStatus

log = structlog.get_logger(__name__)

MAIL_OUTCOMES = Counter("mail_messages_total", "Mail outbox messages by what became of an attempt (sent, bounced, "
                        "failed, deferred: tried again later)", ["service", "status"])
MAIL_SMTP_UNAVAILABLE = Counter("mail_smtp_unavailable_total", "Times the SMTP server could not be reached or used",
                                ["service"])
MAIL_QUEUED = Gauge("mail_queued", "Mail outbox rows waiting to be sent", ["service"])

FAILPOINT_AFTER_ACCEPT = "mail.after_smtp_accept"


class MailTransaction(Protocol):
    """What the sender marks a row in: a transaction on a session, which the service's outcome hook writes into too.
    A service passes its unit of work (`ServiceRuntime.uow`), so the hook can record events that commit with the
    mark; `SessionTransaction` is the plain one."""

    session: AsyncSession

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None: ...

    async def commit(self) -> None: ...


T = TypeVar("T", bound=MailTransaction)


class SessionTransaction:
    """A `MailTransaction` on a session factory: commit() commits, leaving without it rolls back."""

    session: AsyncSession

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()


@dataclass(frozen=True)
class MailOutcome:
    """What became of a mail for good, handed to the owning service's hook."""

    mail_id: int
    message_id: str
    cause: MailCause
    status: MailStatus  # sent, bounced or failed
    attempts: int
    recipients: tuple[str, ...]
    # Bounced or failed: the server's last answer (`550 5.1.1 ...`). Sent: the recipients it refused, if any.
    error: str | None


OutcomeHook = Callable[[T, MailOutcome], Awaitable[None]]


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str = ""
    password: str = ""
    # "starttls": upgrade a plain connection (port 587), required; "tls": TLS from the start (port 465); "none":
    # plain, for a server on this machine (the development one).
    security: Literal["none", "starttls", "tls"] = "none"
    timeout: float = 30.0  # per SMTP command
    local_hostname: str | None = None  # what EHLO says; None: this host's FQDN


@dataclass(frozen=True)
class SenderConfig:
    batch_size: int = 50  # rows claimed at once; a busy sender claims again as soon as a batch is out
    max_attempts: int = 8  # answered attempts before a temporarily refused mail has failed for good
    first_retry: timedelta = timedelta(seconds=30)  # the wait after the first temporary failure; doubles after each
    max_retry: timedelta = timedelta(hours=1)
    poll_interval: float = 1.0  # seconds between looks for due mail when no NOTIFY comes (and retries come due)
    max_backoff: float = 30.0  # seconds, between tries to reach an SMTP server or database that is away
    idle_disconnect: float = 30.0  # seconds without mail after which the SMTP connection is closed (QUIT)
    recover_interval: float = 10.0  # seconds between looks for rows a dead sender left in `sending`
    retention: timedelta | None = timedelta(days=30)  # sent, bounced and failed rows are deleted after this
    overdue_limit: timedelta = timedelta(minutes=5)  # readiness fails when due mail has waited longer


class Disposition(Enum):
    BOUNCED = "bounced"  # refused for good: record it, never try again
    DEFERRED = "deferred"  # refused or interrupted for now: one attempt used, tried again after a backoff
    FAILED = "failed"  # cannot be sent by any server (an address SMTP cannot carry): record it
    UNAVAILABLE = "unavailable"  # the server is not there or not usable: no attempt used, wait for it


def classify(exc: BaseException) -> Disposition:
    """What an error from sending one message means for it (see the module's docstring)."""
    if isinstance(exc, SMTPRecipientsRefused):  # every recipient refused
        if all(refusal.code >= 500 for refusal in exc.recipients):
            return Disposition.BOUNCED
        return Disposition.DEFERRED
    if isinstance(exc, SMTPSenderRefused):
        if exc.code == 552:  # RFC 1870: the SIZE we declared is more than the server takes
            return Disposition.BOUNCED
        return Disposition.UNAVAILABLE if exc.code >= 500 or exc.code == 421 else Disposition.DEFERRED
    if isinstance(exc, SMTPDataError):
        if exc.code == 421:
            return Disposition.UNAVAILABLE
        return Disposition.BOUNCED if exc.code >= 500 else Disposition.DEFERRED
    if isinstance(exc, SMTPNotSupported | ValueError):  # e.g. SMTPUTF8 refused, an address it cannot send
        return Disposition.FAILED
    if isinstance(exc, SMTPResponseException):  # RSET, HELO, AUTH refused: the session, not the message
        return Disposition.UNAVAILABLE
    if isinstance(exc, SMTPServerDisconnected | SMTPTimeoutError | ConnectionError | TimeoutError):
        # The connection was good when this message started: it may be the message that broke it, so it uses an
        # attempt (a message cannot stall the queue forever). A server that is down is found when connecting.
        return Disposition.DEFERRED
    if isinstance(exc, SMTPException | OSError):
        return Disposition.UNAVAILABLE
    raise exc


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached or used."""


class _SmtpLink:
    """One long-lived SMTP connection, opened on first use and again after it dropped."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self.client: SMTP | None = None
        self.last_used = 0.0

    def _new_client(self, timeout: float | None = None) -> SMTP:
        c = self.config
        return SMTP(hostname=c.host, port=c.port, username=c.username or None, password=c.password or None,
                    use_tls=c.security == "tls", start_tls=c.security == "starttls",
                    timeout=timeout or c.timeout, local_hostname=c.local_hostname)

    async def connected(self) -> SMTP:
        if self.client is not None and self.client.is_connected:
            return self.client
        await self.close()
        client = self._new_client()
        try:
            await client.connect()
        except (SMTPException, OSError) as exc:
            client.close()
            raise SmtpUnavailable(_short(exc)) from exc
        self.client = client
        return client

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        if client.is_connected:
            with contextlib.suppress(SMTPException, OSError):
                await client.quit(timeout=2)
        client.close()

    async def probe(self, within: float) -> None:
        """Connect, NOOP, QUIT on a connection of its own (readiness, while the sender has none open)."""
        client = self._new_client(within)
        try:
            await client.connect()
            await client.noop()
            await client.quit()
        except (SMTPException, OSError) as exc:
            raise SmtpUnavailable(_short(exc)) from exc
        finally:
            client.close()


@dataclass
class _Claimed:
    id: int
    message_id: str
    cause: MailCause
    mail_from: str
    recipients: tuple[str, ...]
    message: bytes
    attempts: int


class _Stopping(Exception):
    pass


class MailSender(Generic[T]):
    """Sends a service's mail outbox. `transactions()` makes the transaction each final outcome is recorded in;
    `on_outcome(transaction, outcome)` runs inside it (sent, bounced, failed; not for a retry)."""

    def __init__(self, *, service: str, outbox: MailOutbox, database_url: str, smtp: SmtpConfig,
                 transactions: Callable[[], T], on_outcome: OutcomeHook[T] | None = None,
                 config: SenderConfig | None = None) -> None:
        self.service = service
        self.outbox = outbox
        self.dsn = asyncpg_dsn(database_url)
        self.transactions = transactions
        self.on_outcome = on_outcome
        self.config = config or SenderConfig()
        self.smtp = _SmtpLink(smtp)
        self.key = 0  # this sender's advisory lock key while it holds its connection; 0 before
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._smtp_error: str | None = None  # the last attempt to use the server failed (and how), or None
        self._smtp_checked_at = 0.0
        self._database_error: str | None = "not connected yet"
        table = outbox.table.fullname
        columns = "id, message_id, cause_kind, cause_id, mail_from, recipients, message, attempts"
        queued, sending = MailStatus.QUEUED.value, MailStatus.SENDING.value
        self._claim_sql = (
            f"UPDATE {table} SET status = '{sending}', claimed_by = $1 WHERE id IN ("
            f"SELECT id FROM {table} WHERE status = '{queued}' AND next_attempt_at <= now() "
            f"ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING {columns}")
        # Rows this sender claimed and will not send now (stopping, the server away): due again, nothing charged.
        self._release_sql = (f"UPDATE {table} SET status = '{queued}', claimed_by = NULL "
                             f"WHERE id = ANY($1::bigint[]) AND claimed_by = $2 AND status = '{sending}'")
        self._defer_sql = (
            f"UPDATE {table} SET status = '{queued}', claimed_by = NULL, attempts = attempts + 1, "
            f"next_attempt_at = now() + $3::interval, last_error = $4 "
            f"WHERE id = $1 AND claimed_by = $2 AND status = '{sending}'")
        # A dead sender's key is locked by nobody: the try succeeds (and holds only until this statement commits).
        # Rows of live senders fail the try and are left alone; every other row has no claimed_by (NULL: no try).
        self._recover_sql = (
            f"UPDATE {table} SET status = '{queued}', claimed_by = NULL "
            f"WHERE status = '{sending}' AND claimed_by <> $1 AND pg_try_advisory_xact_lock(claimed_by) RETURNING id")
        finished = ", ".join(f"'{s.value}'" for s in (MailStatus.SENT, MailStatus.BOUNCED, MailStatus.FAILED))
        self._prune_sql = (f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE status IN ({finished}) "
                           f"AND finished_at < now() - $1::interval LIMIT 1000)")

    # --- running ---------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Send until `stop()`. The database or the SMTP server being away is waited out, never given up on."""
        backoff = 0.2
        while not self._stopping.is_set():
            try:
                await self._serve()
                backoff = 0.2
            except asyncio.CancelledError:
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, SmtpUnavailable) as exc:
                self._database_error = _short(exc)
                log.warning("mail_sender_retry", service=self.service, error=_short(exc), backoff_s=round(backoff, 2))
                await self._sleep(backoff)
                backoff = min(backoff * 2, self.config.max_backoff)
        await self.smtp.close()

    async def stop(self) -> None:
        """Finish the message in hand, put the rest of the batch back, close the connections."""
        self._stopping.set()
        self._wake.set()

    def wake(self) -> None:
        """Look for due mail now (in-process; other processes' commits wake the sender by NOTIFY)."""
        self._wake.set()

    async def _serve(self) -> None:
        conn = await asyncpg.connect(self.dsn, server_settings={"application_name": f"{self.service}-mail-sender"})
        try:
            key = secrets.randbits(63) or 1
            await conn.execute("SELECT pg_advisory_lock($1)", key)  # a fresh random key: nobody holds it
            self.key = key
            await conn.add_listener(self.outbox.notify_channel, self._on_notify)
            self._database_error = None
            log.info("mail_sender_started", service=self.service)
            await self._send_until_stopped(conn)
        finally:
            self.key = 0
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _send_until_stopped(self, conn: asyncpg.Connection) -> None:
        recovered_at = pruned_at = 0.0
        smtp_backoff = 0.2
        while not self._stopping.is_set():
            now = time.monotonic()
            if now - recovered_at >= self.config.recover_interval:
                await self._recover(conn)
                recovered_at = now
            if self.config.retention is not None and now - pruned_at >= 3600:
                await self._prune(conn)
                pruned_at = now
            self._wake.clear()
            rows = await conn.fetch(self._claim_sql, self.key, self.config.batch_size)
            if not rows:
                if self.smtp.client is not None and now - self.smtp.last_used > self.config.idle_disconnect:
                    await self.smtp.close()
                await self._wait(self.config.poll_interval)
                continue
            batch = sorted((_claimed(row) for row in rows), key=lambda claimed: claimed.id)
            try:
                await self._send_batch(conn, batch)
                smtp_backoff = 0.2
            except SmtpUnavailable as exc:
                MAIL_SMTP_UNAVAILABLE.labels(self.service).inc()
                log.warning("mail_smtp_unavailable", service=self.service, error=str(exc),
                            backoff_s=round(smtp_backoff, 2))
                await self._sleep(smtp_backoff)
                smtp_backoff = min(smtp_backoff * 2, self.config.max_backoff)

    async def _send_batch(self, conn: asyncpg.Connection, batch: list[_Claimed]) -> None:
        """Send the batch in order; whatever is not sent when it stops early goes back to the queue, uncharged."""
        pending = list(batch)
        try:
            while pending:
                if self._stopping.is_set():
                    return
                if conn.is_closed():  # our lock went with it: another sender may take these rows now
                    raise asyncpg.InterfaceError("the sender's database connection closed")
                await self._send_one(conn, pending[0])
                pending.pop(0)
        finally:
            if pending and not conn.is_closed():
                await conn.execute(self._release_sql, [row.id for row in pending], self.key)

    async def _send_one(self, conn: asyncpg.Connection, row: _Claimed) -> None:
        try:
            client = await self.smtp.connected()
        except SmtpUnavailable as exc:
            self._smtp_state(str(exc))
            raise
        try:
            refused, _ = await client.sendmail(row.mail_from, row.recipients, row.message)
        except Exception as exc:
            disposition = classify(exc)
            error = _smtp_error(exc)
            if disposition is Disposition.UNAVAILABLE:
                await self.smtp.close()
                self._smtp_state(error)
                raise SmtpUnavailable(error) from exc
            if not self.smtp.client or not self.smtp.client.is_connected or isinstance(exc, SMTPTimeoutError):
                await self.smtp.close()  # a connection that dropped or hung mid-message is not used again
            self.smtp.last_used = time.monotonic()
            self._smtp_state(None)
            await self._record_failure(conn, row, disposition, error)
            return
        # Accepted: from here until the mark commits is the one window (a crash now sends it again, same bytes).
        failpoints.hit(FAILPOINT_AFTER_ACCEPT)
        self.smtp.last_used = time.monotonic()
        self._smtp_state(None)
        await self._finish(row, MailStatus.SENT, _refusals(refused) if refused else None)

    async def _record_failure(self, conn: asyncpg.Connection, row: _Claimed, disposition: Disposition,
                              error: str) -> None:
        if disposition is Disposition.BOUNCED:
            await self._finish(row, MailStatus.BOUNCED, error)
        elif disposition is Disposition.FAILED or row.attempts + 1 >= self.config.max_attempts:
            await self._finish(row, MailStatus.FAILED, error)
        else:
            wait = min(self.config.first_retry * 2 ** row.attempts, self.config.max_retry)
            await conn.execute(self._defer_sql, row.id, self.key, wait, error)  # no outcome yet: no hook
            MAIL_OUTCOMES.labels(self.service, "deferred").inc()
            log.info("mail_deferred", service=self.service, message_id=row.message_id, error=error,
                     retry_in_s=wait.total_seconds())

    async def _finish(self, row: _Claimed, status: MailStatus, error: str | None) -> None:
        """Mark the row with its outcome, and let the service record it, in one transaction. If the hook fails (a
        bug in the service), the row is still marked, without it: a mail sent again on every try would be worse
        than an outcome missing from a history; the error is logged and kept in `last_error`."""
        try:
            await self._retry_mark(lambda: self._mark(row, status, error, with_hook=True))
        except _HookFailed as failed:
            log.error("mail_outcome_hook_failed", service=self.service, message_id=row.message_id,
                      error=_short(failed.error))
            note = f"outcome hook failed: {_short(failed.error)}"
            await self._retry_mark(lambda: self._mark(row, status, f"{error}; {note}" if error else note,
                                                      with_hook=False))
        MAIL_OUTCOMES.labels(self.service, status.value).inc()

    async def _mark(self, row: _Claimed, status: MailStatus, error: str | None, *, with_hook: bool) -> None:
        table = self.outbox.table
        async with self.transactions() as tx:
            attempts = (await tx.session.execute(
                update(table).where(table.c.id == row.id, table.c.claimed_by == self.key,
                                    table.c.status == MailStatus.SENDING.value)
                .values(status=status.value, claimed_by=None, attempts=table.c.attempts + 1,
                        finished_at=func.now(), last_error=error)
                .returning(table.c.attempts))).scalar_one_or_none()
            if attempts is None:
                # Put back by another sender, which took our lock for gone (our connection dropped): it sends the
                # mail again and records it then. A double, of the kind the module's docstring allows.
                log.warning("mail_taken_over", service=self.service, message_id=row.message_id)
                return
            if with_hook and self.on_outcome is not None:
                outcome = MailOutcome(mail_id=row.id, message_id=row.message_id, cause=row.cause,
                                      status=status, attempts=attempts,
                                      recipients=row.recipients, error=error)
                try:
                    await self.on_outcome(tx, outcome)
                except Exception as exc:
                    raise _HookFailed(exc) from exc
            await tx.commit()

    async def _retry_mark(self, mark: Callable[[], Awaitable[None]]) -> None:
        """A mark that failed on the database is tried again a few times (the row is still ours) before the
        batch gives up and the row is left for recovery: each give-up may double this one message."""
        delay = 0.1
        for attempt in range(5):
            try:
                await mark()
                return
            except _HookFailed:
                raise
            except Exception as exc:
                if attempt == 4:
                    raise
                log.warning("mail_mark_retry", service=self.service, error=_short(exc))
                await asyncio.sleep(delay)
                delay *= 2

    async def _recover(self, conn: asyncpg.Connection) -> None:
        recovered = await conn.fetch(self._recover_sql, self.key)
        if recovered:
            log.warning("mail_recovered_from_dead_sender", service=self.service, rows=len(recovered))

    async def _prune(self, conn: asyncpg.Connection) -> None:
        assert self.config.retention is not None
        while (await conn.execute(self._prune_sql, self.config.retention)) == "DELETE 1000":
            pass

    def _smtp_state(self, error: str | None) -> None:
        self._smtp_error = error
        self._smtp_checked_at = time.monotonic()

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # --- readiness -------------------------------------------------------------------------------------------

    async def readiness(self) -> dict[str, Any]:
        """The sender's component of /health/ready: can it reach the SMTP server, and has due mail waited too
        long. While the sender has no connection open, the server is probed (at most every 10 seconds)."""
        result: dict[str, Any] = {}
        errors = []
        if self.smtp.client is None and time.monotonic() - self._smtp_checked_at > 10:
            try:
                await self.smtp.probe(within=2)
                self._smtp_state(None)
            except SmtpUnavailable as exc:
                self._smtp_state(str(exc))
        result["smtp"] = "reachable" if self._smtp_error is None else "unreachable"
        if self._smtp_error is not None:
            errors.append(f"SMTP server {self.smtp.config.host}:{self.smtp.config.port}: {self._smtp_error}")
        if self._database_error is not None:
            errors.append(f"database: {self._database_error}")
        try:
            queued, sending, overdue = await asyncio.wait_for(self._queue(), 2)
            MAIL_QUEUED.labels(self.service).set(queued)
            result.update(queued=queued, sending=sending, oldest_due_age_seconds=round(overdue, 3))
            if overdue > self.config.overdue_limit.total_seconds():
                errors.append(f"due mail has waited {overdue:.0f}s")
        except Exception as exc:
            errors.append(f"database: {_short(exc)}")
        result["ok"] = not errors
        if errors:
            result["error"] = "; ".join(errors)
        return result

    async def _queue(self) -> tuple[int, int, float]:
        """Rows queued, rows being sent, and how long the oldest due mail has waited (seconds)."""
        table = self.outbox.table
        waiting = table.c.status == MailStatus.QUEUED.value
        async with self.transactions() as tx:
            row = (await tx.session.execute(select(
                func.count().filter(waiting),
                func.count().filter(table.c.status == MailStatus.SENDING.value),
                func.min(table.c.next_attempt_at).filter(waiting & (table.c.next_attempt_at <= func.now())),
                func.now(),
            ).where(table.c.status.in_([MailStatus.QUEUED.value, MailStatus.SENDING.value])))).one()
        queued, sending, oldest_due, now = row
        return queued, sending, (now - oldest_due).total_seconds() if oldest_due is not None else 0.0


class _HookFailed(Exception):
    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _claimed(row: asyncpg.Record) -> _Claimed:
    return _Claimed(id=row["id"], message_id=row["message_id"], cause=MailCause(row["cause_kind"], row["cause_id"]),
                    mail_from=row["mail_from"], recipients=tuple(row["recipients"]), message=row["message"],
                    attempts=row["attempts"])


def _smtp_error(exc: BaseException) -> str:
    if isinstance(exc, SMTPRecipientsRefused):
        return "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)[:1000]
    if isinstance(exc, SMTPResponseException):
        return f"{exc.code} {exc.message}"[:1000]
    return _short(exc)


def _refusals(refused: dict[str, SMTPResponse]) -> str:
    return "refused: " + "; ".join(f"{address}: {r.code} {r.message}" for address, r in refused.items())[:1000]


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]

